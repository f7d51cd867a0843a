//! Screening for people and Tandem's own API around it: the `/screening` page (one subject with
//! optional details, results with their explanations, decisions), decisions over JSON, and batch
//! screening of a CSV file as a job with progress and downloadable results.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tandem_core::Entity;
use tandem_store::screening::{Decision, DecisionKind, NewDecision, NewScreeningQuery};
use tandem_store::security::{AuditOutcome, User, UserRole};
use tandem_store::{Job, JobState, Store};

use crate::app::{Access, AppState, Principal, RemoteAddr, Table};
use crate::authz::{Action, Permission, Resource, Scope, grant};
use crate::error::{ApiError, ApiResult};
use crate::pages::Chrome;
use crate::screening::{self, Options, Screened, Service, Snapshot};

const READ_SCREENING: Access = Access::Needs(Permission::new(Resource::Screening, Action::Read));
const WRITE_SCREENING: Access = Access::Needs(Permission::new(Resource::Screening, Action::Write));

pub const BATCH_JOB: &str = "screening.batch";
/// Most rows of one batch file.
const MAX_ROWS: usize = 100_000;
/// Rows screened per step of a batch job (one progress update and one write each).
const BATCH_STEP: u32 = 500;
/// Results kept per batch row.
const BATCH_LIMIT: usize = 5;
const MAX_REASON: usize = 1000;

pub(crate) fn routes(table: Table) -> Table {
    table
        .page(Method::GET, "/screening", READ_SCREENING, screening_page)
        .page(
            Method::POST,
            "/screening/decision",
            WRITE_SCREENING,
            decide_form,
        )
        .page(
            Method::POST,
            "/screening/batch",
            WRITE_SCREENING,
            batch_upload,
        )
        .page(
            Method::GET,
            "/screening/batch/{job}",
            READ_SCREENING,
            batch_page,
        )
        .page(
            Method::GET,
            "/screening/batch/{job}/results.csv",
            READ_SCREENING,
            batch_csv,
        )
        .api(
            Method::POST,
            "/api/v1/screening/decisions",
            WRITE_SCREENING,
            decide_api,
        )
        .api(
            Method::GET,
            "/api/v1/screening/decisions",
            READ_SCREENING,
            decisions_api,
        )
        .api(
            Method::POST,
            "/api/v1/screening/batch",
            WRITE_SCREENING,
            batch_api,
        )
        .api(
            Method::GET,
            "/api/v1/screening/batch/{job}",
            READ_SCREENING,
            batch_status_api,
        )
}

fn render(template: &impl Template) -> ApiResult<Response> {
    template
        .render()
        .map(|html| Html(html).into_response())
        .map_err(ApiError::internal)
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

// ----- the subject of the form ---------------------------------------------------------------

/// One subject as the page, the decision form and CSV rows give it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct SubjectForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub schema: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub id_number: String,
}

pub const SCHEMATA: &[&str] = &["Person", "Organization", "Company", "LegalEntity", "Vessel"];

impl SubjectForm {
    fn schema(&self) -> &str {
        match self.schema.trim() {
            // Only people have birth dates: a subject given one is a person.
            "" if !self.birth_date.trim().is_empty() => "Person",
            "" => "LegalEntity",
            s => s,
        }
    }

