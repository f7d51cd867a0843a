//! The web UI's pages: server-rendered templates, enhanced by htmx and the network picture.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tandem_core::{Model, Sensitivity};
use tandem_store::DatasetSummary;
use tandem_store::security::{
    AuditEntry, AuditFilter, AuditOutcome, AuditVerification, NewUser, Organisation, Session, User,
    UserRole,
};

use crate::app::{
    Access, AppState, Credential, LOGIN_CSRF_COOKIE, Principal, RemoteAddr, SESSION_COOKIE, Table,
    login_csrf_cookie, set_cookie, unix_now,
};
use crate::authz::{Action, Permission, Resource, visible_ceiling};
use crate::error::{ApiError, ApiResult};
use crate::{assets, auth, view};

const READ_ENTITIES: Access = Access::Needs(Permission::new(Resource::Entities, Action::Read));
const ADMIN_USERS: Access = Access::Needs(Permission::new(Resource::Users, Action::Write));
const READ_AUDIT: Access = Access::Needs(Permission::new(Resource::Audit, Action::Read));

pub(crate) fn routes(table: Table) -> Table {
    table
        .page(Method::GET, "/login", Access::Public, login_page)
        .page(Method::POST, "/login", Access::Public, login)
        .page(Method::POST, "/logout", Access::SignedIn, logout)
        .page(
            Method::GET,
            "/account/password",
            Access::SignedIn,
            password_page,
        )
        .page(
            Method::POST,
            "/account/password",
            Access::SignedIn,
            change_password,
        )
        .page(
            Method::GET,
            "/assets/{*path}",
            Access::Public,
            assets::asset,
        )
        .page(Method::GET, "/", READ_ENTITIES, dashboard)
        .page(Method::GET, "/search", READ_ENTITIES, search_page)
        .page(Method::GET, "/entity/{id}", READ_ENTITIES, entity_page)
        .page(Method::GET, "/admin/users", ADMIN_USERS, users_page)
        .page(Method::POST, "/admin/users", ADMIN_USERS, create_user)
        .page(
            Method::POST,
            "/admin/users/{id}/disable",
            ADMIN_USERS,
            disable_user,
        )
        .page(
            Method::POST,
            "/admin/users/{id}/enable",
            ADMIN_USERS,
            enable_user,
        )
        .page(
            Method::POST,
            "/admin/users/{id}/reset",
            ADMIN_USERS,
            reset_user,
        )
        .page(Method::GET, "/admin/audit", READ_AUDIT, audit_page)
}

/// Routes a user with a one-time password may use before choosing their own.
pub fn allowed_before_password_change(path: &str) -> bool {
    matches!(path, "/account/password" | "/logout" | "/assets/{*path}")
}

/// The signed-in user on public routes, if any.
pub struct MaybePrincipal(pub Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for MaybePrincipal {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybePrincipal(parts.extensions.get::<Principal>().cloned()))
    }
}

/// What every page's frame needs.
pub struct Chrome {
    pub user: Option<User>,
    pub csrf: Option<String>,
    pub section: &'static str,
    pub is_admin: bool,
    pub notice: Option<String>,
    pub css_version: String,
    pub js_version: String,
}

impl Chrome {
    /// The frame for `section` (the nav entry shown as current) as `principal` sees it; every
    /// page module builds its frame here so the nav and asset versions stay in one place.
    pub fn new(principal: Option<&Principal>, section: &'static str) -> Chrome {
        Chrome {
            user: principal.map(|p| p.user.clone()),
            csrf: principal.and_then(|p| p.csrf_token().map(str::to_string)),
            section,
            is_admin: principal.is_some_and(|p| p.user.role == UserRole::Admin),
            notice: None,
            css_version: assets::version("app.css"),
            js_version: assets::version("app.js"),
        }
    }

    /// The same frame with a notice shown above the page.
    pub fn with_notice(mut self, notice: Option<String>) -> Chrome {
        self.notice = notice;
        self
    }
}

fn render(template: &impl Template) -> Response {
    render_status(StatusCode::OK, template)
}

/// Renders a page with `status`; a template failure becomes a 500 problem document.
pub(crate) fn render_status(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => ApiError::internal(err).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: String,
    detail: String,
}

