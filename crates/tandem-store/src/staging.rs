//! Staging: an import's batches go into temporary tables on the import's own connection, which
//! takes no lock on the store. Each staged id is classified on the way in against the dataset
//! as stored (`added`, `changed`, `kept`, or for a deletion `removed` / `absent`), so that the
//! merge at commit is mostly set-based SQL. The classification is made against the dataset as it
//! was when the import began; the merge refuses to run if the dataset got a version since.

use std::collections::HashMap;
use std::sync::Arc;

use tandem_core::{Entity, PropertyType, Sensitivity};

use crate::Result;
use crate::codec::{self, RowName};
use crate::crypto::Keyring;
use crate::db::{
    Column, Conn, Dialect, Scalar, execute_for_ids, fetch_for_ids, insert_rows, on_conn,
};
use crate::names;
use crate::protect::{self, Field, Keys};

/// Rows of references per insert (three values each).
const REFS_PER_INSERT: usize = 3000;

/// An entity ready to stage: what can be computed without the database is computed by the
/// session while the previous batch is being written.
pub(crate) struct PreparedPut {
    entity: Entity,
    content_hash: String,
    /// As stored: JSON, or sealed for a protected entity.
    properties: String,
    /// The key that sealed `properties`.
    key_id: Option<i64>,
    refs: Vec<(String, String)>,
    /// The entity's row of the names index (see names.rs); `None` when it has no names
    /// (protected entities have none). It rides on the staged row, so that replacing a staged
    /// entity replaces its names too.
    names: Option<String>,
    /// Replace what is staged for the id rather than merge with it: the id was deleted earlier
    /// in this import, or this entity is already the merge of both.
    replaces_staged: bool,
}

impl PreparedPut {
    /// Protected entities are sealed here, before they reach the staging tables (which SQLite
    /// may spill to a temporary file).
    pub(crate) fn new(
        entity: Entity,
        replaces_staged: bool,
        dataset: &str,
        ring: Option<&Keyring>,
    ) -> Result<PreparedPut> {
        // References and names in one pass, each property's type looked up once.
        let schema = entity.schema();
        let mut refs = Vec::new();
        let mut names = Vec::new();
        for (prop, values) in &entity.properties {
            match schema.property(prop).map(|p| p.kind) {
                Some(PropertyType::Entity) => {
                    refs.extend(values.iter().map(|target| (prop.clone(), target.clone())));
                }
                Some(kind) if names::is_indexed(kind) => {
                    names.extend(values.iter().map(String::as_str));
                }
                _ => {}
            }
        }
        let names = if entity.sensitivity == Sensitivity::Protected {
            None
        } else {
            names::row_of(names)
        };
        let json = codec::encode_properties(&entity.properties)?;
        let (properties, key_id) = if entity.sensitivity == Sensitivity::Protected {
            let place = RowName {
                dataset,
                entity_id: &entity.id,
            };
            let (sealed, key_id) = protect::seal(ring, Field::Properties, &place, &json)?;
            (sealed, Some(key_id))
        } else {
            (json, None)
        };
        Ok(PreparedPut {
            content_hash: entity.content_hash(),
            properties,
            key_id,
            refs,
            names,
            entity,
            replaces_staged,
        })
    }
}

/// One batch: distinct ids, each put or deleted.
#[derive(Default)]
pub(crate) struct Batch {
    pub puts: Vec<PreparedPut>,
    pub deletes: Vec<String>,
}

/// The dataset's current row for an id, as far as staging needs it.
struct Stored {
    content_hash: String,
    schema: String,
}

fn kind_of_put(content_hash: &str, stored: Option<&Stored>) -> &'static str {
    match stored {
        None => "added",
        Some(stored) if stored.content_hash == content_hash => "kept",
        Some(_) => "changed",
    }
}

