//! What the two backends share: one pool or connection type per backend behind an enum, macros
//! that run one body of sqlx code against whichever backend is open (sqlx's types differ per
//! database, the calls do not), and the SQL that differs between them.
//!
//! Placeholders are written `$1, $2, …`: PostgreSQL requires them and SQLite reads them as
//! numbered parameters, so most statements are written once. Statements over a batch differ:
//! PostgreSQL takes each column or id list as one array (`UNNEST`, `= ANY`), a statement with a
//! few parameters that plans once; SQLite takes a list of plain `?`, because it looks a named
//! parameter up by walking a list, which makes thousands of `$N` in one statement quadratic.

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgRow, Postgres};
use sqlx::query::Query;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqlitePool, SqliteRow,
};
use sqlx::{AssertSqlSafe, FromRow};

use crate::Result;

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One connection that an import holds for its whole life (its staging tables live on it).
pub(crate) enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// How to open an import's own connection.
#[derive(Clone)]
pub(crate) enum Connector {
    Sqlite(SqliteConnectOptions),
    Postgres(PgConnectOptions),
}

/// Runs `$body` with `$name` bound to the backend's pool (`&SqlitePool` or `&PgPool`).
macro_rules! on_pool {
    ($pool:expr, |$name:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($name) => $body,
            $crate::db::Pool::Postgres($name) => $body,
        }
    };
}

/// Runs `$body` with `$name` bound to the backend's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`); use `&mut *$name` as the executor.
macro_rules! on_conn {
    ($conn:expr, |$name:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($name) => $body,
            $crate::db::Conn::Postgres($name) => $body,
        }
    };
}

/// Runs `$body` in a transaction on `$pool` with `$tx` bound to it; commits when the body does
/// not return early with an error (dropping the transaction rolls it back). SQLite takes the
/// write lock at once, so that two writers never deadlock upgrading read locks.
macro_rules! in_transaction {
    ($pool:expr, |$tx:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::db::Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

pub(crate) use {in_transaction, on_conn, on_pool};

/// The statements whose SQL differs between the backends.
pub(crate) struct Dialect {
    pub backend: &'static str,
    /// Opens the transaction that merges an import into the store. SQLite takes the write lock
    /// at once, so that the checks made at its start stay true until its end.
    pub begin_merge: &'static str,
    /// Run once on an import's connection: session settings and the staging tables.
    pub create_staging: &'static [&'static str],
    /// Run when staging ends, before the merge begins.
    pub end_staging: &'static [&'static str],
    /// Run before the merge reads the staging tables.
    pub before_merge: &'static [&'static str],
    /// `$N` placeholders and arrays for batches (PostgreSQL); otherwise `?` lists (SQLite).
    pub numbered_placeholders: bool,
}

impl Dialect {
    /// The placeholder of the `n`th value (1-based) of a statement built for a batch. Within one
    /// statement, use it for every value and in order.
    pub(crate) fn placeholder(&self, n: usize) -> String {
        if self.numbered_placeholders {
            format!("${n}")
        } else {
            "?".to_string()
        }
    }

    /// `(…), (…), …` for `rows` rows of `columns` values, the first being value number `first`.
    pub(crate) fn values_list(&self, first: usize, columns: usize, rows: usize) -> String {
        let mut sql = String::with_capacity(rows * columns * 6);
        let mut n = first;
        for row in 0..rows {
            if row > 0 {
                sql.push(',');
            }
            sql.push('(');
            for column in 0..columns {
                if column > 0 {
                    sql.push(',');
                }
                sql.push_str(&self.placeholder(n));
                n += 1;
            }
            sql.push(')');
        }
        sql
    }

