//! Monitoring: when a new version of a list is stored, the subjects screened before (stored
//! screening queries) and the stored entities of analysts' own (restricted) datasets are screened
//! again, against only the entities the version added or changed; new hits become alerts. A
//! dismissed pair raises no alert until its list entity changes, and an alert is raised once per
//! (subject, list entity, list entity content). The work is a row in the jobs table with
//! progress, so the CLI, the server and people watching the dashboard see it.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{Html, IntoResponse, Response};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tandem_core::{Entity, Sensitivity};
use tandem_match::index::is_screenable;
use tandem_match::{CandidateIndex, IndexConfig, MatchConfig, Subject};
use tandem_store::screening::{Alert, DecisionKind, NewAlert};
use tandem_store::security::UserRole;
use tandem_store::{ChangeKind, ImportSummary, JobState, Store, StoreError};

use crate::app::{Access, AppState, Principal, Table};
use crate::authz::{Action, Permission, Resource};
use crate::error::{ApiError, ApiResult};
use crate::screening;

const READ_SCREENING: Access = Access::Needs(Permission::new(Resource::Screening, Action::Read));
/// Subjects screened per step (one progress update each).
const CHUNK: usize = 500;
/// Results looked at per subject: only matches become alerts.
const PER_SUBJECT: usize = 10;

pub const JOB_KIND: &str = "screening.monitor";

pub(crate) fn routes(table: Table) -> Table {
    table
        .page(Method::GET, "/alerts", READ_SCREENING, alerts_page)
        .api(Method::GET, "/api/v1/alerts", READ_SCREENING, alerts_api)
}

/// What one monitoring run did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MonitorReport {
    pub job_id: i64,
    pub dataset: String,
    pub version: String,
    /// Screenable list entities added or changed by the version that subjects were screened
    /// against (0 when there was no one to re-screen).
    pub changed_entities: u64,
    /// Subjects screened again (stored queries and own entities).
    pub subjects: u64,
    pub new_alerts: u64,
}

/// One subject to screen again.
struct Subjectish {
    key: String,
    decision_key: String,
    organisation: Option<i64>,
    description: Value,
    entity: Entity,
}

/// Re-screens after an import. Does nothing (returns `None`) when the version changed nothing,
/// or when the dataset is not a published list (analysts' own, restricted or protected data is
/// the screened population, not a list).
pub async fn after_import(
    store: &dyn Store,
    summary: &ImportSummary,
) -> Result<Option<MonitorReport>, StoreError> {
    if summary.unchanged || summary.added + summary.changed == 0 {
        return Ok(None);
    }
    let datasets = store.datasets().await?;
    let Some(dataset) = datasets.iter().find(|d| d.name == summary.dataset) else {
        return Ok(None);
    };
    if dataset.sensitivity != Sensitivity::Public {
        return Ok(None);
    }
    let job = store
        .create_job(
            JOB_KIND,
            json!({"dataset": summary.dataset, "version": summary.version}),
        )
        .await?;
    match run(store, summary, &datasets, job.id).await {
        Ok(report) => {
            store
                .finish_job(
                    job.id,
                    JobState::Done,
                    Some(format!(
                        "{} subjects screened against {} new or changed entities of {} {}: {} new alerts",
                        report.subjects,
                        report.changed_entities,
                        report.dataset,
                        report.version,
                        report.new_alerts
                    )),
                )
                .await?;
            Ok(Some(report))
        }
        Err(err) => {
            store
                .finish_job(job.id, JobState::Failed, Some(err.to_string()))
                .await?;
            Err(err)
        }
    }
}

async fn changed_entities(
    store: &dyn Store,
    summary: &ImportSummary,
) -> Result<Vec<Entity>, StoreError> {
    let ids: HashSet<String> = store
        .changes(&summary.dataset, &summary.version)
        .await?
        .into_iter()
        .filter(|c| matches!(c.change, ChangeKind::Added | ChangeKind::Changed))
        .filter(|c| is_screenable(&c.schema))
        .map(|c| c.entity_id)
        .collect();
    let keep = |entity: &Entity| {
        entity.sensitivity != Sensitivity::Protected && is_screenable(&entity.schema)
    };
    let mut out = Vec::new();
    // Many changes: one pass over the dataset beats one lookup per id.
    if ids.len() > 500 {
        let mut stream = store.entities(Some(&summary.dataset));
        while let Some(stored) = stream.try_next().await? {
            if ids.contains(&stored.entity.id) && keep(&stored.entity) {
                out.push(stored.entity);
            }
        }
    } else {
        for id in &ids {
            for stored in store.entity(id).await? {
                if stored.dataset == summary.dataset && keep(&stored.entity) {
                    out.push(stored.entity);
                }
            }
        }
    }
    Ok(out)
}

