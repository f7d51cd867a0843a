//! Helpers for the tests of crates that use the store (and for its own).

use sqlx::Connection;

use crate::{Result, StoreError};

/// Creates the database `name` on the PostgreSQL server of `base_url` (a `postgres://` URL of a
/// role that may create databases) and returns the URL of the new database. Fails if it exists:
/// a test's database is its own.
pub async fn create_postgres_database(base_url: &str, name: &str) -> Result<String> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(StoreError::Invalid(format!(
            "test database name {name:?}: use lower-case letters, digits and _ (at most 63)"
        )));
    }
    let url = with_database(base_url, name)?;
    let mut admin = sqlx::PgConnection::connect(base_url).await?;
    // The name was checked above: it cannot be bound, being an identifier.
    let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    created?;
    Ok(url)
}

/// `base_url` with its database (the URL's path) replaced by `name`, its query kept.
fn with_database(base_url: &str, name: &str) -> Result<String> {
    let scheme_end = base_url
        .find("://")
        .filter(|_| base_url.starts_with("postgres://") || base_url.starts_with("postgresql://"))
        .ok_or_else(|| StoreError::UnsupportedUrl(base_url.to_string()))?
        + 3;
    let (head, rest) = base_url.split_at(scheme_end);
    let (before_query, query) = match rest.find('?') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = before_query.split('/').next().unwrap_or("");
    Ok(format!("{head}{authority}/{name}{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:55432/postgres", "t_1").unwrap(),
            "postgres://postgres@127.0.0.1:55432/t_1"
        );
        assert_eq!(
            with_database("postgresql://u:p@host/db?sslmode=disable", "x").unwrap(),
            "postgresql://u:p@host/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://host", "x").unwrap(),
            "postgres://host/x"
        );
        assert!(with_database("sqlite://x.db", "x").is_err());
    }
}
