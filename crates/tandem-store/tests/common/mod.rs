//! The harness of the conformance suites: every test runs against SQLite and against
//! PostgreSQL, through [`conformance!`].
//!
//! PostgreSQL comes from `TANDEM_TEST_POSTGRES` (`source .ci/postgres.sh` starts one). Without
//! it the PostgreSQL tests fail, so that CI cannot pass without them; `TANDEM_TEST_POSTGRES=skip`
//! skips them on purpose. Each PostgreSQL test works in a schema of its own.

#![allow(dead_code, unused_macros)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::Connection;
use tandem_core::{Entity, Sensitivity};
use tandem_store::crypto::Keyring;
use tandem_store::{
    DatasetSummary, ImportMode, ImportRequest, ImportSummary, KeySource, Store, StoredEntity,
};

// ---------------------------------------------------------------------------------------------
// Harness

pub struct Harness {
    pub store: Box<dyn Store>,
    pub url: String,
    /// The field-encryption keys the store was opened with (as a key file's text).
    pub keys: String,
    pub dir: Option<tempfile::TempDir>,
    /// (server URL, schema) of a PostgreSQL test.
    pub postgres: Option<(String, String)>,
}

static SCHEMA_SEQ: AtomicUsize = AtomicUsize::new(0);

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("nested-name.db").display());
        let keys = Keyring::generate().to_text();
        let store = tandem_store::open_with_keys(&url, KeySource::Text(keys.clone()))
            .await
            .expect("open SQLite store");
        Harness {
            store,
            url,
            keys,
            dir: Some(dir),
            postgres: None,
        }
    }

    pub async fn postgres(test: &str) -> Option<Harness> {
        let server = match std::env::var("TANDEM_TEST_POSTGRES") {
            Ok(value) if value == "skip" => {
                eprintln!("TANDEM_TEST_POSTGRES=skip: PostgreSQL test {test} skipped");
                return None;
            }
            Ok(value) => value,
            Err(_) => panic!(
                "TANDEM_TEST_POSTGRES is not set: the PostgreSQL half of the store's conformance \
                 suite needs a server. Run `source .ci/postgres.sh` first (it starts a throw-away \
                 cluster), or set TANDEM_TEST_POSTGRES=skip to skip these tests on purpose."
            ),
        };
        let short: String = test.chars().take(40).collect();
        let schema = format!(
            "t_{short}_{}_{}",
            std::process::id(),
            SCHEMA_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .expect("connect to TANDEM_TEST_POSTGRES");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .expect("create test schema");
        admin.close().await.ok();
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
        let keys = Keyring::generate().to_text();
        let store = tandem_store::open_with_keys(&url, KeySource::Text(keys.clone()))
            .await
            .expect("open PostgreSQL store");
        Some(Harness {
            store,
            url,
            keys,
            dir: None,
            postgres: Some((server, schema)),
        })
    }

    /// Another handle on the same store, as another process would open it.
    pub async fn reopen(&self) -> Box<dyn Store> {
        self.open_with(KeySource::Text(self.keys.clone())).await
    }

    pub async fn open_with(&self, keys: KeySource) -> Box<dyn Store> {
        tandem_store::open_with_keys(&self.url, keys)
            .await
            .expect("reopen store")
    }

    /// Runs SQL on the store's database behind its back (to damage it on purpose).
    pub async fn execute_behind(&self, sql: &str) {
        if let Err(err) = self.try_execute_behind(sql).await {
            panic!("{sql}: {err}");
        }
    }

    pub async fn try_execute_behind(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        if self.postgres.is_some() {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            let done = sqlx::query(sql).execute(&mut conn).await;
            conn.close().await.ok();
            Ok(done?.rows_affected())
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await?;
            let done = sqlx::query(sql).execute(&mut conn).await;
            conn.close().await.ok();
            Ok(done?.rows_affected())
        }
    }

    /// Reads `(text, integer)` rows of `sql` with one text parameter behind the store's back
    /// (to see what it stored, not what it answers).
    pub async fn pairs_behind(&self, sql: &str, bind: &str) -> Vec<(String, i64)> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        let rows = if self.postgres.is_some() {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            let rows = sqlx::query_as(sql).bind(bind).fetch_all(&mut conn).await;
            conn.close().await.ok();
            rows
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            let rows = sqlx::query_as(sql).bind(bind).fetch_all(&mut conn).await;
            conn.close().await.ok();
            rows
        };
        rows.expect("query")
    }

    /// The SQLite file, for tests that read its bytes.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.url
            .strip_prefix("sqlite://")
            .filter(|_| self.postgres.is_none())
            .map(std::path::PathBuf::from)
    }

    pub async fn finish(self) {
        drop(self.store);
        if let Some((server, schema)) = self.postgres
            && let Ok(mut admin) = sqlx::PgConnection::connect(&server).await
        {
            let drop_schema = format!("DROP SCHEMA {schema} CASCADE");
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop_schema))
                .execute(&mut admin)
                .await;
            admin.close().await.ok();
        }
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let harness = super::Harness::sqlite().await;
                    super::$name(&harness).await;
                    harness.finish().await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(harness) = super::Harness::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&harness).await;
                    harness.finish().await;
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// An organisation `org` with one caseworker: (organisation id, user id).
pub async fn owner(store: &dyn Store, org: &str) -> (i64, i64) {
    let organisation = store
        .create_organisation(org, &format!("{org} title"))
        .await
        .expect("organisation");
    let user = store
        .create_user(tandem_store::security::NewUser {
            username: format!("worker-{org}"),
            display_name: "Case Worker".into(),
            organisation_id: organisation.id,
            role: tandem_store::security::UserRole::Caseworker,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            must_change_password: false,
        })
        .await
        .expect("user");
    (organisation.id, user.id)
}