/// A kept entity's references are stored already. So `import_staging_refs` holds the references
/// of exactly the staged ids whose kind is `added` or `changed` (a put that replaces a staged
/// row, and a deletion, first drop the id's staged references), and the merge writes them all.
fn writes_refs(kind: &str) -> bool {
    kind == "added" || kind == "changed"
}

/// One row of `import_staging`.
struct StagedRow {
    entity_id: String,
    kind: &'static str,
    schema: Option<String>,
    content_hash: Option<String>,
    sensitivity: Option<&'static str>,
    confidence: Option<f64>,
    properties: Option<String>,
    key_id: Option<i64>,
    names: Option<String>,
}

impl StagedRow {
    /// Takes the put's encoded values rather than copying them: after its row is written, a put
    /// is only needed for its entity (to merge with an earlier staged one, which prepares it
    /// anew) and its references.
    fn put(put: &mut PreparedPut, stored: Option<&Stored>) -> StagedRow {
        StagedRow {
            entity_id: put.entity.id.clone(),
            kind: kind_of_put(&put.content_hash, stored),
            schema: Some(put.entity.schema.clone()),
            content_hash: Some(std::mem::take(&mut put.content_hash)),
            sensitivity: Some(put.entity.sensitivity.as_str()),
            confidence: put.entity.confidence.map(f64::from),
            properties: Some(std::mem::take(&mut put.properties)),
            key_id: put.key_id,
            names: put.names.take(),
        }
    }

    fn deleted(entity_id: String, stored: Option<&Stored>) -> StagedRow {
        StagedRow {
            entity_id,
            kind: if stored.is_some() {
                "removed"
            } else {
                "absent"
            },
            schema: stored.map(|s| s.schema.clone()),
            content_hash: None,
            sensitivity: None,
            confidence: None,
            properties: None,
            key_id: None,
            names: None,
        }
    }
}

const STAGE_HEAD: &str = "INSERT INTO import_staging \
    (entity_id, batch_no, kind, schema, content_hash, sensitivity, confidence, properties, key_id, \
    names)";
const STAGE_SKIP: &str = " ON CONFLICT (entity_id) DO NOTHING";
const STAGE_REPLACE: &str = " ON CONFLICT (entity_id) DO UPDATE SET batch_no = excluded.batch_no, \
    kind = excluded.kind, schema = excluded.schema, content_hash = excluded.content_hash, \
    sensitivity = excluded.sensitivity, confidence = excluded.confidence, \
    properties = excluded.properties, key_id = excluded.key_id, names = excluded.names";

#[derive(sqlx::FromRow)]
struct StagedEntity {
    entity_id: String,
    schema: Option<String>,
    sensitivity: Option<String>,
    confidence: Option<f64>,
    properties: Option<String>,
}

impl StagedEntity {
    /// None for a staged deletion.
    fn to_entity(&self, dataset: &str, ring: Option<&Keyring>) -> Result<Option<Entity>> {
        let (Some(schema), Some(sensitivity), Some(properties)) =
            (&self.schema, &self.sensitivity, &self.properties)
        else {
            return Ok(None);
        };
        let row = RowName {
            dataset,
            entity_id: &self.entity_id,
        };
        let sensitivity = codec::decode_sensitivity(&row, sensitivity)?;
        let properties = codec::decode_stored_properties(&row, sensitivity, properties, ring)?;
        codec::rebuild_entity(
            &row,
            schema.clone(),
            properties,
            sensitivity,
            self.confidence,
        )
        .map(Some)
    }
}

/// Owns an import's connection while it stages.
pub(crate) struct Stager {
    conn: Conn,
    dialect: &'static Dialect,
    dataset: String,
    keys: Arc<Keys>,
    batch_no: i64,
    /// The dataset held no entities when the import began, so there is no stored row to look
    /// up for any id. (Were a version committed meanwhile, the merge refuses to run.)
    nothing_stored: bool,
}

const ANY_STORED: &str = "SELECT EXISTS (SELECT 1 FROM entities WHERE dataset = $1)";