/// An error as a page, for people: same status, same words as the problem document.
pub fn error_page(status: StatusCode, problem: &crate::error::Problem) -> Response {
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed".to_string(),
        StatusCode::NOT_FOUND => "Not found".to_string(),
        _ => problem.title.clone(),
    };
    render_status(
        status,
        &ErrorPage {
            chrome: Chrome::new(None, "error"),
            title,
            detail: problem.detail.clone().unwrap_or_default(),
        },
    )
}

// ----- sign-in ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    error: Option<String>,
    login_csrf: String,
    next: String,
    username: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths, so the login form cannot be turned into an open redirect.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn login_form(state: &AppState, error: Option<String>, next: String, username: String) -> Response {
    // Login CSRF: a double-submit token, since there is no session yet.
    let token = auth::random_token();
    let page = LoginPage {
        chrome: Chrome::new(None, "login"),
        error,
        login_csrf: token.clone(),
        next,
        username,
    };
    let status = if page.error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut response = render_status(status, &page);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            LOGIN_CSRF_COOKIE,
            &token,
            Some(Duration::from_secs(3600)),
            state.config.secure_cookies(),
        ),
    );
    response
}

async fn login_page(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    Query(query): Query<NextQuery>,
) -> Response {
    if principal.is_some() {
        return Redirect::to(&safe_next(query.next.as_deref())).into_response();
    }
    login_form(
        &state,
        None,
        safe_next(query.next.as_deref()),
        String::new(),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

const WRONG_CREDENTIALS: &str = "Wrong user name or password.";

async fn login(
    State(state): State<AppState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> ApiResult<Response> {
    let cookie_token = login_csrf_cookie(&headers).unwrap_or_default();
    if cookie_token.is_empty() || !auth::constant_time_eq(cookie_token, &form.csrf) {
        return Err(ApiError::csrf());
    }
    let next = safe_next(Some(&form.next));
    let username = form.username.trim().to_lowercase();
    let again = |message: &str| {
        login_form(
            &state,
            Some(message.to_string()),
            next.clone(),
            username.clone(),
        )
    };
    let user = match state.store.user_by_name(&username).await? {
        Some(user) if !user.disabled => user,
        found => {
            // Spend the same time as a real check so that timing does not reveal user names.
            let password = form.password.clone();
            let _ =
                tokio::task::spawn_blocking(move || auth::verify_password(&password, dummy_hash()))
                    .await;
            state
                .audit(
                    found.as_ref(),
                    "login.failed",
                    Some(username.clone()),
                    AuditOutcome::Failed,
                    serde_json::json!({"reason": if found.is_some() {"disabled"} else {"unknown user"}}),
                    remote,
                )
                .await?;
            return Ok(again(WRONG_CREDENTIALS));
        }
    };
    let now = tandem_core::time::now_iso();
    if let Some(until) = user.locked_until.as_deref()
        && until > now.as_str()
    {
        state
            .audit(
                Some(&user),
                "login.locked",
                Some(user.username.clone()),
                AuditOutcome::Denied,
                serde_json::json!({"locked_until": until}),
                remote,
            )
            .await?;
        return Ok(again(&locked_message(until)));
    }
    let password = form.password.clone();
    let stored = user.password_hash.clone();
    let valid = tokio::task::spawn_blocking(move || auth::verify_password(&password, &stored))
        .await
        .map_err(ApiError::internal)?;
    if !valid {
        let lock_until = tandem_core::time::iso_from_unix(
            unix_now() + state.config.lockout_for.as_secs() as i64,
        );
        let after = state
            .store
            .record_login_failure(user.id, state.config.lockout_after_failures, &lock_until)
            .await?;
        state
            .audit(
                Some(&user),
                "login.failed",
                Some(user.username.clone()),
                AuditOutcome::Failed,
                serde_json::json!({"failures": after.failed_logins, "locked": after.locked_until.is_some()}),
                remote,
            )
            .await?;
        return Ok(match after.locked_until.as_deref() {
            Some(until) if until > now.as_str() => again(&locked_message(until)),
            _ => again(WRONG_CREDENTIALS),
        });
    }
    state.store.record_login_success(user.id).await?;
    let token = auth::random_token();
    state
        .store
        .create_session(Session {
            token_hash: auth::token_digest(&token),
            user_id: user.id,
            csrf_token: auth::random_token(),
            created_at: now.clone(),
            last_seen_at: now,
        })
        .await?;
    state
        .audit(
            Some(&user),
            "login",
            Some(user.username.clone()),
            AuditOutcome::Ok,
            serde_json::json!({}),
            remote,
        )
        .await?;
    let target = if user.must_change_password {
        "/account/password".to_string()
    } else {
        next
    };
    let mut response = Redirect::to(&target).into_response();
    let secure = state.config.secure_cookies();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &token,
            Some(Duration::from_secs(12 * 3600)),
            secure,
        ),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", None, secure),
    );
    Ok(response)
}

fn locked_message(until: &str) -> String {
    format!(
        "Too many wrong passwords: this account is locked until {} UTC. An administrator can unlock it by resetting the password.",
        until.replace('T', " ")
    )
}

/// An Argon2id hash of a random string, so that refusing an unknown user costs as much time
/// as refusing a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::random_token()).unwrap_or_default())
}

