//! Referrals and transfers over real HTTP, on SQLite and PostgreSQL: the consent gates, who may
//! take each step (allowed and refused, audited), invalid steps as 409 problem documents, what a
//! referral carries, and the case changing hands on an accepted transfer.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_store::security::{AuditOutcome, NewUser, UserRole};

use common::{Backend, TestServer, start, token_for};

const NAME: &str = "Esther Testperson-Referred";

/// A case of organisation A from an interview, with a name and contact in its details.
async fn case_of_a(server: &TestServer, token: &str) -> String {
    let responses = json!({
        "consent_interview": "yes", "consent_storage": "yes", "needs_immediate": "rest",
        "age_at_start": "24",
        "exploitation": "labour", "ind_DR-01": "yes", "ind_EX-01": "yes", "ind_CD-01": "yes",
    });
    let (status, body) = server
        .post(token, "/api/v1/cases", json!({"responses": responses}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["case_id"].as_str().unwrap().to_string();
    let (status, body) = server
        .post(
            token,
            &format!("/api/v1/cases/{id}/details"),
            json!({"label": NAME, "contact": "+39 333 000 1111", "age_at_registration": 24,
            "notes": "cooperation with police: declined"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

async fn consent(server: &TestServer, token: &str, id: &str, scope: &str) {
    let (status, body) = server
        .post(
            token,
            &format!("/api/v1/cases/{id}/consents"),
            json!({"scope": scope, "given": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A case worker of a third organisation, who is party to nothing.
async fn outsider(server: &TestServer) -> String {
    let org = server
        .store
        .create_organisation("ngo-c", "NGO C")
        .await
        .unwrap();
    let hash = tandem_server::auth::hash_password(common::PASSWORD).unwrap();
    server
        .store
        .create_user(NewUser {
            username: "caseworker-c".into(),
            display_name: "Test C".into(),
            organisation_id: org.id,
            role: UserRole::Caseworker,
            password_hash: hash,
            must_change_password: false,
        })
        .await
        .unwrap();
    token_for(server, "caseworker-c").await
}

async fn referrals_follow_their_workflow(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let a = token_for(&server, "caseworker").await;
    let b = token_for(&server, "caseworker-b").await;
    let c = outsider(&server).await;
    let id = case_of_a(&server, &a).await;
    let refer = |share: Value| json!({"service_type": "legal aid", "to_organisation": "ngo-b", "share": share});
    let path = format!("/api/v1/cases/{id}/referrals");

    // The consent gate; an override needs a permission case workers do not hold.
    let (status, problem) = server.post(&a, &path, refer(json!([]))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "consent_required");
    let mut overridden = refer(json!([]));
    overridden["consent_override"] = json!({"reason": "vital_interest"});
    let (status, _) = server.post(&a, &path, overridden).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let denied = server.audit("case.consent_override").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].entry.outcome, AuditOutcome::Denied);
    assert!(server.audit("alert.consent_override").await.is_empty());
    consent(&server, &a, &id, "referral").await;

    // Only the fields the receiver needs, and only listed ones.
    let (status, problem) = server.post(&a, &path, refer(json!(["notes"]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "share");
    let mut to_self = refer(json!([]));
    to_self["to_organisation"] = json!("ngo-a");
    assert_eq!(
        server.post(&a, &path, to_self).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut nowhere = refer(json!([]));
    nowhere["to_organisation"] = json!("ngo-nowhere");
    assert_eq!(
        server.post(&a, &path, nowhere).await.0,
        StatusCode::BAD_REQUEST
    );
    // Case workers of other organisations cannot refer A's case.
    assert_eq!(
        server.post(&b, &path, refer(json!([]))).await.0,
        StatusCode::FORBIDDEN
    );

    let (status, first) = server.post(&a, &path, refer(json!(["label"]))).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["state"], "pending");
    assert_eq!(first["direction"], "outgoing");
    let rid = first["id"].as_i64().unwrap();

    // The pages: the case page shows it with the sender's step, the referrals page of the
    // receiver with theirs.
    let page = |token: &str, path: String| {
        let request = reqwest::Client::new()
            .get(format!("{}{path}", server.base))
            .bearer_auth(token.to_string());
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, html) = page(&a, format!("/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("id=\"referral-{rid}\"")), "{html}");
    assert!(html.contains(&format!("referral-{rid}-revoke")));
    assert!(!html.contains(&format!("referral-{rid}-accept")));
    let (status, html) = page(&b, "/referrals".to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("referral-{rid}-accept")), "{html}");
    assert!(!html.contains(&format!("referral-{rid}-revoke")));
    assert!(!html.contains(NAME), "the list decrypts nothing");

    // B sees it coming in and reads what was shared: the name, nothing else.
    let (status, listed) = server.get(&b, "/api/v1/referrals").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["direction"], "incoming");
    assert!(
        listed[0].get("shared").is_none(),
        "the list decrypts nothing"
    );
    let (status, read) = server.get(&b, &format!("/api/v1/referrals/{rid}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["shared"]["case"]["label"], NAME);
    assert_eq!(read["shared"]["service_type"], "legal aid");
    let text = read.to_string();
    assert!(
        !text.contains("+39 333") && !text.contains("cooperation"),
        "{text}"
    );
    // The outsider neither reads nor acts, and is audited.
    assert_eq!(
        server.get(&c, &format!("/api/v1/referrals/{rid}")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .post(&c, &format!("/api/v1/referrals/{rid}/accept"), json!({}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(server.audit("referral.denied").await.len(), 2);
    assert!(
        server
            .get(&c, "/api/v1/referrals")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Accept: the receiver only. Revoke: the sender only, while pending.
    let step = |rid: i64, action: &str| format!("/api/v1/referrals/{rid}/{action}");
    assert_eq!(
        server.post(&a, &step(rid, "accept"), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.post(&b, &step(rid, "revoke"), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.post(&b, &step(rid, "finish"), json!({})).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, accepted) = server.post(&b, &step(rid, "accept"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["state"], "accepted");
    for (token, action) in [(&b, "accept"), (&b, "reject"), (&a, "revoke")] {
        let (status, problem) = server.post(token, &step(rid, action), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}: {problem}");
        assert_eq!(problem["code"], "transition_not_allowed");
    }
    assert_eq!(
        server.post(&a, &step(rid, "complete"), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, done) = server.post(&b, &step(rid, "complete"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["state"], "done");
    assert_eq!(
        server.post(&b, &step(rid, "complete"), json!({})).await.0,
        StatusCode::CONFLICT
    );

    // Revoked while pending, then nothing more; rejected, then not completed.
    let (_, second) = server.post(&a, &path, refer(json!([]))).await;
    let second = second["id"].as_i64().unwrap();
    let (status, revoked) = server.post(&a, &step(second, "revoke"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["state"], "revoked");
    assert_eq!(
        server.post(&b, &step(second, "accept"), json!({})).await.0,
        StatusCode::CONFLICT
    );
    let (_, third) = server.post(&a, &path, refer(json!([]))).await;
    let third = third["id"].as_i64().unwrap();
    assert_eq!(
        server.post(&b, &step(third, "reject"), json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        server.post(&b, &step(third, "complete"), json!({})).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        server.post(&b, &step(999_999, "accept"), json!({})).await.0,
        StatusCode::NOT_FOUND
    );

    // Every step audited; the case keeps an event per step; A still owns the case.
    for action in ["accept", "complete", "revoke", "reject"] {
        let entries = server.audit(&format!("referral.{action}")).await;
        assert_eq!(entries.len(), 1, "{action}");
        assert_eq!(entries[0].entry.target.as_deref(), Some(id.as_str()));
    }
    let file = server.store.case_file(&id).await.unwrap().unwrap();
    assert_eq!(
        file.events.iter().filter(|e| e.kind == "referral").count(),
        7
    );
    assert_eq!(
        server.get(&a, &format!("/api/v1/cases/{id}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        server.get(&b, &format!("/api/v1/cases/{id}")).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn transfers_hand_the_case_over(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let a = token_for(&server, "caseworker").await;
    let b = token_for(&server, "caseworker-b").await;
    let id = case_of_a(&server, &a).await;
    let path = format!("/api/v1/cases/{id}/transfers");
    let offer = json!({"to_organisation": "ngo-b", "note": "moving to Turin", "share": ["label"]});
    let step = |rid: i64, action: &str| format!("/api/v1/referrals/{rid}/{action}");

    // Sharing consent first (a referral consent is not enough), and an open case.
    consent(&server, &a, &id, "referral").await;
    let (status, problem) = server.post(&a, &path, offer.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "consent_required");
    assert_eq!(
        server.audit("case.transfer").await[0].entry.outcome,
        AuditOutcome::Denied
    );
    consent(&server, &a, &id, "sharing").await;
    let (status, problem) = server.post(&a, &path, offer.clone()).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a screening record is not transferred"
    );
    assert_eq!(problem["code"], "transition_not_allowed");
    let (status, _) = server
        .post(
            &a,
            &format!("/api/v1/cases/{id}/transition"),
            json!({"action": "open"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, first) = server.post(&a, &path, offer.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let first = first["id"].as_i64().unwrap();
    let (status, problem) = server.post(&a, &path, offer.clone()).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "one pending transfer at a time: {problem}"
    );
    // Revocable while pending; then a new offer.
    assert_eq!(
        server.post(&b, &step(first, "revoke"), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.post(&a, &step(first, "revoke"), json!({})).await.0,
        StatusCode::OK
    );
    let (_, second) = server.post(&a, &path, offer.clone()).await;
    let second = second["id"].as_i64().unwrap();
    // Until B accepts, the case is A's.
    assert_eq!(
        server.get(&b, &format!("/api/v1/cases/{id}")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.post(&a, &step(second, "accept"), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, accepted) = server.post(&b, &step(second, "accept"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["state"], "accepted");
    // Now it is B's, with everything in it, and no longer A's.
    let (status, case) = server.get(&b, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{case}");
    assert_eq!(
        server.get(&a, &format!("/api/v1/cases/{id}")).await.0,
        StatusCode::FORBIDDEN
    );
    let meta = server.store.case_meta(&id).await.unwrap().unwrap();
    let org_b = server
        .store
        .user_by_name("caseworker-b")
        .await
        .unwrap()
        .unwrap()
        .organisation_id;
    assert_eq!(meta.organisation_id, org_b);
    // A transfer has no "done"; an accepted one cannot be revoked.
    let (status, problem) = server.post(&b, &step(second, "complete"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(
        server.post(&a, &step(second, "revoke"), json!({})).await.0,
        StatusCode::CONFLICT
    );
    let moved = server.audit("referral.accept").await;
    assert_eq!(moved[0].entry.detail["case_moved"], true);
}

#[tokio::test]
async fn referrals_follow_their_workflow_sqlite() {
    referrals_follow_their_workflow(Backend::Sqlite).await;
}

#[tokio::test]
async fn referrals_follow_their_workflow_postgres() {
    referrals_follow_their_workflow(Backend::Postgres).await;
}

#[tokio::test]
async fn transfers_hand_the_case_over_sqlite() {
    transfers_hand_the_case_over(Backend::Sqlite).await;
}

#[tokio::test]
async fn transfers_hand_the_case_over_postgres() {
    transfers_hand_the_case_over(Backend::Postgres).await;
}

async fn legal_holds_pause_the_retention_sweep(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    let a = token_for(&server, "caseworker").await;
    let b = token_for(&server, "caseworker-b").await;
    let id = case_of_a(&server, &a).await;
    let holds = format!("/api/v1/cases/{id}/holds");
    let reason = "the person supports proceedings against the Testport recruiter";

    let (status, problem) = server
        .post(
            &a,
            &holds,
            json!({"reason": " ", "review_on": "2099-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "reason");
    let (status, problem) = server
        .post(
            &a,
            &holds,
            json!({"reason": reason, "review_on": "2001-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "review_on");
    assert_eq!(
        server
            .post(
                &b,
                &holds,
                json!({"reason": reason, "review_on": "2099-01-01"})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, hold) = server
        .post(
            &a,
            &holds,
            json!({"reason": reason, "review_on": "2099-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    assert_eq!(hold["reason"], Value::Null);
    let hid = hold["id"].as_i64().unwrap();
    let (status, listed) = server.get(&a, &holds).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["reason"], reason);
    assert_eq!(server.get(&b, &holds).await.0, StatusCode::FORBIDDEN);
    let audited = server.audit("case.hold").await;
    assert!(audited.iter().all(|e| {
        !serde_json::to_string(&e.entry)
            .unwrap()
            .contains("Testport")
    }));

    // Past its deadline, the held case is not due; lifted, it is.
    let (status, _) = server
        .post(
            &a,
            &format!("/api/v1/cases/{id}/details"),
            json!({"retention_until": "2020-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let due = |body: Value| {
        body["due"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.as_str())
    };
    let (_, listed) = server.get(&a, "/api/v1/cases/retention").await;
    assert!(!due(listed), "a hold pauses erasure");
    let release = |hid: i64| format!("/api/v1/cases/{id}/holds/{hid}/release");
    assert_eq!(
        server.post(&a, &release(hid + 1000), json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.post(&b, &release(hid), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, lifted) = server.post(&a, &release(hid), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{lifted}");
    assert!(lifted["released_at"].is_string());
    assert_eq!(
        server.post(&a, &release(hid), json!({})).await.0,
        StatusCode::CONFLICT
    );
    let (_, listed) = server.get(&a, "/api/v1/cases/retention").await;
    assert!(due(listed));

    // The case page's form places one too, and shows it with its reason and a way to lift it.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let placed = client
        .post(format!("{}/cases/{id}/hold", server.base))
        .bearer_auth(&a)
        .form(&[("reason", "appeal pending"), ("review_on", "2098-05-01")])
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);
    let html = client
        .get(format!("{}/cases/{id}", server.base))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("appeal pending") && html.contains("2098-05-01"),
        "{html}"
    );
    let (_, listed) = server.get(&a, &holds).await;
    let second = listed[1]["id"].as_i64().unwrap();
    assert!(html.contains(&format!("hold-{second}-release")));
    assert!(
        !html.contains(&format!("hold-{hid}-release")),
        "a lifted hold is not lifted again"
    );
    // Erasing the case while that hold stands is a conflict naming the hold.
    let (status, problem) = server
        .post(
            &a,
            &format!("/api/v1/cases/{id}/erase"),
            json!({"reason": "retention period ended"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("legal hold {second}"))),
        "{problem}"
    );
    assert_eq!(
        server.get(&a, &format!("/api/v1/cases/{id}")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn legal_holds_pause_the_retention_sweep_sqlite() {
    legal_holds_pause_the_retention_sweep(Backend::Sqlite).await;
}

#[tokio::test]
async fn legal_holds_pause_the_retention_sweep_postgres() {
    legal_holds_pause_the_retention_sweep(Backend::Postgres).await;
}
