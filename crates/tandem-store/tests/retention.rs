//! Per-case data keys (crypto-shredding), rows from before data keys, legal holds and the
//! retention review, and referrals/transfers in the protection store. Every test runs against
//! SQLite and PostgreSQL.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use serde_json::json;
use tandem_store::cases::{
    CaseChange, NewCase, NewCaseEvent, NewConsent, NewHold, NewReferral, ReferralChange,
};
use tandem_store::crypto::{DataKey, Keyring, is_data_key_sealed};
use tandem_store::security::{AuditOutcome, NewAuditEntry};
use tandem_store::{Store, StoreError};

use common::*;

conformance!(
    erasure_destroys_the_data_key_so_saved_ciphertext_stays_shut,
    rows_from_before_data_keys_stay_readable_and_move_under_them,
    legal_holds_pause_erasure_and_come_up_for_review,
    referrals_and_transfers_keep_their_state_and_move_the_case,
);

const SECRET_NAME: &str = "Grace Adeyemi-Testcase";
const SECRET_REASON: &str = "supports proceedings against the Testville recruiter";

async fn case_with_rows(store: &dyn Store, org: i64, user: i64, until: &str) -> String {
    let case = store
        .create_case(NewCase {
            organisation_id: org,
            created_by: user,
            state: "screening".into(),
            retention_until: until.into(),
            details: json!({"name": SECRET_NAME}),
        })
        .await
        .expect("create");
    store
        .record_consent(
            &case.meta.id,
            NewConsent {
                recorded_by: user,
                scope: "storage".into(),
                given: true,
                detail: json!({"interpreter": SECRET_NAME}),
            },
        )
        .await
        .expect("consent");
    case.meta.id
}

/// `(table, case id, body, key_id)` of every sealed row of `case_id`, as a backup would hold them.
async fn sealed_rows(h: &Harness, case_id: &str) -> Vec<(String, String, i64)> {
    let mut rows = Vec::new();
    for table in ["cases", "case_events", "case_consents", "case_holds"] {
        let column = if table == "cases" { "id" } else { "case_id" };
        let sql = format!("SELECT body, key_id FROM {table} WHERE {column} = $1");
        for (body, key_id) in h.pairs_behind(&sql, case_id).await {
            rows.push((table.to_string(), body, key_id));
        }
    }
    rows
}

async fn wrapped_key(h: &Harness, case_id: &str) -> Option<String> {
    h.pairs_behind(
        "SELECT wrapped, key_id FROM case_keys WHERE case_id = $1",
        case_id,
    )
    .await
    .into_iter()
    .next()
    .map(|(wrapped, _)| wrapped)
}

fn associated(table: &str, case_id: &str) -> Vec<u8> {
    format!("tandem/case\0{table}\0{case_id}").into_bytes()
}

fn key_associated(case_id: &str) -> Vec<u8> {
    format!("tandem/case-key\0{case_id}").into_bytes()
}

fn tombstone(case_id: &str, org: i64, user: i64) -> NewAuditEntry {
    NewAuditEntry {
        actor_user_id: Some(user),
        actor: "worker".into(),
        organisation_id: Some(org),
        action: "case.erase".into(),
        target: Some(case_id.to_string()),
        outcome: AuditOutcome::Ok,
        detail: json!({"reason": "retention period ended"}),
        remote_addr: None,
    }
}

async fn erasure_destroys_the_data_key_so_saved_ciphertext_stays_shut(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let id = case_with_rows(store, org, user, "2099-01-01T00:00:00").await;
    let ring = Keyring::parse(&h.keys, "test keys").expect("keys");

    // The "backup": the case's rows and its wrapped data key as stored before erasure.
    let backup = sealed_rows(h, &id).await;
    assert_eq!(
        backup.len(),
        3,
        "case, its first event, 1 consent: {backup:?}"
    );
    let wrapped = wrapped_key(h, &id).await.expect("a data key per case");
    // With the wrapped key, the keyring opens every row (so what follows can fail).
    let key = DataKey::unwrap(
        &ring,
        &hex::decode(&wrapped).expect("hex"),
        &key_associated(&id),
    )
    .expect("unwrap");
    for (table, body, key_id) in &backup {
        assert_eq!(*key_id, 0, "sealed with the case's data key");
        let blob = hex::decode(body).expect("hex");
        assert!(is_data_key_sealed(&blob));
        let plain = key.decrypt(&blob, &associated(table, &id)).expect("open");
        assert!(!plain.is_empty());
        // The keyring alone does not open a data-key ciphertext.
        assert!(ring.decrypt(&blob, &associated(table, &id)).is_err());
    }

    store
        .erase_case(&id, tombstone(&id, org, user))
        .await
        .expect("erase");
    assert_eq!(wrapped_key(h, &id).await, None, "the data key is destroyed");
    assert!(sealed_rows(h, &id).await.is_empty());
    // What is left to try the backup's ciphertext with: the keyring, and the data keys of the
    // other cases. None opens it.
    let other = case_with_rows(store, org, user, "2099-01-01T00:00:00").await;
    let other_key = DataKey::unwrap(
        &ring,
        &hex::decode(wrapped_key(h, &other).await.expect("key")).expect("hex"),
        &key_associated(&other),
    )
    .expect("unwrap");
    for (table, body, _) in &backup {
        let blob = hex::decode(body).expect("hex");
        assert!(ring.decrypt(&blob, &associated(table, &id)).is_err());
        assert!(other_key.decrypt(&blob, &associated(table, &id)).is_err());
        assert!(
            other_key
                .decrypt(&blob, &associated(table, &other))
                .is_err()
        );
    }
    // And the database holds no plaintext of the other case's protected fields.
    let texts = h
        .pairs_behind("SELECT body, key_id FROM cases WHERE id = $1", &other)
        .await;
    assert!(texts.iter().all(|(body, _)| !body.contains(SECRET_NAME)));
}

