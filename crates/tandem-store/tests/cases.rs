//! The conformance suite of the protection store: cases, events, consents, assessments and
//! testimonies are sealed at rest, state changes are checked, keys rotate over them, and
//! erasure leaves nothing but the tombstone. Every test runs against SQLite and PostgreSQL.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use serde_json::json;
use tandem_store::cases::{
    CaseChange, NewAssessment, NewCase, NewCaseEvent, NewConsent, NewTestimony,
};
use tandem_store::crypto::Keyring;
use tandem_store::security::{AuditFilter, AuditOutcome, NewAuditEntry};
use tandem_store::{KeySource, Store, StoreError};

use common::*;

conformance!(
    a_case_file_round_trips_and_stays_encrypted_at_rest,
    state_changes_are_checked_against_the_current_state,
    erasure_leaves_only_the_tombstone,
    keys_rotate_over_case_records,
    retention_lists_cases_past_their_deadline,
    unknown_cases_and_missing_keys_are_refused,
);

/// Plaintexts that must never be found in storage.
const SECRET_NAME: &str = "Blessing Okonkwo-Testcase";
const SECRET_PHONE: &str = "+2348031234599";
const SECRET_STORY: &str = "recruited at the Benin City motor park";
const SECRET_ALIAS: &str = "Mama Rosa Testalias";

fn secrets() -> [&'static str; 4] {
    [SECRET_NAME, SECRET_PHONE, SECRET_STORY, SECRET_ALIAS]
}

fn new_case(org: i64, user: i64, retention_until: &str) -> NewCase {
    NewCase {
        organisation_id: org,
        created_by: user,
        state: "screening".into(),
        retention_until: retention_until.into(),
        details: json!({"name": SECRET_NAME, "phone": SECRET_PHONE, "gender": "Masculine"}),
    }
}

/// A case with one of everything.
async fn full_case(store: &dyn Store, org: i64, user: i64) -> String {
    let case = store
        .create_case(new_case(org, user, "2099-01-01T00:00:00"))
        .await
        .expect("create case");
    let id = case.meta.id.clone();
    store
        .record_consent(
            &id,
            NewConsent {
                recorded_by: user,
                scope: "storage".into(),
                given: true,
                detail: json!({"interpreter": SECRET_NAME, "language": "edo"}),
            },
        )
        .await
        .expect("consent");
    store
        .add_assessment(
            &id,
            NewAssessment {
                assessed_by: user,
                catalogue_version: "1.0.0".into(),
                catalogue_sha256: "ab".repeat(32),
                body: json!({"answers": {"DR-01": "present"}, "note": SECRET_STORY}),
            },
        )
        .await
        .expect("assessment");
    store
        .add_testimony(
            &id,
            NewTestimony {
                coded_by: user,
                coding: json!({"actors": [{"aliases": [SECRET_ALIAS], "phones": [SECRET_PHONE]}]}),
            },
        )
        .await
        .expect("testimony");
    store
        .add_case_event(
            &id,
            NewCaseEvent {
                actor_user_id: user,
                kind: "service".into(),
                detail: json!({"service": "shelter", "note": SECRET_STORY}),
            },
        )
        .await
        .expect("event");
    id
}

fn contains_any(bytes: &[u8], needles: &[&str]) -> Option<String> {
    needles
        .iter()
        .find(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .map(|n| n.to_string())
}

/// Every row of every table, as `(table, text)`, on either backend.
async fn all_rows(h: &Harness) -> Vec<(String, String)> {
    use sqlx::Connection;
    let mut rows = Vec::new();
    if let Some((_, schema)) = &h.postgres {
        let mut conn = sqlx::PgConnection::connect(&h.url).await.expect("connect");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
        )
        .bind(schema)
        .fetch_all(&mut conn)
        .await
        .expect("tables");
        for table in tables {
            let sql = format!("SELECT t::text FROM \"{schema}\".\"{table}\" t");
            let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .expect("rows");
            rows.extend(texts.into_iter().map(|text| (table.clone(), text)));
        }
        conn.close().await.ok();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&h.url)
            .await
            .expect("connect");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("tables");
        for table in tables {
            let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{table}')"
            )))
            .fetch_all(&mut conn)
            .await
            .expect("columns");
            let joined = columns
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let sql = format!("SELECT {joined} FROM \"{table}\"");
            let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .expect("rows");
            rows.extend(texts.into_iter().map(|text| (table.clone(), text)));
        }
        conn.close().await.ok();
    }
    rows
}

