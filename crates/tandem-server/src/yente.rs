//! yente-compatible routes: `POST /match/{dataset}`, `GET /search/{dataset}`,
//! `GET /entities/{entity_id}` (and its `/adjacent` pages), `GET /algorithms`, `/catalog`,
//! `/manifest`, `/readyz` and `POST /updatez` (`/healthz` is the server's own), with yente's paths,
//! parameters and field names, so that existing yente clients work unchanged. All of them sit
//! behind Tandem's authentication (bearer token or session) like every other route.
//!
//! Errors are Tandem's problem documents; they also carry yente's `detail` field, which is what
//! yente clients read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use tandem_core::{Entity, Model, PropertyType, Sensitivity};
use tandem_match::MatchConfig;
use tandem_store::screening::NewScreeningQuery;
use tandem_store::security::{AuditOutcome, User};

use crate::app::{Access, AppState, Principal, RemoteAddr, Table, serde_urlencoded_pairs};
use crate::authz::{Action, Permission, Resource, may_see, visible_ceiling};
use crate::error::{ApiError, ApiResult};
use crate::screening::{self, Options, Snapshot};
use crate::view;

const READ_SCREENING: Access = Access::Needs(Permission::new(Resource::Screening, Action::Read));
const READ_ENTITIES: Access = Access::Needs(Permission::new(Resource::Entities, Action::Read));
const READ_DATASETS: Access = Access::Needs(Permission::new(Resource::Datasets, Action::Read));
const WRITE_DATASETS: Access = Access::Needs(Permission::new(Resource::Datasets, Action::Write));

/// Most ids a `/match` call may exclude (as yente).
const MAX_EXCLUDED: usize = 50;
/// The algorithm names Tandem answers to: its own, and yente's names of the default.
const ALGORITHMS: &[&str] = &["best", "logic-v2", "tandem"];

pub(crate) fn routes(table: Table) -> Table {
    table
        .api(
            Method::POST,
            "/match/{dataset}",
            READ_SCREENING,
            match_entities,
        )
        .api(Method::GET, "/search/{dataset}", READ_SCREENING, search)
        .api(Method::GET, "/entities/{entity_id}", READ_ENTITIES, entity)
        .api(
            Method::GET,
            "/entities/{entity_id}/adjacent",
            READ_ENTITIES,
            adjacent,
        )
        .api(
            Method::GET,
            "/entities/{entity_id}/adjacent/{property_name}",
            READ_ENTITIES,
            adjacent_property,
        )
        .api(Method::GET, "/algorithms", READ_SCREENING, algorithms)
        .api(Method::GET, "/catalog", READ_DATASETS, catalog)
        .api(Method::GET, "/manifest", READ_DATASETS, manifest)
        .api(Method::POST, "/updatez", WRITE_DATASETS, update_index)
        .api(Method::GET, "/readyz", Access::Public, ready)
}

/// The JSON schema of an example entity (a `/match` query, a screening decision's query).
pub(crate) fn example_schema() -> Value {
    let string = json!({"type": "string"});
    json!({"type": "object", "required": ["schema", "properties"],
        "properties": {"id": string, "schema": string,
            "properties": {"type": "object", "additionalProperties": {"oneOf": [string, {"type": "array", "items": string}]}}}})
}

/// Summary and request body of the yente routes, for the OpenAPI document.
pub fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    let example = example_schema();
    Some(match (method.as_str(), path) {
        ("POST", "/match/{dataset}") => (
            "yente-compatible matching of up to 100 example entities (`dataset`: `default` or a list; query: threshold, cutoff, limit ≤ 500, algorithm, include_dataset, exclude_dataset, exclude_schema, topics, exclude_entity_ids, changed_since)",
            Some(
                json!({"type": "object", "required": ["queries"], "properties": {
                "queries": {"type": "object", "additionalProperties": example},
                "weights": {"type": "object", "additionalProperties": {"type": "number"}},
                "config": {"type": "object"}}}),
            ),
        ),
        ("GET", "/search/{dataset}") => (
            "yente-compatible search (q, schema, countries, topics, datasets, include_dataset, exclude_dataset, exclude_schema, filter, filter_op, changed_since, facets, limit ≤ 500, offset ≤ 9499)",
            None,
        ),
        ("GET", "/entities/{entity_id}") => (
            "yente-compatible entity; `nested` (default true) inlines adjacent entities in `properties`",
            None,
        ),
        ("GET", "/algorithms") => ("The matching algorithm and its features", None),
        ("GET", "/readyz") => (
            "Ready when the screening index is built (503 `index-building` before)",
            None,
        ),
        ("GET", "/entities/{entity_id}/adjacent") => (
            "yente-compatible: the entity and a page (limit, offset) of its adjacent entities per property",
            None,
        ),
        ("GET", "/entities/{entity_id}/adjacent/{property_name}") => (
            "yente-compatible: one property's page (limit, offset) of adjacent entities",
            None,
        ),
        ("GET", "/catalog") => (
            "yente-compatible catalogue of the screenable lists and whether the index is current",
            None,
        ),
        ("GET", "/manifest") => (
            "yente-compatible manifest: the screenable lists and the `default` collection",
            None,
        ),
        ("POST", "/updatez") => (
            "Re-index the screening lists now (needs the right to import lists)",
            None,
        ),
        _ => return None,
    })
}