    /// The example entity; `field` prefixes fields at fault (empty for the page's own fields).
    pub fn entity(&self, prefix: &str) -> Result<Entity, screening::QueryError> {
        let schema = self.schema();
        let model = tandem_core::Model::get();
        let known = model.schema(schema);
        let has = |p: &str| known.is_some_and(|s| s.property(p).is_some());
        let mut properties: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut put = |p: &str, v: &str| {
            if !v.trim().is_empty() {
                properties
                    .entry(p.to_string())
                    .or_default()
                    .push(v.trim().to_string());
            }
        };
        put("name", &self.name);
        put("birthDate", &self.birth_date);
        let country_property = if has("nationality") {
            "nationality"
        } else {
            "country"
        };
        put(country_property, &self.country);
        let id_property = ["imoNumber", "idNumber", "registrationNumber"]
            .into_iter()
            .find(|p| has(p))
            .unwrap_or("idNumber");
        put(id_property, &self.id_number);
        let entity = screening::example_entity(prefix, None, schema, &properties);
        // The page's fields are named after the form, not after FtM properties.
        entity.map_err(|mut err| {
            let rename = |f: &str| -> String {
                let short = f.rsplit('.').next().unwrap_or(f);
                match short {
                    "birthDate" => "birth_date".into(),
                    "nationality" | "country" => "country".into(),
                    "imoNumber" | "idNumber" | "registrationNumber" => "id_number".into(),
                    other => other.into(),
                }
            };
            let renamed = rename(&err.field);
            err.field = if prefix.is_empty() {
                renamed
            } else {
                format!("{prefix}.{renamed}")
            };
            err
        })
    }
}

fn remember(service: &Service, user: &User, entities: &[&Entity]) {
    let now = tandem_core::time::now_iso();
    service.remember(
        entities
            .iter()
            .map(|e| NewScreeningQuery {
                query_key: screening::query_key(e),
                organisation_id: user.organisation_id,
                schema: e.schema.clone(),
                query: json!({"schema": e.schema, "properties": e.properties}),
                user_id: Some(user.id),
                username: user.username.clone(),
                at: now.clone(),
            })
            .collect(),
    );
}

// ----- the page ------------------------------------------------------------------------------

pub struct AlignmentRow {
    pub query: String,
    pub candidate: String,
    pub how: String,
    pub similarity: String,
    pub weight: String,
}

pub struct FeatureRow {
    pub name: String,
    pub score: String,
    pub detail: String,
    pub query: String,
    pub candidate: String,
    pub alignment: Vec<AlignmentRow>,
}

pub struct ResultRow {
    pub n: usize,
    pub id: String,
    pub caption: String,
    pub schema: String,
    pub datasets: String,
    pub score: String,
    pub is_match: bool,
    pub features: Vec<FeatureRow>,
    pub decision: Option<DecisionView>,
}

#[derive(Clone)]
pub struct DecisionView {
    pub kind: &'static str,
    pub label: &'static str,
    pub reason: String,
    pub by: String,
    pub at: String,
    pub reopened: bool,
}

fn decision_view(decision: &Decision, reopened: bool) -> DecisionView {
    let d = &decision.decision;
    DecisionView {
        kind: d.decision.as_str(),
        label: match (d.decision, reopened) {
            (DecisionKind::FalsePositive, false) => "dismissed",
            (DecisionKind::FalsePositive, true) => "re-opened",
            (DecisionKind::TrueMatch, _) => "confirmed match",
        },
        reason: d.reason.clone(),
        by: d.username.clone(),
        at: decision.decided_at.replace('T', " "),
        reopened,
    }
}

fn how_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn result_row(snapshot: &Snapshot, n: usize, screened: &Screened) -> Option<ResultRow> {
    let (entity, meta) = snapshot.entity(&screened.hit.entity_id)?;
    let score = &screened.hit.score;
    let features = score
        .explanations
        .iter()
        .map(|(name, e)| FeatureRow {
            name: name.to_string(),
            score: format!("{:.2}", e.score),
            detail: e.detail.clone(),
            query: e.query.clone(),
            candidate: e.candidate.clone(),
            alignment: e
                .alignment
                .iter()
                .map(|a| AlignmentRow {
                    query: a.query.clone(),
                    candidate: a.candidate.clone(),
                    how: how_text(&serde_json::to_value(a.how).unwrap_or(Value::Null)),
                    similarity: format!("{:.2}", a.similarity),
                    weight: format!("{:.2}", a.weight),
                })
                .collect(),
        })
        .collect();
    Some(ResultRow {
        n,
        id: entity.id.clone(),
        caption: entity.caption().to_string(),
        schema: entity.schema.clone(),
        datasets: meta.datasets.join(", "),
        score: format!("{:.2}", score.score),
        is_match: score.is_match,
        features,
        decision: screened
            .decision
            .as_ref()
            .map(|a| decision_view(&a.decision, a.reopened)),
    })
}