pub fn entity(schema: &str, id: &str, values: &[(&str, &str)]) -> Entity {
    let mut entity = Entity::new(schema, id).expect("entity");
    for (prop, value) in values {
        entity.add(prop, value).expect("value");
    }
    entity
}

pub fn person(id: &str, name: &str) -> Entity {
    entity("Person", id, &[("name", name)])
}

pub fn request(dataset: &str, version: &str, mode: ImportMode) -> ImportRequest {
    ImportRequest {
        dataset: dataset.to_string(),
        title: None,
        version: version.to_string(),
        mode,
        sensitivity: Sensitivity::Public,
        source: format!("test {dataset} {version}"),
        owner_organisation: None,
    }
}

pub async fn import(
    store: &dyn Store,
    request: ImportRequest,
    entities: impl IntoIterator<Item = Entity>,
) -> ImportSummary {
    let mut session = store.begin_import(request).await.expect("begin import");
    for entity in entities {
        session.put(entity).await.expect("put");
    }
    session.commit().await.expect("commit")
}

pub async fn all_entities(store: &dyn Store, dataset: Option<&str>) -> Vec<StoredEntity> {
    store
        .entities(dataset)
        .try_collect()
        .await
        .expect("stream entities")
}

/// Everything the store says, to compare before and after.
pub async fn snapshot(store: &dyn Store) -> String {
    let mut out = String::new();
    for dataset in store.datasets().await.expect("datasets") {
        out.push_str(&format!("{dataset:?}\n"));
        for version in store.versions(&dataset.name).await.expect("versions") {
            out.push_str(&format!("{version:?}\n"));
            let changes = store
                .changes(&dataset.name, &version.version)
                .await
                .expect("changes");
            out.push_str(&format!("{changes:?}\n"));
        }
    }
    for stored in all_entities(store, None).await {
        out.push_str(&format!("{stored:?}\n"));
        let statements = store
            .statements(&stored.entity.id)
            .await
            .expect("statements");
        out.push_str(&format!("{statements:?}\n"));
        let referencing = store.referencing(&stored.entity.id).await.expect("refs");
        let ids: Vec<_> = referencing.iter().map(|r| &r.entity.id).collect();
        out.push_str(&format!("{ids:?}\n"));
    }
    out
}

pub const PARTEISPENDEN: &str =
    "../../../shared/data/screening/ftm/fixtures/yente_parteispenden.ftm.jsonl";

/// The file's records as raw JSON, to count what the store should hold independently of it.
pub fn parteispenden_json() -> Vec<serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(PARTEISPENDEN);
    let text = std::fs::read_to_string(&path).expect("read parteispenden fixture");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect()
}

pub fn parteispenden() -> Vec<Entity> {
    parteispenden_json()
        .iter()
        .map(|record| {
            let id = record["id"].as_str().expect("id");
            let schema = record["schema"].as_str().expect("schema");
            let mut entity = Entity::new(schema, id).expect("entity");
            for (prop, values) in record["properties"].as_object().expect("properties") {
                for value in values.as_array().expect("values") {
                    entity.add_lenient(prop, value.as_str().expect("string value"));
                }
            }
            entity
        })
        .collect()
}

pub fn summary_of<'a>(datasets: &'a [DatasetSummary], name: &str) -> &'a DatasetSummary {
    datasets
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("dataset {name} missing"))
}

/// Different seconds for imports whose dates a test compares (dates have second precision).
pub async fn next_second() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}