/// Stored screening queries, then entities of restricted datasets.
async fn population(
    store: &dyn Store,
    datasets: &[tandem_store::DatasetSummary],
) -> Result<Vec<Subjectish>, StoreError> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.screening_queries(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for q in page {
            let Ok(mut entity) = Entity::new(&q.schema, format!("query-{}", q.query_key)) else {
                continue;
            };
            if let Some(properties) = q.query.get("properties").and_then(Value::as_object) {
                for (property, values) in properties {
                    for value in values.as_array().into_iter().flatten() {
                        if let Some(v) = value.as_str() {
                            entity.add_lenient(property, v);
                        }
                    }
                }
            }
            out.push(Subjectish {
                key: format!("query:{}:{}", q.organisation_id, q.query_key),
                decision_key: q.query_key.clone(),
                organisation: (q.organisation_id != 0).then_some(q.organisation_id),
                description: json!({"kind": "query", "query": q.query, "by": q.username, "last_at": q.last_at}),
                entity,
            });
        }
    }
    for dataset in datasets
        .iter()
        .filter(|d| d.sensitivity == Sensitivity::Restricted)
    {
        let mut stream = store.entities(Some(&dataset.name));
        while let Some(stored) = stream.try_next().await? {
            let entity = stored.entity;
            if entity.sensitivity == Sensitivity::Protected || !is_screenable(&entity.schema) {
                continue;
            }
            out.push(Subjectish {
                key: format!("entity:{}", entity.id),
                decision_key: format!("entity:{}", entity.id),
                organisation: stored.owner_organisation,
                description: json!({"kind": "entity", "id": entity.id, "caption": entity.caption(), "dataset": stored.dataset}),
                entity,
            });
        }
    }
    Ok(out)
}

async fn run(
    store: &dyn Store,
    summary: &ImportSummary,
    datasets: &[tandem_store::DatasetSummary],
    job_id: i64,
) -> Result<MonitorReport, StoreError> {
    let subjects = population(store, datasets).await?;
    let total = subjects.len() as u64;
    store.update_job(job_id, 0, Some(total), None).await?;
    // Nobody to re-screen (a fresh store): no need to read the version's entities.
    let changed = if subjects.is_empty() {
        Vec::new()
    } else {
        changed_entities(store, summary).await?
    };
    let changed_count = changed.len() as u64;
    let hashes: HashMap<String, (String, String)> = changed
        .iter()
        .map(|e| {
            (
                e.id.clone(),
                (screening::content_hash(e), e.caption().to_string()),
            )
        })
        .collect();
    let index = tokio::task::spawn_blocking(move || {
        CandidateIndex::build(changed, IndexConfig::default()).0
    })
    .await
    .map_err(|err| StoreError::Invalid(format!("monitoring stopped: {err}")))?;
    let index = std::sync::Arc::new(index);
    let mut done = 0u64;
    let mut new_alerts = 0u64;
    let mut subjects = subjects.into_iter();
    loop {
        let chunk: Vec<Subjectish> = subjects.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let count = chunk.len() as u64;
        let idx = std::sync::Arc::clone(&index);
        let (chunk, hits) = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            let config = MatchConfig::default();
            let hits: Vec<Vec<tandem_match::Hit>> = chunk
                .par_iter()
                .map(|s| match Subject::from_entity(&s.entity) {
                    Ok(subject) => idx
                        .screen(&subject, &config, 0.7, PER_SUBJECT)
                        .into_iter()
                        .filter(|h| h.score.is_match && h.entity_id != s.entity.id)
                        .collect(),
                    Err(_) => Vec::new(),
                })
                .collect();
            (chunk, hits)
        })
        .await
        .map_err(|err| StoreError::Invalid(format!("monitoring stopped: {err}")))?;
        let mut alerts = Vec::new();
        for (subject, hits) in chunk.iter().zip(hits) {
            if hits.is_empty() {
                continue;
            }
            let decisions = store
                .decisions_for(
                    subject.organisation,
                    std::slice::from_ref(&subject.decision_key),
                )
                .await?;
            let latest = screening::latest_decisions(&decisions, &subject.decision_key);
            for hit in hits {
                let Some((hash, caption)) = hashes.get(&hit.entity_id) else {
                    continue;
                };
                let dismissed = latest.get(&hit.entity_id).is_some_and(|d| {
                    d.decision.decision == DecisionKind::FalsePositive
                        && d.decision.content_hash == *hash
                });
                if dismissed {
                    continue;
                }
                alerts.push(NewAlert {
                    subject_key: subject.key.clone(),
                    subject: subject.description.clone(),
                    organisation_id: subject.organisation,
                    entity_id: hit.entity_id.clone(),
                    caption: caption.clone(),
                    dataset: summary.dataset.clone(),
                    version: summary.version.clone(),
                    score: hit.score.score,
                    explanations: serde_json::to_value(&hit.score.explanations)
                        .unwrap_or(Value::Null),
                    content_hash: hash.clone(),
                    job_id: Some(job_id),
                });
            }
        }
        new_alerts += store.add_alerts(&alerts).await?;
        done += count;
        store
            .update_job(job_id, done, Some(total), Some(json!({"done": done})))
            .await?;
    }
    Ok(MonitorReport {
        job_id,
        dataset: summary.dataset.clone(),
        version: summary.version.clone(),
        changed_entities: changed_count,
        subjects: total,
        new_alerts,
    })
}

