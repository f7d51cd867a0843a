//! Protection over HTTP: victims' cases, the screening interview, testimonies turned into
//! `restricted` intelligence, and k-anonymous aggregates. This module holds what the pages
//! (`protection_pages.rs`) and the JSON API share, and the JSON API itself.
//!
//! Access: every case route needs the Cases permission (case workers only; administrators are
//! refused by design), and every read or write of one case goes through [`authorise_case`],
//! which checks that the case belongs to the caller's organisation and audits a refusal. Every
//! read of a case is audited ([`read_case`]). Analysts, viewers and researchers get aggregates
//! only: tables that release no group smaller than k = 11 or with fewer than l = 2 distinct
//! values of a sensitive attribute (`tandem_protect::release`).
//!
//! The domain (catalogue, rules, interview flow, workflow, testimony coding, release rules)
//! is `tandem-protect`'s; the store keeps the case content sealed as JSON it does not read.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tandem_core::Sensitivity;
use tandem_protect::answers::CooperationStatus;
use tandem_protect::case::{
    CaseAction, CaseState, ConsentScope, Consents, Retention, RetentionPolicy, WorkflowError,
    transition,
};
use tandem_protect::identify::NonPunishmentFlag;
use tandem_protect::interview::{
    InterviewFlow, InterviewRecord, Responses, answers_from_responses,
};
use tandem_protect::release::{
    AggregateTable, Datasource, HtcdsGender, LabourType, QuasiIdentifier, ReleaseRecord,
    ReleaseRules, aggregate, write_ctdc_csv, write_htcds_csv,
};
use tandem_protect::testimony::{
    EventStage, ExploitationKind, ForcedCriminalityKind, Testimony, TestimonyCoding,
    intelligence_from_testimony, screening_queries,
};
use tandem_protect::{Answers, Assessment, Catalogue, ExploitationType, identify};
use tandem_store::StoreError;
use tandem_store::cases::{
    AssessmentRecord, CaseChange, CaseFile, CaseMeta, CaseRecord, NewAssessment, NewCase,
    NewCaseEvent, NewConsent, NewTestimony, TestimonyRecord,
};
use tandem_store::security::{AuditOutcome, NewAuditEntry};

use crate::app::{Access, AppState, Principal, RemoteAddr, Table};
use crate::authz::{Action, Permission, Resource, may_see};
use crate::error::{ApiError, ApiResult};
use crate::openapi::{object, string};

pub(crate) const READ_CASES: Access = Access::Needs(Permission::new(Resource::Cases, Action::Read));
pub(crate) const WRITE_CASES: Access =
    Access::Needs(Permission::new(Resource::Cases, Action::Write));
pub(crate) const READ_AGGREGATES: Access =
    Access::Needs(Permission::new(Resource::Aggregates, Action::Read));
pub(crate) const EXPORT_AGGREGATES: Access =
    Access::Needs(Permission::new(Resource::Aggregates, Action::Export));

/// The dataset that holds the confirmed actors of testimonies: `restricted` once past the
/// §4.3 guard, held back as `protected` (visible to no role) until then (`intelligence.rs`).
pub const INTELLIGENCE_DATASET: &str = "testimony_intelligence";

pub(crate) fn routes(table: Table) -> Table {
    crate::referrals::routes(crate::protection_pages::routes(table))
        .api(Method::GET, "/api/v1/cases", READ_CASES, list_cases)
        .api(Method::POST, "/api/v1/cases", WRITE_CASES, create_case_api)
        .api(
            Method::GET,
            "/api/v1/cases/retention",
            READ_CASES,
            retention_due_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/retention/erase",
            WRITE_CASES,
            retention_erase_api,
        )
        .api(Method::GET, "/api/v1/cases/{id}", READ_CASES, case_api)
        .api(
            Method::POST,
            "/api/v1/cases/{id}/transition",
            WRITE_CASES,
            transition_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/consents",
            WRITE_CASES,
            consent_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/services",
            WRITE_CASES,
            service_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/details",
            WRITE_CASES,
            details_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/assessments",
            WRITE_CASES,
            assessment_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/testimonies",
            WRITE_CASES,
            testimony_api,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/erase",
            WRITE_CASES,
            erase_api,
        )
        .api(
            Method::GET,
            "/api/v1/aggregates",
            READ_AGGREGATES,
            aggregates_api,
        )
        .api(
            Method::GET,
            "/api/v1/aggregates/export",
            EXPORT_AGGREGATES,
            export_api,
        )
}