#[derive(Template)]
#[template(path = "screening/index.html")]
struct ScreeningPage {
    chrome: Chrome,
    form: SubjectForm,
    schemata: Vec<&'static str>,
    error: Option<(String, String)>,
    searched: bool,
    building: bool,
    results: Vec<ResultRow>,
    dismissed: Vec<ResultRow>,
    total: usize,
    can_decide: bool,
    max_rows: usize,
}

fn can_decide(principal: &Principal) -> bool {
    grant(
        principal.user.role,
        Permission::new(Resource::Screening, Action::Write),
    )
    .is_some()
}

async fn decisions_of(
    store: &dyn Store,
    user: &User,
    key: &str,
) -> ApiResult<HashMap<String, Decision>> {
    let decisions = store
        .decisions_for(Some(user.organisation_id), &[key.to_string()])
        .await?;
    Ok(screening::latest_decisions(&decisions, key))
}

async fn screening_page(
    State(state): State<AppState>,
    principal: Principal,
    Query(form): Query<SubjectForm>,
) -> ApiResult<Response> {
    let mut page = ScreeningPage {
        chrome: Chrome::new(Some(&principal), "screening"),
        schemata: SCHEMATA.to_vec(),
        error: None,
        searched: false,
        building: false,
        results: Vec::new(),
        dismissed: Vec::new(),
        total: 0,
        can_decide: can_decide(&principal),
        max_rows: MAX_ROWS,
        form,
    };
    if page.form.name.trim().is_empty()
        && page.form.birth_date.is_empty()
        && page.form.id_number.is_empty()
    {
        return render(&page);
    }
    let entity = match page.form.entity("") {
        Ok(entity) => entity,
        Err(err) => {
            page.error = Some((err.field, err.message));
            let mut response = render(&page)?;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    page.searched = true;
    let snapshot = match state.screening.snapshot() {
        Ok(s) => s,
        Err(_) => {
            page.building = true;
            let mut response = render(&page)?;
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return Ok(response);
        }
    };
    let key = screening::query_key(&entity);
    let decisions = decisions_of(state.store.as_ref(), &principal.user, &key).await?;
    remember(&state.screening, &principal.user, &[&entity]);
    let options = Options {
        limit: 10,
        cutoff: 0.5,
        ..Options::default()
    };
    let snap = Arc::clone(&snapshot);
    let outcome = tokio::task::spawn_blocking(move || {
        screening::screen(&snap, &entity, &options, &decisions)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|err| ApiError::bad_request("name", err.to_string()))?;
    page.total = outcome.total;
    page.results = outcome
        .results
        .iter()
        .enumerate()
        .filter_map(|(n, r)| result_row(&snapshot, n, r))
        .collect();
    page.dismissed = outcome
        .dismissed
        .iter()
        .enumerate()
        .filter_map(|(n, r)| result_row(&snapshot, 1000 + n, r))
        .collect();
    render(&page)
}

// ----- decisions -----------------------------------------------------------------------------

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(flatten)]
    subject: SubjectForm,
    entity_id: String,
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    n: usize,
}

/// Checks and stores a decision, and audits it.
async fn decide(
    state: &AppState,
    principal: &Principal,
    remote: Option<String>,
    query: &Entity,
    entity_id: &str,
    decision: &str,
    reason: &str,
) -> ApiResult<Decision> {
    let kind = DecisionKind::parse(decision)
        .ok_or_else(|| ApiError::bad_request("decision", "use false_positive or true_match"))?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(ApiError::bad_request(
            "reason",
            format!("give the reason for the decision (1 to {MAX_REASON} characters)"),
        ));
    }
    // The list entity as it is now: its content is what a dismissal holds on to.
    let held = crate::view::visible_entity(state, &principal.user, entity_id).await?;
    let Some(listed) = crate::view::merged(&held) else {
        return Err(ApiError::not_found(format!("no entity {entity_id}")));
    };
    let query_key = screening::query_key(query);
    let user = &principal.user;
    let stored = state
        .store
        .record_decision(NewDecision {
            query_key: query_key.clone(),
            query: json!({"schema": query.schema, "properties": query.properties}),
            entity_id: listed.id.clone(),
            decision: kind,
            reason: reason.to_string(),
            user_id: Some(user.id),
            username: user.username.clone(),
            organisation_id: Some(user.organisation_id),
            content_hash: screening::content_hash(&listed),
        })
        .await?;
    state
        .audit(
            Some(user),
            "screening.decision",
            Some(listed.id.clone()),
            AuditOutcome::Ok,
            json!({"decision": kind, "query_key": query_key, "reason": reason, "id": stored.id}),
            remote,
        )
        .await?;
    Ok(stored)
}

