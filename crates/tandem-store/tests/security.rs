//! The conformance suite of the security store: accounts, sessions, API tokens, the audit log,
//! field encryption of protected records, dataset owners and the entity search. Every test runs
//! against SQLite and against PostgreSQL (see `common/mod.rs`).

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};

use tandem_core::{Entity, Sensitivity};
use tandem_store::crypto::{CryptoError, Keyring};
use tandem_store::security::{
    AuditFilter, AuditOutcome, NewAuditEntry, NewUser, Session, UserRole,
};
use tandem_store::{ImportMode, KeySource, Store, StoreError, StoredEntity};

use common::*;

conformance!(
    organisations_and_users_are_unique_by_name,
    login_failures_lock_the_account_and_success_clears_it,
    concurrent_login_failures_all_count,
    sessions_are_found_by_digest_and_deleted,
    api_tokens_are_listed_revoked_and_touched,
    the_audit_log_chains_filters_and_refuses_changes,
    an_altered_audit_entry_is_named,
    a_deleted_audit_entry_is_named_by_the_one_after_it,
    concurrent_audit_appends_keep_one_chain,
    protected_records_round_trip_and_stay_encrypted_at_rest,
    protected_records_need_the_right_key,
    keys_rotate_while_the_store_is_in_use,
    the_owner_organisation_travels_with_the_dataset,
    search_finds_names_and_identifiers_folded,
    search_respects_schema_ceiling_and_rank,
    the_names_table_in_memory_searches_as_the_store_does,
    search_takes_any_text,
    search_follows_new_versions,
    the_names_index_is_built_for_an_older_store,
);

// ---------------------------------------------------------------------------------------------
// Helpers

const PROTECTED_NAME: &str = "Amina Zerouali-Testvalue";

async fn organisation(store: &dyn Store, name: &str) -> i64 {
    store
        .create_organisation(name, &format!("{name} title"))
        .await
        .expect("organisation")
        .id
}

fn new_user(username: &str, organisation_id: i64, role: UserRole) -> NewUser {
    NewUser {
        username: username.to_string(),
        display_name: format!("{username} display"),
        organisation_id,
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string(),
        must_change_password: false,
    }
}

fn audit_entry(actor: &str, action: &str, target: Option<&str>) -> NewAuditEntry {
    NewAuditEntry {
        actor_user_id: Some(7),
        actor: actor.to_string(),
        organisation_id: Some(3),
        action: action.to_string(),
        target: target.map(str::to_string),
        outcome: AuditOutcome::Ok,
        detail: serde_json::json!({"via": "test", "n": action.len()}),
        remote_addr: Some("127.0.0.1".to_string()),
    }
}

async fn append_five(store: &dyn Store) {
    for (i, action) in ["login", "entity.read", "entity.read", "export", "logout"]
        .iter()
        .enumerate()
    {
        let target = format!("target-{i}");
        store
            .audit(audit_entry("alice", action, Some(&target)))
            .await
            .expect("audit");
    }
}

/// The statement that drops the audit log's protection, as an attacker with database access
/// would run it.
fn drop_audit_protection(h: &Harness) -> &'static str {
    if h.postgres.is_some() {
        "DROP TRIGGER audit_log_no_change ON audit_log"
    } else {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"
    }
}

fn protected_person(id: &str) -> Entity {
    let mut person = entity(
        "Person",
        id,
        &[
            ("name", PROTECTED_NAME),
            ("alias", "Amina Z."),
            ("birthDate", "2007-03-01"),
            ("passportNumber", "ZX-9912-TEST"),
        ],
    );
    person.sensitivity = Sensitivity::Protected;
    person
}

fn cases_request(version: &str) -> tandem_store::ImportRequest {
    let mut request = request("ngo_cases", version, ImportMode::Full);
    request.sensitivity = Sensitivity::Protected;
    request
}

/// Every text a store keeps about the protected person, as it would appear in storage.
fn secrets() -> [&'static str; 4] {
    [
        "Amina Zerouali",
        "amina zerouali",
        "ZX-9912-TEST",
        "zx-9912-test",
    ]
}

/// Whether any byte sequence of `secrets` occurs in `bytes`.
fn contains_any(bytes: &[u8], secrets: &[&str]) -> Option<String> {
    secrets
        .iter()
        .find(|secret| bytes.windows(secret.len()).any(|w| w == secret.as_bytes()))
        .map(|secret| secret.to_string())
}

/// Every row of every table of the test's PostgreSQL schema, as text.
async fn postgres_rows(h: &Harness) -> Vec<(String, String)> {
    use sqlx::Connection;
    let (_, schema) = h.postgres.as_ref().expect("a PostgreSQL test");
    let mut conn = sqlx::PgConnection::connect(&h.url).await.expect("connect");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
    )
    .bind(schema)
    .fetch_all(&mut conn)
    .await
    .expect("tables");
    assert!(tables.len() >= 12, "{tables:?}");
    let mut rows = Vec::new();
    for table in tables {
        let sql = format!("SELECT t::text FROM \"{schema}\".\"{table}\" t");
        let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .expect("rows");
        rows.extend(texts.into_iter().map(|text| (table.clone(), text)));
    }
    conn.close().await.ok();
    rows
}