/// Summary and request body of each JSON route of this module (for the OpenAPI document).
pub fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    let string = string();
    let responses = json!({"type": "object", "additionalProperties": {"type": "string"},
        "description": "Interview responses: question id → value (see the interview flow)"});
    let interview = object(&["responses"], json!({"responses": responses}));
    Some(match (method.as_str(), path) {
        ("GET", "/api/v1/cases") => (
            "Cases of the caller's organisation (metadata only; audited)",
            None,
        ),
        ("POST", "/api/v1/cases") => (
            "Open a screening record from a completed interview: consent first; returns the case and its assessment",
            Some(interview.clone()),
        ),
        ("GET", "/api/v1/cases/retention") => (
            "Cases of the caller's organisation past their retention deadline",
            None,
        ),
        ("POST", "/api/v1/cases/retention/erase") => (
            "Erase the caller's organisation's cases past their retention deadline (tombstones stay in the audit log)",
            None,
        ),
        ("GET", "/api/v1/cases/{id}") => (
            "One case with its events, consents, assessments and testimonies (owning organisation only; audited)",
            None,
        ),
        ("POST", "/api/v1/cases/{id}/transition") => (
            "Move a case along its workflow (open needs storage consent; transfer needs sharing consent)",
            Some(object(
                &["action"],
                json!({"action": {"enum": ["open", "start_assessment", "agree_plan",
                    "start_services", "close", "close_transferred", "reopen"]}}),
            )),
        ),
        ("POST", "/api/v1/cases/{id}/consents") => (
            "Record consent (or its refusal or withdrawal) for one scope",
            Some(object(
                &["scope", "given"],
                json!({"scope": {"enum": ["interview", "storage", "referral", "sharing",
                    "research", "intelligence"]},
                "given": {"type": "boolean"}, "explained_by": string, "interpreter": string,
                "language": string, "lawful_basis": string}),
            )),
        ),
        ("POST", "/api/v1/cases/{id}/services") => (
            "Record a service given",
            Some(object(
                &["service"],
                json!({"service": string, "note": string}),
            )),
        ),
        ("POST", "/api/v1/cases/{id}/details") => (
            "Change the case's protected details and its retention deadline",
            Some(object(
                &[],
                json!({"label": string, "gender": {"enum": [
                "Feminine", "Masculine", "TransgenderFeminine", "TransgenderMasculine", "NonConforming",
                "NonSpecifiedUnknown"]}, "age_at_registration": {"type": "integer"}, "citizenship": string,
                "country_of_exploitation": string, "contact": string, "notes": string,
                "retention_until": string}),
            )),
        ),
        ("POST", "/api/v1/cases/{id}/assessments") => (
            "Assess again from new interview responses (a new assessment; old ones stay)",
            Some(interview),
        ),
        ("POST", "/api/v1/cases/{id}/testimonies") => (
            "Code a testimony; with intelligence consent its actors are screened and wait for a protection officer to confirm them (see /api/v1/intelligence/mentions); nothing about the person leaves the case",
            Some(object(
                &["coding"],
                json!({"coding": {"type": "object", "description": "The testimony coding (spec §4.2)"},
                "speaker_name": string, "given_on": string, "account": string}),
            )),
        ),
        ("POST", "/api/v1/cases/{id}/erase") => (
            "Erase the case: its data is deleted, the audit log keeps a tombstone",
            Some(object(&["reason"], json!({"reason": string}))),
        ),
        ("GET", "/api/v1/aggregates") => (
            "k-anonymous (k ≥ 11, l ≥ 2) counts of cases by `by` (comma-separated: year, gender, age_band, majority_status, citizenship, country_of_exploitation)",
            None,
        ),
        ("GET", "/api/v1/aggregates/export") => (
            "Anonymised release as CSV (`format` = ctdc or htcds), k ≥ 11 and l ≥ 2 (audited)",
            None,
        ),
        _ => {
            return crate::referrals::describe(method, path)
                .or_else(|| crate::intelligence::describe(method, path));
        }
    })
}

// ---------------------------------------------------------------------------------------------
// What the case holds

/// The protected details of a case (sealed by the store). Demographic fields serve the case
/// record and the anonymised aggregates; no rule reads them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseDetails {
    /// The name or alias the case worker uses (T1).
    pub label: Option<String>,
    pub gender: Option<HtcdsGender>,
    pub age_at_registration: Option<u32>,
    /// ISO 3166-1 alpha-2.
    pub citizenship: Option<String>,
    pub country_of_exploitation: Option<String>,
    /// Phone or address (T2).
    pub contact: Option<String>,
    /// Free notes (T5).
    pub notes: Option<String>,
    /// The procedural record of the first interview.
    pub interview: Option<InterviewRecord>,
    /// For the person's own legal planning only: no rule, guard or referral reads it.
    pub cooperation_status: Option<CooperationStatus>,
    /// The latest assessment's non-punishment flag (T4), for the banner.
    pub non_punishment: Option<NonPunishmentFlag>,
}

impl CaseDetails {
    pub fn of(record: &CaseRecord) -> ApiResult<CaseDetails> {
        serde_json::from_value(record.details.clone()).map_err(|err| {
            ApiError::internal(format!(
                "case {}: stored details do not parse: {err}",
                record.meta.id
            ))
        })
    }
}

/// What an assessment row holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredAssessment {
    pub answers: Answers,
    pub assessment: Assessment,
}

impl StoredAssessment {
    pub fn of(record: &AssessmentRecord) -> ApiResult<StoredAssessment> {
        serde_json::from_value(record.body.clone()).map_err(|err| {
            ApiError::internal(format!(
                "assessment {} of case {}: does not parse: {err}",
                record.id, record.case_id
            ))
        })
    }
}

/// A candidate match of one mentioned actor in the stored ecosystem.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate {
    pub entity_id: String,
    pub caption: String,
    pub schema: String,
    pub score: f64,
    pub datasets: Vec<String>,
}

/// What a testimony row holds: the protected testimony, the link to the intelligence it
/// produced (the protected link table of spec §4.3), and the screening candidates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTestimony {
    pub testimony: Testimony,
    /// `None` when the person did not consent to intelligence use.
    pub intelligence: Option<IntelligenceLink>,
    /// Per mentioned actor (by index): candidate matches for a person to confirm.
    pub screening: Vec<(usize, Vec<Candidate>)>,
    /// Why screening could not run, when it could not.
    pub screening_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntelligenceLink {
    pub testimony_ref: String,
    /// The sanitised mentions sent to protection officers for confirmation (per-testimony
    /// ids; nothing reaches the entity graph before a confirmation, see `intelligence.rs`).
    pub entity_ids: Vec<String>,
    pub dropped: Vec<String>,
}

