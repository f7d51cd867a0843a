//! Indicator catalogue versions ([`CatalogueStore`]): the exact TOML text of every revision an
//! administrator loaded, known by the SHA-256 of that text (the hash each assessment records),
//! and an append-only log of activations; the active catalogue is the one activated last.
//!
//! The store keeps the text without interpreting it: parsing and validating a catalogue is the
//! domain's business (`tandem-protect`), which this crate may not use. The catalogue describes
//! indicators, not people, so nothing here is sealed.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::on_pool;
use crate::store::SqlStore;
use crate::{Result, StoreError};

/// Larger texts are refused: the shipped catalogue is about 50 kB.
pub const MAX_CATALOGUE_BYTES: usize = 4 << 20;
/// Longest note kept with a version, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// A catalogue revision to store. Its SHA-256 is computed by the store from `toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCatalogueVersion {
    /// The catalogue's own id (its header), e.g. `tandem-ilo-ec-indicators`.
    pub catalogue_id: String,
    /// The catalogue's own version (its header), e.g. `0.1.0`.
    pub version: String,
    /// The exact text, byte for byte: the hash is over it.
    pub toml: String,
    /// Who loaded it: a username, or `cli:<os user>`.
    pub loaded_by: String,
    pub loaded_by_user_id: Option<i64>,
    /// Why it was loaded (free text, may be empty).
    pub note: String,
}

/// A stored revision, without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueVersion {
    pub id: i64,
    pub sha256: String,
    pub catalogue_id: String,
    pub version: String,
    pub loaded_by: String,
    pub loaded_by_user_id: Option<i64>,
    pub loaded_at: String,
    pub note: String,
    /// It is the revision activated last.
    pub active: bool,
    /// When it was last activated, if ever.
    pub last_activated_at: Option<String>,
}

/// A stored revision with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueText {
    #[serde(flatten)]
    pub meta: CatalogueVersion,
    pub toml: String,
}

/// The outcome of [`CatalogueStore::store_catalogue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCatalogue {
    pub version: CatalogueVersion,
    /// `false`: the same text was stored before; the earlier record is returned unchanged.
    pub created: bool,
}

/// One entry of the activation log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CatalogueActivation {
    pub id: i64,
    pub sha256: String,
    /// The catalogue version (header) of the activated revision.
    pub version: String,
    pub activated_by: String,
    pub activated_by_user_id: Option<i64>,
    pub activated_at: String,
}

#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// Stores a revision. The same text (same SHA-256) stored again is not an error: nothing is
    /// written and the earlier record comes back with `created: false`. Fails with `Invalid`
    /// for an empty or oversized text, or a missing id or version.
    async fn store_catalogue(&self, new: NewCatalogueVersion) -> Result<StoredCatalogue>;
    /// Every stored revision, newest first, without texts.
    async fn catalogue_versions(&self) -> Result<Vec<CatalogueVersion>>;
    /// One revision with its text.
    async fn catalogue_by_sha256(&self, sha256: &str) -> Result<Option<CatalogueText>>;
    /// Makes a stored revision the active one (appends to the activation log). Fails with
    /// `NotFound` when no revision has this hash.
    async fn activate_catalogue(
        &self,
        sha256: &str,
        activated_by: &str,
        activated_by_user_id: Option<i64>,
    ) -> Result<CatalogueActivation>;
    /// The revision activated last, with its text; `None` when none ever was.
    async fn active_catalogue(&self) -> Result<Option<CatalogueText>>;
    /// Only the hash of the active revision: one indexed row, cheap enough to ask on every
    /// request (servers cache the parsed catalogue by this hash).
    async fn active_catalogue_sha256(&self) -> Result<Option<String>>;
    /// The activation log, newest first.
    async fn catalogue_activations(&self, limit: u32) -> Result<Vec<CatalogueActivation>>;
}

/// SHA-256 (lower-case hex) of a catalogue's text: the same hash `tandem-protect` gives it.
pub fn catalogue_sha256(toml: &str) -> String {
    hex::encode(Sha256::digest(toml.as_bytes()))
}