    /// `…, …` for `count` values of an `IN (…)`, the first being value number `first`.
    pub(crate) fn in_list(&self, first: usize, count: usize) -> String {
        (first..first + count)
            .map(|n| self.placeholder(n))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One column of rows to insert in bulk. PostgreSQL receives each column as one array (a
/// statement with a few parameters whatever the number of rows); SQLite receives the rows as a
/// multi-row `VALUES` list.
pub(crate) enum Column {
    Text(Vec<String>),
    OptionalText(Vec<Option<String>>),
    Int(Vec<i64>),
    OptionalInt(Vec<Option<i64>>),
    OptionalFloat(Vec<Option<f64>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::OptionalText(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::OptionalInt(v) => v.len(),
            Column::OptionalFloat(v) => v.len(),
        }
    }

    fn postgres_array_type(&self) -> &'static str {
        match self {
            Column::Text(_) | Column::OptionalText(_) => "text[]",
            Column::Int(_) | Column::OptionalInt(_) => "int8[]",
            Column::OptionalFloat(_) => "float8[]",
        }
    }

    fn bind_postgres(
        self,
        query: Query<'static, Postgres, PgArguments>,
    ) -> Query<'static, Postgres, PgArguments> {
        match self {
            Column::Text(v) => query.bind(v),
            Column::OptionalText(v) => query.bind(v),
            Column::Int(v) => query.bind(v),
            Column::OptionalInt(v) => query.bind(v),
            Column::OptionalFloat(v) => query.bind(v),
        }
    }

    fn into_values(self) -> ColumnValues {
        match self {
            Column::Text(v) => ColumnValues::Text(v.into_iter()),
            Column::OptionalText(v) => ColumnValues::OptionalText(v.into_iter()),
            Column::Int(v) => ColumnValues::Int(v.into_iter()),
            Column::OptionalInt(v) => ColumnValues::OptionalInt(v.into_iter()),
            Column::OptionalFloat(v) => ColumnValues::OptionalFloat(v.into_iter()),
        }
    }
}

enum ColumnValues {
    Text(std::vec::IntoIter<String>),
    OptionalText(std::vec::IntoIter<Option<String>>),
    Int(std::vec::IntoIter<i64>),
    OptionalInt(std::vec::IntoIter<Option<i64>>),
    OptionalFloat(std::vec::IntoIter<Option<f64>>),
}

impl ColumnValues {
    /// Binds the column's next value (NULL past its end, which equal lengths rule out).
    fn bind_next(
        &mut self,
        query: Query<'static, Sqlite, SqliteArguments>,
    ) -> Query<'static, Sqlite, SqliteArguments> {
        match self {
            ColumnValues::Text(v) => query.bind(v.next()),
            ColumnValues::OptionalText(v) => query.bind(v.next().flatten()),
            ColumnValues::Int(v) => query.bind(v.next()),
            ColumnValues::OptionalInt(v) => query.bind(v.next().flatten()),
            ColumnValues::OptionalFloat(v) => query.bind(v.next().flatten()),
        }
    }
}

/// `head` (`INSERT INTO table (columns)`) with the rows of `columns`, then `tail` (e.g. an
/// `ON CONFLICT` clause). Returns the number of rows written.
pub(crate) async fn insert_rows(
    conn: &mut Conn,
    dialect: &Dialect,
    head: &str,
    columns: Vec<Column>,
    tail: &str,
) -> Result<u64> {
    let rows = columns.first().map_or(0, Column::len);
    if rows == 0 {
        return Ok(0);
    }
    let written = match conn {
        Conn::Postgres(c) => {
            let arrays: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, column)| format!("${}::{}", i + 1, column.postgres_array_type()))
                .collect();
            let sql = format!("{head} SELECT * FROM UNNEST({}){tail}", arrays.join(","));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for column in columns {
                query = column.bind_postgres(query);
            }
            query.execute(&mut *c).await?.rows_affected()
        }
        Conn::Sqlite(c) => {
            let sql = format!(
                "{head} VALUES {}{tail}",
                dialect.values_list(1, columns.len(), rows)
            );
            let mut values: Vec<ColumnValues> =
                columns.into_iter().map(Column::into_values).collect();
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for _ in 0..rows {
                for column in &mut values {
                    query = column.bind_next(query);
                }
            }
            query.execute(&mut *c).await?.rows_affected()
        }
    };
    Ok(written)
}

/// A value bound before an id list.
pub(crate) enum Scalar {
    Text(String),
    Int(i64),
}

/// `sql` with `{ids}` standing for "is one of `ids`" and `{1}` for the first value, `scalar`.
fn id_list_sql(dialect: &Dialect, sql: &str, has_scalar: bool, ids: usize) -> String {
    let first_id = if has_scalar { 2 } else { 1 };
    let ids = if dialect.numbered_placeholders {
        format!("= ANY(${first_id})")
    } else {
        format!("IN ({})", dialect.in_list(first_id, ids))
    };
    sql.replace("{1}", &dialect.placeholder(1))
        .replace("{ids}", &ids)
}

