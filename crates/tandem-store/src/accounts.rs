//! Organisations, users, sessions and API tokens on either backend.

use crate::db::{Pool, on_pool};
use crate::security::{ApiToken, NewUser, Organisation, Session, User, UserRole};
use crate::{Result, StoreError};

/// A unique or foreign key refused the write: the caller's mistake, said in the caller's terms.
fn refused(
    err: sqlx::Error,
    taken: impl FnOnce() -> String,
    missing: impl FnOnce() -> String,
) -> StoreError {
    match err.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Invalid(taken()),
        Some(db) if db.is_foreign_key_violation() => StoreError::NotFound(missing()),
        _ => StoreError::Database(err),
    }
}

fn not_found_unless_changed(changed: u64, what: impl FnOnce() -> String) -> Result<()> {
    if changed == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(())
    }
}

fn to_u32(n: i64, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} is out of range ({n})")))
}

// ---------------------------------------------------------------------------------------------
// Organisations

#[derive(sqlx::FromRow)]
struct OrganisationRow {
    id: i64,
    name: String,
    title: String,
    created_at: String,
}

impl From<OrganisationRow> for Organisation {
    fn from(row: OrganisationRow) -> Organisation {
        Organisation {
            id: row.id,
            name: row.name,
            title: row.title,
            created_at: row.created_at,
        }
    }
}

pub(crate) async fn create_organisation(
    pool: &Pool,
    name: &str,
    title: &str,
) -> Result<Organisation> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("an organisation needs a name".into()));
    }
    let now = tandem_core::time::now_iso();
    let created: std::result::Result<OrganisationRow, sqlx::Error> = on_pool!(pool, |pool| {
        sqlx::query_as(
            "INSERT INTO organisations (name, title, created_at) VALUES ($1, $2, $3) \
             RETURNING id, name, title, created_at",
        )
        .bind(name)
        .bind(title.trim())
        .bind(&now)
        .fetch_one(pool)
        .await
    });
    created.map(Organisation::from).map_err(|err| {
        refused(
            err,
            || format!("the organisation name {name:?} is taken"),
            String::new,
        )
    })
}

pub(crate) async fn organisations(pool: &Pool) -> Result<Vec<Organisation>> {
    let rows: Vec<OrganisationRow> = on_pool!(pool, |pool| sqlx::query_as(
        "SELECT id, name, title, created_at FROM organisations ORDER BY name"
    )
    .fetch_all(pool)
    .await?);
    Ok(rows.into_iter().map(Organisation::from).collect())
}

// ---------------------------------------------------------------------------------------------
// Users

macro_rules! user_columns {
    () => {
        "id, username, display_name, organisation_id, role, password_hash, disabled, \
         must_change_password, failed_logins, locked_until, created_at, last_login_at"
    };
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    organisation_id: i64,
    role: String,
    password_hash: String,
    disabled: bool,
    must_change_password: bool,
    failed_logins: i64,
    locked_until: Option<String>,
    created_at: String,
    last_login_at: Option<String>,
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        let role = UserRole::parse(&self.role).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "user {}, role: unknown role {:?}",
                self.id, self.role
            ))
        })?;
        Ok(User {
            failed_logins: to_u32(self.failed_logins, "failed_logins")?,
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            organisation_id: self.organisation_id,
            role,
            password_hash: self.password_hash,
            disabled: self.disabled,
            must_change_password: self.must_change_password,
            locked_until: self.locked_until,
            created_at: self.created_at,
            last_login_at: self.last_login_at,
        })
    }
}

/// Usernames are compared and stored lower-case, without surrounding space.
fn normal_username(username: &str) -> String {
    username.trim().to_lowercase()
}

pub(crate) async fn create_user(pool: &Pool, user: NewUser) -> Result<User> {
    let username = normal_username(&user.username);
    if username.is_empty() {
        return Err(StoreError::Invalid("a user needs a username".into()));
    }
    if username.chars().any(char::is_whitespace) {
        return Err(StoreError::Invalid(format!(
            "the username {username:?} contains a space"
        )));
    }
    let now = tandem_core::time::now_iso();
    let organisation_id = user.organisation_id;
    let created: std::result::Result<UserRow, sqlx::Error> = on_pool!(pool, |pool| {
        sqlx::query_as(concat!(
            "INSERT INTO users (username, display_name, organisation_id, role, password_hash, \
             disabled, must_change_password, failed_logins, created_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, 0, $7) RETURNING ",
            user_columns!()
        ))
        .bind(&username)
        .bind(user.display_name.trim())
        .bind(organisation_id)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.must_change_password)
        .bind(&now)
        .fetch_one(pool)
        .await
    });
    created
        .map_err(|err| {
            refused(
                err,
                || format!("the username {username:?} is taken"),
                || format!("organisation {organisation_id}"),
            )
        })?
        .into_user()
}