fn ids(found: &[StoredEntity]) -> Vec<&str> {
    found.iter().map(|s| s.entity.id.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Accounts

async fn organisations_and_users_are_unique_by_name(h: &Harness) {
    let store = h.store.as_ref();
    let ngo = store
        .create_organisation("ngo-lampedusa", "NGO Lampedusa")
        .await
        .expect("organisation");
    assert_eq!(
        (ngo.name.as_str(), ngo.title.as_str()),
        ("ngo-lampedusa", "NGO Lampedusa")
    );
    let unit = organisation(store, "fiu-malta").await;
    assert!(matches!(
        store.create_organisation("ngo-lampedusa", "Again").await,
        Err(StoreError::Invalid(ref m)) if m.contains("taken")
    ));
    assert!(matches!(
        store.create_organisation("  ", "Nameless").await,
        Err(StoreError::Invalid(_))
    ));
    let names: Vec<String> = store
        .organisations()
        .await
        .expect("organisations")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["fiu-malta", "ngo-lampedusa"]);

    let alice = store
        .create_user(new_user("  Alice.Admin ", ngo.id, UserRole::Admin))
        .await
        .expect("user");
    assert_eq!(alice.username, "alice.admin");
    assert_eq!(
        (alice.role, alice.organisation_id),
        (UserRole::Admin, ngo.id)
    );
    assert!(!alice.disabled && !alice.must_change_password && alice.failed_logins == 0);
    assert!(alice.locked_until.is_none() && alice.last_login_at.is_none());
    assert!(matches!(
        store.create_user(new_user("ALICE.ADMIN", unit, UserRole::Viewer)).await,
        Err(StoreError::Invalid(ref m)) if m.contains("taken")
    ));
    assert!(matches!(
        store.create_user(new_user("nobody", 999_999, UserRole::Viewer)).await,
        Err(StoreError::NotFound(ref m)) if m.contains("999999")
    ));
    assert!(matches!(
        store
            .create_user(new_user("two words", unit, UserRole::Viewer))
            .await,
        Err(StoreError::Invalid(_))
    ));
    let mut bob = new_user("bob", unit, UserRole::Caseworker);
    bob.must_change_password = true;
    let bob = store.create_user(bob).await.expect("user");
    assert!(bob.must_change_password);

    assert_eq!(
        store.user(alice.id).await.expect("user"),
        Some(alice.clone())
    );
    assert_eq!(
        store.user_by_name(" ALICE.admin").await.expect("user"),
        Some(alice.clone())
    );
    assert!(store.user_by_name("carol").await.expect("user").is_none());
    assert!(store.user(999_999).await.expect("user").is_none());
    let listed: Vec<String> = store
        .users()
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(listed, ["alice.admin", "bob"]);

    store
        .set_user_disabled(bob.id, true)
        .await
        .expect("disable");
    assert!(
        store
            .user(bob.id)
            .await
            .expect("user")
            .expect("bob")
            .disabled
    );
    store
        .set_user_disabled(bob.id, false)
        .await
        .expect("enable");
    assert!(
        !store
            .user(bob.id)
            .await
            .expect("user")
            .expect("bob")
            .disabled
    );
    store
        .set_password(bob.id, "$argon2id$new", false)
        .await
        .expect("password");
    let bob_now = store.user(bob.id).await.expect("user").expect("bob");
    assert_eq!(bob_now.password_hash, "$argon2id$new");
    assert!(!bob_now.must_change_password);
    for missing in [
        store.set_user_disabled(999_999, true).await,
        store.set_password(999_999, "x", false).await,
        store.record_login_success(999_999).await,
    ] {
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
    }
    assert!(matches!(
        store
            .record_login_failure(999_999, 3, "2099-01-01T00:00:00Z")
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn login_failures_lock_the_account_and_success_clears_it(h: &Harness) {
    let store = h.store.as_ref();
    let org = organisation(store, "ngo").await;
    let user = store
        .create_user(new_user("dawit", org, UserRole::Analyst))
        .await
        .expect("user");
    let until = "2099-01-01T00:10:00Z";
    let first = store
        .record_login_failure(user.id, 3, until)
        .await
        .expect("failure");
    assert_eq!(
        (first.failed_logins, first.locked_until.as_deref()),
        (1, None)
    );
    let second = store
        .record_login_failure(user.id, 3, until)
        .await
        .expect("failure");
    assert_eq!(
        (second.failed_logins, second.locked_until.as_deref()),
        (2, None)
    );
    let third = store
        .record_login_failure(user.id, 3, until)
        .await
        .expect("failure");
    assert_eq!(
        (third.failed_logins, third.locked_until.as_deref()),
        (0, Some(until)),
        "the third failure locks and the count starts again"
    );
    let fourth = store
        .record_login_failure(user.id, 3, "2099-02-02T00:00:00Z")
        .await
        .expect("failure");
    assert_eq!(
        (fourth.failed_logins, fourth.locked_until.as_deref()),
        (1, Some(until)),
        "a failure below the threshold keeps the lock"
    );
    store.record_login_success(user.id).await.expect("success");
    let cleared = store.user(user.id).await.expect("user").expect("present");
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
    let logged_in = cleared.last_login_at.expect("last login");
    assert!(logged_in.starts_with("20"), "{logged_in}");

    // Threshold 0 never locks; a password reset clears failures and lock.
    for _ in 0..5 {
        store
            .record_login_failure(user.id, 0, until)
            .await
            .expect("failure");
    }
    let counted = store.user(user.id).await.expect("user").expect("present");
    assert_eq!((counted.failed_logins, counted.locked_until), (5, None));
    for _ in 0..2 {
        store
            .record_login_failure(user.id, 7, until)
            .await
            .expect("failure");
    }
    let locked = store.user(user.id).await.expect("user").expect("present");
    assert_eq!(locked.locked_until.as_deref(), Some(until));
    store
        .set_password(user.id, "$argon2id$reset", true)
        .await
        .expect("reset");
    let reset = store.user(user.id).await.expect("user").expect("present");
    assert_eq!((reset.failed_logins, reset.locked_until), (0, None));
    assert!(reset.must_change_password);
}

async fn concurrent_login_failures_all_count(h: &Harness) {
    let org = organisation(h.store.as_ref(), "ngo").await;
    let user = h
        .store
        .create_user(new_user("target", org, UserRole::Viewer))
        .await
        .expect("user");
    // Two handles, as two server processes would have.
    let other = h.reopen().await;
    let stores = [h.store.as_ref(), other.as_ref()];
    let attempts =
        (0..40).map(|i| stores[i % 2].record_login_failure(user.id, 1000, "2099-01-01T00:00:00Z"));
    for result in futures::future::join_all(attempts).await {
        result.expect("failure");
    }
    let counted = h.store.user(user.id).await.expect("user").expect("present");
    assert_eq!(counted.failed_logins, 40);
}

async fn sessions_are_found_by_digest_and_deleted(h: &Harness) {
    let store = h.store.as_ref();
    let org = organisation(store, "ngo").await;
    let ana = store
        .create_user(new_user("ana", org, UserRole::Caseworker))
        .await
        .expect("user");
    let ben = store
        .create_user(new_user("ben", org, UserRole::Analyst))
        .await
        .expect("user");
    let session = |hash: &str, user_id: i64| Session {
        token_hash: hash.to_string(),
        user_id,
        csrf_token: format!("csrf-{hash}"),
        created_at: "2026-03-01T10:00:00Z".to_string(),
        last_seen_at: "2026-03-01T10:00:00Z".to_string(),
    };
    for (hash, user) in [("a1", ana.id), ("a2", ana.id), ("b1", ben.id)] {
        store
            .create_session(session(hash, user))
            .await
            .expect("session");
    }
    assert!(matches!(
        store.create_session(session("a1", ben.id)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_session(session("x1", 999_999)).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.session("a1").await.expect("session"),
        Some(session("a1", ana.id))
    );
    assert!(store.session("nope").await.expect("session").is_none());

    store
        .touch_session("a1", "2026-03-01T10:05:00Z")
        .await
        .expect("touch");
    let touched = store
        .session("a1")
        .await
        .expect("session")
        .expect("present");
    assert_eq!(touched.last_seen_at, "2026-03-01T10:05:00Z");
    assert_eq!(touched.created_at, "2026-03-01T10:00:00Z");
    store
        .touch_session("gone", "2026-03-01T10:05:00Z")
        .await
        .expect("touch of nothing");

    store.delete_session("a2").await.expect("delete");
    assert!(store.session("a2").await.expect("session").is_none());
    store.delete_session("a2").await.expect("delete again");
    store
        .delete_user_sessions(ana.id)
        .await
        .expect("delete all");
    assert!(store.session("a1").await.expect("session").is_none());
    assert!(
        store.session("b1").await.expect("session").is_some(),
        "ben's stays"
    );
}

async fn api_tokens_are_listed_revoked_and_touched(h: &Harness) {
    let store = h.store.as_ref();
    let org = organisation(store, "ngo").await;
    let ana = store
        .create_user(new_user("ana", org, UserRole::Analyst))
        .await
        .expect("user");
    let ben = store
        .create_user(new_user("ben", org, UserRole::Analyst))
        .await
        .expect("user");
    let first = store
        .create_api_token(ana.id, "screening script", "digest-1", None)
        .await
        .expect("token");
    assert_eq!(
        (first.user_id, first.name.as_str()),
        (ana.id, "screening script")
    );
    assert!(first.revoked_at.is_none() && first.last_used_at.is_none());
    let second = store
        .create_api_token(ana.id, "expiring", "digest-2", Some("2026-12-31T00:00:00Z"))
        .await
        .expect("token");
    assert_eq!(second.expires_at.as_deref(), Some("2026-12-31T00:00:00Z"));
    let third = store
        .create_api_token(ben.id, "ben's", "digest-3", None)
        .await
        .expect("token");
    assert!(matches!(
        store
            .create_api_token(ben.id, "copy", "digest-3", None)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_api_token(999_999, "orphan", "digest-4", None)
            .await,
        Err(StoreError::NotFound(_))
    ));

    assert_eq!(
        store.api_token("digest-2").await.expect("token"),
        Some(second.clone())
    );
    assert!(store.api_token("digest-9").await.expect("token").is_none());
    let of = |tokens: Vec<tandem_store::security::ApiToken>| -> Vec<i64> {
        tokens.into_iter().map(|t| t.id).collect()
    };
    assert_eq!(
        of(store.api_tokens(Some(ana.id)).await.expect("tokens")),
        [first.id, second.id]
    );
    assert_eq!(
        of(store.api_tokens(None).await.expect("tokens")),
        [first.id, second.id, third.id]
    );
    // The digest is kept from clients.
    let json = serde_json::to_string(&second).expect("json");
    assert!(!json.contains("digest-2"), "{json}");

    store.revoke_api_token(first.id).await.expect("revoke");
    let revoked = store
        .api_token("digest-1")
        .await
        .expect("token")
        .expect("present");
    let revoked_at = revoked.revoked_at.clone().expect("revoked");
    next_second().await;
    store
        .revoke_api_token(first.id)
        .await
        .expect("revoke again");
    let again = store
        .api_token("digest-1")
        .await
        .expect("token")
        .expect("present");
    assert_eq!(
        again.revoked_at,
        Some(revoked_at),
        "the first revocation's time stays"
    );
    assert!(matches!(
        store.revoke_api_token(999_999).await,
        Err(StoreError::NotFound(_))
    ));

    store.touch_api_token(third.id).await.expect("touch");
    let used = store
        .api_token("digest-3")
        .await
        .expect("token")
        .expect("present");
    let used_at = used.last_used_at.expect("used");
    next_second().await;
    store
        .touch_api_token(third.id)
        .await
        .expect("touch within the minute");
    let still = store
        .api_token("digest-3")
        .await
        .expect("token")
        .expect("present");
    assert_eq!(
        still.last_used_at,
        Some(used_at),
        "written at most once a minute"
    );
    assert!(matches!(
        store.touch_api_token(999_999).await,
        Err(StoreError::NotFound(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Audit log

async fn the_audit_log_chains_filters_and_refuses_changes(h: &Harness) {
    let store = h.store.as_ref();
    let empty = store.verify_audit().await.expect("verify");
    assert!(empty.intact && empty.entries == 0);
    let first = store
        .audit(audit_entry("alice", "login", None))
        .await
        .expect("audit");
    assert_eq!(
        (first.seq, first.prev_hash.as_str()),
        (1, "0".repeat(64).as_str())
    );
    assert_eq!(first.hash.len(), 64);
    let mut denied = audit_entry("bob", "permission.denied", Some("victim-1"));
    denied.outcome = AuditOutcome::Denied;
    denied.actor_user_id = None;
    denied.remote_addr = None;
    let second = store.audit(denied.clone()).await.expect("audit");
    assert_eq!(
        (second.seq, second.prev_hash.as_str()),
        (2, first.hash.as_str())
    );
    assert_eq!(second.entry, denied);
    for action in ["login.failed", "entity.read", "loginx", "Login"] {
        store
            .audit(audit_entry("alice", action, Some("e-1")))
            .await
            .expect("audit");
    }
    assert!(matches!(
        store.audit(audit_entry("alice", " ", None)).await,
        Err(StoreError::Invalid(_))
    ));

    let verified = store.verify_audit().await.expect("verify");
    assert_eq!(
        (verified.entries, verified.intact, verified.first_broken_seq),
        (6, true, None)
    );
    let seqs = |entries: Vec<tandem_store::security::AuditEntry>| -> Vec<i64> {
        entries.into_iter().map(|e| e.seq).collect()
    };
    let all = store
        .audit_entries(&AuditFilter::default())
        .await
        .expect("entries");
    assert_eq!(all.len(), 6);
    assert_eq!(all[4], second, "entries read back as appended");
    assert_eq!(seqs(all), [6, 5, 4, 3, 2, 1], "newest first");
    let filtered = |filter: AuditFilter| async move {
        seqs(store.audit_entries(&filter).await.expect("entries"))
    };
    let prefix = |p: &str| AuditFilter {
        action_prefix: Some(p.to_string()),
        ..AuditFilter::default()
    };
    assert_eq!(
        filtered(prefix("login")).await,
        [5, 3, 1],
        "prefix, case-sensitive"
    );
    assert_eq!(
        filtered(prefix("login%")).await,
        Vec::<i64>::new(),
        "no wildcards"
    );
    assert_eq!(
        filtered(AuditFilter {
            actor: Some("bob".into()),
            ..AuditFilter::default()
        })
        .await,
        [2]
    );
    assert_eq!(
        filtered(AuditFilter {
            target: Some("e-1".into()),
            limit: 2,
            ..AuditFilter::default()
        })
        .await,
        [6, 5]
    );
    assert_eq!(
        filtered(AuditFilter {
            target: Some("e-1".into()),
            before_seq: Some(5),
            ..AuditFilter::default()
        })
        .await,
        [4, 3]
    );
    assert_eq!(
        filtered(AuditFilter {
            outcome: Some(AuditOutcome::Denied),
            ..AuditFilter::default()
        })
        .await,
        [2]
    );
    // Times are compared as ISO text: an entry's own second bounds it on both sides.
    let same_second: Vec<i64> = store
        .audit_entries(&AuditFilter::default())
        .await
        .expect("entries")
        .into_iter()
        .filter(|e| e.at == first.at)
        .map(|e| e.seq)
        .collect();
    assert!(same_second.contains(&1));
    assert_eq!(
        filtered(AuditFilter {
            since: Some(first.at.clone()),
            until: Some(first.at.clone()),
            ..AuditFilter::default()
        })
        .await,
        same_second
    );
    assert!(
        filtered(AuditFilter {
            since: Some("2999-01-01T00:00:00Z".into()),
            ..AuditFilter::default()
        })
        .await
        .is_empty()
    );

    // The database itself refuses to change or remove an entry.
    for sql in [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
    ] {
        let refused = h.try_execute_behind(sql).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert!(store.verify_audit().await.expect("verify").intact);
}

async fn an_altered_audit_entry_is_named(h: &Harness) {
    let store = h.store.as_ref();
    append_five(store).await;
    h.execute_behind(drop_audit_protection(h)).await;
    h.execute_behind(
        "UPDATE audit_log SET detail = '{\"n\":11,\"via\":\"somewhere else\"}' WHERE seq = 3",
    )
    .await;
    let verified = store.verify_audit().await.expect("verify");
    assert!(!verified.intact);
    assert_eq!(verified.first_broken_seq, Some(3));
    let problem = verified.problem.expect("problem");
    assert!(problem.contains("entry 3 was altered"), "{problem}");
    // The altered entry still lists, with what it now says.
    let entries = store
        .audit_entries(&AuditFilter::default())
        .await
        .expect("entries");
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[2].entry.detail["via"], "somewhere else");
    // Replacing its hash as well moves nothing: the hash is checked against the contents.
    h.execute_behind("UPDATE audit_log SET hash = prev_hash WHERE seq = 3")
        .await;
    let verified = store.verify_audit().await.expect("verify");
    assert_eq!(verified.first_broken_seq, Some(3));
}

async fn a_deleted_audit_entry_is_named_by_the_one_after_it(h: &Harness) {
    let store = h.store.as_ref();
    append_five(store).await;
    assert!(store.verify_audit().await.expect("verify").intact);
    h.execute_behind(drop_audit_protection(h)).await;
    h.execute_behind("DELETE FROM audit_log WHERE seq = 3")
        .await;
    let verified = store.verify_audit().await.expect("verify");
    assert!(!verified.intact);
    assert_eq!(verified.first_broken_seq, Some(4));
    let problem = verified.problem.expect("problem");
    assert!(problem.contains("entry 3 is missing"), "{problem}");

    // Renumbering to hide the gap leaves the chain broken where the entry was.
    h.execute_behind("UPDATE audit_log SET seq = -seq WHERE seq > 3")
        .await;
    h.execute_behind("UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0")
        .await;
    let verified = store.verify_audit().await.expect("verify");
    assert_eq!(verified.first_broken_seq, Some(3));
    // Appends go on after whatever is last.
    let next = store
        .audit(audit_entry("alice", "login", None))
        .await
        .expect("audit");
    assert_eq!(next.seq, 5);
}

async fn concurrent_audit_appends_keep_one_chain(h: &Harness) {
    let other = h.reopen().await;
    let stores = [h.store.as_ref(), other.as_ref()];
    let appends = (0..50).map(|i| {
        let target = format!("entity-{i}");
        async move {
            stores[i % 2]
                .audit(audit_entry("worker", "entity.read", Some(&target)))
                .await
        }
    });
    let appended = futures::future::join_all(appends).await;
    let mut seqs: Vec<i64> = appended
        .into_iter()
        .map(|entry| entry.expect("audit").seq)
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<i64>>());
    let verified = h.store.verify_audit().await.expect("verify");
    assert_eq!(
        (verified.entries, verified.intact),
        (50, true),
        "{verified:?}"
    );
    let targets: BTreeSet<String> = h
        .store
        .audit_entries(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("entries")
        .into_iter()
        .filter_map(|e| e.entry.target)
        .collect();
    assert_eq!(targets.len(), 50);
}

// ---------------------------------------------------------------------------------------------
// Field encryption

async fn protected_records_round_trip_and_stay_encrypted_at_rest(h: &Harness) {
    let store = h.store.as_ref();
    import(store, cases_request("v1"), [protected_person("victim-1")]).await;
    // A second version changes the record, so that its values carry first-seen dates.
    next_second().await;
    let mut changed = protected_person("victim-1");
    changed.add("alias", "Amina Zerouali-Other").expect("alias");
    let summary = import(store, cases_request("v2"), [changed]).await;
    assert_eq!(summary.changed, 1);
    // An ordinary record beside it stays readable and searchable.
    import(
        store,
        request("public", "v1", ImportMode::Full),
        [person("trafficker-1", "Known Trafficker")],
    )
    .await;

    let held = store.entity("victim-1").await.expect("entity");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].entity.sensitivity, Sensitivity::Protected);
    assert_eq!(held[0].entity.get("name"), [PROTECTED_NAME]);
    assert_eq!(
        held[0].entity.get("alias"),
        ["Amina Z.", "Amina Zerouali-Other"]
    );
    assert_eq!(held[0].entity.get("passportNumber"), ["ZX-9912-TEST"]);
    let statements = store.statements("victim-1").await.expect("statements");
    let dated: BTreeMap<&str, &str> = statements
        .iter()
        .map(|s| (s.value.as_str(), s.provenance.first_seen.as_str()))
        .collect();
    let versions = store.versions("ngo_cases").await.expect("versions");
    assert_eq!(dated[PROTECTED_NAME], versions[0].imported_at);
    assert_eq!(dated["Amina Zerouali-Other"], versions[1].imported_at);
    let streamed = all_entities(store, Some("ngo_cases")).await;
    assert_eq!(streamed[0].entity.get("name"), [PROTECTED_NAME]);
    assert!(
        store
            .search_entities("Amina", None, 10, Sensitivity::Protected)
            .await
            .expect("search")
            .is_empty(),
        "protected names are in no index"
    );
    assert_eq!(
        ids(&store
            .search_entities("trafficker", None, 10, Sensitivity::Public)
            .await
            .expect("search")),
        ["trafficker-1"]
    );
    assert_eq!(
        store.key_usage().await.expect("usage"),
        BTreeMap::from([(1, 1)])
    );

    let secrets = secrets();
    match h.sqlite_path() {
        Some(path) => {
            let wal = path.with_extension("db-wal");
            let wal_bytes = std::fs::read(&wal).expect("the WAL before a checkpoint");
            assert!(!wal_bytes.is_empty());
            assert_eq!(contains_any(&wal_bytes, &secrets), None, "in the WAL");
            h.execute_behind("PRAGMA wal_checkpoint(TRUNCATE)").await;
            let db_bytes = std::fs::read(&path).expect("the database file");
            assert!(db_bytes.len() > 4096);
            assert_eq!(
                contains_any(&db_bytes, &secrets),
                None,
                "in the database file"
            );
            // The public name is there in the clear, so the scan does see stored text.
            assert!(contains_any(&db_bytes, &["Known Trafficker"]).is_some());
        }
        None => {
            let rows = postgres_rows(h).await;
            for (table, row) in &rows {
                assert_eq!(
                    contains_any(row.as_bytes(), &secrets),
                    None,
                    "{table}: {row}"
                );
            }
            assert!(
                rows.iter().any(|(_, row)| row.contains("Known Trafficker")),
                "the scan does see stored text"
            );
        }
    }
}

async fn protected_records_need_the_right_key(h: &Harness) {
    import(
        h.store.as_ref(),
        cases_request("v1"),
        [protected_person("victim-1")],
    )
    .await;
    import(
        h.store.as_ref(),
        request("public", "v1", ImportMode::Full),
        [person("p-1", "Public Person")],
    )
    .await;

    // Without keys: public records as ever, protected ones neither read nor written.
    let keyless = tandem_store::open(&h.url).await.expect("open without keys");
    assert_eq!(keyless.entity("p-1").await.expect("entity").len(), 1);
    assert!(matches!(
        keyless.entity("victim-1").await,
        Err(StoreError::Invalid(ref m)) if m.contains("protected records need a field-encryption key")
    ));
    let mut session = keyless
        .begin_import(cases_request("v2"))
        .await
        .expect("begin");
    assert!(matches!(
        session.put(protected_person("victim-2")).await,
        Err(StoreError::Invalid(ref m)) if m.contains("protected records need a field-encryption key")
    ));
    session.rollback().await.expect("rollback");
    let mut protected_entity = person("victim-3", "Someone");
    protected_entity.sensitivity = Sensitivity::Protected;
    let mut session = keyless
        .begin_import(request("public", "v2", ImportMode::Delta))
        .await
        .expect("begin");
    assert!(session.put(protected_entity).await.is_err());
    session.rollback().await.expect("rollback");

    // With another key (same id, other bytes): a clear error, no panic.
    let stranger = h
        .open_with(KeySource::Text(Keyring::generate().to_text()))
        .await;
    assert!(matches!(
        stranger.entity("victim-1").await,
        Err(StoreError::Crypto(CryptoError::Decrypt))
    ));
    assert!(matches!(
        stranger.statements("victim-1").await,
        Err(StoreError::Crypto(CryptoError::Decrypt))
    ));
    // With a key file that lacks the key id: the reload finds nothing and says which key.
    let other_id = Keyring::parse(
        &Keyring::generate().to_text().replacen("\n1 ", "\n5 ", 1),
        "test",
    )
    .expect("keyring");
    let wrong_id = h.open_with(KeySource::Text(other_id.to_text())).await;
    let streamed: Vec<Result<StoredEntity, StoreError>> =
        futures::StreamExt::collect(wrong_id.entities(None)).await;
    assert_eq!(streamed.len(), 2);
    assert!(
        streamed.iter().any(|r| r.is_ok()),
        "the public record still reads"
    );
    assert!(
        streamed
            .iter()
            .any(|r| matches!(r, Err(StoreError::Crypto(CryptoError::UnknownKey(1)))))
    );
    // The rightful keys still read it.
    assert_eq!(
        h.reopen().await.entity("victim-1").await.expect("entity")[0]
            .entity
            .get("name"),
        [PROTECTED_NAME]
    );
}

async fn keys_rotate_while_the_store_is_in_use(h: &Harness) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key_file = dir.path().join("tandem.keys");
    let serving = h.open_with(KeySource::File(key_file.clone())).await;
    assert!(key_file.exists(), "created with a fresh key");
    // More protected records than one re-encryption batch, and a changed one with dates.
    let victims: Vec<Entity> = (0..450)
        .map(|i| {
            let mut victim = protected_person(&format!("victim-{i:03}"));
            victim.add("alias", &format!("Case {i}")).expect("alias");
            victim
        })
        .collect();
    import(serving.as_ref(), cases_request("v1"), victims.clone()).await;
    let mut v2 = victims.clone();
    v2[7].add("alias", "Later Alias").expect("alias");
    import(serving.as_ref(), cases_request("v2"), v2).await;
    import(
        serving.as_ref(),
        request("public", "v1", ImportMode::Full),
        [person("p-1", "Public Person")],
    )
    .await;
    assert_eq!(
        serving.key_usage().await.expect("usage"),
        BTreeMap::from([(1, 450)])
    );
    let before = snapshot(serving.as_ref()).await;

    // `tandem keys rotate` in another process.
    let rotator = h.open_with(KeySource::File(key_file.clone())).await;
    let rotated = Keyring::load_or_create(&key_file).expect("keys").rotated();
    rotated.save(&key_file).expect("save");
    rotator.reload_keys().await.expect("reload");
    assert_eq!(rotator.reencrypt().await.expect("reencrypt"), 450);
    assert_eq!(
        rotator.key_usage().await.expect("usage"),
        BTreeMap::from([(2, 450)])
    );
    assert_eq!(rotator.reencrypt().await.expect("again"), 0, "nothing left");
    rotated
        .without(1)
        .save(&key_file)
        .expect("drop the old key");

    // The serving store still holds key 1 only: it meets key 2, reloads, and reads on.
    assert_eq!(snapshot(serving.as_ref()).await, before);
    let fresh = h.open_with(KeySource::File(key_file.clone())).await;
    assert_eq!(snapshot(fresh.as_ref()).await, before);
    let later = fresh.statements("victim-007").await.expect("statements");
    assert!(later.iter().any(|s| s.value == "Later Alias"));
    // New writes use the new key.
    import(
        serving.as_ref(),
        cases_request("v3"),
        [protected_person("victim-new")],
    )
    .await;
    let usage = serving.key_usage().await.expect("usage");
    assert_eq!(
        usage,
        BTreeMap::from([(2, 1)]),
        "a full import of one record"
    );

    // Re-encryption without keys is refused.
    let keyless = tandem_store::open(&h.url).await.expect("open");
    assert!(matches!(
        keyless.reencrypt().await,
        Err(StoreError::Invalid(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Owners and search

async fn the_owner_organisation_travels_with_the_dataset(h: &Harness) {
    let store = h.store.as_ref();
    let ngo = organisation(store, "ngo").await;
    let mut owned = cases_request("v1");
    owned.owner_organisation = Some(ngo);
    import(
        store,
        owned,
        [
            protected_person("victim-1"),
            entity(
                "Family",
                "fam-1",
                &[("person", "victim-1"), ("relative", "p-1")],
            ),
        ],
    )
    .await;
    import(
        store,
        request("public", "v1", ImportMode::Full),
        [person("p-1", "Public Person")],
    )
    .await;
    let datasets = store.datasets().await.expect("datasets");
    assert_eq!(
        summary_of(&datasets, "ngo_cases").owner_organisation,
        Some(ngo)
    );
    assert_eq!(summary_of(&datasets, "public").owner_organisation, None);
    assert_eq!(
        store.entity("victim-1").await.expect("entity")[0].owner_organisation,
        Some(ngo)
    );
    assert_eq!(
        store.entity("p-1").await.expect("entity")[0].owner_organisation,
        None
    );
    let referencing = store.referencing("p-1").await.expect("referencing");
    assert_eq!(referencing[0].owner_organisation, Some(ngo));
    let owners: Vec<Option<i64>> = all_entities(store, None)
        .await
        .into_iter()
        .map(|s| s.owner_organisation)
        .collect();
    assert_eq!(owners, [Some(ngo), None, Some(ngo)]);
    // A later import that names no owner keeps it.
    import(store, cases_request("v2"), [protected_person("victim-1")]).await;
    let datasets = store.datasets().await.expect("datasets");
    assert_eq!(
        summary_of(&datasets, "ngo_cases").owner_organisation,
        Some(ngo)
    );
}

fn search_fixture() -> Vec<Entity> {
    let mut ermias = entity(
        "Person",
        "ermias",
        &[
            ("name", "Ermias Ghermay"),
            ("alias", "Ermias Ghirmay"),
            ("idNumber", "ER-5521"),
        ],
    );
    ermias.add("nationality", "er").expect("nationality");
    vec![
        ermias,
        entity("Person", "ermiasz", &[("name", "Érmïas Zérouali")]),
        entity("Person", "ermias-son", &[("name", "Ermias")]),
        entity("Person", "berm", &[("name", "Bermias Otto")]),
        entity(
            "Company",
            "ermias-co",
            &[
                ("name", "Ermias Trading Ltd"),
                ("registrationNumber", "C-77_31%"),
            ],
        ),
        entity("Vessel", "ship", &[("name", "Ermias Star")]),
    ]
}

async fn search_finds_names_and_identifiers_folded(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("fixture", "v1", ImportMode::Full),
        search_fixture(),
    )
    .await;
    import(
        store,
        request("parteispenden", "v1", ImportMode::Full),
        parteispenden(),
    )
    .await;
    let search = |text: &'static str| async move {
        store
            .search_entities(text, None, 20, Sensitivity::Public)
            .await
            .expect("search")
    };
    // By alias, by identifier, in any case.
    assert_eq!(ids(&search("ghirmay").await), ["ermias"]);
    assert_eq!(ids(&search("GHIRMAY ermias").await), ["ermias"]);
    assert_eq!(ids(&search("er-5521").await), ["ermias"]);
    assert_eq!(ids(&search("c-77_31%").await), ["ermias-co"]);
    // Accents fold both ways.
    assert_eq!(ids(&search("Ermias Zerouali").await), ["ermiasz"]);
    assert_eq!(ids(&search("ZÉROUALI").await), ["ermiasz"]);
    assert_eq!(ids(&search("Ghérmáy").await), ["ermias"]);
    // Words in any order, each somewhere in one name.
    assert_eq!(ids(&search("ghermay ermias").await), ["ermias"]);
    assert!(search("ghermay zerouali").await.is_empty());
    // Real data: the donor of the file's first payment, under a spelling the file lacks, and
    // every record of the file that mentions her by a name-typed property.
    let donor = "f9c295f21b233ac878fbac4d271bb6fd13d7952a";
    let found = store
        .search_entities("LINA dächner", Some("Person"), 20, Sensitivity::Public)
        .await
        .expect("search");
    assert_eq!(ids(&found), [donor]);
    assert_eq!(found[0].dataset, "parteispenden");
    assert_eq!(found[0].entity.get("name"), ["Frau Lina Dachner"]);
    let mentioning: BTreeSet<String> = parteispenden_json()
        .iter()
        .filter(|record| {
            ["name", "alias", "namesMentioned"].iter().any(|prop| {
                record["properties"][prop]
                    .as_array()
                    .is_some_and(|values| values.iter().any(|v| v == "Frau Lina Dachner"))
            })
        })
        .map(|record| record["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(mentioning.len(), 2, "the donor and her payment");
    let found: BTreeSet<String> = search("LINA dächner")
        .await
        .into_iter()
        .map(|s| s.entity.id)
        .collect();
    assert_eq!(found, mentioning);
}

async fn search_respects_schema_ceiling_and_rank(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("fixture", "v1", ImportMode::Full),
        search_fixture(),
    )
    .await;
    let mut intel = request("intel", "v1", ImportMode::Full);
    intel.sensitivity = Sensitivity::Restricted;
    import(
        store,
        intel,
        [person("informant-ermias", "Ermias Informant")],
    )
    .await;
    let mut protected = protected_person("victim-ermias");
    protected.add("alias", "Ermias Victim").expect("alias");
    import(store, cases_request("v1"), [protected]).await;

    // Exact name first, then names starting with the text, then the rest (by id).
    let all = store
        .search_entities("ermias", None, 50, Sensitivity::Restricted)
        .await
        .expect("search");
    assert_eq!(
        ids(&all),
        [
            "ermias-son",
            "ermias",
            "ermias-co",
            "ermiasz",
            "informant-ermias",
            "ship",
            "berm"
        ]
    );
    let public = store
        .search_entities("ermias", None, 50, Sensitivity::Public)
        .await
        .expect("search");
    assert!(
        !ids(&public).contains(&"informant-ermias"),
        "above the ceiling"
    );
    assert_eq!(public.len(), 6);
    let with_protected = store
        .search_entities("ermias", None, 50, Sensitivity::Protected)
        .await
        .expect("search");
    assert_eq!(
        ids(&with_protected),
        ids(&all),
        "protected records are never found"
    );

    let people = store
        .search_entities("ermias", Some("Person"), 50, Sensitivity::Public)
        .await
        .expect("search");
    assert_eq!(ids(&people), ["ermias-son", "ermias", "ermiasz", "berm"]);
    let legal = store
        .search_entities("ermias", Some("LegalEntity"), 50, Sensitivity::Public)
        .await
        .expect("search");
    assert_eq!(
        ids(&legal),
        ["ermias-son", "ermias", "ermias-co", "ermiasz", "berm"],
        "a schema and those derived from it"
    );
    let limited = store
        .search_entities("ermias", None, 2, Sensitivity::Public)
        .await
        .expect("search");
    assert_eq!(ids(&limited), ["ermias-son", "ermias"]);
    assert!(
        store
            .search_entities("ermias", None, 0, Sensitivity::Public)
            .await
            .expect("search")
            .is_empty()
    );
    assert!(matches!(
        store
            .search_entities("ermias", Some("Starship"), 5, Sensitivity::Public)
            .await,
        Err(StoreError::Invalid(_))
    ));
}

async fn the_names_table_in_memory_searches_as_the_store_does(h: &Harness) {
    let store = h.store.as_ref();
    assert_eq!(store.latest_version_id().await.expect("version"), None);
    import(
        store,
        request("fixture", "v1", ImportMode::Full),
        search_fixture(),
    )
    .await;
    let first = store.latest_version_id().await.expect("version");
    assert!(first.is_some());
    let mut intel = request("intel", "v1", ImportMode::Full);
    intel.sensitivity = Sensitivity::Restricted;
    import(
        store,
        intel,
        [person("informant-ermias", "Ermias Informant")],
    )
    .await;
    let mut protected = protected_person("victim-ermias");
    protected.add("alias", "Ermias Victim").expect("alias");
    import(store, cases_request("v1"), [protected]).await;
    import(
        store,
        request("parteispenden", "v1", ImportMode::Full),
        parteispenden(),
    )
    .await;
    assert!(store.latest_version_id().await.expect("version") > first);

    let table = store.name_table().await.expect("names");
    assert!(!table.is_empty());
    let queries = [
        "ermias",
        "GHIRMAY ermias",
        "er-5521",
        "c-77_31%",
        "ZÉROUALI",
        "LINA dächner",
        "ghermay zerouali",
        "e",
        "   ",
        "victim",
    ];
    for text in queries {
        for schema in [None, Some("Person"), Some("LegalEntity")] {
            for ceiling in Sensitivity::ALL {
                for limit in [0, 1, 2, 50] {
                    let from_store = store
                        .search_entities(text, schema, limit, ceiling)
                        .await
                        .expect("search");
                    let in_memory: Vec<(&str, &str)> = table
                        .search(text, schema, limit, ceiling)
                        .expect("search")
                        .into_iter()
                        .map(|row| (row.dataset.as_str(), row.entity_id.as_str()))
                        .collect();
                    let expected: Vec<(&str, &str)> = from_store
                        .iter()
                        .map(|s| (s.dataset.as_str(), s.entity.id.as_str()))
                        .collect();
                    assert_eq!(
                        in_memory, expected,
                        "{text:?} {schema:?} {ceiling:?} {limit}"
                    );
                }
            }
        }
    }
    assert!(
        table
            .search("x", Some("Starship"), 5, Sensitivity::Public)
            .is_err()
    );
}

async fn search_takes_any_text(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("fixture", "v1", ImportMode::Full),
        search_fixture(),
    )
    .await;
    let long_word = "x".repeat(10_000);
    let many_words = "ermias ".repeat(1_500);
    let odd: String = (0..3000)
        .map(|i| char::from_u32(i * 37 % 0x2FFF + 1).unwrap_or('?'))
        .collect();
    for text in [
        "%_'\"\\;",
        "%",
        "_",
        "'; DROP TABLE entities; --",
        "\\",
        "ermias%",
        "\0",
        "",
        "   ",
        long_word.as_str(),
        many_words.as_str(),
        odd.as_str(),
    ] {
        let found = store
            .search_entities(text, None, 10, Sensitivity::Restricted)
            .await
            .unwrap_or_else(|err| panic!("{:?}: {err}", text.chars().take(40).collect::<String>()));
        if text.starts_with("ermias ") {
            assert_eq!(found.len(), 6, "repeated words are one word");
        } else if text == "%" || text == "_" {
            // Taken literally: only the registration number C-77_31% holds them.
            assert_eq!(ids(&found), ["ermias-co"]);
        } else {
            assert!(
                found.is_empty(),
                "{:?}",
                text.chars().take(40).collect::<String>()
            );
        }
    }
    assert_eq!(
        store.entity("ermias").await.expect("entity").len(),
        1,
        "still there"
    );
}

async fn search_follows_new_versions(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("fixture", "v1", ImportMode::Full),
        search_fixture(),
    )
    .await;
    let mut v2 = search_fixture();
    v2.retain(|e| e.id != "ship");
    if let Some(ermias) = v2.iter_mut().find(|e| e.id == "ermias") {
        ermias
            .properties
            .insert("alias".into(), vec!["Walid Renamed".into()]);
    }
    // A record that becomes protected leaves the index.
    if let Some(berm) = v2.iter_mut().find(|e| e.id == "berm") {
        berm.sensitivity = Sensitivity::Protected;
    }
    let summary = import(store, request("fixture", "v2", ImportMode::Full), v2).await;
    assert_eq!((summary.changed, summary.removed, summary.kept), (2, 1, 3));
    let search = |text: &'static str| async move {
        ids(&store
            .search_entities(text, None, 20, Sensitivity::Protected)
            .await
            .expect("search"))
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<String>>()
    };
    assert!(search("ghirmay").await.is_empty(), "the old alias is gone");
    assert_eq!(search("walid").await, ["ermias"]);
    assert_eq!(search("ghermay").await, ["ermias"], "the name stays");
    assert!(
        search("star").await.is_empty(),
        "the removed vessel is gone"
    );
    assert!(search("bermias").await.is_empty(), "now protected");
    assert_eq!(
        search("zerouali").await,
        ["ermiasz"],
        "kept entities keep their names"
    );
    // A delta removes too.
    let mut session = store
        .begin_import(request("fixture", "v3", ImportMode::Delta))
        .await
        .expect("begin");
    session.delete("ermiasz").await.expect("delete");
    session.commit().await.expect("commit");
    assert!(search("zerouali").await.is_empty());
}

async fn the_names_index_is_built_for_an_older_store(h: &Harness) {
    import(
        h.store.as_ref(),
        request("fixture", "v1", ImportMode::Full),
        search_fixture(),
    )
    .await;
    import(
        h.store.as_ref(),
        cases_request("v1"),
        [protected_person("victim-1")],
    )
    .await;
    // A store from before the index: no names, no mark that the index is complete.
    h.execute_behind("DELETE FROM entity_names").await;
    h.execute_behind("DELETE FROM store_meta").await;
    assert!(
        h.store
            .search_entities("ermias", None, 10, Sensitivity::Public)
            .await
            .expect("search")
            .is_empty()
    );
    let reopened = h.reopen().await;
    let found = reopened
        .search_entities("ermias", None, 10, Sensitivity::Public)
        .await
        .expect("search");
    assert_eq!(found.len(), 6);
    assert!(
        reopened
            .search_entities("amina", None, 10, Sensitivity::Protected)
            .await
            .expect("search")
            .is_empty()
    );

    // Protected records stored in the clear by an older store are sealed when keys open it.
    let properties = r#"{"name":["Amina Zerouali-Cleartext"]}"#;
    h.execute_behind(&format!(
        "UPDATE entities SET properties = '{properties}', key_id = NULL, value_first_seen = NULL \
         WHERE entity_id = 'victim-1'"
    ))
    .await;
    let upgraded = h.reopen().await;
    assert_eq!(
        upgraded.key_usage().await.expect("usage"),
        BTreeMap::from([(1, 1)])
    );
    let held = upgraded.entity("victim-1").await.expect("entity");
    assert_eq!(held[0].entity.get("name"), ["Amina Zerouali-Cleartext"]);
    if let Some(path) = h.sqlite_path() {
        // VACUUM drops the pages that held the clear text; the checkpoint writes the result back.
        h.execute_behind("VACUUM").await;
        h.execute_behind("PRAGMA wal_checkpoint(TRUNCATE)").await;
        let bytes = std::fs::read(path).expect("database file");
        assert_eq!(contains_any(&bytes, &["Zerouali-Cleartext"]), None);
    } else {
        let rows = postgres_rows(h).await;
        assert!(
            rows.iter()
                .all(|(_, row)| !row.contains("Zerouali-Cleartext"))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Not per backend

#[tokio::test]
async fn create_postgres_database_gives_a_fresh_database() {
    let server = match std::env::var("TANDEM_TEST_POSTGRES") {
        Ok(value) if value == "skip" => return,
        Ok(value) => value,
        Err(_) => panic!("TANDEM_TEST_POSTGRES is not set (see common/mod.rs)"),
    };
    let name = format!("tandem_store_fresh_{}", std::process::id());
    let url = tandem_store::testing::create_postgres_database(&server, &name)
        .await
        .expect("create");
    assert!(url.contains(&name));
    let store = tandem_store::open(&url).await.expect("open");
    assert!(store.datasets().await.expect("datasets").is_empty());
    assert!(store.verify_audit().await.expect("verify").intact);
    drop(store);
    assert!(
        tandem_store::testing::create_postgres_database(&server, &name)
            .await
            .is_err(),
        "it exists now"
    );
    assert!(matches!(
        tandem_store::testing::create_postgres_database(&server, "bad\"; DROP").await,
        Err(StoreError::Invalid(_))
    ));
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&server).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop");
}
