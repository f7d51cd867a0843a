//! The JSON API under `/api/v1`, and the OpenAPI document that describes it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tandem_store::security::{AuditOutcome, UserRole};

use crate::app::{Access, AppState, Principal, RemoteAddr, Table};
use crate::authz::{Action, Permission, Resource, Scope};
use crate::error::{ApiError, ApiResult};
use crate::pages::{self, AuditQuery, SearchQuery};
use crate::{auth, openapi, view};

const fn needs(resource: Resource, action: Action) -> Access {
    Access::Needs(Permission::new(resource, action))
}

pub(crate) fn routes(table: Table) -> Table {
    table
        .api(Method::GET, "/healthz", Access::Public, health)
        .api(
            Method::GET,
            "/openapi.json",
            Access::Public,
            openapi::document,
        )
        .api(Method::GET, "/api/v1/me", Access::SignedIn, me)
        .api(
            Method::GET,
            "/api/v1/datasets",
            needs(Resource::Datasets, Action::Read),
            datasets,
        )
        .api(
            Method::GET,
            "/api/v1/search",
            needs(Resource::Entities, Action::Read),
            search,
        )
        .api(
            Method::GET,
            "/api/v1/entities/{id}",
            needs(Resource::Entities, Action::Read),
            entity,
        )
        .api(
            Method::GET,
            "/api/v1/entities/{id}/graph",
            needs(Resource::Entities, Action::Read),
            graph,
        )
        .api(
            Method::GET,
            "/api/v1/jobs",
            needs(Resource::Jobs, Action::Read),
            jobs,
        )
        .api(
            Method::GET,
            "/api/v1/jobs/{id}",
            needs(Resource::Jobs, Action::Read),
            job,
        )
        .api(
            Method::GET,
            "/api/v1/users",
            needs(Resource::Users, Action::Read),
            users,
        )
        .api(
            Method::POST,
            "/api/v1/users",
            needs(Resource::Users, Action::Write),
            create_user,
        )
        .api(
            Method::POST,
            "/api/v1/users/{id}/disable",
            needs(Resource::Users, Action::Write),
            disable_user,
        )
        .api(Method::GET, "/api/v1/tokens", Access::SignedIn, tokens)
        .api(
            Method::POST,
            "/api/v1/tokens",
            Access::SignedIn,
            create_token,
        )
        .api(
            Method::DELETE,
            "/api/v1/tokens/{id}",
            Access::SignedIn,
            revoke_token,
        )
        .api(
            Method::GET,
            "/api/v1/audit",
            needs(Resource::Audit, Action::Read),
            audit,
        )
        .api(
            Method::GET,
            "/api/v1/audit/verify",
            needs(Resource::Audit, Action::Read),
            verify_audit,
        )
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(
        json!({"status": "ok", "backend": state.store.backend(), "version": env!("CARGO_PKG_VERSION")}),
    )
}

async fn me(principal: Principal) -> Json<Value> {
    Json(json!({
        "id": principal.user.id,
        "username": principal.user.username,
        "display_name": principal.user.display_name,
        "role": principal.user.role,
        "organisation_id": principal.user.organisation_id,
        "must_change_password": principal.user.must_change_password,
    }))
}

async fn datasets(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let datasets = pages::visible_datasets(state.store.datasets().await?, principal.user.role);
    Ok(Json(json!({ "datasets": datasets })))
}

async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let (text, schema) = pages::check_search(&query)?;
    if text.is_empty() {
        return Err(ApiError::bad_request(
            "q",
            "give a name or identifier to search for",
        ));
    }
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request("limit", "use 1 to 100"));
    }
    let hits = pages::search_hits(&state, &principal.user, &text, schema.as_deref(), limit).await?;
    Ok(Json(json!({
        "query": text,
        "results": hits.iter().map(|h| json!({
            "id": h.id, "caption": h.caption, "schema": h.schema, "dataset": h.dataset,
            "sensitivity": h.sensitivity, "sanctioned": h.sanctioned, "summary": h.summary,
        })).collect::<Vec<_>>(),
    })))
}

async fn entity(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = view::read_entity(&state, &principal.user, &id, "api:entity", remote).await?;
    Ok(Json(json!({
        "id": view.entity.id,
        "schema": view.entity.schema,
        "caption": view.entity.caption(),
        "sensitivity": view.sensitivity,
        "properties": view.entity.properties,
        "datasets": view.datasets(),
        "statements": view.statements,
    })))
}

