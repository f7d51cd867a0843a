//! The protection pages: the screening interview (one step per screen, phone first), its
//! result, the case list and case page, testimony coding, erasure, and the aggregates page.
//! Every case page goes through the access helpers of `protection.rs`.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tandem_protect::case::{CaseAction, ConsentScope, allowed_actions};
use tandem_protect::interview::{AnswerKind, Question, Responses, StepKind, needed_questions};
use tandem_protect::release::{HtcdsGender, QuasiIdentifier, ReleaseRules};
use tandem_protect::testimony::{
    AcceptedRisk, EventStage, ExitRoute, ExploitationKind, FeeBand, ForcedCriminalityKind,
    Guarantee, MeansOfControl, OnsetPhase, Payer, PerpetratorRole, PreventiveSupport, Promise,
    RecruiterRelation, RiskReason, SourceType,
};
use tandem_store::cases::CaseFile;

use crate::app::{AppState, Principal, RemoteAddr, Table, serde_urlencoded_pairs};
use crate::error::{ApiError, ApiResult};
use crate::pages::{Chrome, render_status};
use crate::protection::{
    self, CaseDetails, ConsentInput, DetailsInput, EXPORT_AGGREGATES, READ_AGGREGATES, READ_CASES,
    ServiceInput, StoredAssessment, StoredTestimony, TestimonyInput, WRITE_CASES,
};

pub(crate) fn routes(table: Table) -> Table {
    table
        .page(Method::GET, "/cases", READ_CASES, cases_page)
        .page(
            Method::GET,
            "/cases/interview",
            WRITE_CASES,
            interview_start,
        )
        .page(
            Method::POST,
            "/cases/interview",
            WRITE_CASES,
            interview_step,
        )
        .page(
            Method::POST,
            "/cases/retention/erase",
            WRITE_CASES,
            retention_erase,
        )
        .page(Method::GET, "/cases/{id}", READ_CASES, case_page)
        .page(
            Method::GET,
            "/cases/{id}/assessments/{assessment}",
            READ_CASES,
            result_page,
        )
        .page(
            Method::POST,
            "/cases/{id}/transition",
            WRITE_CASES,
            transition_form,
        )
        .page(
            Method::POST,
            "/cases/{id}/consent",
            WRITE_CASES,
            consent_form,
        )
        .page(
            Method::POST,
            "/cases/{id}/service",
            WRITE_CASES,
            service_form,
        )
        .page(
            Method::POST,
            "/cases/{id}/details",
            WRITE_CASES,
            details_form,
        )
        .page(
            Method::GET,
            "/cases/{id}/testimony",
            WRITE_CASES,
            testimony_page,
        )
        .page(
            Method::POST,
            "/cases/{id}/testimony",
            WRITE_CASES,
            testimony_form,
        )
        .page(Method::GET, "/cases/{id}/erase", WRITE_CASES, erase_page)
        .page(Method::POST, "/cases/{id}/erase", WRITE_CASES, erase_form)
        .page(Method::GET, "/aggregates", READ_AGGREGATES, aggregates_page)
        .page(
            Method::GET,
            "/aggregates/export",
            EXPORT_AGGREGATES,
            export_page,
        )
}

/// Form pairs; a name posted several times (ticked boxes) becomes one comma-joined value.
fn form_map(body: &[u8]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in serde_urlencoded_pairs(body) {
        out.entry(key)
            .and_modify(|existing| {
                if !value.is_empty() {
                    if !existing.is_empty() {
                        existing.push(',');
                    }
                    existing.push_str(&value);
                }
            })
            .or_insert(value);
    }
    out
}