impl StoredTestimony {
    pub fn of(record: &TestimonyRecord) -> ApiResult<StoredTestimony> {
        serde_json::from_value(record.coding.clone()).map_err(|err| {
            ApiError::internal(format!(
                "testimony {} of case {}: does not parse: {err}",
                record.id, record.case_id
            ))
        })
    }
}

/// The indicator catalogue in force and the interview flow built from it.
pub struct InForce {
    pub catalogue: Arc<Catalogue>,
    pub flow: Arc<InterviewFlow>,
}

impl InForce {
    fn of(catalogue: Arc<Catalogue>) -> InForce {
        let flow = InterviewFlow::standard(&catalogue);
        InForce {
            catalogue,
            flow: Arc::new(flow),
        }
    }
}

/// The interview flow of the catalogue in force, built once per catalogue hash.
static ACTIVE: Mutex<Option<(String, Arc<InForce>)>> = Mutex::new(None);

/// The catalogue in force (the revision an administrator activated last, or the built-in one;
/// see `catalogue_pages`) with its interview flow.
pub async fn in_force(state: &AppState) -> ApiResult<Arc<InForce>> {
    let catalogue = crate::catalogue_pages::active_catalogue(state).await?;
    let sha = catalogue.sha256().to_string();
    if let Some((cached, value)) = ACTIVE.lock().map_err(ApiError::internal)?.as_ref()
        && *cached == sha
    {
        return Ok(value.clone());
    }
    let value = Arc::new(InForce::of(catalogue));
    *ACTIVE.lock().map_err(ApiError::internal)? = Some((sha, value.clone()));
    Ok(value)
}

/// The catalogue an assessment used (built-in or a stored revision), to label its indicators.
pub async fn catalogue_by_sha256(state: &AppState, sha: &str) -> ApiResult<Option<Catalogue>> {
    Ok(crate::catalogue_pages::catalogue_by_sha256(state, sha)
        .await?
        .map(|catalogue| (*catalogue).clone()))
}

/// The scopes with consent given (the latest record per scope decides).
pub fn consents_of(file: &CaseFile) -> Consents {
    ConsentScope::ALL
        .into_iter()
        .filter(|scope| file.has_consent(scope.as_str()))
        .collect()
}

pub fn state_of(meta: &CaseMeta) -> ApiResult<CaseState> {
    meta.state
        .parse()
        .map_err(|err: String| ApiError::internal(format!("case {}: {err}", meta.id)))
}

/// `months` after now, as ISO text (a month counted as 30.44 days: a deadline, not a date of
/// record).
pub fn months_from_now(months: u32) -> String {
    let seconds = i64::from(months) * 2_629_746;
    tandem_core::time::iso_from_unix(crate::app::unix_now() + seconds)
}

/// The retention deadline of a case entering `state`: the policy's months for screening and
/// closed records; for active cases the review date, renewed on every change of state.
pub fn retention_for(state: CaseState) -> String {
    let policy = RetentionPolicy::default();
    match policy.for_state(state) {
        Retention::Months { months } => months_from_now(months),
        Retention::WhileActive => months_from_now(policy.closed_months),
    }
}

fn workflow_error(err: WorkflowError) -> ApiError {
    let code = match err {
        WorkflowError::ConsentMissing { .. } => "consent_required",
        _ => "transition_not_allowed",
    };
    ApiError::new(StatusCode::CONFLICT, code, err.to_string())
}

// ---------------------------------------------------------------------------------------------
// Access: one helper for every case read and write

