//! The commit of an import: one transaction that merges the staging tables into the dataset,
//! mostly with set-based SQL. Only changed entities pass through Rust, a page at a time, to
//! carry their values' first-seen dates.

use tandem_core::Sensitivity;

use crate::codec::{self, RowName};
use crate::crypto::Keyring;
use crate::db::{Column, Conn, Dialect, insert_rows, on_conn};
use crate::import::{LATEST_VERSION_ID, VERSION_ID, count_entities, to_u64};
use crate::protect::{self, Field, Keys};
use crate::{ImportMode, ImportRequest, ImportSummary, Result, StoreError};

/// Changed entities merged per round trip.
const CHANGED_PAGE: i64 = 1000;

/// The commit of one import.
pub(crate) struct Merge<'a> {
    pub conn: &'a mut Conn,
    pub dialect: &'static Dialect,
    pub request: &'a ImportRequest,
    pub now: &'a str,
    /// The dataset's latest version when the import began: staging classified entities against
    /// it, so the merge refuses to run if another import committed since.
    pub base_version: Option<i64>,
    pub keys: &'a Keys,
}

const UPSERT_DATASET: &str = "INSERT INTO datasets \
    (name, title, sensitivity, created_at, owner_organisation) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (name) DO UPDATE SET title = COALESCE(datasets.title, excluded.title), \
    sensitivity = excluded.sensitivity, \
    owner_organisation = COALESCE(excluded.owner_organisation, datasets.owner_organisation)";

const INSERT_VERSION: &str = "INSERT INTO dataset_versions \
    (dataset, version, mode, source, imported_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";

/// A full import removes what it did not mention.
const STAGE_FULL_REMOVALS: &str = "INSERT INTO import_staging (entity_id, batch_no, kind, schema) \
    SELECT e.entity_id, 0, 'removed', e.schema FROM entities e WHERE e.dataset = $1 \
    AND NOT EXISTS (SELECT 1 FROM import_staging s WHERE s.entity_id = e.entity_id)";

const RECORD_CHANGES: &str = "INSERT INTO entity_changes (version_id, entity_id, schema, change) \
    SELECT $1, entity_id, schema, kind FROM import_staging \
    WHERE kind IN ('added', 'changed', 'removed')";

const COUNT_KINDS: &str = "SELECT kind, COUNT(*) FROM import_staging GROUP BY kind";

/// The page is taken from the staging table first, so that each entity row is found by its key.
const CHANGED_PAGE_SQL: &str = "SELECT s.entity_id, s.schema, s.content_hash, s.sensitivity, \
    s.confidence, s.properties, s.key_id, e.sensitivity AS old_sensitivity, \
    e.properties AS old_properties, e.value_first_seen AS old_value_first_seen, \
    e.first_seen AS old_first_seen \
    FROM (SELECT entity_id, schema, content_hash, sensitivity, confidence, properties, key_id \
        FROM import_staging WHERE kind = 'changed' AND entity_id > $2 \
        ORDER BY entity_id LIMIT $3) s \
    JOIN entities e ON e.dataset = $1 AND e.entity_id = s.entity_id ORDER BY s.entity_id";

const UPSERT_ENTITY_HEAD: &str = "INSERT INTO entities (dataset, entity_id, schema, \
    content_hash, sensitivity, confidence, properties, value_first_seen, first_seen, last_seen, \
    version_id, key_id)";
const UPSERT_ENTITY_TAIL: &str = " ON CONFLICT (dataset, entity_id) DO UPDATE SET \
    schema = excluded.schema, content_hash = excluded.content_hash, \
    sensitivity = excluded.sensitivity, confidence = excluded.confidence, \
    properties = excluded.properties, value_first_seen = excluded.value_first_seen, \
    first_seen = excluded.first_seen, last_seen = excluded.last_seen, \
    version_id = excluded.version_id, key_id = excluded.key_id";

const TOUCH_KEPT: &str = "UPDATE entities SET last_seen = $2, version_id = $3 \
    WHERE dataset = $1 AND entity_id IN (SELECT entity_id FROM import_staging WHERE kind = 'kept')";