fn humanise(code: &str) -> String {
    let mut out = String::new();
    for (i, c) in code.chars().enumerate() {
        if c == '_' {
            out.push(' ');
        } else if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

// ----- the interview --------------------------------------------------------------------------

struct OptionView {
    value: String,
    label: String,
    checked: bool,
    dom_id: String,
}

struct FieldView {
    name: String,
    text: String,
    help: String,
    /// `tri`, `confirm`, `number`, `choice`, `text`.
    kind: &'static str,
    multiple: bool,
    value: String,
    min: u32,
    max: u32,
    required: bool,
    options: Vec<OptionView>,
}

fn field_view(question: &Question, responses: &Responses) -> FieldView {
    let value = responses.get(&question.id).cloned().unwrap_or_default();
    let chosen: BTreeSet<&str> = value.split(',').map(str::trim).collect();
    let option = |v: &str, label: &str, checked: bool| OptionView {
        value: v.to_string(),
        label: label.to_string(),
        checked,
        dom_id: format!("{}-{v}", question.id),
    };
    let (kind, multiple, min, max, options) = match &question.kind {
        AnswerKind::YesNoUnknown => {
            let current = match value.trim() {
                "yes" | "no" => value.trim(),
                _ => "unknown",
            };
            let options = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known")]
                .iter()
                .map(|(v, l)| option(v, l, current == *v))
                .collect();
            ("tri", false, 0, 0, options)
        }
        AnswerKind::Confirm => ("confirm", false, 0, 0, Vec::new()),
        AnswerKind::Number { min, max } => ("number", false, *min, *max, Vec::new()),
        AnswerKind::Choice { options, multiple } => (
            "choice",
            *multiple,
            0,
            0,
            options
                .iter()
                .map(|o| option(&o.value, &o.label, chosen.contains(o.value.as_str())))
                .collect(),
        ),
        AnswerKind::Text => ("text", false, 0, 0, Vec::new()),
    };
    FieldView {
        name: question.id.clone(),
        text: question.text.clone(),
        help: question.help.clone().unwrap_or_default(),
        kind,
        multiple,
        value,
        min,
        max,
        required: question.required,
        options,
    }
}

struct HiddenField {
    name: String,
    value: String,
}

#[derive(Template)]
#[template(path = "protection/interview.html")]
struct InterviewPage {
    chrome: Chrome,
    csrf: String,
    case_id: Option<String>,
    index: usize,
    number: usize,
    total: usize,
    step_id: String,
    title: String,
    is_consent: bool,
    is_first: bool,
    is_last: bool,
    paused: bool,
    guidance: Vec<String>,
    prompts: Vec<String>,
    fields: Vec<FieldView>,
    coding: Vec<FieldView>,
    hidden: Vec<HiddenField>,
    reminders: Vec<String>,
    error: Option<String>,
}

/// Field names of the interview's own bookkeeping, never responses.
const CONTROL_FIELDS: [&str; 4] = ["_csrf", "step", "go", "case"];

fn interview_page(
    in_force: &protection::InForce,
    principal: &Principal,
    case_id: Option<String>,
    index: usize,
    responses: &Responses,
    error: Option<String>,
    paused: bool,
) -> Response {
    let flow = &*in_force.flow;
    let catalogue = &*in_force.catalogue;
    let index = index.min(flow.steps.len() - 1);
    let step = &flow.steps[index];
    // Coding questions that can no longer change any result are left out (nothing asked that
    // the assessment does not need), unless already answered. The check reads only indicator
    // states, age and exploitation types.
    let needed: Option<BTreeSet<String>> = (step.kind == StepKind::Account && index > 0)
        .then(|| {
            tandem_protect::interview::answers_from_responses(flow, catalogue, responses)
                .ok()
                .map(|(answers, _)| {
                    needed_questions(flow, catalogue, &answers)
                        .into_iter()
                        .map(|q| q.id.clone())
                        .collect()
                })
        })
        .flatten();
    let own: BTreeSet<&str> = step.questions.iter().map(|q| q.id.as_str()).collect();
    let mut fields = Vec::new();
    let mut coding = Vec::new();
    for question in &step.questions {
        if question.coding_panel {
            let shown = question.codes.is_empty()
                || needed.as_ref().is_none_or(|n| n.contains(&question.id))
                || responses.contains_key(&question.id);
            if shown {
                coding.push(field_view(question, responses));
            }
        } else {
            fields.push(field_view(question, responses));
        }
    }
    let hidden = responses
        .iter()
        .filter(|(name, _)| paused || !own.contains(name.as_str()))
        .map(|(name, value)| HiddenField {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    let page = InterviewPage {
        chrome: Chrome::new(Some(principal), "cases"),
        csrf: principal.csrf_token().unwrap_or_default().to_string(),
        case_id,
        index,
        number: index + 1,
        total: flow.steps.len(),
        step_id: step.id.clone(),
        title: step.title.clone(),
        is_consent: step.kind == StepKind::Consent,
        is_first: index == 0,
        is_last: index + 1 == flow.steps.len(),
        paused,
        guidance: step.guidance.clone(),
        prompts: step.prompts.clone(),
        fields,
        coding,
        hidden,
        reminders: flow.standing_reminders.clone(),
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render_status(status, &page)
}

#[derive(Deserialize)]
struct StartQuery {
    case: Option<String>,
}

async fn interview_start(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Query(query): Query<StartQuery>,
) -> ApiResult<Response> {
    let case_id = query.case.filter(|c| !c.trim().is_empty());
    if let Some(id) = &case_id {
        protection::authorise_case(&state, &principal, &remote, id).await?;
    }
    let in_force = protection::in_force(&state).await?;
    Ok(interview_page(
        &in_force,
        &principal,
        case_id,
        0,
        &Responses::new(),
        None,
        false,
    ))
}

/// Whether the step's required questions are answered (consent, immediate needs); the words
/// to show when not.
fn step_problem(
    flow: &tandem_protect::interview::InterviewFlow,
    index: usize,
    responses: &Responses,
) -> Option<String> {
    let step = &flow.steps[index];
    let missing: Vec<&Question> = step
        .questions
        .iter()
        .filter(|q| q.required)
        .filter(|q| {
            responses
                .get(&q.id)
                .is_none_or(|v| v.trim().is_empty() || v.trim() == "no")
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(match step.kind {
        StepKind::Consent => "Consent is needed before anything is recorded. If the person does not agree, stop here: nothing is stored, and support is offered anyway.".to_string(),
        _ => format!(
            "Please answer: {}",
            missing.iter().map(|q| q.text.as_str()).collect::<Vec<_>>().join("; ")
        ),
    })
}

async fn interview_step(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    body: Bytes,
) -> ApiResult<Response> {
    let form = form_map(&body);
    let in_force = protection::in_force(&state).await?;
    let flow = &*in_force.flow;
    let last = flow.steps.len() - 1;
    let index: usize = form
        .get("step")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
        .min(last);
    let case_id = form.get("case").cloned().filter(|c| !c.trim().is_empty());
    let responses: Responses = form
        .iter()
        .filter(|(k, _)| !CONTROL_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let go = form.get("go").map(String::as_str).unwrap_or("next");
    Ok(match go {
        "pause" => interview_page(
            &in_force, &principal, case_id, index, &responses, None, true,
        ),
        "resume" => interview_page(
            &in_force, &principal, case_id, index, &responses, None, false,
        ),
        "back" => interview_page(
            &in_force,
            &principal,
            case_id,
            index.saturating_sub(1),
            &responses,
            None,
            false,
        ),
        "finish" => {
            if let Some(problem) =
                (0..=last).find_map(|i| step_problem(flow, i, &responses).map(|p| (i, p)))
            {
                return Ok(interview_page(
                    &in_force,
                    &principal,
                    case_id,
                    problem.0,
                    &responses,
                    Some(problem.1),
                    false,
                ));
            }
            match protection::store_interview(
                &state,
                &principal,
                &remote,
                &responses,
                case_id.as_deref(),
            )
            .await
            {
                Ok(done) => Redirect::to(&format!(
                    "/cases/{}/assessments/{}",
                    done.case_id, done.assessment_id
                ))
                .into_response(),
                Err(err) if err.status == StatusCode::BAD_REQUEST => {
                    // Back to the step that asks the question at fault.
                    let question = err.field.clone().unwrap_or_default();
                    let at = flow
                        .steps
                        .iter()
                        .position(|s| s.questions.iter().any(|q| q.id == question))
                        .unwrap_or(index);
                    interview_page(
                        &in_force,
                        &principal,
                        case_id,
                        at,
                        &responses,
                        Some(err.detail.unwrap_or_default()),
                        false,
                    )
                }
                Err(err) => return Err(err),
            }
        }
        _ => match step_problem(flow, index, &responses) {
            Some(problem) => interview_page(
                &in_force,
                &principal,
                case_id,
                index,
                &responses,
                Some(problem),
                false,
            ),
            None => interview_page(
                &in_force,
                &principal,
                case_id,
                (index + 1).min(last),
                &responses,
                None,
                false,
            ),
        },
    })
}

// ----- the result -----------------------------------------------------------------------------

struct IndicatorView {
    code: String,
    label: String,
}

struct DimensionView {
    id: String,
    name: String,
    status: String,
    positive: bool,
    counts: String,
    present: Vec<IndicatorView>,
}

struct FollowUpView {
    dimension: String,
    topics: Vec<String>,
}

struct EvaluationView {
    list: String,
    list_name: String,
    rule_met: bool,
    summary: String,
    dimensions: Vec<DimensionView>,
    follow_up: Vec<FollowUpView>,
    uncertain: Vec<String>,
}

#[derive(Template)]
#[template(path = "protection/result.html")]
struct ResultPage {
    chrome: Chrome,
    case_id: String,
    assessed_at: String,
    catalogue_version: String,
    catalogue_sha256: String,
    evaluations: Vec<EvaluationView>,
    non_punishment: bool,
    non_punishment_grounds: Vec<String>,
    non_punishment_anchors: Vec<String>,
    referral_message: String,
    forced_labour: Vec<String>,
    notes: Vec<String>,
    selection_notes: Vec<String>,
    acts: Vec<String>,
}

fn list_name(list: tandem_protect::ListId) -> &'static str {
    match list {
        tandem_protect::ListId::AL => "adults, labour exploitation",
        tandem_protect::ListId::AS => "adults, sexual exploitation",
        tandem_protect::ListId::CL => "children, labour exploitation",
        tandem_protect::ListId::CS => "children, sexual exploitation",
    }
}

fn indicator_label(catalogue: &tandem_protect::Catalogue, code: &str) -> String {
    catalogue
        .indicator(code)
        .map(|i| i.label.clone())
        .unwrap_or_default()
}

async fn result_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path((id, assessment)): Path<(String, i64)>,
) -> ApiResult<Response> {
    let file = protection::read_case(&state, &principal, &remote, &id, "view result").await?;
    let record = file
        .assessments
        .iter()
        .find(|a| a.id == assessment)
        .ok_or_else(|| ApiError::not_found(format!("no assessment {assessment} on case {id}")))?;
    let stored = StoredAssessment::of(record)?;
    let a = &stored.assessment;
    // The labels of the catalogue the assessment used (its hash is stored with it).
    let catalogue = match protection::catalogue_by_sha256(&state, &record.catalogue_sha256).await? {
        Some(used) => used,
        None => tandem_protect::Catalogue::builtin().clone(),
    };
    let catalogue = &catalogue;
    let evaluations = a
        .evaluations
        .iter()
        .map(|e| EvaluationView {
            list: e.list.as_str().to_string(),
            list_name: list_name(e.list).to_string(),
            rule_met: e.rule_met,
            summary: e.summary.clone(),
            dimensions: e
                .dimensions
                .iter()
                .map(|(dim, result)| DimensionView {
                    id: dim.as_str().to_string(),
                    name: catalogue
                        .dimension(*dim)
                        .map(|d| d.name.clone())
                        .unwrap_or_default(),
                    status: match result.status {
                        tandem_protect::identify::DimensionStatus::Positive => "positive",
                        tandem_protect::identify::DimensionStatus::NotPositive => "not positive",
                        tandem_protect::identify::DimensionStatus::NotPositiveUnknownsRemain => {
                            "not positive, unknowns remain"
                        }
                    }
                    .to_string(),
                    positive: result.positive,
                    counts: format!(
                        "strong {}, medium {}, weak {}",
                        result.counts.strong, result.counts.medium, result.counts.weak
                    ),
                    present: result
                        .present
                        .iter()
                        .map(|code| IndicatorView {
                            code: code.clone(),
                            label: indicator_label(catalogue, code),
                        })
                        .collect(),
                })
                .collect(),
            follow_up: e
                .follow_up
                .iter()
                .map(|f| FollowUpView {
                    dimension: format!("{} {}", f.dimension.as_str(), f.dimension_name),
                    topics: f.topics.clone(),
                })
                .collect(),
            uncertain: e.uncertain_tiers.clone(),
        })
        .collect();
    let page = ResultPage {
        chrome: Chrome::new(Some(&principal), "cases"),
        case_id: id.clone(),
        assessed_at: record.at.replace('T', " "),
        catalogue_version: record.catalogue_version.clone(),
        catalogue_sha256: record.catalogue_sha256.clone(),
        evaluations,
        non_punishment: a.non_punishment.flagged,
        non_punishment_grounds: a
            .non_punishment
            .grounds
            .iter()
            .map(|g| humanise(&format!("{g:?}")))
            .collect(),
        non_punishment_anchors: a.non_punishment.anchors.clone(),
        referral_message: a.referral.message.clone(),
        forced_labour: a
            .forced_labour
            .iter()
            .map(|f| format!("{} {}", f.code, f.label))
            .collect(),
        notes: a.notes.clone(),
        selection_notes: a.selection.notes.clone(),
        acts: a
            .act_occurred
            .iter()
            .map(|x| humanise(&format!("{x:?}")))
            .collect(),
    };
    Ok(render_status(StatusCode::OK, &page))
}

// ----- the case list and the case page ------------------------------------------------------

struct CaseRow {
    id: String,
    state: String,
    created_at: String,
    updated_at: String,
    retention_until: String,
    due: bool,
}

#[derive(Template)]
#[template(path = "protection/cases.html")]
struct CasesPage {
    chrome: Chrome,
    cases: Vec<CaseRow>,
    due: usize,
    erased: Option<usize>,
}

fn day(iso: &str) -> String {
    iso.get(..10).unwrap_or(iso).to_string()
}

#[derive(Deserialize)]
struct CasesQuery {
    erased: Option<usize>,
}

async fn cases_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Query(query): Query<CasesQuery>,
) -> ApiResult<Response> {
    let now = tandem_core::time::now_iso();
    let cases: Vec<CaseRow> = protection::list_for(&state, &principal, &remote)
        .await?
        .into_iter()
        .map(|c| CaseRow {
            due: c.retention_until < now,
            id: c.id,
            state: humanise(&c.state),
            created_at: day(&c.created_at),
            updated_at: day(&c.updated_at),
            retention_until: day(&c.retention_until),
        })
        .collect();
    let due = cases.iter().filter(|c| c.due).count();
    Ok(render_status(
        StatusCode::OK,
        &CasesPage {
            chrome: Chrome::new(Some(&principal), "cases"),
            cases,
            due,
            erased: query.erased,
        },
    ))
}

async fn retention_erase(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
) -> ApiResult<Response> {
    let erased = protection::sweep_retention(&state, &principal, &remote).await?;
    Ok(Redirect::to(&format!("/cases?erased={}", erased.len())).into_response())
}

struct ActionView {
    value: String,
    label: String,
}

struct ConsentView {
    scope: String,
    label: String,
    status: String,
    at: String,
}

struct EventView {
    at: String,
    kind: String,
    text: String,
}

struct AssessmentView {
    id: i64,
    at: String,
    catalogue_version: String,
    summary: String,
}

struct TestimonyView {
    at: String,
    actors: usize,
    promoted: usize,
    candidates: Vec<String>,
    note: String,
}

struct SelectOption {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "protection/case.html")]
struct CasePage {
    chrome: Chrome,
    csrf: String,
    id: String,
    state: String,
    htcds_status: String,
    created_at: String,
    updated_at: String,
    retention_until: String,
    label: String,
    contact: String,
    notes: String,
    age: String,
    citizenship: String,
    country_of_exploitation: String,
    genders: Vec<SelectOption>,
    actions: Vec<ActionView>,
    consents: Vec<ConsentView>,
    scopes: Vec<SelectOption>,
    referrals: crate::referrals::CasePanel,
    events: Vec<EventView>,
    assessments: Vec<AssessmentView>,
    testimonies: Vec<TestimonyView>,
    non_punishment: bool,
    interpreter: String,
    error: Option<String>,
    notice: Option<String>,
}

fn action_label(action: CaseAction) -> &'static str {
    match action {
        CaseAction::Open => "Open the case",
        CaseAction::StartAssessment => "Start the needs assessment",
        CaseAction::AgreePlan => "Support plan agreed",
        CaseAction::StartServices => "Services under way",
        CaseAction::Close => "Close the case",
        CaseAction::CloseTransferred => "Close: transferred to another organisation",
        CaseAction::Reopen => "Reopen",
    }
}

fn scope_label(scope: ConsentScope) -> &'static str {
    match scope {
        ConsentScope::Interview => "Interview",
        ConsentScope::Storage => "Storing what was said",
        ConsentScope::Referral => "Referral to services",
        ConsentScope::Sharing => "Sharing with other organisations (transfer)",
        ConsentScope::Research => "Research use of anonymised data",
        ConsentScope::Intelligence => "Use of the coded testimony as intelligence",
    }
}

const GENDERS: [HtcdsGender; 6] = [
    HtcdsGender::Feminine,
    HtcdsGender::Masculine,
    HtcdsGender::TransgenderFeminine,
    HtcdsGender::TransgenderMasculine,
    HtcdsGender::NonConforming,
    HtcdsGender::NonSpecifiedUnknown,
];

fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn event_text(kind: &str, detail: &Value) -> String {
    let text = |key: &str| detail.get(key).and_then(Value::as_str).unwrap_or("");
    match kind {
        "state" if detail.get("from").is_some() => format!(
            "State: {} → {}",
            humanise(text("from")),
            humanise(text("to"))
        ),
        "state" => format!("Registered as {}", humanise(text("to"))),
        // A step of a referral or transfer (see referrals.rs): which one, and its new state.
        "referral" | "transfer" if detail.get("action").is_some() => format!(
            "{} #{}: {}",
            humanise(kind),
            detail.get("referral").and_then(Value::as_i64).unwrap_or(0),
            text("state")
        ),
        "transfer" => format!("Transfer offered to {} ({})", text("to"), text("state")),
        "referral" => {
            let provider = text("provider");
            let to = text("to");
            format!(
                "Referral to {}{}{} ({})",
                text("service_type"),
                if to.is_empty() {
                    String::new()
                } else {
                    format!(" at {to}")
                },
                if provider.is_empty() {
                    String::new()
                } else {
                    format!(", {provider}")
                },
                text("state")
            )
        }
        "service" => format!("Service: {}", text("service")),
        "retention" => format!("Retention deadline set to {}", day(text("until"))),
        other => humanise(other),
    }
}

fn case_view(
    principal: &Principal,
    file: &CaseFile,
    referrals: crate::referrals::CasePanel,
    error: Option<String>,
    notice: Option<String>,
) -> ApiResult<CasePage> {
    let meta = &file.case.meta;
    let details = CaseDetails::of(&file.case)?;
    let state = protection::state_of(meta)?;
    let consents = ConsentScope::ALL
        .into_iter()
        .map(|scope| {
            let latest = file.consent(scope.as_str());
            ConsentView {
                scope: scope.as_str().to_string(),
                label: scope_label(scope).to_string(),
                status: match latest {
                    Some(c) if c.given => "given".to_string(),
                    Some(_) => "refused or withdrawn".to_string(),
                    None => "not asked".to_string(),
                },
                at: latest.map(|c| day(&c.at)).unwrap_or_default(),
            }
        })
        .collect();
    let assessments = file
        .assessments
        .iter()
        .map(|a| AssessmentView {
            id: a.id,
            at: a.at.replace('T', " "),
            catalogue_version: a.catalogue_version.clone(),
            summary: StoredAssessment::of(a)
                .map(|s| {
                    s.assessment
                        .evaluations
                        .iter()
                        .map(|e| format!("{}: {}", e.list.as_str(), e.summary))
                        .collect::<Vec<_>>()
                        .join(" · ")
                })
                .unwrap_or_default(),
        })
        .collect();
    let testimonies = file
        .testimonies
        .iter()
        .filter_map(|t| StoredTestimony::of(t).ok().map(|s| (t, s)))
        .map(|(t, s)| TestimonyView {
            at: day(&t.at),
            actors: s.testimony.coding.actors.len(),
            promoted: s.intelligence.as_ref().map_or(0, |i| i.entity_ids.len()),
            candidates: s
                .screening
                .iter()
                .flat_map(|(index, candidates)| {
                    candidates.iter().map(move |c| {
                        format!(
                            "actor {}: {} ({}, score {:.2})",
                            index + 1,
                            c.caption,
                            c.datasets.join(", "),
                            c.score
                        )
                    })
                })
                .collect(),
            note: match (&s.intelligence, &s.screening_note) {
                (None, _) => "Not used as intelligence: no consent recorded.".to_string(),
                (_, Some(note)) => note.clone(),
                _ => String::new(),
            },
        })
        .collect();
    let interpreter = details
        .interview
        .as_ref()
        .map(|i| match (&i.interpreter_used, &i.interpreter_language) {
            (true, Some(language)) => format!("Interpreter ({language})"),
            (true, None) => "Interpreter".to_string(),
            (false, _) => "No interpreter".to_string(),
        })
        .unwrap_or_default();
    Ok(CasePage {
        chrome: Chrome::new(Some(principal), "cases"),
        csrf: principal.csrf_token().unwrap_or_default().to_string(),
        id: meta.id.clone(),
        state: humanise(&meta.state),
        htcds_status: state.htcds_status().unwrap_or("—").to_string(),
        created_at: day(&meta.created_at),
        updated_at: meta.updated_at.replace('T', " "),
        retention_until: day(&meta.retention_until),
        label: details.label.clone().unwrap_or_default(),
        contact: details.contact.clone().unwrap_or_default(),
        notes: details.notes.clone().unwrap_or_default(),
        age: details
            .age_at_registration
            .map(|a| a.to_string())
            .unwrap_or_default(),
        citizenship: details.citizenship.clone().unwrap_or_default(),
        country_of_exploitation: details.country_of_exploitation.clone().unwrap_or_default(),
        genders: GENDERS
            .iter()
            .map(|g| SelectOption {
                value: serde_name(g),
                label: humanise(&serde_name(g)),
                selected: details.gender == Some(*g),
            })
            .collect(),
        actions: allowed_actions(state)
            .into_iter()
            .map(|a| ActionView {
                value: a.as_str().to_string(),
                label: action_label(a).to_string(),
            })
            .collect(),
        consents,
        scopes: ConsentScope::ALL
            .into_iter()
            .map(|s| SelectOption {
                value: s.as_str().to_string(),
                label: scope_label(s).to_string(),
                selected: false,
            })
            .collect(),
        referrals,
        events: file
            .events
            .iter()
            .rev()
            .map(|e| EventView {
                at: e.at.replace('T', " "),
                kind: e.kind.clone(),
                text: event_text(&e.kind, &e.detail),
            })
            .collect(),
        assessments,
        testimonies,
        non_punishment: details.non_punishment.as_ref().is_some_and(|n| n.flagged),
        interpreter,
        error,
        notice,
    })
}

#[derive(Deserialize)]
struct CaseQuery {
    done: Option<String>,
}

fn notice_for(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "transition" => "The case moved on.",
            "consent" => "Consent recorded.",
            "referral" => "Referral sent: it is pending until the organisation accepts it.",
            "transfer" => "Transfer offered: the case moves when the organisation accepts it.",
            "revoke" => "Revoked.",
            "hold" => "Legal hold placed: the case is not erased while it stands.",
            "release" => "Legal hold lifted.",
            "service" => "Service recorded.",
            "details" => "Details saved.",
            "testimony" => "Testimony coded.",
            _ => return None,
        }
        .to_string(),
    )
}

