//! What pages and the JSON API both show of entities: visibility under the sensitivity gate,
//! captions, property rows with provenance, relations and the small network around an entity.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tandem_core::{Entity, Model, PropertyType, Sensitivity, Statement};
use tandem_store::StoredEntity;
use tandem_store::security::User;

use crate::app::AppState;
use crate::authz::may_see;
use crate::error::ApiError;

/// The datasets' versions of an entity that this user may see.
pub async fn visible_entity(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<Vec<StoredEntity>, ApiError> {
    let held = state.store.entity(id).await?;
    Ok(held.into_iter().filter(|h| visible(user, h)).collect())
}

pub fn visible(user: &User, held: &StoredEntity) -> bool {
    may_see(
        user.role,
        user.organisation_id,
        held.entity.sensitivity,
        held.owner_organisation,
    )
}

/// The most sensitive of what is shown, for the badge and the audit.
pub fn sensitivity_of(held: &[StoredEntity]) -> Sensitivity {
    held.iter()
        .map(|h| h.entity.sensitivity)
        .max()
        .unwrap_or_default()
}

/// One entity merged across the visible datasets (same id, different sources).
pub fn merged(held: &[StoredEntity]) -> Option<Entity> {
    let mut iter = held.iter();
    let mut entity = iter.next()?.entity.clone();
    for other in iter {
        // Different sources may disagree on the schema; keep the first when they cannot merge.
        let _ = entity.merge(&other.entity);
    }
    Some(entity)
}

/// An entity as one user may see it: the datasets that hold it, their values merged, and the
/// statements of those datasets with provenance.
pub struct EntityView {
    pub held: Vec<StoredEntity>,
    pub entity: Entity,
    pub sensitivity: Sensitivity,
    pub statements: Vec<Statement>,
}

impl EntityView {
    pub fn datasets(&self) -> Vec<&str> {
        self.held.iter().map(|h| h.dataset.as_str()).collect()
    }
}

/// Reads an entity for `user`, auditing the read when it is protected (`via` names the page or
/// endpoint in the audit entry). Not found and not allowed look the same, so nothing is
/// revealed about records the user may not see.
pub async fn read_entity(
    state: &AppState,
    user: &User,
    id: &str,
    via: &str,
    remote: Option<String>,
) -> Result<EntityView, ApiError> {
    let HeldEntity {
        held,
        entity,
        sensitivity,
    } = read_held(state, user, id, via, remote).await?;
    let datasets: Vec<&str> = held.iter().map(|h| h.dataset.as_str()).collect();
    let statements = state
        .store
        .statements(id)
        .await?
        .into_iter()
        .filter(|s| datasets.contains(&s.provenance.dataset.as_str()))
        .collect();
    Ok(EntityView {
        held,
        entity,
        sensitivity,
        statements,
    })
}

/// An entity as one user may see it, without its statements.
pub struct HeldEntity {
    pub held: Vec<StoredEntity>,
    pub entity: Entity,
    pub sensitivity: Sensitivity,
}

/// The gate and the audit of [`read_entity`], for callers that need no statements.
pub async fn read_held(
    state: &AppState,
    user: &User,
    id: &str,
    via: &str,
    remote: Option<String>,
) -> Result<HeldEntity, ApiError> {
    let held = visible_entity(state, user, id).await?;
    let Some(entity) = merged(&held) else {
        return Err(ApiError::not_found(format!("no entity {id}")));
    };
    let sensitivity = sensitivity_of(&held);
    if sensitivity == Sensitivity::Protected {
        state
            .audit(
                Some(user),
                "protected.read",
                Some(id.to_string()),
                tandem_store::security::AuditOutcome::Ok,
                serde_json::json!({ "via": via }),
                remote,
            )
            .await?;
    }
    Ok(HeldEntity {
        held,
        entity,
        sensitivity,
    })
}

fn day(timestamp: &str) -> String {
    timestamp.split('T').next().unwrap_or(timestamp).to_string()
}

/// `birthDate` → `Birth date`.
pub fn label(property: &str) -> String {
    if let Some(own) = property.strip_prefix("tandem:") {
        return format!("Ecosystem {own}");
    }
    let mut out = String::new();
    for (i, c) in property.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
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

#[derive(Debug, Clone, Serialize)]
pub struct ValueRow {
    pub value: String,
    pub href: Option<String>,
    pub dataset: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PropertyRow {
    pub name: String,
    pub label: String,
    pub values: Vec<ValueRow>,
}

/// Statements grouped by property, featured properties first, entity references as links.
pub fn property_rows(schema: &str, statements: &[Statement]) -> Vec<PropertyRow> {
    let model = Model::get();
    let schema = model.schema(schema);
    let mut rows: BTreeMap<String, Vec<ValueRow>> = BTreeMap::new();
    for s in statements {
        let is_ref = schema
            .and_then(|sc| sc.property(&s.prop))
            .is_some_and(|p| p.kind == PropertyType::Entity);
        rows.entry(s.prop.clone()).or_default().push(ValueRow {
            value: s.value.clone(),
            href: is_ref.then(|| format!("/entity/{}", s.value)),
            dataset: s.provenance.dataset.clone(),
            // Days are what a reader needs; the API keeps the full timestamps.
            first_seen: day(&s.provenance.first_seen),
            last_seen: day(&s.provenance.last_seen),
        });
    }
    let featured: Vec<String> = schema.map(|s| s.featured.clone()).unwrap_or_default();
    let mut out: Vec<PropertyRow> = rows
        .into_iter()
        .map(|(name, values)| PropertyRow {
            label: label(&name),
            name,
            values,
        })
        .collect();
    out.sort_by_key(|row| {
        (
            featured
                .iter()
                .position(|f| *f == row.name)
                .unwrap_or(usize::MAX),
            row.name.clone(),
        )
    });
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct Relation {
    pub id: String,
    pub schema: String,
    pub label: String,
    pub other_id: String,
    pub other_caption: String,
    pub directed: bool,
    /// True when the entity is the relation's source end.
    pub outgoing: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Neighbourhood {
    pub sanctions: Vec<(String, String)>,
    pub relations: Vec<Relation>,
}

/// Sanctions naming the entity and the relations it takes part in, as the user may see them.
pub async fn neighbourhood(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<Neighbourhood, ApiError> {
    let referencing: Vec<StoredEntity> = state
        .store
        .referencing(id)
        .await?
        .into_iter()
        .filter(|h| visible(user, h))
        .collect();
    let mut sanctions = Vec::new();
    let mut relations = Vec::new();
    let mut captions: HashMap<String, String> = HashMap::new();
    for held in &referencing {
        let entity = &held.entity;
        let schema = entity.schema();
        if schema.is_a("Sanction") {
            let label = [entity.first("authority"), entity.first("program")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" — ");
            sanctions.push((
                entity.id.clone(),
                if label.is_empty() {
                    "Sanction".to_string()
                } else {
                    label
                },
            ));
            continue;
        }
        let Some(edge) = &schema.edge else { continue };
        let sources = entity.get(&edge.source);
        let targets = entity.get(&edge.target);
        let outgoing = sources.iter().any(|s| s == id);
        let others: Vec<&String> = if outgoing {
            targets.iter().collect()
        } else {
            sources.iter().collect()
        };
        for other in others.into_iter().filter(|o| *o != id) {
            let caption = match captions.get(other) {
                Some(c) => c.clone(),
                None => {
                    let held = visible_entity(state, user, other).await?;
                    let caption = merged(&held)
                        .map(|e| e.caption().to_string())
                        .unwrap_or_else(|| other.clone());
                    captions.insert(other.clone(), caption.clone());
                    caption
                }
            };
            relations.push(Relation {
                id: entity.id.clone(),
                schema: entity.schema.clone(),
                label: edge_label(entity, outgoing, edge.directed, &edge.label),
                other_id: other.clone(),
                other_caption: caption,
                directed: edge.directed,
                outgoing,
            });
        }
    }
    relations.sort_by(|a, b| (&a.schema, &a.other_caption).cmp(&(&b.schema, &b.other_caption)));
    Ok(Neighbourhood {
        sanctions,
        relations,
    })
}

fn edge_label(entity: &Entity, outgoing: bool, directed: bool, base: &str) -> String {
    let role = entity
        .first("relationship")
        .or_else(|| entity.first("role"));
    let base = if base.is_empty() {
        entity.schema.to_lowercase()
    } else {
        base.to_string()
    };
    let text = match (directed, outgoing) {
        (false, _) | (true, true) => base,
        (true, false) => format!("{base} (by)"),
    };
    match role {
        Some(r) => format!("{text}: {r}"),
        None => text,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphNode {
    pub id: String,
    pub label: String,
    pub schema: String,
    pub role: Option<String>,
    pub sanctioned: bool,
    pub focus: bool,
    pub href: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphEdge {
    pub id: String,
    pub source: String,
    pub target: String,
    pub label: String,
    pub directed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// The entity and its direct relations, for the network picture.
pub async fn graph(state: &AppState, user: &User, id: &str) -> Result<Graph, ApiError> {
    let held = visible_entity(state, user, id).await?;
    let entity = merged(&held).ok_or_else(|| ApiError::not_found(format!("no entity {id}")))?;
    let around = neighbourhood(state, user, id).await?;
    let mut nodes = vec![GraphNode {
        id: entity.id.clone(),
        label: entity.caption().to_string(),
        schema: entity.schema.clone(),
        role: entity
            .first(tandem_core::model::ROLE_PROPERTY)
            .map(str::to_string),
        sanctioned: !around.sanctions.is_empty(),
        focus: true,
        href: format!("/entity/{}", entity.id),
    }];
    let mut edges = Vec::new();
    for r in &around.relations {
        if !nodes.iter().any(|n| n.id == r.other_id) {
            let other = merged(&visible_entity(state, user, &r.other_id).await?);
            let sanctioned = state
                .store
                .referencing(&r.other_id)
                .await?
                .iter()
                .any(|h| h.entity.schema == "Sanction");
            nodes.push(GraphNode {
                id: r.other_id.clone(),
                label: r.other_caption.clone(),
                schema: other.as_ref().map(|e| e.schema.clone()).unwrap_or_default(),
                role: other
                    .as_ref()
                    .and_then(|e| e.first(tandem_core::model::ROLE_PROPERTY))
                    .map(str::to_string),
                sanctioned,
                focus: false,
                href: format!("/entity/{}", r.other_id),
            });
        }
        let (source, target) = if r.outgoing {
            (id.to_string(), r.other_id.clone())
        } else {
            (r.other_id.clone(), id.to_string())
        };
        edges.push(GraphEdge {
            id: format!("{}:{}", r.id, r.other_id),
            source,
            target,
            label: r.schema.clone(),
            directed: r.directed,
        });
    }
    Ok(Graph { nodes, edges })
}
