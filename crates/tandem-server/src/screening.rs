//! The screening service: an in-memory candidate index over the stored entities (public and
//! restricted, never protected), built in the background at start and rebuilt when the store's
//! dataset versions change, plus what every screening surface shares (the yente API, the page,
//! batch jobs, monitoring): reading an example entity, the normalised query key, the content
//! hash that re-opens dismissals, decisions and the yente result shape.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use futures::TryStreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tandem_core::{Entity, Model, PropertyType, Sensitivity};
use tandem_match::index::is_screenable;
use tandem_match::{CandidateIndex, Hit, IndexConfig, MatchConfig, Subject};
use tandem_store::screening::{Decision, DecisionKind, NewScreeningQuery};
use tandem_store::{Store, StoreError};
use tokio::sync::mpsc;

use crate::error::ApiError;

/// How often a server asks the store whether a dataset version was added (by itself, by the
/// CLI, or by another server sharing PostgreSQL).
const CHECK_EVERY: Duration = Duration::from_secs(3);
/// The longest name a query may carry (characters).
pub const MAX_NAME_CHARS: usize = 500;

/// What the index knows of an indexed entity besides its values.
#[derive(Debug, Clone)]
pub struct Meta {
    pub datasets: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// When one of its datasets last added or changed it (`changed_since` filters on this).
    pub last_change: String,
    pub sensitivity: Sensitivity,
    pub owner: Option<i64>,
    /// A `Sanction` names it, or its topics say so.
    pub target: bool,
}

impl Meta {
    /// What the datasets that hold an entity say about it as a whole (not whether it is a
    /// target: that needs the graph around it).
    pub fn of(held: &[tandem_store::StoredEntity], changes: &LastChanges) -> Meta {
        let first_seen = held
            .iter()
            .map(|h| h.first_seen.clone())
            .min()
            .unwrap_or_default();
        Meta {
            datasets: held.iter().map(|h| h.dataset.clone()).collect(),
            last_change: held
                .iter()
                .filter_map(|h| changes.at(&h.dataset, &h.entity.id))
                .max()
                .map_or_else(|| first_seen.clone(), str::to_string),
            first_seen,
            last_seen: held
                .iter()
                .map(|h| h.last_seen.clone())
                .max()
                .unwrap_or_default(),
            sensitivity: crate::view::sensitivity_of(held),
            owner: None,
            target: false,
        }
    }
}

/// When each (dataset, entity) last changed, as the store records it.
#[derive(Default)]
pub struct LastChanges(HashMap<(String, String), String>);

impl LastChanges {
    /// For these entities (all of the store's when `None`).
    pub async fn read(store: &dyn Store, ids: Option<&[&str]>) -> Result<LastChanges, StoreError> {
        Ok(LastChanges(
            store
                .last_changes(ids)
                .await?
                .into_iter()
                .map(|c| ((c.dataset, c.entity_id), c.at))
                .collect(),
        ))
    }

    pub fn at(&self, dataset: &str, entity_id: &str) -> Option<&str> {
        self.0
            .get(&(dataset.to_string(), entity_id.to_string()))
            .map(String::as_str)
    }
}

/// One built index and what it was built from.
pub struct Snapshot {
    pub index: CandidateIndex,
    pub meta: HashMap<String, Meta>,
    /// Every dataset seen while building (screenable entities or not).
    pub datasets: HashSet<String>,
    pub generation: String,
    pub built_at: String,
}

impl Snapshot {
    pub fn entity(&self, id: &str) -> Option<(&Entity, &Meta)> {
        Some((self.index.get(id)?, self.meta.get(id)?))
    }
}

/// The screening service of one server process.
#[derive(Default)]
pub struct Service {
    current: RwLock<Option<Arc<Snapshot>>>,
    building: AtomicBool,
    started: AtomicBool,
    last_error: RwLock<Option<String>>,
    log: std::sync::OnceLock<mpsc::UnboundedSender<NewScreeningQuery>>,
}

impl Service {
    /// Starts the first build and the watcher that rebuilds on new dataset versions (once; later
    /// calls do nothing). Must run inside a Tokio runtime; outside one it does nothing and the
    /// next call inside one starts it.
    pub fn start(self: &Arc<Self>, store: Arc<dyn Store>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let _ = self.log.set(sender);
        tokio::spawn(write_queries(store.clone(), receiver));
        let weak = Arc::downgrade(self);
        tokio::spawn(watch(weak, store));
    }