impl Stager {
    pub(crate) async fn create(
        mut conn: Conn,
        dialect: &'static Dialect,
        dataset: String,
        keys: Arc<Keys>,
    ) -> Result<Stager> {
        for statement in dialect.create_staging {
            on_conn!(&mut conn, |c| sqlx::query(*statement)
                .execute(&mut *c)
                .await?
                .rows_affected());
        }
        let any_stored: bool = on_conn!(&mut conn, |c| sqlx::query_scalar(ANY_STORED)
            .bind(&dataset)
            .fetch_one(&mut *c)
            .await?);
        Ok(Stager {
            conn,
            dialect,
            dataset,
            keys,
            batch_no: 0,
            nothing_stored: !any_stored,
        })
    }

    pub(crate) fn into_conn(self) -> Conn {
        self.conn
    }

    pub(crate) async fn stage(&mut self, batch: Batch) -> Result<()> {
        self.batch_no += 1;
        let Batch { mut puts, deletes } = batch;
        let stored = if self.nothing_stored {
            HashMap::new()
        } else {
            let ids: Vec<&str> = puts
                .iter()
                .map(|put| put.entity.id.as_str())
                .chain(deletes.iter().map(String::as_str))
                .collect();
            self.stored(&ids).await?
        };

        // Each put's kind, by position in `puts`.
        let mut kinds: Vec<&'static str> = vec![""; puts.len()];
        let mut fresh = Vec::with_capacity(puts.len());
        for (put, kind) in puts.iter_mut().zip(kinds.iter_mut()) {
            if !put.replaces_staged {
                let row = StagedRow::put(put, stored.get(&put.entity.id));
                *kind = row.kind;
                fresh.push(row);
            }
        }
        let fresh_count = fresh.len() as u64;
        if self.write_rows(fresh, STAGE_SKIP).await? < fresh_count {
            self.merge_with_staged(&mut puts).await?;
        }

        // Puts after a deletion, puts merged with what was staged, and deletions.
        let mut replacing = Vec::new();
        let mut reset_refs = deletes.clone();
        for (put, kind) in puts.iter_mut().zip(kinds.iter_mut()) {
            if put.replaces_staged {
                let row = StagedRow::put(put, stored.get(&put.entity.id));
                *kind = row.kind;
                reset_refs.push(row.entity_id.clone());
                replacing.push(row);
            }
        }
        for id in deletes {
            let stored = stored.get(&id);
            replacing.push(StagedRow::deleted(id, stored));
        }
        self.write_rows(replacing, STAGE_REPLACE).await?;
        self.reset_refs(reset_refs).await?;

        let refs: Vec<(String, String, String)> = puts
            .into_iter()
            .zip(kinds)
            .filter(|(_, kind)| writes_refs(kind))
            .flat_map(|(put, _)| {
                let id = put.entity.id;
                put.refs
                    .into_iter()
                    .map(move |(prop, target)| (id.clone(), prop, target))
            })
            .collect();
        self.write_refs(refs).await
    }