#[derive(Template)]
#[template(path = "screening/decision.html")]
struct DecisionFragment {
    n: usize,
    decision: DecisionView,
}

async fn decide_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    axum::Form(form): axum::Form<DecisionForm>,
) -> ApiResult<Response> {
    let query = form
        .subject
        .entity("")
        .map_err(screening::QueryError::into_api)?;
    let stored = decide(
        &state,
        &principal,
        remote,
        &query,
        &form.entity_id,
        &form.decision,
        &form.reason,
    )
    .await?;
    if is_htmx(&headers) {
        return render(&DecisionFragment {
            n: form.n,
            decision: decision_view(&stored, false),
        });
    }
    let back = format!(
        "/screening?name={}&schema={}&birth_date={}&country={}&id_number={}",
        crate::app::urlencode(&form.subject.name),
        crate::app::urlencode(&form.subject.schema),
        crate::app::urlencode(&form.subject.birth_date),
        crate::app::urlencode(&form.subject.country),
        crate::app::urlencode(&form.subject.id_number),
    );
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
struct DecisionBody {
    query: Value,
    entity_id: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn decide_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Json(body): Json<DecisionBody>,
) -> ApiResult<Response> {
    let schema = body
        .query
        .get("schema")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("query.schema", "query.schema is missing"))?;
    let mut properties: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(map) = body.query.get("properties").and_then(Value::as_object) {
        for (property, values) in map {
            let values = match values {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => {
                    return Err(ApiError::bad_request(
                        &format!("query.properties.{property}"),
                        "give a string or a list of strings",
                    ));
                }
            };
            properties.insert(property.clone(), values);
        }
    }
    let query = screening::example_entity("query", None, schema, &properties)
        .map_err(screening::QueryError::into_api)?;
    let stored = decide(
        &state,
        &principal,
        remote,
        &query,
        &body.entity_id,
        &body.decision,
        &body.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "decision": stored }))).into_response())
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<u32>,
}

async fn decisions_api(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<LimitQuery>,
) -> ApiResult<Json<Value>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit", "use 1 to 1000"));
    }
    let decisions: Vec<Decision> = state
        .store
        .recent_decisions(limit)
        .await?
        .into_iter()
        .filter(|d| {
            principal.user.role == UserRole::Admin
                || d.decision.organisation_id == Some(principal.user.organisation_id)
        })
        .collect();
    Ok(Json(json!({ "decisions": decisions })))
}

// ----- batch jobs ----------------------------------------------------------------------------

