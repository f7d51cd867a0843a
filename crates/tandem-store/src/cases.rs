//! The protection store: victims' cases with their events, consents, identification
//! assessments and coded testimonies ([`CaseStore`]).
//!
//! Everything that describes the person is sealed before it reaches the database: each row keeps
//! one `body` column of JSON encrypted with the store's [`Keyring`](crate::crypto::Keyring),
//! whose associated data names the table and the case, so a ciphertext moved to another case or
//! table does not open. What stays in the clear is metadata that the workflow and the access
//! check need without decrypting anything: a random opaque case id, the owning organisation,
//! the state, dates, the retention deadline, event kinds, consent scopes and the version and
//! hash of the indicator catalogue an assessment used.
//!
//! The store keeps the content as JSON it does not interpret: what a case, an assessment or a
//! testimony holds is the domain's business (`tandem-protect`), which this crate may not use.
//!
//! Erasure deletes the case's rows and appends a tombstone (case id, organisation, who, when,
//! why; no content) to the audit log — first, so that no erasure ever goes unrecorded.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::Generate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::Keyring;
use crate::db::{Pool, on_pool};
use crate::protect::Keys;
use crate::security::{AuditEntry, NewAuditEntry};
use crate::store::SqlStore;
use crate::{Result, StoreError, audit};

/// A case as the workflow sees it: no protected content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CaseMeta {
    /// Random and opaque (`case-` and 16 hex digits): a pseudonym, not a sequence number.
    pub id: String,
    pub organisation_id: i64,
    pub state: String,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
    /// After this instant the case is due for erasure (unless its owner extends it).
    pub retention_until: String,
}

