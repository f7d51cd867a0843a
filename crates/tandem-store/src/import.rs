//! Import sessions.
//!
//! An import writes nothing to the store until it commits. Entities are buffered a batch of
//! [`BATCH`] distinct ids at a time (an id put twice is merged in the buffer); each full batch
//! is prepared (hashes, encoded values) and handed to a writer task that stages it on the
//! session's own connection ([`crate::staging`]), so that preparing one batch overlaps with
//! writing the one before. Commit merges the staging tables into the store in one transaction
//! ([`crate::merge`]). Rolling back, dropping the session or killing the process leaves the store
//! untouched: the staging tables vanish with the connection.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tandem_core::{Entity, Model, Sensitivity, value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::codec::RowName;
use crate::db::{Conn, Connector, Dialect, on_conn};
use crate::merge::Merge;
use crate::protect::{self, Keys};
use crate::staging::{Batch, PreparedPut, Stager};
use crate::{ImportRequest, ImportSession, ImportSummary, Result, StoreError};
use crate::{postgres, sqlite};

/// Distinct ids buffered before they are staged.
const BATCH: usize = 1000;

/// The datasets with an open import in this process.
pub(crate) type OpenImports = Arc<Mutex<HashSet<String>>>;

/// Holds a dataset's place in [`OpenImports`] while its session lives.
pub(crate) struct OpenImport {
    registry: OpenImports,
    dataset: String,
}

impl OpenImport {
    pub(crate) fn register(registry: &OpenImports, dataset: &str) -> Result<OpenImport> {
        let mut open = registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !open.insert(dataset.to_string()) {
            return Err(already_open(dataset));
        }
        Ok(OpenImport {
            registry: Arc::clone(registry),
            dataset: dataset.to_string(),
        })
    }
}

impl Drop for OpenImport {
    fn drop(&mut self) {
        let mut open = self
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.remove(&self.dataset);
    }
}

fn already_open(dataset: &str) -> StoreError {
    StoreError::Invalid(format!(
        "an import of dataset {dataset} is already open; wait for it to finish"
    ))
}

pub(crate) const VERSION_ID: &str =
    "SELECT id FROM dataset_versions WHERE dataset = $1 AND version = $2";
pub(crate) const LATEST_VERSION_ID: &str =
    "SELECT MAX(id) FROM dataset_versions WHERE dataset = $1";
const COUNT_ENTITIES: &str = "SELECT COUNT(*) FROM entities WHERE dataset = $1";

/// Opens a session for `request`: a no-op when the version is already stored.
pub(crate) async fn begin(
    connector: &Connector,
    dialect: &'static Dialect,
    keys: Arc<Keys>,
    request: ImportRequest,
    guard: OpenImport,
) -> Result<Box<dyn ImportSession>> {
    check_request(&request)?;
    // Seal with the newest key: a process that has not read the key file since another one
    // rotated the keys would otherwise seal with a key that may be dropped from the file.
    let keys_unavailable = keys.reload().err().map(|err| err.to_string());
    let mut conn = match connector {
        Connector::Sqlite(options) => Conn::Sqlite(sqlite::connect_session(options).await?),
        Connector::Postgres(options) => {
            let mut conn = postgres::connect_session(options).await?;
            if !postgres::try_lock_dataset(&mut conn, &request.dataset).await? {
                return Err(already_open(&request.dataset));
            }
            Conn::Postgres(conn)
        }
    };
    let stored: Option<i64> = on_conn!(&mut conn, |c| sqlx::query_scalar(VERSION_ID)
        .bind(&request.dataset)
        .bind(&request.version)
        .fetch_optional(&mut *c)
        .await?);
    if stored.is_some() {
        let entities = count_entities(&mut conn, &request.dataset).await?;
        close(conn).await;
        return Ok(Box::new(UnchangedImport {
            summary: ImportSummary {
                dataset: request.dataset,
                version: request.version,
                unchanged: true,
                entities,
                ..ImportSummary::default()
            },
            _guard: guard,
        }));
    }
    let base_version: Option<i64> = on_conn!(&mut conn, |c| sqlx::query_scalar(LATEST_VERSION_ID)
        .bind(&request.dataset)
        .fetch_one(&mut *c)
        .await?);
    let stager = Stager::create(conn, dialect, request.dataset.clone(), Arc::clone(&keys)).await?;
    Ok(Box::new(SqlImport {
        writer: Some(Writer::spawn(stager)),
        dialect,
        keys,
        keys_unavailable,
        now: tandem_core::time::now_iso(),
        request,
        base_version,
        pending: HashMap::new(),
        _guard: guard,
    }))
}