    /// The current index, or the 503 problem that says it is being built.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        if let Some(snapshot) = self.current.read().ok().and_then(|c| c.clone()) {
            return Ok(snapshot);
        }
        let detail = match self.last_error.read().ok().and_then(|e| e.clone()) {
            Some(err) => format!("the screening index could not be built ({err}); retrying"),
            None => "the screening index is being built; retry in a few seconds".to_string(),
        };
        let mut err = ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "index-building",
            detail,
        );
        err.field = None;
        Err(err)
    }

    /// Remembers screened subjects for monitoring; written in batches off the request path.
    pub fn remember(&self, queries: Vec<NewScreeningQuery>) {
        if let Some(log) = self.log.get() {
            for q in queries {
                let _ = log.send(q);
            }
        }
    }

    /// Builds now if the store changed since the current index (used by tests and imports made
    /// through this server, which need not wait for the next check).
    pub async fn refresh(&self, store: &Arc<dyn Store>) -> Result<(), StoreError> {
        let generation = lists_generation(store.as_ref()).await?;
        let stale = self
            .current
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|s| s.generation != generation))
            .unwrap_or(true);
        if stale && !self.building.swap(true, Ordering::SeqCst) {
            let result = build_snapshot(store.clone()).await;
            self.building.store(false, Ordering::SeqCst);
            match result {
                Ok(snapshot) => {
                    tracing::info!(
                        entities = snapshot.index.len(),
                        generation = %snapshot.generation,
                        "screening index built"
                    );
                    if let Ok(mut last) = self.last_error.write() {
                        *last = None;
                    }
                    if let Ok(mut current) = self.current.write() {
                        *current = Some(Arc::new(snapshot));
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, "screening index build failed");
                    if let Ok(mut last) = self.last_error.write() {
                        *last = Some(err.to_string());
                    }
                    return Err(err);
                }
            }
        }
        Ok(())
    }
}

/// Which state of the lists an index was built from: the newest dataset version, which every
/// import that changes something advances (the names search uses the same).
async fn lists_generation(store: &dyn Store) -> Result<String, StoreError> {
    Ok(store.latest_version_id().await?.unwrap_or(0).to_string())
}

async fn watch(service: Weak<Service>, store: Arc<dyn Store>) {
    let mut resumed = false;
    loop {
        let Some(live) = service.upgrade() else {
            return;
        };
        // Errors are recorded for the 503 detail and retried at the next tick.
        let built = live.refresh(&store).await.is_ok();
        if built && !resumed {
            resumed = true;
            // Batch jobs a stopped server left unfinished go on where they were.
            if let Err(err) = crate::screening_web::resume_batches(&live, &store).await {
                tracing::warn!(error = %err, "interrupted batch jobs could not be resumed");
            }
        }
        drop(live);
        tokio::time::sleep(CHECK_EVERY).await;
    }
}

async fn write_queries(
    store: Arc<dyn Store>,
    mut receiver: mpsc::UnboundedReceiver<NewScreeningQuery>,
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < 500 {
            match receiver.try_recv() {
                Ok(q) => batch.push(q),
                Err(_) => break,
            }
        }
        // Many requests screen the same subject: one upsert each is enough.
        let mut seen = HashSet::new();
        batch.retain(|q| seen.insert((q.query_key.clone(), q.organisation_id)));
        if let Err(err) = store.record_screening_queries(&batch).await {
            tracing::warn!(error = %err, "screening queries could not be stored");
        }
    }
}

fn is_sanction_topic(topic: &str) -> bool {
    topic == "sanction" || topic.starts_with("sanction.") || topic == "debarment"
}

