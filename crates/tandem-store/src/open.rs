//! Opening a store: the URL picks the backend, the backend's migrations run, and the caller gets
//! a `Box<dyn Store>`.

use crate::db::{Connector, Pool};
use crate::store::SqlStore;
use crate::{Result, Store, StoreError, postgres, sqlite};

/// The embedded default: `tandem.db` in the working directory.
pub const DEFAULT_URL: &str = "sqlite://tandem.db";

/// Opens (and creates or upgrades) the store at `url`: `sqlite://PATH` (the file is created when
/// missing) or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("sqlite:") {
        let options = sqlite::options(url)?;
        let pool = sqlite::connect(&options).await?;
        Ok(Box::new(SqlStore::new(
            Pool::Sqlite(pool),
            Connector::Sqlite(options),
            &sqlite::DIALECT,
        )))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = postgres::options(url)?;
        let pool = postgres::connect(&options).await?;
        Ok(Box::new(SqlStore::new(
            Pool::Postgres(pool),
            Connector::Postgres(options),
            &postgres::DIALECT,
        )))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// Opens [`DEFAULT_URL`].
pub async fn open_default() -> Result<Box<dyn Store>> {
    open(DEFAULT_URL).await
}