/// Query parameters, repeated keys kept (`?topics=a&topics=b`).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Params {
        Params(serde_urlencoded_pairs(raw.unwrap_or_default().as_bytes()))
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    fn number(&self, key: &str, range: std::ops::RangeInclusive<f64>) -> ApiResult<Option<f64>> {
        self.in_range(key, range, "a number")
    }

    fn count(&self, key: &str, range: std::ops::RangeInclusive<usize>) -> ApiResult<Option<usize>> {
        self.in_range(key, range, "a whole number")
    }

    fn in_range<T>(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<T>,
        kind: &str,
    ) -> ApiResult<Option<T>>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display,
    {
        let Some(text) = self.one(key) else {
            return Ok(None);
        };
        match text.parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::bad_request(
                key,
                format!(
                    "{key} must be {kind} from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    fn flag(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.one(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("true" | "1" | "yes") => Ok(Some(true)),
            Some("false" | "0" | "no") => Ok(Some(false)),
            Some(_) => Err(ApiError::bad_request(
                key,
                format!("{key} must be true or false"),
            )),
        }
    }
}

/// `changed_since`: `YYYY-MM-DD`, optionally `Thh`, `Thh:mm` or `Thh:mm:ss` (UTC, as yente).
fn changed_since(params: &Params) -> ApiResult<Option<String>> {
    let Some(value) = params.one("changed_since") else {
        return Ok(None);
    };
    if !is_changed_since(value) {
        return Err(ApiError::bad_request(
            "changed_since",
            format!("changed_since {value:?} is not a date (YYYY-MM-DD, optionally Thh:mm:ss)"),
        ));
    }
    Ok(Some(value.to_string()))
}

fn is_changed_since(value: &str) -> bool {
    let two_digits = |part: &str, max: u32| {
        part.len() == 2
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse::<u32>().is_ok_and(|n| n <= max)
    };
    let (date, time) = match value.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (value, None),
    };
    let date_ok = matches!(date.split('-').collect::<Vec<_>>().as_slice(),
        [year, month, day] if year.len() == 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && two_digits(month, 12) && month != &"00"
            && two_digits(day, 31) && day != &"00");
    let time_ok = time.is_none_or(|time| {
        let parts: Vec<&str> = time.split(':').collect();
        (1..=3).contains(&parts.len())
            && two_digits(parts[0], 23)
            && parts[1..].iter().all(|p| two_digits(p, 59))
    });
    date_ok && time_ok
}

fn unprocessable(field: &str, detail: impl Into<String>) -> ApiError {
    let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", detail);
    err.field = Some(field.to_string());
    err
}

/// `{dataset}`: `default` (everything) or a stored dataset; unknown → 404.
async fn scope(
    state: &AppState,
    snapshot: Option<&Snapshot>,
    dataset: &str,
) -> ApiResult<Option<HashSet<String>>> {
    if dataset == "default" {
        return Ok(None);
    }
    let known = match snapshot {
        Some(s) if s.datasets.contains(dataset) => true,
        // Imported after the index was built: the store knows it.
        _ => state
            .store
            .datasets()
            .await?
            .iter()
            .any(|d| d.name == dataset && d.sensitivity != Sensitivity::Protected),
    };
    if !known {
        return Err(ApiError::not_found(format!(
            "no dataset {dataset:?}: use `default` or the name of an imported list"
        )));
    }
    Ok(Some(HashSet::from([dataset.to_string()])))
}

