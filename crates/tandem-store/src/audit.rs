//! The audit log: append-only (triggers refuse updates and deletes) and hash-chained, so that
//! whoever gets past the triggers still cannot alter or remove an entry unseen.
//!
//! Entry `n` stores `prev_hash` (entry `n-1`'s hash, 64 zeros for the first) and
//! `hash = SHA-256(prev_hash · "\n" · canonical fields)`, where the canonical fields are the JSON
//! array `[seq, at, actor_user_id, actor, organisation_id, action, target, outcome, detail,
//! remote_addr]` with `detail` as the exact JSON text stored. Sequence numbers are given under
//! the append lock, one more than the last, so a missing number is a removed entry.

use sha2::{Digest, Sha256};

use crate::db::{Pool, Scalar, fetch_bound, on_pool};
use crate::security::{
    AuditEntry, AuditFilter, AuditHead, AuditOutcome, AuditVerification, NewAuditEntry,
};
use crate::{Result, StoreError};

/// The `prev_hash` of the first entry.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entries read per round trip when verifying.
const VERIFY_PAGE: i64 = 1000;
/// Entries listed when a filter asks for none in particular, and at most.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 10_000;

/// The first key of the PostgreSQL advisory lock that serialises appends (see postgres.rs for
/// the import locks' class).
const AUDIT_LOCK_CLASS: i32 = 0x7464_6d02;

pub(crate) fn outcome_str(outcome: AuditOutcome) -> &'static str {
    match outcome {
        AuditOutcome::Ok => "ok",
        AuditOutcome::Denied => "denied",
        AuditOutcome::Failed => "failed",
    }
}

fn outcome_from_str(text: &str) -> Option<AuditOutcome> {
    [AuditOutcome::Ok, AuditOutcome::Denied, AuditOutcome::Failed]
        .into_iter()
        .find(|o| outcome_str(*o) == text)
}

macro_rules! audit_columns {
    () => {
        "seq, at, actor_user_id, actor, organisation_id, action, target, outcome, detail, \
         remote_addr, prev_hash, hash"
    };
}

