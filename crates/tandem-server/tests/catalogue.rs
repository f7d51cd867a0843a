//! The indicator catalogue as administrators manage it, over real HTTP on SQLite and PostgreSQL:
//! review, a checked and a loaded candidate with its differences, activation (and what the rest
//! of the server then uses), a broken text refused with its line and nothing stored, other roles
//! refused, and every load and activation in the audit log.

mod common;

use common::{Backend, session, start, token_for};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_protect::catalogue::{BUILTIN_TOML, Catalogue};
use tandem_server::catalogue_pages::active_catalogue;
use tandem_store::security::AuditOutcome;

/// The built-in text with the first indicator's AL tier weakened and the version moved on.
fn corrected(version: &str) -> String {
    let first = &Catalogue::builtin().indicators[0];
    assert_eq!(first.code, "DR-01");
    let at = BUILTIN_TOML.find("code = \"DR-01\"").unwrap();
    let tiers = at + BUILTIN_TOML[at..].find("AL = \"S\"").unwrap();
    let mut text = BUILTIN_TOML.to_string();
    text.replace_range(tiers..tiers + 8, "AL = \"W\"");
    text.replacen(
        "version = \"0.1.0\"",
        &format!("version = \"{version}\""),
        1,
    )
}

async fn admin_loads_reviews_and_activates(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    // Another server process over the same store: it must see activations made elsewhere.
    let other = common::state(&server);
    let builtin = Catalogue::builtin();
    assert_eq!(
        active_catalogue(&other).await.unwrap().sha256(),
        builtin.sha256()
    );
    let (client, csrf) = session(&server, "admin").await;

    // The review of what is in force: the built-in catalogue, strengths and provenance shown.
    let page = client
        .get(format!("{}/admin/catalogue", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(builtin.sha256()), "active hash shown");
    assert!(
        html.contains("id=\"indicator-DR-01\""),
        "indicators reviewed"
    );
    assert!(html.contains("id=\"dimension-D6\""), "all six dimensions");
    assert!(
        html.contains("ILO/EC Operational indicators"),
        "provenance shown"
    );
    assert!(
        html.contains("class=\"badge restricted\">S?</span>"),
        "uncertain tiers are marked"
    );

    // Check only: the differences, nothing stored.
    let text = corrected("0.1.1");
    let checked = client
        .post(format!("{}/admin/catalogue", server.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("toml", text.as_str()),
            ("intent", "check"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(checked.status(), StatusCode::OK);
    let html = checked.text().await.unwrap();
    assert!(html.contains("Tier of DR-01 in AL: S → W"), "{html}");
    assert!(html.contains("Version 0.1.0 → 0.1.1."));
    assert!(server.store.catalogue_versions().await.unwrap().is_empty());

    // Load: stored, not yet active, differences shown with an activate button.
    let loaded = client
        .post(format!("{}/admin/catalogue", server.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("toml", text.as_str()),
            ("note", "DR-01 is weak for adults in labour"),
            ("intent", "load"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(loaded.status(), StatusCode::OK);
    let html = loaded.text().await.unwrap();
    assert!(html.contains("Loaded version 0.1.1"), "{html}");
    assert!(html.contains("Tier of DR-01 in AL: S → W"));
    assert!(html.contains("id=\"activate-candidate\""));
    let versions = server.store.catalogue_versions().await.unwrap();
    assert_eq!(versions.len(), 1);
    let candidate = Catalogue::from_toml(&text).unwrap();
    assert_eq!(versions[0].sha256, candidate.sha256());
    assert_eq!(versions[0].loaded_by, "admin");
    assert_eq!(versions[0].note, "DR-01 is weak for adults in labour");
    assert!(!versions[0].active);
    assert_eq!(
        active_catalogue(&other).await.unwrap().sha256(),
        builtin.sha256(),
        "loading does not activate"
    );

    // Activate: from now on the server assesses with it.
    let activated = client
        .post(format!(
            "{}/admin/catalogue/{}/activate",
            server.base,
            candidate.sha256()
        ))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(activated.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        activated.headers()["location"],
        "/admin/catalogue?done=activated"
    );
    let in_force = active_catalogue(&other).await.unwrap();
    assert_eq!(in_force.sha256(), candidate.sha256());
    assert_eq!(in_force.version(), "0.1.1");
    let first = in_force.indicator("DR-01").unwrap();
    assert_eq!(
        first.tier(tandem_protect::ListId::AL).map(|t| t.letter()),
        Some("W")
    );
    let html = common::page(
        &client,
        format!("{}/admin/catalogue?done=activated", server.base),
    )
    .await;
    assert!(html.contains("<strong>Version 0.1.1</strong>"), "{html}");
    assert!(html.contains("Loaded by <strong>admin</strong>"));

    // The same text pasted from a browser (CR LF line ends) is the same revision.
    let pasted = text.replace('\n', "\r\n");
    let again = client
        .post(format!("{}/admin/catalogue", server.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("toml", pasted.as_str()),
            ("intent", "load"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again.text().await.unwrap().contains("stored already"));
    assert_eq!(server.store.catalogue_versions().await.unwrap().len(), 1);

    // The JSON API: overview, a load that activates, a duplicate, going back to the built-in.
    let token = token_for(&server, "admin").await;
    let api = common::client();
    let overview: Value = api
        .get(format!("{}/api/v1/catalogue", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview["active"]["source"], "stored");
    assert_eq!(overview["active"]["sha256"], candidate.sha256());
    assert_eq!(overview["active"]["loaded_by"], "admin");
    assert_eq!(overview["builtin"]["sha256"], builtin.sha256());
    assert_eq!(overview["versions"].as_array().unwrap().len(), 1);

    let next = corrected("0.1.2");
    let response = api
        .post(format!("{}/api/v1/catalogue", server.base))
        .bearer_auth(&token)
        .json(&json!({"toml": next, "note": "via the API", "activate": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["created"], true);
    assert_eq!(body["version"]["active"], true);
    assert_eq!(body["activation"]["version"], "0.1.2");
    assert_eq!(body["diff"]["from"]["version"], "0.1.1");
    assert!(body["diff"]["tier_changes"].as_array().unwrap().is_empty());
    assert_eq!(active_catalogue(&other).await.unwrap().version(), "0.1.2");

    let duplicate = api
        .post(format!("{}/api/v1/catalogue", server.base))
        .bearer_auth(&token)
        .json(&json!({"toml": next}))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), StatusCode::OK);
    assert_eq!(duplicate.json::<Value>().await.unwrap()["created"], false);

    let back = api
        .post(format!(
            "{}/api/v1/catalogue/{}/activate",
            server.base,
            builtin.sha256()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(back.json::<Value>().await.unwrap()["changed"], true);
    assert_eq!(
        active_catalogue(&other).await.unwrap().sha256(),
        builtin.sha256()
    );
    let revision: Value = api
        .get(format!(
            "{}/api/v1/catalogue/{}",
            server.base,
            candidate.sha256()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revision["toml"], text);
    assert_eq!(revision["diff_from_active"]["tier_changes"][0]["to"], "W");

    // Every load and activation is in the audit log, with who and which hash.
    let loads = server.audit("catalogue.load").await;
    let load_targets: Vec<&str> = loads
        .iter()
        .filter_map(|e| e.entry.target.as_deref())
        .collect();
    assert_eq!(loads.len(), 5, "{loads:?}");
    assert!(loads.iter().all(|e| e.entry.outcome == AuditOutcome::Ok));
    assert!(load_targets.contains(&candidate.sha256()));
    assert!(
        load_targets.contains(&builtin.sha256()),
        "the built-in one is stored on activation"
    );
    let activations = server.audit("catalogue.activate").await;
    assert_eq!(
        activations
            .iter()
            .map(|e| e.entry.target.clone().unwrap())
            .collect::<Vec<_>>(),
        [
            builtin.sha256().to_string(),
            Catalogue::from_toml(&next).unwrap().sha256().to_string(),
            candidate.sha256().to_string()
        ],
        "newest first"
    );
    assert!(activations.iter().all(|e| e.entry.actor == "admin"));
    assert_eq!(
        activations[2].entry.detail["previous_sha256"],
        builtin.sha256()
    );
    assert!(server.store.verify_audit().await.unwrap().intact);
}

async fn broken_toml_is_located_and_stores_nothing(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let (client, csrf) = session(&server, "admin").await;
    // A tier that does not exist, in DR-01's entry.
    let broken = corrected("0.2.0").replacen("AL = \"W\"", "AL = \"X\"", 1);
    let expected = Catalogue::from_toml(&broken).unwrap_err();
    let tandem_protect::CatalogueError::Invalid { line, .. } = expected else {
        panic!("expected a validation error, got {expected:?}");
    };
    let response = client
        .post(format!("{}/admin/catalogue", server.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("toml", broken.as_str()),
            ("intent", "load_activate"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"load-error\""), "{html}");
    assert!(
        html.contains(&format!("line {line}: indicator DR-01")),
        "{html}"
    );
    assert!(html.contains("Nothing was stored."));
    assert!(
        html.contains("AL = &quot;X&quot;") || html.contains("AL = &#34;X&#34;"),
        "the text is kept in the form for correction"
    );

    // A syntax error through the API: a problem document with line and column.
    let token = token_for(&server, "admin").await;
    let syntax = "[catalogue]\nid = \"x\"\nversion = \n";
    let response = common::client()
        .post(format!("{}/api/v1/catalogue", server.base))
        .bearer_auth(&token)
        .json(&json!({"toml": syntax, "activate": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "catalogue_invalid");
    assert_eq!(problem["line"], 3);
    assert!(problem["column"].as_u64().is_some());
    assert!(
        problem["detail"].as_str().unwrap().contains("line 3"),
        "{problem}"
    );

    // Nothing stored, nothing activated; the refusals are audited as failed loads.
    assert!(server.store.catalogue_versions().await.unwrap().is_empty());
    assert_eq!(server.store.active_catalogue_sha256().await.unwrap(), None);
    let loads = server.audit("catalogue.load").await;
    assert_eq!(loads.len(), 2, "{loads:?}");
    assert!(
        loads
            .iter()
            .all(|e| e.entry.outcome == AuditOutcome::Failed)
    );
    assert_eq!(loads[1].entry.detail["line"], line);
    assert!(server.audit("catalogue.activate").await.is_empty());

    // A stored revision that no longer validates (written behind the server's back, as an
    // older version of Tandem might have): assessments are refused with a clear problem, the
    // page still works, and activating another revision repairs it.
    let stale = server
        .store
        .store_catalogue(tandem_store::catalogue::NewCatalogueVersion {
            catalogue_id: "old".into(),
            version: "0.0.1".into(),
            toml: "[catalogue]\nid = \"old\"\n".into(),
            loaded_by: "someone".into(),
            loaded_by_user_id: None,
            note: String::new(),
        })
        .await
        .unwrap();
    server
        .store
        .activate_catalogue(&stale.version.sha256, "someone", None)
        .await
        .unwrap();
    let state = common::state(&server);
    let err = active_catalogue(&state).await.unwrap_err();
    assert_eq!(err.code, "catalogue_unusable");
    let page = client
        .get(format!("{}/admin/catalogue", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("id=\"active-error\""));
    let repaired = client
        .post(format!(
            "{}/admin/catalogue/{}/activate",
            server.base,
            Catalogue::builtin().sha256()
        ))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(repaired.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        active_catalogue(&state).await.unwrap().sha256(),
        Catalogue::builtin().sha256()
    );
}

async fn other_roles_are_refused(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let sha = Catalogue::builtin().sha256();
    for role in ["analyst", "caseworker", "viewer"] {
        let (client, csrf) = session(&server, role).await;
        let page = client
            .get(format!("{}/admin/catalogue", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "{role}");
        let load = client
            .post(format!("{}/admin/catalogue", server.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("toml", BUILTIN_TOML),
                ("intent", "load_activate"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(load.status(), StatusCode::FORBIDDEN, "{role}");
        let activate = client
            .post(format!("{}/admin/catalogue/{sha}/activate", server.base))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(activate.status(), StatusCode::FORBIDDEN, "{role}");

        let token = token_for(&server, role).await;
        let api = common::client();
        let read = api
            .get(format!("{}/api/v1/catalogue", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::FORBIDDEN, "{role}");
        let write = api
            .post(format!("{}/api/v1/catalogue", server.base))
            .bearer_auth(&token)
            .json(&json!({"toml": BUILTIN_TOML, "activate": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(write.status(), StatusCode::FORBIDDEN, "{role}");
    }
    assert!(server.store.catalogue_versions().await.unwrap().is_empty());
    assert_eq!(server.store.active_catalogue_sha256().await.unwrap(), None);
    assert!(server.audit("catalogue.").await.is_empty());
    let denials = server.audit("permission.denied").await;
    assert!(
        denials
            .iter()
            .any(|e| e.entry.target.as_deref() == Some("POST /api/v1/catalogue")),
        "{denials:?}"
    );
    assert!(denials.len() >= 15, "{}", denials.len());
}

#[tokio::test]
async fn admin_loads_reviews_and_activates_sqlite() {
    admin_loads_reviews_and_activates(Backend::Sqlite).await;
}

#[tokio::test]
async fn admin_loads_reviews_and_activates_postgres() {
    admin_loads_reviews_and_activates(Backend::Postgres).await;
}

#[tokio::test]
async fn broken_toml_is_located_and_stores_nothing_sqlite() {
    broken_toml_is_located_and_stores_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn broken_toml_is_located_and_stores_nothing_postgres() {
    broken_toml_is_located_and_stores_nothing(Backend::Postgres).await;
}

#[tokio::test]
async fn other_roles_are_refused_sqlite() {
    other_roles_are_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn other_roles_are_refused_postgres() {
    other_roles_are_refused(Backend::Postgres).await;
}
