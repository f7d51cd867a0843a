//! [`Store`] on either backend: reads, jobs, and the opening of imports.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use tandem_core::{Provenance, Sensitivity, Statement};

use crate::codec::{self, RowName};
use crate::crypto::Keyring;
use crate::db::{Connector, Dialect, Pool, Scalar, fetch_bound, fetch_for_ids_pooled, on_pool};
use crate::import::{self, OpenImport, OpenImports};
use crate::protect::{Keys, needs_reload};
use crate::security::{
    ApiToken, AuditEntry, AuditFilter, AuditVerification, NewAuditEntry, NewUser, Organisation,
    Session, User,
};
use crate::{
    ChangeKind, DatasetSummary, DatasetVersion, EntityChange, ImportRequest, ImportSession, Job,
    JobState, LastChange, NameRow, NameTable, Result, Store, StoreError, StoredEntity, accounts,
    audit, maintenance, names,
};

/// Entities per page when streaming.
const PAGE: i64 = 1000;

pub(crate) struct SqlStore {
    pub(crate) pool: Pool,
    pub(crate) connector: Connector,
    pub(crate) dialect: &'static Dialect,
    open_imports: OpenImports,
    pub(crate) keys: Arc<Keys>,
}

impl SqlStore {
    pub(crate) fn new(
        pool: Pool,
        connector: Connector,
        dialect: &'static Dialect,
        keys: Keys,
    ) -> SqlStore {
        SqlStore {
            pool,
            connector,
            dialect,
            open_imports: Arc::new(Mutex::new(HashSet::new())),
            keys: Arc::new(keys),
        }
    }
}

/// The columns that [`EntityRow`] reads: `e` is the entity row, `v` its version, `d` its
/// dataset.
const NAME_TABLE_SQL: &str = "SELECT n.dataset, n.entity_id, e.schema, e.sensitivity, n.names \
    FROM entity_names n JOIN entities e ON e.dataset = n.dataset AND e.entity_id = n.entity_id";

macro_rules! entity_columns {
    () => {
        "e.dataset, e.entity_id, e.schema, e.sensitivity, e.confidence, e.properties, \
         e.value_first_seen, e.first_seen, e.last_seen, v.version, d.owner_organisation"
    };
}

macro_rules! entity_select {
    () => {
        concat!(
            "SELECT ",
            entity_columns!(),
            " FROM entities e JOIN dataset_versions v ON v.id = e.version_id \
             JOIN datasets d ON d.name = e.dataset "
        )
    };
}

const ENTITIES_BY_IDS: &str = concat!(entity_select!(), "WHERE e.entity_id {ids}");

const ENTITY_BY_ID: &str = concat!(
    entity_select!(),
    "WHERE e.entity_id = $1 ORDER BY e.dataset"
);
const PAGE_OF_DATASET: &str = concat!(
    entity_select!(),
    "WHERE e.dataset = $1 AND e.entity_id > $2 ORDER BY e.entity_id LIMIT $3"
);
const PAGE_OF_ALL: &str = concat!(
    entity_select!(),
    "WHERE (e.entity_id, e.dataset) > ($1, $2) ORDER BY e.entity_id, e.dataset LIMIT $3"
);
const REFERENCING: &str = concat!(
    "SELECT ",
    entity_columns!(),
    " FROM (SELECT DISTINCT dataset, source_id FROM entity_refs WHERE target_id = $1) r \
    JOIN entities e ON e.dataset = r.dataset AND e.entity_id = r.source_id \
    JOIN dataset_versions v ON v.id = e.version_id \
    JOIN datasets d ON d.name = e.dataset ORDER BY e.entity_id, e.dataset"
);

#[derive(sqlx::FromRow)]
struct EntityRow {
    dataset: String,
    entity_id: String,
    schema: String,
    sensitivity: String,
    confidence: Option<f64>,
    properties: String,
    value_first_seen: Option<String>,
    first_seen: String,
    last_seen: String,
    version: String,
    owner_organisation: Option<i64>,
}

