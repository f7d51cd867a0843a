//! Referrals and transfers between organisations (spec §3.1, §2.4, §3.3).
//!
//! A referral asks another organisation for a service: `pending` → `accepted` | `rejected`,
//! `accepted` → `done`; the sender may revoke it while it is pending. A transfer hands the
//! whole case to another organisation: `pending` → `accepted` | `rejected`, revocable while
//! pending; on acceptance the case belongs to the receiver (and no longer to the sender).
//!
//! Gates, checked here on every action and never by the caller's say-so:
//! - creating needs the person's consent (`referral` for a referral, `sharing` for a transfer)
//!   unless the caller holds `consent_override` and gives a reason; an override raises an alert
//!   for the supervisor and the DPO (an audit entry `alert.consent_override`);
//! - only case workers of the owning organisation refer, transfer or revoke; only case workers
//!   of the receiving organisation accept, reject or complete;
//! - a referral carries only the fields of the case the sender ticked (name, contact, age,
//!   gender, citizenship) — never the account, the assessment, the non-punishment flag or the
//!   person's cooperation with authorities, which no rule here reads.
//!
//! Every step is audited; refused steps too.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tandem_protect::case::{
    CaseState, OverrideReason, ReferralAction, ReferralState, WorkflowError, may_refer,
    may_transfer, referral_transition,
};
use tandem_store::StoreError;
use tandem_store::cases::{CaseFile, NewCaseEvent, NewReferral, ReferralChange, ReferralRecord};
use tandem_store::security::{AuditOutcome, Organisation};

use crate::app::{AppState, Principal, RemoteAddr, Table, serde_urlencoded_pairs};
use crate::authz::{Action, Permission, Resource, grant};
use crate::error::{ApiError, ApiResult};
use crate::openapi::{object, string};
use crate::pages::{Chrome, render_status};
use crate::protection::{self, CaseDetails, READ_CASES, WRITE_CASES, json_body};

/// Going ahead without the person's consent (vital interest, child protection).
pub const CONSENT_OVERRIDE: Permission = Permission::new(Resource::Cases, Action::OverrideConsent);

/// The case fields a referral may carry, each only when the sender ticks it.
pub const SHAREABLE: [(&str, &str); 5] = [
    ("label", "Name or alias"),
    ("contact", "Contact"),
    ("age_at_registration", "Age"),
    ("gender", "Gender"),
    ("citizenship", "Citizenship"),
];

pub(crate) fn routes(table: Table) -> Table {
    crate::holds::routes(table)
        .api(
            Method::POST,
            "/api/v1/cases/{id}/referrals",
            WRITE_CASES,
            referral_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/transfers",
            WRITE_CASES,
            transfer_api,
        )
        .api(Method::GET, "/api/v1/referrals", READ_CASES, list_api)
        .api(Method::GET, "/api/v1/referrals/{rid}", READ_CASES, read_api)
        .api(
            Method::POST,
            "/api/v1/referrals/{rid}/{action}",
            WRITE_CASES,
            action_api,
        )
        .page(Method::GET, "/referrals", READ_CASES, list_page)
        .page(
            Method::POST,
            "/cases/{id}/referral",
            WRITE_CASES,
            referral_form,
        )
        .page(
            Method::POST,
            "/cases/{id}/transfer",
            WRITE_CASES,
            transfer_form,
        )
        .page(
            Method::POST,
            "/referrals/{rid}/{action}",
            WRITE_CASES,
            action_form,
        )
}