/// Reads a batch file: a header naming at least `name`; `schema`, `birth_date`, `country`,
/// `id_number` optional; other columns are kept and passed through. Every row is checked
/// before anything is stored; the first bad one is named (its line and field).
pub fn read_batch_csv(bytes: &[u8]) -> ApiResult<Vec<Value>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("file", "the file is not UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|err| ApiError::bad_request("file", format!("line 1: {err}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if !headers.iter().any(|h| h == "name") {
        return Err(ApiError::bad_request(
            "file",
            "line 1: the header has no `name` column (columns: name,schema,birth_date,country,id_number)",
        ));
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|err| {
            ApiError::bad_request(&format!("line {line}"), format!("line {line}: {err}"))
        })?;
        if rows.len() >= MAX_ROWS {
            return Err(ApiError::bad_request(
                "file",
                format!("more than {MAX_ROWS} rows: split the file"),
            ));
        }
        let mut input = serde_json::Map::new();
        for (h, v) in headers.iter().zip(record.iter()) {
            input.insert(h.clone(), json!(v));
        }
        let form = subject_of(&input);
        if let Err(err) = form.entity(&format!("line {line}")) {
            return Err(ApiError::bad_request(
                &err.field,
                format!("{}: {}", err.field, err.message),
            ));
        }
        input.insert("_line".into(), json!(line));
        rows.push(Value::Object(input));
    }
    if rows.is_empty() {
        return Err(ApiError::bad_request("file", "the file has no rows"));
    }
    Ok(rows)
}