impl EntityRow {
    fn name(&self) -> RowName<'_> {
        RowName {
            dataset: &self.dataset,
            entity_id: &self.entity_id,
        }
    }

    fn to_stored(&self, ring: Option<&Keyring>) -> Result<StoredEntity> {
        let row = self.name();
        let sensitivity = codec::decode_sensitivity(&row, &self.sensitivity)?;
        let properties =
            codec::decode_stored_properties(&row, sensitivity, &self.properties, ring)?;
        let entity = codec::rebuild_entity(
            &row,
            self.schema.clone(),
            properties,
            sensitivity,
            self.confidence,
        )?;
        Ok(StoredEntity {
            dataset: self.dataset.clone(),
            entity,
            first_seen: self.first_seen.clone(),
            last_seen: self.last_seen.clone(),
            owner_organisation: self.owner_organisation,
        })
    }

    fn to_statements(&self, ring: Option<&Keyring>) -> Result<Vec<Statement>> {
        let row = self.name();
        let sensitivity = codec::decode_sensitivity(&row, &self.sensitivity)?;
        let properties =
            codec::decode_stored_properties(&row, sensitivity, &self.properties, ring)?;
        let dates = codec::decode_stored_value_first_seen(
            &row,
            sensitivity,
            self.value_first_seen.as_deref(),
            ring,
        )?;
        let mut statements = Vec::new();
        for (prop, values) in properties {
            for value in values {
                let first_seen = dates
                    .get(&(prop.clone(), value.clone()))
                    .unwrap_or(&self.first_seen)
                    .clone();
                statements.push(Statement {
                    entity_id: self.entity_id.clone(),
                    schema: self.schema.clone(),
                    prop: prop.clone(),
                    value,
                    provenance: Provenance {
                        dataset: self.dataset.clone(),
                        version: self.version.clone(),
                        first_seen,
                        last_seen: self.last_seen.clone(),
                    },
                    sensitivity,
                    confidence: self.confidence.map(|c| c as f32),
                });
            }
        }
        Ok(statements)
    }
}

const DATASETS: &str = "SELECT d.name, d.title, d.sensitivity, d.owner_organisation, \
    (SELECT v.version FROM dataset_versions v WHERE v.dataset = d.name ORDER BY v.id DESC LIMIT 1) \
    AS version FROM datasets d ORDER BY d.name";
const SCHEMA_COUNTS: &str =
    "SELECT dataset, schema, COUNT(*) FROM entities GROUP BY dataset, schema";
const VERSIONS: &str = "SELECT dataset, version, source, imported_at, added, changed, removed, \
    entities FROM dataset_versions WHERE dataset = $1 ORDER BY id";
const VERSION_ID: &str = "SELECT id FROM dataset_versions WHERE dataset = $1 AND version = $2";
/// Driven from the versions, so that each (version, entity) pair is a primary-key lookup.
const LAST_CHANGES_OF_IDS: &str = "SELECT v.dataset, c.entity_id, MAX(v.imported_at) \
    FROM dataset_versions v JOIN entity_changes c ON c.version_id = v.id \
    WHERE c.change <> 'removed' AND c.entity_id {ids} GROUP BY v.dataset, c.entity_id";
const LAST_CHANGES: &str = "SELECT v.dataset, c.entity_id, MAX(v.imported_at) \
    FROM entity_changes c JOIN dataset_versions v ON v.id = c.version_id \
    WHERE c.change <> 'removed' GROUP BY v.dataset, c.entity_id";
const CHANGES: &str =
    "SELECT entity_id, schema, change FROM entity_changes WHERE version_id = $1 ORDER BY entity_id";

#[derive(sqlx::FromRow)]
struct DatasetRow {
    name: String,
    title: Option<String>,
    sensitivity: String,
    owner_organisation: Option<i64>,
    version: Option<String>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    dataset: String,
    version: String,
    source: String,
    imported_at: String,
    added: i64,
    changed: i64,
    removed: i64,
    entities: i64,
}

macro_rules! job_columns {
    () => {
        "id, kind, state, params, done, total, checkpoint, message, created_at, updated_at"
    };
}

const CREATE_JOB: &str = concat!(
    "INSERT INTO jobs (kind, state, params, done, created_at, updated_at) ",
    "VALUES ($1, 'queued', $2, 0, $3, $3) RETURNING ",
    job_columns!()
);
const JOB_BY_ID: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");
const LATEST_JOBS: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs ORDER BY id DESC LIMIT $1"
);
const RECOVER_JOBS: &str = concat!(
    "UPDATE jobs SET state = 'interrupted', updated_at = $1 WHERE state = 'running' RETURNING ",
    job_columns!()
);

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    state: String,
    params: String,
    done: i64,
    total: Option<i64>,
    checkpoint: Option<String>,
    message: Option<String>,
    created_at: String,
    updated_at: String,
}