async fn case_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    Query(query): Query<CaseQuery>,
) -> ApiResult<Response> {
    let file = protection::read_case(&state, &principal, &remote, &id, "view case").await?;
    let referrals = crate::referrals::case_panel(&state, &principal, &file).await?;
    let page = case_view(
        &principal,
        &file,
        referrals,
        None,
        notice_for(query.done.as_deref()),
    )?;
    Ok(render_status(StatusCode::OK, &page))
}

/// After a form on the case page: back to it with a notice, or the page again with the error
/// (access refusals and missing cases stay errors of their own).
pub(crate) async fn after_form(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    outcome: ApiResult<()>,
    done: &str,
) -> ApiResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done={done}")).into_response()),
        Err(err) if matches!(err.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) => Err(err),
        Err(err) if err.status.is_client_error() => {
            let file = protection::read_case(state, principal, remote, id, "view case").await?;
            let referrals = crate::referrals::case_panel(state, principal, &file).await?;
            let page = case_view(principal, &file, referrals, err.detail.clone(), None)?;
            Ok(render_status(err.status, &page))
        }
        Err(err) => Err(err),
    }
}

fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

async fn transition_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let form = form_map(&body);
    let outcome = match field(&form, "action").map(str::parse::<CaseAction>) {
        Some(Ok(action)) => protection::apply_action(&state, &principal, &remote, &id, action)
            .await
            .map(|_| ()),
        Some(Err(err)) => Err(ApiError::bad_request("action", err)),
        None => Err(ApiError::bad_request("action", "choose an action")),
    };
    after_form(&state, &principal, &remote, &id, outcome, "transition").await
}

