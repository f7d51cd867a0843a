//! The embedded backend: one SQLite file in WAL mode.
//!
//! SQLite lets one connection write at a time. An import therefore stages its entities in
//! temporary tables on its own connection (which takes no lock on the store) and holds the write
//! lock only while it merges them at commit; other writers (jobs, another dataset's commit) wait
//! at most that long.

use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::db::Dialect;
use crate::{Result, StoreError};

pub(crate) static DIALECT: Dialect = Dialect {
    backend: "sqlite",
    begin_merge: "BEGIN IMMEDIATE",
    create_staging: &[
        // Staging lives in the connection's temporary database; give it room to stay in memory
        // for ordinary imports (it spills to a temporary file beyond that). Pages larger than
        // the default 4 KiB hold several staged rows each: fewer B-tree splits while staging and
        // fewer reads of the spilled file at commit (about a tenth less time for both). Set
        // before the temporary database is first used, which fixes its page size.
        "PRAGMA temp.page_size = 16384",
        "PRAGMA temp.cache_size = -65536",
        "CREATE TEMP TABLE import_staging (
            entity_id    TEXT PRIMARY KEY,
            batch_no     INTEGER NOT NULL,
            kind         TEXT NOT NULL,
            schema       TEXT,
            content_hash TEXT,
            sensitivity  TEXT,
            confidence   REAL,
            properties   TEXT,
            key_id       INTEGER,
            names        TEXT
        )",
        // Covers the schema and the names, so that the merge records the changes and writes
        // the names index from the index alone, in id order, rather than fetching each row of
        // the (large) staging table out of the order it was staged in.
        "CREATE INDEX import_staging_by_kind ON import_staging (kind, entity_id, schema, names)",
        "CREATE TEMP TABLE import_staging_refs (
            source_id TEXT NOT NULL,
            prop      TEXT NOT NULL,
            target_id TEXT NOT NULL,
            PRIMARY KEY (source_id, prop, target_id)
        ) WITHOUT ROWID",
        // Staging runs in one transaction so that each batch does not pay for a commit of the
        // temporary database. It locks nothing in the store: it only reads there.
        "BEGIN",
    ],
    end_staging: &["COMMIT"],
    before_merge: &[],
    numbered_placeholders: false,
};

/// Connection settings for every connection to the file.
pub(crate) fn options(url: &str) -> Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|err| StoreError::Invalid(format!("SQLite URL {url:?}: {err}")))?;
    if url.contains(":memory:") || url.contains("mode=memory") {
        // Each import works on a connection of its own, which an in-memory database cannot share.
        return Err(StoreError::UnsupportedUrl(format!(
            "{url} (in-memory SQLite; use a file, e.g. in a temporary directory)"
        )));
    }
    Ok(options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(60))
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "file"))
}

pub(crate) async fn connect(options: &SqliteConnectOptions) -> Result<SqlitePool> {
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

pub(crate) async fn connect_session(options: &SqliteConnectOptions) -> Result<SqliteConnection> {
    // An import's merge runs statements of many seconds on purpose; sqlx would warn of each.
    Ok(options
        .clone()
        .disable_statement_logging()
        .connect()
        .await?)
}