/// Summary and request body of each JSON route of this module (for the OpenAPI document).
pub fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    let string = string();
    let share = json!({"type": "array", "items": {"enum": SHAREABLE.map(|(f, _)| f)}});
    let override_ = object(
        &["reason"],
        json!({"reason": {"enum": ["vital_interest", "child_protection"]}}),
    );
    Some(match (method.as_str(), path) {
        ("POST", "/api/v1/cases/{id}/referrals") => (
            "Refer the person to a service of another organisation (pending until it accepts); refused without referral consent. Never depends on cooperation with authorities",
            Some(object(
                &["service_type", "to_organisation"],
                json!({"service_type": string, "to_organisation": string, "provider": string,
                    "note": string, "share": share, "consent_override": override_}),
            )),
        ),
        ("POST", "/api/v1/cases/{id}/transfers") => (
            "Offer the case to another organisation (ownership moves when it accepts); refused without sharing consent",
            Some(object(
                &["to_organisation"],
                json!({"to_organisation": string, "note": string, "share": share,
                    "consent_override": override_}),
            )),
        ),
        ("GET", "/api/v1/referrals") => (
            "Referrals and transfers sent by or to the caller's organisation (metadata only)",
            None,
        ),
        ("GET", "/api/v1/referrals/{rid}") => (
            "One referral or transfer with the fields shared with the receiver (sender or receiver only; audited)",
            None,
        ),
        ("POST", "/api/v1/referrals/{rid}/{action}") => (
            "accept, reject or complete (the receiving organisation) or revoke (the sender, while pending); 409 when the step does not apply",
            None,
        ),
        _ => return crate::holds::describe(method, path),
    })
}

// ---------------------------------------------------------------------------------------------
// Requests and views

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Referral,
    Transfer,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Referral => "referral",
            Kind::Transfer => "transfer",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    pub reason: OverrideReason,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// Required for a referral; not asked for a transfer.
    #[serde(default)]
    pub service_type: Option<String>,
    /// The receiving organisation's short name.
    #[serde(default)]
    pub to_organisation: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Case fields to share (see [`SHAREABLE`]); none by default.
    #[serde(default)]
    pub share: Vec<String>,
    #[serde(default)]
    pub consent_override: Option<OverrideInput>,
}

/// A referral as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralView {
    pub id: i64,
    pub case_id: String,
    pub kind: String,
    pub state: String,
    /// `outgoing` or `incoming`, from the caller's organisation.
    pub direction: &'static str,
    pub from_organisation: String,
    pub to_organisation: String,
    pub created_at: String,
    pub updated_at: String,
    /// What the sender shared (only in the single-referral read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<Value>,
}

fn org_name(organisations: &[Organisation], id: i64) -> String {
    organisations
        .iter()
        .find(|o| o.id == id)
        .map_or_else(|| format!("organisation {id}"), |o| o.name.clone())
}

fn view(
    record: &ReferralRecord,
    organisation: i64,
    organisations: &[Organisation],
    shared: bool,
) -> ReferralView {
    ReferralView {
        id: record.id,
        case_id: record.case_id.clone(),
        kind: record.kind.clone(),
        state: record.state.clone(),
        direction: if record.from_organisation_id == organisation {
            "outgoing"
        } else {
            "incoming"
        },
        from_organisation: org_name(organisations, record.from_organisation_id),
        to_organisation: org_name(organisations, record.to_organisation_id),
        created_at: record.created_at.clone(),
        updated_at: record.updated_at.clone(),
        shared: shared.then(|| record.detail.clone()),
    }
}

fn workflow_conflict(err: WorkflowError) -> ApiError {
    let code = match err {
        WorkflowError::ConsentMissing { .. } => "consent_required",
        _ => "transition_not_allowed",
    };
    ApiError::new(StatusCode::CONFLICT, code, err.to_string())
}

fn parse_state(record: &ReferralRecord) -> ApiResult<ReferralState> {
    serde_json::from_value(Value::String(record.state.clone())).map_err(|_| {
        ApiError::internal(format!(
            "referral {} has an unknown state {:?}",
            record.id, record.state
        ))
    })
}

fn action_name(action: ReferralAction) -> &'static str {
    match action {
        ReferralAction::Accept => "accept",
        ReferralAction::Reject => "reject",
        ReferralAction::Complete => "complete",
        ReferralAction::Revoke => "revoke",
    }
}