fn subject_of(input: &serde_json::Map<String, Value>) -> SubjectForm {
    let get = |k: &str| {
        input
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    SubjectForm {
        name: get("name"),
        schema: get("schema"),
        birth_date: get("birth_date"),
        country: get("country"),
        id_number: get("id_number"),
    }
}

async fn start_batch(state: &AppState, principal: &Principal, rows: Vec<Value>) -> ApiResult<Job> {
    let job = state
        .store
        .create_job(
            BATCH_JOB,
            json!({
                "user_id": principal.user.id,
                "organisation_id": principal.user.organisation_id,
                "username": principal.user.username,
                "rows": rows.len(),
                "threshold": 0.7,
                "limit": BATCH_LIMIT,
            }),
        )
        .await?;
    state.store.put_batch_rows(job.id, &rows).await?;
    state
        .store
        .update_job(job.id, 0, Some(rows.len() as u64), None)
        .await?;
    spawn_batch(state.screening.clone(), state.store.clone(), job.id);
    Ok(job)
}

/// Resumes the batch jobs that a stopped server left `interrupted` (`tandem serve` marks them
/// so at start): their rows without a result are screened, the others are kept.
pub async fn resume_batches(
    service: &Arc<Service>,
    store: &Arc<dyn Store>,
) -> Result<usize, tandem_store::StoreError> {
    let mut resumed = 0;
    for job in store.jobs(500).await? {
        if job.kind == BATCH_JOB && job.state == JobState::Interrupted {
            tracing::info!(job = job.id, "resuming batch screening job");
            spawn_batch(Arc::clone(service), Arc::clone(store), job.id);
            resumed += 1;
        }
    }
    Ok(resumed)
}

/// Runs (or resumes) a batch job in the background.
pub fn spawn_batch(service: Arc<Service>, store: Arc<dyn Store>, job_id: i64) {
    tokio::spawn(async move {
        let result = run_batch(&service, store.as_ref(), job_id).await;
        let (state, message) = match result {
            Ok(rows) => (JobState::Done, format!("{rows} rows screened")),
            Err(err) => (JobState::Failed, err.to_string()),
        };
        if let Err(err) = store.finish_job(job_id, state, Some(message)).await {
            tracing::error!(job_id, error = %err, "batch job could not be finished");
        }
    });
}

async fn run_batch(service: &Service, store: &dyn Store, job_id: i64) -> Result<u64, String> {
    let job = store
        .job(job_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no job {job_id}"))?;
    let total = job.params.get("rows").and_then(Value::as_u64).unwrap_or(0);
    let organisation = job
        .params
        .get("organisation_id")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let username = job
        .params
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let user_id = job.params.get("user_id").and_then(Value::as_i64);
    let snapshot = loop {
        match service.snapshot() {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
        }
    };
    let mut done = total.saturating_sub(
        store
            .batch_rows(job_id, 0, u32::MAX, true)
            .await
            .map_err(|e| e.to_string())?
            .len() as u64,
    );
    loop {
        let rows = store
            .batch_rows(job_id, 0, BATCH_STEP, true)
            .await
            .map_err(|e| e.to_string())?;
        if rows.is_empty() {
            break;
        }
        let entities: Vec<(u64, Option<Entity>)> = rows
            .iter()
            .map(|r| {
                let input = r.input.as_object().cloned().unwrap_or_default();
                (r.row_no, subject_of(&input).entity("").ok())
            })
            .collect();
        let keys: Vec<String> = {
            let set: HashSet<String> = entities
                .iter()
                .filter_map(|(_, e)| e.as_ref().map(screening::query_key))
                .collect();
            set.into_iter().collect()
        };
        let decisions = store
            .decisions_for(Some(organisation), &keys)
            .await
            .map_err(|e| e.to_string())?;
        let now = tandem_core::time::now_iso();
        service.remember(
            entities
                .iter()
                .filter_map(|(_, e)| e.as_ref())
                .map(|e| NewScreeningQuery {
                    query_key: screening::query_key(e),
                    organisation_id: organisation,
                    schema: e.schema.clone(),
                    query: json!({"schema": e.schema, "properties": e.properties}),
                    user_id,
                    username: username.clone(),
                    at: now.clone(),
                })
                .collect(),
        );
        let snap = Arc::clone(&snapshot);
        let results: Vec<(u64, Value)> = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            entities
                .par_iter()
                .map(|(row_no, entity)| {
                    let Some(entity) = entity else {
                        return (*row_no, json!({"error": "the row could not be read"}));
                    };
                    let key = screening::query_key(entity);
                    let latest = screening::latest_decisions(&decisions, &key);
                    let options = Options {
                        limit: BATCH_LIMIT,
                        cutoff: 0.5,
                        ..Options::default()
                    };
                    let value = match screening::screen(&snap, entity, &options, &latest) {
                        Ok(outcome) => json!({
                            "total": outcome.total,
                            "results": outcome.results.iter().map(|r| screening::result_json(&snap, r)).collect::<Vec<_>>(),
                            "dismissed": outcome.dismissed.len(),
                        }),
                        Err(err) => json!({"error": err.to_string()}),
                    };
                    (*row_no, value)
                })
                .collect()
        })
        .await
        .map_err(|e| e.to_string())?;
        store
            .set_batch_results(job_id, &results)
            .await
            .map_err(|e| e.to_string())?;
        done += results.len() as u64;
        store
            .update_job(job_id, done, Some(total), Some(json!({"done": done})))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(done)
}

/// The file part of a `multipart/form-data` body (the browser's upload form).
fn multipart_file(headers: &HeaderMap, body: &[u8]) -> ApiResult<Vec<u8>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        return Ok(body.to_vec());
    }
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|_| content_type.starts_with("multipart/form-data"))
        .ok_or_else(|| {
            ApiError::bad_request(
                "file",
                "send the CSV file as multipart/form-data (field `file`) or as text/csv",
            )
        })?;
    let delimiter = format!("--{boundary}");
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut at = 0;
    while let Some(start) = find(body, delimiter.as_bytes(), at) {
        let part_start = start + delimiter.len();
        let Some(headers_end) = find(body, b"\r\n\r\n", part_start) else {
            break;
        };
        let part_headers = String::from_utf8_lossy(&body[part_start..headers_end]);
        let data_start = headers_end + 4;
        let Some(next) = find(body, format!("\r\n{delimiter}").as_bytes(), data_start) else {
            break;
        };
        if part_headers.contains("name=\"file\"") {
            return Ok(body[data_start..next].to_vec());
        }
        at = next + 2;
    }
    Err(ApiError::bad_request(
        "file",
        "choose a CSV file to upload (field `file`)",
    ))
}