fn sqlite_id_query(
    sql: String,
    scalar: Option<Scalar>,
    ids: &[&str],
) -> Query<'static, Sqlite, SqliteArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql));
    match scalar {
        Some(Scalar::Text(v)) => query = query.bind(v),
        Some(Scalar::Int(v)) => query = query.bind(v),
        None => {}
    }
    for id in ids {
        query = query.bind(id.to_string());
    }
    query
}

fn postgres_id_query(
    sql: String,
    scalar: Option<Scalar>,
    ids: &[&str],
) -> Query<'static, Postgres, PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql));
    match scalar {
        Some(Scalar::Text(v)) => query = query.bind(v),
        Some(Scalar::Int(v)) => query = query.bind(v),
        None => {}
    }
    query.bind(ids.iter().map(|id| id.to_string()).collect::<Vec<String>>())
}

/// Runs a statement over a list of ids (see [`id_list_sql`]); returns the rows it changed.
pub(crate) async fn execute_for_ids(
    conn: &mut Conn,
    dialect: &Dialect,
    sql: &str,
    scalar: Option<Scalar>,
    ids: &[&str],
) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = id_list_sql(dialect, sql, scalar.is_some(), ids.len());
    Ok(match conn {
        Conn::Postgres(c) => postgres_id_query(sql, scalar, ids)
            .execute(&mut *c)
            .await?
            .rows_affected(),
        Conn::Sqlite(c) => sqlite_id_query(sql, scalar, ids)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    })
}

/// Fetches rows for a list of ids (see [`id_list_sql`]) on any connection of the pool.
pub(crate) async fn fetch_for_ids_pooled<T>(
    pool: &Pool,
    dialect: &Dialect,
    sql: &str,
    ids: &[&str],
) -> Result<Vec<T>>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = id_list_sql(dialect, sql, false, ids.len());
    let rows = match pool {
        Pool::Postgres(p) => postgres_id_query(sql, None, ids)
            .fetch_all(p)
            .await?
            .iter()
            .map(T::from_row)
            .collect::<Result<Vec<T>, sqlx::Error>>()?,
        Pool::Sqlite(p) => sqlite_id_query(sql, None, ids)
            .fetch_all(p)
            .await?
            .iter()
            .map(T::from_row)
            .collect::<Result<Vec<T>, sqlx::Error>>()?,
    };
    Ok(rows)
}

/// Fetches rows for a list of ids (see [`id_list_sql`]).
pub(crate) async fn fetch_for_ids<T>(
    conn: &mut Conn,
    dialect: &Dialect,
    sql: &str,
    scalar: Option<Scalar>,
    ids: &[&str],
) -> Result<Vec<T>>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = id_list_sql(dialect, sql, scalar.is_some(), ids.len());
    let rows = match conn {
        Conn::Postgres(c) => postgres_id_query(sql, scalar, ids)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(T::from_row)
            .collect::<Result<Vec<T>, sqlx::Error>>()?,
        Conn::Sqlite(c) => sqlite_id_query(sql, scalar, ids)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(T::from_row)
            .collect::<Result<Vec<T>, sqlx::Error>>()?,
    };
    Ok(rows)
}

/// Fetches the rows of a statement built at run time (`$1, $2, …` placeholders on both
/// backends) with `values` bound in order.
pub(crate) async fn fetch_bound<T>(pool: &Pool, sql: String, values: Vec<Scalar>) -> Result<Vec<T>>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    Ok(on_pool!(pool, |pool| {
        let mut query = sqlx::query_as::<_, T>(AssertSqlSafe(sql));
        for value in values {
            query = match value {
                Scalar::Text(v) => query.bind(v),
                Scalar::Int(v) => query.bind(v),
            };
        }
        query.fetch_all(pool).await?
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholder_lists() {
        let postgres = &crate::postgres::DIALECT;
        assert_eq!(postgres.values_list(2, 2, 2), "($2,$3),($4,$5)");
        assert_eq!(postgres.in_list(3, 3), "$3,$4,$5");
        let sqlite = &crate::sqlite::DIALECT;
        assert_eq!(sqlite.values_list(2, 2, 2), "(?,?),(?,?)");
        assert_eq!(sqlite.in_list(3, 3), "?,?,?");
    }
}
