//! Tandem's storage: one [`Store`] trait with an SQLite (embedded default) and a PostgreSQL
//! implementation, chosen by URL. This is the only crate that speaks SQL.
//!
//! Data model:
//! - a *dataset* (e.g. `us_ofac_sdn`) has *versions*; every import is one version;
//! - the current statements of each (dataset, entity id), with provenance per statement
//!   (dataset, the version that last asserted it, first and last seen);
//! - a jobs table for long work, with progress counters and a checkpoint to resume from.
//!
//! Layout: one row per (dataset, entity) holds the entity's values as JSON with its schema,
//! content hash, sensitivity, first/last seen and the version that last asserted it (values
//! first seen later than their entity carry their own date). A small table of entity-typed
//! values answers [`Store::referencing`]. Imports stage their batches on a connection of their
//! own and merge them in one transaction at commit (see `import.rs`), so an import that fails,
//! is rolled back or whose process dies leaves nothing behind, and on SQLite other writers wait
//! only for the merge, not for the whole import.

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tandem_core::{Entity, Sensitivity, Statement};
use thiserror::Error;

mod accounts;
mod audit;
pub mod cases;
pub mod catalogue;
mod codec;
pub mod crypto;
mod db;
mod import;
pub mod intelligence;
mod maintenance;
mod merge;
mod names;
mod open;
mod postgres;
mod protect;
pub mod screening;
pub mod security;
mod sqlite;
mod staging;
mod store;
pub mod testing;

pub use names::{NameRow, NameTable};
pub use open::{DEFAULT_URL, open, open_default, open_with_keys};
pub use protect::KeySource;

use crate::security::{
    ApiToken, AuditEntry, AuditFilter, AuditVerification, NewAuditEntry, NewUser, Organisation,
    Session, User,
};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Field encryption failed: a key is missing or wrong, or a protected value was altered.
    #[error("field encryption: {0}")]
    Crypto(#[from] crypto::CryptoError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How an import relates to what the dataset already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// The import is the whole dataset: entities not in it are removed from the dataset.
    Full,
    /// The import changes some entities (FtM deltas, additions): nothing else is removed.
    Delta,
}

/// What an import is, before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRequest {
    pub dataset: String,
    /// A human title for the dataset (kept from the first import that gives one).
    pub title: Option<String>,
    /// Identifies the content: re-importing a version that is already stored changes nothing.
    pub version: String,
    pub mode: ImportMode,
    /// Sensitivity of the dataset's records unless an entity says otherwise (stricter wins).
    pub sensitivity: Sensitivity,
    /// Where the data came from (file names, URL), kept with the version.
    pub source: String,
    /// The organisation whose case workers may read the dataset's protected records. Kept from
    /// the latest import that names one.
    pub owner_organisation: Option<i64>,
}

/// The outcome of an import, also stored with the version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub dataset: String,
    pub version: String,
    /// The version was already stored; nothing was written.
    pub unchanged: bool,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Entities seen again without change.
    pub kept: u64,
    /// Entities in the dataset after the import.
    pub entities: u64,
}

/// One open import: everything written through it becomes visible at [`ImportSession::commit`]
/// and not before; dropping it or calling `rollback` leaves the store as it was.
#[async_trait]
pub trait ImportSession: Send {
    /// Adds or replaces this dataset's statements about `entity.id`.
    async fn put(&mut self, entity: Entity) -> Result<()>;
    /// Removes an entity from the dataset (delta imports).
    async fn delete(&mut self, entity_id: &str) -> Result<()>;
    /// Stores the import as a new version. Fails, storing nothing, if two fragments of one id
    /// cannot merge, or if another process committed a version of the dataset meanwhile.
    async fn commit(self: Box<Self>) -> Result<ImportSummary>;
    async fn rollback(self: Box<Self>) -> Result<()>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetVersion {
    pub dataset: String,
    pub version: String,
    pub source: String,
    pub imported_at: String,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    pub entities: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetSummary {
    pub name: String,
    pub title: Option<String>,
    /// The latest version.
    pub version: String,
    pub sensitivity: Sensitivity,
    pub entities: u64,
    /// Entity counts per schema.
    pub schemata: std::collections::BTreeMap<String, u64>,
    /// See [`ImportRequest::owner_organisation`].
    pub owner_organisation: Option<i64>,
}

/// When one dataset last changed one entity (see [`Store::last_changes`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastChange {
    pub dataset: String,
    pub entity_id: String,
    /// ISO 8601, as `DatasetVersion::imported_at`.
    pub at: String,
}

/// How an entity changed in one dataset version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Changed,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityChange {
    pub entity_id: String,
    pub schema: String,
    pub change: ChangeKind,
}