impl JobRow {
    fn into_job(self) -> Result<Job> {
        let corrupt = |what: &str, err: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("job {}, {what}: {err}", self.id))
        };
        let params = serde_json::from_str(&self.params).map_err(|err| corrupt("params", &err))?;
        let checkpoint = self
            .checkpoint
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|err| corrupt("checkpoint", &err))?;
        let state = job_state_from_str(&self.state)
            .ok_or_else(|| corrupt("state", &format!("unknown state {:?}", self.state)))?;
        let done = u64::try_from(self.done).map_err(|err| corrupt("done", &err))?;
        let total = self
            .total
            .map(u64::try_from)
            .transpose()
            .map_err(|err| corrupt("total", &err))?;
        Ok(Job {
            id: self.id,
            kind: self.kind,
            state,
            params,
            done,
            total,
            checkpoint,
            message: self.message,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn job_state_str(state: JobState) -> &'static str {
    match state {
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Done => "done",
        JobState::Failed => "failed",
        JobState::Interrupted => "interrupted",
    }
}

fn job_state_from_str(text: &str) -> Option<JobState> {
    [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Interrupted,
    ]
    .into_iter()
    .find(|state| job_state_str(*state) == text)
}

fn change_kind_from_str(text: &str) -> Option<ChangeKind> {
    match text {
        "added" => Some(ChangeKind::Added),
        "changed" => Some(ChangeKind::Changed),
        "removed" => Some(ChangeKind::Removed),
        _ => None,
    }
}

fn to_i64(n: u64, what: &str) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("{what} {n} is too large")))
}

fn to_u64(n: i64, what: &str) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} is negative ({n})")))
}

fn json_text(value: &serde_json::Value) -> Result<String> {
    serde_json::to_string(value).map_err(|err| StoreError::Invalid(format!("JSON: {err}")))
}

impl SqlStore {
    async fn entity_page(
        &self,
        dataset: Option<&str>,
        after: &(String, String),
    ) -> Result<Vec<EntityRow>> {
        let rows = on_pool!(&self.pool, |pool| match dataset {
            Some(dataset) => {
                sqlx::query_as(PAGE_OF_DATASET)
                    .bind(dataset)
                    .bind(&after.0)
                    .bind(PAGE)
                    .fetch_all(pool)
                    .await?
            }
            None => {
                sqlx::query_as(PAGE_OF_ALL)
                    .bind(&after.0)
                    .bind(&after.1)
                    .bind(PAGE)
                    .fetch_all(pool)
                    .await?
            }
        });
        Ok(rows)
    }

