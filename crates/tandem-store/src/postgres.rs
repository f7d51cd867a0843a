//! The shared backend: PostgreSQL, for several `tandem serve` processes on one database.
//!
//! Imports stage their entities in temporary tables on their own connection, as on SQLite, and
//! merge them in one transaction at commit. A session-level advisory lock per dataset keeps two
//! processes from importing the same dataset at once; it goes with the connection, so a killed
//! process releases it.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use crate::db::Dialect;
use crate::{Result, StoreError};

pub(crate) static DIALECT: Dialect = Dialect {
    backend: "postgres",
    begin_merge: "BEGIN",
    create_staging: &[
        // Must come before the session first touches a temporary table.
        "SET temp_buffers = '64MB'",
        r#"CREATE TEMP TABLE import_staging (
            entity_id    TEXT COLLATE "C" PRIMARY KEY,
            batch_no     BIGINT NOT NULL,
            kind         TEXT NOT NULL,
            schema       TEXT,
            content_hash TEXT,
            sensitivity  TEXT,
            confidence   DOUBLE PRECISION,
            properties   TEXT,
            key_id       BIGINT,
            names        TEXT
        )"#,
        r#"CREATE TEMP TABLE import_staging_refs (
            source_id TEXT COLLATE "C" NOT NULL,
            prop      TEXT NOT NULL,
            target_id TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (source_id, prop, target_id)
        )"#,
        "CREATE INDEX import_staging_by_kind ON import_staging (kind, entity_id)",
    ],
    end_staging: &[],
    // Autovacuum never analyses temporary tables; without statistics the merge's joins are
    // planned for an empty table.
    before_merge: &["ANALYZE import_staging", "ANALYZE import_staging_refs"],
    numbered_placeholders: true,
};

/// The first key of Tandem's advisory locks (the second is a hash of the dataset name).
const IMPORT_LOCK_CLASS: i32 = 0x7464_6d01;

pub(crate) fn options(url: &str) -> Result<PgConnectOptions> {
    PgConnectOptions::from_str(url)
        .map_err(|err| StoreError::Invalid(format!("PostgreSQL URL: {err}")))
}

pub(crate) async fn connect(options: &PgConnectOptions) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(pool)
}

pub(crate) async fn connect_session(options: &PgConnectOptions) -> Result<PgConnection> {
    // An import's merge runs statements of many seconds on purpose; sqlx would warn of each.
    Ok(options
        .clone()
        .disable_statement_logging()
        .connect()
        .await?)
}

/// How long to wait for a dataset's import lock. A session that was dropped rather than closed
/// releases its lock only when the server notices the connection is gone, a moment later.
const LOCK_WAIT: Duration = Duration::from_secs(3);
const LOCK_RETRY: Duration = Duration::from_millis(100);

/// Takes the dataset's import lock for the life of `conn`; false when another session holds it.
/// The key includes the schema, so that stores in different schemas of one database (as the
/// tests use) do not lock each other out.
pub(crate) async fn try_lock_dataset(conn: &mut PgConnection, dataset: &str) -> Result<bool> {
    let started = Instant::now();
    loop {
        let locked: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock($1, hashtext(COALESCE(current_schema(), '') || '/' || $2))",
        )
        .bind(IMPORT_LOCK_CLASS)
        .bind(dataset)
        .fetch_one(&mut *conn)
        .await?;
        if locked || started.elapsed() >= LOCK_WAIT {
            return Ok(locked);
        }
        tokio::time::sleep(LOCK_RETRY).await;
    }
}

/// Releases the import lock at once, before the connection closes.
pub(crate) async fn unlock_all(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(conn)
        .await?;
    Ok(())
}