/// The stored bytes: the SQLite file after a checkpoint, or every PostgreSQL row as text.
async fn stored_bytes(h: &Harness) -> Vec<u8> {
    match h.sqlite_path() {
        Some(path) => {
            h.execute_behind("PRAGMA wal_checkpoint(TRUNCATE)").await;
            std::fs::read(path).expect("the database file")
        }
        None => all_rows(h)
            .await
            .into_iter()
            .flat_map(|(table, row)| format!("{table}: {row}\n").into_bytes())
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------

async fn a_case_file_round_trips_and_stays_encrypted_at_rest(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let id = full_case(store, org, user).await;
    assert!(id.starts_with("case-") && id.len() == 21, "{id}");

    let file = store.case_file(&id).await.expect("read").expect("exists");
    assert_eq!(file.case.meta.organisation_id, org);
    assert_eq!(file.case.meta.state, "screening");
    assert_eq!(file.case.details["name"], SECRET_NAME);
    assert_eq!(file.events.len(), 2, "created, then the service");
    assert_eq!(file.events[0].kind, "state");
    assert_eq!(file.events[0].detail, json!({"to": "screening"}));
    assert_eq!(file.events[1].detail["note"], SECRET_STORY);
    assert!(file.has_consent("storage"));
    assert!(!file.has_consent("referral"));
    assert_eq!(file.consents[0].detail["language"], "edo");
    assert_eq!(file.assessments[0].catalogue_version, "1.0.0");
    assert_eq!(file.assessments[0].body["answers"]["DR-01"], "present");
    assert_eq!(
        file.testimonies[0].coding["actors"][0]["aliases"][0],
        SECRET_ALIAS
    );
    // A withdrawal takes consent back; the history stays.
    store
        .record_consent(
            &id,
            NewConsent {
                recorded_by: user,
                scope: "storage".into(),
                given: false,
                detail: json!({}),
            },
        )
        .await
        .expect("withdraw");
    let file = store.case_file(&id).await.expect("read").expect("exists");
    assert!(!file.has_consent("storage"));
    assert_eq!(file.consents.len(), 2);

    let metas = store.cases(Some(org)).await.expect("list");
    assert_eq!(metas.len(), 1);
    assert_eq!(metas[0].id, id);
    assert!(
        store
            .cases(Some(org + 1000))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(store.case_files(None).await.expect("files").len(), 1);
    assert_eq!(store.case_files(Some(org)).await.expect("files")[0], file);
    // 1 case + 2 events + 2 consents + 1 assessment + 1 testimony, all sealed with the case's
    // data key, which key 1 wraps: the keyring is used once.
    assert_eq!(
        store.key_usage().await.expect("usage"),
        BTreeMap::from([(1, 1)])
    );

    if let Some(path) = h.sqlite_path() {
        let wal = std::fs::read(path.with_extension("db-wal")).expect("the WAL");
        assert_eq!(contains_any(&wal, &secrets()), None, "in the WAL");
    }
    let bytes = stored_bytes(h).await;
    assert_eq!(contains_any(&bytes, &secrets()), None, "plaintext stored");
    // The scan does see stored text: the clear metadata is there.
    assert!(contains_any(&bytes, &[id.as_str()]).is_some());
}

async fn state_changes_are_checked_against_the_current_state(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let case = store
        .create_case(new_case(org, user, "2099-01-01T00:00:00"))
        .await
        .expect("create");
    let id = case.meta.id;
    let event = |to: &str| NewCaseEvent {
        actor_user_id: user,
        kind: "state".into(),
        detail: json!({"to": to}),
    };
    let moved = store
        .update_case(
            &id,
            CaseChange {
                state: Some(("screening".into(), "open".into())),
                retention_until: Some("2100-01-01T00:00:00".into()),
                event: Some(event("open")),
                ..CaseChange::default()
            },
        )
        .await
        .expect("open");
    assert_eq!(moved.meta.state, "open");
    assert_eq!(moved.meta.retention_until, "2100-01-01T00:00:00");
    assert_eq!(moved.details, case.details, "details untouched");
    // A stale `from` is refused and writes nothing.
    let stale = store
        .update_case(
            &id,
            CaseChange {
                state: Some(("screening".into(), "assessment".into())),
                event: Some(event("assessment")),
                ..CaseChange::default()
            },
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::Invalid(ref m)) if m.contains("changed meanwhile")),
        "{stale:?}"
    );
    let file = store.case_file(&id).await.expect("read").expect("exists");
    assert_eq!(file.case.meta.state, "open");
    assert_eq!(file.events.len(), 2);
    // Details change alone, sealed anew.
    let changed = store
        .update_case(
            &id,
            CaseChange {
                details: Some(json!({"name": SECRET_NAME, "note": "moved to a shelter"})),
                ..CaseChange::default()
            },
        )
        .await
        .expect("details");
    assert_eq!(changed.details["note"], "moved to a shelter");
    assert_eq!(changed.meta.state, "open");
    assert!(matches!(
        store
            .update_case("case-0000000000000000", CaseChange::default())
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn erasure_leaves_only_the_tombstone(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let erased = full_case(store, org, user).await;
    let kept = full_case(store, org, user).await;
    let before = all_rows(h).await;
    // The erased case's ciphertexts, to look for them afterwards.
    let sealed: Vec<String> = before
        .iter()
        .filter(|(table, row)| table.starts_with("case") && row.contains(&erased))
        .flat_map(|(_, row)| {
            row.split(['|', ',', '(', ')', '"', '\''])
                .filter(|part| part.len() > 100)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        sealed.len(),
        7,
        "one ciphertext per row of the case, and its wrapped data key"
    );

    let tombstone = NewAuditEntry {
        actor_user_id: Some(user),
        actor: "worker-ngo-a".into(),
        organisation_id: Some(org),
        action: "case.erase".into(),
        target: Some(erased.clone()),
        outcome: AuditOutcome::Ok,
        detail: json!({"organisation": org, "reason": "the person asked (GDPR Art. 17)"}),
        remote_addr: None,
    };
    // A tombstone must name its case.
    let mut elsewhere = tombstone.clone();
    elsewhere.target = Some(kept.clone());
    assert!(matches!(
        store.erase_case(&erased, elsewhere).await,
        Err(StoreError::Invalid(_))
    ));
    let entry = store.erase_case(&erased, tombstone).await.expect("erase");
    assert_eq!(entry.entry.action, "case.erase");
    assert!(store.case_file(&erased).await.expect("read").is_none());
    assert!(store.case_meta(&erased).await.expect("read").is_none());
    assert!(matches!(
        store.erase_case(&erased, entry.entry.clone()).await,
        Err(StoreError::NotFound(_))
    ));
    // The other case is whole.
    let other = store.case_file(&kept).await.expect("read").expect("kept");
    assert_eq!(other.events.len(), 2);
    assert_eq!(other.testimonies.len(), 1);

    // Nothing but audit entries names the erased case, and of those the tombstone carries no
    // content.
    let after = all_rows(h).await;
    let naming: Vec<&(String, String)> = after
        .iter()
        .filter(|(_, row)| row.contains(&erased))
        .collect();
    assert_eq!(naming.len(), 1, "{naming:?}");
    assert_eq!(naming[0].0, "audit_log");
    let audit = store
        .audit_entries(&AuditFilter {
            target: Some(erased.clone()),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
    let text = serde_json::to_string(&audit[0]).expect("json");
    assert_eq!(contains_any(text.as_bytes(), &secrets()), None);
    assert!(store.verify_audit().await.expect("verify").intact);

    // Not even the ciphertexts are left (SQLite overwrites what it deletes).
    let bytes = stored_bytes(h).await;
    let left: Vec<&str> = sealed.iter().map(String::as_str).collect();
    assert_eq!(contains_any(&bytes, &left), None, "ciphertext left behind");
}

async fn keys_rotate_over_case_records(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let mut ids = Vec::new();
    // More case rows than one re-encryption batch (5 rows per case).
    for _ in 0..45 {
        ids.push(full_case(store, org, user).await);
    }
    // The keyring wraps one data key per case; the case rows are sealed with those.
    assert_eq!(
        store.key_usage().await.expect("usage"),
        BTreeMap::from([(1, 45)])
    );
    let before = store.case_files(None).await.expect("files");
    let secret = store
        .protection_secret("intelligence")
        .await
        .expect("secret");
    assert_eq!(secret.len(), 32);
    assert_eq!(
        store
            .protection_secret("intelligence")
            .await
            .expect("again"),
        secret,
        "created once, then read"
    );
    assert_ne!(
        store.protection_secret("other").await.expect("other"),
        secret
    );

    let rotated = Keyring::parse(&h.keys, "test keys")
        .expect("keys")
        .rotated();
    let rotator = h.open_with(KeySource::Text(rotated.to_text())).await;
    // Rotation re-wraps the data keys (and re-seals the two secrets); no case row changes.
    assert_eq!(rotator.reencrypt().await.expect("reencrypt"), 45 + 2);
    assert_eq!(
        rotator.key_usage().await.expect("usage"),
        BTreeMap::from([(2, 45 + 2)])
    );
    assert_eq!(rotator.reencrypt().await.expect("again"), 0);
    // Only the new key is needed now.
    let fresh = h
        .open_with(KeySource::Text(rotated.without(1).to_text()))
        .await;
    assert_eq!(fresh.case_files(None).await.expect("files"), before);
    assert_eq!(
        fresh
            .protection_secret("intelligence")
            .await
            .expect("secret"),
        secret
    );
    // The old key alone opens nothing.
    let stale = h.reopen().await;
    assert!(matches!(
        stale.case_file(&ids[0]).await,
        Err(StoreError::Crypto(_))
    ));
}

async fn retention_lists_cases_past_their_deadline(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let soon = store
        .create_case(new_case(org, user, "2030-01-01T00:00:00"))
        .await
        .expect("create");
    let later = store
        .create_case(new_case(org, user, "2031-06-01T00:00:00"))
        .await
        .expect("create");
    let due = |now: &'static str| async move {
        store
            .cases_due_for_erasure(now)
            .await
            .expect("due")
            .into_iter()
            .map(|m| m.id)
            .collect::<Vec<_>>()
    };
    assert!(due("2029-12-31T23:59:59").await.is_empty());
    assert_eq!(due("2030-06-01T00:00:00").await, [soon.meta.id.as_str()]);
    assert_eq!(
        due("2040-01-01T00:00:00").await,
        [soon.meta.id.clone(), later.meta.id.clone()]
    );
}

async fn unknown_cases_and_missing_keys_are_refused(h: &Harness) {
    let store = h.store.as_ref();
    let (org, user) = owner(store, "ngo-a").await;
    let missing = "case-ffffffffffffffff";
    assert!(store.case_file(missing).await.expect("read").is_none());
    assert!(matches!(
        store
            .add_case_event(
                missing,
                NewCaseEvent {
                    actor_user_id: user,
                    kind: "note".into(),
                    detail: json!({}),
                },
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .record_consent(
                missing,
                NewConsent {
                    recorded_by: user,
                    scope: "storage".into(),
                    given: true,
                    detail: json!({}),
                },
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    // An unknown organisation: refused by the database, said as not found.
    assert!(matches!(
        store
            .create_case(new_case(org + 1000, user, "2099-01-01T00:00:00"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    let id = full_case(store, org, user).await;
    let keyless = tandem_store::open(&h.url).await.expect("open without keys");
    assert!(matches!(
        keyless.case_file(&id).await,
        Err(StoreError::Invalid(ref m)) if m.contains("field-encryption key")
    ));
    assert!(matches!(
        keyless
            .create_case(new_case(org, user, "2099-01-01T00:00:00"))
            .await,
        Err(StoreError::Invalid(_))
    ));
    // The metadata stays readable without keys (the access check needs no decryption).
    assert_eq!(
        keyless
            .case_meta(&id)
            .await
            .expect("meta")
            .expect("exists")
            .organisation_id,
        org
    );
}