async fn batch_api(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let csv = multipart_file(&headers, &body)?;
    let rows = read_batch_csv(&csv)?;
    let job = start_batch(&state, &principal, rows).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "job": job.id,
            "rows": job.params.get("rows"),
            "status_url": format!("/api/v1/screening/batch/{}", job.id),
        })),
    )
        .into_response())
}

async fn batch_upload(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let rows = multipart_file(&headers, &body).and_then(|csv| read_batch_csv(&csv));
    let rows = match rows {
        Ok(rows) => rows,
        Err(err) if is_htmx(&headers) => {
            let mut response = render(&BatchError {
                message: err.detail.clone().unwrap_or_default(),
            })?;
            // htmx swaps only successful responses unless told: the message is the content.
            *response.status_mut() = StatusCode::OK;
            return Ok(response);
        }
        Err(err) => return Err(err),
    };
    let job = start_batch(&state, &principal, rows).await?;
    if is_htmx(&headers) {
        let job = state.store.job(job.id).await?.unwrap_or(job);
        return render(&batch_view(&job));
    }
    Ok(Redirect::to(&format!("/screening/batch/{}", job.id)).into_response())
}

#[derive(Template)]
#[template(path = "screening/batch_error.html")]
struct BatchError {
    message: String,
}

/// A batch job the caller may see: their own, unless their role reads all jobs.
async fn visible_job(state: &AppState, principal: &Principal, id: i64) -> ApiResult<Job> {
    let all = grant(
        principal.user.role,
        Permission::new(Resource::Jobs, Action::Read),
    ) == Some(Scope::All);
    state
        .store
        .job(id)
        .await?
        .filter(|j| j.kind == BATCH_JOB)
        .filter(|j| all || j.params.get("user_id") == Some(&json!(principal.user.id)))
        .ok_or_else(|| ApiError::not_found(format!("no batch job {id}")))
}

#[derive(Deserialize)]
struct PageQuery {
    offset: Option<u64>,
    limit: Option<u32>,
}