/// A case with its protected details (decrypted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    #[serde(flatten)]
    pub meta: CaseMeta,
    pub details: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub organisation_id: i64,
    pub created_by: i64,
    pub state: String,
    pub retention_until: String,
    /// Protected: sealed before it is stored.
    pub details: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCaseEvent {
    pub actor_user_id: i64,
    /// `state`, `referral`, `service`, `retention`, … (clear: it names no one).
    pub kind: String,
    /// Protected: sealed before it is stored.
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub id: i64,
    pub case_id: String,
    pub at: String,
    pub actor_user_id: i64,
    pub kind: String,
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewConsent {
    pub recorded_by: i64,
    /// `interview`, `storage`, `referral`, `sharing`, `research`, `intelligence`, …
    pub scope: String,
    /// False records a refusal or a withdrawal.
    pub given: bool,
    /// Protected: who explained, interpreter, language, lawful basis, named services…
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub id: i64,
    pub case_id: String,
    pub scope: String,
    pub given: bool,
    pub at: String,
    pub recorded_by: i64,
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAssessment {
    pub assessed_by: i64,
    pub catalogue_version: String,
    pub catalogue_sha256: String,
    /// Protected: the answers and the evaluation.
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRecord {
    pub id: i64,
    pub case_id: String,
    pub at: String,
    pub assessed_by: i64,
    pub catalogue_version: String,
    pub catalogue_sha256: String,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTestimony {
    pub coded_by: i64,
    /// Protected: the coding, and the links to the intelligence it produced.
    pub coding: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestimonyRecord {
    pub id: i64,
    pub case_id: String,
    pub at: String,
    pub coded_by: i64,
    pub coding: Value,
}

/// Everything stored about one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFile {
    pub case: CaseRecord,
    /// Oldest first, as are the other lists.
    pub events: Vec<CaseEvent>,
    pub consents: Vec<ConsentRecord>,
    pub assessments: Vec<AssessmentRecord>,
    pub testimonies: Vec<TestimonyRecord>,
}

impl CaseFile {
    /// The latest consent record of `scope`, if any.
    pub fn consent(&self, scope: &str) -> Option<&ConsentRecord> {
        self.consents.iter().rev().find(|c| c.scope == scope)
    }

    /// Whether the latest record of `scope` gives consent (a withdrawal after it takes it back).
    pub fn has_consent(&self, scope: &str) -> bool {
        self.consent(scope).is_some_and(|c| c.given)
    }
}

/// A change to a case, written at once with its event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseChange {
    /// `(from, to)`: refused when the case is no longer in `from` (someone else moved it).
    pub state: Option<(String, String)>,
    pub details: Option<Value>,
    pub retention_until: Option<String>,
    pub event: Option<NewCaseEvent>,
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Creates a case with a random id, and its first event (`state`, `{"to": state}`).
    async fn create_case(&self, case: NewCase) -> Result<CaseRecord>;
    /// The clear metadata of a case, without decrypting anything (for the access check).
    async fn case_meta(&self, id: &str) -> Result<Option<CaseMeta>>;
    /// Cases of one organisation (or all), most recently changed first; metadata only.
    async fn cases(&self, organisation_id: Option<i64>) -> Result<Vec<CaseMeta>>;
    /// The whole case, decrypted.
    async fn case_file(&self, id: &str) -> Result<Option<CaseFile>>;
    /// Every case of one organisation (or all), decrypted, for aggregates.
    async fn case_files(&self, organisation_id: Option<i64>) -> Result<Vec<CaseFile>>;
    /// Applies `change` in one transaction. `NotFound` for an unknown case; `Invalid` when the
    /// state is no longer the expected one.
    async fn update_case(&self, id: &str, change: CaseChange) -> Result<CaseRecord>;
    async fn add_case_event(&self, id: &str, event: NewCaseEvent) -> Result<CaseEvent>;
    async fn record_consent(&self, id: &str, consent: NewConsent) -> Result<ConsentRecord>;
    async fn add_assessment(&self, id: &str, assessment: NewAssessment)
    -> Result<AssessmentRecord>;
    async fn add_testimony(&self, id: &str, testimony: NewTestimony) -> Result<TestimonyRecord>;
    /// Appends `tombstone` to the audit log, then deletes every row of the case. The tombstone
    /// must carry no content (the caller builds it: case id, organisation, reason).
    async fn erase_case(&self, id: &str, tombstone: NewAuditEntry) -> Result<AuditEntry>;
    /// Cases whose retention deadline is before `now` (ISO text), oldest deadline first.
    async fn cases_due_for_erasure(&self, now: &str) -> Result<Vec<CaseMeta>>;
    /// A 32-byte secret of the protection side (e.g. `intelligence`: the key of the opaque
    /// references from intelligence to testimonies), created at random on first use and kept
    /// sealed under the field-encryption keys.
    async fn protection_secret(&self, name: &str) -> Result<Vec<u8>>;
}

// ---------------------------------------------------------------------------------------------
// Sealing

/// The tables with sealed bodies; part of the associated data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Table {
    Cases,
    Events,
    Consents,
    Assessments,
    Testimonies,
    /// Not case data: sealed like it, with the secret's name in place of the case id.
    Secrets,
}

impl Table {
    const ALL: [Table; 6] = [
        Table::Cases,
        Table::Events,
        Table::Consents,
        Table::Assessments,
        Table::Testimonies,
        Table::Secrets,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::Cases => "cases",
            Table::Events => "case_events",
            Table::Consents => "case_consents",
            Table::Assessments => "case_assessments",
            Table::Testimonies => "case_testimonies",
            Table::Secrets => "protection_secrets",
        }
    }
}

fn associated(table: Table, case_id: &str) -> Vec<u8> {
    // NUL cannot occur in a table name or a case id, so the parts cannot run together; the
    // prefix differs from that of entity rows (`tandem/properties…`).
    format!("tandem/case\0{}\0{case_id}", table.name()).into_bytes()
}

fn key_needed() -> StoreError {
    StoreError::Invalid(
        "cases are protected records and need a field-encryption key (a key file or \
         TANDEM_KEYS); this store was opened without one"
            .into(),
    )
}

fn seal_with(
    ring: Option<&Keyring>,
    table: Table,
    case_id: &str,
    value: &Value,
) -> Result<(String, i64)> {
    let ring = ring.ok_or_else(key_needed)?;
    let text = serde_json::to_string(value)
        .map_err(|err| StoreError::Invalid(format!("{}: {err}", table.name())))?;
    let blob = ring.encrypt(text.as_bytes(), &associated(table, case_id))?;
    Ok((hex::encode(blob), i64::from(ring.active_id())))
}

fn open_text(ring: Option<&Keyring>, table: Table, case_id: &str, stored: &str) -> Result<String> {
    let ring = ring.ok_or_else(key_needed)?;
    let blob = hex::decode(stored).map_err(|_| {
        StoreError::Corrupt(format!(
            "{} of case {case_id}: the body is not encrypted",
            table.name()
        ))
    })?;
    let plain = ring.decrypt(&blob, &associated(table, case_id))?;
    String::from_utf8(plain).map_err(|_| {
        StoreError::Corrupt(format!(
            "{} of case {case_id}: the decrypted body is not text",
            table.name()
        ))
    })
}

fn open_with(ring: Option<&Keyring>, table: Table, case_id: &str, stored: &str) -> Result<Value> {
    let text = open_text(ring, table, case_id, stored)?;
    serde_json::from_str(&text).map_err(|err| {
        StoreError::Corrupt(format!(
            "{} of case {case_id}: the decrypted body is not JSON: {err}",
            table.name()
        ))
    })
}

fn seal(keys: &Keys, table: Table, case_id: &str, value: &Value) -> Result<(String, i64)> {
    keys.retrying(|ring| seal_with(ring, table, case_id, value))
}

fn open(keys: &Keys, table: Table, case_id: &str, stored: &str) -> Result<Value> {
    keys.retrying(|ring| open_with(ring, table, case_id, stored))
}

/// A secret's bytes as the JSON text its sealed body holds.
fn json_hex(bytes: &[u8]) -> Value {
    Value::String(hex::encode(bytes))
}

/// A random opaque case id: 64 bits from the operating system's generator (through the AEAD
/// crate's nonce generator, which the store already depends on).
fn new_case_id() -> String {
    let nonce = XNonce::generate();
    format!("case-{}", hex::encode(&nonce.as_slice()[..8]))
}

// ---------------------------------------------------------------------------------------------
// Rows

macro_rules! meta_columns {
    () => {
        "id, organisation_id, state, created_by, created_at, updated_at, retention_until"
    };
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    id: String,
    organisation_id: i64,
    state: String,
    created_by: i64,
    created_at: String,
    updated_at: String,
    retention_until: String,
    body: String,
}

impl CaseRow {
    fn open(self, keys: &Keys) -> Result<CaseRecord> {
        let details = open(keys, Table::Cases, &self.id, &self.body)?;
        Ok(CaseRecord {
            meta: CaseMeta {
                id: self.id,
                organisation_id: self.organisation_id,
                state: self.state,
                created_by: self.created_by,
                created_at: self.created_at,
                updated_at: self.updated_at,
                retention_until: self.retention_until,
            },
            details,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    case_id: String,
    at: String,
    actor_user_id: i64,
    kind: String,
    body: String,
}

impl EventRow {
    fn open(self, keys: &Keys) -> Result<CaseEvent> {
        let detail = open(keys, Table::Events, &self.case_id, &self.body)?;
        Ok(CaseEvent {
            id: self.id,
            case_id: self.case_id,
            at: self.at,
            actor_user_id: self.actor_user_id,
            kind: self.kind,
            detail,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: i64,
    case_id: String,
    scope: String,
    given: bool,
    at: String,
    recorded_by: i64,
    body: String,
}

impl ConsentRow {
    fn open(self, keys: &Keys) -> Result<ConsentRecord> {
        let detail = open(keys, Table::Consents, &self.case_id, &self.body)?;
        Ok(ConsentRecord {
            id: self.id,
            case_id: self.case_id,
            scope: self.scope,
            given: self.given,
            at: self.at,
            recorded_by: self.recorded_by,
            detail,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AssessmentRow {
    id: i64,
    case_id: String,
    at: String,
    assessed_by: i64,
    catalogue_version: String,
    catalogue_sha256: String,
    body: String,
}

impl AssessmentRow {
    fn open(self, keys: &Keys) -> Result<AssessmentRecord> {
        let body = open(keys, Table::Assessments, &self.case_id, &self.body)?;
        Ok(AssessmentRecord {
            id: self.id,
            case_id: self.case_id,
            at: self.at,
            assessed_by: self.assessed_by,
            catalogue_version: self.catalogue_version,
            catalogue_sha256: self.catalogue_sha256,
            body,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TestimonyRow {
    id: i64,
    case_id: String,
    at: String,
    coded_by: i64,
    body: String,
}

impl TestimonyRow {
    fn open(self, keys: &Keys) -> Result<TestimonyRecord> {
        let coding = open(keys, Table::Testimonies, &self.case_id, &self.body)?;
        Ok(TestimonyRecord {
            id: self.id,
            case_id: self.case_id,
            at: self.at,
            coded_by: self.coded_by,
            coding,
        })
    }
}

const CASE_BY_ID: &str = concat!(
    "SELECT ",
    meta_columns!(),
    ", body FROM cases WHERE id = $1"
);
const META_BY_ID: &str = concat!("SELECT ", meta_columns!(), " FROM cases WHERE id = $1");
const METAS_OF_ORG: &str = concat!(
    "SELECT ",
    meta_columns!(),
    " FROM cases WHERE organisation_id = $1 ORDER BY updated_at DESC, id"
);
const METAS_ALL: &str = concat!(
    "SELECT ",
    meta_columns!(),
    " FROM cases ORDER BY updated_at DESC, id"
);
const CASES_OF_ORG: &str = concat!(
    "SELECT ",
    meta_columns!(),
    ", body FROM cases WHERE organisation_id = $1 ORDER BY id"
);
const CASES_ALL: &str = concat!("SELECT ", meta_columns!(), ", body FROM cases ORDER BY id");
const DUE: &str = concat!(
    "SELECT ",
    meta_columns!(),
    " FROM cases WHERE retention_until < $1 ORDER BY retention_until, id"
);

const EVENTS_OF: &str = "SELECT id, case_id, at, actor_user_id, kind, body FROM case_events \
    WHERE case_id = $1 ORDER BY id";
const CONSENTS_OF: &str = "SELECT id, case_id, scope, given, at, recorded_by, body \
    FROM case_consents WHERE case_id = $1 ORDER BY id";
const ASSESSMENTS_OF: &str = "SELECT id, case_id, at, assessed_by, catalogue_version, \
    catalogue_sha256, body FROM case_assessments WHERE case_id = $1 ORDER BY id";
const TESTIMONIES_OF: &str = "SELECT id, case_id, at, coded_by, body FROM case_testimonies \
    WHERE case_id = $1 ORDER BY id";

// The same, for every case of one organisation (`$1`) or of all (`$1` NULL).
const EVENTS_OF_ORG: &str = "SELECT x.id, x.case_id, x.at, x.actor_user_id, x.kind, x.body \
    FROM case_events x JOIN cases c ON c.id = x.case_id \
    WHERE ($1 IS NULL OR c.organisation_id = $1) ORDER BY x.id";
const CONSENTS_OF_ORG: &str = "SELECT x.id, x.case_id, x.scope, x.given, x.at, x.recorded_by, \
    x.body FROM case_consents x JOIN cases c ON c.id = x.case_id \
    WHERE ($1 IS NULL OR c.organisation_id = $1) ORDER BY x.id";
const ASSESSMENTS_OF_ORG: &str = "SELECT x.id, x.case_id, x.at, x.assessed_by, \
    x.catalogue_version, x.catalogue_sha256, x.body FROM case_assessments x \
    JOIN cases c ON c.id = x.case_id WHERE ($1 IS NULL OR c.organisation_id = $1) ORDER BY x.id";
const TESTIMONIES_OF_ORG: &str = "SELECT x.id, x.case_id, x.at, x.coded_by, x.body \
    FROM case_testimonies x JOIN cases c ON c.id = x.case_id \
    WHERE ($1 IS NULL OR c.organisation_id = $1) ORDER BY x.id";

const INSERT_CASE: &str = "INSERT INTO cases (id, organisation_id, state, created_by, created_at, \
    updated_at, retention_until, body, key_id) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)";
const INSERT_EVENT: &str = "INSERT INTO case_events (case_id, at, actor_user_id, kind, body, \
    key_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
const INSERT_CONSENT: &str = "INSERT INTO case_consents (case_id, scope, given, at, recorded_by, \
    body, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
const INSERT_ASSESSMENT: &str = "INSERT INTO case_assessments (case_id, at, assessed_by, \
    catalogue_version, catalogue_sha256, body, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7) \
    RETURNING id";
const INSERT_TESTIMONY: &str = "INSERT INTO case_testimonies (case_id, at, coded_by, body, \
    key_id) VALUES ($1, $2, $3, $4, $5) RETURNING id";
/// Touches the case (its `updated_at`) and says whether it exists.
const TOUCH: &str = "UPDATE cases SET updated_at = $2 WHERE id = $1";

/// Runs `$body` in a transaction on `$pool` with `$tx` bound to it; commits when the body does
/// not return early with an error (dropping the transaction rolls it back). SQLite takes the
/// write lock at once, so that two writers never deadlock upgrading read locks.
macro_rules! in_transaction {
    ($pool:expr, |$tx:ident| $body:expr) => {
        match $pool {
            Pool::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// Marks the case as updated within the transaction `$tx`; returns `NotFound` from the
/// enclosing function when there is no such case, so nothing of the write is kept.
macro_rules! touch_case {
    ($tx:ident, $id:expr, $now:expr) => {
        let touched = sqlx::query(TOUCH)
            .bind($id)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if touched == 0 {
            return Err(unknown_case($id));
        }
    };
}

fn unknown_case(id: &str) -> StoreError {
    StoreError::NotFound(format!("case {id}"))
}

fn check_text(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{field} must not be empty")));
    }
    Ok(())
}

fn open_all<R, T>(
    rows: Vec<R>,
    keys: &Keys,
    open: impl Fn(R, &Keys) -> Result<T>,
) -> Result<Vec<T>> {
    rows.into_iter().map(|row| open(row, keys)).collect()
}

impl SqlStore {
    async fn insert_event(&self, id: &str, event: &NewCaseEvent, at: &str) -> Result<CaseEvent> {
        check_text("an event's kind", &event.kind)?;
        let (body, key_id) = seal(&self.keys, Table::Events, id, &event.detail)?;
        let event_id: i64 = in_transaction!(&self.pool, |tx| {
            touch_case!(tx, id, at);
            sqlx::query_scalar(INSERT_EVENT)
                .bind(id)
                .bind(at)
                .bind(event.actor_user_id)
                .bind(&event.kind)
                .bind(&body)
                .bind(key_id)
                .fetch_one(&mut *tx)
                .await?
        });
        Ok(CaseEvent {
            id: event_id,
            case_id: id.to_string(),
            at: at.to_string(),
            actor_user_id: event.actor_user_id,
            kind: event.kind.clone(),
            detail: event.detail.clone(),
        })
    }

    async fn files_from(
        &self,
        cases: Vec<CaseRow>,
        organisation: Option<i64>,
    ) -> Result<Vec<CaseFile>> {
        let pool = &self.pool;
        let events: Vec<EventRow> = on_pool!(pool, |pool| sqlx::query_as(EVENTS_OF_ORG)
            .bind(organisation)
            .fetch_all(pool)
            .await?);
        let consents: Vec<ConsentRow> = on_pool!(pool, |pool| sqlx::query_as(CONSENTS_OF_ORG)
            .bind(organisation)
            .fetch_all(pool)
            .await?);
        let assessments: Vec<AssessmentRow> =
            on_pool!(pool, |pool| sqlx::query_as(ASSESSMENTS_OF_ORG)
                .bind(organisation)
                .fetch_all(pool)
                .await?);
        let testimonies: Vec<TestimonyRow> =
            on_pool!(pool, |pool| sqlx::query_as(TESTIMONIES_OF_ORG)
                .bind(organisation)
                .fetch_all(pool)
                .await?);
        let keys = &self.keys;
        let mut files: BTreeMap<String, CaseFile> = BTreeMap::new();
        for row in cases {
            let case = row.open(keys)?;
            files.insert(
                case.meta.id.clone(),
                CaseFile {
                    case,
                    events: Vec::new(),
                    consents: Vec::new(),
                    assessments: Vec::new(),
                    testimonies: Vec::new(),
                },
            );
        }
        // Rows of cases created after the case list was read have no file to go to: skipped.
        for event in open_all(events, keys, EventRow::open)? {
            if let Some(file) = files.get_mut(&event.case_id) {
                file.events.push(event);
            }
        }
        for consent in open_all(consents, keys, ConsentRow::open)? {
            if let Some(file) = files.get_mut(&consent.case_id) {
                file.consents.push(consent);
            }
        }
        for assessment in open_all(assessments, keys, AssessmentRow::open)? {
            if let Some(file) = files.get_mut(&assessment.case_id) {
                file.assessments.push(assessment);
            }
        }
        for testimony in open_all(testimonies, keys, TestimonyRow::open)? {
            if let Some(file) = files.get_mut(&testimony.case_id) {
                file.testimonies.push(testimony);
            }
        }
        Ok(files.into_values().collect())
    }
}

/// Deletes every row of case `$id` on transaction `$tx`. Children first, explicitly: the cascade
/// needs SQLite's foreign keys switched on for the connection, which one opened elsewhere may
/// not have.
macro_rules! delete_case_rows {
    ($tx:ident, $id:expr) => {
        for table in Table::ALL
            .iter()
            .filter(|t| !matches!(t, Table::Cases | Table::Secrets))
        {
            let sql = format!("DELETE FROM {} WHERE case_id = $1", table.name());
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind($id)
                .execute(&mut *$tx)
                .await?;
        }
        sqlx::query("DELETE FROM cases WHERE id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
    };
}

#[async_trait]
impl CaseStore for SqlStore {
    async fn create_case(&self, case: NewCase) -> Result<CaseRecord> {
        check_text("a case's state", &case.state)?;
        check_text("a case's retention deadline", &case.retention_until)?;
        let id = new_case_id();
        let now = tandem_core::time::now_iso();
        let (body, key_id) = seal(&self.keys, Table::Cases, &id, &case.details)?;
        let first = serde_json::json!({"to": case.state});
        let (event_body, event_key) = seal(&self.keys, Table::Events, &id, &first)?;
        in_transaction!(&self.pool, |tx| {
            let inserted = sqlx::query(INSERT_CASE)
                .bind(&id)
                .bind(case.organisation_id)
                .bind(&case.state)
                .bind(case.created_by)
                .bind(&now)
                .bind(&case.retention_until)
                .bind(&body)
                .bind(key_id)
                .execute(&mut *tx)
                .await;
            if let Err(err) = inserted {
                return Err(match err.as_database_error() {
                    Some(db) if db.is_foreign_key_violation() => StoreError::NotFound(format!(
                        "organisation {} or user {}",
                        case.organisation_id, case.created_by
                    )),
                    _ => StoreError::Database(err),
                });
            }
            sqlx::query(INSERT_EVENT)
                .bind(&id)
                .bind(&now)
                .bind(case.created_by)
                .bind("state")
                .bind(&event_body)
                .bind(event_key)
                .fetch_one(&mut *tx)
                .await?;
        });
        Ok(CaseRecord {
            meta: CaseMeta {
                id,
                organisation_id: case.organisation_id,
                state: case.state,
                created_by: case.created_by,
                created_at: now.clone(),
                updated_at: now,
                retention_until: case.retention_until,
            },
            details: case.details,
        })
    }

    async fn case_meta(&self, id: &str) -> Result<Option<CaseMeta>> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query_as(META_BY_ID)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    async fn cases(&self, organisation_id: Option<i64>) -> Result<Vec<CaseMeta>> {
        Ok(match organisation_id {
            Some(org) => on_pool!(&self.pool, |pool| sqlx::query_as(METAS_OF_ORG)
                .bind(org)
                .fetch_all(pool)
                .await?),
            None => on_pool!(&self.pool, |pool| sqlx::query_as(METAS_ALL)
                .fetch_all(pool)
                .await?),
        })
    }

    async fn case_file(&self, id: &str) -> Result<Option<CaseFile>> {
        let pool = &self.pool;
        let row: Option<CaseRow> = on_pool!(pool, |pool| sqlx::query_as(CASE_BY_ID)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        let Some(row) = row else {
            return Ok(None);
        };
        let events: Vec<EventRow> = on_pool!(pool, |pool| sqlx::query_as(EVENTS_OF)
            .bind(id)
            .fetch_all(pool)
            .await?);
        let consents: Vec<ConsentRow> = on_pool!(pool, |pool| sqlx::query_as(CONSENTS_OF)
            .bind(id)
            .fetch_all(pool)
            .await?);
        let assessments: Vec<AssessmentRow> = on_pool!(pool, |pool| sqlx::query_as(ASSESSMENTS_OF)
            .bind(id)
            .fetch_all(pool)
            .await?);
        let testimonies: Vec<TestimonyRow> = on_pool!(pool, |pool| sqlx::query_as(TESTIMONIES_OF)
            .bind(id)
            .fetch_all(pool)
            .await?);
        let keys = &self.keys;
        Ok(Some(CaseFile {
            case: row.open(keys)?,
            events: open_all(events, keys, EventRow::open)?,
            consents: open_all(consents, keys, ConsentRow::open)?,
            assessments: open_all(assessments, keys, AssessmentRow::open)?,
            testimonies: open_all(testimonies, keys, TestimonyRow::open)?,
        }))
    }

    async fn case_files(&self, organisation_id: Option<i64>) -> Result<Vec<CaseFile>> {
        let rows: Vec<CaseRow> = match organisation_id {
            Some(org) => on_pool!(&self.pool, |pool| sqlx::query_as(CASES_OF_ORG)
                .bind(org)
                .fetch_all(pool)
                .await?),
            None => on_pool!(&self.pool, |pool| sqlx::query_as(CASES_ALL)
                .fetch_all(pool)
                .await?),
        };
        self.files_from(rows, organisation_id).await
    }

    async fn update_case(&self, id: &str, change: CaseChange) -> Result<CaseRecord> {
        let now = tandem_core::time::now_iso();
        let details = change
            .details
            .as_ref()
            .map(|d| seal(&self.keys, Table::Cases, id, d))
            .transpose()?;
        let event = change
            .event
            .as_ref()
            .map(|e| {
                check_text("an event's kind", &e.kind)?;
                seal(&self.keys, Table::Events, id, &e.detail).map(|sealed| (e, sealed))
            })
            .transpose()?;
        if let Some(until) = &change.retention_until {
            check_text("a case's retention deadline", until)?;
        }
        if let Some((_, to)) = &change.state {
            check_text("a case's state", to)?;
        }
        in_transaction!(&self.pool, |tx| {
            let current: Option<String> =
                sqlx::query_scalar("SELECT state FROM cases WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(current) = current else {
                return Err(unknown_case(id));
            };
            let state = match &change.state {
                Some((from, to)) if *from == current => to.clone(),
                Some((from, _)) => {
                    return Err(StoreError::Invalid(format!(
                        "case {id} is in state {current}, not {from}: it changed meanwhile"
                    )));
                }
                None => current,
            };
            sqlx::query(
                "UPDATE cases SET state = $2, updated_at = $3, \
                 retention_until = COALESCE($4, retention_until), \
                 body = COALESCE($5, body), key_id = COALESCE($6, key_id) WHERE id = $1",
            )
            .bind(id)
            .bind(&state)
            .bind(&now)
            .bind(change.retention_until.as_deref())
            .bind(details.as_ref().map(|(body, _)| body.as_str()))
            .bind(details.as_ref().map(|(_, key)| *key))
            .execute(&mut *tx)
            .await?;
            if let Some((event, (body, key_id))) = &event {
                sqlx::query(INSERT_EVENT)
                    .bind(id)
                    .bind(&now)
                    .bind(event.actor_user_id)
                    .bind(&event.kind)
                    .bind(body)
                    .bind(*key_id)
                    .fetch_one(&mut *tx)
                    .await?;
            }
        });
        let row: Option<CaseRow> = on_pool!(&self.pool, |pool| sqlx::query_as(CASE_BY_ID)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        row.ok_or_else(|| unknown_case(id))?.open(&self.keys)
    }

    async fn add_case_event(&self, id: &str, event: NewCaseEvent) -> Result<CaseEvent> {
        let now = tandem_core::time::now_iso();
        self.insert_event(id, &event, &now).await
    }

    async fn record_consent(&self, id: &str, consent: NewConsent) -> Result<ConsentRecord> {
        check_text("a consent's scope", &consent.scope)?;
        let now = tandem_core::time::now_iso();
        let (body, key_id) = seal(&self.keys, Table::Consents, id, &consent.detail)?;
        let consent_id: i64 = in_transaction!(&self.pool, |tx| {
            touch_case!(tx, id, &now);
            sqlx::query_scalar(INSERT_CONSENT)
                .bind(id)
                .bind(&consent.scope)
                .bind(consent.given)
                .bind(&now)
                .bind(consent.recorded_by)
                .bind(&body)
                .bind(key_id)
                .fetch_one(&mut *tx)
                .await?
        });
        Ok(ConsentRecord {
            id: consent_id,
            case_id: id.to_string(),
            scope: consent.scope,
            given: consent.given,
            at: now,
            recorded_by: consent.recorded_by,
            detail: consent.detail,
        })
    }

    async fn add_assessment(
        &self,
        id: &str,
        assessment: NewAssessment,
    ) -> Result<AssessmentRecord> {
        check_text("the catalogue version", &assessment.catalogue_version)?;
        check_text("the catalogue hash", &assessment.catalogue_sha256)?;
        let now = tandem_core::time::now_iso();
        let (body, key_id) = seal(&self.keys, Table::Assessments, id, &assessment.body)?;
        let assessment_id: i64 = in_transaction!(&self.pool, |tx| {
            touch_case!(tx, id, &now);
            sqlx::query_scalar(INSERT_ASSESSMENT)
                .bind(id)
                .bind(&now)
                .bind(assessment.assessed_by)
                .bind(&assessment.catalogue_version)
                .bind(&assessment.catalogue_sha256)
                .bind(&body)
                .bind(key_id)
                .fetch_one(&mut *tx)
                .await?
        });
        Ok(AssessmentRecord {
            id: assessment_id,
            case_id: id.to_string(),
            at: now,
            assessed_by: assessment.assessed_by,
            catalogue_version: assessment.catalogue_version,
            catalogue_sha256: assessment.catalogue_sha256,
            body: assessment.body,
        })
    }

    async fn add_testimony(&self, id: &str, testimony: NewTestimony) -> Result<TestimonyRecord> {
        let now = tandem_core::time::now_iso();
        let (body, key_id) = seal(&self.keys, Table::Testimonies, id, &testimony.coding)?;
        let testimony_id: i64 = in_transaction!(&self.pool, |tx| {
            touch_case!(tx, id, &now);
            sqlx::query_scalar(INSERT_TESTIMONY)
                .bind(id)
                .bind(&now)
                .bind(testimony.coded_by)
                .bind(&body)
                .bind(key_id)
                .fetch_one(&mut *tx)
                .await?
        });
        Ok(TestimonyRecord {
            id: testimony_id,
            case_id: id.to_string(),
            at: now,
            coded_by: testimony.coded_by,
            coding: testimony.coding,
        })
    }

    async fn erase_case(&self, id: &str, tombstone: NewAuditEntry) -> Result<AuditEntry> {
        if self.case_meta(id).await?.is_none() {
            return Err(unknown_case(id));
        }
        if tombstone.target.as_deref() != Some(id) {
            return Err(StoreError::Invalid(format!(
                "the tombstone of case {id} must name it as its target"
            )));
        }
        // The tombstone first: a failure after it leaves the data and a record of the attempt
        // (erasure can be run again), never an erasure that nothing records.
        let entry = audit::append(&self.pool, tombstone).await?;
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                // Deleted rows otherwise linger in free pages of the file until reused; with
                // this the connection overwrites what it deletes (it stays on for the pooled
                // connection, which costs its later deletes a little and harms nothing).
                sqlx::query("PRAGMA secure_delete = ON")
                    .execute(&mut *tx)
                    .await?;
                delete_case_rows!(tx, id);
                tx.commit().await?;
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                delete_case_rows!(tx, id);
                tx.commit().await?;
            }
        }
        Ok(entry)
    }

    async fn cases_due_for_erasure(&self, now: &str) -> Result<Vec<CaseMeta>> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query_as(DUE)
            .bind(now)
            .fetch_all(pool)
            .await?))
    }

    async fn protection_secret(&self, name: &str) -> Result<Vec<u8>> {
        check_text("a secret's name", name)?;
        let read = || async {
            let stored: Option<String> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
                "SELECT body FROM protection_secrets WHERE name = $1"
            )
            .bind(name)
            .fetch_optional(pool)
            .await?);
            stored
                .map(|body| open(&self.keys, Table::Secrets, name, &body))
                .transpose()
        };
        if read().await?.is_none() {
            // Two random nonces' worth of OS randomness; the first writer wins, and everyone
            // then reads what it wrote.
            let mut fresh = XNonce::generate().as_slice().to_vec();
            fresh.extend_from_slice(&XNonce::generate().as_slice()[..8]);
            let (body, key_id) = seal(&self.keys, Table::Secrets, name, &json_hex(&fresh))?;
            on_pool!(&self.pool, |pool| sqlx::query(
                "INSERT INTO protection_secrets (name, body, key_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING"
            )
            .bind(name)
            .bind(&body)
            .bind(key_id)
            .execute(pool)
            .await?
            .rows_affected());
        }
        let value = read()
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("protection secret {name} vanished")))?;
        value
            .as_str()
            .and_then(|text| hex::decode(text).ok())
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| StoreError::Corrupt(format!("protection secret {name} is damaged")))
    }
}

// ---------------------------------------------------------------------------------------------
// Key rotation

/// Rows re-encrypted per transaction (short transactions: writers wait little).
const REENCRYPT_BATCH: i64 = 200;

#[derive(sqlx::FromRow)]
struct SealedRow {
    row_id: String,
    case_id: String,
    body: String,
}

fn stale_page_sql(table: Table) -> String {
    // Keyset paging on the row id as text; rows that an ordinary write re-sealed meanwhile
    // simply leave the set.
    let (row_id, case_id) = match table {
        Table::Cases => ("id", "id"),
        Table::Secrets => ("name", "name"),
        _ => ("CAST(id AS TEXT)", "case_id"),
    };
    format!(
        "SELECT {row_id} AS row_id, {case_id} AS case_id, body FROM {} \
         WHERE key_id <> $1 AND {row_id} > $2 ORDER BY {row_id} LIMIT $3",
        table.name()
    )
}

fn reseal_sql(table: Table) -> String {
    let row_id = match table {
        Table::Cases => "id",
        Table::Secrets => "name",
        _ => "CAST(id AS TEXT)",
    };
    // Only if the row is still as read: a write meanwhile sealed it under the active key.
    format!(
        "UPDATE {} SET body = $2, key_id = $3 WHERE {row_id} = $1 AND body = $4",
        table.name()
    )
}

/// Re-seals every case row that is not under the active key; returns how many.
pub(crate) async fn reencrypt(store: &SqlStore) -> Result<u64> {
    let Some(ring) = store.keys.current() else {
        return Err(StoreError::Invalid(
            "re-encryption needs the field-encryption keys (a key file or TANDEM_KEYS)".into(),
        ));
    };
    let active = i64::from(ring.active_id());
    let mut resealed = 0u64;
    for table in Table::ALL {
        let select = stale_page_sql(table);
        let update = reseal_sql(table);
        let mut after = String::new();
        loop {
            let page: Vec<SealedRow> = on_pool!(&store.pool, |pool| sqlx::query_as(
                sqlx::AssertSqlSafe(select.clone())
            )
            .bind(active)
            .bind(&after)
            .bind(REENCRYPT_BATCH)
            .fetch_all(pool)
            .await?);
            let Some(last) = page.last() else {
                break;
            };
            after = last.row_id.clone();
            let sealed = page
                .iter()
                .map(|row| {
                    store.keys.retrying(|ring| {
                        let text = open_text(ring, table, &row.case_id, &row.body)?;
                        let ring = ring.ok_or_else(key_needed)?;
                        let blob =
                            ring.encrypt(text.as_bytes(), &associated(table, &row.case_id))?;
                        Ok((hex::encode(blob), i64::from(ring.active_id())))
                    })
                })
                .collect::<Result<Vec<(String, i64)>>>()?;
            let written: u64 = in_transaction!(&store.pool, |tx| {
                let mut written = 0;
                for (row, (body, key_id)) in page.iter().zip(&sealed) {
                    written += sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                        .bind(&row.row_id)
                        .bind(body)
                        .bind(*key_id)
                        .bind(&row.body)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                written
            });
            resealed += written;
        }
    }
    Ok(resealed)
}

/// Case rows per key id, added to `usage`.
pub(crate) async fn add_key_usage(pool: &Pool, usage: &mut BTreeMap<u32, u64>) -> Result<()> {
    for table in Table::ALL {
        let sql = format!(
            "SELECT key_id, COUNT(*) FROM {} GROUP BY key_id",
            table.name()
        );
        let rows: Vec<(i64, i64)> = on_pool!(pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .fetch_all(pool)
        .await?);
        for (key_id, count) in rows {
            let key_id = u32::try_from(key_id)
                .map_err(|_| StoreError::Corrupt(format!("key id {key_id} is out of range")))?;
            let count = u64::try_from(count)
                .map_err(|_| StoreError::Corrupt(format!("negative count {count}")))?;
            *usage.entry(key_id).or_default() += count;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_open_only_for_their_table_and_case() {
        let ring = Keyring::generate();
        let value = serde_json::json!({"name": "Amina"});
        let (stored, key) = seal_with(Some(&ring), Table::Cases, "case-1", &value).unwrap();
        assert_eq!(key, 1);
        assert!(!stored.contains("Amina"));
        assert_eq!(
            open_with(Some(&ring), Table::Cases, "case-1", &stored).unwrap(),
            value
        );
        assert!(open_with(Some(&ring), Table::Cases, "case-2", &stored).is_err());
        assert!(open_with(Some(&ring), Table::Events, "case-1", &stored).is_err());
        assert!(matches!(
            open_with(None, Table::Cases, "case-1", &stored),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            open_with(Some(&ring), Table::Cases, "case-1", "{\"name\":1}"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn case_ids_are_random_and_opaque() {
        let a = new_case_id();
        let b = new_case_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), "case-".len() + 16);
        assert!(a[5..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