/// The case, if the caller may work on it: it exists (404 otherwise) and belongs to the
/// caller's organisation, and the caller is a case worker (403 otherwise, audited).
pub async fn authorise_case(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
) -> ApiResult<CaseMeta> {
    let meta = state
        .store
        .case_meta(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    let user = &principal.user;
    if !may_see(
        user.role,
        user.organisation_id,
        Sensitivity::Protected,
        Some(meta.organisation_id),
    ) {
        return state
            .refuse(
                user,
                "case.denied",
                id,
                json!({"owner": meta.organisation_id, "role": user.role}),
                remote,
                ApiError::forbidden(
                    "this case belongs to another organisation: only its own case workers may open it",
                ),
            )
            .await;
    }
    Ok(meta)
}

/// Reads the whole case after [`authorise_case`], and audits the read with its purpose.
pub async fn read_case(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    purpose: &str,
) -> ApiResult<CaseFile> {
    authorise_case(state, principal, remote, id).await?;
    let file = state
        .store
        .case_file(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    state
        .audit(
            Some(&principal.user),
            "case.read",
            Some(id.to_string()),
            AuditOutcome::Ok,
            json!({"purpose": purpose}),
            remote.clone(),
        )
        .await?;
    Ok(file)
}

async fn audit_write(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    action: &str,
    id: &str,
    detail: Value,
) -> ApiResult<()> {
    state
        .audit(
            Some(&principal.user),
            action,
            Some(id.to_string()),
            AuditOutcome::Ok,
            detail,
            remote.clone(),
        )
        .await
}

/// The caller's organisation's cases (metadata only), audited as a listing.
pub async fn list_for(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
) -> ApiResult<Vec<CaseMeta>> {
    let cases = state
        .store
        .cases(Some(principal.user.organisation_id))
        .await?;
    state
        .audit(
            Some(&principal.user),
            "case.list",
            None,
            AuditOutcome::Ok,
            json!({"cases": cases.len()}),
            remote.clone(),
        )
        .await?;
    Ok(cases)
}

// ---------------------------------------------------------------------------------------------
// Operations shared by pages and API

/// Turns interview responses into answers and an assessment; nothing is stored on error, and
/// the error names the question.
pub fn assess_responses(
    in_force: &InForce,
    responses: &Responses,
) -> ApiResult<(Answers, InterviewRecord, Assessment)> {
    let catalogue = &in_force.catalogue;
    let (answers, record) = answers_from_responses(&in_force.flow, catalogue, responses)
        .map_err(|err| ApiError::bad_request(&err.question, err.message))?;
    let assessment = identify(catalogue, &answers).map_err(|err| {
        let field = match &err {
            tandem_protect::AnswersError::Invalid(errors) => errors
                .first()
                .map(|e| e.field.clone())
                .unwrap_or_else(|| "responses".into()),
            tandem_protect::AnswersError::Syntax { .. } => "responses".into(),
        };
        ApiError::bad_request(&field, err.to_string())
    })?;
    Ok((answers, record, assessment))
}

/// The outcome of an interview: the case it was stored on and the assessment's id.
#[derive(Debug, Clone, Serialize)]
pub struct Interviewed {
    pub case_id: String,
    pub assessment_id: i64,
    pub assessment: Assessment,
}

/// Stores a completed interview: on a new screening record, or on `existing` (a re-assessment).
/// Consent to the interview and to storage is part of the responses, and recorded.
pub async fn store_interview(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    responses: &Responses,
    existing: Option<&str>,
) -> ApiResult<Interviewed> {
    let in_force = in_force(state).await?;
    let (answers, record, assessment) = assess_responses(&in_force, responses)?;
    let user = &principal.user;
    let case_id = match existing {
        Some(id) => {
            // The banner follows the latest assessment.
            let file = read_case(state, principal, remote, id, "assess again").await?;
            let mut details = CaseDetails::of(&file.case)?;
            details.non_punishment = Some(assessment.non_punishment.clone());
            state
                .store
                .update_case(
                    id,
                    CaseChange {
                        details: Some(serde_json::to_value(&details).map_err(ApiError::internal)?),
                        ..CaseChange::default()
                    },
                )
                .await?;
            id.to_string()
        }
        None => {
            let details = CaseDetails {
                interview: Some(record.clone()),
                cooperation_status: answers.cooperation_status,
                non_punishment: Some(assessment.non_punishment.clone()),
                ..CaseDetails::default()
            };
            let case = state
                .store
                .create_case(NewCase {
                    organisation_id: user.organisation_id,
                    created_by: user.id,
                    state: CaseState::Screening.as_str().to_string(),
                    retention_until: retention_for(CaseState::Screening),
                    details: serde_json::to_value(&details).map_err(ApiError::internal)?,
                })
                .await?;
            audit_write(
                state,
                principal,
                remote,
                "case.create",
                &case.meta.id,
                json!({"state": case.meta.state}),
            )
            .await?;
            case.meta.id
        }
    };
    for scope in [ConsentScope::Interview, ConsentScope::Storage] {
        state
            .store
            .record_consent(
                &case_id,
                NewConsent {
                    recorded_by: user.id,
                    scope: scope.as_str().to_string(),
                    given: true,
                    detail: json!({
                        "explained_by": user.username,
                        "interpreter": record.interpreter_used,
                        "language": record.interpreter_language,
                        "lawful_basis": "GDPR Art. 9(2)(a) explicit consent",
                        "recorded_in": "screening interview",
                    }),
                },
            )
            .await?;
    }
    let reference = in_force.catalogue.reference();
    let stored = state
        .store
        .add_assessment(
            &case_id,
            NewAssessment {
                assessed_by: user.id,
                catalogue_version: reference.version.clone(),
                catalogue_sha256: reference.sha256.clone(),
                body: serde_json::to_value(StoredAssessment {
                    answers,
                    assessment: assessment.clone(),
                })
                .map_err(ApiError::internal)?,
            },
        )
        .await?;
    audit_write(
        state,
        principal,
        remote,
        "case.assess",
        &case_id,
        json!({"assessment": stored.id, "catalogue": reference.version}),
    )
    .await?;
    Ok(Interviewed {
        case_id,
        assessment_id: stored.id,
        assessment,
    })
}

/// Moves a case by `action`, checking the workflow and its consent gates.
pub async fn apply_action(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    action: CaseAction,
) -> ApiResult<CaseRecord> {
    let file = read_case(state, principal, remote, id, "change state").await?;
    let from = state_of(&file.case.meta)?;
    // No consent override here: it needs a `consent_override` holder (a supervisor), a role
    // this installation does not have.
    let to = transition(from, action, &consents_of(&file), None).map_err(workflow_error)?;
    let record = state
        .store
        .update_case(
            id,
            CaseChange {
                state: Some((from.as_str().into(), to.as_str().into())),
                retention_until: Some(retention_for(to)),
                event: Some(NewCaseEvent {
                    actor_user_id: principal.user.id,
                    kind: "state".into(),
                    detail: json!({"from": from, "to": to, "action": action}),
                }),
                details: None,
            },
        )
        .await?;
    audit_write(
        state,
        principal,
        remote,
        "case.transition",
        id,
        json!({"from": from, "to": to}),
    )
    .await?;
    Ok(record)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConsentInput {
    pub scope: String,
    pub given: bool,
    #[serde(default)]
    pub explained_by: Option<String>,
    #[serde(default)]
    pub interpreter: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub lawful_basis: Option<String>,
}

pub async fn record_consent(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    input: ConsentInput,
) -> ApiResult<()> {
    let scope: ConsentScope = input
        .scope
        .parse()
        .map_err(|err: String| ApiError::bad_request("scope", err))?;
    authorise_case(state, principal, remote, id).await?;
    state
        .store
        .record_consent(
            id,
            NewConsent {
                recorded_by: principal.user.id,
                scope: scope.as_str().into(),
                given: input.given,
                detail: json!({
                    "explained_by": input.explained_by.filter(|s| !s.trim().is_empty())
                        .unwrap_or_else(|| principal.user.username.clone()),
                    "interpreter": input.interpreter,
                    "language": input.language,
                    "lawful_basis": input.lawful_basis,
                }),
            },
        )
        .await?;
    if scope == ConsentScope::Intelligence && !input.given {
        // Withdrawn intelligence consent takes the case's testimonies out of every actor they
        // named, as erasure does (spec §6.5).
        crate::intelligence::erase_case_links(state, id).await?;
    }
    audit_write(
        state,
        principal,
        remote,
        "case.consent",
        id,
        json!({"scope": scope, "given": input.given}),
    )
    .await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceInput {
    pub service: String,
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn add_service(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    input: ServiceInput,
) -> ApiResult<()> {
    if input.service.trim().is_empty() {
        return Err(ApiError::bad_request("service", "name the service given"));
    }
    authorise_case(state, principal, remote, id).await?;
    state
        .store
        .add_case_event(
            id,
            NewCaseEvent {
                actor_user_id: principal.user.id,
                kind: "service".into(),
                detail: json!({"service": input.service.trim(), "note": input.note}),
            },
        )
        .await?;
    audit_write(state, principal, remote, "case.service", id, json!({})).await
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DetailsInput {
    pub label: Option<String>,
    pub gender: Option<HtcdsGender>,
    pub age_at_registration: Option<u32>,
    pub citizenship: Option<String>,
    pub country_of_exploitation: Option<String>,
    pub contact: Option<String>,
    pub notes: Option<String>,
    pub retention_until: Option<String>,
}

fn country_code(field: &str, value: Option<String>) -> ApiResult<Option<String>> {
    match value
        .map(|v| v.trim().to_uppercase())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(code) if code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()) => {
            Ok(Some(code))
        }
        Some(other) => Err(ApiError::bad_request(
            field,
            format!("{other:?} is not an ISO 3166-1 alpha-2 code (e.g. NG, LY, IT)"),
        )),
    }
}

fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// A deadline as `YYYY-MM-DD` or full ISO text; returns ISO text.
fn deadline(value: &str) -> ApiResult<String> {
    iso_date(
        value,
        "retention_until",
        "give the retention deadline as YYYY-MM-DD",
    )
}

/// A date as `YYYY-MM-DD` or full ISO text (the first ten characters checked); returns ISO
/// text, a bare date at midnight. `field` and `message` name the input in the 400 answer.
pub(crate) fn iso_date(value: &str, field: &str, message: &str) -> ApiResult<String> {
    let value = value.trim();
    let date = value.get(..10).unwrap_or("");
    let valid = date.len() == 10
        && date.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        });
    if !valid {
        return Err(ApiError::bad_request(field, message));
    }
    Ok(if value.len() > 10 {
        value.to_string()
    } else {
        format!("{date}T00:00:00")
    })
}

pub async fn update_details(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    input: DetailsInput,
) -> ApiResult<CaseRecord> {
    let citizenship = country_code("citizenship", input.citizenship)?;
    let country_of_exploitation =
        country_code("country_of_exploitation", input.country_of_exploitation)?;
    if input.age_at_registration.is_some_and(|a| a > 120) {
        return Err(ApiError::bad_request(
            "age_at_registration",
            "an age is at most 120",
        ));
    }
    let retention_until = clean(input.retention_until)
        .map(|v| deadline(&v))
        .transpose()?;
    let file = read_case(state, principal, remote, id, "edit details").await?;
    let mut details = CaseDetails::of(&file.case)?;
    details.label = clean(input.label);
    details.gender = input.gender;
    details.age_at_registration = input.age_at_registration;
    details.citizenship = citizenship;
    details.country_of_exploitation = country_of_exploitation;
    details.contact = clean(input.contact);
    details.notes = clean(input.notes);
    let event = retention_until.as_ref().map(|until| NewCaseEvent {
        actor_user_id: principal.user.id,
        kind: "retention".into(),
        detail: json!({"until": until}),
    });
    let record = state
        .store
        .update_case(
            id,
            CaseChange {
                details: Some(serde_json::to_value(&details).map_err(ApiError::internal)?),
                retention_until,
                event,
                state: None,
            },
        )
        .await?;
    audit_write(state, principal, remote, "case.update", id, json!({})).await?;
    Ok(record)
}

/// Erases a case: the tombstone (case, organisation, who, when, why; nothing else) goes to the
/// audit log and every row of the case is deleted.
pub async fn erase(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    reason: &str,
) -> ApiResult<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "reason",
            "say why the case is erased (e.g. the person's request, retention period ended)",
        ));
    }
    if reason.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "reason",
            "keep the reason short (at most 200 characters) and free of personal details",
        ));
    }
    let meta = authorise_case(state, principal, remote, id).await?;
    erase_authorised(state, principal, remote, &meta, reason).await
}