/// Applies `weights` (feature → weight) and `config` (nomenklatura's variables that Tandem's
/// matcher has an equivalent of) to the matcher's settings.
fn match_config(body: &Map<String, Value>) -> ApiResult<MatchConfig> {
    let mut config = MatchConfig::default();
    if let Some(weights) = body.get("weights").filter(|w| !w.is_null()) {
        let Some(weights) = weights.as_object() else {
            return Err(unprocessable("weights", "weights must be an object"));
        };
        let mut as_json = serde_json::to_value(config).map_err(ApiError::internal)?;
        for (feature, weight) in weights {
            let field = format!("weights.{feature}");
            let Some(weight) = weight.as_f64() else {
                return Err(ApiError::bad_request(
                    &field,
                    format!("{field} must be a number"),
                ));
            };
            match as_json.get_mut(feature.as_str()) {
                Some(slot) if feature != "name" && slot.is_number() => *slot = json!(weight),
                _ => {
                    return Err(ApiError::bad_request(
                        &field,
                        format!("unknown feature {feature:?}"),
                    ));
                }
            }
        }
        config = serde_json::from_value(as_json).map_err(ApiError::internal)?;
    }
    if let Some(variables) = body.get("config").filter(|c| !c.is_null()) {
        let Some(variables) = variables.as_object() else {
            return Err(unprocessable("config", "config must be an object"));
        };
        for (key, value) in variables {
            let field = format!("config.{key}");
            let number = || {
                value
                    .as_f64()
                    .filter(|n| (0.0..=10.0).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            &field,
                            format!("{field} must be a number from 0 to 10"),
                        )
                    })
            };
            match key.as_str() {
                "nm_extra_query_name" => config.name.person_extra_query = number()? as f32,
                "nm_extra_result_name" => config.name.person_extra_candidate = number()? as f32,
                "nm_name_property"
                | "nm_number_mismatch"
                | "nm_family_name_weight"
                | "nm_fuzzy_cutoff_factor" => {
                    return Err(ApiError::bad_request(
                        &field,
                        format!(
                            "{key} is a logic-v2 variable that Tandem's matcher has no equivalent of"
                        ),
                    ));
                }
                _ => {
                    return Err(ApiError::bad_request(
                        &field,
                        format!("unknown configuration variable {key:?}"),
                    ));
                }
            }
        }
    }
    Ok(config)
}

/// One parsed query of a `/match` body.
struct Query {
    key: String,
    caller_id: Option<String>,
    entity: Entity,
    query_key: String,
}

fn string_values(field: &str, value: &Value) -> ApiResult<Vec<String>> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(unprocessable(
                    field,
                    format!("{field}: values must be strings"),
                )),
            })
            .collect(),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Null => Ok(Vec::new()),
        _ => Err(unprocessable(
            field,
            format!("{field}: give a string or a list of strings"),
        )),
    }
}

fn parse_queries(body: &Map<String, Value>, max: usize) -> ApiResult<Vec<Query>> {
    let Some(queries) = body.get("queries") else {
        return Err(ApiError::bad_request(
            "queries",
            "no queries: give `queries`, an object of example entities",
        ));
    };
    let Some(queries) = queries.as_object() else {
        return Err(unprocessable(
            "queries",
            "queries must be an object (key → example entity)",
        ));
    };
    if queries.is_empty() {
        return Err(ApiError::bad_request(
            "queries",
            "no queries: `queries` is empty",
        ));
    }
    if queries.len() > max {
        return Err(ApiError::bad_request(
            "queries",
            format!(
                "{} queries in one request; at most {max} are allowed",
                queries.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(queries.len());
    for (key, example) in queries {
        let field = format!("queries.{key}");
        let Some(example) = example.as_object() else {
            return Err(unprocessable(&field, format!("{field} must be an object")));
        };
        let Some(schema) = example.get("schema").and_then(Value::as_str) else {
            return Err(unprocessable(
                &format!("{field}.schema"),
                format!("{field}.schema is missing"),
            ));
        };
        let caller_id = match example.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(unprocessable(
                    &format!("{field}.id"),
                    format!("{field}.id must be a string"),
                ));
            }
        };
        let mut properties: BTreeMap<String, Vec<String>> = BTreeMap::new();
        match example.get("properties") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (property, values) in map {
                    let at = format!("{field}.properties.{property}");
                    properties.insert(property.clone(), string_values(&at, values)?);
                }
            }
            Some(_) => {
                return Err(unprocessable(
                    &format!("{field}.properties"),
                    format!("{field}.properties must be an object"),
                ));
            }
        }
        let entity = screening::example_entity(&field, caller_id.as_deref(), schema, &properties)
            .map_err(screening::QueryError::into_api)?;
        out.push(Query {
            key: key.clone(),
            query_key: screening::query_key(&entity),
            caller_id,
            entity,
        });
    }
    Ok(out)
}

fn options_from(params: &Params) -> ApiResult<Options> {
    let threshold = params.number("threshold", 0.0..=1.0)?.unwrap_or(0.7);
    // yente: `cutoff` defaults to the threshold and is clamped to at most it, so by default
    // only matches are returned.
    let cutoff = params
        .number("cutoff", 0.0..=1.0)?
        .unwrap_or(threshold)
        .min(threshold);
    let limit = params.count("limit", 1..=500)?.unwrap_or(5);
    if let Some(algorithm) = params.one("algorithm")
        && !ALGORITHMS.contains(&algorithm)
    {
        return Err(ApiError::bad_request(
            "algorithm",
            format!(
                "unknown algorithm {algorithm:?}: Tandem offers {}",
                ALGORITHMS.join(", ")
            ),
        ));
    }
    let changed_since = changed_since(params)?;
    let exclude_ids: HashSet<String> = params.all("exclude_entity_ids").into_iter().collect();
    if exclude_ids.len() > MAX_EXCLUDED {
        return Err(ApiError::bad_request(
            "exclude_entity_ids",
            format!("at most {MAX_EXCLUDED} ids may be excluded"),
        ));
    }
    let model = Model::get();
    let exclude_schemata: HashSet<String> = params.all("exclude_schema").into_iter().collect();
    for schema in &exclude_schemata {
        if model.schema(schema).is_none() {
            return Err(ApiError::bad_request(
                "exclude_schema",
                format!("unknown schema {schema:?}"),
            ));
        }
    }
    let include: HashSet<String> = params.all("include_dataset").into_iter().collect();
    Ok(Options {
        threshold,
        cutoff,
        limit,
        config: MatchConfig::default(),
        scope: (!include.is_empty()).then_some(include),
        exclude_datasets: params.all("exclude_dataset").into_iter().collect(),
        exclude_schemata,
        topics: params.all("topics").into_iter().collect(),
        exclude_ids,
        changed_since,
    })
}