async fn consent_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let form = form_map(&body);
    let input = ConsentInput {
        scope: field(&form, "scope").unwrap_or_default().to_string(),
        given: field(&form, "given") == Some("yes"),
        explained_by: None,
        interpreter: field(&form, "interpreter").map(str::to_string),
        language: field(&form, "language").map(str::to_string),
        lawful_basis: field(&form, "lawful_basis").map(str::to_string),
    };
    let outcome = protection::record_consent(&state, &principal, &remote, &id, input).await;
    after_form(&state, &principal, &remote, &id, outcome, "consent").await
}

async fn service_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let form = form_map(&body);
    let input = ServiceInput {
        service: field(&form, "service").unwrap_or_default().to_string(),
        note: field(&form, "note").map(str::to_string),
    };
    let outcome = protection::add_service(&state, &principal, &remote, &id, input).await;
    after_form(&state, &principal, &remote, &id, outcome, "service").await
}

async fn details_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let form = form_map(&body);
    let parsed: ApiResult<DetailsInput> = (|| {
        Ok(DetailsInput {
            label: field(&form, "label").map(str::to_string),
            gender: field(&form, "gender")
                .map(|g| {
                    serde_json::from_value(Value::String(g.to_string())).map_err(|_| {
                        ApiError::bad_request("gender", format!("unknown gender {g:?}"))
                    })
                })
                .transpose()?,
            age_at_registration: field(&form, "age_at_registration")
                .map(|a| {
                    a.parse().map_err(|_| {
                        ApiError::bad_request(
                            "age_at_registration",
                            "give the age as a whole number",
                        )
                    })
                })
                .transpose()?,
            citizenship: field(&form, "citizenship").map(str::to_string),
            country_of_exploitation: field(&form, "country_of_exploitation").map(str::to_string),
            contact: field(&form, "contact").map(str::to_string),
            notes: field(&form, "notes").map(str::to_string),
            retention_until: field(&form, "retention_until").map(str::to_string),
        })
    })();
    let outcome = match parsed {
        Ok(input) => protection::update_details(&state, &principal, &remote, &id, input)
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    after_form(&state, &principal, &remote, &id, outcome, "details").await
}