async fn erase_authorised(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    meta: &CaseMeta,
    reason: &str,
) -> ApiResult<()> {
    let user = &principal.user;
    // A standing legal hold refuses the erasure before anything is touched (the store checks
    // it again inside its transaction).
    if let Some(hold) = state.store.standing_hold(&meta.id).await? {
        return Err(ApiError::conflict(tandem_store::cases::held_case(
            &meta.id, hold,
        )));
    }
    // The case's testimonies stop counting for the actors they named (spec §6.5) before the
    // case goes: a failure here leaves the case in place rather than orphaned links.
    crate::intelligence::erase_case_links(state, &meta.id).await?;
    state
        .store
        .erase_case(
            &meta.id,
            NewAuditEntry {
                actor_user_id: Some(user.id),
                actor: user.username.clone(),
                organisation_id: Some(user.organisation_id),
                action: "case.erase".into(),
                target: Some(meta.id.clone()),
                outcome: AuditOutcome::Ok,
                detail: json!({"organisation": meta.organisation_id, "reason": reason,
                    "scope": "all data of the case"}),
                remote_addr: remote.clone(),
            },
        )
        .await
        .map_err(|err| match err {
            // The tombstone above names the case, so the store's only refusal left is a
            // standing legal hold (its text names the hold): a state conflict, not bad input.
            StoreError::Invalid(what) => ApiError::conflict(what),
            other => ApiError::from(other),
        })?;
    Ok(())
}

