//! The condensed view of an entity that spreadsheet rows and graph nodes show.

use std::collections::HashMap;

use tandem_core::Entity;
use tandem_core::model::{Model, PropertyType, ROLE_PROPERTY, STAGE_PROPERTY, Schema};

/// Sanctions and identity documents describe another entity rather than being an actor
/// themselves; exports fold them into the entity they name.
///
/// Feed it the attachments first (a first pass over a file, or `Store::referencing` for each
/// exported entity), then ask for [`EntityFacts::of`]. It keeps only short summaries, keyed by
/// the described entity's id.
#[derive(Debug, Default, Clone)]
pub struct Attachments {
    by_target: HashMap<String, Attached>,
    count: usize,
}

#[derive(Debug, Default, Clone)]
struct Attached {
    sanctions: Vec<String>,
    program_ids: Vec<String>,
    identifiers: Vec<String>,
}

/// Which kind of attachment a schema is, and the property that names the described entity.
fn attachment_kind(schema: &Schema) -> Option<(AttachmentKind, &'static str)> {
    if schema.is_a("Sanction") {
        Some((AttachmentKind::Sanction, "entity"))
    } else if schema.is_a("Identification") {
        Some((AttachmentKind::Identification, "holder"))
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy)]
enum AttachmentKind {
    Sanction,
    Identification,
}

impl Attachments {
    pub fn new() -> Attachments {
        Attachments::default()
    }

    /// Gathers the attachments among `entities`, ignoring the rest.
    pub fn collect<'a>(entities: impl IntoIterator<Item = &'a Entity>) -> Attachments {
        let mut attachments = Attachments::new();
        for entity in entities {
            attachments.add(entity);
        }
        attachments
    }

    /// True when `entity` is a sanction or an identity document.
    pub fn is_attachment(entity: &Entity) -> bool {
        schema_of(entity).and_then(attachment_kind).is_some()
    }

    /// Remembers what an attachment says about the entities it names; returns whether `entity`
    /// was one (other entities are left alone).
    pub fn add(&mut self, entity: &Entity) -> bool {
        let Some((kind, target_property)) = schema_of(entity).and_then(attachment_kind) else {
            return false;
        };
        self.count += 1;
        for target in entity.get(target_property) {
            let attached = self.by_target.entry(target.clone()).or_default();
            match kind {
                AttachmentKind::Sanction => {
                    push_unique(&mut attached.sanctions, sanction_summary(entity));
                    for id in entity.get("programId") {
                        push_unique(&mut attached.program_ids, id.clone());
                    }
                }
                AttachmentKind::Identification => {
                    for property in ["number", "passportNumber", "personalNumber"] {
                        for number in entity.get(property) {
                            push_unique(&mut attached.identifiers, number.clone());
                        }
                    }
                }
            }
        }
        true
    }

    /// How many attachments were added.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// `program (authority, since date)`, with whatever of those the sanction states.
fn sanction_summary(sanction: &Entity) -> String {
    let authority = sanction.first("authority");
    let title = sanction
        .first("program")
        .or_else(|| sanction.first("programId"))
        .or(authority)
        .unwrap_or("Sanction");
    let mut details: Vec<String> = Vec::new();
    if let Some(authority) = authority.filter(|a| *a != title) {
        details.push(authority.to_string());
    }
    if let Some(date) = sanction
        .first("startDate")
        .or_else(|| sanction.first("listingDate"))
    {
        details.push(format!("since {date}"));
    }
    if details.is_empty() {
        title.to_string()
    } else {
        format!("{title} ({})", details.join(", "))
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// How an export treats an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExportKind {
    /// An actor or a place: a spreadsheet row, a graph node.
    Node,
    /// A relation schema with an edge in the model (Ownership, Family, Payment…).
    Relation,
    /// A sanction or identity document, folded into the entity it names.
    Attachment,
    /// Notes, risks, mentions and match suggestions: comments on other entities.
    Annotation,
    /// A schema the model does not know.
    Unknown,
}

/// Schemata that comment on other entities and are not part of the network.
const ANNOTATIONS: [&str; 4] = ["Note", "Risk", "Mention", "Similar"];

pub(super) fn export_kind(entity: &Entity) -> ExportKind {
    let Some(schema) = schema_of(entity) else {
        return ExportKind::Unknown;
    };
    if schema.edge.is_some() {
        ExportKind::Relation
    } else if attachment_kind(schema).is_some() {
        ExportKind::Attachment
    } else if ANNOTATIONS.iter().any(|a| schema.is_a(a)) {
        ExportKind::Annotation
    } else {
        ExportKind::Node
    }
}

/// The schema of an entity built elsewhere; `None` when its schema is not in the model, so
/// that exports never panic on a hand-made entity.
pub(super) fn schema_of(entity: &Entity) -> Option<&'static Schema> {
    Model::get().schema(&entity.schema)
}