async fn users_where(
    pool: &Pool,
    condition: &'static str,
    value: UserKey<'_>,
) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {} FROM users {condition} ORDER BY username",
        user_columns!()
    );
    let rows: Vec<UserRow> = on_pool!(pool, |pool| {
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        let query = match value {
            UserKey::Id(id) => query.bind(id),
            UserKey::Name(name) => query.bind(name),
            UserKey::All => query,
        };
        query.fetch_all(pool).await?
    });
    rows.into_iter().map(UserRow::into_user).collect()
}

enum UserKey<'a> {
    Id(i64),
    Name(&'a str),
    All,
}

pub(crate) async fn user(pool: &Pool, id: i64) -> Result<Option<User>> {
    Ok(users_where(pool, "WHERE id = $1", UserKey::Id(id))
        .await?
        .into_iter()
        .next())
}

pub(crate) async fn user_by_name(pool: &Pool, username: &str) -> Result<Option<User>> {
    let username = normal_username(username);
    Ok(
        users_where(pool, "WHERE username = $1", UserKey::Name(&username))
            .await?
            .into_iter()
            .next(),
    )
}

pub(crate) async fn users(pool: &Pool) -> Result<Vec<User>> {
    users_where(pool, "", UserKey::All).await
}

pub(crate) async fn set_user_disabled(pool: &Pool, id: i64, disabled: bool) -> Result<()> {
    let changed = on_pool!(pool, |pool| sqlx::query(
        "UPDATE users SET disabled = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(disabled)
    .execute(pool)
    .await?
    .rows_affected());
    not_found_unless_changed(changed, || format!("user {id}"))
}

pub(crate) async fn set_password(
    pool: &Pool,
    id: i64,
    password_hash: &str,
    must_change: bool,
) -> Result<()> {
    let changed = on_pool!(pool, |pool| sqlx::query(
        "UPDATE users SET password_hash = $2, must_change_password = $3, failed_logins = 0, \
         locked_until = NULL WHERE id = $1"
    )
    .bind(id)
    .bind(password_hash)
    .bind(must_change)
    .execute(pool)
    .await?
    .rows_affected());
    not_found_unless_changed(changed, || format!("user {id}"))
}

/// One statement, so that concurrent failures each count: every right-hand side sees the row
/// as it was before the update.
const RECORD_LOGIN_FAILURE: &str = concat!(
    "UPDATE users SET \
     failed_logins = CASE WHEN $2 > 0 AND failed_logins + 1 >= $2 THEN 0 \
         ELSE failed_logins + 1 END, \
     locked_until = CASE WHEN $2 > 0 AND failed_logins + 1 >= $2 THEN $3 \
         ELSE locked_until END \
     WHERE id = $1 RETURNING ",
    user_columns!()
);

pub(crate) async fn record_login_failure(
    pool: &Pool,
    id: i64,
    threshold: u32,
    lock_until: &str,
) -> Result<User> {
    let row: Option<UserRow> = on_pool!(pool, |pool| sqlx::query_as(RECORD_LOGIN_FAILURE)
        .bind(id)
        .bind(i64::from(threshold))
        .bind(lock_until)
        .fetch_optional(pool)
        .await?);
    row.ok_or_else(|| StoreError::NotFound(format!("user {id}")))?
        .into_user()
}

pub(crate) async fn record_login_success(pool: &Pool, id: i64) -> Result<()> {
    let now = tandem_core::time::now_iso();
    let changed = on_pool!(pool, |pool| sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2 \
         WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    not_found_unless_changed(changed, || format!("user {id}"))
}

// ---------------------------------------------------------------------------------------------
// Sessions

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    user_id: i64,
    csrf_token: String,
    created_at: String,
    last_seen_at: String,
}

pub(crate) async fn create_session(pool: &Pool, session: Session) -> Result<()> {
    let user_id = session.user_id;
    let written: std::result::Result<_, sqlx::Error> = on_pool!(pool, |pool| sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(&session.token_hash)
    .bind(session.user_id)
    .bind(&session.csrf_token)
    .bind(&session.created_at)
    .bind(&session.last_seen_at)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()));
    written.map_err(|err| {
        refused(
            err,
            || "a session with this token exists already".to_string(),
            || format!("user {user_id}"),
        )
    })?;
    Ok(())
}

