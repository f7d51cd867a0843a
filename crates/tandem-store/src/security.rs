//! Accounts, sessions, API tokens and the audit log: what the server's security model keeps.
//!
//! Secrets never enter the database in the clear: passwords arrive already hashed (Argon2id, by
//! the server), session and API tokens are stored as SHA-256 digests of the random token the
//! client holds. The audit log is append-only and hash-chained (each entry's hash covers the
//! previous entry's hash and its own fields), so that `verify_audit` finds the first entry that
//! was altered or removed.

use serde::{Deserialize, Serialize};

/// What a user may do; permissions per role are the server's policy, not the store's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    Admin,
    Analyst,
    Caseworker,
    Viewer,
}

impl UserRole {
    pub const ALL: [UserRole; 4] = [
        UserRole::Admin,
        UserRole::Analyst,
        UserRole::Caseworker,
        UserRole::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Analyst => "analyst",
            UserRole::Caseworker => "caseworker",
            UserRole::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<UserRole> {
        UserRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: i64,
    /// Short unique name, e.g. `ngo-lampedusa`.
    pub name: String,
    pub title: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub organisation_id: i64,
    pub role: UserRole,
    /// Argon2id PHC string; never serialised to clients.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub disabled: bool,
    /// Set for one-time passwords (first administrator, resets): the next login must change it.
    pub must_change_password: bool,
    pub failed_logins: u32,
    pub locked_until: Option<String>,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub organisation_id: i64,
    pub role: UserRole,
    pub password_hash: String,
    pub must_change_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 hex of the cookie token.
    pub token_hash: String,
    pub user_id: i64,
    /// Per-session CSRF token (random, sent in forms and the `X-CSRF-Token` header).
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// SHA-256 hex of the bearer token.
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    Ok,
    Denied,
    Failed,
}

/// An entry to append. `action` is a dotted verb (`login`, `login.failed`, `entity.read`,
/// `protected.read`, `user.create`, `export`, `permission.denied`, …); `target` names what it
/// was done to. `detail` carries no protected data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub organisation_id: Option<i64>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub detail: serde_json::Value,
    pub remote_addr: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action_prefix: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<AuditOutcome>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Entries with `seq` below this (for paging backwards).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// The result of checking the chain end to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub entries: u64,
    pub intact: bool,
    /// The first entry whose hash does not match, or after which an entry is missing.
    pub first_broken_seq: Option<i64>,
    pub problem: Option<String>,
    /// The newest entry when the chain is intact. A chain proves nothing about entries cut off
    /// its end: keeping the head somewhere else (`tandem audit verify --anchor FILE`) and
    /// finding it again later does.
    pub head: Option<AuditHead>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}