fn intersect(
    scope: Option<HashSet<String>>,
    include: Option<HashSet<String>>,
) -> Option<HashSet<String>> {
    match (scope, include) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(a.intersection(&b).cloned().collect()),
    }
}

async fn match_entities(
    State(state): State<AppState>,
    principal: Principal,
    Path(dataset): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let params = Params::parse(raw);
    let mut options = options_from(&params)?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|err| unprocessable("body", format!("the body is not JSON: {err}")))?;
    let Some(body) = body.as_object() else {
        return Err(unprocessable("body", "the body must be a JSON object"));
    };
    options.config = match_config(body)?;
    let queries = parse_queries(body, state.config.max_batch)?;
    let current = state.screening.snapshot();
    let scope = scope(&state, current.as_ref().ok().map(|s| s.as_ref()), &dataset).await?;
    options.scope = intersect(scope, options.scope.take());
    let snapshot = current?;

    let user = &principal.user;
    let mut keys: Vec<String> = queries.iter().map(|q| q.query_key.clone()).collect();
    keys.sort();
    keys.dedup();
    let decisions = state
        .store
        .decisions_for(Some(user.organisation_id), &keys)
        .await?;
    let per_query: HashMap<String, HashMap<String, tandem_store::screening::Decision>> = keys
        .iter()
        .map(|k| (k.clone(), screening::latest_decisions(&decisions, k)))
        .collect();

    let now = tandem_core::time::now_iso();
    state.screening.remember(
        queries
            .iter()
            .map(|q| NewScreeningQuery {
                query_key: q.query_key.clone(),
                organisation_id: user.organisation_id,
                schema: q.entity.schema.clone(),
                query: json!({"schema": q.entity.schema, "properties": q.entity.properties}),
                user_id: Some(user.id),
                username: user.username.clone(),
                at: now.clone(),
            })
            .collect(),
    );

    let role = user.role;
    let organisation = user.organisation_id;
    let batch = queries.len();
    let limit = options.limit;
    let snap = Arc::clone(&snapshot);
    let responses = tokio::task::spawn_blocking(move || {
        let empty = HashMap::new();
        queries
            .par_iter()
            .map(|q| {
                let decisions = per_query.get(&q.query_key).unwrap_or(&empty);
                let response = match screening::screen(&snap, &q.entity, &options, decisions) {
                    Ok(outcome) => {
                        let results: Vec<Value> = outcome
                            .results
                            .iter()
                            .filter(|r| {
                                snap.meta.get(&r.hit.entity_id).is_some_and(|m| {
                                    may_see(role, organisation, m.sensitivity, m.owner)
                                })
                            })
                            .map(|r| screening::result_json(&snap, r))
                            .collect();
                        json!({
                            "status": 200,
                            "results": results,
                            "total": {"value": outcome.total, "relation": "eq"},
                            "query": screening::query_json(&q.entity, q.caller_id.as_deref()),
                        })
                    }
                    // Checked when parsing; kept as a per-query error, as yente reports them.
                    Err(err) => json!({
                        "status": 400,
                        "results": [],
                        "total": {"value": 0, "relation": "eq"},
                        "query": screening::query_json(&q.entity, q.caller_id.as_deref()),
                        "detail": err.to_string(),
                    }),
                };
                (q.key.clone(), response)
            })
            .collect::<Vec<(String, Value)>>()
            .into_iter()
            .collect::<Map<String, Value>>()
    })
    .await
    .map_err(ApiError::internal)?;
    let mut response = Json(json!({"responses": responses, "limit": limit})).into_response();
    response
        .headers_mut()
        .insert("x-batch-size", HeaderValue::from(batch));
    Ok(response)
}

