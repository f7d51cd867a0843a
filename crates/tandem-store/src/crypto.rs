//! Field encryption for `protected` records: XChaCha20-Poly1305 with keys that live outside the
//! database (a key file or the environment), several at once so that keys can be rotated while
//! the store stays in use: new writes use the newest key, old ciphertexts still open with theirs
//! until `rotate` has re-encrypted them.
//!
//! Ciphertext layout: `TK1` · key id (u32, big-endian) · 24-byte nonce · ciphertext and tag.
//! The associated data binds a ciphertext to where it is stored (e.g. dataset and entity id), so
//! a ciphertext copied onto another record does not open.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, Generate, Key, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use thiserror::Error;

const MAGIC: &[u8; 3] = b"TK1";
const HEADER: usize = 3 + 4 + 24;

#[derive(Debug, Error)]
pub enum CryptoError {
    #[error("key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("no key with id {0}: the key file lacks a key that encrypted stored data")]
    UnknownKey(u32),
    #[error("a protected value could not be decrypted (wrong key, or the data was altered)")]
    Decrypt,
    #[error("a protected value could not be encrypted")]
    Encrypt,
    #[error("not an encrypted value")]
    NotEncrypted,
}

/// The keys in use, by id; the highest id encrypts.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<u32, Key<XChaCha20Poly1305>>,
}

impl fmt::Debug for Keyring {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// A keyring with one fresh random key.
    pub fn generate() -> Keyring {
        let mut keys = BTreeMap::new();
        keys.insert(1, Key::<XChaCha20Poly1305>::generate());
        Keyring { keys }
    }