// ----- alerts -------------------------------------------------------------------------------

/// Alerts on queries belong to the organisation that screened them; administrators see all.
fn visible_alerts(principal: &Principal, alerts: Vec<Alert>) -> Vec<Alert> {
    alerts
        .into_iter()
        .filter(|a| {
            principal.user.role == UserRole::Admin
                || a.alert
                    .organisation_id
                    .is_none_or(|o| o == principal.user.organisation_id)
        })
        .collect()
}

#[derive(Deserialize)]
pub struct AlertQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

async fn alerts_api(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<AlertQuery>,
) -> ApiResult<Json<Value>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit", "use 1 to 1000"));
    }
    let alerts = visible_alerts(&principal, state.store.alerts(query.before, limit).await?);
    Ok(Json(json!({ "alerts": alerts })))
}

struct AlertRow {
    id: i64,
    subject: String,
    entity_id: String,
    caption: String,
    dataset: String,
    version: String,
    score: String,
    created_at: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "screening/alerts.html")]
struct AlertsPage {
    chrome: crate::pages::Chrome,
    alerts: Vec<AlertRow>,
    older: Option<i64>,
}

fn subject_text(subject: &Value) -> String {
    match subject.get("kind").and_then(Value::as_str) {
        Some("entity") => format!(
            "{} ({})",
            subject.get("caption").and_then(Value::as_str).unwrap_or(""),
            subject.get("dataset").and_then(Value::as_str).unwrap_or("")
        ),
        _ => {
            let props = subject.pointer("/query/properties");
            let names: Vec<&str> = props
                .and_then(|p| p.get("name"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!(
                "{} (screened by {})",
                names.join(" / "),
                subject.get("by").and_then(Value::as_str).unwrap_or("?")
            )
        }
    }
}

async fn alerts_page(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<AlertQuery>,
) -> ApiResult<Response> {
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let raw = state.store.alerts(query.before, limit).await?;
    let older = (raw.len() as u32 == limit)
        .then(|| raw.last().map(|a| a.id))
        .flatten();
    let alerts = visible_alerts(&principal, raw)
        .into_iter()
        .map(|a| AlertRow {
            id: a.id,
            subject: subject_text(&a.alert.subject),
            detail: a
                .alert
                .explanations
                .get("name_match")
                .and_then(|e| e.get("detail"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            entity_id: a.alert.entity_id,
            caption: a.alert.caption,
            dataset: a.alert.dataset,
            version: a.alert.version,
            score: format!("{:.2}", a.alert.score),
            created_at: a.created_at.replace('T', " "),
        })
        .collect();
    let page = AlertsPage {
        chrome: crate::pages::Chrome::new(Some(&principal), "alerts"),
        alerts,
        older,
    };
    match page.render() {
        Ok(html) => Ok(Html(html).into_response()),
        Err(err) => Err(ApiError::internal(err)),
    }
}