/// The caller's organisation's cases past their retention deadline.
pub async fn retention_due(state: &AppState, principal: &Principal) -> ApiResult<Vec<CaseMeta>> {
    let now = tandem_core::time::now_iso();
    Ok(state
        .store
        .cases_due_for_erasure(&now)
        .await?
        .into_iter()
        .filter(|c| c.organisation_id == principal.user.organisation_id)
        .collect())
}

/// Erases the caller's organisation's cases past their deadline; returns their ids.
pub async fn sweep_retention(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
) -> ApiResult<Vec<String>> {
    let mut erased = Vec::new();
    for meta in retention_due(state, principal).await? {
        erase_authorised(state, principal, remote, &meta, "retention period ended").await?;
        erased.push(meta.id);
    }
    Ok(erased)
}

#[derive(Debug, Clone, Deserialize)]
pub struct TestimonyInput {
    pub coding: TestimonyCoding,
    #[serde(default)]
    pub speaker_name: Option<String>,
    #[serde(default)]
    pub given_on: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
}

/// Screens the mentioned actors against the stored ecosystem (public and restricted entities
/// only): per actor index, the best candidates for a person to confirm.
async fn screen_actors(
    state: &AppState,
    coding: &TestimonyCoding,
) -> (Vec<(usize, Vec<Candidate>)>, Option<String>) {
    let queries = screening_queries(&coding.actors);
    if queries.is_empty() {
        return (Vec::new(), None);
    }
    if let Err(err) = state.screening.refresh(&state.store).await {
        return (
            Vec::new(),
            Some(format!("screening index unavailable: {err}")),
        );
    }
    let snapshot = match state.screening.snapshot() {
        Ok(snapshot) => snapshot,
        Err(err) => return (Vec::new(), err.detail),
    };
    let options = crate::screening::Options {
        threshold: 0.7,
        limit: 3,
        ..crate::screening::Options::default()
    };
    let mut out = Vec::new();
    for query in &queries {
        let Some(index) = query
            .id
            .strip_prefix("q-")
            .and_then(|i| i.parse::<usize>().ok())
        else {
            continue;
        };
        let outcome = match crate::screening::screen(&snapshot, query, &options, &HashMap::new()) {
            Ok(outcome) => outcome,
            Err(err) => {
                tracing::warn!(%err, "a mentioned actor could not be screened");
                continue;
            }
        };
        let candidates: Vec<Candidate> = outcome
            .results
            .iter()
            .filter(|s| s.hit.score.is_match)
            .filter_map(|s| {
                let (entity, meta) = snapshot.entity(&s.hit.entity_id)?;
                (meta.sensitivity != Sensitivity::Protected).then(|| Candidate {
                    entity_id: entity.id.clone(),
                    caption: entity.caption().to_string(),
                    schema: entity.schema.clone(),
                    score: s.hit.score.score,
                    datasets: meta.datasets.clone(),
                })
            })
            .collect();
        out.push((index, candidates));
    }
    (out, None)
}

/// Codes a testimony on a case. With the person's intelligence consent, each actor mentioned
/// becomes a pending mention that carries nothing about the person
/// (`tandem_protect::testimony::intelligence_from_testimony`) and waits for a protection
/// officer to confirm it (`intelligence.rs`); the link back lives only in the sealed testimony
/// and the protected link table.
pub async fn code_testimony(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    input: TestimonyInput,
) -> ApiResult<TestimonyRecord> {
    let file = read_case(state, principal, remote, id, "code testimony").await?;
    let testimony = Testimony {
        id: crate::auth::random_token(),
        speaker_name: clean(input.speaker_name),
        given_on: clean(input.given_on),
        account: clean(input.account),
        coding: input.coding,
    };
    let (screening, screening_note) = screen_actors(state, &testimony.coding).await;
    let intel = if file.has_consent(ConsentScope::Intelligence.as_str()) {
        let key = state
            .store
            .protection_secret(crate::intelligence::INTELLIGENCE_SECRET)
            .await?;
        Some(
            intelligence_from_testimony(&testimony, &key)
                .map_err(|err| ApiError::bad_request("coding.actors", err.to_string()))?,
        )
    } else {
        None
    };
    let intelligence = intel.as_ref().map(|intel| IntelligenceLink {
        testimony_ref: intel.provenance.testimony_ref.clone(),
        entity_ids: intel
            .entities
            .iter()
            .filter(|e| e.schema == "Person")
            .map(|e| e.id.clone())
            .collect(),
        dropped: intel.dropped.clone(),
    });
    let promoted = intelligence.as_ref().map_or(0, |i| i.entity_ids.len());
    let actors = testimony.coding.actors.len();
    let stored = StoredTestimony {
        testimony,
        intelligence,
        screening,
        screening_note,
    };
    let record = state
        .store
        .add_testimony(
            id,
            NewTestimony {
                coded_by: principal.user.id,
                coding: serde_json::to_value(&stored).map_err(ApiError::internal)?,
            },
        )
        .await?;
    if let Some(intel) = &intel {
        crate::intelligence::record_testimony(
            state,
            file.case.meta.organisation_id,
            id,
            record.id,
            intel,
            &stored.screening,
        )
        .await?;
    }
    audit_write(
        state,
        principal,
        remote,
        "case.testimony",
        id,
        json!({"actors": actors, "intelligence_entities": promoted}),
    )
    .await?;
    Ok(record)
}

