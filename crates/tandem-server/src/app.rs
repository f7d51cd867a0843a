//! The application: shared state, the route table and the one guard every route goes through.
//!
//! Each route is declared once in [`route_table`] with the access it needs; the guard looks the
//! matched route up and authenticates (session cookie or bearer token), checks CSRF on
//! cookie-authenticated writes, checks the permission, audits refusals, and hands the handler a
//! [`Principal`]. A route missing from the table cannot be reached, so nothing is open by
//! accident.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, on};
use tandem_store::Store;
use tandem_store::security::{AuditOutcome, NewAuditEntry, User};

use crate::authz::{Permission, Scope, grant};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::{api, auth, headers, pages};

pub const SESSION_COOKIE: &str = "tandem_session";
pub const LOGIN_CSRF_COOKIE: &str = "tandem_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub config: ServerConfig,
    routes: HashMap<(Method, String), RouteSpec>,
    /// The screening index and its query log (see `screening.rs`).
    pub screening: Arc<crate::screening::Service>,
    /// Entity search from a copy of the names index (see `name_search.rs`).
    pub names: Arc<crate::name_search::NameSearch>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: login, assets, health, the OpenAPI document.
    Public,
    /// Any signed-in user (their own account, logout).
    SignedIn,
    Needs(Permission),
}

/// Whether a route answers people (HTML; unauthenticated → redirect to login) or programs
/// (JSON; unauthenticated → 401 problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Page,
    Api,
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub surface: Surface,
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    Session {
        token_hash: String,
        csrf_token: String,
    },
    Token {
        id: i64,
    },
}

/// The signed-in user of a request, with the scope their role grants for the route.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub credential: Credential,
    pub scope: Option<Scope>,
}

impl Principal {
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { csrf_token, .. } => Some(csrf_token),
            Credential::Token { .. } => None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The caller's address, when the server knows it (for the audit log).
#[derive(Debug, Clone)]
pub struct RemoteAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RemoteAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RemoteAddr(remote_addr(parts)))
    }
}

fn remote_addr(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

pub(crate) struct Table {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Table {
    fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        surface: Surface,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("route table: unsupported method {method}"));
        self.router = self.router.route(path, on(filter, handler));
        self.specs.push(RouteSpec {
            method,
            path,
            access,
            surface,
        });
        self
    }
}

impl Table {
    pub(crate) fn page<H, T>(
        self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(method, path, access, Surface::Page, handler)
    }

    pub(crate) fn api<H, T>(
        self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(method, path, access, Surface::Api, handler)
    }
}

/// Every route of the server, with the access it needs. Tests walk this list.
fn route_table() -> Table {
    let table = Table {
        router: Router::new(),
        specs: Vec::new(),
    };
    crate::intelligence::routes(crate::catalogue_pages::routes(crate::protection::routes(
        crate::monitor::routes(crate::screening_web::routes(crate::yente::routes(
            api::routes(pages::routes(table)),
        ))),
    )))
}

pub fn route_specs() -> Vec<RouteSpec> {
    route_table().specs
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        AppState::with_routes(store, config, &route_table().specs)
    }

    fn with_routes(store: Arc<dyn Store>, config: ServerConfig, specs: &[RouteSpec]) -> AppState {
        let routes = specs
            .iter()
            .map(|spec| ((spec.method.clone(), spec.path.to_string()), spec.clone()))
            .collect();
        AppState(Arc::new(Inner {
            store,
            config,
            routes,
            screening: Arc::default(),
            names: Arc::default(),
        }))
    }
}