/// Reads every stored entity (merging one id's datasets, leaving protected records out) and
/// builds the index off the async threads.
pub async fn build_snapshot(store: Arc<dyn Store>) -> Result<Snapshot, StoreError> {
    let generation = lists_generation(store.as_ref()).await?;
    let changes = LastChanges::read(store.as_ref(), None).await?;
    let mut entities: Vec<(Entity, Meta)> = Vec::new();
    let mut sanctioned: HashSet<String> = HashSet::new();
    let mut datasets: HashSet<String> = HashSet::new();
    {
        let mut stream = store.entities(None);
        while let Some(stored) = stream.try_next().await? {
            datasets.insert(stored.dataset.clone());
            if stored.entity.sensitivity == Sensitivity::Protected {
                continue;
            }
            let schema = stored.entity.schema();
            if schema.is_a("Sanction") {
                sanctioned.extend(stored.entity.get("entity").iter().cloned());
                continue;
            }
            if !is_screenable(&stored.entity.schema) {
                continue;
            }
            let changed = changes
                .at(&stored.dataset, &stored.entity.id)
                .unwrap_or(&stored.first_seen)
                .to_string();
            // The stream is in (id, dataset) order: one id's datasets are neighbours.
            if let Some((last, meta)) = entities.last_mut()
                && last.id == stored.entity.id
            {
                if last.merge(&stored.entity).is_ok() {
                    meta.datasets.push(stored.dataset.clone());
                    meta.sensitivity = meta.sensitivity.max(stored.entity.sensitivity);
                    meta.first_seen = meta.first_seen.clone().min(stored.first_seen.clone());
                    meta.last_seen = meta.last_seen.clone().max(stored.last_seen.clone());
                    meta.last_change = meta.last_change.clone().max(changed);
                }
                continue;
            }
            let meta = Meta {
                datasets: vec![stored.dataset.clone()],
                first_seen: stored.first_seen.clone(),
                last_seen: stored.last_seen.clone(),
                last_change: changed,
                sensitivity: stored.entity.sensitivity,
                owner: stored.owner_organisation,
                target: false,
            };
            entities.push((stored.entity, meta));
        }
    }
    let built = tokio::task::spawn_blocking(move || {
        let mut meta = HashMap::with_capacity(entities.len());
        let mut index = CandidateIndex::new(IndexConfig::default());
        for (entity, mut m) in entities {
            m.target = sanctioned.contains(&entity.id)
                || entity.get("topics").iter().any(|t| is_sanction_topic(t));
            let id = entity.id.clone();
            // Entities without a usable name cannot be screened; they stay out of the index.
            if let Ok(true) = index.add(entity) {
                meta.insert(id, m);
            }
        }
        (index, meta)
    })
    .await
    .map_err(|err| StoreError::Invalid(format!("index build stopped: {err}")))?;
    Ok(Snapshot {
        index: built.0,
        meta: built.1,
        datasets,
        generation,
        built_at: tandem_core::time::now_iso(),
    })
}

// ----- queries ------------------------------------------------------------------------------