/// Countries, topics and datasets of a result set, in yente's facet shape.
fn facets(entities: &[(Entity, Vec<String>)], wanted: &[String]) -> Value {
    let mut out = Map::new();
    let model = Model::get();
    for facet in wanted {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (entity, datasets) in entities {
            let schema = model.schema(&entity.schema);
            let mut values: HashSet<&str> = HashSet::new();
            match facet.as_str() {
                "datasets" => values.extend(datasets.iter().map(String::as_str)),
                "schema" => {
                    values.insert(entity.schema.as_str());
                }
                "countries" | "identifiers" | "genders" | "topics" => {
                    let kind = match facet.as_str() {
                        "countries" => PropertyType::Country,
                        "identifiers" => PropertyType::Identifier,
                        "genders" => PropertyType::Gender,
                        _ => PropertyType::Topic,
                    };
                    for (property, vals) in &entity.properties {
                        if schema
                            .and_then(|s| s.property(property))
                            .is_some_and(|p| p.kind == kind)
                        {
                            values.extend(vals.iter().map(String::as_str));
                        }
                    }
                }
                _ => {}
            }
            for v in values {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
        let mut values: Vec<(String, u64)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.insert(
            facet.clone(),
            json!({
                "label": facet,
                "values": values.iter().map(|(name, count)| json!({"name": name, "label": name, "count": count})).collect::<Vec<_>>(),
            }),
        );
    }
    Value::Object(out)
}

const FACETS: &[&str] = &[
    "datasets",
    "schema",
    "countries",
    "identifiers",
    "topics",
    "genders",
];

async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Path(dataset): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw);
    let limit = params.count("limit", 0..=500)?.unwrap_or(10);
    let offset = params.count("offset", 0..=9_499)?.unwrap_or(0);
    let text = params.one("q").unwrap_or("").to_string();
    if text.chars().count() > screening::MAX_NAME_CHARS {
        return Err(ApiError::bad_request(
            "q",
            format!("q is longer than {} characters", screening::MAX_NAME_CHARS),
        ));
    }
    let schema = params.one("schema").unwrap_or("Thing").to_string();
    if Model::get().schema(&schema).is_none() {
        return Err(ApiError::bad_request(
            "schema",
            format!("unknown schema {schema:?}"),
        ));
    }
    let changed_since = changed_since(&params)?;
    for filter in params.all("filter") {
        if !filter.contains(':') {
            return Err(ApiError::bad_request(
                "filter",
                format!("filter {filter:?} is not field:value"),
            ));
        }
    }
    match params.one("filter_op") {
        None | Some("OR" | "AND" | "or" | "and") => {}
        Some(other) => {
            return Err(ApiError::bad_request(
                "filter_op",
                format!("use OR or AND, not {other:?}"),
            ));
        }
    }
    params.flag("fuzzy")?;
    params.flag("simple")?;
    let wanted_facets = {
        let asked = params.all("facets");
        let asked = if asked.is_empty() {
            vec![
                "countries".to_string(),
                "topics".to_string(),
                "datasets".to_string(),
            ]
        } else {
            asked
        };
        for f in &asked {
            if !FACETS.contains(&f.as_str()) {
                return Err(ApiError::bad_request(
                    "facets",
                    format!("unknown facet {f:?}: use {}", FACETS.join(", ")),
                ));
            }
        }
        asked
    };
    let snapshot = state.screening.snapshot().ok();
    let scope = intersect(scope(&state, snapshot.as_deref(), &dataset).await?, {
        let mut include: HashSet<String> = params.all("include_dataset").into_iter().collect();
        include.extend(params.all("datasets"));
        (!include.is_empty()).then_some(include)
    });
    let exclude_datasets: HashSet<String> = params.all("exclude_dataset").into_iter().collect();
    let exclude_schemata: HashSet<String> = params.all("exclude_schema").into_iter().collect();
    let countries: HashSet<String> = params
        .all("countries")
        .into_iter()
        .map(|c| c.to_lowercase())
        .collect();
    let topics: HashSet<String> = params.all("topics").into_iter().collect();
    let filters: Vec<(String, String)> = params
        .all("filter")
        .into_iter()
        .filter_map(|f| {
            f.split_once(':')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let all_filters = params
        .one("filter_op")
        .is_some_and(|op| op.eq_ignore_ascii_case("AND"));

    let user = &principal.user;
    let fetch = (offset + limit + 1).clamp(50, 10_000) as u32;
    let found = if text.is_empty() {
        Vec::new()
    } else {
        let schema_filter = (schema != "Thing").then_some(schema.as_str());
        state
            .store
            .search_entities(&text, schema_filter, fetch, visible_ceiling(user.role))
            .await?
    };
    // One result per id, merged across the datasets the user may see, in rank order.
    let mut copies: Vec<Vec<tandem_store::StoredEntity>> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for held in found {
        if !view::visible(user, &held) || held.entity.sensitivity == Sensitivity::Protected {
            continue;
        }
        match position.get(&held.entity.id) {
            Some(&at) => copies[at].push(held),
            None => {
                position.insert(held.entity.id.clone(), copies.len());
                copies.push(vec![held]);
            }
        }
    }
    let ids: Vec<&str> = position.keys().map(String::as_str).collect();
    let changes = screening::LastChanges::read(state.store.as_ref(), Some(&ids)).await?;
    let mut merged: Vec<(Entity, screening::Meta)> = copies
        .iter()
        .filter_map(|held| Some((view::merged(held)?, screening::Meta::of(held, &changes))))
        .collect();
    let model = Model::get();
    merged.retain(|(entity, meta)| {
        let datasets = &meta.datasets;
        let schema_of = model.schema(&entity.schema);
        let in_scope = scope
            .as_ref()
            .is_none_or(|s| datasets.iter().any(|d| s.contains(d)));
        let not_excluded = !datasets.iter().all(|d| exclude_datasets.contains(d));
        let country_ok = countries.is_empty()
            || entity.properties.iter().any(|(p, vals)| {
                schema_of
                    .and_then(|s| s.property(p))
                    .is_some_and(|prop| prop.kind == PropertyType::Country)
                    && vals.iter().any(|v| countries.contains(v))
            });
        let topic_ok = topics.is_empty() || entity.get("topics").iter().any(|t| topics.contains(t));
        let filter_ok = filters.is_empty() || {
            let hit = |(k, v): &(String, String)| entity.get(k).iter().any(|x| x == v);
            if all_filters {
                filters.iter().all(hit)
            } else {
                filters.iter().any(hit)
            }
        };
        in_scope
            && screening::changed_since(meta, changed_since.as_deref())
            && not_excluded
            && !exclude_schemata.contains(&entity.schema)
            && country_ok
            && topic_ok
            && filter_ok
    });
    let total = merged.len();
    let relation = if total >= fetch as usize { "gte" } else { "eq" };
    let facet_input: Vec<(Entity, Vec<String>)> = merged
        .iter()
        .map(|(e, meta)| (e.clone(), meta.datasets.clone()))
        .collect();
    let results: Vec<Value> = merged
        .iter_mut()
        .skip(offset)
        .take(limit)
        .map(|(entity, meta)| {
            meta.target = snapshot
                .as_ref()
                .and_then(|s| s.meta.get(&entity.id))
                .is_some_and(|m| m.target);
            screening::entity_json(entity, meta)
        })
        .collect();
    Ok(Json(json!({
        "limit": limit,
        "offset": offset,
        "total": {"value": total, "relation": relation},
        "results": results,
        "facets": facets(&facet_input, &wanted_facets),
    })))
}

async fn entity(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw);
    let nested = params.flag("nested")?.unwrap_or(true);
    let user = &principal.user;
    let view::HeldEntity { held, entity, .. } =
        view::read_held(&state, user, &id, "api:yente.entities", remote).await?;
    if !nested {
        let changes = screening::LastChanges::read(state.store.as_ref(), Some(&[&id])).await?;
        let meta = screening::Meta::of(&held, &changes);
        return Ok(Json(screening::entity_json(&entity, &meta)));
    }
    let neighbours = Neighbours::of(&state, user, &entity).await?;
    neighbours.audit(&state, user, "yente.entities").await?;
    let mut out = screening::entity_json(&entity, &screening::Meta::of(&held, &neighbours.changes));
    let mut properties: Map<String, Value> = entity
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    for (property, values) in neighbours.by_property {
        properties.insert(property, Value::Array(values));
    }
    if let Value::Object(map) = &mut out {
        map.insert("properties".into(), Value::Object(properties));
    }
    Ok(Json(out))
}

/// The entities next to one: those its reference properties name (in place of the ids; an id
/// the user may not see, or that is not stored, stays a plain string), and those that point at
/// it, under FtM's reverse property name (Sanction.entity → `sanctions`).
struct Neighbours {
    entity_id: String,
    by_property: BTreeMap<String, Vec<Value>>,
    /// Protected neighbours shown: each is an audited read.
    protected: Vec<String>,
    /// Last changes of the neighbours and of the entity itself.
    changes: screening::LastChanges,
}

/// An entity merged across the datasets a user may see, and those datasets' copies.
type Held = (Entity, Vec<tandem_store::StoredEntity>);

impl Neighbours {
    async fn of(state: &AppState, user: &User, entity: &Entity) -> ApiResult<Neighbours> {
        let id = &entity.id;
        let schema = entity.schema();
        // (property, the neighbour as seen by this user, or the bare id when it is not).
        let mut found: Vec<(String, Result<Held, String>)> = Vec::new();
        for (property, values) in &entity.properties {
            let is_reference = schema
                .property(property)
                .is_some_and(|p| p.kind == PropertyType::Entity);
            if !is_reference {
                continue;
            }
            for value in values {
                let copies = view::visible_entity(state, user, value).await?;
                let neighbour = match view::merged(&copies) {
                    Some(other) => Ok((other, copies)),
                    None => Err(value.clone()),
                };
                found.push((property.clone(), neighbour));
            }
        }
        let mut referencing: BTreeMap<String, Vec<tandem_store::StoredEntity>> = BTreeMap::new();
        for h in state.store.referencing(id).await? {
            if view::visible(user, &h) {
                referencing.entry(h.entity.id.clone()).or_default().push(h);
            }
        }
        for copies in referencing.into_values() {
            let Some(other) = view::merged(&copies) else {
                continue;
            };
            let other_schema = other.schema();
            for (property, values) in &other.properties {
                let Some(prop) = other_schema.property(property) else {
                    continue;
                };
                if prop.kind != PropertyType::Entity || !values.contains(id) {
                    continue;
                }
                // Unnamed reverse sides say which schema and property point here.
                let reverse = prop
                    .reverse
                    .clone()
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| format!("{}:{}", other.schema, property));
                found.push((reverse, Ok((other.clone(), copies.clone()))));
            }
        }
        let mut ids: Vec<&str> = found
            .iter()
            .filter_map(|(_, n)| n.as_ref().ok().map(|(o, _)| o.id.as_str()))
            .collect();
        ids.push(id);
        let changes = screening::LastChanges::read(state.store.as_ref(), Some(&ids)).await?;
        let mut by_property: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut protected = Vec::new();
        for (property, neighbour) in found {
            let value = match neighbour {
                Ok((other, copies)) => {
                    if view::sensitivity_of(&copies) == Sensitivity::Protected
                        && !protected.contains(&other.id)
                    {
                        protected.push(other.id.clone());
                    }
                    screening::entity_json(&other, &screening::Meta::of(&copies, &changes))
                }
                Err(bare_id) => json!(bare_id),
            };
            by_property.entry(property).or_default().push(value);
        }
        Ok(Neighbours {
            entity_id: id.clone(),
            by_property,
            protected,
            changes,
        })
    }

    /// Records the read of every protected neighbour that was shown.
    async fn audit(&self, state: &AppState, user: &User, api: &str) -> ApiResult<()> {
        for other in &self.protected {
            state
                .audit(
                    Some(user),
                    "protected.read",
                    Some(other.clone()),
                    AuditOutcome::Ok,
                    json!({"api": api, "nested_in": self.entity_id}),
                    None,
                )
                .await?;
        }
        Ok(())
    }

    /// One property's neighbours as a yente page (`limit`, `offset`, `total`, `results`); only
    /// entities count, not the ids left as strings.
    fn page(&self, property: &str, limit: usize, offset: usize) -> Value {
        let entities: Vec<&Value> = self
            .by_property
            .get(property)
            .map(|values| values.iter().filter(|v| v.is_object()).collect())
            .unwrap_or_default();
        json!({
            "limit": limit,
            "offset": offset,
            "total": {"value": entities.len(), "relation": "eq"},
            "results": entities.into_iter().skip(offset).take(limit).collect::<Vec<_>>(),
        })
    }
}