// ---------------------------------------------------------------------------------------------
// Aggregates

fn exploitation_kind(t: ExploitationType) -> Option<ExploitationKind> {
    Some(match t {
        ExploitationType::Labour => ExploitationKind::ForcedLabour,
        ExploitationType::Sexual => ExploitationKind::SexualExploitation,
        ExploitationType::ForcedCriminality => ExploitationKind::ForcedCriminality,
        ExploitationType::Begging => ExploitationKind::ForcedBegging,
        ExploitationType::OrganRemoval => ExploitationKind::OrganRemoval,
        ExploitationType::ForcedMarriage => ExploitationKind::ForcedMarriage,
        ExploitationType::IllegalAdoption => ExploitationKind::ForcedAdoption,
        ExploitationType::Surrogacy => ExploitationKind::Surrogacy,
        ExploitationType::Other => ExploitationKind::Other,
        ExploitationType::Unclear => return None,
    })
}

/// One case coded for release: no names, dates, free text or actor identifiers.
pub fn release_record(file: &CaseFile) -> Option<ReleaseRecord> {
    let details: CaseDetails = serde_json::from_value(file.case.details.clone()).ok()?;
    let year = file.case.meta.created_at.get(..4)?.parse().ok()?;
    let answers = file
        .assessments
        .last()
        .and_then(|a| serde_json::from_value::<StoredAssessment>(a.body.clone()).ok())
        .map(|s| s.answers);
    let codings: Vec<TestimonyCoding> = file
        .testimonies
        .iter()
        .filter_map(|t| serde_json::from_value::<StoredTestimony>(t.coding.clone()).ok())
        .map(|t| t.testimony.coding)
        .collect();
    let mut exploitation: BTreeSet<ExploitationKind> = codings
        .iter()
        .flat_map(|c| c.exploitation.kinds.iter().copied())
        .collect();
    if let Some(answers) = &answers {
        exploitation.extend(
            answers
                .exploitation
                .iter()
                .filter_map(|t| exploitation_kind(*t)),
        );
    }
    let forced_criminality: BTreeSet<ForcedCriminalityKind> = codings
        .iter()
        .flat_map(|c| c.exploitation.forced_criminality.iter().copied())
        .collect();
    let mut labour = BTreeSet::new();
    if exploitation.contains(&ExploitationKind::ForcedCriminality) {
        labour.insert(LabourType::IllicitActivities);
    }
    if exploitation.contains(&ExploitationKind::ForcedBegging) {
        labour.insert(LabourType::Begging);
    }
    let destination = codings.iter().find_map(|c| {
        c.events
            .iter()
            .find(|e| e.stage == EventStage::Destination)
            .map(|e| e.country.trim().to_uppercase())
    });
    Some(ReleaseRecord {
        year_of_registration: year,
        datasource: Datasource::CaseManagement,
        gender: details.gender.unwrap_or(HtcdsGender::NonSpecifiedUnknown),
        age_at_registration: details.age_at_registration,
        age_at_exploitation: answers.as_ref().and_then(|a| a.age_at_start),
        age_at_entry: details.age_at_registration,
        citizenship: details.citizenship.clone(),
        country_of_exploitation: details.country_of_exploitation.clone().or(destination),
        means_of_control: codings
            .iter()
            .flat_map(|c| c.means_of_control.iter().copied())
            .collect(),
        exploitation,
        forced_criminality,
        labour,
        sex: BTreeSet::new(),
        is_abduction: None,
        recruiter_relation: codings.iter().find_map(|c| c.recruiter_relation),
    })
}

/// Every case of every organisation, coded for release. Runs inside the protection boundary;
/// only what [`aggregate`] or the exporters release leaves it.
async fn release_records(state: &AppState) -> ApiResult<Vec<ReleaseRecord>> {
    let files = state.store.case_files(None).await?;
    Ok(files.iter().filter_map(release_record).collect())
}

pub fn parse_group_by(text: Option<&str>) -> ApiResult<Vec<QuasiIdentifier>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else {
        return Ok(vec![QuasiIdentifier::Gender, QuasiIdentifier::AgeBand]);
    };
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let q = QuasiIdentifier::ALL
            .into_iter()
            .find(|q| q.as_str() == part)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "by",
                    format!(
                        "unknown attribute {part:?}; use {}",
                        QuasiIdentifier::ALL.map(|q| q.as_str()).join(", ")
                    ),
                )
            })?;
        if !out.contains(&q) {
            out.push(q);
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_request("by", "name at least one attribute"));
    }
    Ok(out)
}