fn collapse(text: &str) -> String {
    tandem_match::text::clean(text)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn digest(parts: &[String]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(&hasher.finalize()[..16])
}

fn is_country_property(property: &str) -> bool {
    matches!(
        property,
        "nationality" | "citizenship" | "country" | "birthCountry" | "jurisdiction"
    )
}

/// The normalised key of a screened subject: its schema, names (cleaned, case-folded, in any
/// order), birth dates, countries and identifiers. The same subject typed again with other
/// spacing, case or invisible characters has the same key.
pub fn query_key(query: &Entity) -> String {
    let schema = query.schema();
    let mut parts = vec![format!("schema={}", query.schema)];
    for (property, values) in &query.properties {
        let Some(prop) = schema.property(property) else {
            continue;
        };
        let tag = match prop.kind {
            PropertyType::Name => "name",
            PropertyType::Date if property == "birthDate" => "birthDate",
            PropertyType::Identifier => "id",
            _ if is_country_property(property) => "country",
            _ => continue,
        };
        for value in values {
            let value = if tag == "id" {
                value
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_uppercase()
            } else {
                collapse(value)
            };
            if !value.is_empty() {
                parts.push(format!("{tag}={value}"));
            }
        }
    }
    parts.sort();
    parts.dedup();
    digest(&parts)
}

/// The content of a list entity that a dismissal depends on: names, birth dates, identifiers
/// and nationalities. When it changes, the dismissal no longer applies.
pub fn content_hash(entity: &Entity) -> String {
    let schema = entity.schema();
    let mut parts = Vec::new();
    for (property, values) in &entity.properties {
        let Some(prop) = schema.property(property) else {
            continue;
        };
        let relevant = matches!(prop.kind, PropertyType::Name | PropertyType::Identifier)
            || property == "birthDate"
            || matches!(property.as_str(), "nationality" | "citizenship");
        if relevant {
            for value in values {
                parts.push(format!("{property}={value}"));
            }
        }
    }
    parts.sort();
    digest(&parts)
}

/// A query problem: the field at fault and what is wrong with it.
pub struct QueryError {
    pub field: String,
    pub message: String,
}

impl QueryError {
    pub fn into_api(self) -> ApiError {
        ApiError::bad_request(&self.field, format!("{}: {}", self.field, self.message))
    }
}

/// Builds the example entity of one query. `field` prefixes the names of fields at fault
/// (`queries.q1`); values are cleaned as the property's type demands (dates, countries).
pub fn example_entity(
    field: &str,
    id: Option<&str>,
    schema: &str,
    properties: &BTreeMap<String, Vec<String>>,
) -> Result<Entity, QueryError> {
    let err = |f: String, message: String| QueryError { field: f, message };
    let Some(found) = Model::get().schema(schema) else {
        return Err(err(
            format!("{field}.schema"),
            format!("unknown schema {schema:?}"),
        ));
    };
    if !is_screenable(&found.name) {
        return Err(err(
            format!("{field}.schema"),
            format!(
                "{schema} cannot be screened: use Person, Organization, Company, LegalEntity or Vessel"
            ),
        ));
    }
    let mut entity = Entity::new(&found.name, id.unwrap_or("query"))
        .map_err(|e| err(format!("{field}.id"), e.to_string()))?;
    let mut has_name = false;
    for (property, values) in properties {
        let at = format!("{field}.properties.{property}");
        let Some(prop) = found.property(property) else {
            return Err(err(
                at,
                format!("{} has no property {property:?}", found.name),
            ));
        };
        for value in values {
            let trimmed = value.trim();
            if prop.kind == PropertyType::Name {
                if trimmed.chars().count() > MAX_NAME_CHARS {
                    return Err(err(
                        at,
                        format!("a name is longer than {MAX_NAME_CHARS} characters"),
                    ));
                }
                if tandem_match::text::clean(trimmed).trim().is_empty() {
                    continue;
                }
            } else if trimmed.is_empty() {
                continue;
            } else if trimmed.chars().count() > MAX_NAME_CHARS {
                return Err(err(
                    at,
                    format!("a value is longer than {MAX_NAME_CHARS} characters"),
                ));
            }
            if property == "birthDate" && tandem_core::value::PartialDate::parse(trimmed).is_none()
            {
                return Err(err(
                    at,
                    format!("{trimmed:?} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"),
                ));
            }
            entity
                .add(property, trimmed)
                .map_err(|e| err(at.clone(), e.to_string()))?;
            if prop.kind == PropertyType::Name {
                has_name = true;
            }
        }
    }
    if !has_name {
        return Err(err(
            format!("{field}.properties.name"),
            "give at least one name that is not empty".to_string(),
        ));
    }
    Ok(entity)
}

/// The example entity as yente echoes it: the caller's id and cleaned values.
pub fn query_json(entity: &Entity, caller_id: Option<&str>) -> Value {
    json!({"id": caller_id, "schema": entity.schema, "properties": entity.properties})
}

// ----- screening ----------------------------------------------------------------------------

/// What a screening asks for besides the subject.
#[derive(Debug, Clone)]
pub struct Options {
    pub threshold: f64,
    /// Results scoring below this are left out (at most `threshold`).
    pub cutoff: f64,
    pub limit: usize,
    pub config: MatchConfig,
    /// Only entities of these datasets (`None`: all).
    pub scope: Option<HashSet<String>>,
    pub exclude_datasets: HashSet<String>,
    pub exclude_schemata: HashSet<String>,
    pub topics: HashSet<String>,
    pub exclude_ids: HashSet<String>,
    /// Only entities changed at or after this time (an ISO 8601 prefix: date, hour, …).
    pub changed_since: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threshold: 0.7,
            cutoff: 0.0,
            limit: 5,
            config: MatchConfig::default(),
            scope: None,
            exclude_datasets: HashSet::new(),
            exclude_schemata: HashSet::new(),
            topics: HashSet::new(),
            exclude_ids: HashSet::new(),
            changed_since: None,
        }
    }
}