/// `limit` (default 10, at most 500) and `offset` of an adjacent page.
fn page_window(params: &Params) -> ApiResult<(usize, usize)> {
    let limit = params.count("limit", 0..=500)?.unwrap_or(10);
    let offset = params.count("offset", 0..=9_499)?.unwrap_or(0);
    Ok((limit, offset))
}

/// `GET /entities/{id}/adjacent`: the entity without nesting, and a page of neighbours per
/// property.
async fn adjacent(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw);
    let (limit, offset) = page_window(&params)?;
    let user = &principal.user;
    let view::HeldEntity { held, entity, .. } =
        view::read_held(&state, user, &id, "api:yente.adjacent", remote).await?;
    let neighbours = Neighbours::of(&state, user, &entity).await?;
    neighbours.audit(&state, user, "yente.adjacent").await?;
    let pages: Map<String, Value> = neighbours
        .by_property
        .keys()
        .map(|property| (property.clone(), neighbours.page(property, limit, offset)))
        .filter(|(_, page)| page["total"]["value"] != json!(0))
        .collect();
    Ok(Json(json!({
        "entity": screening::entity_json(&entity, &screening::Meta::of(&held, &neighbours.changes)),
        "adjacent": pages,
    })))
}

/// `GET /entities/{id}/adjacent/{property}`: one property's page of neighbours. A property the
/// schema does not know (forward or reverse) is a 400, as in yente.
async fn adjacent_property(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path((id, property)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw);
    let (limit, offset) = page_window(&params)?;
    let user = &principal.user;
    let view::HeldEntity { entity, .. } =
        view::read_held(&state, user, &id, "api:yente.adjacent", remote).await?;
    let neighbours = Neighbours::of(&state, user, &entity).await?;
    // The schema lists reverse sides as stub properties; unnamed reverse sides are keyed
    // `Schema:property`.
    let known = entity.schema().property(&property).is_some()
        || neighbours.by_property.contains_key(&property);
    if !known {
        return Err(ApiError::bad_request(
            "property_name",
            format!("{property:?} is not a property of {}", entity.schema),
        ));
    }
    neighbours.audit(&state, user, "yente.adjacent").await?;
    Ok(Json(neighbours.page(&property, limit, offset)))
}