/// An entity as one dataset holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntity {
    pub dataset: String,
    pub entity: Entity,
    pub first_seen: String,
    pub last_seen: String,
    /// The owner of the dataset (see [`ImportRequest::owner_organisation`]).
    pub owner_organisation: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    /// Was running when its process died; can be resumed from its checkpoint.
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub state: JobState,
    /// What the job was asked to do (JSON), so a resumed job knows its work.
    pub params: serde_json::Value,
    pub done: u64,
    pub total: Option<u64>,
    /// Where to resume from (JSON), written with progress.
    pub checkpoint: Option<serde_json::Value>,
    pub message: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[async_trait]
pub trait Store:
    screening::ScreeningStore
    + cases::CaseStore
    + catalogue::CatalogueStore
    + intelligence::IntelligenceStore
    + Send
    + Sync
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Opens an import. Fails if another import of the same dataset is open (in this process;
    /// on PostgreSQL also in any other). If the version is already stored, the session accepts
    /// entities, writes nothing and its commit says `unchanged`.
    ///
    /// Entities are compared with the dataset at commit: an entity put twice is merged
    /// ([`Entity::merge`]); a record's sensitivity is the stricter of the request's and its own.
    async fn begin_import(&self, request: ImportRequest) -> Result<Box<dyn ImportSession + '_>>;

    async fn datasets(&self) -> Result<Vec<DatasetSummary>>;
    /// Versions of one dataset, oldest first.
    async fn versions(&self, dataset: &str) -> Result<Vec<DatasetVersion>>;
    /// What one version added, changed and removed.
    async fn changes(&self, dataset: &str, version: &str) -> Result<Vec<EntityChange>>;

    /// The entity with this id in every dataset that holds it.
    async fn entity(&self, id: &str) -> Result<Vec<StoredEntity>>;
    /// Every statement about this id, in every dataset, with provenance.
    async fn statements(&self, entity_id: &str) -> Result<Vec<Statement>>;
    /// All entities of one dataset (or all datasets), streamed in id order.
    fn entities<'a>(&'a self, dataset: Option<&'a str>) -> BoxStream<'a, Result<StoredEntity>>;
    /// Entities (in any dataset) whose entity-typed properties point at `id`.
    async fn referencing(&self, id: &str) -> Result<Vec<StoredEntity>>;

    /// A new job, `queued`.
    async fn create_job(&self, kind: &str, params: serde_json::Value) -> Result<Job>;
    /// Records progress and marks the job `running` (also when resuming an `interrupted` one).
    /// Fails with `NotFound` for an unknown job and `Invalid` for a finished one.
    async fn update_job(
        &self,
        id: i64,
        done: u64,
        total: Option<u64>,
        checkpoint: Option<serde_json::Value>,
    ) -> Result<()>;
    /// Ends a job as `done`, `failed` or `interrupted`.
    async fn finish_job(&self, id: i64, state: JobState, message: Option<String>) -> Result<()>;
    async fn job(&self, id: i64) -> Result<Option<Job>>;
    /// Most recent first.
    async fn jobs(&self, limit: u32) -> Result<Vec<Job>>;
    /// Marks jobs left `running` by a dead process as `interrupted` and returns them.
    async fn recover_jobs(&self) -> Result<Vec<Job>>;

    /// Entities of `schema` (or a schema derived from it) whose names or identifiers contain
    /// every word of `text` (accents and case do not matter), with a sensitivity of at most
    /// `ceiling`; exact name matches first, then names that start with the text, then the rest.
    /// Protected entities are never found: their names are kept out of every index.
    async fn search_entities(
        &self,
        text: &str,
        schema: Option<&str>,
        limit: u32,
        ceiling: Sensitivity,
    ) -> Result<Vec<StoredEntity>>;
    /// The entities with these ids, every dataset's version of each, in no particular order.
    async fn entities_by_ids(&self, ids: &[&str]) -> Result<Vec<StoredEntity>>;
    /// The whole names index, to search in memory ([`NameTable::search`]).
    async fn name_table(&self) -> Result<NameTable>;
    /// The newest dataset version's id: it changes with every import that changed something,
    /// so a copy of the names index made at one value is current while it stays the same.
    async fn latest_version_id(&self) -> Result<Option<i64>>;
    /// When entities last changed, per dataset: the import time of the newest version that
    /// added or changed each (re-imports that kept it unchanged do not count). `None` asks for
    /// every entity; ids of entities never stored are absent from the answer.
    async fn last_changes(&self, entity_ids: Option<&[&str]>) -> Result<Vec<LastChange>>;

    // Organisations and users.

    /// Fails with `Invalid` when the name is taken.
    async fn create_organisation(&self, name: &str, title: &str) -> Result<Organisation>;
    /// By name.
    async fn organisations(&self) -> Result<Vec<Organisation>>;
    /// Usernames are stored lower-case and are unique: fails with `Invalid` when it is taken.
    async fn create_user(&self, user: NewUser) -> Result<User>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    /// Case does not matter.
    async fn user_by_name(&self, username: &str) -> Result<Option<User>>;
    /// By username.
    async fn users(&self) -> Result<Vec<User>>;
    async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<()>;
    /// Also clears failed logins and any lock.
    async fn set_password(&self, id: i64, password_hash: &str, must_change: bool) -> Result<()>;
    /// Counts a failed login, atomically: at `threshold` failures (0: never) the account is
    /// locked until `lock_until` and the count starts again. Returns the user as updated.
    async fn record_login_failure(&self, id: i64, threshold: u32, lock_until: &str)
    -> Result<User>;
    /// Clears failures and lock, and notes the time of the login.
    async fn record_login_success(&self, id: i64) -> Result<()>;

    // Sessions: only digests of the tokens are stored.

    async fn create_session(&self, session: Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    /// Sets `last_seen_at`; a session that is gone is left gone.
    async fn touch_session(&self, token_hash: &str, at: &str) -> Result<()>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_user_sessions(&self, user_id: i64) -> Result<()>;

    // API tokens.

    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        expires_at: Option<&str>,
    ) -> Result<ApiToken>;
    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    /// One user's tokens, or everyone's (`None`), oldest first.
    async fn api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>>;
    /// Sets `revoked_at` (the first revocation's time stays).
    async fn revoke_api_token(&self, id: i64) -> Result<()>;
    /// Notes that the token was used; writes at most once a minute per token, so that busy
    /// clients do not queue behind the database's write lock.
    async fn touch_api_token(&self, id: i64) -> Result<()>;

    // The audit log: append-only and hash-chained.

    /// Appends an entry after the last one (appends from several processes queue).
    async fn audit(&self, entry: NewAuditEntry) -> Result<AuditEntry>;
    /// Newest first.
    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
    /// Walks the whole chain and names the first entry that was altered, or after which
    /// entries are missing.
    async fn verify_audit(&self) -> Result<AuditVerification>;

    // Field encryption.

    /// Reads the key source again (after `tandem keys rotate` elsewhere).
    async fn reload_keys(&self) -> Result<()>;
    /// Re-encrypts every protected record that is not under the active key, in batches of
    /// their own transaction (readers go on meanwhile); returns how many it re-encrypted.
    async fn reencrypt(&self) -> Result<u64>;
    /// Protected records per key id.
    async fn key_usage(&self) -> Result<std::collections::BTreeMap<u32, u64>>;
}
