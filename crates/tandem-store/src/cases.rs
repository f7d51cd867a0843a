//! The protection store: victims' cases with their events, consents, identification
//! assessments and coded testimonies ([`CaseStore`]).
//!
//! Everything that describes the person is sealed before it reaches the database: each row keeps
//! one `body` column of JSON encrypted with the case's own data key ([`DataKey`]), which is
//! stored only wrapped by the store's [`Keyring`](crate::crypto::Keyring) (envelope
//! encryption, spec §6.3). The associated data names the table and the case, so a ciphertext
//! moved to another case or table does not open. Rows written before data keys existed hold
//! keyring ciphertext; they stay readable and move under the case's data key when the keys are
//! rotated ([`reencrypt`]). What stays in the clear is metadata that the workflow and the access
//! check need without decrypting anything: a random opaque case id, the owning organisation,
//! the state, dates, the retention deadline, event kinds, consent scopes and the version and
//! hash of the indicator catalogue an assessment used.
//!
//! The store keeps the content as JSON it does not interpret: what a case, an assessment or a
//! testimony holds is the domain's business (`tandem-protect`), which this crate may not use.
//!
//! Erasure appends a tombstone (case id, organisation, who, when, why; no content) to the audit
//! log — first, so that no erasure ever goes unrecorded — then destroys the case's wrapped data
//! key and deletes its rows (crypto-shredding, §6.5): a copy of the ciphertext kept anywhere
//! no longer opens once the key row is gone.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::Generate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::{DataKey, Keyring, is_data_key_sealed};
use crate::db::{Pool, in_transaction, on_pool};
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

/// A legal hold to place (spec §6.5).
#[derive(Debug, Clone, PartialEq)]
pub struct NewHold {
    pub placed_by: i64,
    /// Protected (it may name proceedings): sealed with the case's data key.
    pub reason: String,
    /// When the hold is to be looked at again (ISO text).
    pub review_on: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldRecord {
    pub id: i64,
    pub case_id: String,
    pub placed_by: i64,
    pub placed_at: String,
    pub review_on: String,
    pub released_by: Option<i64>,
    pub released_at: Option<String>,
    /// `None` in listings that decrypt nothing.
    pub reason: Option<String>,
}

impl HoldRecord {
    pub fn is_active(&self) -> bool {
        self.released_at.is_none()
    }
}

/// A case in the retention review: why it is listed, without any protected content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionItem {
    pub case: CaseMeta,
    /// Past its retention deadline.
    pub deadline_passed: bool,
    /// The standing hold with the earliest review date, if any (reason left out).
    pub hold: Option<HoldRecord>,
    /// Past its deadline and not held: `erase --due` erases it.
    pub erasable: bool,
}

/// A referral or transfer to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReferral {
    /// `referral` (a service of another organisation) or `transfer` (ownership moves).
    pub kind: String,
    pub to_organisation_id: i64,
    pub created_by: i64,
    pub state: String,
    /// Protected: only the fields the receiver needs; sealed with the case's data key.
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralRecord {
    pub id: i64,
    pub case_id: String,
    pub kind: String,
    pub from_organisation_id: i64,
    pub to_organisation_id: i64,
    pub state: String,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
    pub decided_by: Option<i64>,
    pub detail: Value,
}

/// A step of a referral's workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferralChange {
    pub from: String,
    pub to: String,
    pub by: i64,
    /// Hands the case to the referral's receiving organisation (an accepted transfer).
    pub move_case: bool,
    pub event: NewCaseEvent,
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
    /// Appends `tombstone` to the audit log, then destroys the case's data key and deletes every
    /// row of the case. The tombstone must carry no content (the caller builds it: case id,
    /// organisation, reason). Refused (`Invalid`) while a legal hold stands.
    async fn erase_case(&self, id: &str, tombstone: NewAuditEntry) -> Result<AuditEntry>;
    /// Cases whose retention deadline is before `now` (ISO text) and that no legal hold keeps,
    /// oldest deadline first.
    async fn cases_due_for_erasure(&self, now: &str) -> Result<Vec<CaseMeta>>;
    /// Every case due for review at `now`: past its retention deadline (held or not), or under
    /// a hold whose review date has come. Metadata only.
    async fn retention_review(&self, now: &str) -> Result<Vec<RetentionItem>>;
    /// Places a legal hold: the case is not erased for retention while the hold stands.
    async fn place_hold(&self, id: &str, hold: NewHold) -> Result<HoldRecord>;
    /// Lifts a hold; `Invalid` when it is already lifted, `NotFound` when unknown.
    async fn release_hold(&self, hold_id: i64, released_by: i64) -> Result<HoldRecord>;
    /// The holds of a case, oldest first, reasons decrypted.
    async fn holds(&self, id: &str) -> Result<Vec<HoldRecord>>;
    /// The oldest hold still standing on the case, if any (metadata only: nothing decrypted).
    async fn standing_hold(&self, id: &str) -> Result<Option<i64>>;
    /// Records a referral or transfer of the case, with its event, in one transaction.
    async fn create_referral(
        &self,
        id: &str,
        referral: NewReferral,
        event: NewCaseEvent,
    ) -> Result<ReferralRecord>;
    /// One referral or transfer, its shared details decrypted.
    async fn referral(&self, referral_id: i64) -> Result<Option<ReferralRecord>>;
    /// The referrals and transfers of a case, oldest first.
    async fn case_referrals(&self, id: &str) -> Result<Vec<ReferralRecord>>;
    /// Referrals and transfers sent by or to an organisation, newest first; metadata only
    /// (`detail` is `null`: the list needs no decryption).
    async fn organisation_referrals(&self, organisation_id: i64) -> Result<Vec<ReferralRecord>>;
    /// Moves a referral from `change.from` to `change.to` (refused with `Invalid` when it is no
    /// longer in `from`), writes the case event, and for an accepted transfer hands the case
    /// to the receiving organisation — all in one transaction.
    async fn update_referral(
        &self,
        referral_id: i64,
        change: ReferralChange,
    ) -> Result<ReferralRecord>;
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
    Referrals,
    Holds,
    /// Not case data: sealed with the keyring itself, with the secret's name in place of the
    /// case id.
    Secrets,
}