/// The references and names of changed entities are written anew, those of removed ones go.
const RESET_REFS: &str = "DELETE FROM entity_refs WHERE dataset = $1 AND source_id IN \
    (SELECT entity_id FROM import_staging WHERE kind IN ('changed', 'removed'))";
/// One kind at a time, so that on SQLite the kind index (which covers the names) yields the rows
/// in entity id order and the names go into their table in key order, without a sort.
const INSERT_NAMES: &str = "INSERT INTO entity_names (dataset, entity_id, names) \
    SELECT $1, entity_id, names FROM import_staging \
    WHERE kind = $2 AND names IS NOT NULL ORDER BY entity_id";
const RESET_NAMES: &str = "DELETE FROM entity_names WHERE dataset = $1 AND entity_id IN \
    (SELECT entity_id FROM import_staging WHERE kind IN ('changed', 'removed'))";

const DELETE_REMOVED: &str = "DELETE FROM entities WHERE dataset = $1 AND entity_id IN \
    (SELECT entity_id FROM import_staging WHERE kind = 'removed')";

const INSERT_ADDED: &str = "INSERT INTO entities (dataset, entity_id, schema, content_hash, \
    sensitivity, confidence, properties, value_first_seen, first_seen, last_seen, version_id, \
    key_id) \
    SELECT $1, entity_id, schema, content_hash, sensitivity, confidence, properties, NULL, \
    $2, $2, $3, key_id FROM import_staging WHERE kind = 'added' ORDER BY entity_id";
/// Staging holds the references of added and changed entities only (see staging.rs), so all
/// of them are written, in the staging table's key order.
const INSERT_REFS: &str = "INSERT INTO entity_refs (dataset, source_id, prop, target_id) \
    SELECT $1, source_id, prop, target_id FROM import_staging_refs";

const RECORD_COUNTS: &str = "UPDATE dataset_versions SET added = $2, changed = $3, removed = $4, \
    kept = $5, entities = $6 WHERE id = $1";

/// What a changed entity's new row stores that depends on its decoded values.
struct Rewritten {
    /// A protected row's values, sealed anew with the key that seals their dates.
    sealed_properties: Option<(String, i64)>,
    value_first_seen: Option<String>,
}

/// The entity's new row keeps the row's first-seen date, and each value it held before keeps
/// its own.
fn rewrite(
    dataset: &str,
    entity: &ChangedEntity,
    now: &str,
    ring: Option<&Keyring>,
) -> Result<Rewritten> {
    let row = RowName {
        dataset,
        entity_id: &entity.entity_id,
    };
    let sensitivity = codec::decode_sensitivity(&row, &entity.sensitivity)?;
    let old_sensitivity = codec::decode_sensitivity(&row, &entity.old_sensitivity)?;
    let new_properties =
        codec::decode_stored_properties(&row, sensitivity, &entity.properties, ring)?;
    let old_properties =
        codec::decode_stored_properties(&row, old_sensitivity, &entity.old_properties, ring)?;
    let old_dates = codec::decode_stored_value_first_seen(
        &row,
        old_sensitivity,
        entity.old_value_first_seen.as_deref(),
        ring,
    )?;
    let dates = codec::carry_first_seen(
        &new_properties,
        &old_properties,
        &old_dates,
        &entity.old_first_seen,
        now,
    );
    let sealed_properties = if sensitivity == Sensitivity::Protected {
        let json = codec::encode_properties(&new_properties)?;
        Some(protect::seal(ring, Field::Properties, &row, &json)?)
    } else {
        None
    };
    Ok(Rewritten {
        sealed_properties,
        value_first_seen: codec::encode_stored_value_first_seen(&row, sensitivity, &dates, ring)?,
    })
}

#[derive(sqlx::FromRow)]
struct ChangedEntity {
    entity_id: String,
    schema: String,
    content_hash: String,
    sensitivity: String,
    confidence: Option<f64>,
    properties: String,
    key_id: Option<i64>,
    old_sensitivity: String,
    old_properties: String,
    old_value_first_seen: Option<String>,
    old_first_seen: String,
}

/// A page of changed entities' new rows, by column.
struct ChangedColumns {
    entity_id: Vec<String>,
    schema: Vec<String>,
    content_hash: Vec<String>,
    sensitivity: Vec<String>,
    confidence: Vec<Option<f64>>,
    properties: Vec<String>,
    value_first_seen: Vec<Option<String>>,
    first_seen: Vec<String>,
    key_id: Vec<Option<i64>>,
}

