//! Protection over real HTTP, on SQLite and PostgreSQL: cases stay with the case workers of
//! their organisation (refusals audited), analysts get aggregates only, aggregates and exports
//! never show small groups, referral needs consent, erasure leaves only the tombstone, and the
//! database holds no plaintext of a protected field.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_store::security::{AuditFilter, AuditOutcome};

use common::{Backend, TestServer, start};

/// A server over a store whose database this test can read behind its back.
/// The shared test server (demo data, organisations A and B, a user of every role).
type Fixture = TestServer;

impl TestServer {
    /// A case from a completed interview; returns its id.
    async fn interview(&self, token: &str, exploitation: &str) -> String {
        let (status, body) = self
            .post(
                token,
                "/api/v1/cases",
                json!({"responses": responses(exploitation)}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["case_id"].as_str().unwrap().to_string()
    }
}

/// Interview responses whose adult labour evaluation meets the rule.
fn responses(exploitation: &str) -> Value {
    json!({
        "consent_interview": "yes",
        "consent_storage": "yes",
        "needs_immediate": "rest,food",
        "before_interpreter_used": "yes",
        "before_interpreter_language": "Edo",
        "age_at_start": "24",
        "exploitation": exploitation,
        "ind_DR-01": "yes",
        "ind_DR-08": "yes",
        "ind_EX-01": "yes",
        "ind_EX-04": "yes",
        "ind_CD-01": "yes",
        "ind_CD-03": "yes",
        "ind_CR-06": "no",
    })
}

const NAME: &str = "Zainab Testperson-Protected";
const PHONE: &str = "+39 333 765 4321";
const ACCOUNT: &str = "they took my passport at the Sabha warehouse";

// ---------------------------------------------------------------------------------------------

async fn cases_stay_with_their_organisation(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let a = f.token("caseworker").await;
    let b = f.token("caseworker-b").await;
    let id = f.interview(&a, "labour").await;

    let (status, file) = f.get(&a, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(file["case"]["state"], "screening");
    assert_eq!(file["assessments"].as_array().unwrap().len(), 1);
    let assessment = &file["assessments"][0];
    assert_eq!(
        assessment["body"]["assessment"]["evaluations"][0]["rule_met"],
        true
    );
    assert!(!assessment["catalogue_version"].as_str().unwrap().is_empty());
    assert_eq!(assessment["catalogue_sha256"].as_str().unwrap().len(), 64);

    // Organisation B: 403 problem documents on every read and write, each refusal audited.
    for (method, path, body) in [
        (reqwest::Method::GET, format!("/api/v1/cases/{id}"), None),
        (
            reqwest::Method::POST,
            format!("/api/v1/cases/{id}/consents"),
            Some(json!({"scope": "referral", "given": true})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/cases/{id}/erase"),
            Some(json!({"reason": "test"})),
        ),
        (reqwest::Method::GET, format!("/cases/{id}"), None),
    ] {
        let (status, problem) = f.call(&b, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {problem}");
        assert_eq!(problem["code"], "forbidden");
    }
    let denials = f.audit("case.denied").await;
    assert_eq!(denials.len(), 4);
    let consents_before = f
        .store
        .case_file(&id)
        .await
        .unwrap()
        .unwrap()
        .consents
        .len();
    assert!(
        denials
            .iter()
            .all(|d| d.entry.target.as_deref() == Some(id.as_str())
                && d.entry.outcome == AuditOutcome::Denied
                && d.entry.actor == "caseworker-b")
    );
    // B's list does not show A's case; the case is untouched.
    let (_, list) = f.get(&b, "/api/v1/cases").await;
    assert!(list["cases"].as_array().unwrap().is_empty());
    let (_, list) = f.get(&a, "/api/v1/cases").await;
    assert_eq!(list["cases"][0]["id"], id.as_str());
    assert_eq!(consents_before, 2, "interview and storage only");
    // Assessing again adds an assessment; the non-punishment banner follows the latest one.
    let mut again = responses("labour");
    again["np_document_fraud"] = json!("yes");
    let (status, body) = f
        .post(
            &a,
            &format!("/api/v1/cases/{id}/assessments"),
            json!({"responses": again}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["assessment"]["non_punishment"]["flagged"], true);
    let (status, _) = f
        .post(
            &b,
            &format!("/api/v1/cases/{id}/assessments"),
            json!({"responses": responses("labour")}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let file = f.store.case_file(&id).await.unwrap().unwrap();
    assert_eq!(file.assessments.len(), 2);
    assert_eq!(file.case.details["non_punishment"]["flagged"], true);
    // Every read of the case by its own case worker is audited.
    let reads = f.audit("case.read").await;
    assert!(
        reads.iter().any(
            |r| r.entry.actor == "caseworker" && r.entry.target.as_deref() == Some(id.as_str())
        )
    );
    assert!(f.store.verify_audit().await.unwrap().intact);
}

#[tokio::test]
async fn cases_stay_with_their_organisation_sqlite() {
    cases_stay_with_their_organisation(Backend::Sqlite).await;
}

#[tokio::test]
async fn cases_stay_with_their_organisation_postgres() {
    cases_stay_with_their_organisation(Backend::Postgres).await;
}

async fn analysts_get_aggregates_only(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = f.token("caseworker").await;
    let id = f.interview(&worker, "labour").await;
    for user in ["analyst", "viewer", "admin"] {
        let token = f.token(user).await;
        for path in ["/api/v1/cases".to_string(), format!("/api/v1/cases/{id}")] {
            let (status, _) = f.get(&token, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{user} {path}");
        }
        let (status, table) = f.get(&token, "/api/v1/aggregates?by=gender").await;
        assert_eq!(status, StatusCode::OK, "{user}: {table}");
        assert_eq!(table["k"], 11);
        assert!(
            table["rows"].as_array().unwrap().is_empty(),
            "one case is no group"
        );
    }
    // Export: analysts yes, case workers no (their role reads aggregates only).
    let analyst = f.token("analyst").await;
    let (status, _) = f
        .get(&analyst, "/api/v1/aggregates/export?format=ctdc")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .get(&worker, "/api/v1/aggregates/export?format=ctdc")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = f.get(&analyst, "/api/v1/aggregates?by=name").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "by");
    let denied = f.audit("permission.denied").await;
    assert!(denied.iter().any(|d| d.entry.actor == "analyst"));
}

#[tokio::test]
async fn analysts_get_aggregates_only_sqlite() {
    analysts_get_aggregates_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn analysts_get_aggregates_only_postgres() {
    analysts_get_aggregates_only(Backend::Postgres).await;
}

async fn aggregates_never_show_small_groups(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = f.token("caseworker").await;
    // 12 men and 5 women, with varied exploitation and means of control.
    for (gender, count) in [("Masculine", 12), ("Feminine", 5)] {
        for i in 0..count {
            let exploitation = if i % 2 == 0 { "labour" } else { "sexual" };
            let id = f.interview(&worker, exploitation).await;
            let (status, body) = f
                .post(
                    &worker,
                    &format!("/api/v1/cases/{id}/details"),
                    json!({"gender": gender, "age_at_registration": 25, "citizenship": "NG",
                        "country_of_exploitation": "LY"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if i % 3 == 0 {
                let (status, body) = f
                    .post(
                        &worker,
                        &format!("/api/v1/cases/{id}/testimonies"),
                        json!({"coding": {"source_type": "survivor",
                            "means_of_control": ["DebtBondage"]}}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }
    }
    let analyst = f.token("analyst").await;
    let (status, table) = f.get(&analyst, "/api/v1/aggregates?by=gender").await;
    assert_eq!(status, StatusCode::OK, "{table}");
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{table}");
    assert_eq!(rows[0]["values"], json!(["Male"]));
    assert_eq!(rows[0]["count"], 12);
    assert_eq!(
        table["total"], 12,
        "no total that reveals the suppressed group"
    );
    for row in rows {
        assert!(row["count"].as_u64().unwrap() >= 11);
    }
    // A finer grouping splits the men below 11: nothing is shown.
    let (_, table) = f
        .get(&analyst, "/api/v1/aggregates?by=gender,year,citizenship")
        .await;
    assert_eq!(table["rows"].as_array().unwrap().len(), 1);
    let (_, table) = f
        .get(&analyst, "/api/v1/aggregates?by=age_band,gender")
        .await;
    for row in table["rows"].as_array().unwrap() {
        assert!(row["count"].as_u64().unwrap() >= 11, "{row}");
    }
    // The export: no row carries the small group's gender.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/aggregates/export?format=ctdc", f.base))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("By using this data"), "{}", lines[0]);
    assert!(lines.len() > 1, "the men are released");
    assert!(
        lines[1..].iter().all(|l| !l.contains("Female")),
        "a group of 5 must not be released: {csv}"
    );
    let exports = f.audit("aggregates.export").await;
    assert_eq!(exports.len(), 1);
    assert!(!exports[0].entry.detail.to_string().contains("Female"));
}

#[tokio::test]
async fn aggregates_never_show_small_groups_sqlite() {
    aggregates_never_show_small_groups(Backend::Sqlite).await;
}

#[tokio::test]
async fn aggregates_never_show_small_groups_postgres() {
    aggregates_never_show_small_groups(Backend::Postgres).await;
}

async fn referral_and_transfer_need_consent(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = f.token("caseworker").await;
    let id = f.interview(&worker, "labour").await;
    let refer = json!({"service_type": "shelter", "provider": "Casa Accoglienza",
        "to_organisation": "ngo-b"});
    let (status, problem) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/referrals"),
            refer.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "consent_required");
    let refusals = f.audit("case.referral").await;
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].entry.outcome, AuditOutcome::Denied);
    // With consent it goes through.
    let (status, _) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/consents"),
            json!({"scope": "referral", "given": true, "language": "Edo"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/referrals"),
            refer.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A withdrawal closes the gate again.
    f.post(
        &worker,
        &format!("/api/v1/cases/{id}/consents"),
        json!({"scope": "referral", "given": false}),
    )
    .await;
    let (status, _) = f
        .post(&worker, &format!("/api/v1/cases/{id}/referrals"), refer)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Workflow: open (storage consent came with the interview), then a transfer needs sharing.
    let transition = |action: &str| json!({"action": action});
    let (status, meta) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/transition"),
            transition("open"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    assert_eq!(meta["state"], "open");
    let (status, problem) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/transition"),
            transition("close_transferred"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "consent_required");
    let (status, problem) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/transition"),
            transition("reopen"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "transition_not_allowed");
    let file = f.store.case_file(&id).await.unwrap().unwrap();
    let kinds: Vec<&str> = file.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["state", "referral", "state"]);
    assert_eq!(file.case.meta.state, "open");
    // An interview without consent stores nothing and names the question.
    let before = f.store.cases(None).await.unwrap().len();
    let mut no_consent = responses("labour");
    no_consent["consent_storage"] = json!("");
    let (status, problem) = f
        .post(&worker, "/api/v1/cases", json!({"responses": no_consent}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "consent_storage");
    let mut unknown = responses("labour");
    unknown["ind_DR-99"] = json!("yes");
    let (status, problem) = f
        .post(&worker, "/api/v1/cases", json!({"responses": unknown}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "ind_DR-99");
    assert_eq!(f.store.cases(None).await.unwrap().len(), before);
}

#[tokio::test]
async fn referral_and_transfer_need_consent_sqlite() {
    referral_and_transfer_need_consent(Backend::Sqlite).await;
}

#[tokio::test]
async fn referral_and_transfer_need_consent_postgres() {
    referral_and_transfer_need_consent(Backend::Postgres).await;
}

/// A case with protected material everywhere: details, consent, a testimony with an actor.
async fn rich_case(f: &Fixture, token: &str) -> String {
    let id = f.interview(token, "labour").await;
    let (status, body) = f
        .post(
            token,
            &format!("/api/v1/cases/{id}/details"),
            json!({"label": NAME, "contact": PHONE, "notes": ACCOUNT, "gender": "Feminine"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    f.post(
        token,
        &format!("/api/v1/cases/{id}/consents"),
        json!({"scope": "intelligence", "given": true}),
    )
    .await;
    let (status, body) = f
        .post(
            token,
            &format!("/api/v1/cases/{id}/testimonies"),
            json!({"speaker_name": NAME, "account": ACCOUNT, "coding": {
                "source_type": "survivor",
                "means_of_control": ["WithholdsDocuments"],
                "events": [{"stage": "destination", "country": "LY", "quarter": {"year": 2024, "quarter": 3}}],
                "actors": [{"role": "RecruiterOrIntermediary", "aliases": ["Kofi Mensah-Broker", "Zainab"],
                    "phones": ["+233 24 555 0101"], "places": [{"town": "Agadez", "country": "NE"}]}]
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["intelligence"]["entity_ids"].as_array().unwrap().len(),
        1
    );
    assert!(
        body["intelligence"]["dropped"]
            .to_string()
            .contains("name of the person who testified"),
        "the speaker's own name is stripped: {body}"
    );
    id
}

async fn the_database_holds_no_protected_plaintext(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = f.token("caseworker").await;
    let id = rich_case(&f, &worker).await;
    let (_, file) = f.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(file["case"]["details"]["label"], NAME);

    // The actor waits for a protection officer as a mention with nothing about the person
    // (spec §4.3; the promotion and its guard are tested in tests/intelligence.rs).
    let (status, pending) = f.get(&worker, "/api/v1/intelligence/mentions").await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    let mention = &pending["mentions"][0];
    assert_eq!(mention["caption"], "Kofi Mensah-Broker");
    let text = mention.to_string();
    for secret in [NAME, "Zainab", ACCOUNT, &id] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Nothing reached the graph before a confirmation: the analyst finds nothing.
    let analyst = f.token("analyst").await;
    let mention_id = file["testimonies"][0]["coding"]["intelligence"]["entity_ids"][0]
        .as_str()
        .unwrap();
    let (status, _) = f
        .get(&analyst, &format!("/api/v1/entities/{mention_id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let secrets = [NAME, "+39 333 765 4321", ACCOUNT];
    let found = |bytes: &[u8]| {
        secrets
            .iter()
            .find(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
            .map(|s| s.to_string())
    };
    match backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let path = f.url.strip_prefix("sqlite://").unwrap().to_string();
            let mut conn = sqlx::SqliteConnection::connect(&f.url).await.unwrap();
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.ok();
            let bytes = std::fs::read(path).unwrap();
            assert_eq!(found(&bytes), None, "plaintext in the SQLite file");
            assert!(bytes.windows(id.len()).any(|w| w == id.as_bytes()));
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&f.url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert!(tables.iter().any(|t| t == "cases"));
            for table in tables {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{table}\" t"
                )))
                .fetch_all(&mut conn)
                .await
                .unwrap();
                for row in rows {
                    assert_eq!(found(row.as_bytes()), None, "{table}: {row}");
                }
            }
            conn.close().await.ok();
        }
    }
}

#[tokio::test]
async fn the_database_holds_no_protected_plaintext_sqlite() {
    the_database_holds_no_protected_plaintext(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_database_holds_no_protected_plaintext_postgres() {
    the_database_holds_no_protected_plaintext(Backend::Postgres).await;
}

async fn erasure_leaves_only_the_tombstone(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = f.token("caseworker").await;
    let id = rich_case(&f, &worker).await;
    let kept = f.interview(&worker, "sexual").await;
    let (status, problem) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/erase"),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "reason");
    let (status, _) = f
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/erase"),
            json!({"reason": "the person asked for erasure"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = f.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(f.store.case_file(&id).await.unwrap().is_none());
    assert!(f.store.case_file(&kept).await.unwrap().is_some());
    let (_, list) = f.get(&worker, "/api/v1/cases").await;
    let ids: Vec<&str> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [kept.as_str()]);
    // The tombstone: who, when, which case and organisation, why; no content anywhere in the
    // entries that name the case.
    let entries = f
        .store
        .audit_entries(&AuditFilter {
            target: Some(id.clone()),
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let tombstones: Vec<_> = entries
        .iter()
        .filter(|e| e.entry.action == "case.erase")
        .collect();
    assert_eq!(tombstones.len(), 1);
    let tombstone = &tombstones[0].entry;
    assert_eq!(tombstone.actor, "caseworker");
    assert_eq!(tombstone.detail["reason"], "the person asked for erasure");
    assert!(tombstone.detail["organisation"].is_i64());
    let text = serde_json::to_string(&entries).unwrap();
    for secret in [NAME, "765 4321", ACCOUNT, "Kofi"] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
    // Retention: nothing else is due; the sweep erases nothing.
    let (_, due) = f.get(&worker, "/api/v1/cases/retention").await;
    assert!(due["due"].as_array().unwrap().is_empty());
    assert!(f.store.verify_audit().await.unwrap().intact);
}

#[tokio::test]
async fn erasure_leaves_only_the_tombstone_sqlite() {
    erasure_leaves_only_the_tombstone(Backend::Sqlite).await;
}

#[tokio::test]
async fn erasure_leaves_only_the_tombstone_postgres() {
    erasure_leaves_only_the_tombstone(Backend::Postgres).await;
}

/// Signs in through the login form; returns the cookie client and the session's CSRF token.
async fn web_session(f: &Fixture, username: &str) -> (reqwest::Client, String) {
    common::session(f, username).await
}

/// The interview's last step as the browser posts it, with every earlier answer carried.
fn finish_form(csrf: &str, consent: bool) -> Vec<(String, String)> {
    let mut form = vec![
        ("_csrf".to_string(), csrf.to_string()),
        ("step".to_string(), "10".to_string()),
        ("go".to_string(), "finish".to_string()),
    ];
    for (key, value) in responses("labour").as_object().unwrap() {
        if !consent && key.starts_with("consent_") {
            continue;
        }
        // Ticked boxes arrive once per value.
        for part in value.as_str().unwrap().split(',') {
            form.push((key.clone(), part.to_string()));
        }
    }
    form
}

async fn the_web_forms_follow_the_same_rules(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let (client, csrf) = web_session(&f, "caseworker").await;
    let post = |path: String, form: Vec<(String, String)>| {
        let client = client.clone();
        let base = f.base.clone();
        async move {
            client
                .post(format!("{base}{path}"))
                .header("accept", "text/html")
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let with_csrf = |pairs: &[(&str, &str)]| {
        let mut form = vec![("_csrf".to_string(), csrf.clone())];
        form.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        form
    };

    // Without consent the interview goes back to the consent step and stores nothing.
    let refused = post("/cases/interview".into(), finish_form(&csrf, false)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Consent is needed"), "{page}");
    assert!(page.contains("data-step=\"consent\""));
    assert!(f.store.cases(None).await.unwrap().is_empty());

    // With consent: a case and the result page.
    let done = post("/cases/interview".into(), finish_form(&csrf, true)).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/cases/case-"), "{location}");
    let id = location.split('/').nth(2).unwrap().to_string();
    let result = common::page(&client, format!("{}{location}", f.base)).await;
    assert!(result.contains("Indicators consistent with trafficking"));
    assert!(result.contains("DR-01"));

    // Referral before consent: refused on the case page, nothing recorded.
    let refer = with_csrf(&[
        ("service_type", "legal aid"),
        ("provider", "ASGI"),
        ("to_organisation", "ngo-b"),
    ]);
    let refused = post(format!("/cases/{id}/referral"), refer.clone()).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("referral consent"));
    let consent = with_csrf(&[
        ("scope", "referral"),
        ("given", "yes"),
        ("language", "Tigrinya"),
    ]);
    assert_eq!(
        post(format!("/cases/{id}/consent"), consent).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post(format!("/cases/{id}/referral"), refer).await.status(),
        StatusCode::SEE_OTHER
    );
    let open = with_csrf(&[("action", "open")]);
    assert_eq!(
        post(format!("/cases/{id}/transition"), open).await.status(),
        StatusCode::SEE_OTHER
    );
    let details = with_csrf(&[("label", NAME), ("citizenship", "Eritrea")]);
    let refused = post(format!("/cases/{id}/details"), details).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("ISO 3166-1"));

    // A testimony through the coding form.
    let testimony = with_csrf(&[
        ("source_type", "survivor"),
        ("promises", "pay"),
        ("promises", "documents_or_status"),
        ("means_of_control", "DebtBondage"),
        ("destination_country", "ly"),
        ("destination_quarter", "2024-Q2"),
        ("actor0_role", "Smuggler"),
        ("actor0_aliases", "Abu Test-Smuggler"),
        ("actor0_phones", "+218 91 555 0000"),
        ("actor0_places", "Kufra, LY"),
    ]);
    let coded = post(format!("/cases/{id}/testimony"), testimony).await;
    assert_eq!(coded.status(), StatusCode::SEE_OTHER);
    let file = f.store.case_file(&id).await.unwrap().unwrap();
    assert_eq!(file.testimonies.len(), 1);
    assert_eq!(
        file.testimonies[0].coding["testimony"]["coding"]["actors"][0]["aliases"][0],
        "Abu Test-Smuggler"
    );
    assert!(
        file.testimonies[0].coding["intelligence"].is_null(),
        "no intelligence consent, no intelligence"
    );
    assert_eq!(file.case.meta.state, "open");
    let kinds: Vec<&str> = file.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["state", "referral", "state"]);

    // Erasure needs the typed confirmation.
    let wrong = with_csrf(&[("reason", "consent withdrawn"), ("confirm", "case-nope")]);
    assert_eq!(
        post(format!("/cases/{id}/erase"), wrong).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert!(f.store.case_meta(&id).await.unwrap().is_some());
    let right = with_csrf(&[("reason", "consent withdrawn"), ("confirm", id.as_str())]);
    let erased = post(format!("/cases/{id}/erase"), right).await;
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    assert!(f.store.case_meta(&id).await.unwrap().is_none());
    // A form without the session's CSRF token changes nothing.
    let forged = post(
        "/cases/interview".into(),
        finish_form("not-the-token", true),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(f.store.cases(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_web_forms_follow_the_same_rules_sqlite() {
    the_web_forms_follow_the_same_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_web_forms_follow_the_same_rules_postgres() {
    the_web_forms_follow_the_same_rules(Backend::Postgres).await;
}

async fn assessments_use_the_activated_catalogue(backend: Backend) {
    let Some(f) = start(backend).await else {
        return;
    };
    let worker = f.token("caseworker").await;
    let before = f.interview(&worker, "labour").await;
    // An administrator loads and activates a corrected revision.
    let corrected = tandem_protect::catalogue::BUILTIN_TOML.replacen(
        "version = \"0.1.0\"",
        "version = \"0.1.1-test\"",
        1,
    );
    assert_ne!(corrected, tandem_protect::catalogue::BUILTIN_TOML);
    let stored = f
        .store
        .store_catalogue(tandem_store::catalogue::NewCatalogueVersion {
            catalogue_id: "tandem-ilo-ec-indicators".into(),
            version: "0.1.1-test".into(),
            toml: corrected,
            loaded_by: "admin".into(),
            loaded_by_user_id: None,
            note: "test revision".into(),
        })
        .await
        .unwrap();
    f.store
        .activate_catalogue(&stored.version.sha256, "admin", None)
        .await
        .unwrap();
    let after = f.interview(&worker, "labour").await;
    let version = |id: String| {
        let store = f.store.clone();
        async move {
            let file = store.case_file(&id).await.unwrap().unwrap();
            let a = &file.assessments[0];
            (a.catalogue_version.clone(), a.catalogue_sha256.clone())
        }
    };
    let (old_version, old_sha) = version(before).await;
    let (new_version, new_sha) = version(after.clone()).await;
    assert_eq!(old_version, "0.1.0");
    assert_eq!(new_version, "0.1.1-test");
    assert_eq!(new_sha, stored.version.sha256);
    assert_ne!(
        old_sha, new_sha,
        "past assessments keep the version they used"
    );
    // The result page labels the indicators with the revision the assessment used.
    let (client, _) = web_session(&f, "caseworker").await;
    let file = f.store.case_file(&after).await.unwrap().unwrap();
    let page = common::page(
        &client,
        format!(
            "{}/cases/{after}/assessments/{}",
            f.base, file.assessments[0].id
        ),
    )
    .await;
    assert!(page.contains("0.1.1-test"));
    assert!(page.contains("DR-01"));
}

#[tokio::test]
async fn assessments_use_the_activated_catalogue_sqlite() {
    assessments_use_the_activated_catalogue(Backend::Sqlite).await;
}

#[tokio::test]
async fn assessments_use_the_activated_catalogue_postgres() {
    assessments_use_the_activated_catalogue(Backend::Postgres).await;
}