/// The latest decision on one (query, entity) pair and whether it still applies.
#[derive(Debug, Clone)]
pub struct Applied {
    pub decision: Decision,
    /// A dismissal whose list entity changed since: shown again.
    pub reopened: bool,
}

impl Applied {
    pub fn hides(&self) -> bool {
        self.decision.decision.decision == DecisionKind::FalsePositive && !self.reopened
    }
}

/// The latest decision per entity, from decisions oldest first.
pub fn latest_decisions(decisions: &[Decision], query_key: &str) -> HashMap<String, Decision> {
    let mut latest = HashMap::new();
    for d in decisions
        .iter()
        .filter(|d| d.decision.query_key == query_key)
    {
        latest.insert(d.decision.entity_id.clone(), d.clone());
    }
    latest
}

/// One screened result: the hit, its entity, and any decision on it.
pub struct Screened {
    pub hit: Hit,
    pub decision: Option<Applied>,
}

pub struct Outcome {
    pub results: Vec<Screened>,
    /// Matches (score ≥ threshold) among all that were scored, before the limit.
    pub total: usize,
    /// Results hidden by a dismissal.
    pub dismissed: Vec<Screened>,
}

/// Screens one example entity against the snapshot with filters and decisions applied.
pub fn screen(
    snapshot: &Snapshot,
    query: &Entity,
    options: &Options,
    decisions: &HashMap<String, Decision>,
) -> Result<Outcome, tandem_match::MatchError> {
    let subject = Subject::from_entity(query)?;
    let filtered = options.scope.is_some()
        || !options.exclude_datasets.is_empty()
        || !options.exclude_schemata.is_empty()
        || !options.topics.is_empty()
        || options.changed_since.is_some();
    let hidden = decisions.len() + options.exclude_ids.len();
    let fetch = (options.limit + hidden) * if filtered { 4 } else { 1 };
    let fetch = fetch.clamp(20, 2000);
    let hits = snapshot
        .index
        .screen(&subject, &options.config, options.threshold, fetch);
    let mut results = Vec::new();
    let mut dismissed = Vec::new();
    let mut total = 0;
    for hit in hits {
        let Some((entity, meta)) = snapshot.entity(&hit.entity_id) else {
            continue;
        };
        if options.exclude_ids.contains(&hit.entity_id)
            || hit.entity_id == query.id
            || options
                .scope
                .as_ref()
                .is_some_and(|s| !meta.datasets.iter().any(|d| s.contains(d)))
            || meta
                .datasets
                .iter()
                .all(|d| options.exclude_datasets.contains(d))
            || options.exclude_schemata.contains(&entity.schema)
            || (!options.topics.is_empty()
                && !entity
                    .get("topics")
                    .iter()
                    .any(|t| options.topics.contains(t)))
            || !changed_since(meta, options.changed_since.as_deref())
        {
            continue;
        }
        let decision = decisions.get(&hit.entity_id).map(|d| Applied {
            reopened: d.decision.decision == DecisionKind::FalsePositive
                && d.decision.content_hash != content_hash(entity),
            decision: d.clone(),
        });
        let screened = Screened { hit, decision };
        if screened.decision.as_ref().is_some_and(Applied::hides) {
            dismissed.push(screened);
            continue;
        }
        if screened.hit.score.is_match {
            total += 1;
        }
        if screened.hit.score.score < options.cutoff {
            continue;
        }
        results.push(screened);
    }
    results.truncate(options.limit);
    Ok(Outcome {
        results,
        total,
        dismissed,
    })
}

/// Whether the entity changed at or after `since`. Both are ISO 8601 in UTC, `since` possibly
/// cut short (`2024-05-03`, `2024-05-03T10`), so text order is time order.
pub fn changed_since(meta: &Meta, since: Option<&str>) -> bool {
    since.is_none_or(|since| meta.last_change.as_str() >= since)
}

pub fn timestamp(iso: &str) -> String {
    iso.trim_end_matches('Z').to_string()
}