async fn logout(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
) -> ApiResult<Response> {
    if let Credential::Session { token_hash, .. } = &principal.credential {
        state.store.delete_session(token_hash).await?;
    }
    state
        .audit(
            Some(&principal.user),
            "logout",
            None,
            AuditOutcome::Ok,
            serde_json::json!({}),
            remote,
        )
        .await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", None, state.config.secure_cookies()),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    must_change: bool,
    error: Option<String>,
}

async fn password_page(principal: Principal) -> Response {
    render(&PasswordPage {
        must_change: principal.user.must_change_password,
        chrome: Chrome::new(Some(&principal), "password"),
        error: None,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Form(form): Form<PasswordForm>,
) -> ApiResult<Response> {
    let refuse = |message: String| {
        render_status(
            StatusCode::BAD_REQUEST,
            &PasswordPage {
                must_change: principal.user.must_change_password,
                chrome: Chrome::new(Some(&principal), "password"),
                error: Some(message),
            },
        )
    };
    let stored = principal.user.password_hash.clone();
    let current = form.current.clone();
    let valid = tokio::task::spawn_blocking(move || auth::verify_password(&current, &stored))
        .await
        .map_err(ApiError::internal)?;
    if !valid {
        return Ok(refuse("The current password is wrong.".to_string()));
    }
    if form.new != form.confirm {
        return Ok(refuse("The two new passwords differ.".to_string()));
    }
    if let Some(problem) = auth::password_problem(&form.new, &principal.user.username) {
        return Ok(refuse(format!("Choose another password: {problem}.")));
    }
    if auth::verify_password(&form.new, &principal.user.password_hash) {
        return Ok(refuse(
            "Choose a password other than the current one.".to_string(),
        ));
    }
    let hash = hash_off_thread(form.new.clone()).await?;
    state
        .store
        .set_password(principal.user.id, &hash, false)
        .await?;
    state
        .audit(
            Some(&principal.user),
            "password.change",
            Some(principal.user.username.clone()),
            AuditOutcome::Ok,
            serde_json::json!({}),
            remote,
        )
        .await?;
    Ok(Redirect::to("/").into_response())
}

// ----- dashboard, search, entities -------------------------------------------------------

struct JobRow {
    id: i64,
    kind: String,
    state: String,
    done: u64,
    total: Option<u64>,
    updated_at: String,
    message: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    datasets: Vec<DatasetSummary>,
    jobs: Vec<JobRow>,
}

pub fn visible_datasets(datasets: Vec<DatasetSummary>, role: UserRole) -> Vec<DatasetSummary> {
    let ceiling = visible_ceiling(role);
    datasets
        .into_iter()
        .filter(|d| d.sensitivity <= ceiling && d.sensitivity != Sensitivity::Protected)
        .collect()
}

async fn dashboard(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    let datasets = visible_datasets(state.store.datasets().await?, principal.user.role);
    let jobs = state
        .store
        .jobs(15)
        .await?
        .into_iter()
        .map(|j| JobRow {
            id: j.id,
            kind: j.kind,
            state: serde_json::to_value(j.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            done: j.done,
            total: j.total,
            updated_at: j.updated_at.replace('T', " "),
            message: j.message.unwrap_or_default(),
        })
        .collect();
    Ok(render(&DashboardPage {
        chrome: Chrome::new(Some(&principal), "dashboard"),
        datasets,
        jobs,
    }))
}

pub struct SearchHit {
    pub id: String,
    pub caption: String,
    pub schema: String,
    pub sensitivity: Sensitivity,
    pub sanctioned: bool,
    pub summary: String,
    pub dataset: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    query: String,
    schema: String,
    schemata: Vec<&'static str>,
    results: Vec<SearchHit>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub schema: String,
    pub limit: Option<u32>,
}

pub const SEARCH_SCHEMATA: &[&str] = &[
    "Person",
    "Organization",
    "Company",
    "PublicBody",
    "Vessel",
    "Vehicle",
    "Airplane",
    "Address",
];

/// Validated search input: trimmed text of 1–200 characters and a known schema.
pub fn check_search(query: &SearchQuery) -> Result<(String, Option<String>), ApiError> {
    let text = query.q.trim();
    if text.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "q",
            "the search text is longer than 200 characters",
        ));
    }
    let schema = query.schema.trim();
    if !schema.is_empty() && Model::get().schema(schema).is_none() {
        return Err(ApiError::bad_request(
            "schema",
            format!("unknown schema {schema:?}"),
        ));
    }
    Ok((
        text.to_string(),
        (!schema.is_empty()).then(|| schema.to_string()),
    ))
}

