//! A real server on a loopback port over a fresh store (SQLite, or PostgreSQL from
//! `TANDEM_TEST_POSTGRES`), filled with the demo ecosystem and one user per role.

#![allow(dead_code)]

pub mod browser;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use tandem_server::{AppState, ServerConfig};
use tandem_store::crypto::Keyring;
use tandem_store::security::{AuditEntry, AuditFilter, NewUser, UserRole};
use tandem_store::{ImportMode, ImportRequest, KeySource, Store};

pub const PASSWORD: &str = "lantern river stone moss";

pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn Store>,
    /// The database URL, for tests that read the rows as an attacker with access would.
    pub url: String,
    pub config: ServerConfig,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database for one test (CI must run these; `skip` opts out locally).
pub async fn postgres_url() -> Option<String> {
    let base = match std::env::var("TANDEM_TEST_POSTGRES") {
        Ok(url) if url == "skip" => return None,
        Ok(url) => url,
        Err(_) => panic!(
            "TANDEM_TEST_POSTGRES is not set: source .ci/postgres.sh (or set it to `skip` to run without PostgreSQL)"
        ),
    };
    let name = format!(
        "tandem_server_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let admin = sqlx_free_create_database(&base, &name).await;
    Some(admin)
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Creates a database through the store's own test helper.
async fn sqlx_free_create_database(base: &str, name: &str) -> String {
    tandem_store::testing::create_postgres_database(base, name)
        .await
        .expect("create a PostgreSQL test database")
}

pub async fn start(backend: Backend) -> Option<TestServer> {
    start_with(backend, ServerConfig::default()).await
}

pub async fn start_with(backend: Backend, mut config: ServerConfig) -> Option<TestServer> {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("tandem.db").display()),
        Backend::Postgres => postgres_url().await?,
    };
    let keys = KeySource::Text(Keyring::generate().to_text());
    let store: Arc<dyn Store> = Arc::from(tandem_store::open_with_keys(&url, keys).await.unwrap());
    fill_demo(store.as_ref()).await;
    let org_a = store.create_organisation("ngo-a", "NGO A").await.unwrap();
    let org_b = store.create_organisation("ngo-b", "NGO B").await.unwrap();
    let hash = tandem_server::auth::hash_password(PASSWORD).unwrap();
    for (username, role, org) in [
        ("admin", UserRole::Admin, org_a.id),
        ("analyst", UserRole::Analyst, org_a.id),
        ("caseworker", UserRole::Caseworker, org_a.id),
        ("caseworker-b", UserRole::Caseworker, org_b.id),
        ("viewer", UserRole::Viewer, org_a.id),
    ] {
        store
            .create_user(NewUser {
                username: username.to_string(),
                display_name: format!("Test {username}"),
                organisation_id: org,
                role,
                password_hash: hash.clone(),
                must_change_password: false,
            })
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    config.bind = address;
    config.public_url = format!("http://{address}");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serve_store = store.clone();
    let serve_config = config.clone();
    tokio::spawn(async move {
        let _ = tandem_server::serve(serve_store, serve_config, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    Some(TestServer {
        base: format!("http://{address}"),
        store,
        url,
        config,
        _dir: dir,
        shutdown: Some(tx),
    })
}

pub async fn fill_demo(store: &dyn Store) {
    let config = tandem_ingest::demo::DemoConfig::default();
    let mut session = store
        .begin_import(ImportRequest {
            dataset: tandem_ingest::dataset_names::DEMO.to_string(),
            title: Some(tandem_ingest::demo::DEMO_DATASET_TITLE.to_string()),
            version: "test".to_string(),
            mode: ImportMode::Full,
            sensitivity: tandem_core::Sensitivity::Public,
            source: "test".to_string(),
            owner_organisation: None,
        })
        .await
        .unwrap();
    for record in tandem_ingest::demo::records(&config).unwrap() {
        if let tandem_ingest::Change::Upsert(entity) = record.change {
            session.put(entity).await.unwrap();
        }
    }
    session.commit().await.unwrap();
}

/// An API token for `username`, created directly in the store.
pub async fn token_for(server: &TestServer, username: &str) -> String {
    let user = server.store.user_by_name(username).await.unwrap().unwrap();
    let secret = tandem_server::auth::random_token();
    server
        .store
        .create_api_token(
            user.id,
            "test",
            &tandem_server::auth::token_digest(&secret),
            None,
        )
        .await
        .unwrap();
    secret
}

pub fn state(server: &TestServer) -> AppState {
    AppState::new(server.store.clone(), server.config.clone())
}

/// A browser-like client: cookies kept, redirects not followed.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of `name="…" value="…"` or `<meta name="csrf-token" content="…">` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let rest = &html[at..];
    let key = if name == "csrf-token" {
        "content=\""
    } else {
        "value=\""
    };
    let start = rest.find(key)? + key.len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_string())
}

/// The text of the page at `url` as `client` gets it.
pub async fn page(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// Signs in through the login form; returns the client and the session's CSRF token.
pub async fn sign_in(
    server: &TestServer,
    username: &str,
    password: &str,
) -> (reqwest::Client, reqwest::Response) {
    let client = client();
    let page = page(&client, format!("{}/login", server.base)).await;
    let csrf = hidden(&page, "_csrf").expect("login form has a CSRF field");
    let response = client
        .post(format!("{}/login", server.base))
        .form(&[
            ("username", username),
            ("password", password),
            ("_csrf", csrf.as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    (client, response)
}

/// Signs in and returns the client with the CSRF token of its session.
pub async fn session(server: &TestServer, username: &str) -> (reqwest::Client, String) {
    let (client, response) = sign_in(server, username, PASSWORD).await;
    assert_eq!(response.status(), 303, "sign-in of {username} failed");
    let page = page(&client, format!("{}/account/password", server.base)).await;
    let csrf = hidden(&page, "csrf-token").expect("pages carry the CSRF token");
    (client, csrf)
}

/// The JSON API as a client with a bearer token sees it.
impl TestServer {
    /// An API token for `username` (see [`token_for`]).
    pub async fn token(&self, username: &str) -> String {
        token_for(self, username).await
    }

    /// Calls a JSON route; the answer as JSON, or its text as a JSON string. Every refusal
    /// must be a problem document.
    pub async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let problem = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            assert!(
                problem,
                "{path}: {status} is not a problem document: {value}"
            );
        }
        (status, value)
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(token, reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(token, reqwest::Method::POST, path, Some(body))
            .await
    }

    /// The audit entries whose action starts with `prefix`, read straight from the store.
    pub async fn audit(&self, prefix: &str) -> Vec<AuditEntry> {
        self.store
            .audit_entries(&AuditFilter {
                action_prefix: Some(prefix.to_string()),
                limit: 1000,
                ..AuditFilter::default()
            })
            .await
            .unwrap()
    }
}