fn check_request(request: &ImportRequest) -> Result<()> {
    if request.dataset.trim().is_empty() {
        return Err(StoreError::Invalid("an import needs a dataset name".into()));
    }
    if request.version.trim().is_empty() {
        return Err(StoreError::Invalid(format!(
            "the import of dataset {} needs a version",
            request.dataset
        )));
    }
    Ok(())
}

pub(crate) async fn count_entities(conn: &mut Conn, dataset: &str) -> Result<u64> {
    let count: i64 = on_conn!(conn, |c| sqlx::query_scalar(COUNT_ENTITIES)
        .bind(dataset)
        .fetch_one(&mut *c)
        .await?);
    to_u64(count)
}

pub(crate) fn to_u64(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
}

async fn close(mut conn: Conn) {
    // Failures here leave nothing behind: the server ends the session and its locks anyway.
    if let Conn::Postgres(c) = &mut conn {
        let _ = postgres::unlock_all(c).await;
    }
    let _ = on_conn!(conn, |c| sqlx::Connection::close(c).await);
}

fn check_entity(entity: &Entity) -> Result<()> {
    if !value::is_valid_entity_id(&entity.id) {
        return Err(StoreError::Invalid(format!(
            "invalid entity id {:?}",
            entity.id
        )));
    }
    match Model::get().schema(&entity.schema) {
        Some(schema) if !schema.is_abstract => Ok(()),
        Some(_) => Err(StoreError::Invalid(format!(
            "entity {}: schema {} is abstract",
            entity.id, entity.schema
        ))),
        None => Err(StoreError::Invalid(format!(
            "entity {}: unknown schema {:?}",
            entity.id, entity.schema
        ))),
    }
}

pub(crate) fn merge_into(held: &mut Entity, other: &Entity) -> Result<()> {
    held.merge(other).map_err(|err| {
        StoreError::Invalid(format!(
            "entity {} is given twice and the two cannot merge: {err}",
            held.id
        ))
    })
}

/// The session for a version that is already stored: accepts the stream, writes nothing.
struct UnchangedImport {
    summary: ImportSummary,
    _guard: OpenImport,
}