pub async fn search_hits(
    state: &AppState,
    user: &User,
    text: &str,
    schema: Option<&str>,
    limit: u32,
) -> ApiResult<Vec<SearchHit>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let found = state
        .names
        .search(
            &state.store,
            text,
            schema,
            limit,
            visible_ceiling(user.role),
        )
        .await?;
    Ok(found
        .into_iter()
        .filter(|h| view::visible(user, h))
        .map(|h| {
            let e = &h.entity;
            let summary = [
                e.first("birthDate").map(|d| format!("born {d}")),
                (!e.get("nationality").is_empty() || !e.get("country").is_empty()).then(|| {
                    e.get("nationality")
                        .iter()
                        .chain(e.get("country"))
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
                e.first(tandem_core::model::ROLE_PROPERTY)
                    .map(str::to_string),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            SearchHit {
                id: e.id.clone(),
                caption: e.caption().to_string(),
                schema: e.schema.clone(),
                sensitivity: e.sensitivity,
                sanctioned: e.get("topics").iter().any(|t| t == "sanction"),
                summary,
                dataset: h.dataset.clone(),
            }
        })
        .collect())
}

async fn search_page(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Response> {
    let mut page = SearchPage {
        chrome: Chrome::new(Some(&principal), "search"),
        query: query.q.chars().take(200).collect(),
        schema: query.schema.clone(),
        schemata: SEARCH_SCHEMATA.to_vec(),
        results: Vec::new(),
        error: None,
    };
    match check_search(&query) {
        Ok((text, schema)) => {
            page.results =
                search_hits(&state, &principal.user, &text, schema.as_deref(), 50).await?;
            Ok(render(&page))
        }
        Err(err) => {
            page.error = err.detail.clone();
            Ok(render_status(StatusCode::BAD_REQUEST, &page))
        }
    }
}

struct SanctionLink {
    id: String,
    label: String,
}

#[derive(Template)]
#[template(path = "entity.html")]
struct EntityPage {
    chrome: Chrome,
    id: String,
    caption: String,
    schema: String,
    sensitivity: Sensitivity,
    properties: Vec<view::PropertyRow>,
    sanctions: Vec<SanctionLink>,
    relations: Vec<view::Relation>,
}

async fn entity_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view::EntityView {
        entity,
        sensitivity,
        statements,
        ..
    } = view::read_entity(&state, &principal.user, &id, "page:entity", remote).await?;
    let around = view::neighbourhood(&state, &principal.user, &id).await?;
    Ok(render(&EntityPage {
        chrome: Chrome::new(Some(&principal), "search"),
        caption: entity.caption().to_string(),
        schema: entity.schema.clone(),
        sensitivity,
        properties: view::property_rows(&entity.schema, &statements),
        sanctions: around
            .sanctions
            .into_iter()
            .map(|(id, label)| SanctionLink { id, label })
            .collect(),
        relations: around.relations,
        id,
    }))
}

// ----- administration -----------------------------------------------------------------------

struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    organisation: String,
    role: &'static str,
    state: String,
    disabled: bool,
    last_login: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    organisations: Vec<Organisation>,
    error: Option<String>,
    one_time_password: Option<(String, String)>,
}

async fn users_view(
    state: &AppState,
    principal: &Principal,
    error: Option<String>,
    one_time_password: Option<(String, String)>,
) -> ApiResult<Response> {
    let organisations = state.store.organisations().await?;
    let now = tandem_core::time::now_iso();
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            organisation: organisations
                .iter()
                .find(|o| o.id == u.organisation_id)
                .map(|o| o.title.clone())
                .unwrap_or_default(),
            role: u.role.as_str(),
            state: if u.disabled {
                "disabled".to_string()
            } else if u.locked_until.as_deref().is_some_and(|t| t > now.as_str()) {
                "locked".to_string()
            } else if u.must_change_password {
                "one-time password".to_string()
            } else {
                "active".to_string()
            },
            disabled: u.disabled,
            last_login: u
                .last_login_at
                .map(|t| t.replace('T', " "))
                .unwrap_or_else(|| "never".to_string()),
            username: u.username,
            display_name: u.display_name,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(render_status(
        status,
        &UsersPage {
            chrome: Chrome::new(Some(principal), "users"),
            users,
            organisations,
            error,
            one_time_password,
        },
    ))
}

async fn users_page(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    users_view(&state, &principal, None, None).await
}

#[derive(Deserialize)]
struct NewUserForm {
    username: String,
    display_name: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    new_organisation: String,
    role: String,
}

/// Creates a user with a one-time password; shared by the admin page, the API and the CLI.
pub async fn add_user(
    state: &AppState,
    username: &str,
    display_name: &str,
    organisation: &str,
    role: &str,
) -> ApiResult<(User, String)> {
    let username = username.trim().to_lowercase();
    if !(2..=64).contains(&username.len())
        || !username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        return Err(ApiError::bad_request(
            "username",
            "use 2 to 64 lower-case letters, digits, '.', '_' or '-'",
        ));
    }
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "display_name",
            "give the person's name (at most 200 characters)",
        ));
    }
    let role = UserRole::parse(role)
        .ok_or_else(|| ApiError::bad_request("role", "use admin, analyst, caseworker or viewer"))?;
    let organisation = organisation.trim().to_lowercase();
    if !(2..=64).contains(&organisation.len())
        || !organisation
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiError::bad_request(
            "organisation",
            "use 2 to 64 lower-case letters, digits or '-'",
        ));
    }
    if state.store.user_by_name(&username).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "the user name {username} is taken"
        )));
    }
    let organisations = state.store.organisations().await?;
    let organisation_id = match organisations.iter().find(|o| o.name == organisation) {
        Some(o) => o.id,
        None => {
            state
                .store
                .create_organisation(&organisation, &organisation)
                .await?
                .id
        }
    };
    let password = auth::one_time_password();
    let hash = hash_off_thread(password.clone()).await?;
    let user = state
        .store
        .create_user(NewUser {
            username,
            display_name: display_name.to_string(),
            organisation_id,
            role,
            password_hash: hash,
            must_change_password: true,
        })
        .await?;
    Ok((user, password))
}

