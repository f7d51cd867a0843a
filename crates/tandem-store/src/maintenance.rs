//! Work on stored rows that is not an import: re-encryption under the active key, key usage,
//! and the upgrades that `open` runs (sealing protected rows stored in the clear before field
//! encryption existed, building the names index of entities stored before it existed).
//!
//! Each runs on a connection of its own, so that a transaction is never left open on a pooled
//! connection: if the caller gives up half-way, closing the connection rolls back.

use std::collections::BTreeMap;

use tandem_core::Sensitivity;

use crate::codec::{self, RowName};
use crate::crypto::Keyring;
use crate::db::{Column, Conn, Connector, Dialect, Pool, insert_rows, on_conn, on_pool};
use crate::protect::{self, Field};
use crate::store::SqlStore;
use crate::{Result, StoreError, names, postgres, sqlite};

/// Protected rows re-encrypted per transaction: short transactions, so that imports and other
/// writers wait little.
const REENCRYPT_BATCH: i64 = 200;
/// Entities read per round trip when building the names index.
const NAMES_PAGE: i64 = 1000;

async fn own_connection(connector: &Connector) -> Result<Conn> {
    Ok(match connector {
        Connector::Sqlite(options) => Conn::Sqlite(sqlite::connect_session(options).await?),
        Connector::Postgres(options) => Conn::Postgres(postgres::connect_session(options).await?),
    })
}