impl ChangedColumns {
    fn with_capacity(n: usize) -> ChangedColumns {
        ChangedColumns {
            entity_id: Vec::with_capacity(n),
            schema: Vec::with_capacity(n),
            content_hash: Vec::with_capacity(n),
            sensitivity: Vec::with_capacity(n),
            confidence: Vec::with_capacity(n),
            properties: Vec::with_capacity(n),
            value_first_seen: Vec::with_capacity(n),
            first_seen: Vec::with_capacity(n),
            key_id: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, entity: ChangedEntity, rewritten: Rewritten) {
        let (properties, key_id) = match rewritten.sealed_properties {
            Some((sealed, key_id)) => (sealed, Some(key_id)),
            None => (entity.properties, entity.key_id),
        };
        self.value_first_seen.push(rewritten.value_first_seen);
        self.entity_id.push(entity.entity_id);
        self.schema.push(entity.schema);
        self.content_hash.push(entity.content_hash);
        self.sensitivity.push(entity.sensitivity);
        self.confidence.push(entity.confidence);
        self.properties.push(properties);
        self.first_seen.push(entity.old_first_seen);
        self.key_id.push(key_id);
    }

    fn into_columns(self, dataset: &str, now: &str, version_id: i64) -> Vec<Column> {
        let count = self.entity_id.len();
        vec![
            Column::Text(vec![dataset.to_string(); count]),
            Column::Text(self.entity_id),
            Column::Text(self.schema),
            Column::Text(self.content_hash),
            Column::Text(self.sensitivity),
            Column::OptionalFloat(self.confidence),
            Column::Text(self.properties),
            Column::OptionalText(self.value_first_seen),
            Column::Text(self.first_seen),
            Column::Text(vec![now.to_string(); count]),
            Column::Int(vec![version_id; count]),
            Column::OptionalInt(self.key_id),
        ]
    }
}

impl Merge<'_> {
    async fn execute(&mut self, sql: &'static str) -> Result<u64> {
        Ok(on_conn!(&mut *self.conn, |c| sqlx::query(sql)
            .execute(&mut *c)
            .await?
            .rows_affected()))
    }

    async fn execute_for_dataset(&mut self, sql: &'static str) -> Result<u64> {
        let dataset = &self.request.dataset;
        Ok(on_conn!(&mut *self.conn, |c| sqlx::query(sql)
            .bind(dataset)
            .execute(&mut *c)
            .await?
            .rows_affected()))
    }