// ----- testimony coding -----------------------------------------------------------------------

struct ChoiceGroup {
    name: String,
    label: String,
    options: Vec<SelectOption>,
}

fn group<T: serde::Serialize>(name: &str, label: &str, values: &[T]) -> ChoiceGroup {
    ChoiceGroup {
        name: name.to_string(),
        label: label.to_string(),
        options: values
            .iter()
            .map(|v| {
                let value = serde_name(v);
                SelectOption {
                    label: humanise(&value),
                    value,
                    selected: false,
                }
            })
            .collect(),
    }
}

/// Mentioned actors the form offers room for.
const ACTOR_SLOTS: usize = 3;

#[derive(Template)]
#[template(path = "protection/testimony.html")]
struct TestimonyPage {
    chrome: Chrome,
    csrf: String,
    id: String,
    intelligence_consent: bool,
    singles: Vec<ChoiceGroup>,
    multiples: Vec<ChoiceGroup>,
    roles: Vec<SelectOption>,
    stages: Vec<SelectOption>,
    slots: Vec<usize>,
    error: Option<String>,
}

fn testimony_view(principal: &Principal, file: &CaseFile, error: Option<String>) -> TestimonyPage {
    let singles = vec![
        group("source_type", "Who gave the testimony", &SourceType::ALL),
        group(
            "recruiter_relation",
            "Who recruited them (relation)",
            &RecruiterRelation::ALL,
        ),
        group("fee", "Fee paid for the journey or job", &FeeBand::ALL),
        group("onset_phase", "When coercion began", &OnsetPhase::ALL),
        group("exit", "How it ended", &ExitRoute::ALL),
    ];
    let multiples = vec![
        group("promises", "Promises made", &Promise::ALL),
        group("payers", "Who paid", &Payer::ALL),
        group("guarantees", "Guarantees given for a debt", &Guarantee::ALL),
        group("risks", "Risks the person accepted", &AcceptedRisk::ALL),
        group("risk_reasons", "Why they accepted them", &RiskReason::ALL),
        group(
            "means_of_control",
            "Means of control (what kept the person compliant)",
            &MeansOfControl::ALL,
        ),
        group("exploitation", "Exploitation", &ExploitationKind::ALL),
        group(
            "forced_criminality",
            "Offences the person was made to commit",
            &ForcedCriminalityKind::ALL,
        ),
        group(
            "preventive_support",
            "What support would have helped",
            &PreventiveSupport::ALL,
        ),
    ];
    let roles = [
        PerpetratorRole::RecruiterOrIntermediary,
        PerpetratorRole::Transporter,
        PerpetratorRole::BrokerTravelAgent,
        PerpetratorRole::Smuggler,
        PerpetratorRole::Exploiter,
        PerpetratorRole::Abuser,
        PerpetratorRole::Kidnapper,
        PerpetratorRole::TravellingPartner,
        PerpetratorRole::Other,
    ]
    .iter()
    .map(|r| SelectOption {
        value: serde_name(r),
        label: humanise(&serde_name(r)),
        selected: false,
    })
    .collect();
    let stages = [
        EventStage::Recruitment,
        EventStage::Transit,
        EventStage::Destination,
    ]
    .iter()
    .map(|s| SelectOption {
        value: serde_name(s),
        label: humanise(&serde_name(s)),
        selected: false,
    })
    .collect();
    TestimonyPage {
        chrome: Chrome::new(Some(principal), "cases"),
        csrf: principal.csrf_token().unwrap_or_default().to_string(),
        id: file.case.meta.id.clone(),
        intelligence_consent: file.has_consent(ConsentScope::Intelligence.as_str()),
        singles,
        multiples,
        roles,
        stages,
        slots: (0..ACTOR_SLOTS).collect(),
        error,
    }
}