    /// The dataset's stored rows among `ids`.
    async fn stored(&mut self, ids: &[&str]) -> Result<HashMap<String, Stored>> {
        let rows: Vec<(String, String, String)> = fetch_for_ids(
            &mut self.conn,
            self.dialect,
            "SELECT entity_id, content_hash, schema FROM entities \
             WHERE dataset = {1} AND entity_id {ids}",
            Some(Scalar::Text(self.dataset.clone())),
            ids,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, content_hash, schema)| {
                let stored = Stored {
                    content_hash,
                    schema,
                };
                (id, stored)
            })
            .collect())
    }

    /// Writes staging rows; returns how many were written.
    async fn write_rows(&mut self, rows: Vec<StagedRow>, on_conflict: &str) -> Result<u64> {
        let count = rows.len();
        let mut entity_id = Vec::with_capacity(count);
        let mut kind = Vec::with_capacity(count);
        let mut schema = Vec::with_capacity(count);
        let mut content_hash = Vec::with_capacity(count);
        let mut sensitivity = Vec::with_capacity(count);
        let mut confidence = Vec::with_capacity(count);
        let mut properties = Vec::with_capacity(count);
        let mut key_id = Vec::with_capacity(count);
        let mut names = Vec::with_capacity(count);
        for row in rows {
            entity_id.push(row.entity_id);
            kind.push(row.kind.to_string());
            schema.push(row.schema);
            content_hash.push(row.content_hash);
            sensitivity.push(row.sensitivity.map(str::to_string));
            confidence.push(row.confidence);
            properties.push(row.properties);
            key_id.push(row.key_id);
            names.push(row.names);
        }
        let columns = vec![
            Column::Text(entity_id),
            Column::Int(vec![self.batch_no; count]),
            Column::Text(kind),
            Column::OptionalText(schema),
            Column::OptionalText(content_hash),
            Column::OptionalText(sensitivity),
            Column::OptionalFloat(confidence),
            Column::OptionalText(properties),
            Column::OptionalInt(key_id),
            Column::OptionalText(names),
        ];
        insert_rows(
            &mut self.conn,
            self.dialect,
            STAGE_HEAD,
            columns,
            on_conflict,
        )
        .await
    }

    /// Some puts met an id staged by an earlier batch: merge each with what is staged (or, if
    /// that was a deletion, let it stand alone), and mark it to replace the staged row.
    async fn merge_with_staged(&mut self, puts: &mut [PreparedPut]) -> Result<()> {
        let ids: Vec<&str> = puts
            .iter()
            .filter(|put| !put.replaces_staged)
            .map(|put| put.entity.id.as_str())
            .collect();
        let staged: Vec<StagedEntity> = fetch_for_ids(
            &mut self.conn,
            self.dialect,
            "SELECT entity_id, schema, sensitivity, confidence, properties \
             FROM import_staging WHERE batch_no <> {1} AND entity_id {ids}",
            Some(Scalar::Int(self.batch_no)),
            &ids,
        )
        .await?;
        let position: HashMap<String, usize> = puts
            .iter()
            .enumerate()
            .map(|(i, put)| (put.entity.id.clone(), i))
            .collect();
        for row in staged {
            let Some(put) = position.get(&row.entity_id).and_then(|&i| puts.get_mut(i)) else {
                continue;
            };
            let dataset = self.dataset.as_str();
            let earlier = self.keys.retrying(|ring| row.to_entity(dataset, ring))?;
            let merged = match earlier {
                Some(mut earlier) => {
                    crate::import::merge_into(&mut earlier, &put.entity)?;
                    earlier
                }
                None => put.entity.clone(),
            };
            let ring = self.keys.current();
            *put = PreparedPut::new(merged, true, dataset, ring.as_deref())?;
        }
        Ok(())
    }

    async fn reset_refs(&mut self, ids: Vec<String>) -> Result<()> {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        execute_for_ids(
            &mut self.conn,
            self.dialect,
            "DELETE FROM import_staging_refs WHERE source_id {ids}",
            None,
            &ids,
        )
        .await?;
        Ok(())
    }

    async fn write_refs(&mut self, refs: Vec<(String, String, String)>) -> Result<()> {
        let mut refs = refs.into_iter().peekable();
        while refs.peek().is_some() {
            let (mut sources, mut props, mut targets) = (Vec::new(), Vec::new(), Vec::new());
            for (source, prop, target) in refs.by_ref().take(REFS_PER_INSERT) {
                sources.push(source);
                props.push(prop);
                targets.push(target);
            }
            let columns = vec![
                Column::Text(sources),
                Column::Text(props),
                Column::Text(targets),
            ];
            insert_rows(
                &mut self.conn,
                self.dialect,
                "INSERT INTO import_staging_refs (source_id, prop, target_id)",
                columns,
                "",
            )
            .await?;
        }
        Ok(())
    }
}