async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Form(form): Form<NewUserForm>,
) -> ApiResult<Response> {
    let organisation = if form.new_organisation.trim().is_empty() {
        form.organisation.clone()
    } else {
        form.new_organisation.clone()
    };
    match add_user(
        &state,
        &form.username,
        &form.display_name,
        &organisation,
        &form.role,
    )
    .await
    {
        Ok((user, password)) => {
            state
                .audit(
                    Some(&principal.user),
                    "user.create",
                    Some(user.username.clone()),
                    AuditOutcome::Ok,
                    serde_json::json!({"role": user.role, "organisation": user.organisation_id}),
                    remote,
                )
                .await?;
            users_view(&state, &principal, None, Some((user.username, password))).await
        }
        Err(err) if err.status.is_client_error() => {
            users_view(&state, &principal, err.detail.clone(), None).await
        }
        Err(err) => Err(err),
    }
}

async fn set_disabled(
    state: &AppState,
    principal: &Principal,
    remote: Option<String>,
    id: i64,
    disabled: bool,
) -> ApiResult<Response> {
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    if disabled && user.id == principal.user.id {
        return users_view(
            state,
            principal,
            Some("You cannot disable your own account.".to_string()),
            None,
        )
        .await;
    }
    state.store.set_user_disabled(id, disabled).await?;
    if disabled {
        state.store.delete_user_sessions(id).await?;
    }
    state
        .audit(
            Some(&principal.user),
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            Some(user.username.clone()),
            AuditOutcome::Ok,
            serde_json::json!({}),
            remote,
        )
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

async fn disable_user(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    set_disabled(&state, &principal, remote, id, true).await
}

async fn enable_user(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    set_disabled(&state, &principal, remote, id, false).await
}

/// Argon2id takes tens of milliseconds on purpose: it runs off the async workers.
async fn hash_off_thread(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Gives a user a new one-time password (which also lifts a lockout) and ends their sessions.
pub async fn reset_password(state: &AppState, id: i64) -> ApiResult<(User, String)> {
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    let password = auth::one_time_password();
    let hash = hash_off_thread(password.clone()).await?;
    state.store.set_password(id, &hash, true).await?;
    state.store.delete_user_sessions(id).await?;
    Ok((user, password))
}

async fn reset_user(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (user, password) = reset_password(&state, id).await?;
    state
        .audit(
            Some(&principal.user),
            "user.reset",
            Some(user.username.clone()),
            AuditOutcome::Ok,
            serde_json::json!({}),
            remote,
        )
        .await?;
    users_view(&state, &principal, None, Some((user.username, password))).await
}

struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: &'static str,
    remote: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditRow>,
    verification: AuditVerification,
    filter: AuditFilter,
    outcome: String,
    older: Option<i64>,
    filter_query: String,
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

pub fn audit_filter(query: &AuditQuery) -> ApiResult<AuditFilter> {
    let nonempty = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let outcome = match nonempty(&query.outcome).as_deref() {
        None => None,
        Some("ok") => Some(AuditOutcome::Ok),
        Some("denied") => Some(AuditOutcome::Denied),
        Some("failed") => Some(AuditOutcome::Failed),
        Some(_) => {
            return Err(ApiError::bad_request("outcome", "use ok, denied or failed"));
        }
    };
    Ok(AuditFilter {
        actor: nonempty(&query.actor),
        action_prefix: nonempty(&query.action),
        target: nonempty(&query.target),
        outcome,
        since: None,
        until: None,
        before_seq: query.before,
        limit: query.limit.unwrap_or(100).clamp(1, 1000),
    })
}

fn outcome_word(outcome: AuditOutcome) -> &'static str {
    match outcome {
        AuditOutcome::Ok => "ok",
        AuditOutcome::Denied => "denied",
        AuditOutcome::Failed => "failed",
    }
}

async fn audit_page(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Response> {
    let filter = audit_filter(&query)?;
    let entries: Vec<AuditEntry> = state.store.audit_entries(&filter).await?;
    let verification = state.store.verify_audit().await?;
    let older = (entries.len() as u32 == filter.limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    let mut filter_query = String::new();
    for (key, value) in [
        ("actor", &filter.actor),
        ("action", &filter.action_prefix),
        ("target", &filter.target),
    ] {
        if let Some(v) = value {
            filter_query.push_str(&format!("&{key}={}", crate::app::urlencode(v)));
        }
    }
    Ok(render(&AuditPage {
        chrome: Chrome::new(Some(&principal), "audit"),
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                seq: e.seq,
                at: e.at.replace('T', " "),
                actor: e.entry.actor,
                action: e.entry.action,
                target: e.entry.target.unwrap_or_default(),
                outcome: outcome_word(e.entry.outcome),
                remote: e.entry.remote_addr.unwrap_or_default(),
            })
            .collect(),
        verification,
        outcome: filter.outcome.map(outcome_word).unwrap_or("").to_string(),
        filter,
        older,
        filter_query,
    }))
}