fn parse_action(text: &str) -> ApiResult<ReferralAction> {
    serde_json::from_value(Value::String(text.to_string())).map_err(|_| {
        ApiError::bad_request(
            "action",
            format!("{text:?} is not a step of a referral: accept, reject, complete or revoke"),
        )
    })
}

/// The fields of the case the sender chose to share, from its protected details.
fn shared_fields(file: &CaseFile, share: &[String]) -> ApiResult<Map<String, Value>> {
    let details = serde_json::to_value(CaseDetails::of(&file.case)?).map_err(ApiError::internal)?;
    let mut out = Map::new();
    for field in share {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        if !SHAREABLE.iter().any(|(name, _)| *name == field) {
            return Err(ApiError::bad_request(
                "share",
                format!(
                    "{field:?} cannot be shared; a referral carries only {}",
                    SHAREABLE.map(|(f, _)| f).join(", ")
                ),
            ));
        }
        if let Some(value) = details.get(field).filter(|v| !v.is_null()) {
            out.insert(field.to_string(), value.clone());
        }
    }
    Ok(out)
}

fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------------------------------------
// The workflow

/// Refers or transfers case `id` to another organisation; returns the new referral.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    kind: Kind,
    input: ReferralInput,
) -> ApiResult<ReferralView> {
    let user = &principal.user;
    let service_type = clean(input.service_type.clone());
    if kind == Kind::Referral && service_type.is_none() {
        return Err(ApiError::bad_request(
            "service_type",
            "name the kind of service (shelter, legal aid, …)",
        ));
    }
    let file = protection::read_case(state, principal, remote, id, kind.as_str()).await?;
    let action = format!("case.{}", kind.as_str());

    // The consent gate, or an override by someone allowed to make one.
    let reason = input.consent_override.as_ref().map(|o| o.reason);
    if reason.is_some() && grant(user.role, CONSENT_OVERRIDE).is_none() {
        return state
            .refuse(
                user,
                "case.consent_override",
                id,
                json!({"kind": kind, "reason": reason}),
                remote,
                ApiError::forbidden(
                    "going ahead without the person's consent needs the consent_override permission",
                ),
            )
            .await;
    }
    let consents = protection::consents_of(&file);
    let gate = match kind {
        Kind::Referral => may_refer(&consents, reason),
        Kind::Transfer => may_transfer(&consents, reason),
    };
    if let Err(err) = gate {
        return state
            .refuse(
                user,
                &action,
                id,
                json!({"reason": format!("no {} consent", match kind {
                    Kind::Referral => "referral",
                    Kind::Transfer => "sharing",
                })}),
                remote,
                workflow_conflict(err),
            )
            .await;
    }

    let organisations = state.store.organisations().await?;
    let to = organisations
        .iter()
        .find(|o| o.name == input.to_organisation.trim())
        .ok_or_else(|| {
            ApiError::bad_request(
                "to_organisation",
                format!(
                    "no organisation named {:?} on this installation",
                    input.to_organisation.trim()
                ),
            )
        })?;
    if to.id == file.case.meta.organisation_id {
        return Err(ApiError::bad_request(
            "to_organisation",
            "the case is already with this organisation",
        ));
    }
    if kind == Kind::Transfer {
        let case_state = protection::state_of(&file.case.meta)?;
        if matches!(
            case_state,
            CaseState::Screening | CaseState::Closed | CaseState::ClosedReferred
        ) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "transition_not_allowed",
                format!("a case in state {case_state} cannot be transferred: open it first"),
            ));
        }
        let pending = state
            .store
            .case_referrals(id)
            .await?
            .into_iter()
            .any(|r| r.kind == "transfer" && r.state == "pending");
        if pending {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "transition_not_allowed",
                "a transfer of this case is pending already: revoke it first",
            ));
        }
    }
    let shared = shared_fields(&file, &input.share)?;
    let shared_names: Vec<&String> = shared.keys().collect();
    let detail = json!({
        "service_type": service_type,
        "provider": clean(input.provider.clone()),
        "note": clean(input.note.clone()),
        "case": shared,
        "consent_override": reason,
    });
    let record = state
        .store
        .create_referral(
            id,
            NewReferral {
                kind: kind.as_str().into(),
                to_organisation_id: to.id,
                created_by: user.id,
                state: "pending".into(),
                detail,
            },
            NewCaseEvent {
                actor_user_id: user.id,
                kind: kind.as_str().into(),
                detail: json!({"service_type": service_type, "provider": clean(input.provider),
                    "to": to.name, "state": "pending", "shared": shared_names}),
            },
        )
        .await?;
    state
        .audit(
            Some(user),
            &action,
            Some(id.to_string()),
            AuditOutcome::Ok,
            json!({"referral": record.id, "to": to.id, "shared": shared_names,
                "consent_override": reason}),
            remote.clone(),
        )
        .await?;
    if let Some(reason) = reason {
        // The alert supervisor and DPO review: who went ahead without consent, on which case,
        // why; no content of the case.
        state
            .audit(
                Some(user),
                "alert.consent_override",
                Some(id.to_string()),
                AuditOutcome::Ok,
                json!({"kind": kind, "referral": record.id, "reason": reason,
                    "notify": ["supervisor", "dpo"]}),
                remote.clone(),
            )
            .await?;
    }
    Ok(view(&record, user.organisation_id, &organisations, false))
}