    /// Reads `ID HEX` lines (`#` starts a comment), as written by [`Keyring::to_text`].
    pub fn parse(text: &str, origin: &str) -> Result<Keyring, CryptoError> {
        let bad = |line: usize, message: &str| CryptoError::KeyFile {
            path: origin.to_string(),
            message: format!("line {line}: {message}"),
        };
        let mut keys = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (id, hex_key) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| bad(index + 1, "expected `ID HEXKEY`"))?;
            let id: u32 = id
                .parse()
                .map_err(|_| bad(index + 1, "the key id is not a number"))?;
            let bytes = hex::decode(hex_key.trim())
                .map_err(|_| bad(index + 1, "the key is not hexadecimal"))?;
            let key = Key::<XChaCha20Poly1305>::try_from(bytes.as_slice())
                .map_err(|_| bad(index + 1, "a key is 32 bytes (64 hex digits)"))?;
            if keys.insert(id, key).is_some() {
                return Err(bad(index + 1, "the key id is used twice"));
            }
        }
        if keys.is_empty() {
            return Err(CryptoError::KeyFile {
                path: origin.to_string(),
                message: "no key in it".to_string(),
            });
        }
        Ok(Keyring { keys })
    }

    pub fn to_text(&self) -> String {
        let mut text = String::from(
            "# Tandem field-encryption keys: ID HEXKEY, the highest id encrypts.\n\
             # Keep this file out of the database's backups and readable only by Tandem.\n",
        );
        for (id, key) in &self.keys {
            text.push_str(&format!("{id} {}\n", hex::encode(key.as_slice())));
        }
        text
    }

    /// Loads the key file, creating it with a fresh key (mode 0600) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Keyring, CryptoError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Keyring::parse(&text, &path.display().to_string()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let keyring = Keyring::generate();
                keyring.save(path)?;
                Ok(keyring)
            }
            Err(err) => Err(CryptoError::KeyFile {
                path: path.display().to_string(),
                message: err.to_string(),
            }),
        }
    }

    /// Writes the key file atomically, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), CryptoError> {
        let fail = |err: std::io::Error| CryptoError::KeyFile {
            path: path.display().to_string(),
            message: err.to_string(),
        };
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp).map_err(fail)?;
            file.write_all(self.to_text().as_bytes()).map_err(fail)?;
            file.sync_all().map_err(fail)?;
        }
        std::fs::rename(&tmp, path).map_err(fail)
    }

    /// The same keys plus a new one that becomes the encrypting key.
    pub fn rotated(&self) -> Keyring {
        let mut keys = self.keys.clone();
        let next = self.active_id() + 1;
        keys.insert(next, Key::<XChaCha20Poly1305>::generate());
        Keyring { keys }
    }

    /// Drops a key that no stored value uses any more.
    pub fn without(&self, id: u32) -> Keyring {
        let mut keys = self.keys.clone();
        if id != self.active_id() {
            keys.remove(&id);
        }
        Keyring { keys }
    }

    pub fn active_id(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(0)
    }

    pub fn key_ids(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    pub fn encrypt(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let id = self.active_id();
        let key = self.keys.get(&id).ok_or(CryptoError::UnknownKey(id))?;
        let nonce = XNonce::generate();
        let sealed = XChaCha20Poly1305::new(key)
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: associated,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, blob: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let id = key_id_of(blob).ok_or(CryptoError::NotEncrypted)?;
        let key = self.keys.get(&id).ok_or(CryptoError::UnknownKey(id))?;
        let nonce = XNonce::try_from(&blob[7..HEADER]).map_err(|_| CryptoError::NotEncrypted)?;
        XChaCha20Poly1305::new(key)
            .decrypt(
                &nonce,
                Payload {
                    msg: &blob[HEADER..],
                    aad: associated,
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// A per-record data key (envelope encryption): random, stored only wrapped by the [`Keyring`]
/// (the deployment's key-encryption keys), so destroying the wrapped copy makes every
/// ciphertext it sealed unreadable (crypto-shredding) while the keyring stays in use.
///
/// Ciphertext layout: `TD1` · 24-byte nonce · ciphertext and tag. The `TD1` marker also enters
/// the associated data, so a data-key ciphertext cannot pass for a keyring one or back.
pub struct DataKey {
    key: Key<XChaCha20Poly1305>,
}

impl fmt::Debug for DataKey {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(…)")
    }
}

const DATA_MAGIC: &[u8; 3] = b"TD1";
const DATA_HEADER: usize = 3 + 24;

impl DataKey {
    pub fn generate() -> DataKey {
        DataKey {
            key: Key::<XChaCha20Poly1305>::generate(),
        }
    }

    /// The key sealed by the keyring's active key; `associated` names the record it belongs to.
    pub fn wrap(&self, ring: &Keyring, associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        ring.encrypt(self.key.as_slice(), associated)
    }

    /// Opens what [`DataKey::wrap`] sealed.
    pub fn unwrap(
        ring: &Keyring,
        wrapped: &[u8],
        associated: &[u8],
    ) -> Result<DataKey, CryptoError> {
        let bytes = ring.decrypt(wrapped, associated)?;
        let key = Key::<XChaCha20Poly1305>::try_from(bytes.as_slice())
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(DataKey { key })
    }

    fn bound(associated: &[u8]) -> Vec<u8> {
        let mut aad = associated.to_vec();
        aad.push(0);
        aad.extend_from_slice(DATA_MAGIC);
        aad
    }

    pub fn encrypt(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = XNonce::generate();
        let sealed = XChaCha20Poly1305::new(&self.key)
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &DataKey::bound(associated),
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = Vec::with_capacity(DATA_HEADER + sealed.len());
        out.extend_from_slice(DATA_MAGIC);
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, blob: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if !is_data_key_sealed(blob) {
            return Err(CryptoError::NotEncrypted);
        }
        let nonce =
            XNonce::try_from(&blob[3..DATA_HEADER]).map_err(|_| CryptoError::NotEncrypted)?;
        XChaCha20Poly1305::new(&self.key)
            .decrypt(
                &nonce,
                Payload {
                    msg: &blob[DATA_HEADER..],
                    aad: &DataKey::bound(associated),
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// Whether `blob` was sealed by a [`DataKey`] (rather than directly by the keyring).
pub fn is_data_key_sealed(blob: &[u8]) -> bool {
    blob.len() >= DATA_HEADER + 16 && &blob[..3] == DATA_MAGIC
}

/// The id of the key that sealed `blob`, or `None` when it is not one of our ciphertexts.
pub fn key_id_of(blob: &[u8]) -> Option<u32> {
    if blob.len() < HEADER + 16 || &blob[..3] != MAGIC {
        return None;
    }
    Some(u32::from_be_bytes([blob[3], blob[4], blob[5], blob[6]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let ring = Keyring::generate();
        let blob = ring.encrypt(b"Amina, 17, Agadez", b"case:1").unwrap();
        assert!(!blob.windows(5).any(|w| w == b"Amina"));
        assert_eq!(
            ring.decrypt(&blob, b"case:1").unwrap(),
            b"Amina, 17, Agadez"
        );
        // Bound to its place, and tamper-evident.
        assert!(matches!(
            ring.decrypt(&blob, b"case:2"),
            Err(CryptoError::Decrypt)
        ));
        let mut altered = blob.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(ring.decrypt(&altered, b"case:1").is_err());
        // Another keyring cannot open it.
        assert!(Keyring::generate().decrypt(&blob, b"case:1").is_err());
    }

    #[test]
    fn rotation_keeps_old_ciphertexts_readable() {
        let ring = Keyring::generate();
        let old = ring.encrypt(b"x", b"").unwrap();
        let rotated = ring.rotated();
        assert_eq!(rotated.active_id(), 2);
        let new = rotated.encrypt(b"y", b"").unwrap();
        assert_eq!(key_id_of(&old), Some(1));
        assert_eq!(key_id_of(&new), Some(2));
        assert_eq!(rotated.decrypt(&old, b"").unwrap(), b"x");
        let retired = rotated.without(1);
        assert!(matches!(
            retired.decrypt(&old, b""),
            Err(CryptoError::UnknownKey(1))
        ));
        assert_eq!(retired.without(2).active_id(), 2, "the active key stays");
    }

    #[test]
    fn key_files_round_trip_and_errors_name_the_line() {
        let ring = Keyring::generate().rotated();
        let parsed = Keyring::parse(&ring.to_text(), "k").unwrap();
        assert_eq!(parsed.key_ids(), vec![1, 2]);
        let blob = ring.encrypt(b"z", b"").unwrap();
        assert_eq!(parsed.decrypt(&blob, b"").unwrap(), b"z");
        let err = Keyring::parse("1 abcd\n", "keys.txt").unwrap_err();
        assert!(err.to_string().contains("keys.txt") && err.to_string().contains("line 1"));
        assert!(Keyring::parse("# nothing\n", "k").is_err());
        assert!(!format!("{ring:?}").contains(&ring.to_text()[120..140]));
    }

    #[test]
    fn data_keys_are_wrapped_by_the_keyring_and_shred_with_it() {
        let ring = Keyring::generate();
        let key = DataKey::generate();
        let wrapped = key.wrap(&ring, b"case-1").unwrap();
        let blob = key.encrypt(b"Amina", b"case:1").unwrap();
        assert!(is_data_key_sealed(&blob) && key_id_of(&blob).is_none());
        let opened = DataKey::unwrap(&ring, &wrapped, b"case-1").unwrap();
        assert_eq!(opened.decrypt(&blob, b"case:1").unwrap(), b"Amina");
        assert!(opened.decrypt(&blob, b"case:2").is_err());
        assert!(DataKey::unwrap(&ring, &wrapped, b"case-2").is_err());
        // Without the wrapped key, neither the keyring nor another data key opens it.
        assert!(ring.decrypt(&blob, b"case:1").is_err());
        assert!(DataKey::generate().decrypt(&blob, b"case:1").is_err());
        // Re-wrapping under a rotated keyring keeps the same data key.
        let rotated = ring.rotated();
        let rewrapped = DataKey::unwrap(&ring, &wrapped, b"case-1")
            .unwrap()
            .wrap(&rotated, b"case-1")
            .unwrap();
        assert_eq!(key_id_of(&rewrapped), Some(2));
        let again = DataKey::unwrap(&rotated, &rewrapped, b"case-1").unwrap();
        assert_eq!(again.decrypt(&blob, b"case:1").unwrap(), b"Amina");
        assert!(!format!("{again:?}").contains(&hex::encode(again.key.as_slice())));
    }

    #[test]
    fn key_file_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tandem.key");
        let ring = Keyring::load_or_create(&path).unwrap();
        let again = Keyring::load_or_create(&path).unwrap();
        assert_eq!(ring.key_ids(), again.key_ids());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