    pub(crate) async fn run(mut self) -> Result<ImportSummary> {
        for statement in self.dialect.end_staging {
            self.execute(statement).await?;
        }
        self.execute(self.dialect.begin_merge).await?;
        let request = self.request;
        let stored: Option<i64> = on_conn!(&mut *self.conn, |c| sqlx::query_scalar(VERSION_ID)
            .bind(&request.dataset)
            .bind(&request.version)
            .fetch_optional(&mut *c)
            .await?);
        if stored.is_some() {
            // Another process stored this very version while we staged it.
            self.execute("ROLLBACK").await?;
            let entities = count_entities(self.conn, &request.dataset).await?;
            return Ok(ImportSummary {
                dataset: request.dataset.clone(),
                version: request.version.clone(),
                unchanged: true,
                entities,
                ..ImportSummary::default()
            });
        }
        let latest: Option<i64> =
            on_conn!(&mut *self.conn, |c| sqlx::query_scalar(LATEST_VERSION_ID)
                .bind(&request.dataset)
                .fetch_one(&mut *c)
                .await?);
        if latest != self.base_version {
            return Err(StoreError::Invalid(format!(
                "dataset {} received another version while this import ran; \
                 nothing of this import was stored, run it again",
                request.dataset
            )));
        }
        for statement in self.dialect.before_merge {
            self.execute(statement).await?;
        }

        let now = self.now;
        let mode = match request.mode {
            ImportMode::Full => "full",
            ImportMode::Delta => "delta",
        };
        let version_id: i64 = on_conn!(&mut *self.conn, |c| {
            sqlx::query(UPSERT_DATASET)
                .bind(&request.dataset)
                .bind(&request.title)
                .bind(request.sensitivity.as_str())
                .bind(now)
                .bind(request.owner_organisation)
                .execute(&mut *c)
                .await?;
            sqlx::query_scalar(INSERT_VERSION)
                .bind(&request.dataset)
                .bind(&request.version)
                .bind(mode)
                .bind(&request.source)
                .bind(now)
                .fetch_one(&mut *c)
                .await?
        });

        if request.mode == ImportMode::Full {
            self.execute_for_dataset(STAGE_FULL_REMOVALS).await?;
        }
        on_conn!(&mut *self.conn, |c| sqlx::query(RECORD_CHANGES)
            .bind(version_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
        let kinds: Vec<(String, i64)> = on_conn!(&mut *self.conn, |c| sqlx::query_as(COUNT_KINDS)
            .fetch_all(&mut *c)
            .await?);
        let count_of = |kind: &str| -> Result<u64> {
            kinds
                .iter()
                .find(|(k, _)| k == kind)
                .map_or(Ok(0), |(_, n)| to_u64(*n))
        };

        self.rewrite_changed(version_id).await?;
        on_conn!(&mut *self.conn, |c| sqlx::query(TOUCH_KEPT)
            .bind(&request.dataset)
            .bind(now)
            .bind(version_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
        self.execute_for_dataset(RESET_REFS).await?;
        self.execute_for_dataset(RESET_NAMES).await?;
        self.execute_for_dataset(DELETE_REMOVED).await?;
        on_conn!(&mut *self.conn, |c| sqlx::query(INSERT_ADDED)
            .bind(&request.dataset)
            .bind(now)
            .bind(version_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
        self.execute_for_dataset(INSERT_REFS).await?;
        for kind in ["added", "changed"] {
            on_conn!(&mut *self.conn, |c| sqlx::query(INSERT_NAMES)
                .bind(&request.dataset)
                .bind(kind)
                .execute(&mut *c)
                .await?
                .rows_affected());
        }

        let summary = ImportSummary {
            dataset: request.dataset.clone(),
            version: request.version.clone(),
            unchanged: false,
            added: count_of("added")?,
            changed: count_of("changed")?,
            removed: count_of("removed")?,
            kept: count_of("kept")?,
            entities: count_entities(self.conn, &request.dataset).await?,
        };
        let counts = [
            summary.added,
            summary.changed,
            summary.removed,
            summary.kept,
            summary.entities,
        ]
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        on_conn!(&mut *self.conn, |c| {
            let mut query = sqlx::query(RECORD_COUNTS).bind(version_id);
            for n in counts {
                query = query.bind(n);
            }
            query.execute(&mut *c).await?.rows_affected()
        });
        self.execute("COMMIT").await?;
        tracing::debug!(
            dataset = %summary.dataset,
            version = %summary.version,
            added = summary.added,
            changed = summary.changed,
            removed = summary.removed,
            kept = summary.kept,
            entities = summary.entities,
            "import merged"
        );
        Ok(summary)
    }

    /// The one part of the merge that needs Rust, a page at a time.
    async fn rewrite_changed(&mut self, version_id: i64) -> Result<()> {
        let dataset = &self.request.dataset;
        let now = self.now;
        let mut after = String::new();
        loop {
            let page: Vec<ChangedEntity> =
                on_conn!(&mut *self.conn, |c| sqlx::query_as(CHANGED_PAGE_SQL)
                    .bind(dataset)
                    .bind(&after)
                    .bind(CHANGED_PAGE)
                    .fetch_all(&mut *c)
                    .await?);
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.entity_id.clone();
            let mut columns = ChangedColumns::with_capacity(page.len());
            for entity in page {
                let rewritten = self
                    .keys
                    .retrying(|ring| rewrite(dataset, &entity, now, ring))?;
                columns.push(entity, rewritten);
            }
            insert_rows(
                self.conn,
                self.dialect,
                UPSERT_ENTITY_HEAD,
                columns.into_columns(dataset, now, version_id),
                UPSERT_ENTITY_TAIL,
            )
            .await?;
        }
    }
}
