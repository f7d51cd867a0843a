//! Testimony intelligence over real HTTP, on SQLite and PostgreSQL (protection spec §4.3,
//! §6.5): an actor named in one testimony stays hidden from analysts but reaches the
//! protection officer's review; a second independent testimony confirmed as the same actor
//! releases it; a re-identification review releases an actor of one testimony; erasing a case
//! drops the count and hides the actor again; analysts cannot confirm or review (403,
//! audited); nothing that reaches the graph describes the person who testified.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{Backend, TestServer, start};

const SPEAKER: &str = "Zainab Testperson-Protected";
const ACCOUNT: &str = "they took my passport at the Sabha warehouse";

/// A case with intelligence consent and one testimony naming `actors`; returns the case id.
async fn case_with_testimony(f: &TestServer, token: &str, actors: Value) -> String {
    let responses = json!({
        "consent_interview": "yes", "consent_storage": "yes", "needs_immediate": "rest,food",
        "before_interpreter_used": "yes", "before_interpreter_language": "Edo",
        "age_at_start": "24", "exploitation": "labour", "ind_DR-01": "yes", "ind_DR-08": "yes",
        "ind_EX-01": "yes", "ind_EX-04": "yes", "ind_CD-01": "yes", "ind_CD-03": "yes",
        "ind_CR-06": "no",
    });
    let (status, body) = f
        .post(token, "/api/v1/cases", json!({"responses": responses}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["case_id"].as_str().unwrap().to_string();
    let (status, body) = f
        .post(
            token,
            &format!("/api/v1/cases/{id}/consents"),
            json!({"scope": "intelligence", "given": true}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (status, body) = f.post(token,
        &format!("/api/v1/cases/{id}/testimonies"),
        json!({"speaker_name": SPEAKER, "account": ACCOUNT, "given_on": "2025-02-11",
            "coding": {
                "source_type": "survivor",
                "events": [
                    {"stage": "recruitment", "country": "NG", "quarter": {"year": 2024, "quarter": 1}},
                    {"stage": "destination", "country": "LY", "quarter": {"year": 2024, "quarter": 3}}],
                "actors": actors}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id
}

async fn pending(f: &TestServer, token: &str) -> Vec<Value> {
    let (status, body) = f.get(token, "/api/v1/intelligence/mentions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["mentions"].as_array().unwrap().clone()
}

async fn confirm(f: &TestServer, token: &str, mention: &Value, actor: &str) -> Value {
    let (status, body) = f
        .post(
            token,
            &format!("/api/v1/intelligence/mentions/{}/confirm", mention["id"]),
            json!({"actor": actor}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["actor"].clone()
}

/// What an analyst gets for an entity id: the status, and the search hits for a name.
async fn analyst_sees(f: &TestServer, analyst: &str, id: &str, name: &str) -> (StatusCode, bool) {
    let (status, _) = f.get(analyst, &format!("/api/v1/entities/{id}")).await;
    // The yente-compatible route reads through the same gate.
    let (yente, _) = f.get(analyst, &format!("/entities/{id}")).await;
    assert_eq!(yente, status, "/entities/{id}");
    let (search, body) = f
        .get(
            analyst,
            &format!("/api/v1/search?q={}", name.replace(' ', "+")),
        )
        .await;
    assert_eq!(search, StatusCode::OK, "{body}");
    let found = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == id);
    (status, found)
}

fn assert_no_survivor_data(text: &str, cases: &[&str]) {
    for secret in [
        SPEAKER,
        "Zainab",
        "Testperson",
        ACCOUNT,
        "Sabha",
        "2025-02-11",
    ]
    .into_iter()
    .chain(cases.iter().copied())
    {
        assert!(
            !text.contains(secret),
            "{secret:?} reached the graph: {text}"
        );
    }
}

async fn the_guard_holds_until_two_testimonies_or_a_review(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = common::token_for(&f, "caseworker").await;
    let worker_b = common::token_for(&f, "caseworker-b").await;
    let analyst = common::token_for(&f, "analyst").await;

    // One testimony naming two actors (and the speaker's own name as an alias).
    let case_a = case_with_testimony(
        &f,
        &worker,
        json!([
            {"role": "RecruiterOrIntermediary", "aliases": ["Kofi Mensah-Broker", "Zainab"],
             "phones": ["+233 24 555 0101"], "places": [{"town": "Agadez", "country": "NE"}],
             "stage": "recruitment"},
            {"role": "Transporter", "aliases": ["Ibrahim Tchadien-Driver"], "stage": "transit"}]),
    )
    .await;
    let mentions = pending(&f, &worker).await;
    assert_eq!(mentions.len(), 2);
    assert_no_survivor_data(&Value::Array(mentions.clone()).to_string(), &[&case_a]);
    // Another organisation's officers do not see these mentions.
    assert!(pending(&f, &worker_b).await.is_empty());

    // Analysts may neither list, confirm nor review; each refusal is audited.
    for (method, path) in [
        (
            reqwest::Method::GET,
            "/api/v1/intelligence/mentions".to_string(),
        ),
        (
            reqwest::Method::POST,
            format!(
                "/api/v1/intelligence/mentions/{}/confirm",
                mentions[0]["id"]
            ),
        ),
        (
            reqwest::Method::GET,
            "/api/v1/intelligence/actors".to_string(),
        ),
    ] {
        let (status, _) = f
            .call(&analyst, method, &path, Some(json!({"actor": "new"})))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let denials = f.audit("permission.denied").await;
    assert!(denials.len() >= 3, "analyst refusals are audited");

    let kofi = confirm(&f, &worker, &mentions[0], "new").await;
    let ibrahim = confirm(&f, &worker, &mentions[1], "new").await;
    let kofi_id = kofi["actor_id"].as_str().unwrap().to_string();
    let ibrahim_id = ibrahim["actor_id"].as_str().unwrap().to_string();
    assert_eq!(kofi["testimonies"], 1);
    assert_eq!(kofi["released"], false);

    // One testimony: hidden from the analyst everywhere, open to the protection officer.
    assert_eq!(
        analyst_sees(&f, &analyst, &kofi_id, "Kofi Mensah-Broker").await,
        (StatusCode::NOT_FOUND, false)
    );
    let (status, _) = f
        .get(&analyst, &format!("/api/v1/entities/{kofi_id}/graph"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not even counted: the held-back actors' dataset is in no analyst's list.
    let (_, datasets) = f.get(&analyst, "/api/v1/datasets").await;
    let names = datasets.to_string();
    assert!(!names.contains("testimony_intelligence"), "{names}");
    let (status, detail) = f
        .get(&worker, &format!("/api/v1/intelligence/actors/{kofi_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["actor"]["testimonies"], 1);
    assert_eq!(detail["provenance"][0]["source_kind"], "testimony");
    assert_eq!(detail["provenance"][0]["case_id"], case_a.as_str());
    let page = reqwest::Client::new()
        .get(format!(
            "{}/protection/intelligence/actors/{kofi_id}",
            f.base
        ))
        .bearer_auth(&worker)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("held back from analysts")
    );

    // A second, independent testimony (another organisation) names Kofi again: the name
    // screening proposes the existing actor, and the officer confirms it.
    let case_b = case_with_testimony(
        &f,
        &worker_b,
        json!([{"role": "RecruiterOrIntermediary", "aliases": ["Kofi Mensah"],
            "phones": ["00233 24 555 0101"], "places": [{"town": "Kano", "country": "NG"}]}]),
    )
    .await;
    let second = pending(&f, &worker_b).await;
    assert_eq!(second.len(), 1);
    assert!(
        second[0]["actor_candidates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["actor_id"] == kofi_id.as_str()),
        "the existing actor is a candidate: {}",
        second[0]
    );
    let kofi = confirm(&f, &worker_b, &second[0], &kofi_id).await;
    assert_eq!(kofi["testimonies"], 2);
    assert_eq!(kofi["released"], true);

    // Visible now, with nothing about either witness.
    assert_eq!(
        analyst_sees(&f, &analyst, &kofi_id, "Kofi Mensah-Broker").await,
        (StatusCode::OK, true)
    );
    let (_, entity) = f
        .get(&analyst, &format!("/api/v1/entities/{kofi_id}"))
        .await;
    assert_eq!(entity["sensitivity"], "restricted");
    let keywords = entity["properties"]["keywords"].to_string();
    for expected in [
        "testimonies:2",
        "source_kind:testimony",
        "first_mentioned:2024-Q1",
        "last_mentioned:2024-Q3",
        "corridor:NG>LY",
    ] {
        assert!(keywords.contains(expected), "{expected} in {keywords}");
    }
    assert_eq!(entity["properties"]["phone"], json!(["+233245550101"]));
    assert_no_survivor_data(&entity.to_string(), &[&case_a, &case_b]);
    let refs = [detail["provenance"][0]["testimony_ref"].as_str().unwrap()];
    assert_no_survivor_data(&entity.to_string(), &refs);
    // The edge to Ibrahim (one testimony, not reviewed) stays hidden with him.
    let (status, graph) = f
        .get(&analyst, &format!("/api/v1/entities/{kofi_id}/graph"))
        .await;
    assert_eq!(status, StatusCode::OK, "{graph}");
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 1, "{graph}");
    assert_no_survivor_data(&graph.to_string(), &[&case_a, &case_b]);
    // Org A's officer sees org B's link only as "another organisation".
    let (_, detail) = f
        .get(&worker, &format!("/api/v1/intelligence/actors/{kofi_id}"))
        .await;
    let cases: Vec<&Value> = detail["provenance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["case_id"])
        .collect();
    assert!(
        cases.contains(&&json!(case_a)) && cases.contains(&&Value::Null),
        "{detail}"
    );

    // Review path: Ibrahim, one testimony, released by a recorded review.
    assert_eq!(
        analyst_sees(&f, &analyst, &ibrahim_id, "Ibrahim Tchadien-Driver").await,
        (StatusCode::NOT_FOUND, false)
    );
    let (status, _) = f
        .post(
            &analyst,
            &format!("/api/v1/intelligence/actors/{ibrahim_id}/review"),
            json!({"reason": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f
        .post(
            &worker,
            &format!("/api/v1/intelligence/actors/{ibrahim_id}/review"),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = f
        .post(
            &worker,
            &format!("/api/v1/intelligence/actors/{ibrahim_id}/review"),
            json!({"reason": "common transport role on a busy route; no unique detail"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["actor"]["released"], true);
    assert_eq!(body["actor"]["review"]["by"], "caseworker");
    assert_eq!(
        analyst_sees(&f, &analyst, &ibrahim_id, "Ibrahim Tchadien-Driver").await,
        (StatusCode::OK, true)
    );
    let reviews = f.audit("intelligence.review").await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        reviews[0].entry.target.as_deref(),
        Some(ibrahim_id.as_str())
    );
    // Both ends released: the co-mention edge appears.
    let (_, graph) = f
        .get(&analyst, &format!("/api/v1/entities/{kofi_id}/graph"))
        .await;
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 2, "{graph}");
    assert_no_survivor_data(&graph.to_string(), &[&case_a, &case_b]);

    // Erasure of case b: Kofi falls back to one testimony and is hidden again.
    let (status, body) = f
        .post(
            &worker_b,
            &format!("/api/v1/cases/{case_b}/erase"),
            json!({"reason": "consent withdrawn"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (_, detail) = f
        .get(&worker, &format!("/api/v1/intelligence/actors/{kofi_id}"))
        .await;
    assert_eq!(detail["actor"]["testimonies"], 1, "{detail}");
    assert_eq!(detail["actor"]["released"], false);
    assert_eq!(detail["provenance"].as_array().unwrap().len(), 1);
    assert_eq!(
        analyst_sees(&f, &analyst, &kofi_id, "Kofi Mensah-Broker").await,
        (StatusCode::NOT_FOUND, false)
    );
    // Ibrahim keeps his review.
    assert_eq!(
        analyst_sees(&f, &analyst, &ibrahim_id, "Ibrahim Tchadien-Driver")
            .await
            .0,
        StatusCode::OK
    );

    // Erasure of case a: nothing names either actor any more; both are gone.
    let (status, body) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{case_a}/erase"),
            json!({"reason": "consent withdrawn"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    for id in [&kofi_id, &ibrahim_id] {
        let (status, _) = f
            .get(&worker, &format!("/api/v1/intelligence/actors/{id}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            f.store.entity(id).await.unwrap().is_empty(),
            "{id} left in the graph"
        );
    }
}

#[tokio::test]
async fn the_guard_holds_until_two_testimonies_or_a_review_sqlite() {
    the_guard_holds_until_two_testimonies_or_a_review(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_guard_holds_until_two_testimonies_or_a_review_postgres() {
    the_guard_holds_until_two_testimonies_or_a_review(Backend::Postgres).await;
}

/// The web pages: the queue lists pending mentions, the confirm form promotes, the review
/// form records a review; bad input comes back as a 400 page.
async fn the_pages_confirm_and_review(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = common::token_for(&f, "caseworker").await;
    case_with_testimony(
        &f,
        &worker,
        json!([{"role": "Smuggler", "aliases": ["Musa Paged-Smuggler"]}]),
    )
    .await;
    let (client, csrf) = common::session(&f, "caseworker").await;
    let page = client
        .get(format!("{}/protection/intelligence", f.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Musa Paged-Smuggler"), "{html}");
    assert!(!html.contains(SPEAKER));
    // The main navigation leads here and marks it as the page in view.
    assert!(
        html.contains(r#"<a href="/protection/intelligence" aria-current="page">Intelligence</a>"#),
        "{html}"
    );
    let id = pending(&f, &worker).await[0]["id"].clone();
    let response = client
        .post(format!("{}/protection/intelligence/mentions/{id}", f.base))
        .form(&[("_csrf", csrf.as_str()), ("actor", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = client
        .post(format!("{}/protection/intelligence/mentions/{id}", f.base))
        .form(&[("_csrf", csrf.as_str()), ("actor", "new")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let actor_id = location.rsplit('/').next().unwrap().to_string();
    let response = client
        .post(format!("{}{location}/review", f.base))
        .form(&[("_csrf", csrf.as_str()), ("reason", "no unique detail")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = common::page(&client, format!("{}{location}", f.base)).await;
    assert!(html.contains("shown to analysts"), "{html}");
    assert!(html.contains("no unique detail"));
    let analyst = common::token_for(&f, "analyst").await;
    let (status, _) = f
        .get(&analyst, &format!("/api/v1/entities/{actor_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Analysts are refused the pages too.
    let (analyst_client, _) = common::session(&f, "analyst").await;
    let page = analyst_client
        .get(format!("{}/protection/intelligence", f.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_pages_confirm_and_review_sqlite() {
    the_pages_confirm_and_review(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_pages_confirm_and_review_postgres() {
    the_pages_confirm_and_review(Backend::Postgres).await;
}

/// Withdrawn intelligence consent takes the case's testimony out of the actor (spec §6.5).
async fn withdrawn_consent_drops_the_testimony(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = common::token_for(&f, "caseworker").await;
    let analyst = common::token_for(&f, "analyst").await;
    let first = case_with_testimony(
        &f,
        &worker,
        json!([{"role": "Exploiter", "aliases": ["Baba Withdrawtest"]}]),
    )
    .await;
    let actor = confirm(&f, &worker, &pending(&f, &worker).await[0], "new").await;
    let actor_id = actor["actor_id"].as_str().unwrap().to_string();
    case_with_testimony(
        &f,
        &worker,
        json!([{"role": "Exploiter", "aliases": ["Baba Withdrawtest"]}]),
    )
    .await;
    let actor = confirm(&f, &worker, &pending(&f, &worker).await[0], &actor_id).await;
    assert_eq!(actor["released"], true);
    assert_eq!(
        analyst_sees(&f, &analyst, &actor_id, "Baba Withdrawtest").await,
        (StatusCode::OK, true)
    );
    let (status, body) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{first}/consents"),
            json!({"scope": "intelligence", "given": false}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (_, detail) = f
        .get(&worker, &format!("/api/v1/intelligence/actors/{actor_id}"))
        .await;
    assert_eq!(detail["actor"]["testimonies"], 1, "{detail}");
    assert_eq!(
        analyst_sees(&f, &analyst, &actor_id, "Baba Withdrawtest").await,
        (StatusCode::NOT_FOUND, false)
    );
}

#[tokio::test]
async fn withdrawn_consent_drops_the_testimony_sqlite() {
    withdrawn_consent_drops_the_testimony(Backend::Sqlite).await;
}

#[tokio::test]
async fn withdrawn_consent_drops_the_testimony_postgres() {
    withdrawn_consent_drops_the_testimony(Backend::Postgres).await;
}

/// Confirmations at the same moment all land: promotions queue on the intelligence dataset.
async fn concurrent_confirmations_all_land(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = common::token_for(&f, "caseworker").await;
    case_with_testimony(
        &f,
        &worker,
        json!([
            {"role": "Smuggler", "aliases": ["Concurrent One"]},
            {"role": "Smuggler", "aliases": ["Concurrent Two"]},
            {"role": "Smuggler", "aliases": ["Concurrent Three"]},
            {"role": "Smuggler", "aliases": ["Concurrent Four"]}]),
    )
    .await;
    let mentions = pending(&f, &worker).await;
    assert_eq!(mentions.len(), 4);
    let results =
        futures::future::join_all(mentions.iter().map(|m| confirm(&f, &worker, m, "new"))).await;
    let mut ids: Vec<String> = results
        .iter()
        .map(|a| a["actor_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    for id in &ids {
        let held = f.store.entity(id).await.unwrap();
        assert_eq!(held.len(), 1, "{id} promoted");
        assert_eq!(
            held[0].entity.sensitivity,
            tandem_core::Sensitivity::Protected
        );
    }
    // Six co-mention edges among four actors, all held back with them.
    let (_, actors) = f.get(&worker, "/api/v1/intelligence/actors").await;
    assert_eq!(actors["actors"].as_array().unwrap().len(), 4);
    let edges: usize = futures::future::join_all(ids.iter().map(|id| f.store.referencing(id)))
        .await
        .into_iter()
        .map(|r| r.unwrap().len())
        .sum();
    assert_eq!(edges, 12, "each of the 6 edges seen from both ends");
}

#[tokio::test]
async fn concurrent_confirmations_all_land_sqlite() {
    concurrent_confirmations_all_land(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_confirmations_all_land_postgres() {
    concurrent_confirmations_all_land(Backend::Postgres).await;
}