async fn testimony_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let file = protection::read_case(&state, &principal, &remote, &id, "code testimony").await?;
    Ok(render_status(
        StatusCode::OK,
        &testimony_view(&principal, &file, None),
    ))
}

fn list(form: &BTreeMap<String, String>, name: &str, separator: char) -> Vec<Value> {
    field(form, name)
        .map(|v| {
            v.split(separator)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn text(form: &BTreeMap<String, String>, name: &str) -> Value {
    field(form, name).map_or(Value::Null, |v| Value::String(v.to_string()))
}

/// A quarter typed as `2024-Q3`, or nothing.
fn quarter(form: &BTreeMap<String, String>, name: &str) -> ApiResult<Value> {
    let Some(raw) = field(form, name) else {
        return Ok(Value::Null);
    };
    let parsed = raw
        .split_once("-Q")
        .and_then(|(y, q)| Some((y.parse::<u16>().ok()?, q.parse::<u8>().ok()?)))
        .filter(|(_, q)| (1..=4).contains(q));
    match parsed {
        Some((year, quarter)) => Ok(json!({"year": year, "quarter": quarter})),
        None => Err(ApiError::bad_request(
            name,
            format!("{raw:?} is not a quarter; write e.g. 2024-Q3"),
        )),
    }
}

/// The testimony form as the JSON of [`TestimonyInput`], so that serde checks every coded value
/// and names the field at fault.
fn testimony_json(form: &BTreeMap<String, String>) -> ApiResult<Value> {
    let mut events = Vec::new();
    for (stage, prefix) in [
        ("recruitment", "recruitment"),
        ("destination", "destination"),
    ] {
        if let Some(country) = field(form, &format!("{prefix}_country")) {
            events.push(json!({"stage": stage, "country": country.to_uppercase(),
                "quarter": quarter(form, &format!("{prefix}_quarter"))?}));
        }
    }
    let mut actors = Vec::new();
    for slot in 0..ACTOR_SLOTS {
        let key = |name: &str| format!("actor{slot}_{name}");
        let aliases = list(form, &key("aliases"), ',');
        let phones = list(form, &key("phones"), ',');
        if aliases.is_empty() && phones.is_empty() {
            continue;
        }
        let places: Vec<Value> = list(form, &key("places"), ';')
            .iter()
            .filter_map(Value::as_str)
            .map(|place| match place.rsplit_once(',') {
                Some((town, country)) => {
                    json!({"town": town.trim(), "country": country.trim().to_uppercase()})
                }
                None => json!({"town": "", "country": place.trim().to_uppercase()}),
            })
            .collect();
        let handles: Vec<Value> = list(form, &key("handles"), ',')
            .iter()
            .filter_map(Value::as_str)
            .map(|h| match h.split_once(':') {
                Some((platform, handle)) => json!({"platform": platform, "handle": handle}),
                None => json!({"platform": "", "handle": h}),
            })
            .collect();
        actors.push(json!({
            "role": field(form, &key("role")).unwrap_or("Other"),
            "aliases": aliases,
            "phones": phones,
            "handles": handles,
            "places": places,
            "stage": text(form, &key("stage")),
        }));
    }
    let onset = field(form, "onset_phase").map(|phase| {
        json!({"phase": phase, "first_code": text(form, "onset_first_code"),
            "began_as_smuggling": field(form, "began_as_smuggling") == Some("yes")})
    });
    let mut coding = Map::new();
    coding.insert("source_type".into(), text(form, "source_type"));
    coding.insert("events".into(), Value::Array(events));
    coding.insert(
        "recruiter_relation".into(),
        text(form, "recruiter_relation"),
    );
    coding.insert(
        "recruitment_channel".into(),
        text(form, "recruitment_channel"),
    );
    coding.insert("promises".into(), Value::Array(list(form, "promises", ',')));
    coding.insert(
        "fees_debt".into(),
        json!({"fee": text(form, "fee"), "payers": list(form, "payers", ','),
            "debt_incurred": field(form, "debt_incurred") == Some("yes"),
            "debt_grew_en_route": field(form, "debt_grew_en_route") == Some("yes"),
            "guarantees": list(form, "guarantees", ',')}),
    );
    coding.insert(
        "acceptable_risks".into(),
        json!({"risks": list(form, "risks", ','), "reasons": list(form, "risk_reasons", ',')}),
    );
    coding.insert("coercion_onset".into(), onset.unwrap_or(Value::Null));
    coding.insert(
        "means_of_control".into(),
        Value::Array(list(form, "means_of_control", ',')),
    );
    coding.insert(
        "exploitation".into(),
        json!({"kinds": list(form, "exploitation", ','),
            "forced_criminality": list(form, "forced_criminality", ',')}),
    );
    coding.insert("actors".into(), Value::Array(actors));
    coding.insert(
        "preventive_support".into(),
        Value::Array(list(form, "preventive_support", ',')),
    );
    coding.insert("exit".into(), text(form, "exit"));
    Ok(json!({
        "coding": coding,
        "speaker_name": text(form, "speaker_name"),
        "account": text(form, "account"),
    }))
}

async fn testimony_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let form = form_map(&body);
    let input: ApiResult<TestimonyInput> = testimony_json(&form).and_then(|value| {
        serde_json::from_value(value)
            .map_err(|err| ApiError::bad_request("coding", format!("the testimony coding: {err}")))
    });
    let outcome = match input {
        Ok(input) => protection::code_testimony(&state, &principal, &remote, &id, input)
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=testimony")).into_response()),
        Err(err) if err.status == StatusCode::BAD_REQUEST => {
            let file =
                protection::read_case(&state, &principal, &remote, &id, "code testimony").await?;
            Ok(render_status(
                StatusCode::BAD_REQUEST,
                &testimony_view(&principal, &file, err.detail.clone()),
            ))
        }
        Err(err) => Err(err),
    }
}

// ----- erasure --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "protection/erase.html")]
struct ErasePage {
    chrome: Chrome,
    csrf: String,
    id: String,
    error: Option<String>,
}

async fn erase_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    protection::authorise_case(&state, &principal, &remote, &id).await?;
    Ok(render_status(
        StatusCode::OK,
        &ErasePage {
            chrome: Chrome::new(Some(&principal), "cases"),
            csrf: principal.csrf_token().unwrap_or_default().to_string(),
            id,
            error: None,
        },
    ))
}

async fn erase_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let form = form_map(&body);
    let refuse = |message: &str| {
        render_status(
            StatusCode::BAD_REQUEST,
            &ErasePage {
                chrome: Chrome::new(Some(&principal), "cases"),
                csrf: principal.csrf_token().unwrap_or_default().to_string(),
                id: id.clone(),
                error: Some(message.to_string()),
            },
        )
    };
    // The confirmation is typing the case id: a slip of the finger cannot erase a case.
    if field(&form, "confirm") != Some(id.as_str()) {
        protection::authorise_case(&state, &principal, &remote, &id).await?;
        return Ok(refuse("Type the case id exactly to confirm the erasure."));
    }
    let reason = field(&form, "reason").unwrap_or_default().to_string();
    match protection::erase(&state, &principal, &remote, &id, &reason).await {
        Ok(()) => Ok(Redirect::to("/cases?erased=1").into_response()),
        Err(err) if err.status == StatusCode::BAD_REQUEST => {
            Ok(refuse(&err.detail.unwrap_or_default()))
        }
        Err(err) => Err(err),
    }
}

