//! Protected records at rest: the store's keyring and the sealing of stored values.
//!
//! A protected entity's values (and the first-seen dates of its values, which repeat them) are
//! stored as hex text of a [`Keyring`] ciphertext whose associated data names the column, the
//! dataset and the entity id, so a ciphertext moved to another row or column does not open.
//! Which key sealed a row is also kept in a column of its own, so that key usage and
//! re-encryption are answered by an index rather than by reading every protected row.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::codec::RowName;
use crate::crypto::{CryptoError, Keyring};
use crate::{Result, StoreError};

/// Where the field-encryption keys come from; never the database.
#[derive(Clone)]
pub enum KeySource {
    /// A key file, created with a fresh key when missing (see [`Keyring::load_or_create`]).
    File(PathBuf),
    /// The key file's text, e.g. from an environment variable.
    Text(String),
}

impl fmt::Debug for KeySource {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            KeySource::Text(_) => f.write_str("Text(…)"),
        }
    }
}

impl KeySource {
    fn load(&self, create: bool) -> Result<Keyring> {
        Ok(match self {
            KeySource::File(path) if create => Keyring::load_or_create(path)?,
            KeySource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|err| CryptoError::KeyFile {
                    path: path.display().to_string(),
                    message: err.to_string(),
                })?;
                Keyring::parse(&text, &path.display().to_string())?
            }
            KeySource::Text(text) => Keyring::parse(text, "the key text")?,
        })
    }
}

/// The store's keyring behind a lock, so that it can be reloaded while readers use it.
pub(crate) struct Keys {
    source: Option<KeySource>,
    ring: RwLock<Option<Arc<Keyring>>>,
}

impl Keys {
    /// A store without keys: it reads and writes everything but protected records.
    pub(crate) fn none() -> Keys {
        Keys {
            source: None,
            ring: RwLock::new(None),
        }
    }

    pub(crate) fn load(source: KeySource) -> Result<Keys> {
        let ring = source.load(true)?;
        Ok(Keys {
            source: Some(source),
            ring: RwLock::new(Some(Arc::new(ring))),
        })
    }

    pub(crate) fn current(&self) -> Option<Arc<Keyring>> {
        self.ring
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads the key source again; a store without one has nothing to reload.
    pub(crate) fn reload(&self) -> Result<()> {
        let Some(source) = &self.source else {
            return Ok(());
        };
        let ring = Arc::new(source.load(false)?);
        tracing::debug!(keys = ?ring, "field-encryption keys reloaded");
        *self
            .ring
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(ring);
        Ok(())
    }

    /// Runs `work` with the current keyring; when it meets a key this process does not know
    /// yet (another process rotated the keys), reloads the keys once and runs it again.
    pub(crate) fn retrying<T>(&self, work: impl Fn(Option<&Keyring>) -> Result<T>) -> Result<T> {
        let ring = self.current();
        match work(ring.as_deref()) {
            Err(err) if needs_reload(&err) => {
                self.reload()?;
                work(self.current().as_deref())
            }
            other => other,
        }
    }
}

pub(crate) fn needs_reload(err: &StoreError) -> bool {
    matches!(err, StoreError::Crypto(CryptoError::UnknownKey(_)))
}

/// The stored columns that are sealed; part of a ciphertext's associated data.
#[derive(Clone, Copy)]
pub(crate) enum Field {
    Properties,
    ValueFirstSeen,
}

impl Field {
    fn label(self) -> &'static str {
        match self {
            Field::Properties => "properties",
            Field::ValueFirstSeen => "value_first_seen",
        }
    }
}

fn associated(field: Field, place: &RowName<'_>) -> Vec<u8> {
    // NUL cannot occur in a dataset name or an entity id, so the parts cannot run together.
    format!(
        "tandem/{}\0{}\0{}",
        field.label(),
        place.dataset,
        place.entity_id
    )
    .into_bytes()
}

pub(crate) fn key_needed(place: &RowName<'_>) -> StoreError {
    StoreError::Invalid(format!(
        "protected records need a field-encryption key (a key file or TANDEM_KEYS); \
         entity {} of dataset {} is protected and this store was opened without one",
        place.entity_id, place.dataset
    ))
}