pub fn build(store: Arc<dyn Store>, config: ServerConfig) -> Router {
    let table = route_table();
    let max_body = config.max_body_bytes;
    let max_upload = config.max_upload_bytes.max(max_body);
    let timeout = config.request_timeout;
    let secure = config.secure_cookies();
    let state = AppState::with_routes(store, config, &table.specs);
    state.screening.start(state.store.clone());
    table
        .router
        .route_layer(middleware::from_fn_with_state(state.clone(), guard))
        .fallback(not_found)
        .with_state(state)
        .layer(middleware::from_fn(headers::problem_for_rejections))
        .layer(middleware::from_fn(headers::html_errors_for_browsers))
        // Extractors (JSON, forms) take at most `max_body_bytes`; upload routes raise their own
        // limit up to the hard ceiling below.
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_upload))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::from_fn(move |req, next| {
            headers::security_headers(req, next, secure)
        }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such page or endpoint")
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

pub fn login_csrf_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, LOGIN_CSRF_COOKIE)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A `Set-Cookie` value with Tandem's attributes.
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    match max_age {
        Some(age) => text.push_str(&format!("; Max-Age={}", age.as_secs())),
        None => text.push_str("; Max-Age=0"),
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl AppState {
    /// Appends to the audit log; a failure to audit fails the request (an unaudited read of
    /// protected data must not happen).
    pub async fn audit(
        &self,
        user: Option<&User>,
        action: &str,
        target: Option<String>,
        outcome: AuditOutcome,
        detail: serde_json::Value,
        remote: Option<String>,
    ) -> Result<(), ApiError> {
        self.store
            .audit(NewAuditEntry {
                actor_user_id: user.map(|u| u.id),
                actor: user
                    .map(|u| u.username.clone())
                    .unwrap_or_else(|| "anonymous".to_string()),
                organisation_id: user.map(|u| u.organisation_id),
                action: action.to_string(),
                target,
                outcome,
                detail,
                remote_addr: remote,
            })
            .await
            .map(|_| ())
            .map_err(ApiError::internal)
    }

    /// Audits `user`'s refused `action` on `target` and answers with `refusal`: the one way
    /// a handler turns someone away, so that no refusal goes unrecorded.
    pub async fn refuse<T>(
        &self,
        user: &User,
        action: &str,
        target: &str,
        detail: serde_json::Value,
        remote: &Option<String>,
        refusal: ApiError,
    ) -> Result<T, ApiError> {
        self.audit(
            Some(user),
            action,
            Some(target.to_string()),
            AuditOutcome::Denied,
            detail,
            remote.clone(),
        )
        .await?;
        Err(refusal)
    }

    /// Who is calling, if anyone: a valid, unrevoked bearer token or a live session.
    async fn identify(&self, headers: &HeaderMap) -> Result<Option<(User, Credential)>, ApiError> {
        let now = tandem_core::time::now_iso();
        if let Some(token) = bearer(headers) {
            let Some(record) = self.store.api_token(&auth::token_digest(token)).await? else {
                return Err(ApiError::unauthorized());
            };
            let expired = record
                .expires_at
                .as_deref()
                .is_some_and(|at| at <= now.as_str());
            if record.revoked_at.is_some() || expired {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "token_invalid",
                    "this API token has been revoked or has expired",
                ));
            }
            let user = self.active_user(record.user_id).await?;
            self.store.touch_api_token(record.id).await?;
            return Ok(user.map(|u| (u, Credential::Token { id: record.id })));
        }
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let token_hash = auth::token_digest(token);
        let Some(session) = self.store.session(&token_hash).await? else {
            return Ok(None);
        };
        let idle_limit = tandem_core::time::iso_from_unix(
            unix_now() - self.config.session_idle.as_secs() as i64,
        );
        if session.last_seen_at < idle_limit {
            self.store.delete_session(&token_hash).await?;
            return Ok(None);
        }
        // Writing on every request would serialise readers on SQLite; a minute's slack is fine.
        let touch_after = tandem_core::time::iso_from_unix(unix_now() - 60);
        if session.last_seen_at < touch_after {
            self.store.touch_session(&token_hash, &now).await?;
        }
        let user = self.active_user(session.user_id).await?;
        Ok(user.map(|u| {
            (
                u,
                Credential::Session {
                    token_hash,
                    csrf_token: session.csrf_token,
                },
            )
        }))
    }

    async fn active_user(&self, id: i64) -> Result<Option<User>, ApiError> {
        Ok(self.store.user(id).await?.filter(|u| !u.disabled))
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The one guard: authentication, CSRF, permission, audit of refusals.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}