    async fn entity_rows(&self, sql: &'static str, id: &str) -> Result<Vec<EntityRow>> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query_as(sql)
            .bind(id)
            .fetch_all(pool)
            .await?))
    }

    /// Decodes rows with the current keys; rows sealed under a key that another process added
    /// since make the keys reload, once, and are decoded again.
    fn decode_rows<T>(
        &self,
        rows: &[EntityRow],
        decode: impl Fn(&EntityRow, Option<&Keyring>) -> Result<T>,
    ) -> Vec<Result<T>> {
        let ring = self.keys.current();
        let mut decoded: Vec<Result<T>> = rows
            .iter()
            .map(|row| decode(row, ring.as_deref()))
            .collect();
        let stale = |result: &Result<T>| matches!(result, Err(err) if needs_reload(err));
        if decoded.iter().any(stale) {
            if let Err(err) = self.keys.reload() {
                tracing::warn!(error = %err, "field-encryption keys could not be reloaded");
                return decoded;
            }
            let ring = self.keys.current();
            for (row, result) in rows.iter().zip(decoded.iter_mut()) {
                if stale(result) {
                    *result = decode(row, ring.as_deref());
                }
            }
        }
        decoded
    }

    async fn stored_entities(&self, sql: &'static str, id: &str) -> Result<Vec<StoredEntity>> {
        let rows = self.entity_rows(sql, id).await?;
        self.decode_rows(&rows, EntityRow::to_stored)
            .into_iter()
            .collect()
    }

    async fn job_rows(&self, sql: &'static str, value: i64) -> Result<Vec<JobRow>> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query_as(sql)
            .bind(value)
            .fetch_all(pool)
            .await?))
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        self.dialect.backend
    }

    async fn begin_import(&self, request: ImportRequest) -> Result<Box<dyn ImportSession + '_>> {
        let guard = OpenImport::register(&self.open_imports, &request.dataset)?;
        let keys = Arc::clone(&self.keys);
        import::begin(&self.connector, self.dialect, keys, request, guard).await
    }

    async fn datasets(&self) -> Result<Vec<DatasetSummary>> {
        let (datasets, counts): (Vec<DatasetRow>, Vec<(String, String, i64)>) =
            on_pool!(&self.pool, |pool| (
                sqlx::query_as(DATASETS).fetch_all(pool).await?,
                sqlx::query_as(SCHEMA_COUNTS).fetch_all(pool).await?
            ));
        let mut schemata: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for (dataset, schema, count) in counts {
            let count = to_u64(count, "an entity count")?;
            schemata.entry(dataset).or_default().insert(schema, count);
        }
        datasets
            .into_iter()
            .map(|row| {
                let sensitivity = Sensitivity::from_str(&row.sensitivity).map_err(|err| {
                    StoreError::Corrupt(format!("dataset {}, sensitivity: {err}", row.name))
                })?;
                let schemata = schemata.remove(&row.name).unwrap_or_default();
                Ok(DatasetSummary {
                    entities: schemata.values().sum(),
                    schemata,
                    version: row.version.unwrap_or_default(),
                    name: row.name,
                    title: row.title,
                    sensitivity,
                    owner_organisation: row.owner_organisation,
                })
            })
            .collect()
    }

    async fn versions(&self, dataset: &str) -> Result<Vec<DatasetVersion>> {
        let rows: Vec<VersionRow> = on_pool!(&self.pool, |pool| sqlx::query_as(VERSIONS)
            .bind(dataset)
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|row| {
                Ok(DatasetVersion {
                    added: to_u64(row.added, "added")?,
                    changed: to_u64(row.changed, "changed")?,
                    removed: to_u64(row.removed, "removed")?,
                    entities: to_u64(row.entities, "entities")?,
                    dataset: row.dataset,
                    version: row.version,
                    source: row.source,
                    imported_at: row.imported_at,
                })
            })
            .collect()
    }

    async fn changes(&self, dataset: &str, version: &str) -> Result<Vec<EntityChange>> {
        let rows: Vec<(String, String, String)> = on_pool!(&self.pool, |pool| {
            let version_id: Option<i64> = sqlx::query_scalar(VERSION_ID)
                .bind(dataset)
                .bind(version)
                .fetch_optional(pool)
                .await?;
            let Some(version_id) = version_id else {
                return Err(StoreError::NotFound(format!(
                    "version {version} of dataset {dataset}"
                )));
            };
            sqlx::query_as(CHANGES)
                .bind(version_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(entity_id, schema, change)| {
                let change = change_kind_from_str(&change).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "change of entity {entity_id} in {dataset} {version}: unknown kind {change:?}"
                    ))
                })?;
                Ok(EntityChange {
                    entity_id,
                    schema,
                    change,
                })
            })
            .collect()
    }

    async fn entity(&self, id: &str) -> Result<Vec<StoredEntity>> {
        self.stored_entities(ENTITY_BY_ID, id).await
    }

    async fn statements(&self, entity_id: &str) -> Result<Vec<Statement>> {
        let rows = self.entity_rows(ENTITY_BY_ID, entity_id).await?;
        let mut statements = Vec::new();
        for row in self.decode_rows(&rows, EntityRow::to_statements) {
            statements.extend(row?);
        }
        Ok(statements)
    }

    fn entities<'a>(&'a self, dataset: Option<&'a str>) -> BoxStream<'a, Result<StoredEntity>> {
        // Keyset pagination: each page starts after the last (id, dataset) of the one before, so
        // memory holds one page whatever the store's size.
        let pages = stream::try_unfold(
            Some((String::new(), String::new())),
            move |after| async move {
                let Some(after) = after else {
                    return Ok::<_, StoreError>(None);
                };
                let rows = self.entity_page(dataset, &after).await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let next = match rows.last() {
                    Some(last) if rows.len() as i64 == PAGE => {
                        Some((last.entity_id.clone(), last.dataset.clone()))
                    }
                    _ => None,
                };
                let page = self.decode_rows(&rows, EntityRow::to_stored);
                Ok(Some((page, next)))
            },
        );
        pages.map_ok(stream::iter).try_flatten().boxed()
    }

    async fn referencing(&self, id: &str) -> Result<Vec<StoredEntity>> {
        self.stored_entities(REFERENCING, id).await
    }

    async fn create_job(&self, kind: &str, params: serde_json::Value) -> Result<Job> {
        let params = json_text(&params)?;
        let now = tandem_core::time::now_iso();
        let row: JobRow = on_pool!(&self.pool, |pool| sqlx::query_as(CREATE_JOB)
            .bind(kind)
            .bind(params)
            .bind(now)
            .fetch_one(pool)
            .await?);
        row.into_job()
    }

    async fn update_job(
        &self,
        id: i64,
        done: u64,
        total: Option<u64>,
        checkpoint: Option<serde_json::Value>,
    ) -> Result<()> {
        let done = to_i64(done, "done")?;
        let total = total.map(|t| to_i64(t, "total")).transpose()?;
        let checkpoint = checkpoint.as_ref().map(json_text).transpose()?;
        let now = tandem_core::time::now_iso();
        let updated = on_pool!(&self.pool, |pool| sqlx::query(
            "UPDATE jobs SET done = $2, total = $3, checkpoint = $4, state = 'running', \
             updated_at = $5 WHERE id = $1 AND state IN ('queued', 'running', 'interrupted')"
        )
        .bind(id)
        .bind(done)
        .bind(total)
        .bind(checkpoint)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 0 {
            return Err(match self.job(id).await? {
                None => StoreError::NotFound(format!("job {id}")),
                Some(job) => StoreError::Invalid(format!(
                    "job {id} is {} and takes no more progress",
                    job_state_str(job.state)
                )),
            });
        }
        Ok(())
    }

    async fn finish_job(&self, id: i64, state: JobState, message: Option<String>) -> Result<()> {
        if matches!(state, JobState::Queued | JobState::Running) {
            return Err(StoreError::Invalid(format!(
                "job {id} cannot finish as {}: use done, failed or interrupted",
                job_state_str(state)
            )));
        }
        let now = tandem_core::time::now_iso();
        let updated = on_pool!(&self.pool, |pool| sqlx::query(
            "UPDATE jobs SET state = $2, message = $3, updated_at = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(job_state_str(state))
        .bind(message)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 0 {
            return Err(StoreError::NotFound(format!("job {id}")));
        }
        Ok(())
    }

    async fn job(&self, id: i64) -> Result<Option<Job>> {
        self.job_rows(JOB_BY_ID, id)
            .await?
            .into_iter()
            .next()
            .map(JobRow::into_job)
            .transpose()
    }

    async fn jobs(&self, limit: u32) -> Result<Vec<Job>> {
        self.job_rows(LATEST_JOBS, i64::from(limit))
            .await?
            .into_iter()
            .map(JobRow::into_job)
            .collect()
    }

    async fn recover_jobs(&self) -> Result<Vec<Job>> {
        let now = tandem_core::time::now_iso();
        let rows: Vec<JobRow> = on_pool!(&self.pool, |pool| sqlx::query_as(RECOVER_JOBS)
            .bind(now)
            .fetch_all(pool)
            .await?);
        let mut jobs = rows
            .into_iter()
            .map(JobRow::into_job)
            .collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    async fn search_entities(
        &self,
        text: &str,
        schema: Option<&str>,
        limit: u32,
        ceiling: Sensitivity,
    ) -> Result<Vec<StoredEntity>> {
        let Some(query) = names::search_query(text, schema, limit, ceiling, entity_columns!())?
        else {
            return Ok(Vec::new());
        };
        let mut values: Vec<Scalar> = query.values.into_iter().map(Scalar::Text).collect();
        values.push(Scalar::Int(query.limit));
        let rows: Vec<EntityRow> = fetch_bound(&self.pool, query.sql, values).await?;
        self.decode_rows(&rows, EntityRow::to_stored)
            .into_iter()
            .collect()
    }

    async fn name_table(&self) -> Result<NameTable> {
        let rows: Vec<(String, String, String, String, String)> =
            on_pool!(&self.pool, |pool| sqlx::query_as(NAME_TABLE_SQL)
                .fetch_all(pool)
                .await?);
        let rows = rows
            .into_iter()
            .map(|(dataset, entity_id, schema, sensitivity, names)| {
                let sensitivity = Sensitivity::from_str(&sensitivity).map_err(|_| {
                    StoreError::Corrupt(format!("entity {entity_id}: sensitivity {sensitivity:?}"))
                })?;
                Ok(NameRow {
                    dataset,
                    entity_id,
                    schema,
                    sensitivity,
                    names,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(NameTable::new(rows))
    }

    async fn entities_by_ids(&self, ids: &[&str]) -> Result<Vec<StoredEntity>> {
        let rows: Vec<EntityRow> =
            fetch_for_ids_pooled(&self.pool, self.dialect, ENTITIES_BY_IDS, ids).await?;
        self.decode_rows(&rows, EntityRow::to_stored)
            .into_iter()
            .collect()
    }

    async fn latest_version_id(&self) -> Result<Option<i64>> {
        let (id,): (Option<i64>,) = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT MAX(id) FROM dataset_versions"
        )
        .fetch_one(pool)
        .await?);
        Ok(id)
    }

    async fn last_changes(&self, entity_ids: Option<&[&str]>) -> Result<Vec<LastChange>> {
        let rows: Vec<(String, String, String)> = match entity_ids {
            Some(ids) => {
                fetch_for_ids_pooled(&self.pool, self.dialect, LAST_CHANGES_OF_IDS, ids).await?
            }
            None => on_pool!(&self.pool, |pool| sqlx::query_as(LAST_CHANGES)
                .fetch_all(pool)
                .await?),
        };
        Ok(rows
            .into_iter()
            .map(|(dataset, entity_id, at)| LastChange {
                dataset,
                entity_id,
                at,
            })
            .collect())
    }

    async fn create_organisation(&self, name: &str, title: &str) -> Result<Organisation> {
        accounts::create_organisation(&self.pool, name, title).await
    }

    async fn organisations(&self) -> Result<Vec<Organisation>> {
        accounts::organisations(&self.pool).await
    }

    async fn create_user(&self, user: NewUser) -> Result<User> {
        accounts::create_user(&self.pool, user).await
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        accounts::user(&self.pool, id).await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        accounts::user_by_name(&self.pool, username).await
    }

    async fn users(&self) -> Result<Vec<User>> {
        accounts::users(&self.pool).await
    }

    async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<()> {
        accounts::set_user_disabled(&self.pool, id, disabled).await
    }

    async fn set_password(&self, id: i64, password_hash: &str, must_change: bool) -> Result<()> {
        accounts::set_password(&self.pool, id, password_hash, must_change).await
    }

    async fn record_login_failure(
        &self,
        id: i64,
        threshold: u32,
        lock_until: &str,
    ) -> Result<User> {
        accounts::record_login_failure(&self.pool, id, threshold, lock_until).await
    }

    async fn record_login_success(&self, id: i64) -> Result<()> {
        accounts::record_login_success(&self.pool, id).await
    }

    async fn create_session(&self, session: Session) -> Result<()> {
        accounts::create_session(&self.pool, session).await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        accounts::session(&self.pool, token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, at: &str) -> Result<()> {
        accounts::touch_session(&self.pool, token_hash, at).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        accounts::delete_session(&self.pool, token_hash).await
    }

    async fn delete_user_sessions(&self, user_id: i64) -> Result<()> {
        accounts::delete_user_sessions(&self.pool, user_id).await
    }

    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        expires_at: Option<&str>,
    ) -> Result<ApiToken> {
        accounts::create_api_token(&self.pool, user_id, name, token_hash, expires_at).await
    }

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        accounts::api_token(&self.pool, token_hash).await
    }

    async fn api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
        accounts::api_tokens(&self.pool, user_id).await
    }

    async fn revoke_api_token(&self, id: i64) -> Result<()> {
        accounts::revoke_api_token(&self.pool, id).await
    }

    async fn touch_api_token(&self, id: i64) -> Result<()> {
        accounts::touch_api_token(&self.pool, id).await
    }

    async fn audit(&self, entry: NewAuditEntry) -> Result<AuditEntry> {
        audit::append(&self.pool, entry).await
    }

    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        audit::entries(&self.pool, filter).await
    }

    async fn verify_audit(&self) -> Result<AuditVerification> {
        audit::verify(&self.pool).await
    }

    async fn reload_keys(&self) -> Result<()> {
        self.keys.reload()
    }

    async fn reencrypt(&self) -> Result<u64> {
        let entities = maintenance::reencrypt(self, false).await?;
        let intelligence = crate::intelligence::reencrypt(self).await?;
        Ok(entities + crate::cases::reencrypt(self).await? + intelligence)
    }

    async fn key_usage(&self) -> Result<BTreeMap<u32, u64>> {
        let mut usage = maintenance::key_usage(&self.pool).await?;
        crate::cases::add_key_usage(&self.pool, &mut usage).await?;
        crate::intelligence::add_key_usage(&self.pool, &mut usage).await?;
        Ok(usage)
    }
}