async fn batch_status_api(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    let job = visible_job(&state, &principal, id).await?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit", "use 1 to 1000"));
    }
    let rows = state
        .store
        .batch_rows(id, query.offset.unwrap_or(0), limit, false)
        .await?;
    Ok(Json(json!({
        "job": job,
        "results": rows.iter().map(|r| json!({
            "row": r.row_no,
            "input": r.input,
            "result": r.result,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Template)]
#[template(path = "screening/batch.html")]
struct BatchFragment {
    id: i64,
    state: String,
    done: u64,
    total: u64,
    running: bool,
    finished: bool,
    message: String,
}

#[derive(Template)]
#[template(path = "screening/batch_page.html")]
struct BatchPage {
    chrome: Chrome,
    batch: BatchFragment,
}

fn batch_view(job: &Job) -> BatchFragment {
    let state = serde_json::to_value(job.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    BatchFragment {
        id: job.id,
        running: matches!(job.state, JobState::Queued | JobState::Running),
        finished: job.state == JobState::Done,
        done: job.done,
        total: job.total.unwrap_or(0),
        message: job.message.clone().unwrap_or_default(),
        state,
    }
}

async fn batch_page(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let job = visible_job(&state, &principal, id).await?;
    if is_htmx(&headers) {
        return render(&batch_view(&job));
    }
    render(&BatchPage {
        chrome: Chrome::new(Some(&principal), "screening"),
        batch: batch_view(&job),
    })
}

async fn batch_csv(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let job = visible_job(&state, &principal, id).await?;
    if job.state != JobState::Done {
        return Err(ApiError::conflict(format!(
            "batch job {id} has not finished yet"
        )));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut offset = 0;
    let mut header: Option<Vec<String>> = None;
    loop {
        let rows = state.store.batch_rows(id, offset, 1000, false).await?;
        if rows.is_empty() {
            break;
        }
        offset += rows.len() as u64;
        for row in rows {
            let input = row.input.as_object().cloned().unwrap_or_default();
            let columns: Vec<String> = input
                .keys()
                .filter(|k| !k.starts_with('_'))
                .cloned()
                .collect();
            if header.is_none() {
                let mut h = columns.clone();
                h.extend(
                    [
                        "matches",
                        "top_id",
                        "top_caption",
                        "top_score",
                        "top_match",
                        "top_datasets",
                        "error",
                    ]
                    .map(String::from),
                );
                writer.write_record(&h).map_err(ApiError::internal)?;
                header = Some(columns.clone());
            }
            let mut record: Vec<String> = header
                .as_ref()
                .map(|h| {
                    h.iter()
                        .map(|k| {
                            input
                                .get(k)
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default();
            let result = row.result.unwrap_or(Value::Null);
            let top = result.pointer("/results/0");
            let text = |p: &str| {
                top.and_then(|t| t.pointer(p))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(";"),
                        other => other.to_string(),
                    })
                    .unwrap_or_default()
            };
            record.push(
                result
                    .get("total")
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            );
            record.push(text("/id"));
            record.push(text("/caption"));
            record.push(
                top.and_then(|t| t.get("score"))
                    .and_then(Value::as_f64)
                    .map(|s| format!("{s:.3}"))
                    .unwrap_or_default(),
            );
            record.push(text("/match"));
            record.push(text("/datasets"));
            record.push(
                result
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            );
            writer.write_record(&record).map_err(ApiError::internal)?;
        }
    }
    let bytes = writer.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"screening-{id}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Summary and request body of the screening routes, for the OpenAPI document.
pub fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    let string = json!({"type": "string"});
    let example = crate::yente::example_schema();
    Some(match (method.as_str(), path) {
        ("POST", "/api/v1/screening/decisions") => (
            "Mark a (query, listed entity) result as a false positive or a true match, with a reason",
            Some(
                json!({"type": "object", "required": ["query", "entity_id", "decision", "reason"],
                "properties": {"query": example, "entity_id": string,
                    "decision": {"enum": ["false_positive", "true_match"]}, "reason": string}}),
            ),
        ),
        ("GET", "/api/v1/screening/decisions") => {
            ("Recent decisions of the caller's organisation", None)
        }
        ("POST", "/api/v1/screening/batch") => (
            "Screen a CSV file (text/csv or multipart field `file`; columns name, schema, birth_date, country, id_number, others kept) as a job",
            None,
        ),
        ("GET", "/api/v1/screening/batch/{job}") => (
            "A batch job's progress and its rows' results (offset, limit ≤ 1000)",
            None,
        ),
        ("GET", "/api/v1/alerts") => (
            "Alerts raised by re-screening after list updates, newest first (before, limit)",
            None,
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_files_name_the_bad_line_and_field() {
        let ok =
            read_batch_csv(b"name,schema,birth_date,note\nErmias Ghermay,Person,1980,x\n").unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0]["note"], "x");
        let err = read_batch_csv(b"name,birth_date\nA B,1980\nC D,1980-99-99\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("line 3.birth_date"));
        let err = read_batch_csv(b"name,schema\nA B,Planet\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("line 2.schema"));
        let err = read_batch_csv(b"nom\nA\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("file"));
        let err = read_batch_csv(b"name,schema\nA B\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("line 2"));
    }

    #[test]
    fn the_file_part_is_found_in_a_multipart_body() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nname\r\nA B\r\n--XyZ--\r\n";
        assert_eq!(multipart_file(&headers, body).unwrap(), b"name\r\nA B");
    }
}