pub(crate) async fn session(pool: &Pool, token_hash: &str) -> Result<Option<Session>> {
    let row: Option<SessionRow> = on_pool!(pool, |pool| sqlx::query_as(
        "SELECT token_hash, user_id, csrf_token, created_at, last_seen_at FROM sessions \
         WHERE token_hash = $1"
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?);
    Ok(row.map(|row| Session {
        token_hash: row.token_hash,
        user_id: row.user_id,
        csrf_token: row.csrf_token,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
    }))
}

/// Runs one statement that takes one text or integer key.
async fn execute_with(pool: &Pool, sql: &'static str, key: Key<'_>) -> Result<u64> {
    Ok(on_pool!(pool, |pool| {
        let query = sqlx::query(sql);
        let query = match key {
            Key::Text(text) => query.bind(text),
            Key::Int(n) => query.bind(n),
            Key::TextAt(text, at) => query.bind(text).bind(at),
            Key::IntAt(n, at) => query.bind(n).bind(at),
        };
        query.execute(pool).await?.rows_affected()
    }))
}

enum Key<'a> {
    Text(&'a str),
    Int(i64),
    /// A key and a time.
    TextAt(&'a str, &'a str),
    IntAt(i64, &'a str),
}

pub(crate) async fn touch_session(pool: &Pool, token_hash: &str, at: &str) -> Result<()> {
    execute_with(
        pool,
        "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
        Key::TextAt(token_hash, at),
    )
    .await?;
    Ok(())
}

pub(crate) async fn delete_session(pool: &Pool, token_hash: &str) -> Result<()> {
    execute_with(
        pool,
        "DELETE FROM sessions WHERE token_hash = $1",
        Key::Text(token_hash),
    )
    .await?;
    Ok(())
}

pub(crate) async fn delete_user_sessions(pool: &Pool, user_id: i64) -> Result<()> {
    execute_with(
        pool,
        "DELETE FROM sessions WHERE user_id = $1",
        Key::Int(user_id),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// API tokens

macro_rules! token_columns {
    () => {
        "id, user_id, name, token_hash, created_at, expires_at, revoked_at, last_used_at"
    };
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    user_id: i64,
    name: String,
    token_hash: String,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
}

impl From<TokenRow> for ApiToken {
    fn from(row: TokenRow) -> ApiToken {
        ApiToken {
            id: row.id,
            user_id: row.user_id,
            name: row.name,
            token_hash: row.token_hash,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            last_used_at: row.last_used_at,
        }
    }
}

pub(crate) async fn create_api_token(
    pool: &Pool,
    user_id: i64,
    name: &str,
    token_hash: &str,
    expires_at: Option<&str>,
) -> Result<ApiToken> {
    let now = tandem_core::time::now_iso();
    let created: std::result::Result<TokenRow, sqlx::Error> = on_pool!(pool, |pool| {
        sqlx::query_as(concat!(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING ",
            token_columns!()
        ))
        .bind(user_id)
        .bind(name.trim())
        .bind(token_hash)
        .bind(&now)
        .bind(expires_at)
        .fetch_one(pool)
        .await
    });
    created.map(ApiToken::from).map_err(|err| {
        refused(
            err,
            || "an API token with this digest exists already".to_string(),
            || format!("user {user_id}"),
        )
    })
}

pub(crate) async fn api_token(pool: &Pool, token_hash: &str) -> Result<Option<ApiToken>> {
    let row: Option<TokenRow> = on_pool!(pool, |pool| sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?);
    Ok(row.map(ApiToken::from))
}

pub(crate) async fn api_tokens(pool: &Pool, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
    let rows: Vec<TokenRow> = on_pool!(pool, |pool| match user_id {
        Some(user_id) => {
            sqlx::query_as(concat!(
                "SELECT ",
                token_columns!(),
                " FROM api_tokens WHERE user_id = $1 ORDER BY id"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query_as(concat!(
                "SELECT ",
                token_columns!(),
                " FROM api_tokens ORDER BY id"
            ))
            .fetch_all(pool)
            .await?
        }
    });
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

pub(crate) async fn revoke_api_token(pool: &Pool, id: i64) -> Result<()> {
    let now = tandem_core::time::now_iso();
    let changed = execute_with(
        pool,
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
        Key::IntAt(id, &now),
    )
    .await?;
    not_found_unless_changed(changed, || format!("API token {id}"))
}

/// How stale `last_used_at` may be before a use writes it again.
const TOKEN_TOUCH_SECONDS: i64 = 60;

pub(crate) async fn touch_api_token(pool: &Pool, id: i64) -> Result<()> {
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let now = tandem_core::time::iso_from_unix(now_secs);
    let stale = tandem_core::time::iso_from_unix(now_secs - TOKEN_TOUCH_SECONDS);
    let changed = on_pool!(pool, |pool| sqlx::query(
        "UPDATE api_tokens SET last_used_at = $2 \
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)"
    )
    .bind(id)
    .bind(&now)
    .bind(&stale)
    .execute(pool)
    .await?
    .rows_affected());
    if changed == 0 {
        // Used within the minute, or unknown: only the latter is an error.
        let known: Option<i64> = on_pool!(pool, |pool| sqlx::query_scalar(
            "SELECT id FROM api_tokens WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        if known.is_none() {
            return Err(StoreError::NotFound(format!("API token {id}")));
        }
    }
    Ok(())
}
