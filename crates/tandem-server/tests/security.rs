//! The security model over real HTTP, on SQLite and PostgreSQL: every route refuses the roles
//! it must, CSRF, lockout, tokens, limits, hostile input, audit.

mod common;

use common::{Backend, PASSWORD, TestServer, session, sign_in, start, token_for};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tandem_server::app::Access;
use tandem_server::authz::grant;
use tandem_store::security::{AuditFilter, UserRole};

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.starts_with("{*") {
                "app.css".to_string()
            } else if part.starts_with('{') {
                // No such record: granted calls stop at 404 and write nothing.
                "999999".to_string()
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn counts(server: &TestServer) -> (usize, usize) {
    (
        server.store.users().await.unwrap().len(),
        server.store.api_tokens(None).await.unwrap().len(),
    )
}

async fn route_role_matrix(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let client = common::client();
    let mut tokens = Vec::new();
    for role in UserRole::ALL {
        tokens.push((role, token_for(&server, role.as_str()).await));
    }
    let before = counts(&server).await;
    let mut checked = 0;
    for spec in tandem_server::route_specs() {
        let url = format!("{}{}", server.base, concrete(spec.path));
        let method = Method::from_bytes(spec.method.as_str().as_bytes()).unwrap();
        // Without credentials, everything but the public routes is refused.
        let anonymous = client.request(method.clone(), &url).send().await.unwrap();
        match spec.access {
            Access::Public => {}
            _ => assert!(
                anonymous.status() == StatusCode::UNAUTHORIZED
                    || (anonymous.status() == StatusCode::SEE_OTHER && spec.method == "GET"),
                "{} {} let an anonymous caller through: {}",
                spec.method,
                spec.path,
                anonymous.status()
            ),
        }
        let Access::Needs(permission) = spec.access else {
            continue;
        };
        for (role, token) in &tokens {
            let response = client
                .request(method.clone(), &url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            let refused = status == StatusCode::FORBIDDEN;
            let granted = grant(*role, permission).is_some();
            assert_eq!(
                refused, !granted,
                "{} {} for {role:?}: {status} {body}",
                spec.method, spec.path
            );
            assert_ne!(
                status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{} {} for {role:?}: {body}",
                spec.method,
                spec.path
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} route × role checks ran");
    // Refusals wrote nothing (the `{}` bodies were not valid creations either).
    assert_eq!(counts(&server).await, before);
    let denials = server
        .store
        .audit_entries(&AuditFilter {
            action_prefix: Some("permission.denied".to_string()),
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(!denials.is_empty(), "permission denials are audited");
}

#[tokio::test]
async fn route_role_matrix_sqlite() {
    route_role_matrix(Backend::Sqlite).await;
}

#[tokio::test]
async fn route_role_matrix_postgres() {
    route_role_matrix(Backend::Postgres).await;
}

async fn csrf_and_sessions(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let (client, csrf) = session(&server, "admin").await;
    let before = counts(&server).await;
    let form = [
        ("username", "newcomer"),
        ("display_name", "New Comer"),
        ("organisation", "ngo-a"),
        ("role", "viewer"),
    ];
    // No token, then a wrong one: 403, nothing written.
    let missing = client
        .post(format!("{}/admin/users", server.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let problem: Value = missing.json().await.unwrap();
    assert_eq!(problem["code"], "csrf_failed");
    let mut wrong = form.to_vec();
    wrong.push(("_csrf", "not-the-token"));
    let wrong = client
        .post(format!("{}/admin/users", server.base))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(counts(&server).await, before);
    // With the token it works and shows the one-time password once.
    let mut right = form.to_vec();
    right.push(("_csrf", csrf.as_str()));
    let created = client
        .post(format!("{}/admin/users", server.base))
        .form(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    assert!(created.text().await.unwrap().contains("one-time-password"));
    assert_eq!(counts(&server).await.0, before.0 + 1);
    // The header works for htmx and fetch.
    let via_header = client
        .post(format!("{}/api/v1/tokens", server.base))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"name": "script"}))
        .send()
        .await
        .unwrap();
    assert_eq!(via_header.status(), StatusCode::CREATED);

    // Cookies carry the right attributes.
    let (_, response) = sign_in(&server, "analyst", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tandem_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("Secure"), "plain http on loopback");

    // Signing out ends the session.
    client
        .post(format!("{}/logout", server.base))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let after = client
        .get(format!("{}/api/v1/me", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn csrf_and_sessions_sqlite() {
    csrf_and_sessions(Backend::Sqlite).await;
}

#[tokio::test]
async fn csrf_and_sessions_postgres() {
    csrf_and_sessions(Backend::Postgres).await;
}

async fn lockout_after_six_failures(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    for attempt in 1..=6 {
        let (_, response) = sign_in(&server, "viewer", "wrong password of enough length").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    // Now even the right password is refused, and the page says why.
    let (_, response) = sign_in(&server, "viewer", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("locked until"));
    let failures = server
        .store
        .audit_entries(&AuditFilter {
            action_prefix: Some("login.".to_string()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(
        failures
            .iter()
            .filter(|e| e.entry.action == "login.failed")
            .count()
            >= 6
    );
    assert!(failures.iter().any(|e| e.entry.action == "login.locked"));
    // An administrator's reset lifts the lock.
    let (user, password) = tandem_server::pages::reset_password(
        &common::state(&server),
        server
            .store
            .user_by_name("viewer")
            .await
            .unwrap()
            .unwrap()
            .id,
    )
    .await
    .unwrap();
    let (_, response) = sign_in(&server, &user.username, &password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/account/password");
}

#[tokio::test]
async fn lockout_after_six_failures_sqlite() {
    lockout_after_six_failures(Backend::Sqlite).await;
}

#[tokio::test]
async fn lockout_after_six_failures_postgres() {
    lockout_after_six_failures(Backend::Postgres).await;
}

async fn tokens_expire_and_revoke(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let client = reqwest::Client::new();
    let token = token_for(&server, "analyst").await;
    let me = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // A pending one-time password holds back the person's sessions, not a token issued on
    // purpose for a program.
    let analyst = server.store.user_by_name("analyst").await.unwrap().unwrap();
    server
        .store
        .set_password(analyst.id, &analyst.password_hash, true)
        .await
        .unwrap();
    let datasets = client
        .get(format!("{}/api/v1/datasets", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(datasets.status(), StatusCode::OK);
    let (browser, _) = sign_in(&server, "analyst", PASSWORD).await;
    let held_back = browser
        .get(format!("{}/search", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(held_back.status(), StatusCode::SEE_OTHER);
    assert_eq!(held_back.headers()["location"], "/account/password");
    server
        .store
        .set_password(analyst.id, &analyst.password_hash, false)
        .await
        .unwrap();

    let id = server.store.api_tokens(None).await.unwrap()[0].id;
    server.store.revoke_api_token(id).await.unwrap();
    let revoked = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    let problem: Value = revoked.json().await.unwrap();
    assert_eq!(problem["code"], "token_invalid");

    let user = server.store.user_by_name("analyst").await.unwrap().unwrap();
    let secret = tandem_server::auth::random_token();
    server
        .store
        .create_api_token(
            user.id,
            "old",
            &tandem_server::auth::token_digest(&secret),
            Some("2020-01-01T00:00:00"),
        )
        .await
        .unwrap();
    let expired = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let unknown = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tokens_expire_and_revoke_sqlite() {
    tokens_expire_and_revoke(Backend::Sqlite).await;
}

#[tokio::test]
async fn tokens_expire_and_revoke_postgres() {
    tokens_expire_and_revoke(Backend::Postgres).await;
}

async fn hostile_input(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let token = token_for(&server, "analyst").await;
    let client = reqwest::Client::new();
    let long = "ä".repeat(10_000);
    let nasty = [
        "' OR 1=1 --",
        "\"; DROP TABLE users; --",
        "%_%",
        "\\",
        "Robert'); DELETE FROM audit_log;--",
        "<script>alert(1)</script>",
        "\u{0}",
        long.as_str(),
    ];
    for text in nasty {
        for path in ["/api/v1/search", "/search"] {
            for key in ["q", "schema"] {
                let response = client
                    .get(format!("{}{path}", server.base))
                    .bearer_auth(&token)
                    .query(&[
                        (key, text),
                        if key == "q" {
                            ("schema", "")
                        } else {
                            ("q", "ali")
                        },
                    ])
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                assert!(
                    status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                    "{path}?{key}={:.40}: {status}",
                    text
                );
                let is_html = response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html");
                let body = response.text().await.unwrap();
                if is_html {
                    assert!(
                        !body.contains("<script>alert(1)</script>"),
                        "echoed unescaped"
                    );
                }
            }
        }
    }
    for path in ["/api/v1/entities/", "/entity/"] {
        let response = client
            .get(format!(
                "{}{path}{}",
                server.base,
                urlencode("x' OR '1'='1")
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    // The users table is still there and whole.
    assert_eq!(server.store.users().await.unwrap().len(), 5);
    assert!(server.store.verify_audit().await.unwrap().intact);

    // Oversized bodies: 413 as a problem document, nothing written.
    let admin = token_for(&server, "admin").await;
    let huge = format!(
        "{{\"username\":\"big\",\"display_name\":\"{}\",\"organisation\":\"ngo-a\",\"role\":\"viewer\"}}",
        "x".repeat(2 << 20)
    );
    let response = client
        .post(format!("{}/api/v1/users", server.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(server.store.users().await.unwrap().len(), 5);
    // Malformed JSON: a 400 problem naming the trouble, not a 500.
    let response = client
        .post(format!("{}/api/v1/users", server.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    // Unknown assets and routes: 404.
    for path in ["/assets/nope.js", "/assets/../Cargo.toml", "/no/such/page"] {
        let response = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

fn urlencode(text: &str) -> String {
    tandem_server::app::urlencode(text)
}

#[tokio::test]
async fn hostile_input_sqlite() {
    hostile_input(Backend::Sqlite).await;
}

#[tokio::test]
async fn hostile_input_postgres() {
    hostile_input(Backend::Postgres).await;
}

#[tokio::test]
async fn security_headers_and_openapi() {
    let Some(server) = start(Backend::Sqlite).await else {
        return;
    };
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/login", server.base))
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    assert!(
        !html.contains("style=\""),
        "no inline style (the CSP forbids it)"
    );

    let doc: Value = client
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for spec in tandem_server::route_specs() {
        if spec.surface == tandem_server::app::Surface::Api {
            let method = spec.method.as_str().to_lowercase();
            assert!(
                doc["paths"][spec.path][&method].is_object(),
                "{} {} missing from /openapi.json",
                spec.method,
                spec.path
            );
        }
    }
}

#[tokio::test]
async fn protected_records_stay_with_the_owning_caseworkers() {
    let Some(server) = start(Backend::Sqlite).await else {
        return;
    };
    let org_a = server
        .store
        .organisations()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "ngo-a")
        .unwrap();
    let mut session = server
        .store
        .begin_import(tandem_store::ImportRequest {
            dataset: "ngo_a_cases".to_string(),
            title: None,
            version: "1".to_string(),
            mode: tandem_store::ImportMode::Full,
            sensitivity: tandem_core::Sensitivity::Protected,
            source: "test".to_string(),
            owner_organisation: Some(org_a.id),
        })
        .await
        .unwrap();
    let mut person = tandem_core::Entity::new("Person", "victim-1").unwrap();
    person.add("name", "Amina Testvalue-Zerouali").unwrap();
    session.put(person).await.unwrap();
    session.commit().await.unwrap();

    let client = reqwest::Client::new();
    for (user, expected) in [
        ("caseworker", StatusCode::OK),
        ("caseworker-b", StatusCode::NOT_FOUND),
        ("analyst", StatusCode::NOT_FOUND),
        ("admin", StatusCode::NOT_FOUND),
        ("viewer", StatusCode::NOT_FOUND),
    ] {
        let token = token_for(&server, user).await;
        let response = client
            .get(format!("{}/api/v1/entities/victim-1", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{user}");
    }
    let reads = server
        .store
        .audit_entries(&AuditFilter {
            action_prefix: Some("protected.read".to_string()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(reads.len(), 1, "the one read is audited");
    assert_eq!(reads[0].entry.target.as_deref(), Some("victim-1"));
    assert!(!serde_json::to_string(&reads).unwrap().contains("Amina"));
}

/// Search answers from a copy of the names index in memory; an import from anywhere (here
/// straight into the store, as the CLI or another server would) shows at once, never later.
async fn search_follows_imports(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let client = reqwest::Client::new();
    let token = token_for(&server, "analyst").await;
    let search = |text: &'static str| {
        let request = client
            .get(format!("{}/api/v1/search", server.base))
            .query(&[("q", text), ("limit", "5")])
            .bearer_auth(&token);
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|hit| hit["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    for round in 1..=3 {
        let name = [
            "Qwertzuio Firstimport",
            "Qwertzuio Secondimport",
            "Qwertzuio Thirdimport",
        ][round - 1];
        let mut session = server
            .store
            .begin_import(tandem_store::ImportRequest {
                dataset: "analyst_notes".to_string(),
                title: None,
                version: round.to_string(),
                mode: tandem_store::ImportMode::Delta,
                sensitivity: tandem_core::Sensitivity::Public,
                source: "test".to_string(),
                owner_organisation: None,
            })
            .await
            .unwrap();
        let mut person = tandem_core::Entity::new("Person", format!("note-{round}")).unwrap();
        person.add("name", name).unwrap();
        session.put(person).await.unwrap();
        session.commit().await.unwrap();
        let found = search("qwertzuio").await;
        assert_eq!(found.len(), round, "round {round}: {found:?}");
        // Give the copy time to be rebuilt, then search it.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(search("qwertzuio").await, found);
        assert_eq!(
            search("secondimport qwertzuio").await.len(),
            usize::from(round >= 2)
        );
    }
}

#[tokio::test]
async fn search_follows_imports_sqlite() {
    search_follows_imports(Backend::Sqlite).await;
}

#[tokio::test]
async fn search_follows_imports_postgres() {
    search_follows_imports(Backend::Postgres).await;
}