async fn rows_from_before_data_keys_stay_readable_and_move_under_them(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let id = case_with_rows(store, org, user, "2099-01-01T00:00:00").await;
    let expected = store.case_file(&id).await.expect("read").expect("file");
    // Make it a case as an earlier version wrote it: bodies sealed by the keyring itself, no
    // data key.
    let ring = Keyring::parse(&h.keys, "test keys").expect("keys");
    let key = DataKey::unwrap(
        &ring,
        &hex::decode(wrapped_key(h, &id).await.expect("key")).expect("hex"),
        &key_associated(&id),
    )
    .expect("unwrap");
    for (table, body, _) in sealed_rows(h, &id).await {
        let plain = key
            .decrypt(&hex::decode(&body).expect("hex"), &associated(&table, &id))
            .expect("open");
        let legacy = hex::encode(
            ring.encrypt(&plain, &associated(&table, &id))
                .expect("seal"),
        );
        h.execute_behind(&format!(
            "UPDATE {table} SET body = '{legacy}', key_id = 1 WHERE body = '{body}'"
        ))
        .await;
    }
    h.execute_behind(&format!("DELETE FROM case_keys WHERE case_id = '{id}'"))
        .await;
    assert_eq!(
        store.key_usage().await.expect("usage"),
        BTreeMap::from([(1, 3)])
    );
    // Readable as it is.
    assert_eq!(
        store.case_file(&id).await.expect("read").expect("file"),
        expected
    );
    // Rotation moves it under a data key of its own: three rows rewritten, one key wrapped.
    assert_eq!(store.reencrypt().await.expect("reencrypt"), 3);
    assert_eq!(
        store.key_usage().await.expect("usage"),
        BTreeMap::from([(1, 1)])
    );
    assert!(
        sealed_rows(h, &id)
            .await
            .iter()
            .all(|(_, body, key_id)| *key_id == 0
                && is_data_key_sealed(&hex::decode(body).expect("hex")))
    );
    assert_eq!(
        store.case_file(&id).await.expect("read").expect("file"),
        expected
    );
    assert_eq!(store.reencrypt().await.expect("again"), 0);
    // A case whose key row is lost (not a legacy case: its own row is data-key sealed) does not
    // get a fresh key that would seal new rows beside ones nobody can open.
    let other = case_with_rows(store, org, user, "2099-01-01T00:00:00").await;
    h.execute_behind(&format!("DELETE FROM case_keys WHERE case_id = '{other}'"))
        .await;
    assert!(
        store.case_file(&other).await.is_err(),
        "its rows need the key"
    );
    let refused = store
        .update_case(
            &other,
            CaseChange {
                event: Some(NewCaseEvent {
                    actor_user_id: user,
                    kind: "note".into(),
                    detail: json!({}),
                }),
                ..CaseChange::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Corrupt(ref m)) if m.contains("lost its data key")),
        "no fresh key for a case whose key is gone: {refused:?}"
    );
}