/// An entry as stored: text as it is, so that the hash is checked over exactly what is there.
#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: String,
    actor_user_id: Option<i64>,
    actor: String,
    organisation_id: Option<i64>,
    action: String,
    target: Option<String>,
    outcome: String,
    detail: String,
    remote_addr: Option<String>,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn computed_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            &Hashed {
                seq: self.seq,
                at: &self.at,
                actor_user_id: self.actor_user_id,
                actor: &self.actor,
                organisation_id: self.organisation_id,
                action: &self.action,
                target: self.target.as_deref(),
                outcome: &self.outcome,
                detail: &self.detail,
                remote_addr: self.remote_addr.as_deref(),
            },
        )
    }

    fn into_entry(self) -> Result<AuditEntry> {
        let corrupt = |what: &str, err: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("audit entry {}, {what}: {err}", self.seq))
        };
        let outcome = outcome_from_str(&self.outcome)
            .ok_or_else(|| corrupt("outcome", &format!("unknown outcome {:?}", self.outcome)))?;
        let detail = serde_json::from_str(&self.detail).map_err(|err| corrupt("detail", &err))?;
        Ok(AuditEntry {
            seq: self.seq,
            at: self.at,
            entry: NewAuditEntry {
                actor_user_id: self.actor_user_id,
                actor: self.actor,
                organisation_id: self.organisation_id,
                action: self.action,
                target: self.target,
                outcome,
                detail,
                remote_addr: self.remote_addr,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// The fields an entry's hash covers.
struct Hashed<'a> {
    seq: i64,
    at: &'a str,
    actor_user_id: Option<i64>,
    actor: &'a str,
    organisation_id: Option<i64>,
    action: &'a str,
    target: Option<&'a str>,
    outcome: &'a str,
    detail: &'a str,
    remote_addr: Option<&'a str>,
}

fn entry_hash(prev_hash: &str, fields: &Hashed<'_>) -> String {
    // A JSON array quotes and escapes every text, so no two different entries serialise alike.
    let canonical = serde_json::json!([
        fields.seq,
        fields.at,
        fields.actor_user_id,
        fields.actor,
        fields.organisation_id,
        fields.action,
        fields.target,
        fields.outcome,
        fields.detail,
        fields.remote_addr,
    ])
    .to_string();
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

const LAST_ENTRY: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
const INSERT_ENTRY: &str = concat!(
    "INSERT INTO audit_log (",
    audit_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
);

/// The append itself, the same SQL on both backends once the lock is held (`$tx` is the open
/// transaction).
macro_rules! append_in {
    ($tx:ident, $entry:ident, $detail:ident) => {{
        let last: Option<(i64, String)> =
            sqlx::query_as(LAST_ENTRY).fetch_optional(&mut *$tx).await?;
        let (seq, prev_hash) = match last {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        // Taken under the lock, so that times follow the order of the chain.
        let at = tandem_core::time::now_iso();
        let outcome = outcome_str($entry.outcome);
        let hash = entry_hash(
            &prev_hash,
            &Hashed {
                seq,
                at: &at,
                actor_user_id: $entry.actor_user_id,
                actor: &$entry.actor,
                organisation_id: $entry.organisation_id,
                action: &$entry.action,
                target: $entry.target.as_deref(),
                outcome,
                detail: &$detail,
                remote_addr: $entry.remote_addr.as_deref(),
            },
        );
        sqlx::query(INSERT_ENTRY)
            .bind(seq)
            .bind(&at)
            .bind($entry.actor_user_id)
            .bind(&$entry.actor)
            .bind($entry.organisation_id)
            .bind(&$entry.action)
            .bind($entry.target.as_deref())
            .bind(outcome)
            .bind(&$detail)
            .bind($entry.remote_addr.as_deref())
            .bind(&prev_hash)
            .bind(&hash)
            .execute(&mut *$tx)
            .await?;
        $tx.commit().await?;
        (seq, at, prev_hash, hash)
    }};
}

pub(crate) async fn append(pool: &Pool, entry: NewAuditEntry) -> Result<AuditEntry> {
    if entry.action.trim().is_empty() {
        return Err(StoreError::Invalid("an audit entry needs an action".into()));
    }
    let detail = serde_json::to_string(&entry.detail)
        .map_err(|err| StoreError::Invalid(format!("audit detail: {err}")))?;
    let (seq, at, prev_hash, hash) = match pool {
        Pool::Sqlite(pool) => {
            // The write lock before the last hash is read: one appender at a time.
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            append_in!(tx, entry, detail)
        }
        Pool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            // Several servers share the database: they queue here, until each one's commit.
            sqlx::query(
                "SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '') || '/audit'))",
            )
            .bind(AUDIT_LOCK_CLASS)
            .execute(&mut *tx)
            .await?;
            append_in!(tx, entry, detail)
        }
    };
    Ok(AuditEntry {
        seq,
        at,
        entry,
        prev_hash,
        hash,
    })
}

/// The conditions of a query built at run time, with their values in placeholder order.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    values: Vec<Scalar>,
}

impl Conditions {
    /// Adds `template` with each `{}` standing for the next of `values`.
    fn add(&mut self, template: &str, values: Vec<Scalar>) {
        let mut sql = String::new();
        let mut parts = template.split("{}");
        if let Some(first) = parts.next() {
            sql.push_str(first);
        }
        for (part, value) in parts.zip(values) {
            self.values.push(value);
            sql.push_str(&format!("${}", self.values.len()));
            sql.push_str(part);
        }
        self.sql.push(sql);
    }
}

pub(crate) async fn entries(pool: &Pool, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut conditions = Conditions::default();
    if let Some(actor) = &filter.actor {
        conditions.add("actor = {}", vec![Scalar::Text(actor.clone())]);
    }
    if let Some(prefix) = &filter.action_prefix {
        // substr rather than LIKE: exact and case-sensitive on both backends, no wildcards.
        let length = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
        conditions.add(
            "substr(action, 1, CAST({} AS INTEGER)) = {}",
            vec![Scalar::Int(length), Scalar::Text(prefix.clone())],
        );
    }
    if let Some(target) = &filter.target {
        conditions.add("target = {}", vec![Scalar::Text(target.clone())]);
    }
    if let Some(outcome) = filter.outcome {
        let outcome = outcome_str(outcome).to_string();
        conditions.add("outcome = {}", vec![Scalar::Text(outcome)]);
    }
    if let Some(since) = &filter.since {
        conditions.add("at >= {}", vec![Scalar::Text(since.clone())]);
    }
    if let Some(until) = &filter.until {
        conditions.add("at <= {}", vec![Scalar::Text(until.clone())]);
    }
    if let Some(before) = filter.before_seq {
        conditions.add("seq < {}", vec![Scalar::Int(before)]);
    }
    let limit = match filter.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let Conditions { sql, mut values } = conditions;
    values.push(Scalar::Int(i64::from(limit)));
    let filter_sql = if sql.is_empty() {
        String::new()
    } else {
        format!("WHERE {} ", sql.join(" AND "))
    };
    let sql = format!(
        "SELECT {} FROM audit_log {filter_sql}ORDER BY seq DESC LIMIT ${}",
        audit_columns!(),
        values.len()
    );
    let rows: Vec<AuditRow> = fetch_bound(pool, sql, values).await?;
    rows.into_iter().map(AuditRow::into_entry).collect()
}

const VERIFY_PAGE_SQL: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
);

/// Walks the chain a page at a time and stops at the first break.
pub(crate) async fn verify(pool: &Pool) -> Result<AuditVerification> {
    let mut entries = 0u64;
    let mut last_seq = 0i64;
    let mut last_hash = GENESIS.to_string();
    loop {
        let page: Vec<AuditRow> = on_pool!(pool, |pool| sqlx::query_as(VERIFY_PAGE_SQL)
            .bind(last_seq)
            .bind(VERIFY_PAGE)
            .fetch_all(pool)
            .await?);
        let full = page.len() as i64 == VERIFY_PAGE;
        for row in page {
            entries += 1;
            if let Some(problem) = break_at(&row, last_seq, &last_hash) {
                return Ok(AuditVerification {
                    entries,
                    intact: false,
                    first_broken_seq: Some(row.seq),
                    problem: Some(problem),
                    head: None,
                });
            }
            last_seq = row.seq;
            last_hash = row.hash;
        }
        if !full {
            return Ok(AuditVerification {
                entries,
                intact: true,
                first_broken_seq: None,
                problem: None,
                head: (entries > 0).then(|| AuditHead {
                    seq: last_seq,
                    hash: last_hash.clone(),
                }),
            });
        }
    }
}

/// What is wrong with `row` as the successor of the entry `last_seq` whose hash is `last_hash`.
fn break_at(row: &AuditRow, last_seq: i64, last_hash: &str) -> Option<String> {
    let expected = last_seq + 1;
    if row.seq != expected {
        let missing = if row.seq == expected + 1 {
            format!("entry {expected} is missing")
        } else {
            format!("entries {expected} to {} are missing", row.seq - 1)
        };
        return Some(format!(
            "{missing}: the chain breaks before entry {}",
            row.seq
        ));
    }
    if row.prev_hash != last_hash {
        return Some(format!(
            "entry {} does not follow the entry before it (its prev_hash differs from that \
             entry's hash): an entry was altered or replaced",
            row.seq
        ));
    }
    if row.computed_hash() != row.hash {
        return Some(format!(
            "entry {} was altered: its hash does not match its contents",
            row.seq
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, prev_hash: &str, detail: &str) -> AuditRow {
        let mut row = AuditRow {
            seq,
            at: "2026-01-01T00:00:00Z".into(),
            actor_user_id: Some(1),
            actor: "admin".into(),
            organisation_id: None,
            action: "login".into(),
            target: None,
            outcome: "ok".into(),
            detail: detail.into(),
            remote_addr: Some("127.0.0.1".into()),
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        row.hash = row.computed_hash();
        row
    }

    #[test]
    fn each_field_and_the_previous_hash_change_the_hash() {
        let first = row(1, GENESIS, "{}");
        assert_eq!(first.hash.len(), 64);
        assert_ne!(row(1, GENESIS, "{\"a\":1}").hash, first.hash);
        assert_ne!(row(2, GENESIS, "{}").hash, first.hash);
        assert_ne!(row(1, &first.hash, "{}").hash, first.hash);
        let mut other = row(1, GENESIS, "{}");
        other.target = Some(String::new());
        assert_ne!(other.computed_hash(), first.hash, "None and \"\" differ");
        other.target = None;
        other.actor = "admin\",\"x".into();
        assert_ne!(other.computed_hash(), first.hash);
    }

    #[test]
    fn breaks_are_named_by_the_entry_after_them() {
        let first = row(1, GENESIS, "{}");
        assert_eq!(break_at(&first, 0, GENESIS), None);
        let second = row(2, &first.hash, "{}");
        assert_eq!(break_at(&second, 1, &first.hash), None);
        let third = row(3, &second.hash, "{}");
        let gap = break_at(&third, 1, &first.hash).expect("a gap");
        assert!(gap.contains("entry 2 is missing"), "{gap}");
        let mut altered = row(2, &first.hash, "{}");
        altered.detail = "{\"changed\":true}".into();
        let problem = break_at(&altered, 1, &first.hash).expect("altered");
        assert!(problem.contains("entry 2 was altered"), "{problem}");
        let relinked = row(2, GENESIS, "{}");
        assert!(break_at(&relinked, 1, &first.hash).is_some());
        assert!(
            break_at(&row(2, GENESIS, "{}"), 0, GENESIS).is_some_and(|p| p.contains("entry 1"))
        );
    }
}