// ----- aggregates -----------------------------------------------------------------------------

struct AttributeView {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "protection/aggregates.html")]
struct AggregatesPage {
    chrome: Chrome,
    attributes: Vec<AttributeView>,
    columns: Vec<String>,
    rows: Vec<(Vec<String>, usize)>,
    total: usize,
    k: usize,
    l: usize,
    may_export: bool,
}

async fn aggregates_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    body: axum::extract::RawQuery,
) -> ApiResult<Response> {
    // `by` may be given once per ticked box.
    let query = form_map(body.0.unwrap_or_default().as_bytes());
    let by = protection::parse_group_by(query.get("by").map(String::as_str))?;
    let table = protection::aggregates(&state, &principal, &remote, &by).await?;
    let rules = ReleaseRules::default();
    let may_export = crate::authz::grant(
        principal.user.role,
        crate::authz::Permission::new(
            crate::authz::Resource::Aggregates,
            crate::authz::Action::Export,
        ),
    )
    .is_some();
    Ok(render_status(
        StatusCode::OK,
        &AggregatesPage {
            chrome: Chrome::new(Some(&principal), "aggregates"),
            attributes: QuasiIdentifier::ALL
                .into_iter()
                .map(|q| AttributeView {
                    value: q.as_str().to_string(),
                    label: humanise(q.as_str()),
                    checked: by.contains(&q),
                })
                .collect(),
            columns: table.columns.iter().map(|c| humanise(c.as_str())).collect(),
            rows: table
                .rows
                .iter()
                .map(|r| (r.values.clone(), r.count))
                .collect(),
            total: table.total,
            k: rules.k,
            l: rules.l,
            may_export,
        },
    ))
}