/// Loads a referral and checks that the caller's organisation is one of its two sides;
/// refusals are audited.
async fn authorise(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    rid: &str,
    audit_action: &str,
) -> ApiResult<ReferralRecord> {
    let missing = || ApiError::not_found(format!("no referral {rid}"));
    let id: i64 = rid.parse().map_err(|_| missing())?;
    let record = state.store.referral(id).await?.ok_or_else(missing)?;
    let org = principal.user.organisation_id;
    if org != record.from_organisation_id && org != record.to_organisation_id {
        return state
            .refuse(
                &principal.user,
                "referral.denied",
                &record.case_id,
                json!({"referral": record.id, "action": audit_action}),
                remote,
                ApiError::forbidden("this referral is between other organisations"),
            )
            .await;
    }
    Ok(record)
}

/// One step of a referral's workflow by the side allowed to take it.
pub async fn step(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    rid: &str,
    action_text: &str,
) -> ApiResult<ReferralView> {
    let record = authorise(state, principal, remote, rid, action_text).await?;
    let action = parse_action(action_text)?;
    let user = &principal.user;
    let is_transfer = record.kind == "transfer";
    // Who may take the step: the receiver decides and completes; the sender revokes.
    let side = match action {
        ReferralAction::Revoke => record.from_organisation_id,
        _ => record.to_organisation_id,
    };
    if user.organisation_id != side {
        let refusal = ApiError::forbidden(match action {
            ReferralAction::Revoke => "only the sending organisation may revoke",
            _ => "only the receiving organisation may accept, reject or complete",
        });
        return state
            .refuse(
                user,
                "referral.denied",
                &record.case_id,
                json!({"referral": record.id, "action": action}),
                remote,
                refusal,
            )
            .await;
    }
    let from = parse_state(&record)?;
    if is_transfer && action == ReferralAction::Complete {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "transition_not_allowed",
            "a transfer is complete when it is accepted",
        ));
    }
    let to = referral_transition(from, action).map_err(workflow_conflict)?;
    let to_text = to.to_string();
    let move_case = is_transfer && to == ReferralState::Accepted;
    let updated = state
        .store
        .update_referral(
            record.id,
            ReferralChange {
                from: record.state.clone(),
                to: to_text.clone(),
                by: user.id,
                move_case,
                event: NewCaseEvent {
                    actor_user_id: user.id,
                    kind: record.kind.clone(),
                    detail: json!({"referral": record.id, "action": action, "state": to_text,
                        "from": record.state}),
                },
            },
        )
        .await
        .map_err(|err| match err {
            // Someone else moved it meanwhile.
            StoreError::Invalid(message) => {
                ApiError::new(StatusCode::CONFLICT, "transition_not_allowed", message)
            }
            other => other.into(),
        })?;
    state
        .audit(
            Some(user),
            &format!("referral.{}", action_name(action)),
            Some(record.case_id.clone()),
            AuditOutcome::Ok,
            json!({"referral": record.id, "kind": record.kind, "from": record.state,
                "to": to_text, "case_moved": move_case}),
            remote.clone(),
        )
        .await?;
    let organisations = state.store.organisations().await?;
    Ok(view(&updated, user.organisation_id, &organisations, false))
}