async fn algorithms() -> Json<Value> {
    let defaults = MatchConfig::default();
    Json(json!({
        "algorithms": [{
            "name": "tandem",
            "description": "Tandem's matcher: order-free alignment of analysed name parts (transliteration, particles, legal forms, name equivalences), identifiers as strong evidence, soft birth-date, country and gender penalties; every score explained.",
            "docs": {
                "config": {
                    "nm_extra_query_name": {"type": "float", "description": "weight of a query name part the candidate lacks", "default": defaults.name.person_extra_query},
                    "nm_extra_result_name": {"type": "float", "description": "weight of a candidate name part the query lacks", "default": defaults.name.person_extra_candidate},
                },
                "features": {
                    "name_match": {"description": "best alignment of the names of both sides", "coefficient": defaults.name_match, "url": ""},
                    "weak_alias_match": {"description": "a weak alias matched", "coefficient": defaults.weak_alias_match, "url": ""},
                    "identifier_match": {"description": "a shared identifier", "coefficient": defaults.identifier_match, "url": ""},
                    "strong_identifier_match": {"description": "a shared global identifier (IMO, LEI, …)", "coefficient": defaults.strong_identifier_match, "url": ""},
                    "dob_year_disjoint": {"description": "birth years differ", "coefficient": defaults.dob_year_disjoint, "url": ""},
                    "dob_day_disjoint": {"description": "birth days differ", "coefficient": defaults.dob_day_disjoint, "url": ""},
                    "country_mismatch": {"description": "no country in common", "coefficient": defaults.country_mismatch, "url": ""},
                    "gender_mismatch": {"description": "genders differ", "coefficient": defaults.gender_mismatch, "url": ""},
                },
            },
        }],
        "default": "tandem",
        "best": "tandem",
    }))
}