impl Table {
    const ALL: [Table; 8] = [
        Table::Cases,
        Table::Events,
        Table::Consents,
        Table::Assessments,
        Table::Testimonies,
        Table::Referrals,
        Table::Holds,
        Table::Secrets,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::Cases => "cases",
            Table::Events => "case_events",
            Table::Consents => "case_consents",
            Table::Assessments => "case_assessments",
            Table::Testimonies => "case_testimonies",
            Table::Referrals => "case_referrals",
            Table::Holds => "case_holds",
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

/// The `key_id` of rows sealed with their case's data key rather than directly by the keyring.
const DATA_KEY_ID: i64 = 0;

/// The associated data of a case's wrapped data key.
fn key_associated(case_id: &str) -> Vec<u8> {
    format!("tandem/case-key\0{case_id}").into_bytes()
}

/// Seals `value` with the case's data key; returns the stored text and [`DATA_KEY_ID`].
fn seal_data(key: &DataKey, table: Table, case_id: &str, value: &Value) -> Result<(String, i64)> {
    let text = serde_json::to_string(value)
        .map_err(|err| StoreError::Invalid(format!("{}: {err}", table.name())))?;
    let blob = key.encrypt(text.as_bytes(), &associated(table, case_id))?;
    Ok((hex::encode(blob), DATA_KEY_ID))
}

/// Opens a body sealed either with the case's data key (`key`) or, written before data keys,
/// with the keyring.
fn open_text(
    ring: Option<&Keyring>,
    key: Option<&DataKey>,
    table: Table,
    case_id: &str,
    stored: &str,
) -> Result<String> {
    let blob = hex::decode(stored).map_err(|_| {
        StoreError::Corrupt(format!(
            "{} of case {case_id}: the body is not encrypted",
            table.name()
        ))
    })?;
    let plain = if is_data_key_sealed(&blob) {
        let key = key.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} of case {case_id}: the case's data key is gone (the case was erased)",
                table.name()
            ))
        })?;
        key.decrypt(&blob, &associated(table, case_id))?
    } else {
        let ring = ring.ok_or_else(key_needed)?;
        ring.decrypt(&blob, &associated(table, case_id))?
    };
    String::from_utf8(plain).map_err(|_| {
        StoreError::Corrupt(format!(
            "{} of case {case_id}: the decrypted body is not text",
            table.name()
        ))
    })
}