/// The caller's organisation's referrals, both ways (metadata only).
pub async fn list(state: &AppState, principal: &Principal) -> ApiResult<Vec<ReferralView>> {
    let org = principal.user.organisation_id;
    let organisations = state.store.organisations().await?;
    Ok(state
        .store
        .organisation_referrals(org)
        .await?
        .iter()
        .map(|r| view(r, org, &organisations, false))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// JSON API

async fn referral_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    create_api(&state, &principal, &remote, &id, &body, Kind::Referral).await
}

async fn transfer_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    create_api(&state, &principal, &remote, &id, &body, Kind::Transfer).await
}

async fn create_api(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    body: &Bytes,
    kind: Kind,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    let input: ReferralInput = json_body(body)?;
    let created = create(state, principal, remote, id, kind, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list_api(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<ReferralView>>> {
    Ok(Json(list(&state, &principal).await?))
}

async fn read_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(rid): Path<String>,
) -> ApiResult<Json<ReferralView>> {
    let record = authorise(&state, &principal, &remote, &rid, "read").await?;
    state
        .audit(
            Some(&principal.user),
            "referral.read",
            Some(record.case_id.clone()),
            AuditOutcome::Ok,
            json!({"referral": record.id}),
            remote.clone(),
        )
        .await?;
    let organisations = state.store.organisations().await?;
    Ok(Json(view(
        &record,
        principal.user.organisation_id,
        &organisations,
        true,
    )))
}

async fn action_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path((rid, action)): Path<(String, String)>,
) -> ApiResult<Json<ReferralView>> {
    Ok(Json(
        step(&state, &principal, &remote, &rid, &action).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Web

/// One referral on the case page or the referrals page.
pub struct ReferralItem {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub counterpart: String,
    pub at: String,
    pub service: String,
    pub shared: String,
    /// The steps the caller's organisation may take now (`(action, label)`).
    pub steps: Vec<(&'static str, &'static str)>,
}

/// What the case page shows of referrals and transfers.
pub struct CasePanel {
    pub may_refer: bool,
    pub may_transfer: bool,
    pub organisations: Vec<(String, String)>,
    pub shareable: Vec<(&'static str, &'static str)>,
    pub items: Vec<ReferralItem>,
    /// Legal holds of the case, standing ones first.
    pub holds: Vec<HoldItem>,
}

/// A legal hold on the case page.
pub struct HoldItem {
    pub id: i64,
    pub reason: String,
    pub review_on: String,
    pub placed_at: String,
    /// Empty while the hold stands.
    pub released_at: String,
}

fn steps_for(record: &ReferralRecord, organisation: i64) -> Vec<(&'static str, &'static str)> {
    let pending = record.state == "pending";
    let mut steps = Vec::new();
    if organisation == record.to_organisation_id {
        if pending {
            steps.push(("accept", "Accept"));
            steps.push(("reject", "Reject"));
        } else if record.state == "accepted" && record.kind == "referral" {
            steps.push(("complete", "Service given: done"));
        }
    }
    if organisation == record.from_organisation_id && pending {
        steps.push(("revoke", "Revoke"));
    }
    steps
}

fn item(
    record: &ReferralRecord,
    organisation: i64,
    organisations: &[Organisation],
) -> ReferralItem {
    let counterpart = if record.from_organisation_id == organisation {
        format!("to {}", org_name(organisations, record.to_organisation_id))
    } else {
        format!(
            "from {}",
            org_name(organisations, record.from_organisation_id)
        )
    };
    let text = |key: &str| {
        record
            .detail
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let shared = record
        .detail
        .get("case")
        .and_then(Value::as_object)
        .map(|fields| {
            fields
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    ReferralItem {
        id: record.id,
        kind: record.kind.clone(),
        state: record.state.clone(),
        counterpart,
        at: record.updated_at.get(..10).unwrap_or("").to_string(),
        service: text("service_type"),
        shared,
        steps: steps_for(record, organisation),
    }
}

/// The referral panel of a case page (the case was read and its read audited by the caller).
pub async fn case_panel(
    state: &AppState,
    principal: &Principal,
    file: &CaseFile,
) -> ApiResult<CasePanel> {
    let org = principal.user.organisation_id;
    let organisations = state.store.organisations().await?;
    let items = state
        .store
        .case_referrals(&file.case.meta.id)
        .await?
        .iter()
        .map(|r| item(r, org, &organisations))
        .collect();
    let day = |iso: &str| iso.get(..10).unwrap_or(iso).to_string();
    let mut holds: Vec<HoldItem> = state
        .store
        .holds(&file.case.meta.id)
        .await?
        .into_iter()
        .map(|h| HoldItem {
            id: h.id,
            reason: h.reason.clone().unwrap_or_default(),
            review_on: day(&h.review_on),
            placed_at: day(&h.placed_at),
            released_at: h.released_at.as_deref().map(day).unwrap_or_default(),
        })
        .collect();
    holds.sort_by_key(|h| !h.released_at.is_empty());
    Ok(CasePanel {
        may_refer: file.has_consent("referral"),
        may_transfer: file.has_consent("sharing"),
        organisations: organisations
            .iter()
            .filter(|o| o.id != org)
            .map(|o| (o.name.clone(), o.title.clone()))
            .collect(),
        shareable: SHAREABLE.to_vec(),
        items,
        holds,
    })
}

#[derive(Template)]
#[template(path = "protection/referrals.html")]
struct ReferralsPage {
    chrome: Chrome,
    csrf: String,
    sections: Vec<Section>,
    error: Option<String>,
}

struct Section {
    id: &'static str,
    title: &'static str,
    items: Vec<ReferralItem>,
}

async fn referrals_page(
    state: &AppState,
    principal: &Principal,
    status: StatusCode,
    error: Option<String>,
) -> ApiResult<Response> {
    let org = principal.user.organisation_id;
    let organisations = state.store.organisations().await?;
    let mut incoming = Vec::new();
    let mut outgoing = Vec::new();
    for record in state.store.organisation_referrals(org).await? {
        // The listing decrypts nothing: the service is shown on the case page and in the read.
        let entry = item(&record, org, &organisations);
        if record.to_organisation_id == org {
            incoming.push(entry);
        } else {
            outgoing.push(entry);
        }
    }
    let page = ReferralsPage {
        chrome: Chrome::new(Some(principal), "cases"),
        csrf: principal.csrf_token().unwrap_or_default().to_string(),
        sections: vec![
            Section {
                id: "incoming",
                title: "Sent to your organisation",
                items: incoming,
            },
            Section {
                id: "outgoing",
                title: "Sent by your organisation",
                items: outgoing,
            },
        ],
        error,
    };
    Ok(render_status(status, &page))
}

async fn list_page(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    referrals_page(&state, &principal, StatusCode::OK, None).await
}

fn form(body: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in serde_urlencoded_pairs(body) {
        out.entry(key).or_default().push(value);
    }
    out
}

fn first(form: &BTreeMap<String, Vec<String>>, name: &str) -> Option<String> {
    form.get(name)
        .and_then(|values| values.first())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn input_from(form: &BTreeMap<String, Vec<String>>) -> ReferralInput {
    ReferralInput {
        service_type: first(form, "service_type"),
        to_organisation: first(form, "to_organisation").unwrap_or_default(),
        provider: first(form, "provider"),
        note: first(form, "note"),
        share: form.get("share").cloned().unwrap_or_default(),
        consent_override: None,
    }
}

async fn referral_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    create_form(&state, &principal, &remote, &id, &body, Kind::Referral).await
}

async fn transfer_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    create_form(&state, &principal, &remote, &id, &body, Kind::Transfer).await
}

/// The case page's referral and transfer forms: create, then back to the case page.
async fn create_form(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    body: &[u8],
    kind: Kind,
) -> ApiResult<Response> {
    let input = input_from(&form(body));
    let outcome = create(state, principal, remote, id, kind, input)
        .await
        .map(|_| ());
    crate::protection_pages::after_form(state, principal, remote, id, outcome, kind.as_str()).await
}

async fn action_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path((rid, action)): Path<(String, String)>,
) -> ApiResult<Response> {
    match step(&state, &principal, &remote, &rid, &action).await {
        // The sender revokes from the case page; it goes back there.
        Ok(view) if view.direction == "outgoing" && action == "revoke" => {
            Ok(Redirect::to(&format!("/cases/{}?done=revoke", view.case_id)).into_response())
        }
        Ok(_) => Ok(Redirect::to("/referrals").into_response()),
        Err(err) if err.status == StatusCode::CONFLICT || err.status == StatusCode::BAD_REQUEST => {
            referrals_page(&state, &principal, err.status, err.detail.clone()).await
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec §2.3: no referral or transfer rule reads the person's cooperation with the
    /// authorities (the field exists only for their own legal planning).
    #[test]
    fn no_referral_rule_reads_cooperation_status() {
        for (name, source) in [
            ("referrals.rs", include_str!("referrals.rs")),
            ("holds.rs", include_str!("holds.rs")),
        ] {
            let code = source.split("#[cfg(test)]").next().unwrap_or("");
            assert!(!code.contains(concat!("cooperation", "_status")), "{name}");
            assert!(!code.contains(concat!("Cooperation", "Status")), "{name}");
        }
        // And a referral cannot be told to carry it.
        assert!(!SHAREABLE.iter().any(|(f, _)| f.contains("cooperation")));
    }

    #[test]
    fn steps_follow_the_side_and_the_state() {
        let record = |kind: &str, state: &str| ReferralRecord {
            id: 1,
            case_id: "case-1".into(),
            kind: kind.into(),
            from_organisation_id: 1,
            to_organisation_id: 2,
            state: state.into(),
            created_by: 1,
            created_at: String::new(),
            updated_at: String::new(),
            decided_by: None,
            detail: Value::Null,
        };
        fn names(steps: Vec<(&'static str, &'static str)>) -> Vec<&'static str> {
            steps.into_iter().map(|(a, _)| a).collect()
        }
        assert_eq!(
            names(steps_for(&record("referral", "pending"), 1)),
            ["revoke"]
        );
        assert_eq!(
            names(steps_for(&record("referral", "pending"), 2)),
            ["accept", "reject"]
        );
        assert_eq!(
            names(steps_for(&record("referral", "accepted"), 2)),
            ["complete"]
        );
        assert!(steps_for(&record("transfer", "accepted"), 2).is_empty());
        assert!(steps_for(&record("referral", "pending"), 3).is_empty());
        assert!(steps_for(&record("referral", "done"), 1).is_empty());
        assert!(parse_action("finish").is_err());
        assert_eq!(parse_action("revoke").ok(), Some(ReferralAction::Revoke));
    }
}
