//! Testimony intelligence under the guards of protection spec §4.3: a protection officer
//! confirms each actor a testimony mentions ("same as an existing actor" or "new actor"), and
//! confirmed actors become one entity each in [`INTELLIGENCE_DATASET`].
//!
//! The guard sits on the entity's sensitivity, which the one gate every analyst-facing read
//! goes through (`authz::may_see`, used by `view::read_held`, searches, the names and
//! screening indexes, yente routes, exports and graphs) already applies: an actor named in
//! fewer than [`GUARD_TESTIMONIES`] independent testimonies and not reviewed is stored
//! `protected` with no owning organisation, in a protected dataset of its own ([`HELD_DATASET`])
//! — encrypted, kept out of every name index and dataset list, and visible to no role — and
//! moves to [`INTELLIGENCE_DATASET`] as `restricted` once the guard is met. Edges between
//! actors follow the stricter of their two ends.
//!
//! Protection officers (case workers: the Cases permission) read actors here, through their
//! own audited routes; the link back to a case opens only for the case's own organisation.

use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tandem_core::{Entity, Sensitivity};
use tandem_protect::testimony::{
    ActorIntelligence, MentionEvidence, case_reference, co_mention_link, new_actor_id,
    promote_actor,
};
use tandem_store::intelligence::{
    Confirmation, GUARD_TESTIMONIES, IntelActor, Mention, NewMention, NewTestimonyLink,
};
use tandem_store::security::AuditOutcome;
use tandem_store::{ImportMode, ImportRequest, StoreError};

use crate::app::{AppState, Principal, RemoteAddr, Table, form_field};
use crate::error::{ApiError, ApiResult};
use crate::openapi::object;
use crate::pages::{Chrome, render_status};
use crate::protection::{Candidate, INTELLIGENCE_DATASET, READ_CASES, WRITE_CASES, json_body};

/// The name of the protection secret that keys testimony references, case references and
/// actor ids (never available to the analytics side).
pub(crate) const INTELLIGENCE_SECRET: &str = "intelligence";

pub(crate) fn routes(table: Table) -> Table {
    table
        .page(
            Method::GET,
            "/protection/intelligence",
            READ_CASES,
            queue_page,
        )
        .page(
            Method::POST,
            "/protection/intelligence/mentions/{id}",
            WRITE_CASES,
            confirm_form,
        )
        .page(
            Method::GET,
            "/protection/intelligence/actors/{id}",
            READ_CASES,
            actor_page,
        )
        .page(
            Method::POST,
            "/protection/intelligence/actors/{id}/review",
            WRITE_CASES,
            review_form,
        )
        .api(
            Method::GET,
            "/api/v1/intelligence/mentions",
            READ_CASES,
            mentions_api,
        )
        .api(
            Method::POST,
            "/api/v1/intelligence/mentions/{id}/confirm",
            WRITE_CASES,
            confirm_api,
        )
        .api(
            Method::GET,
            "/api/v1/intelligence/actors",
            READ_CASES,
            actors_api,
        )
        .api(
            Method::GET,
            "/api/v1/intelligence/actors/{id}",
            READ_CASES,
            actor_api,
        )
        .api(
            Method::POST,
            "/api/v1/intelligence/actors/{id}/review",
            WRITE_CASES,
            review_api,
        )
}