async fn graph(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<view::Graph>> {
    Ok(Json(view::graph(&state, &principal.user, &id).await?))
}

fn own_only(principal: &Principal) -> bool {
    principal.scope == Some(Scope::Own)
}

async fn jobs(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let jobs = state.store.jobs(100).await?;
    let jobs: Vec<_> = jobs
        .into_iter()
        .filter(|j| {
            !own_only(&principal) || j.params.get("user_id") == Some(&json!(principal.user.id))
        })
        .collect();
    Ok(Json(json!({ "jobs": jobs })))
}

async fn job(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let job = state
        .store
        .job(id)
        .await?
        .filter(|j| {
            !own_only(&principal) || j.params.get("user_id") == Some(&json!(principal.user.id))
        })
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    Ok(Json(json!(job)))
}

async fn users(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let users: Vec<_> = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| {
            principal.scope == Some(Scope::All)
                || u.organisation_id == principal.user.organisation_id
        })
        .collect();
    Ok(Json(json!({ "users": users })))
}

#[derive(Deserialize)]
struct NewUserBody {
    username: String,
    display_name: String,
    organisation: String,
    role: String,
}

async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Json(body): Json<NewUserBody>,
) -> ApiResult<Response> {
    let (user, password) = pages::add_user(
        &state,
        &body.username,
        &body.display_name,
        &body.organisation,
        &body.role,
    )
    .await?;
    state
        .audit(
            Some(&principal.user),
            "user.create",
            Some(user.username.clone()),
            AuditOutcome::Ok,
            json!({"role": user.role, "organisation": user.organisation_id}),
            remote,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user, "one_time_password": password})),
    )
        .into_response())
}

async fn disable_user(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    if user.id == principal.user.id {
        return Err(ApiError::conflict("you cannot disable your own account"));
    }
    state.store.set_user_disabled(id, true).await?;
    state.store.delete_user_sessions(id).await?;
    state
        .audit(
            Some(&principal.user),
            "user.disable",
            Some(user.username.clone()),
            AuditOutcome::Ok,
            json!({}),
            remote,
        )
        .await?;
    Ok(Json(json!({"disabled": user.username})))
}

async fn tokens(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let owner = (principal.user.role != UserRole::Admin).then_some(principal.user.id);
    Ok(Json(
        json!({"tokens": state.store.api_tokens(owner).await?}),
    ))
}

#[derive(Deserialize)]
struct NewTokenBody {
    name: String,
    /// Days until it expires (default 90, at most 365).
    expires_in_days: Option<u32>,
}

async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Json(body): Json<NewTokenBody>,
) -> ApiResult<Response> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "name",
            "name the token (1 to 100 characters)",
        ));
    }
    let days = body.expires_in_days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        return Err(ApiError::bad_request("expires_in_days", "use 1 to 365"));
    }
    let secret = auth::random_token();
    let expires =
        tandem_core::time::iso_from_unix(crate::app::unix_now() + i64::from(days) * 86_400);
    let token = state
        .store
        .create_api_token(
            principal.user.id,
            name,
            &auth::token_digest(&secret),
            Some(&expires),
        )
        .await?;
    state
        .audit(
            Some(&principal.user),
            "token.create",
            Some(format!("token:{}", token.id)),
            AuditOutcome::Ok,
            json!({"name": name, "expires_at": expires}),
            remote,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "secret": secret})),
    )
        .into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let owner = (principal.user.role != UserRole::Admin).then_some(principal.user.id);
    let mine = state.store.api_tokens(owner).await?;
    if !mine.iter().any(|t| t.id == id) {
        return Err(ApiError::not_found(format!("no token {id}")));
    }
    state.store.revoke_api_token(id).await?;
    state
        .audit(
            Some(&principal.user),
            "token.revoke",
            Some(format!("token:{id}")),
            AuditOutcome::Ok,
            json!({}),
            remote,
        )
        .await?;
    Ok(Json(json!({"revoked": id})))
}

async fn audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let filter = pages::audit_filter(&query)?;
    Ok(Json(
        json!({"entries": state.store.audit_entries(&filter).await?}),
    ))
}

async fn verify_audit(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.store.verify_audit().await?)))
}