/// The released table for `group_by`, audited.
pub async fn aggregates(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    group_by: &[QuasiIdentifier],
) -> ApiResult<AggregateTable> {
    let records = release_records(state).await?;
    let table = aggregate(&records, group_by, &ReleaseRules::default())
        .map_err(|err| ApiError::bad_request("by", err.to_string()))?;
    state
        .audit(
            Some(&principal.user),
            "aggregates.read",
            None,
            AuditOutcome::Ok,
            json!({"by": group_by, "rows": table.rows.len()}),
            remote.clone(),
        )
        .await?;
    Ok(table)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Ctdc,
    Htcds,
}

/// The anonymised export as CSV text, audited.
pub async fn export(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    format: ExportFormat,
) -> ApiResult<Response> {
    let records = release_records(state).await?;
    let mut out = Vec::new();
    let rules = ReleaseRules::default();
    let summary = match format {
        ExportFormat::Ctdc => write_ctdc_csv(&records, &rules, &mut out),
        ExportFormat::Htcds => write_htcds_csv(&records, &rules, &mut out),
    }
    .map_err(ApiError::internal)?;
    let name = match format {
        ExportFormat::Ctdc => "ctdc",
        ExportFormat::Htcds => "htcds",
    };
    state
        .audit(
            Some(&principal.user),
            "aggregates.export",
            None,
            AuditOutcome::Ok,
            json!({"format": name, "rows_written": summary.rows_written,
                "rows_generalised": summary.rows_generalised, "rows_withheld": summary.rows_withheld}),
            remote.clone(),
        )
        .await?;
    let mut response = (StatusCode::OK, out).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"tandem-{name}-anonymised.csv\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

pub fn parse_format(text: Option<&str>) -> ApiResult<ExportFormat> {
    match text.map(str::trim).unwrap_or("ctdc") {
        "" | "ctdc" => Ok(ExportFormat::Ctdc),
        "htcds" => Ok(ExportFormat::Htcds),
        other => Err(ApiError::bad_request(
            "format",
            format!("unknown format {other:?}; use ctdc or htcds"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON API

/// A JSON request body; a fault is a 400 naming the field serde names.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|err| {
        let message = err.to_string();
        // serde names a missing or unknown field in its message ("missing field `scope`");
        // other faults (a wrong value) name no field, and the message says where it is.
        let field = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|prefix| message.split_once(prefix))
            .and_then(|(_, rest)| rest.split('`').next())
            .unwrap_or("body")
            .to_string();
        ApiError::bad_request(&field, format!("the request body: {message}"))
    })
}

async fn list_cases(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
) -> ApiResult<Json<Value>> {
    let cases = list_for(&state, &principal, &remote).await?;
    Ok(Json(json!({"cases": cases})))
}

#[derive(Deserialize)]
struct ResponsesBody {
    responses: Responses,
}

async fn create_case_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ResponsesBody = json_body(&body)?;
    let done = store_interview(&state, &principal, &remote, &body.responses, None).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

async fn case_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseFile>> {
    Ok(Json(
        read_case(&state, &principal, &remote, &id, "api").await?,
    ))
}

#[derive(Deserialize)]
struct ActionBody {
    action: String,
}

async fn transition_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<CaseMeta>> {
    let body: ActionBody = json_body(&body)?;
    let action: CaseAction = body
        .action
        .parse()
        .map_err(|err: String| ApiError::bad_request("action", err))?;
    Ok(Json(
        apply_action(&state, &principal, &remote, &id, action)
            .await?
            .meta,
    ))
}

async fn consent_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let input: ConsentInput = json_body(&body)?;
    record_consent(&state, &principal, &remote, &id, input).await?;
    Ok(StatusCode::CREATED)
}

async fn service_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let input: ServiceInput = json_body(&body)?;
    add_service(&state, &principal, &remote, &id, input).await?;
    Ok(StatusCode::CREATED)
}

async fn details_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<CaseMeta>> {
    let input: DetailsInput = json_body(&body)?;
    Ok(Json(
        update_details(&state, &principal, &remote, &id, input)
            .await?
            .meta,
    ))
}

async fn assessment_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ResponsesBody = json_body(&body)?;
    let done = store_interview(&state, &principal, &remote, &body.responses, Some(&id)).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

async fn testimony_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: TestimonyInput = json_body(&body)?;
    let record = code_testimony(&state, &principal, &remote, &id, input).await?;
    let stored = StoredTestimony::of(&record)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": record.id, "intelligence": stored.intelligence,
            "screening": stored.screening, "screening_note": stored.screening_note})),
    )
        .into_response())
}

#[derive(Deserialize)]
struct EraseBody {
    reason: String,
}

async fn erase_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let body: EraseBody = json_body(&body)?;
    erase(&state, &principal, &remote, &id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn retention_due_api(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"due": retention_due(&state, &principal).await?}),
    ))
}

async fn retention_erase_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
) -> ApiResult<Json<Value>> {
    let erased = sweep_retention(&state, &principal, &remote).await?;
    Ok(Json(json!({"erased": erased})))
}

#[derive(Deserialize)]
pub struct AggregateQuery {
    pub by: Option<String>,
}

async fn aggregates_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Query(query): Query<AggregateQuery>,
) -> ApiResult<Json<AggregateTable>> {
    let by = parse_group_by(query.by.as_deref())?;
    Ok(Json(aggregates(&state, &principal, &remote, &by).await?))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
}

async fn export_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let format = parse_format(query.format.as_deref())?;
    export(&state, &principal, &remote, format).await
}