/// Seals `plaintext` for `place` with the active key; returns the stored text and the key id.
pub(crate) fn seal(
    ring: Option<&Keyring>,
    field: Field,
    place: &RowName<'_>,
    plaintext: &str,
) -> Result<(String, i64)> {
    let ring = ring.ok_or_else(|| key_needed(place))?;
    let blob = ring.encrypt(plaintext.as_bytes(), &associated(field, place))?;
    Ok((hex::encode(blob), i64::from(ring.active_id())))
}

/// Opens what [`seal`] stored.
pub(crate) fn unseal(
    ring: Option<&Keyring>,
    field: Field,
    place: &RowName<'_>,
    stored: &str,
) -> Result<String> {
    let ring = ring.ok_or_else(|| key_needed(place))?;
    let blob = hex::decode(stored).map_err(|_| not_sealed(field, place))?;
    let plaintext = ring.decrypt(&blob, &associated(field, place))?;
    String::from_utf8(plaintext).map_err(|_| {
        StoreError::Corrupt(format!(
            "entity {} of dataset {}, column {}: the decrypted value is not text",
            place.entity_id,
            place.dataset,
            field.label()
        ))
    })
}

fn not_sealed(field: Field, place: &RowName<'_>) -> StoreError {
    StoreError::Corrupt(format!(
        "entity {} of dataset {} is protected but its column {} is not encrypted",
        place.entity_id,
        place.dataset,
        field.label()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACE: RowName<'static> = RowName {
        dataset: "cases",
        entity_id: "victim-1",
    };

    #[test]
    fn sealed_values_open_only_in_their_place() {
        let ring = Keyring::generate();
        let (stored, key) =
            seal(Some(&ring), Field::Properties, &PLACE, "{\"name\":[\"A\"]}").expect("seal");
        assert_eq!(key, 1);
        assert!(!stored.contains("name"));
        let opened = unseal(Some(&ring), Field::Properties, &PLACE, &stored).expect("open");
        assert_eq!(opened, "{\"name\":[\"A\"]}");
        let elsewhere = RowName {
            dataset: "cases",
            entity_id: "victim-2",
        };
        assert!(matches!(
            unseal(Some(&ring), Field::Properties, &elsewhere, &stored),
            Err(StoreError::Crypto(CryptoError::Decrypt))
        ));
        assert!(matches!(
            unseal(Some(&ring), Field::ValueFirstSeen, &PLACE, &stored),
            Err(StoreError::Crypto(CryptoError::Decrypt))
        ));
        assert!(matches!(
            unseal(None, Field::Properties, &PLACE, &stored),
            Err(StoreError::Invalid(ref m)) if m.contains("field-encryption key")
        ));
        assert!(matches!(
            seal(None, Field::Properties, &PLACE, "{}"),
            Err(StoreError::Invalid(ref m)) if m.contains("victim-1")
        ));
        assert!(matches!(
            unseal(Some(&ring), Field::Properties, &PLACE, "{\"name\":[\"A\"]}"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn an_unknown_key_reloads_once() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("keys");
        let keys = Keys::load(KeySource::File(path.clone())).expect("keys");
        let rotated = keys.current().expect("ring").rotated();
        let (stored, key) = seal(Some(&rotated), Field::Properties, &PLACE, "{}").expect("seal");
        assert_eq!(key, 2);
        // Not yet in the file: the reload finds nothing new and the error stands.
        let open = |ring: Option<&Keyring>| unseal(ring, Field::Properties, &PLACE, &stored);
        assert!(matches!(
            keys.retrying(open),
            Err(StoreError::Crypto(CryptoError::UnknownKey(2)))
        ));
        rotated.save(&path).expect("save");
        assert_eq!(keys.retrying(open).expect("open after reload"), "{}");
        assert_eq!(keys.current().expect("ring").key_ids(), [1, 2]);
        assert!(!format!("{:?}", KeySource::Text(rotated.to_text())).contains("1 "));
    }
}