/// The datasets one user may screen against (protected case data never is), latest first
/// version and import time included.
async fn screenable_datasets(state: &AppState, user: &User) -> ApiResult<Vec<Value>> {
    let mut out = Vec::new();
    for dataset in state.store.datasets().await? {
        let visible = dataset.sensitivity != Sensitivity::Protected
            && may_see(
                user.role,
                user.organisation_id,
                dataset.sensitivity,
                dataset.owner_organisation,
            );
        if !visible {
            continue;
        }
        let updated_at = state
            .store
            .versions(&dataset.name)
            .await?
            .last()
            .map(|v| screening::timestamp(&v.imported_at));
        out.push(json!({
            "name": dataset.name,
            "title": dataset.title.clone().unwrap_or_else(|| dataset.name.clone()),
            "version": dataset.version,
            "updated_at": updated_at,
            "entity_count": dataset.entities,
            "load": true,
            "type": "source",
            "children": [],
        }));
    }
    Ok(out)
}

/// `GET /catalog`: yente's catalogue of indexed datasets. `index_stale` says whether a list was
/// imported since the screening index was built (it catches up within seconds).
async fn catalog(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let datasets = screenable_datasets(&state, &principal.user).await?;
    let latest = state
        .store
        .latest_version_id()
        .await?
        .unwrap_or(0)
        .to_string();
    let indexed = state.screening.snapshot().ok();
    let index_stale = indexed.as_ref().is_none_or(|s| s.generation != latest);
    let names: Vec<&Value> = datasets.iter().map(|d| &d["name"]).collect();
    let (current, outdated) = if index_stale {
        (Vec::new(), names)
    } else {
        (names, Vec::new())
    };
    Ok(Json(json!({
        "datasets": datasets,
        "current": current,
        "outdated": outdated,
        "index_stale": index_stale,
    })))
}

/// `GET /manifest`: what this server loads. yente reads it from a file; in Tandem the lists are
/// whatever was imported, so the manifest lists them with the `default` collection over all.
async fn manifest(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let datasets = screenable_datasets(&state, &principal.user).await?;
    let children: Vec<Value> = datasets.iter().map(|d| d["name"].clone()).collect();
    Ok(Json(json!({
        "catalogs": [],
        "datasets": datasets,
        "collections": [{"name": "default", "title": "All screenable lists", "children": children}],
    })))
}

/// `POST /updatez`: re-index now instead of at the next check (yente's token-protected
/// re-index; here it needs the right to import lists).
async fn update_index(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.screening.refresh(&state.store).await?;
    let snapshot = state.screening.snapshot()?;
    Ok(Json(json!({
        "status": "ok",
        "entities": snapshot.index.len(),
        "generation": snapshot.generation,
        "built_at": snapshot.built_at,
    })))
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.screening.snapshot() {
        Ok(snapshot) => Json(json!({"status": "ok", "entities": snapshot.index.len(), "built_at": snapshot.built_at, "generation": snapshot.generation})).into_response(),
        Err(err) => err.into_response(),
    }
}