/// An indexed entity in yente's entity shape.
pub fn entity_json(entity: &Entity, meta: &Meta) -> Value {
    json!({
        "id": entity.id,
        "caption": entity.caption(),
        "schema": entity.schema,
        "properties": entity.properties,
        "datasets": meta.datasets,
        "referents": [],
        "target": meta.target,
        "first_seen": timestamp(&meta.first_seen),
        "last_seen": timestamp(&meta.last_seen),
        "last_change": timestamp(&meta.last_change),
    })
}

/// A screened result in yente's result shape (`decision` added when one was made).
pub fn result_json(snapshot: &Snapshot, screened: &Screened) -> Value {
    let Some((entity, meta)) = snapshot.entity(&screened.hit.entity_id) else {
        return Value::Null;
    };
    let mut out = entity_json(entity, meta);
    let score = &screened.hit.score;
    let features: BTreeMap<&str, f64> = score
        .explanations
        .iter()
        .map(|(name, e)| (*name, e.score))
        .collect();
    if let Value::Object(map) = &mut out {
        map.insert("score".into(), json!(score.score));
        map.insert("match".into(), json!(score.is_match));
        map.insert("features".into(), json!(features));
        map.insert(
            "explanations".into(),
            serde_json::to_value(&score.explanations).unwrap_or(Value::Null),
        );
        if let Some(applied) = &screened.decision {
            map.insert(
                "decision".into(),
                json!({
                    "decision": applied.decision.decision.decision,
                    "reason": applied.decision.decision.reason,
                    "by": applied.decision.decision.username,
                    "at": applied.decision.decided_at,
                    "reopened": applied.reopened,
                }),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, values: &[(&str, &str)]) -> Entity {
        let mut e = Entity::new("Person", id).unwrap();
        for (p, v) in values {
            e.add(p, v).unwrap();
        }
        e
    }

    #[test]
    fn query_keys_ignore_case_spacing_order_and_invisibles() {
        let a = person("a", &[("name", "Ermias  GHERMAY"), ("name", "Guro")]);
        let b = person("b", &[("name", "guro"), ("name", "ermias\u{200b} ghermay")]);
        assert_eq!(query_key(&a), query_key(&b));
        let c = person("c", &[("name", "Ermias Ghermay"), ("birthDate", "1980")]);
        assert_ne!(query_key(&a), query_key(&c));
    }

    #[test]
    fn content_hash_follows_names_dates_ids_and_nationality_only() {
        let a = person("a", &[("name", "Musab Abu Grein"), ("notes", "one")]);
        let b = person("a", &[("name", "Musab Abu Grein"), ("notes", "two")]);
        assert_eq!(content_hash(&a), content_hash(&b));
        let c = person("a", &[("name", "Musab Abu Grein"), ("birthDate", "1983")]);
        assert_ne!(content_hash(&a), content_hash(&c));
        let d = person("a", &[("name", "Musab Abu Grein"), ("nationality", "ly")]);
        assert_ne!(content_hash(&a), content_hash(&d));
    }

    #[test]
    fn example_entities_name_the_field_at_fault() {
        let props = |pairs: &[(&str, &str)]| {
            let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in pairs {
                map.entry(k.to_string()).or_default().push(v.to_string());
            }
            map
        };
        let err = example_entity("queries.q1", None, "Persn", &props(&[("name", "A B")]))
            .err()
            .unwrap();
        assert_eq!(err.field, "queries.q1.schema");
        let err = example_entity("queries.q1", None, "Person", &props(&[("name", "  ")]))
            .err()
            .unwrap();
        assert_eq!(err.field, "queries.q1.properties.name");
        let long = "x".repeat(10_000);
        let err = example_entity("queries.q1", None, "Person", &props(&[("name", &long)]))
            .err()
            .unwrap();
        assert_eq!(err.field, "queries.q1.properties.name");
        let err = example_entity(
            "queries.q2",
            None,
            "Person",
            &props(&[("name", "A B"), ("birthDate", "1980-13-45")]),
        )
        .err()
        .unwrap();
        assert_eq!(err.field, "queries.q2.properties.birthDate");
        let ok = example_entity(
            "queries.q1",
            Some("mine"),
            "Person",
            &props(&[("name", "Ermias Ghermay"), ("nationality", "er")]),
        )
        .ok()
        .unwrap();
        assert_eq!(ok.id, "mine");
    }
}