#[async_trait]
impl ImportSession for UnchangedImport {
    async fn put(&mut self, _entity: Entity) -> Result<()> {
        Ok(())
    }
    async fn delete(&mut self, _entity_id: &str) -> Result<()> {
        Ok(())
    }
    async fn commit(self: Box<Self>) -> Result<ImportSummary> {
        Ok(self.summary)
    }
    async fn rollback(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// The task that stages batches, one at a time, in the order they were sent.
struct Writer {
    batches: mpsc::Sender<Batch>,
    task: JoinHandle<Result<Stager>>,
}

impl Writer {
    fn spawn(mut stager: Stager) -> Writer {
        // One batch waits while one is written: enough to overlap, little to hold.
        let (batches, mut receiver) = mpsc::channel::<Batch>(1);
        let task = tokio::spawn(async move {
            while let Some(batch) = receiver.recv().await {
                stager.stage(batch).await?;
            }
            Ok(stager)
        });
        Writer { batches, task }
    }

    /// Waits for every sent batch to be staged and returns the stager.
    async fn finish(self) -> Result<Stager> {
        drop(self.batches);
        self.task.await.map_err(|err| {
            StoreError::Invalid(format!("the import's writer stopped unexpectedly: {err}"))
        })?
    }
}

enum Pending {
    /// `after_delete`: the id was deleted earlier in this import, so this entity replaces
    /// whatever is staged instead of merging with it.
    Put {
        entity: Entity,
        after_delete: bool,
    },
    Delete,
}

struct SqlImport {
    /// Taken when the session ends or its writer fails.
    writer: Option<Writer>,
    dialect: &'static Dialect,
    keys: Arc<Keys>,
    /// Why the keys could not be reloaded at the start, which protected records must not ignore.
    keys_unavailable: Option<String>,
    request: ImportRequest,
    /// The import's time: first and last seen of what it asserts.
    now: String,
    base_version: Option<i64>,
    pending: HashMap<String, Pending>,
    _guard: OpenImport,
}

fn closed() -> StoreError {
    StoreError::Invalid("the import session has ended after an error".into())
}

impl SqlImport {
    /// Hands the buffered batch to the writer.
    async fn send_batch(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::default();
        let ring = self.keys.current();
        for (id, pending) in self.pending.drain() {
            match pending {
                Pending::Put {
                    entity,
                    after_delete,
                } => batch.puts.push(PreparedPut::new(
                    entity,
                    after_delete,
                    &self.request.dataset,
                    ring.as_deref(),
                )?),
                Pending::Delete => batch.deletes.push(id),
            }
        }
        let writer = self.writer.as_ref().ok_or_else(closed)?;
        if writer.batches.send(batch).await.is_err() {
            // The writer stopped on an error: that error is the answer.
            let writer = self.writer.take().ok_or_else(closed)?;
            writer.finish().await?;
            return Err(closed());
        }
        Ok(())
    }

    /// Refuses a protected entity at once, rather than at the end of its batch, when it could
    /// not be sealed.
    fn check_sealable(&self, entity: &Entity) -> Result<()> {
        let place = RowName {
            dataset: &self.request.dataset,
            entity_id: &entity.id,
        };
        if let Some(reason) = &self.keys_unavailable {
            return Err(StoreError::Invalid(format!(
                "entity {} of dataset {} is protected, and the field-encryption keys could not \
                 be reloaded: {reason}",
                entity.id, self.request.dataset
            )));
        }
        match self.keys.current() {
            Some(_) => Ok(()),
            None => Err(protect::key_needed(&place)),
        }
    }

    async fn stage_all(&mut self) -> Result<Conn> {
        self.send_batch().await?;
        let writer = self.writer.take().ok_or_else(closed)?;
        Ok(writer.finish().await?.into_conn())
    }
}

#[async_trait]
impl ImportSession for SqlImport {
    async fn put(&mut self, mut entity: Entity) -> Result<()> {
        check_entity(&entity)?;
        entity.sensitivity = entity.sensitivity.max(self.request.sensitivity);
        if entity.sensitivity == Sensitivity::Protected {
            self.check_sealable(&entity)?;
        }
        match self.pending.entry(entity.id.clone()) {
            Entry::Vacant(slot) => {
                slot.insert(Pending::Put {
                    entity,
                    after_delete: false,
                });
            }
            Entry::Occupied(mut slot) => match slot.get_mut() {
                Pending::Put { entity: held, .. } => merge_into(held, &entity)?,
                pending @ Pending::Delete => {
                    *pending = Pending::Put {
                        entity,
                        after_delete: true,
                    }
                }
            },
        }
        if self.pending.len() >= BATCH {
            self.send_batch().await?;
        }
        Ok(())
    }

    async fn delete(&mut self, entity_id: &str) -> Result<()> {
        self.pending.insert(entity_id.to_string(), Pending::Delete);
        if self.pending.len() >= BATCH {
            self.send_batch().await?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<ImportSummary> {
        let mut conn = self.stage_all().await?;
        let merged = Merge {
            conn: &mut conn,
            dialect: self.dialect,
            request: &self.request,
            now: &self.now,
            base_version: self.base_version,
            keys: &self.keys,
        }
        .run()
        .await;
        if merged.is_err() {
            // The transaction may be open; closing the connection would end it too, but saying
            // so is quicker for the server.
            let _ = on_conn!(&mut conn, |c| sqlx::query("ROLLBACK")
                .execute(&mut *c)
                .await
                .map(|done| done.rows_affected()));
        }
        close(conn).await;
        merged
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        self.pending.clear();
        if let Some(writer) = self.writer.take()
            && let Ok(stager) = writer.finish().await
        {
            close(stager.into_conn()).await;
        }
        Ok(())
    }
}