async fn check(state: &AppState, request: Request) -> Result<Request, Response> {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let method = request.method().clone();
    let Some(spec) = state.routes.get(&(method.clone(), path)).cloned() else {
        return Err(ApiError::not_found("no such page or endpoint").into_response());
    };
    let (mut parts, body) = request.into_parts();
    let identity = state
        .identify(&parts.headers)
        .await
        .map_err(IntoResponse::into_response)?;
    if spec.access == Access::Public {
        if let Some((user, credential)) = identity {
            parts.extensions.insert(Principal {
                user,
                credential,
                scope: None,
            });
        }
        return Ok(Request::from_parts(parts, body));
    }
    let Some((user, credential)) = identity else {
        return Err(match spec.surface {
            Surface::Page if is_safe(&method) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
            }
            _ => ApiError::unauthorized().into_response(),
        });
    };
    let body = match &credential {
        Credential::Session { csrf_token, .. } if !is_safe(&method) => check_csrf(
            &parts.headers,
            body,
            csrf_token,
            state.config.max_body_bytes,
        )
        .await
        .map_err(IntoResponse::into_response)?,
        _ => body,
    };
    // A one-time password must be replaced before the person works with it; an API token is a
    // credential of its own, issued on purpose for a program, and is not held back by it.
    let session = matches!(credential, Credential::Session { .. });
    if session && user.must_change_password && !pages::allowed_before_password_change(spec.path) {
        return Err(match spec.surface {
            Surface::Page => Redirect::to("/account/password").into_response(),
            Surface::Api => ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "this account uses a one-time password: set a new one at /account/password",
            )
            .into_response(),
        });
    }
    let scope = match spec.access {
        Access::Needs(permission) => match grant(user.role, permission) {
            Some(scope) => Some(scope),
            None => {
                let remote = remote_addr(&parts);
                state
                    .audit(
                        Some(&user),
                        "permission.denied",
                        Some(format!("{} {}", method, parts.uri.path())),
                        AuditOutcome::Denied,
                        serde_json::json!({"needs": permission, "role": user.role}),
                        remote,
                    )
                    .await
                    .map_err(IntoResponse::into_response)?;
                return Err(ApiError::forbidden(format!(
                    "your role ({}) may not do this",
                    user.role.as_str()
                ))
                .into_response());
            }
        },
        _ => None,
    };
    parts.extensions.insert(Principal {
        user,
        credential,
        scope,
    });
    Ok(Request::from_parts(parts, body))
}

/// CSRF for cookie sessions: the `X-CSRF-Token` header (htmx, fetch) or the `_csrf` field of an
/// urlencoded form, which means reading the body here and handing it on.
async fn check_csrf(
    headers: &HeaderMap,
    body: Body,
    expected: &str,
    limit: usize,
) -> Result<Body, ApiError> {
    if let Some(sent) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if auth::constant_time_eq(sent, expected) {
            Ok(body)
        } else {
            Err(ApiError::csrf())
        };
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ApiError::csrf());
    }
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    })?;
    let sent = form_field(&bytes, CSRF_FIELD);
    match sent {
        Some(sent) if auth::constant_time_eq(&sent, expected) => Ok(Body::from(bytes)),
        _ => Err(ApiError::csrf()),
    }
}

/// The first value of `name` in a form body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded_pairs(body)
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Decodes `a=b&c=d` without another dependency; `+` is a space.
pub fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (urldecode(k), urldecode(v))
        })
        .collect()
}

fn urldecode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let pairs = serde_urlencoded_pairs(b"_csrf=a%2Bb&name=Ali+Baba&x=%ZZ&y=%4");
        assert_eq!(pairs[0], ("_csrf".into(), "a+b".into()));
        assert_eq!(pairs[1], ("name".into(), "Ali Baba".into()));
        assert_eq!(pairs[2].1, "%ZZ");
        assert_eq!(pairs[3].1, "%4");
        assert_eq!(urlencode("/search?q=a b"), "/search%3Fq%3Da%20b");
    }

    #[test]
    fn every_route_is_in_the_table_once() {
        let specs = route_specs();
        let mut seen = std::collections::HashSet::new();
        for spec in &specs {
            assert!(
                seen.insert((spec.method.clone(), spec.path)),
                "{} {} twice",
                spec.method,
                spec.path
            );
        }
    }
}