fn open_with(
    ring: Option<&Keyring>,
    key: Option<&DataKey>,
    table: Table,
    case_id: &str,
    stored: &str,
) -> Result<Value> {
    let text = open_text(ring, key, table, case_id, stored)?;
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

fn open(
    keys: &Keys,
    key: Option<&DataKey>,
    table: Table,
    case_id: &str,
    stored: &str,
) -> Result<Value> {
    keys.retrying(|ring| open_with(ring, key, table, case_id, stored))
}

/// A wrapped data key as stored.
#[derive(sqlx::FromRow)]
struct KeyRow {
    case_id: String,
    wrapped: String,
}

fn unwrap_key(keys: &Keys, row: &KeyRow) -> Result<DataKey> {
    let blob = hex::decode(&row.wrapped).map_err(|_| {
        StoreError::Corrupt(format!("the data key of case {} is damaged", row.case_id))
    })?;
    keys.retrying(|ring| {
        let ring = ring.ok_or_else(key_needed)?;
        Ok(DataKey::unwrap(ring, &blob, &key_associated(&row.case_id))?)
    })
}

fn wrap_key(keys: &Keys, key: &DataKey, case_id: &str) -> Result<(String, i64)> {
    keys.retrying(|ring| {
        let ring = ring.ok_or_else(key_needed)?;
        let blob = key.wrap(ring, &key_associated(case_id))?;
        Ok((hex::encode(blob), i64::from(ring.active_id())))
    })
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
    fn open(self, keys: &Keys, key: Option<&DataKey>) -> Result<CaseRecord> {
        let details = open(keys, key, Table::Cases, &self.id, &self.body)?;
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
    fn open(self, keys: &Keys, key: Option<&DataKey>) -> Result<CaseEvent> {
        let detail = open(keys, key, Table::Events, &self.case_id, &self.body)?;
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
    fn open(self, keys: &Keys, key: Option<&DataKey>) -> Result<ConsentRecord> {
        let detail = open(keys, key, Table::Consents, &self.case_id, &self.body)?;
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
    fn open(self, keys: &Keys, key: Option<&DataKey>) -> Result<AssessmentRecord> {
        let body = open(keys, key, Table::Assessments, &self.case_id, &self.body)?;
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
    fn open(self, keys: &Keys, key: Option<&DataKey>) -> Result<TestimonyRecord> {
        let coding = open(keys, key, Table::Testimonies, &self.case_id, &self.body)?;
        Ok(TestimonyRecord {
            id: self.id,
            case_id: self.case_id,
            at: self.at,
            coded_by: self.coded_by,
            coding,
        })
    }
}

macro_rules! referral_columns {
    () => {
        "id, case_id, kind, from_organisation_id, to_organisation_id, state, created_by, \
         created_at, updated_at, decided_by, body"
    };
}

#[derive(sqlx::FromRow)]
struct ReferralRow {
    id: i64,
    case_id: String,
    kind: String,
    from_organisation_id: i64,
    to_organisation_id: i64,
    state: String,
    created_by: i64,
    created_at: String,
    updated_at: String,
    decided_by: Option<i64>,
    body: String,
}

impl ReferralRow {
    fn open(self, keys: &Keys, key: Option<&DataKey>) -> Result<ReferralRecord> {
        let detail = open(keys, key, Table::Referrals, &self.case_id, &self.body)?;
        let mut record = self.meta();
        record.detail = detail;
        Ok(record)
    }

    /// The record without decrypting its shared details.
    fn meta(self) -> ReferralRecord {
        ReferralRecord {
            id: self.id,
            case_id: self.case_id,
            kind: self.kind,
            from_organisation_id: self.from_organisation_id,
            to_organisation_id: self.to_organisation_id,
            state: self.state,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            decided_by: self.decided_by,
            detail: Value::Null,
        }
    }
}

#[derive(sqlx::FromRow)]
struct HoldRow {
    id: i64,
    case_id: String,
    placed_by: i64,
    placed_at: String,
    review_on: String,
    released_by: Option<i64>,
    released_at: Option<String>,
    body: String,
}

impl HoldRow {
    /// The hold without its (sealed) reason.
    fn meta(self) -> HoldRecord {
        HoldRecord {
            id: self.id,
            case_id: self.case_id,
            placed_by: self.placed_by,
            placed_at: self.placed_at,
            review_on: self.review_on,
            released_by: self.released_by,
            released_at: self.released_at,
            reason: None,
        }
    }
}

const HOLD_BY_ID: &str = "SELECT id, case_id, placed_by, placed_at, review_on, released_by, \
    released_at, body FROM case_holds WHERE id = $1";
const HOLDS_OF: &str = "SELECT id, case_id, placed_by, placed_at, review_on, released_by, \
    released_at, body FROM case_holds WHERE case_id = $1 ORDER BY id";
const STANDING_HOLDS: &str = "SELECT id, case_id, placed_by, placed_at, review_on, released_by, \
    released_at, body FROM case_holds WHERE released_at IS NULL ORDER BY review_on, id";
/// Cases past their deadline, or under a standing hold due for review.
const REVIEW: &str = concat!(
    "SELECT ",
    meta_columns!(),
    " FROM cases c WHERE retention_until < $1 OR EXISTS (SELECT 1 FROM case_holds h \
     WHERE h.case_id = c.id AND h.released_at IS NULL AND h.review_on < $1) \
     ORDER BY retention_until, id"
);

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
    " FROM cases c WHERE retention_until < $1 AND NOT EXISTS (SELECT 1 FROM case_holds h \
     WHERE h.case_id = c.id AND h.released_at IS NULL) ORDER BY retention_until, id"
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

/// Puts each opened record into its case's file; records of cases not in `files` are dropped.
fn attach<T>(
    files: &mut BTreeMap<String, CaseFile>,
    records: Vec<T>,
    case_of: impl Fn(&T) -> &String,
    list: impl Fn(&mut CaseFile) -> &mut Vec<T>,
) {
    for record in records {
        if let Some(file) = files.get_mut(case_of(&record)) {
            list(file).push(record);
        }
    }
}

/// Why a case under a standing legal hold cannot be erased.
pub fn held_case(id: &str, hold: i64) -> String {
    format!("case {id} is under legal hold {hold}: lift the hold before erasing it")
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
    key: Option<&DataKey>,
    open: impl Fn(R, &Keys, Option<&DataKey>) -> Result<T>,
) -> Result<Vec<T>> {
    rows.into_iter().map(|row| open(row, keys, key)).collect()
}

/// Opens rows of several cases, each with its own case's data key.
fn open_each<R, T>(
    rows: Vec<R>,
    keys: &Keys,
    data_keys: &HashMap<String, DataKey>,
    case_of: impl Fn(&R) -> &str,
    open: impl Fn(R, &Keys, Option<&DataKey>) -> Result<T>,
) -> Result<Vec<T>> {
    rows.into_iter()
        .map(|row| {
            let key = data_keys.get(case_of(&row));
            open(row, keys, key)
        })
        .collect()
}

/// Every wrapped data key, or one organisation's (`$1`), with its case id.
const KEYS_OF_ORG: &str = "SELECT k.case_id, k.wrapped FROM case_keys k \
    JOIN cases c ON c.id = k.case_id WHERE ($1 IS NULL OR c.organisation_id = $1)";
/// Creates a data key for an existing case that has none because it was written before data
/// keys (its own row is still sealed by the keyring, `key_id` ≠ 0); inserts nothing for an
/// unknown case, nor for one whose key was destroyed (a new key would not open its rows).
const INSERT_KEY_IF_CASE: &str = "INSERT INTO case_keys (case_id, wrapped, key_id, created_at) \
    SELECT id, $2, $3, $4 FROM cases WHERE id = $1 AND key_id <> 0 \
    ON CONFLICT (case_id) DO NOTHING";

impl SqlStore {
    /// The case's data key, if it has one.
    async fn data_key(&self, case_id: &str) -> Result<Option<DataKey>> {
        let row: Option<KeyRow> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT case_id, wrapped FROM case_keys WHERE case_id = $1"
        )
        .bind(case_id)
        .fetch_optional(pool)
        .await?);
        row.map(|row| unwrap_key(&self.keys, &row)).transpose()
    }

    /// The data keys of one organisation's cases (or all), by case id.
    async fn data_keys(&self, organisation: Option<i64>) -> Result<HashMap<String, DataKey>> {
        let rows: Vec<KeyRow> = on_pool!(&self.pool, |pool| sqlx::query_as(KEYS_OF_ORG)
            .bind(organisation)
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|row| Ok((row.case_id.clone(), unwrap_key(&self.keys, &row)?)))
            .collect()
    }

    /// The case's data key, created (and wrapped) when a case from before data keys has none.
    /// `NotFound` for an unknown case.
    async fn ensure_data_key(&self, case_id: &str) -> Result<DataKey> {
        if let Some(key) = self.data_key(case_id).await? {
            return Ok(key);
        }
        let fresh = DataKey::generate();
        let (wrapped, key_id) = wrap_key(&self.keys, &fresh, case_id)?;
        let now = tandem_core::time::now_iso();
        on_pool!(&self.pool, |pool| sqlx::query(INSERT_KEY_IF_CASE)
            .bind(case_id)
            .bind(&wrapped)
            .bind(key_id)
            .bind(&now)
            .execute(pool)
            .await?
            .rows_affected());
        // Whoever inserted first, everyone uses the stored key.
        match self.data_key(case_id).await? {
            Some(key) => Ok(key),
            None if self.case_meta(case_id).await?.is_some() => Err(StoreError::Corrupt(format!(
                "case {case_id} has lost its data key: its records cannot be opened or added to"
            ))),
            None => Err(unknown_case(case_id)),
        }
    }

    /// Seals a body of case `case_id` with its data key.
    async fn seal_case(&self, table: Table, case_id: &str, value: &Value) -> Result<(String, i64)> {
        let key = self.ensure_data_key(case_id).await?;
        seal_data(&key, table, case_id, value)
    }

    async fn insert_event(&self, id: &str, event: &NewCaseEvent, at: &str) -> Result<CaseEvent> {
        check_text("an event's kind", &event.kind)?;
        let (body, key_id) = self.seal_case(Table::Events, id, &event.detail).await?;
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
        let data_keys = self.data_keys(organisation).await?;
        let mut files: BTreeMap<String, CaseFile> = BTreeMap::new();
        for row in cases {
            let key = data_keys.get(&row.id);
            let case = row.open(keys, key)?;
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
        let opened = open_each(events, keys, &data_keys, |r| &r.case_id, EventRow::open)?;
        attach(&mut files, opened, |e| &e.case_id, |f| &mut f.events);
        let opened = open_each(consents, keys, &data_keys, |r| &r.case_id, ConsentRow::open)?;
        attach(&mut files, opened, |c| &c.case_id, |f| &mut f.consents);
        let opened = open_each(
            assessments,
            keys,
            &data_keys,
            |r| &r.case_id,
            AssessmentRow::open,
        )?;
        attach(&mut files, opened, |a| &a.case_id, |f| &mut f.assessments);
        let opened = open_each(
            testimonies,
            keys,
            &data_keys,
            |r| &r.case_id,
            TestimonyRow::open,
        )?;
        attach(&mut files, opened, |t| &t.case_id, |f| &mut f.testimonies);
        Ok(files.into_values().collect())
    }
}

/// Deletes every row of case `$id` on transaction `$tx`. Children first, explicitly: the cascade
/// needs SQLite's foreign keys switched on for the connection, which one opened elsewhere may
/// not have.
macro_rules! delete_case_rows {
    ($tx:ident, $id:expr) => {
        // The data key first: from here on nothing of the case opens, wherever a copy of its
        // ciphertext lies.
        sqlx::query("DELETE FROM case_keys WHERE case_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
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
        let data_key = DataKey::generate();
        let (wrapped, wrapped_by) = wrap_key(&self.keys, &data_key, &id)?;
        let (body, key_id) = seal_data(&data_key, Table::Cases, &id, &case.details)?;
        let first = serde_json::json!({"to": case.state});
        let (event_body, event_key) = seal_data(&data_key, Table::Events, &id, &first)?;
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
            sqlx::query(
                "INSERT INTO case_keys (case_id, wrapped, key_id, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(&wrapped)
            .bind(wrapped_by)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
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
        let data_key = self.data_key(id).await?;
        let key = data_key.as_ref();
        Ok(Some(CaseFile {
            case: row.open(keys, key)?,
            events: open_all(events, keys, key, EventRow::open)?,
            consents: open_all(consents, keys, key, ConsentRow::open)?,
            assessments: open_all(assessments, keys, key, AssessmentRow::open)?,
            testimonies: open_all(testimonies, keys, key, TestimonyRow::open)?,
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
        let data_key = match (&change.details, &change.event) {
            (None, None) => None,
            _ => Some(self.ensure_data_key(id).await?),
        };
        let details = change
            .details
            .as_ref()
            .zip(data_key.as_ref())
            .map(|(d, key)| seal_data(key, Table::Cases, id, d))
            .transpose()?;
        let event = change
            .event
            .as_ref()
            .zip(data_key.as_ref())
            .map(|(e, key)| {
                check_text("an event's kind", &e.kind)?;
                seal_data(key, Table::Events, id, &e.detail).map(|sealed| (e, sealed))
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
        let data_key = self.data_key(id).await?;
        row.ok_or_else(|| unknown_case(id))?
            .open(&self.keys, data_key.as_ref())
    }

    async fn add_case_event(&self, id: &str, event: NewCaseEvent) -> Result<CaseEvent> {
        let now = tandem_core::time::now_iso();
        self.insert_event(id, &event, &now).await
    }

    async fn record_consent(&self, id: &str, consent: NewConsent) -> Result<ConsentRecord> {
        check_text("a consent's scope", &consent.scope)?;
        let now = tandem_core::time::now_iso();
        let (body, key_id) = self.seal_case(Table::Consents, id, &consent.detail).await?;
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
        let (body, key_id) = self
            .seal_case(Table::Assessments, id, &assessment.body)
            .await?;
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
        let (body, key_id) = self
            .seal_case(Table::Testimonies, id, &testimony.coding)
            .await?;
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
        // A legal hold pauses every erasure (spec §6.5; GDPR Art. 17(3)(e)): it is lifted, with
        // its own audit entry, before the case can go.
        if let Some(hold) = self.standing_hold(id).await? {
            return Err(StoreError::Invalid(held_case(id, hold)));
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

    async fn retention_review(&self, now: &str) -> Result<Vec<RetentionItem>> {
        let cases: Vec<CaseMeta> = on_pool!(&self.pool, |pool| sqlx::query_as(REVIEW)
            .bind(now)
            .fetch_all(pool)
            .await?);
        let holds: Vec<HoldRow> = on_pool!(&self.pool, |pool| sqlx::query_as(STANDING_HOLDS)
            .fetch_all(pool)
            .await?);
        let mut standing: HashMap<String, HoldRecord> = HashMap::new();
        for row in holds {
            // Ordered by review date: the first is the one to look at soonest.
            let hold = row.meta();
            standing.entry(hold.case_id.clone()).or_insert(hold);
        }
        Ok(cases
            .into_iter()
            .map(|case| {
                let hold = standing.remove(&case.id);
                let deadline_passed = case.retention_until.as_str() < now;
                RetentionItem {
                    erasable: deadline_passed && hold.is_none(),
                    deadline_passed,
                    hold,
                    case,
                }
            })
            .collect())
    }

    async fn place_hold(&self, id: &str, hold: NewHold) -> Result<HoldRecord> {
        check_text("a hold's reason", &hold.reason)?;
        check_text("a hold's review date", &hold.review_on)?;
        let now = tandem_core::time::now_iso();
        let (body, key_id) = self
            .seal_case(Table::Holds, id, &Value::String(hold.reason.clone()))
            .await?;
        let hold_id: i64 = in_transaction!(&self.pool, |tx| {
            touch_case!(tx, id, &now);
            sqlx::query_scalar(
                "INSERT INTO case_holds (case_id, placed_by, placed_at, review_on, body, key_id) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(id)
            .bind(hold.placed_by)
            .bind(&now)
            .bind(&hold.review_on)
            .bind(&body)
            .bind(key_id)
            .fetch_one(&mut *tx)
            .await?
        });
        Ok(HoldRecord {
            id: hold_id,
            case_id: id.to_string(),
            placed_by: hold.placed_by,
            placed_at: now,
            review_on: hold.review_on,
            released_by: None,
            released_at: None,
            reason: Some(hold.reason),
        })
    }

    async fn release_hold(&self, hold_id: i64, released_by: i64) -> Result<HoldRecord> {
        let now = tandem_core::time::now_iso();
        let row: Option<HoldRow> = in_transaction!(&self.pool, |tx| {
            let row: Option<HoldRow> = sqlx::query_as(HOLD_BY_ID)
                .bind(hold_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = &row {
                if row.released_at.is_some() {
                    return Err(StoreError::Invalid(format!(
                        "hold {hold_id} was lifted already"
                    )));
                }
                sqlx::query(
                    "UPDATE case_holds SET released_by = $2, released_at = $3 WHERE id = $1",
                )
                .bind(hold_id)
                .bind(released_by)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(TOUCH)
                    .bind(&row.case_id)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
            }
            row
        });
        let mut hold = row
            .ok_or_else(|| StoreError::NotFound(format!("hold {hold_id}")))?
            .meta();
        hold.released_by = Some(released_by);
        hold.released_at = Some(now);
        Ok(hold)
    }

    async fn standing_hold(&self, id: &str) -> Result<Option<i64>> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT id FROM case_holds WHERE case_id = $1 AND released_at IS NULL \
             ORDER BY id LIMIT 1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    async fn holds(&self, id: &str) -> Result<Vec<HoldRecord>> {
        let rows: Vec<HoldRow> = on_pool!(&self.pool, |pool| sqlx::query_as(HOLDS_OF)
            .bind(id)
            .fetch_all(pool)
            .await?);
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.data_key(id).await?;
        rows.into_iter()
            .map(|row| {
                let reason = open(&self.keys, key.as_ref(), Table::Holds, id, &row.body)?;
                let mut hold = row.meta();
                hold.reason = Some(reason.as_str().unwrap_or_default().to_string());
                Ok(hold)
            })
            .collect()
    }

    async fn create_referral(
        &self,
        id: &str,
        referral: NewReferral,
        event: NewCaseEvent,
    ) -> Result<ReferralRecord> {
        check_text("a referral's kind", &referral.kind)?;
        check_text("a referral's state", &referral.state)?;
        check_text("an event's kind", &event.kind)?;
        let now = tandem_core::time::now_iso();
        let key = self.ensure_data_key(id).await?;
        let (body, key_id) = seal_data(&key, Table::Referrals, id, &referral.detail)?;
        let (event_body, event_key) = seal_data(&key, Table::Events, id, &event.detail)?;
        let (referral_id, from): (i64, i64) = in_transaction!(&self.pool, |tx| {
            touch_case!(tx, id, &now);
            let from: i64 = sqlx::query_scalar("SELECT organisation_id FROM cases WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let inserted = sqlx::query_scalar(
                "INSERT INTO case_referrals (case_id, kind, from_organisation_id, \
                 to_organisation_id, state, created_by, created_at, updated_at, body, key_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING id",
            )
            .bind(id)
            .bind(&referral.kind)
            .bind(from)
            .bind(referral.to_organisation_id)
            .bind(&referral.state)
            .bind(referral.created_by)
            .bind(&now)
            .bind(&body)
            .bind(key_id)
            .fetch_one(&mut *tx)
            .await;
            let referral_id: i64 = match inserted {
                Ok(referral_id) => referral_id,
                Err(err) => {
                    return Err(match err.as_database_error() {
                        Some(db) if db.is_foreign_key_violation() => StoreError::NotFound(format!(
                            "organisation {}",
                            referral.to_organisation_id
                        )),
                        _ => StoreError::Database(err),
                    });
                }
            };
            sqlx::query(INSERT_EVENT)
                .bind(id)
                .bind(&now)
                .bind(event.actor_user_id)
                .bind(&event.kind)
                .bind(&event_body)
                .bind(event_key)
                .fetch_one(&mut *tx)
                .await?;
            (referral_id, from)
        });
        Ok(ReferralRecord {
            id: referral_id,
            case_id: id.to_string(),
            kind: referral.kind,
            from_organisation_id: from,
            to_organisation_id: referral.to_organisation_id,
            state: referral.state,
            created_by: referral.created_by,
            created_at: now.clone(),
            updated_at: now,
            decided_by: None,
            detail: referral.detail,
        })
    }

    async fn referral(&self, referral_id: i64) -> Result<Option<ReferralRecord>> {
        let row: Option<ReferralRow> = on_pool!(&self.pool, |pool| sqlx::query_as(concat!(
            "SELECT ",
            referral_columns!(),
            " FROM case_referrals WHERE id = $1"
        ))
        .bind(referral_id)
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else {
            return Ok(None);
        };
        let key = self.data_key(&row.case_id).await?;
        row.open(&self.keys, key.as_ref()).map(Some)
    }

    async fn case_referrals(&self, id: &str) -> Result<Vec<ReferralRecord>> {
        let rows: Vec<ReferralRow> = on_pool!(&self.pool, |pool| sqlx::query_as(concat!(
            "SELECT ",
            referral_columns!(),
            " FROM case_referrals WHERE case_id = $1 ORDER BY id"
        ))
        .bind(id)
        .fetch_all(pool)
        .await?);
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.data_key(id).await?;
        open_all(rows, &self.keys, key.as_ref(), ReferralRow::open)
    }

    async fn organisation_referrals(&self, organisation_id: i64) -> Result<Vec<ReferralRecord>> {
        let rows: Vec<ReferralRow> = on_pool!(&self.pool, |pool| sqlx::query_as(concat!(
            "SELECT ",
            referral_columns!(),
            " FROM case_referrals WHERE from_organisation_id = $1 OR to_organisation_id = $1 \
             ORDER BY id DESC"
        ))
        .bind(organisation_id)
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(ReferralRow::meta).collect())
    }

    async fn update_referral(
        &self,
        referral_id: i64,
        change: ReferralChange,
    ) -> Result<ReferralRecord> {
        check_text("a referral's state", &change.to)?;
        check_text("an event's kind", &change.event.kind)?;
        let case_id: Option<String> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT case_id FROM case_referrals WHERE id = $1"
        )
        .bind(referral_id)
        .fetch_optional(pool)
        .await?);
        let case_id =
            case_id.ok_or_else(|| StoreError::NotFound(format!("referral {referral_id}")))?;
        let key = self.ensure_data_key(&case_id).await?;
        let (event_body, event_key) =
            seal_data(&key, Table::Events, &case_id, &change.event.detail)?;
        let now = tandem_core::time::now_iso();
        in_transaction!(&self.pool, |tx| {
            let updated = sqlx::query(
                "UPDATE case_referrals SET state = $3, decided_by = $4, updated_at = $5 \
                 WHERE id = $1 AND state = $2",
            )
            .bind(referral_id)
            .bind(&change.from)
            .bind(&change.to)
            .bind(change.by)
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::Invalid(format!(
                    "referral {referral_id} is no longer {}: it changed meanwhile",
                    change.from
                )));
            }
            if change.move_case {
                sqlx::query(
                    "UPDATE cases SET organisation_id = (SELECT to_organisation_id \
                     FROM case_referrals WHERE id = $1) WHERE id = $2",
                )
                .bind(referral_id)
                .bind(&case_id)
                .execute(&mut *tx)
                .await?;
            }
            touch_case!(tx, &case_id, &now);
            sqlx::query(INSERT_EVENT)
                .bind(&case_id)
                .bind(&now)
                .bind(change.event.actor_user_id)
                .bind(&change.event.kind)
                .bind(&event_body)
                .bind(event_key)
                .fetch_one(&mut *tx)
                .await?;
        });
        self.referral(referral_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("referral {referral_id}")))
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
                .map(|body| open(&self.keys, None, Table::Secrets, name, &body))
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

/// Brings every sealed case row up to date; returns how many rows it rewrote:
/// wrapped data keys not under the active keyring key are re-wrapped, case rows still sealed
/// directly by the keyring (written before data keys) move under their case's data key, and
/// the protection secrets are re-sealed under the active key.
pub(crate) async fn reencrypt(store: &SqlStore) -> Result<u64> {
    let Some(ring) = store.keys.current() else {
        return Err(StoreError::Invalid(
            "re-encryption needs the field-encryption keys (a key file or TANDEM_KEYS)".into(),
        ));
    };
    let active = i64::from(ring.active_id());
    let mut resealed = rewrap_data_keys(store, active).await?;
    for table in Table::ALL {
        let select = stale_page_sql(table);
        let update = reseal_sql(table);
        // Case rows are stale while not under their data key; secrets while not under the
        // active keyring key.
        let fresh = if table == Table::Secrets {
            active
        } else {
            DATA_KEY_ID
        };
        let mut after = String::new();
        loop {
            let page: Vec<SealedRow> = on_pool!(&store.pool, |pool| sqlx::query_as(
                sqlx::AssertSqlSafe(select.clone())
            )
            .bind(fresh)
            .bind(&after)
            .bind(REENCRYPT_BATCH)
            .fetch_all(pool)
            .await?);
            let Some(last) = page.last() else {
                break;
            };
            after = last.row_id.clone();
            let mut data_keys: HashMap<String, DataKey> = HashMap::new();
            let mut sealed = Vec::with_capacity(page.len());
            for row in &page {
                if table == Table::Secrets {
                    sealed.push(store.keys.retrying(|ring| {
                        let value = open_with(ring, None, table, &row.case_id, &row.body)?;
                        seal_with(ring, table, &row.case_id, &value)
                    })?);
                    continue;
                }
                if !data_keys.contains_key(&row.case_id) {
                    let key = store.ensure_data_key(&row.case_id).await?;
                    data_keys.insert(row.case_id.clone(), key);
                }
                let key = data_keys.get(&row.case_id);
                let value = open(&store.keys, key, table, &row.case_id, &row.body)?;
                let key = key.ok_or_else(|| unknown_case(&row.case_id))?;
                sealed.push(seal_data(key, table, &row.case_id, &value)?);
            }
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

/// Re-wraps every data key that is not under the active keyring key (the data keys stay the
/// same, so no case row needs rewriting).
async fn rewrap_data_keys(store: &SqlStore, active: i64) -> Result<u64> {
    let mut rewrapped = 0u64;
    let mut after = String::new();
    loop {
        let page: Vec<KeyRow> = on_pool!(&store.pool, |pool| sqlx::query_as(
            "SELECT case_id, wrapped FROM case_keys WHERE key_id <> $1 AND case_id > $2 \
             ORDER BY case_id LIMIT $3"
        )
        .bind(active)
        .bind(&after)
        .bind(REENCRYPT_BATCH)
        .fetch_all(pool)
        .await?);
        let Some(last) = page.last() else {
            return Ok(rewrapped);
        };
        after = last.case_id.clone();
        let wrapped = page
            .iter()
            .map(|row| {
                let key = unwrap_key(&store.keys, row)?;
                wrap_key(&store.keys, &key, &row.case_id)
            })
            .collect::<Result<Vec<(String, i64)>>>()?;
        let written: u64 = in_transaction!(&store.pool, |tx| {
            let mut written = 0;
            for (row, (new, key_id)) in page.iter().zip(&wrapped) {
                written += sqlx::query(
                    "UPDATE case_keys SET wrapped = $2, key_id = $3 \
                     WHERE case_id = $1 AND wrapped = $4",
                )
                .bind(&row.case_id)
                .bind(new)
                .bind(*key_id)
                .bind(&row.wrapped)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            written
        });
        rewrapped += written;
    }
}

/// Keyring keys in use by case data, added to `usage`: each wrapped data key counts once for
/// the key that wrapped it, as do rows still sealed directly by the keyring.
pub(crate) async fn add_key_usage(pool: &Pool, usage: &mut BTreeMap<u32, u64>) -> Result<()> {
    let mut sources: Vec<String> = Table::ALL
        .iter()
        .map(|table| {
            format!(
                "SELECT key_id, COUNT(*) FROM {} WHERE key_id <> {DATA_KEY_ID} GROUP BY key_id",
                table.name()
            )
        })
        .collect();
    sources.push("SELECT key_id, COUNT(*) FROM case_keys GROUP BY key_id".to_string());
    for sql in sources {
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
            open_with(Some(&ring), None, Table::Cases, "case-1", &stored).unwrap(),
            value
        );
        assert!(open_with(Some(&ring), None, Table::Cases, "case-2", &stored).is_err());
        assert!(open_with(Some(&ring), None, Table::Events, "case-1", &stored).is_err());
        assert!(matches!(
            open_with(None, None, Table::Cases, "case-1", &stored),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            open_with(Some(&ring), None, Table::Cases, "case-1", "{\"name\":1}"),
            Err(StoreError::Corrupt(_))
        ));
        // Sealed with a data key: only that key opens it, in its place.
        let key = DataKey::generate();
        let (sealed, id) = seal_data(&key, Table::Events, "case-1", &value).unwrap();
        assert_eq!(id, DATA_KEY_ID);
        assert_eq!(
            open_with(Some(&ring), Some(&key), Table::Events, "case-1", &sealed).unwrap(),
            value
        );
        assert!(open_with(Some(&ring), Some(&key), Table::Cases, "case-1", &sealed).is_err());
        assert!(matches!(
            open_with(Some(&ring), None, Table::Events, "case-1", &sealed),
            Err(StoreError::Corrupt(ref m)) if m.contains("erased")
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
