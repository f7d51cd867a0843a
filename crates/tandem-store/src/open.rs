//! Opening a store: the URL picks the backend, the backend's migrations run, and the caller gets
//! a `Box<dyn Store>`.

use crate::db::{Connector, Pool};
use crate::protect::{KeySource, Keys};
use crate::store::SqlStore;
use crate::{Result, Store, StoreError, maintenance, postgres, sqlite};

/// The embedded default: `tandem.db` in the working directory.
pub const DEFAULT_URL: &str = "sqlite://tandem.db";

/// Opens (and creates or upgrades) the store at `url`: `sqlite://PATH` (the file is created when
/// missing) or `postgres://…` / `postgresql://…`.
///
/// Without field-encryption keys, the store refuses to store or read protected records; see
/// [`open_with_keys`].
pub async fn open(url: &str) -> Result<Box<dyn Store>> {
    open_store(url, Keys::none()).await
}

/// Opens the store at `url` with the field-encryption keys of `keys` (a key file is created
/// with a fresh key when missing). Protected records that an older store kept in the clear are
/// encrypted now.
pub async fn open_with_keys(url: &str, keys: KeySource) -> Result<Box<dyn Store>> {
    open_store(url, Keys::load(keys)?).await
}

async fn open_store(url: &str, keys: Keys) -> Result<Box<dyn Store>> {
    let store = if url.starts_with("sqlite:") {
        let options = sqlite::options(url)?;
        let pool = sqlite::connect(&options).await?;
        SqlStore::new(
            Pool::Sqlite(pool),
            Connector::Sqlite(options),
            &sqlite::DIALECT,
            keys,
        )
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = postgres::options(url)?;
        let pool = postgres::connect(&options).await?;
        SqlStore::new(
            Pool::Postgres(pool),
            Connector::Postgres(options),
            &postgres::DIALECT,
            keys,
        )
    } else {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    };
    maintenance::build_names_index(&store).await?;
    maintenance::seal_clear_rows(&store).await?;
    Ok(Box::new(store))
}

/// Opens [`DEFAULT_URL`].
pub async fn open_default() -> Result<Box<dyn Store>> {
    open(DEFAULT_URL).await
}