async fn legal_holds_pause_erasure_and_come_up_for_review(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let due = case_with_rows(store, org, user, "2020-01-01T00:00:00").await;
    let active = case_with_rows(store, org, user, "2099-01-01T00:00:00").await;
    let now = "2026-06-01T00:00:00";
    let ids = |metas: Vec<tandem_store::cases::CaseMeta>| {
        metas.into_iter().map(|m| m.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.cases_due_for_erasure(now).await.expect("due")),
        [due.as_str()]
    );

    let hold = store
        .place_hold(
            &due,
            NewHold {
                placed_by: user,
                reason: SECRET_REASON.into(),
                review_on: "2026-09-01T00:00:00".into(),
            },
        )
        .await
        .expect("hold");
    assert!(hold.is_active());
    assert!(
        store
            .cases_due_for_erasure(now)
            .await
            .expect("due")
            .is_empty(),
        "a hold pauses erasure"
    );
    let review = store.retention_review(now).await.expect("review");
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].case.id, due);
    assert!(review[0].deadline_passed && !review[0].erasable);
    let listed = review[0].hold.as_ref().expect("the hold");
    assert_eq!(listed.reason, None, "the review decrypts nothing");
    assert_eq!(listed.review_on, "2026-09-01T00:00:00");
    // The reason is sealed; the case's holds open it.
    let holds = store.holds(&due).await.expect("holds");
    assert_eq!(holds[0].reason.as_deref(), Some(SECRET_REASON));
    let stored = sealed_rows(h, &due).await;
    assert!(
        stored
            .iter()
            .all(|(_, body, _)| !body.contains("Testville"))
    );

    // A hold on an active case comes up for review at its date.
    store
        .place_hold(
            &active,
            NewHold {
                placed_by: user,
                reason: "proceedings".into(),
                review_on: "2026-03-01T00:00:00".into(),
            },
        )
        .await
        .expect("hold");
    let review = store.retention_review(now).await.expect("review");
    assert_eq!(review.len(), 2);
    let of_active = review.iter().find(|i| i.case.id == active).expect("listed");
    assert!(!of_active.deadline_passed && !of_active.erasable);

    // Nor is it erased by hand while held.
    assert!(matches!(
        store.erase_case(&due, tombstone(&due, org, user)).await,
        Err(StoreError::Invalid(ref m)) if m.contains("legal hold")
    ));
    assert!(store.case_meta(&due).await.expect("meta").is_some());
    let lifted = store.release_hold(hold.id, user).await.expect("lift");
    assert!(!lifted.is_active() && lifted.released_by == Some(user));
    assert!(matches!(
        store.release_hold(hold.id, user).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.release_hold(hold.id + 1000, user).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        ids(store.cases_due_for_erasure(now).await.expect("due")),
        [due.as_str()]
    );
    let review = store.retention_review(now).await.expect("review");
    assert!(review.iter().any(|i| i.case.id == due && i.erasable));
    assert!(matches!(
        store
            .place_hold(
                "case-ffffffffffffffff",
                NewHold {
                    placed_by: user,
                    reason: "x".into(),
                    review_on: "2030-01-01".into(),
                },
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Erasure takes the holds with it.
    store
        .erase_case(&due, tombstone(&due, org, user))
        .await
        .expect("erase");
    assert!(store.holds(&due).await.expect("holds").is_empty());
}

async fn referrals_and_transfers_keep_their_state_and_move_the_case(h: &Harness) {
    let store = h.store.as_ref();
    let (org_a, user_a) = owner(store, "ngo-a").await;
    let (org_b, user_b) = owner(store, "shelter-b").await;
    let id = case_with_rows(store, org_a, user_a, "2099-01-01T00:00:00").await;
    let event = |kind: &str| NewCaseEvent {
        actor_user_id: user_a,
        kind: kind.into(),
        detail: json!({"state": "pending"}),
    };
    let referral = store
        .create_referral(
            &id,
            NewReferral {
                kind: "transfer".into(),
                to_organisation_id: org_b,
                created_by: user_a,
                state: "pending".into(),
                detail: json!({"label": SECRET_NAME}),
            },
            event("transfer"),
        )
        .await
        .expect("refer");
    assert_eq!(referral.from_organisation_id, org_a);
    // Listed for both sides without decrypting anything.
    for org in [org_a, org_b] {
        let listed = store.organisation_referrals(org).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].detail, serde_json::Value::Null);
    }
    assert!(
        store
            .organisation_referrals(org_b + 1000)
            .await
            .expect("list")
            .is_empty()
    );
    let read = store
        .referral(referral.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read.detail["label"], SECRET_NAME);
    assert!(
        sealed_rows(h, &id)
            .await
            .iter()
            .all(|(_, body, _)| !body.contains("Grace"))
    );

    let accept = |from: &str| ReferralChange {
        from: from.into(),
        to: "accepted".into(),
        by: user_b,
        move_case: true,
        event: NewCaseEvent {
            actor_user_id: user_b,
            kind: "transfer".into(),
            detail: json!({"state": "accepted"}),
        },
    };
    let accepted = store
        .update_referral(referral.id, accept("pending"))
        .await
        .expect("accept");
    assert_eq!(accepted.state, "accepted");
    assert_eq!(accepted.decided_by, Some(user_b));
    assert_eq!(
        store
            .case_meta(&id)
            .await
            .expect("meta")
            .expect("case")
            .organisation_id,
        org_b,
        "an accepted transfer hands the case over"
    );
    // A step from a state it is no longer in is refused, and changes nothing.
    assert!(matches!(
        store.update_referral(referral.id, accept("pending")).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .update_referral(referral.id + 1000, accept("pending"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    let file = store.case_file(&id).await.expect("read").expect("file");
    assert_eq!(
        file.events.iter().filter(|e| e.kind == "transfer").count(),
        2
    );
    assert!(matches!(
        store
            .create_referral(
                &id,
                NewReferral {
                    kind: "referral".into(),
                    to_organisation_id: org_b + 1000,
                    created_by: user_b,
                    state: "pending".into(),
                    detail: json!({}),
                },
                event("referral"),
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.case_referrals(&id).await.expect("list").len(), 1);
    store
        .erase_case(&id, tombstone(&id, org_b, user_b))
        .await
        .expect("erase");
    assert!(store.referral(referral.id).await.expect("read").is_none());
}