/// Summary and request body of each JSON route of this module (for the OpenAPI document).
pub fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    Some(match (method.as_str(), path) {
        ("GET", "/api/v1/intelligence/mentions") => (
            "Actor mentions of your organisation's testimonies waiting for confirmation, with candidate matches",
            None,
        ),
        ("POST", "/api/v1/intelligence/mentions/{id}/confirm") => (
            "Confirm a mentioned actor as a new actor or the same as an existing one",
            Some(object(
                &["actor"],
                json!({"actor": {"type": "string",
                    "description": "`new`, or the id of an existing intelligence actor"}}),
            )),
        ),
        ("GET", "/api/v1/intelligence/actors") => (
            "Confirmed actors with their independent-testimony counts and guard state",
            None,
        ),
        ("GET", "/api/v1/intelligence/actors/{id}") => (
            "One confirmed actor as protection officers see it (audited)",
            None,
        ),
        ("POST", "/api/v1/intelligence/actors/{id}/review") => (
            "Record a re-identification review: the actor may be shown to analysts (audited)",
            Some(object(
                &["reason"],
                json!({"reason": {"type": "string", "maxLength": 200}}),
            )),
        ),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Coding: mentions wait for confirmation

/// What a mention row holds (sealed in the store).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MentionBody {
    pub evidence: MentionEvidence,
    /// Graph entities the name screening proposed when the testimony was coded.
    #[serde(default)]
    pub graph_candidates: Vec<Candidate>,
}

/// Stores the protected link of a coded testimony and one pending mention per actor. Nothing
/// reaches the entity graph until a protection officer confirms a mention.
pub async fn record_testimony(
    state: &AppState,
    organisation_id: i64,
    case_id: &str,
    testimony_record_id: i64,
    intel: &ActorIntelligence,
    screening: &[(usize, Vec<Candidate>)],
) -> ApiResult<Vec<Mention>> {
    let key = state.store.protection_secret(INTELLIGENCE_SECRET).await?;
    let case_ref = case_reference(&key, case_id).map_err(ApiError::internal)?;
    let testimony_ref = intel.provenance.testimony_ref.clone();
    let mut mentions = Vec::new();
    // `intelligence_from_testimony` makes one `Person` per actor, in the order of the actors.
    for (index, entity) in intel
        .entities
        .iter()
        .filter(|e| e.schema == "Person")
        .enumerate()
    {
        let graph_candidates = screening
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let body = MentionBody {
            evidence: MentionEvidence {
                entity: entity.clone(),
                testimony_ref: testimony_ref.clone(),
                first_quarter: intel.first_quarter,
                last_quarter: intel.last_quarter,
                corridor: intel.corridor.clone(),
            },
            graph_candidates,
        };
        mentions.push(NewMention {
            mention_index: u32::try_from(index).map_err(ApiError::internal)?,
            body: serde_json::to_value(&body).map_err(ApiError::internal)?,
        });
    }
    Ok(state
        .store
        .record_mentions(
            NewTestimonyLink {
                testimony_ref,
                case_ref,
                case_id: case_id.to_string(),
                testimony_record_id,
                organisation_id,
            },
            mentions,
        )
        .await?)
}

/// Removes the intelligence links of an erased case (spec §6.5): its actors lose the
/// provenance link, their testimony count drops, and those below the guard without a review
/// are held back again; actors no testimony names any more are deleted.
pub async fn erase_case_links(state: &AppState, case_id: &str) -> ApiResult<u64> {
    let key = state.store.protection_secret(INTELLIGENCE_SECRET).await?;
    let case_ref = case_reference(&key, case_id).map_err(ApiError::internal)?;
    let erased = state.store.erase_intelligence_links(&case_ref).await?;
    rebuild(state, &erased.actors).await?;
    Ok(erased.testimonies)
}

// ---------------------------------------------------------------------------------------------
// Promotion

fn body_of(mention: &Mention) -> ApiResult<MentionBody> {
    serde_json::from_value(mention.body.clone())
        .map_err(|err| ApiError::internal(format!("intelligence mention {}: {err}", mention.id)))
}

fn is_intelligence(held: &tandem_store::StoredEntity) -> bool {
    held.dataset == INTELLIGENCE_DATASET || held.dataset == HELD_DATASET
}

/// Serialises [`rebuild`] within this process.
static REBUILD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Rewrites the entities of these actors (and the edges between them and the actors named
/// with them) from the confirmed mentions, applying the guard to each.
pub async fn rebuild(state: &AppState, actor_ids: &[String]) -> ApiResult<()> {
    if actor_ids.is_empty() {
        return Ok(());
    }
    // Reading the guard state and writing the entities is one step: a rebuild that read
    // before another one wrote must not overwrite it with a stale count (say, show an actor
    // that an erasure just took below the guard). Promotions are rare; queueing them is cheap.
    let _one_at_a_time = REBUILD.lock().await;
    let mut puts: Vec<Entity> = Vec::new();
    let mut deletes: Vec<String> = Vec::new();
    for actor_id in actor_ids {
        let edges: Vec<String> = state
            .store
            .referencing(actor_id)
            .await?
            .into_iter()
            .filter(|h| is_intelligence(h) && h.entity.schema == "UnknownLink")
            .map(|h| h.entity.id)
            .collect();
        let Some(actor) = state.store.intel_actor(actor_id).await? else {
            deletes.push(actor_id.clone());
            deletes.extend(edges);
            continue;
        };
        let evidence: Vec<MentionEvidence> = state
            .store
            .actor_mentions(actor_id)
            .await?
            .iter()
            .map(|m| body_of(m).map(|b| b.evidence))
            .collect::<ApiResult<_>>()?;
        let mut entity = promote_actor(actor_id, &evidence).map_err(ApiError::internal)?;
        entity.sensitivity = guarded(&actor);
        puts.push(entity);
        let mut kept = Vec::new();
        for (other, shared) in state.store.co_mentioned(actor_id).await? {
            let other_sensitivity = match state.store.intel_actor(&other).await? {
                Some(o) => guarded(&o),
                None => continue,
            };
            let mut link = co_mention_link(actor_id, &other, shared).map_err(ApiError::internal)?;
            link.sensitivity = guarded(&actor).max(other_sensitivity);
            kept.push(link.id.clone());
            puts.push(link);
        }
        deletes.extend(edges.into_iter().filter(|e| !kept.contains(e)));
    }
    write_entities(state, puts, deletes).await
}

/// The sensitivity an actor's entity is stored with: `restricted` once the guard is met,
/// `protected` (visible to no role through the sensitivity gate) until then.
fn guarded(actor: &IntelActor) -> Sensitivity {
    if actor.released {
        Sensitivity::Restricted
    } else {
        Sensitivity::Protected
    }
}

/// The dataset of actors held back by the guard. It is `protected` with no owning
/// organisation: no dataset list, version list or change list shows it to anyone, so analysts
/// cannot even count the actors waiting behind the guard or learn their ids.
pub const HELD_DATASET: &str = "testimony_intelligence_held";

/// Writes the rebuilt entities: held-back ones into [`HELD_DATASET`], released ones into
/// [`INTELLIGENCE_DATASET`], each removed from the other. The held dataset is written first,
/// so an actor falling back below the guard is never missing from both while it moves, and an
/// actor being released is, at worst, briefly in neither: never visible early.
async fn write_entities(
    state: &AppState,
    puts: Vec<Entity>,
    deletes: Vec<String>,
) -> ApiResult<()> {
    let (held, released): (Vec<Entity>, Vec<Entity>) = puts
        .into_iter()
        .partition(|e| e.sensitivity == Sensitivity::Protected);
    let leaving = |staying: &[Entity], moving: &[Entity]| -> Vec<String> {
        deletes
            .iter()
            .cloned()
            .chain(moving.iter().map(|e| e.id.clone()))
            .filter(|id| !staying.iter().any(|e| e.id == *id))
            .collect()
    };
    // Only what a dataset holds is deleted from it: an empty change would still add a version
    // whose time tells that something happened behind the guard.
    let mut held_deletes = Vec::new();
    let mut released_deletes = Vec::new();
    for (id, wanted_in_held, wanted_in_released) in leaving(&held, &released)
        .into_iter()
        .map(|id| (id, true, false))
        .chain(
            leaving(&released, &held)
                .into_iter()
                .map(|id| (id, false, true)),
        )
    {
        for copy in state.store.entity(&id).await? {
            if wanted_in_held && copy.dataset == HELD_DATASET {
                held_deletes.push(id.clone());
            }
            if wanted_in_released && copy.dataset == INTELLIGENCE_DATASET {
                released_deletes.push(id.clone());
            }
        }
    }
    write_dataset(state, HELD_DATASET, &held, &held_deletes).await?;
    write_dataset(state, INTELLIGENCE_DATASET, &released, &released_deletes).await
}

/// One delta import into one intelligence dataset. Two promotions at the same moment collide
/// on the dataset's import lock (or, across servers, on its version check); the later one
/// waits and tries again.
async fn write_dataset(
    state: &AppState,
    dataset: &str,
    puts: &[Entity],
    deletes: &[String],
) -> ApiResult<()> {
    if puts.is_empty() && deletes.is_empty() {
        return Ok(());
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write_once(state, dataset, puts, deletes).await {
            Ok(()) => return Ok(()),
            Err(err) if attempt < 8 && !matches!(err, StoreError::Crypto(_)) => {
                tracing::debug!(%err, attempt, "intelligence write retried");
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

async fn write_once(
    state: &AppState,
    dataset: &str,
    puts: &[Entity],
    deletes: &[String],
) -> Result<(), StoreError> {
    let now = tandem_core::time::now_iso();
    let token = crate::auth::random_token();
    let held = dataset == HELD_DATASET;
    let mut session = state
        .store
        .begin_import(ImportRequest {
            dataset: dataset.into(),
            title: Some(if held {
                "Testimony actors held back by the guard (protected)".into()
            } else {
                "Actors mentioned in testimonies (restricted)".into()
            }),
            version: format!("{now}-{}", token.get(..12).unwrap_or(&token)),
            mode: ImportMode::Delta,
            sensitivity: if held {
                Sensitivity::Protected
            } else {
                Sensitivity::Restricted
            },
            source: "testimony: actors confirmed by protection officers".into(),
            owner_organisation: None,
        })
        .await?;
    for id in deletes {
        session.delete(id).await?;
    }
    for entity in puts {
        session.put(entity.clone()).await?;
    }
    session.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Decisions

/// How a protection officer decides one mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    New,
    Same(String),
}

impl Decision {
    fn parse(text: &str) -> ApiResult<Decision> {
        match text.trim() {
            "" => Err(ApiError::bad_request(
                "actor",
                "choose `new` or the id of an existing actor",
            )),
            "new" => Ok(Decision::New),
            other => Ok(Decision::Same(other.to_string())),
        }
    }
}

/// The mention, if it belongs to the caller's organisation (others look absent).
async fn own_mention(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Mention> {
    let missing = || ApiError::not_found(format!("no pending actor mention {id}"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    let mention = state.store.mention(id).await?.ok_or_else(missing)?;
    if mention.organisation_id != principal.user.organisation_id {
        return Err(missing());
    }
    Ok(mention)
}

pub async fn confirm(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    mention_id: &str,
    decision: Decision,
) -> ApiResult<IntelActor> {
    let mention = own_mention(state, principal, mention_id).await?;
    let confirmation = match &decision {
        Decision::New => {
            let key = state.store.protection_secret(INTELLIGENCE_SECRET).await?;
            Confirmation::New(
                new_actor_id(&key, &mention.testimony_ref, mention.mention_index)
                    .map_err(ApiError::internal)?,
            )
        }
        Decision::Same(actor) => Confirmation::Same(actor.clone()),
    };
    let user = &principal.user;
    let decided = state
        .store
        .confirm_mention(mention.id, confirmation, &user.username, Some(user.id))
        .await
        .map_err(|err| match err {
            StoreError::Invalid(detail) => ApiError::conflict(detail),
            other => other.into(),
        })?;
    let actor_id = decided
        .actor_id
        .ok_or_else(|| ApiError::internal("a confirmed mention without an actor"))?;
    rebuild(state, std::slice::from_ref(&actor_id)).await?;
    let actor = state
        .store
        .intel_actor(&actor_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("actor {actor_id} vanished")))?;
    state
        .audit(
            Some(user),
            "intelligence.confirm",
            Some(actor_id.clone()),
            AuditOutcome::Ok,
            json!({"mention": mention.id, "new_actor": decision == Decision::New,
                "testimonies": actor.testimonies, "released": actor.released}),
            remote.clone(),
        )
        .await?;
    Ok(actor)
}

pub async fn review(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    actor_id: &str,
    reason: &str,
) -> ApiResult<IntelActor> {
    let user = &principal.user;
    let actor = state
        .store
        .review_intel_actor(actor_id, &user.username, Some(user.id), reason)
        .await?;
    rebuild(state, &[actor_id.to_string()]).await?;
    state
        .audit(
            Some(user),
            "intelligence.review",
            Some(actor_id.to_string()),
            AuditOutcome::Ok,
            json!({"reason": reason.trim(), "testimonies": actor.testimonies}),
            remote.clone(),
        )
        .await?;
    Ok(actor)
}

// ---------------------------------------------------------------------------------------------
// What protection officers see

#[derive(Debug, Clone, Serialize)]
pub struct ActorCandidate {
    pub actor_id: String,
    pub caption: String,
    pub score: f64,
    pub testimonies: u64,
    pub released: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PendingMention {
    pub id: i64,
    pub caption: String,
    pub properties: Value,
    pub first_quarter: Option<String>,
    pub last_quarter: Option<String>,
    pub corridor: Option<String>,
    pub actor_candidates: Vec<ActorCandidate>,
    pub graph_candidates: Vec<Candidate>,
}

/// The stored entity of an actor, whatever its guard state (for protection officers only).
async fn actor_entity(state: &AppState, actor_id: &str) -> ApiResult<Option<Entity>> {
    Ok(state
        .store
        .entity(actor_id)
        .await?
        .into_iter()
        .find(is_intelligence)
        .map(|h| h.entity))
}

/// Existing actors that may be the one mentioned: name screening (transliteration, phonetic
/// keys) over the actors' entities, and any shared phone number or handle.
fn actor_candidates(mention: &Entity, actors: &[(IntelActor, Entity)]) -> Vec<ActorCandidate> {
    let config = tandem_match::MatchConfig::default();
    let query = tandem_match::Subject::from_entity(mention).ok();
    let exact: Vec<&String> = mention
        .get("phone")
        .iter()
        .chain(
            mention
                .get("keywords")
                .iter()
                .filter(|k| k.starts_with("handle:")),
        )
        .collect();
    let mut out: Vec<ActorCandidate> = actors
        .iter()
        .filter_map(|(actor, entity)| {
            let shared = entity
                .get("phone")
                .iter()
                .chain(entity.get("keywords"))
                .any(|v| exact.contains(&v));
            let named = match (&query, tandem_match::Subject::from_entity(entity)) {
                (Some(q), Ok(c)) => tandem_match::score(q, &c, &config, 0.7).score,
                _ => 0.0,
            };
            let score = if shared { named.max(1.0) } else { named };
            (score >= 0.5).then(|| ActorCandidate {
                actor_id: actor.actor_id.clone(),
                caption: entity.caption().to_string(),
                score,
                testimonies: actor.testimonies,
                released: actor.released,
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(5);
    out
}

async fn all_actors(state: &AppState) -> ApiResult<Vec<(IntelActor, Entity)>> {
    let mut out = Vec::new();
    for actor in state.store.intel_actors().await? {
        if let Some(entity) = actor_entity(state, &actor.actor_id).await? {
            out.push((actor, entity));
        }
    }
    Ok(out)
}

/// The caller's organisation's pending mentions with their candidates. Audited: the mentions
/// come from protected testimonies.
pub async fn pending(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
) -> ApiResult<(Vec<PendingMention>, Vec<(IntelActor, Entity)>)> {
    let mentions = state
        .store
        .mentions(Some(principal.user.organisation_id), true)
        .await?;
    let actors = all_actors(state).await?;
    let mut out = Vec::new();
    for mention in &mentions {
        let body = body_of(mention)?;
        let entity = &body.evidence.entity;
        out.push(PendingMention {
            id: mention.id,
            caption: entity.caption().to_string(),
            properties: serde_json::to_value(&entity.properties).map_err(ApiError::internal)?,
            first_quarter: body.evidence.first_quarter.map(|q| q.to_string()),
            last_quarter: body.evidence.last_quarter.map(|q| q.to_string()),
            corridor: body.evidence.corridor.clone(),
            actor_candidates: actor_candidates(entity, &actors),
            graph_candidates: body.graph_candidates,
        });
    }
    state
        .audit(
            Some(&principal.user),
            "intelligence.read",
            None,
            AuditOutcome::Ok,
            json!({"pending": out.len(), "actors": actors.len()}),
            remote.clone(),
        )
        .await?;
    Ok((out, actors))
}

#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub source_kind: &'static str,
    pub testimony_ref: String,
    /// The case, only for the case's own organisation.
    pub case_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActorDetail {
    pub actor: IntelActor,
    pub caption: String,
    pub properties: Value,
    pub sensitivity: Sensitivity,
    pub provenance: Vec<Provenance>,
    pub guard: u64,
}

pub async fn actor_detail(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    actor_id: &str,
) -> ApiResult<ActorDetail> {
    let missing = || ApiError::not_found(format!("no intelligence actor {actor_id}"));
    let actor = state
        .store
        .intel_actor(actor_id)
        .await?
        .ok_or_else(missing)?;
    let held = state
        .store
        .entity(actor_id)
        .await?
        .into_iter()
        .find(is_intelligence)
        .ok_or_else(missing)?;
    let mut provenance = Vec::new();
    let mut refs: Vec<String> = state
        .store
        .actor_mentions(actor_id)
        .await?
        .into_iter()
        .map(|m| m.testimony_ref)
        .collect();
    refs.dedup();
    for testimony_ref in refs {
        let link = state.store.resolve_testimony_ref(&testimony_ref).await?;
        let case_id = link
            .filter(|l| l.organisation_id == principal.user.organisation_id)
            .map(|l| l.case_id);
        provenance.push(Provenance {
            source_kind: "testimony",
            testimony_ref,
            case_id,
        });
    }
    state
        .audit(
            Some(&principal.user),
            "intelligence.read",
            Some(actor_id.to_string()),
            AuditOutcome::Ok,
            json!({"links_resolved": provenance.iter().filter(|p| p.case_id.is_some()).count()}),
            remote.clone(),
        )
        .await?;
    Ok(ActorDetail {
        caption: held.entity.caption().to_string(),
        properties: serde_json::to_value(&held.entity.properties).map_err(ApiError::internal)?,
        sensitivity: held.entity.sensitivity,
        actor,
        provenance,
        guard: GUARD_TESTIMONIES,
    })
}

// ---------------------------------------------------------------------------------------------
// JSON API

async fn mentions_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
) -> ApiResult<Response> {
    let (pending, _) = pending(&state, &principal, &remote).await?;
    Ok(Json(json!({"mentions": pending})).into_response())
}

#[derive(Deserialize)]
struct ConfirmBody {
    #[serde(default)]
    actor: String,
}

async fn confirm_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    // The mention is looked up first, so an unknown one is 404 whatever the body says.
    own_mention(&state, &principal, &id).await?;
    let body: ConfirmBody = json_body(&body)?;
    let actor = confirm(
        &state,
        &principal,
        &remote,
        &id,
        Decision::parse(&body.actor)?,
    )
    .await?;
    Ok(Json(json!({"actor": actor})).into_response())
}

async fn actors_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
) -> ApiResult<Response> {
    let actors = state.store.intel_actors().await?;
    state
        .audit(
            Some(&principal.user),
            "intelligence.read",
            None,
            AuditOutcome::Ok,
            json!({"actors": actors.len()}),
            remote,
        )
        .await?;
    Ok(Json(json!({"actors": actors, "guard": GUARD_TESTIMONIES})).into_response())
}

async fn actor_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(actor_detail(&state, &principal, &remote, &id).await?).into_response())
}

#[derive(Deserialize)]
struct ReviewBody {
    #[serde(default)]
    reason: String,
}

async fn review_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    if state.store.intel_actor(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no intelligence actor {id}")));
    }
    let body: ReviewBody = json_body(&body)?;
    let actor = review(&state, &principal, &remote, &id, &body.reason).await?;
    Ok(Json(json!({"actor": actor})).into_response())
}

// ---------------------------------------------------------------------------------------------
// Pages

/// A property list for a page: `name: a, b`.
fn property_lines(properties: &Value) -> Vec<(String, String)> {
    properties
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let values: Vec<&str> = v
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    (crate::view::label(k), values.join(", "))
                })
                .collect()
        })
        .unwrap_or_default()
}

struct PendingView {
    id: i64,
    caption: String,
    lines: Vec<(String, String)>,
    span: String,
    candidates: Vec<ActorCandidate>,
    graph: Vec<Candidate>,
}

struct ActorRow {
    id: String,
    caption: String,
    testimonies: u64,
    released: bool,
    reviewed: bool,
}

#[derive(Template)]
#[template(path = "protection/intelligence.html")]
struct QueuePage {
    chrome: Chrome,
    csrf: String,
    pending: Vec<PendingView>,
    actors: Vec<ActorRow>,
    guard: u64,
    error: Option<String>,
}

async fn queue_view(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    error: Option<String>,
) -> ApiResult<QueuePage> {
    let (pending, actors) = pending(state, principal, remote).await?;
    Ok(QueuePage {
        chrome: Chrome::new(Some(principal), "intelligence"),
        csrf: principal.csrf_token().unwrap_or_default().to_string(),
        pending: pending
            .into_iter()
            .map(|p| PendingView {
                id: p.id,
                caption: p.caption,
                lines: property_lines(&p.properties),
                span: match (p.first_quarter, p.last_quarter, p.corridor) {
                    (Some(f), Some(l), c) => format!(
                        "{f} – {l}{}",
                        c.map(|c| format!(", {c}")).unwrap_or_default()
                    ),
                    (_, _, Some(c)) => c,
                    _ => String::new(),
                },
                candidates: p.actor_candidates,
                graph: p.graph_candidates,
            })
            .collect(),
        actors: actors
            .into_iter()
            .map(|(a, e)| ActorRow {
                id: a.actor_id.clone(),
                caption: e.caption().to_string(),
                testimonies: a.testimonies,
                released: a.released,
                reviewed: a.review.is_some(),
            })
            .collect(),
        guard: GUARD_TESTIMONIES,
        error,
    })
}

async fn queue_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
) -> ApiResult<Response> {
    let page = queue_view(&state, &principal, &remote, None).await?;
    Ok(render_status(StatusCode::OK, &page))
}

async fn confirm_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    own_mention(&state, &principal, &id).await?;
    let outcome = match Decision::parse(&form_field(&body, "actor").unwrap_or_default()) {
        Ok(decision) => confirm(&state, &principal, &remote, &id, decision).await,
        Err(err) => Err(err),
    };
    // Refused for a reason the officer can fix: the queue again, with the problem.
    let outcome = outcome.map(|actor| actor.actor_id);
    answer_form(&state, &principal, &remote, outcome, None, |status| {
        status.is_client_error() && status != StatusCode::FORBIDDEN
    })
    .await
}

/// The answer to a form post that settled actor `outcome`: its page on success; when
/// `shows_again` accepts the refusal's status, the form's page (the actor's when `actor` is
/// given, the queue otherwise) with the problem; any other refusal as it is.
async fn answer_form(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    outcome: ApiResult<String>,
    actor: Option<&str>,
    shows_again: impl Fn(StatusCode) -> bool,
) -> ApiResult<Response> {
    match outcome {
        Ok(actor_id) => Ok(
            Redirect::to(&format!("/protection/intelligence/actors/{actor_id}")).into_response(),
        ),
        Err(err) if shows_again(err.status) => {
            let detail = err.detail.clone();
            Ok(match actor {
                Some(id) => render_status(
                    err.status,
                    &actor_view(state, principal, remote, id, detail).await?,
                ),
                None => render_status(
                    err.status,
                    &queue_view(state, principal, remote, detail).await?,
                ),
            })
        }
        Err(err) => Err(err),
    }
}

#[derive(Template)]
#[template(path = "protection/intelligence_actor.html")]
struct ActorPage {
    chrome: Chrome,
    csrf: String,
    detail: ActorDetail,
    lines: Vec<(String, String)>,
    error: Option<String>,
}

async fn actor_view(
    state: &AppState,
    principal: &Principal,
    remote: &Option<String>,
    id: &str,
    error: Option<String>,
) -> ApiResult<ActorPage> {
    let detail = actor_detail(state, principal, remote, id).await?;
    Ok(ActorPage {
        chrome: Chrome::new(Some(principal), "intelligence"),
        csrf: principal.csrf_token().unwrap_or_default().to_string(),
        lines: property_lines(&detail.properties),
        detail,
        error,
    })
}

async fn actor_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let page = actor_view(&state, &principal, &remote, &id, None).await?;
    Ok(render_status(StatusCode::OK, &page))
}

async fn review_form(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    if state.store.intel_actor(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no intelligence actor {id}")));
    }
    let outcome = review(
        &state,
        &principal,
        &remote,
        &id,
        &form_field(&body, "reason").unwrap_or_default(),
    )
    .await
    .map(|_| id.clone());
    // Only a reason the officer can fix shows the page again.
    answer_form(&state, &principal, &remote, outcome, Some(&id), |status| {
        status == StatusCode::BAD_REQUEST
    })
    .await
}
