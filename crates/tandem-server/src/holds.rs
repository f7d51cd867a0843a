//! Legal holds on a case (spec §6.5): while a hold stands, the retention sweep does not erase
//! the case. A hold has a reason (sealed: it may name proceedings, tier T4) and a review date;
//! holds due for review are listed by `tandem retention review`. Case workers of the owning
//! organisation place, read and lift them; every step is audited without the reason.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tandem_store::cases::{HoldRecord, NewHold};
use tandem_store::security::AuditOutcome;

use crate::app::{AppState, Principal, RemoteAddr, Table, form_field};
use crate::error::{ApiError, ApiResult};
use crate::openapi::{object, string};
use crate::protection::{READ_CASES, WRITE_CASES, authorise_case, iso_date, json_body};

pub(crate) fn routes(table: Table) -> Table {
    table
        .api(
            Method::GET,
            "/api/v1/cases/{id}/holds",
            READ_CASES,
            list_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/holds",
            WRITE_CASES,
            place_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/holds/{hid}/release",
            WRITE_CASES,
            release_api,
        )
        .page(Method::POST, "/cases/{id}/hold", WRITE_CASES, place_form)
        .page(
            Method::POST,
            "/cases/{id}/holds/{hid}/release",
            WRITE_CASES,
            release_form,
        )
}

/// Summary and request body of each JSON route of this module (for the OpenAPI document).
pub fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    Some(match (method.as_str(), path) {
        ("GET", "/api/v1/cases/{id}/holds") => (
            "The legal holds of a case with their reasons (owning organisation only; audited)",
            None,
        ),
        ("POST", "/api/v1/cases/{id}/holds") => (
            "Place a legal hold: the case is not erased for retention while it stands",
            Some(object(
                &["reason", "review_on"],
                json!({"reason": string(), "review_on": {"type": "string", "format": "date"}}),
            )),
        ),
        ("POST", "/api/v1/cases/{id}/holds/{hid}/release") => ("Lift a legal hold", None),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldInput {
    reason: String,
    review_on: String,
}

/// `YYYY-MM-DD` (or full ISO text) in the future, as ISO text.
fn review_date(value: &str) -> ApiResult<String> {
    let iso = iso_date(value, "review_on", "give the review date as YYYY-MM-DD")?;
    if iso <= tandem_core::time::now_iso() {
        return Err(ApiError::bad_request(
            "review_on",
            "the review date of a hold lies in the future",
        ));
    }
    Ok(iso)
}

async fn list_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<HoldRecord>>> {
    authorise_case(&state, &principal, &remote, &id).await?;
    let holds = state.store.holds(&id).await?;
    state
        .audit(
            Some(&principal.user),
            "case.holds.read",
            Some(id.clone()),
            AuditOutcome::Ok,
            json!({"holds": holds.len()}),
            remote,
        )
        .await?;
    Ok(Json(holds))
}

async fn place_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<HoldRecord>)> {
    let input: HoldInput = json_body(&body)?;
    let hold = place(&state, &principal, &remote, &id, input).await?;
    Ok((StatusCode::CREATED, Json(hold)))
}

/// Places a hold after the access check; the answer leaves the reason out.
async fn place(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    input: HoldInput,
) -> ApiResult<HoldRecord> {
    let reason = input.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "reason",
            "say why the case must be kept (e.g. proceedings the person supports)",
        ));
    }
    let review_on = review_date(&input.review_on)?;
    authorise_case(state, principal, remote, id).await?;
    let mut hold = state
        .store
        .place_hold(
            id,
            NewHold {
                placed_by: principal.user.id,
                reason: reason.to_string(),
                review_on: review_on.clone(),
            },
        )
        .await?;
    state
        .audit(
            Some(&principal.user),
            "case.hold",
            Some(id.to_string()),
            AuditOutcome::Ok,
            json!({"hold": hold.id, "review_on": review_on}),
            remote.clone(),
        )
        .await?;
    // The reason was just given by the caller; the answer need not repeat it.
    hold.reason = None;
    Ok(hold)
}

async fn release_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path((id, hid)): Path<(String, String)>,
) -> ApiResult<Json<HoldRecord>> {
    Ok(Json(release(&state, &principal, &remote, &id, &hid).await?))
}

async fn release(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    hid: &str,
) -> ApiResult<HoldRecord> {
    authorise_case(state, principal, remote, id).await?;
    let missing = || ApiError::not_found(format!("no hold {hid} on case {id}"));
    let hold_id: i64 = hid.parse().map_err(|_| missing())?;
    // The hold must be one of this case's: the access check above was for this case only.
    if !state.store.holds(id).await?.iter().any(|h| h.id == hold_id) {
        return Err(missing());
    }
    let hold = state
        .store
        .release_hold(hold_id, principal.user.id)
        .await
        .map_err(|err| match err {
            tandem_store::StoreError::Invalid(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            other => other.into(),
        })?;
    state
        .audit(
            Some(&principal.user),
            "case.hold.release",
            Some(id.to_string()),
            AuditOutcome::Ok,
            json!({"hold": hold.id}),
            remote.clone(),
        )
        .await?;
    Ok(hold)
}

async fn place_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let field = |name: &str| form_field(&body, name).unwrap_or_default();
    let input = HoldInput {
        reason: field("reason"),
        review_on: field("review_on"),
    };
    let outcome = place(&state, &principal, &remote, &id, input)
        .await
        .map(|_| ());
    crate::protection_pages::after_form(&state, &principal, &remote, &id, outcome, "hold").await
}

async fn release_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path((id, hid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let outcome = release(&state, &principal, &remote, &id, &hid)
        .await
        .map(|_| ());
    crate::protection_pages::after_form(&state, &principal, &remote, &id, outcome, "release").await
}