async fn execute(conn: &mut Conn, sql: &str) -> Result<()> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    on_conn!(conn, |c| sqlx::query(sql)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

async fn close(conn: Conn) {
    // Nothing is left behind when closing fails: the server ends the session anyway.
    let _ = on_conn!(conn, |c| sqlx::Connection::close(c).await);
}

/// Ends the transaction that `dialect.begin_merge` opened (it takes SQLite's write lock at once):
/// commits what succeeded, rolls back what failed.
async fn end_transaction<T>(conn: &mut Conn, outcome: Result<T>) -> Result<T> {
    match outcome {
        Ok(value) => {
            execute(conn, "COMMIT").await?;
            Ok(value)
        }
        Err(err) => {
            let _ = execute(conn, "ROLLBACK").await;
            Err(err)
        }
    }
}

#[derive(sqlx::FromRow)]
struct ProtectedRow {
    dataset: String,
    entity_id: String,
    properties: String,
    value_first_seen: Option<String>,
    key_id: Option<i64>,
}

/// A protected row's two sealed columns, sealed anew with one key.
struct Resealed {
    properties: String,
    value_first_seen: Option<String>,
    key_id: i64,
}

fn reseal(row: &ProtectedRow, ring: Option<&Keyring>) -> Result<Resealed> {
    let name = RowName {
        dataset: &row.dataset,
        entity_id: &row.entity_id,
    };
    // A row without a key id was stored in the clear, before field encryption existed.
    let (properties, value_first_seen) = match row.key_id {
        None => (row.properties.clone(), row.value_first_seen.clone()),
        Some(_) => (
            protect::unseal(ring, Field::Properties, &name, &row.properties)?,
            row.value_first_seen
                .as_deref()
                .map(|sealed| protect::unseal(ring, Field::ValueFirstSeen, &name, sealed))
                .transpose()?,
        ),
    };
    // Decoding checks the text before it is sealed for good.
    codec::decode_properties(&name, &properties)?;
    codec::decode_value_first_seen(&name, value_first_seen.as_deref())?;
    let (properties, key_id) = protect::seal(ring, Field::Properties, &name, &properties)?;
    let value_first_seen = value_first_seen
        .map(|text| protect::seal(ring, Field::ValueFirstSeen, &name, &text).map(|(s, _)| s))
        .transpose()?;
    Ok(Resealed {
        properties,
        value_first_seen,
        key_id,
    })
}

/// Protected rows stored in the clear or under a key other than `$1`; with `$1` NULL, only
/// those stored in the clear (`key_id <> NULL` is never true).
const STALE_PAGE: &str = "SELECT dataset, entity_id, properties, value_first_seen, key_id \
    FROM entities WHERE sensitivity = 'protected' AND (key_id IS NULL OR key_id <> $1) \
    AND (dataset, entity_id) > ($2, $3) ORDER BY dataset, entity_id LIMIT $4";
/// Only if the row is still as read: an import that rewrote it meanwhile sealed it itself.
const RESEAL: &str = "UPDATE entities SET properties = $3, value_first_seen = $4, key_id = $5 \
    WHERE dataset = $1 AND entity_id = $2 AND properties = $6";

/// Seals every protected row that is not under the active key (`clear_only`: only those
/// stored in the clear) and returns how many it sealed anew.
pub(crate) async fn reencrypt(store: &SqlStore, clear_only: bool) -> Result<u64> {
    let active = match store.keys.current() {
        Some(ring) => i64::from(ring.active_id()),
        None => {
            return Err(StoreError::Invalid(
                "re-encryption needs the field-encryption keys (a key file or TANDEM_KEYS)".into(),
            ));
        }
    };
    let other_than = (!clear_only).then_some(active);
    let mut conn = own_connection(&store.connector).await?;
    let result = reencrypt_on(&mut conn, store, other_than).await;
    close(conn).await;
    result
}

async fn reencrypt_on(conn: &mut Conn, store: &SqlStore, other_than: Option<i64>) -> Result<u64> {
    let mut resealed = 0u64;
    let mut after = (String::new(), String::new());
    loop {
        let page: Vec<ProtectedRow> = on_conn!(&mut *conn, |c| sqlx::query_as(STALE_PAGE)
            .bind(other_than)
            .bind(&after.0)
            .bind(&after.1)
            .bind(REENCRYPT_BATCH)
            .fetch_all(&mut *c)
            .await?);
        let Some(last) = page.last() else {
            return Ok(resealed);
        };
        after = (last.dataset.clone(), last.entity_id.clone());
        let sealed = page
            .iter()
            .map(|row| store.keys.retrying(|ring| reseal(row, ring)))
            .collect::<Result<Vec<Resealed>>>()?;
        execute(conn, store.dialect.begin_merge).await?;
        let written = write_resealed(conn, &page, &sealed).await;
        resealed += end_transaction(conn, written).await?;
    }
}

async fn write_resealed(
    conn: &mut Conn,
    page: &[ProtectedRow],
    sealed: &[Resealed],
) -> Result<u64> {
    let mut changed = 0;
    for (row, new) in page.iter().zip(sealed) {
        changed += on_conn!(&mut *conn, |c| sqlx::query(RESEAL)
            .bind(&row.dataset)
            .bind(&row.entity_id)
            .bind(&new.properties)
            .bind(&new.value_first_seen)
            .bind(new.key_id)
            .bind(&row.properties)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(changed)
}

pub(crate) async fn key_usage(pool: &Pool) -> Result<BTreeMap<u32, u64>> {
    let rows: Vec<(i64, i64)> = on_pool!(pool, |pool| sqlx::query_as(
        "SELECT key_id, COUNT(*) FROM entities \
         WHERE sensitivity = 'protected' AND key_id IS NOT NULL GROUP BY key_id"
    )
    .fetch_all(pool)
    .await?);
    rows.into_iter()
        .map(|(key_id, count)| {
            let key_id = u32::try_from(key_id)
                .map_err(|_| StoreError::Corrupt(format!("key id {key_id} is out of range")))?;
            let count = u64::try_from(count)
                .map_err(|_| StoreError::Corrupt(format!("negative count {count}")))?;
            Ok((key_id, count))
        })
        .collect()
}

/// Protected rows stored in the clear (by a store older than field encryption) are sealed as
/// soon as a store with keys opens.
pub(crate) async fn seal_clear_rows(store: &SqlStore) -> Result<()> {
    if store.keys.current().is_none() {
        return Ok(());
    }
    let clear: Option<String> = on_pool!(&store.pool, |pool| sqlx::query_scalar(
        "SELECT entity_id FROM entities WHERE sensitivity = 'protected' AND key_id IS NULL \
         LIMIT 1"
    )
    .fetch_optional(pool)
    .await?);
    if clear.is_some() {
        let sealed = reencrypt(store, true).await?;
        tracing::info!(
            sealed,
            "protected records stored in the clear were encrypted"
        );
    }
    Ok(())
}

const NAMES_INDEX_KEY: &str = "names_index";

#[derive(sqlx::FromRow)]
struct NamedRow {
    dataset: String,
    entity_id: String,
    schema: String,
    sensitivity: String,
    properties: String,
}

const NAMED_PAGE: &str = "SELECT dataset, entity_id, schema, sensitivity, properties \
    FROM entities WHERE sensitivity <> 'protected' AND (dataset, entity_id) > ($1, $2) \
    ORDER BY dataset, entity_id LIMIT $3";

/// Builds the names index of entities stored before it existed (the migration marks a store
/// that had none as complete).
pub(crate) async fn build_names_index(store: &SqlStore) -> Result<()> {
    let done: Option<String> = on_pool!(&store.pool, |pool| sqlx::query_scalar(
        "SELECT value FROM store_meta WHERE key = $1"
    )
    .bind(NAMES_INDEX_KEY)
    .fetch_optional(pool)
    .await?);
    if done.is_some() {
        return Ok(());
    }
    let mut conn = own_connection(&store.connector).await?;
    let result = match execute(&mut conn, store.dialect.begin_merge).await {
        Ok(()) => {
            let indexed = index_all(&mut conn, store.dialect).await;
            end_transaction(&mut conn, indexed).await
        }
        Err(err) => Err(err),
    };
    close(conn).await;
    let indexed = result?;
    tracing::info!(names = indexed, "names index built");
    Ok(())
}

/// Indexes every entity that is not protected and marks the index complete.
async fn index_all(conn: &mut Conn, dialect: &Dialect) -> Result<u64> {
    let mut indexed = 0;
    let mut after = (String::new(), String::new());
    loop {
        let page: Vec<NamedRow> = on_conn!(&mut *conn, |c| sqlx::query_as(NAMED_PAGE)
            .bind(&after.0)
            .bind(&after.1)
            .bind(NAMES_PAGE)
            .fetch_all(&mut *c)
            .await?);
        let Some(last) = page.last() else {
            on_conn!(&mut *conn, |c| sqlx::query(
                "INSERT INTO store_meta (key, value) VALUES ($1, 'complete') \
                 ON CONFLICT (key) DO NOTHING"
            )
            .bind(NAMES_INDEX_KEY)
            .execute(&mut *c)
            .await?
            .rows_affected());
            return Ok(indexed);
        };
        after = (last.dataset.clone(), last.entity_id.clone());
        let [mut datasets, mut ids, mut rows] = [Vec::new(), Vec::new(), Vec::new()];
        for row in page {
            let name = RowName {
                dataset: &row.dataset,
                entity_id: &row.entity_id,
            };
            let sensitivity = codec::decode_sensitivity(&name, &row.sensitivity)?;
            if sensitivity == Sensitivity::Protected {
                continue;
            }
            let properties = codec::decode_properties(&name, &row.properties)?;
            let entity = codec::rebuild_entity(&name, row.schema, properties, sensitivity, None)?;
            if let Some(names) = names::index_row(&entity) {
                datasets.push(row.dataset);
                ids.push(row.entity_id);
                rows.push(names);
            }
        }
        indexed += insert_rows(
            conn,
            dialect,
            "INSERT INTO entity_names (dataset, entity_id, names)",
            vec![
                Column::Text(datasets),
                Column::Text(ids),
                Column::Text(rows),
            ],
            " ON CONFLICT DO NOTHING",
        )
        .await?;
    }
}