async fn export_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Query(query): Query<protection::ExportQuery>,
) -> ApiResult<Response> {
    let format = protection::parse_format(query.format.as_deref())?;
    protection::export(&state, &principal, &remote, format).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticked_boxes_join_and_words_read() {
        let form = form_map(b"a=1&b=x&b=y&c=&b=");
        assert_eq!(form["a"], "1");
        assert_eq!(form["b"], "x,y");
        assert_eq!(form["c"], "");
        assert_eq!(humanise("ThreatsLawEnforcement"), "Threats law enforcement");
        assert_eq!(humanise("case_plan"), "Case plan");
    }

    #[test]
    fn the_testimony_form_codes_actors_and_names_bad_quarters() {
        let form = form_map(
            b"source_type=survivor&promises=pay&promises=housing&actor0_aliases=Mama+Rosa%2C+Rosa&actor0_phones=%2B234+803+123+4567&actor0_role=RecruiterOrIntermediary&actor0_places=Benin+City%2C+ng&destination_country=ly&destination_quarter=2024-Q3&means_of_control=DebtBondage",
        );
        let value = testimony_json(&form).expect("coded");
        let input: TestimonyInput = serde_json::from_value(value).expect("valid coding");
        assert_eq!(input.coding.actors.len(), 1);
        assert_eq!(input.coding.actors[0].aliases, ["Mama Rosa", "Rosa"]);
        assert_eq!(input.coding.actors[0].places[0].country, "NG");
        assert_eq!(input.coding.events[0].country, "LY");
        assert_eq!(input.coding.promises.len(), 2);
        let bad = form_map(b"source_type=survivor&destination_country=LY&destination_quarter=Q9");
        let err = testimony_json(&bad).expect_err("a bad quarter");
        assert_eq!(err.field.as_deref(), Some("destination_quarter"));
    }
}