fn check_new(new: &NewCatalogueVersion) -> Result<()> {
    if new.toml.trim().is_empty() {
        return Err(StoreError::Invalid("the catalogue text is empty".into()));
    }
    if new.toml.len() > MAX_CATALOGUE_BYTES {
        return Err(StoreError::Invalid(format!(
            "the catalogue text has {} bytes; at most {MAX_CATALOGUE_BYTES} are accepted",
            new.toml.len()
        )));
    }
    if new.catalogue_id.trim().is_empty() {
        return Err(StoreError::Invalid("catalogue id: missing".into()));
    }
    if new.version.trim().is_empty() {
        return Err(StoreError::Invalid("catalogue version: missing".into()));
    }
    if new.loaded_by.trim().is_empty() {
        return Err(StoreError::Invalid("loaded_by: missing".into()));
    }
    if new.note.chars().count() > MAX_NOTE_CHARS {
        return Err(StoreError::Invalid(format!(
            "note: at most {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: i64,
    sha256: String,
    catalogue_id: String,
    version: String,
    loaded_by: String,
    loaded_by_user_id: Option<i64>,
    loaded_at: String,
    note: String,
    active: i64,
    last_activated_at: Option<String>,
}

impl From<VersionRow> for CatalogueVersion {
    fn from(row: VersionRow) -> CatalogueVersion {
        CatalogueVersion {
            id: row.id,
            sha256: row.sha256,
            catalogue_id: row.catalogue_id,
            version: row.version,
            loaded_by: row.loaded_by,
            loaded_by_user_id: row.loaded_by_user_id,
            loaded_at: row.loaded_at,
            note: row.note,
            active: row.active != 0,
            last_activated_at: row.last_activated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TextRow {
    #[sqlx(flatten)]
    meta: VersionRow,
    toml: String,
}

/// The columns [`VersionRow`] reads from `catalogue_versions v`. The active flag is computed
/// against the last activation, so it cannot disagree with the log.
const VERSION_COLUMNS: &str = "v.id, v.sha256, v.catalogue_id, v.version, v.loaded_by, \
    v.loaded_by_user_id, v.loaded_at, v.note, \
    CAST(CASE WHEN v.sha256 = (SELECT a.sha256 FROM catalogue_activations a \
        ORDER BY a.id DESC LIMIT 1) THEN 1 ELSE 0 END AS BIGINT) AS active, \
    (SELECT MAX(a.activated_at) FROM catalogue_activations a WHERE a.sha256 = v.sha256) \
        AS last_activated_at";

/// A hash as the caller wrote it, or `None` when it cannot be one (so it matches nothing).
fn normalise_sha256(sha256: &str) -> Option<String> {
    let sha256 = sha256.trim().to_ascii_lowercase();
    (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha256)
}

impl SqlStore {
    async fn catalogue_version_row(&self, sha256: &str) -> Result<Option<CatalogueVersion>> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM catalogue_versions v WHERE v.sha256 = $1");
        let row: Option<VersionRow> =
            on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(sha256)
                .fetch_optional(pool)
                .await?);
        Ok(row.map(CatalogueVersion::from))
    }
}

#[async_trait]
impl CatalogueStore for SqlStore {
    async fn store_catalogue(&self, new: NewCatalogueVersion) -> Result<StoredCatalogue> {
        check_new(&new)?;
        let sha256 = catalogue_sha256(&new.toml);
        let now = tandem_core::time::now_iso();
        // Two loads of the same text may race: the unique hash lets exactly one insert win and
        // the other finds the winner's record below.
        let inserted: Option<(i64,)> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "INSERT INTO catalogue_versions (sha256, catalogue_id, version, toml, loaded_by, \
             loaded_by_user_id, loaded_at, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (sha256) DO NOTHING RETURNING id"
        )
        .bind(&sha256)
        .bind(new.catalogue_id.trim())
        .bind(new.version.trim())
        .bind(&new.toml)
        .bind(new.loaded_by.trim())
        .bind(new.loaded_by_user_id)
        .bind(&now)
        .bind(new.note.trim())
        .fetch_optional(pool)
        .await?);
        let version = self.catalogue_version_row(&sha256).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("catalogue {sha256} vanished after it was stored"))
        })?;
        Ok(StoredCatalogue {
            version,
            created: inserted.is_some(),
        })
    }

    async fn catalogue_versions(&self) -> Result<Vec<CatalogueVersion>> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM catalogue_versions v ORDER BY v.id DESC");
        let rows: Vec<VersionRow> =
            on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?);
        Ok(rows.into_iter().map(CatalogueVersion::from).collect())
    }

    async fn catalogue_by_sha256(&self, sha256: &str) -> Result<Option<CatalogueText>> {
        let Some(sha256) = normalise_sha256(sha256) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {VERSION_COLUMNS}, v.toml FROM catalogue_versions v WHERE v.sha256 = $1"
        );
        let row: Option<TextRow> =
            on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(sha256)
                .fetch_optional(pool)
                .await?);
        Ok(row.map(|row| CatalogueText {
            meta: row.meta.into(),
            toml: row.toml,
        }))
    }

    async fn activate_catalogue(
        &self,
        sha256: &str,
        activated_by: &str,
        activated_by_user_id: Option<i64>,
    ) -> Result<CatalogueActivation> {
        let not_found = || StoreError::NotFound(format!("no stored catalogue has hash {sha256}"));
        let sha256 = normalise_sha256(sha256).ok_or_else(not_found)?;
        if activated_by.trim().is_empty() {
            return Err(StoreError::Invalid("activated_by: missing".into()));
        }
        let now = tandem_core::time::now_iso();
        // Insert-from-select: the version's existence is checked in the same statement that
        // logs the activation, so no activation can name a revision that is not stored.
        let activation: Option<CatalogueActivation> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "INSERT INTO catalogue_activations (sha256, activated_by, activated_by_user_id, \
                 activated_at) SELECT sha256, $2, $3, $4 FROM catalogue_versions \
                 WHERE sha256 = $1 \
                 RETURNING id, sha256, activated_by, activated_by_user_id, activated_at, \
                 '' AS version",
            )
            .bind(&sha256)
            .bind(activated_by.trim())
            .bind(activated_by_user_id)
            .bind(&now)
            .fetch_optional(pool)
            .await?
        });
        let mut activation = activation.ok_or_else(not_found)?;
        if let Some(version) = self.catalogue_version_row(&sha256).await? {
            activation.version = version.version;
        }
        Ok(activation)
    }

    async fn active_catalogue(&self) -> Result<Option<CatalogueText>> {
        match self.active_catalogue_sha256().await? {
            Some(sha256) => self.catalogue_by_sha256(&sha256).await,
            None => Ok(None),
        }
    }

    async fn active_catalogue_sha256(&self) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT sha256 FROM catalogue_activations ORDER BY id DESC LIMIT 1"
        )
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|(sha256,)| sha256))
    }

    async fn catalogue_activations(&self, limit: u32) -> Result<Vec<CatalogueActivation>> {
        let rows: Vec<CatalogueActivation> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT a.id, a.sha256, v.version, a.activated_by, a.activated_by_user_id, \
             a.activated_at FROM catalogue_activations a \
             JOIN catalogue_versions v ON v.sha256 = a.sha256 ORDER BY a.id DESC LIMIT $1"
        )
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_normalised_or_refused() {
        let sha = catalogue_sha256("x");
        assert_eq!(sha.len(), 64);
        assert_eq!(normalise_sha256(&sha.to_uppercase()), Some(sha));
        assert_eq!(normalise_sha256("999999"), None);
        assert_eq!(normalise_sha256(&"g".repeat(64)), None);
    }

    #[test]
    fn new_versions_are_checked() {
        let good = NewCatalogueVersion {
            catalogue_id: "c".into(),
            version: "1.0.0".into(),
            toml: "[catalogue]".into(),
            loaded_by: "ana".into(),
            loaded_by_user_id: None,
            note: String::new(),
        };
        assert!(check_new(&good).is_ok());
        for bad in [
            NewCatalogueVersion {
                toml: " \n".into(),
                ..good.clone()
            },
            NewCatalogueVersion {
                version: String::new(),
                ..good.clone()
            },
            NewCatalogueVersion {
                note: "n".repeat(MAX_NOTE_CHARS + 1),
                ..good.clone()
            },
            NewCatalogueVersion {
                toml: "#".repeat(MAX_CATALOGUE_BYTES + 1),
                ..good.clone()
            },
        ] {
            assert!(matches!(check_new(&bad), Err(StoreError::Invalid(_))));
        }
    }
}
