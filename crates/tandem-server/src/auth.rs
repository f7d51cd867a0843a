//! Credentials: password policy and hashing (Argon2id), random tokens for sessions, CSRF and
//! API access, and their digests (only digests are stored).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// NIST SP 800-63B rev. 4: at least 15 characters for single-factor passwords, at least 64
/// accepted, all printable characters and spaces allowed, no composition rules.
pub const MIN_PASSWORD_CHARS: usize = 15;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Passwords that are long enough but known to be guessed first (a blocklist, as the guideline
/// asks); compared case-insensitively.
const BLOCKLIST: &[&str] = &[
    "passwordpassword",
    "password1234567",
    "123456789012345",
    "1234567890123456",
    "qwertyuiopasdfgh",
    "qwertyuiopasdfghjkl",
    "correcthorsebatterystaple",
    "iloveyouiloveyou",
    "letmeinletmein",
    "adminadminadmin",
    "changemechangeme",
    "tandemtandemtandem",
    "welcomewelcome1",
];

/// Why a password is refused, in words for the person choosing it.
pub fn password_problem(password: &str, username: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!(
            "use at least {MIN_PASSWORD_CHARS} characters (a few words make a good one); this has {chars}"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!("use at most {MAX_PASSWORD_CHARS} characters"));
    }
    let lower = password.to_lowercase();
    let first = lower.chars().next();
    if lower.chars().all(|c| Some(c) == first) {
        return Some("a single repeated character is too easy to guess".to_string());
    }
    if BLOCKLIST.iter().any(|b| lower == *b) {
        return Some("this password is on the list of commonly used ones".to_string());
    }
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Some("the password must not contain the user name".to_string());
    }
    None
}

/// Argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1, as OWASP recommends).
/// Slow on purpose: call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash the password: {err}"))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is not recoverable for a security server.
    if let Err(err) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random generator failed: {err}");
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A one-time password that people can type: 20 characters from an unambiguous alphabet.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";
    let mut bytes = [0u8; 20];
    if let Err(err) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random generator failed: {err}");
    }
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!(
        "{}-{}-{}-{}",
        &chars[..5],
        &chars[5..10],
        &chars[10..15],
        &chars[15..]
    )
}

/// What the database keeps of a token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(password_problem("short", "ana").is_some());
        assert!(password_problem("aaaaaaaaaaaaaaaaaaaa", "ana").is_some());
        assert!(password_problem("PasswordPassword", "ana").is_some());
        assert!(password_problem("mariam-is-my-name-ok", "mariam").is_some());
        assert!(password_problem("river stone lantern moss", "ana").is_none());
        // Length counts characters, not bytes.
        assert!(password_problem("ناصر ناصر ناصر", "x").is_some());
    }

    #[test]
    fn hashing_round_trip() {
        let hash = hash_password("river stone lantern moss").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("river stone lantern moss", &hash));
        assert!(!verify_password("river stone lantern mos", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(a.len(), 43);
        assert_eq!(token_digest(&a).len(), 64);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &random_token()));
        let otp = one_time_password();
        assert_eq!(otp.chars().count(), 23);
        assert!(password_problem(&otp, "admin").is_none());
    }
}