/// What a spreadsheet row or a graph node says about one entity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityFacts {
    /// The caption: first value of the schema's caption properties, else the id.
    pub name: String,
    /// Every other name (`name`, `alias`, `previousName`, `weakAlias`…), without the caption.
    pub aliases: Vec<String>,
    pub birth_dates: Vec<String>,
    /// All country-typed values (country, nationality, jurisdiction, citizenship…).
    pub countries: Vec<String>,
    pub addresses: Vec<String>,
    /// Registration numbers, tax and passport numbers, including attached identity documents.
    pub identifiers: Vec<String>,
    pub topics: Vec<String>,
    pub roles: Vec<String>,
    pub stages: Vec<String>,
    /// Named by a sanction, or tagged with the FtM topic `sanction`.
    pub sanctioned: bool,
    /// One summary per sanction (`program (authority, since date)`), plus the entity's own
    /// `program` values.
    pub sanctions: Vec<String>,
    pub program_ids: Vec<String>,
}

impl EntityFacts {
    pub fn of(entity: &Entity, attachments: &Attachments) -> EntityFacts {
        let schema = schema_of(entity);
        let mut facts = EntityFacts {
            name: caption(entity, schema).to_string(),
            ..EntityFacts::default()
        };
        for (property_name, values) in &entity.properties {
            let Some(property) = schema.and_then(|s| s.property(property_name)) else {
                continue;
            };
            if property.hidden {
                continue;
            }
            let list = match (property.kind, property_name.as_str()) {
                (PropertyType::Name, _) => &mut facts.aliases,
                (PropertyType::Country, _) => &mut facts.countries,
                (PropertyType::Address, _) => &mut facts.addresses,
                (PropertyType::Identifier, "programId") => &mut facts.program_ids,
                (PropertyType::Identifier, _) if property.matchable => &mut facts.identifiers,
                (PropertyType::Date, "birthDate") => &mut facts.birth_dates,
                (PropertyType::Topic, _) => &mut facts.topics,
                (_, "program") => &mut facts.sanctions,
                (_, ROLE_PROPERTY) => &mut facts.roles,
                (_, STAGE_PROPERTY) => &mut facts.stages,
                _ => continue,
            };
            for value in values {
                push_unique(list, value.clone());
            }
        }
        facts.aliases.retain(|alias| *alias != facts.name);
        if let Some(attached) = attachments.by_target.get(&entity.id) {
            for summary in &attached.sanctions {
                push_unique(&mut facts.sanctions, summary.clone());
            }
            for id in &attached.program_ids {
                push_unique(&mut facts.program_ids, id.clone());
            }
            for number in &attached.identifiers {
                push_unique(&mut facts.identifiers, number.clone());
            }
            facts.sanctioned = !attached.sanctions.is_empty();
        }
        facts.sanctioned |= facts.topics.iter().any(|t| t == "sanction");
        facts
    }
}

/// Like `Entity::caption`, without assuming the schema is known.
pub(super) fn caption<'e>(entity: &'e Entity, schema: Option<&Schema>) -> &'e str {
    let fallback = ["name".to_string()];
    let properties = schema.map_or(&fallback[..], |s| &s.caption[..]);
    properties
        .iter()
        .find_map(|p| entity.first(p))
        .unwrap_or(&entity.id)
}
