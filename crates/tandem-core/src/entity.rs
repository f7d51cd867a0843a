//! Entities and the statements they are made of.
//!
//! An [`Entity`] is what a reader produces and what the rest of Tandem works with: an id, a
//! schema, multi-valued typed properties and a sensitivity. A [`Statement`] is one value of one
//! property as one source said it, with its provenance; the store keeps statements, and an entity
//! is the set of statements one dataset makes about one id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{EntityError, ModelError};
use crate::model::{Model, PropertyType, Schema};
use crate::sensitivity::Sensitivity;
use crate::value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    pub schema: String,
    /// Values per property, in the order they were added, without duplicates.
    #[serde(default)]
    pub properties: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub sensitivity: Sensitivity,
    /// How sure the source is, 0–1, when it says; otherwise the statement is taken as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl Entity {
    /// A new, empty entity. The schema must exist and be concrete, the id well formed.
    pub fn new(schema: &str, id: impl Into<String>) -> Result<Entity, EntityError> {
        let id = id.into();
        if !value::is_valid_entity_id(&id) {
            return Err(EntityError::InvalidId(id));
        }
        let found = Model::get().require(schema)?;
        if found.is_abstract {
            return Err(ModelError::AbstractSchema(schema.to_string()).into());
        }
        Ok(Entity {
            id,
            schema: found.name.clone(),
            properties: BTreeMap::new(),
            sensitivity: Sensitivity::Public,
            confidence: None,
        })
    }

    pub fn schema(&self) -> &'static Schema {
        // `new` and `set_schema` only admit known schemata.
        Model::get()
            .schema(&self.schema)
            .unwrap_or_else(|| panic!("entity {} has unknown schema {}", self.id, self.schema))
    }

    /// Moves the entity to a more specific schema (e.g. LegalEntity → Company); refuses a
    /// schema that is not a descendant or ancestor of the current one.
    pub fn set_schema(&mut self, schema: &str) -> Result<(), EntityError> {
        let model = Model::get();
        let common = model.common_schema(&self.schema, schema).ok_or_else(|| {
            ModelError::UnknownProperty {
                schema: schema.to_string(),
                property: format!("(cannot change {} to {schema})", self.schema),
            }
        })?;
        self.schema = common.name.clone();
        Ok(())
    }

    /// Adds one value, cleaned for the property's type. Duplicates are ignored.
    pub fn add(&mut self, property: &str, raw: &str) -> Result<(), EntityError> {
        let schema = self.schema();
        let prop = schema
            .property(property)
            .ok_or_else(|| ModelError::UnknownProperty {
                schema: schema.name.clone(),
                property: property.to_string(),
            })?;
        let cleaned = value::clean(prop.kind, property, raw)?;
        self.push(property, cleaned);
        Ok(())
    }

    /// Adds a value when it is present and valid; used by readers for optional, messy fields
    /// where a bad value should be dropped rather than reject the record.
    pub fn add_lenient(&mut self, property: &str, raw: &str) -> bool {
        self.add(property, raw).is_ok()
    }

    fn push(&mut self, property: &str, cleaned: String) {
        let values = self.properties.entry(property.to_string()).or_default();
        if !values.contains(&cleaned) {
            values.push(cleaned);
        }
    }

    pub fn get(&self, property: &str) -> &[String] {
        self.properties
            .get(property)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn first(&self, property: &str) -> Option<&str> {
        self.get(property).first().map(String::as_str)
    }

    pub fn has(&self, property: &str) -> bool {
        !self.get(property).is_empty()
    }

    /// The label to show: the first value of the schema's caption properties, else the id.
    pub fn caption(&self) -> &str {
        self.schema()
            .caption
            .iter()
            .find_map(|p| self.first(p))
            .unwrap_or(&self.id)
    }

    /// All names: `name`, `alias`, `previousName`, `weakAlias` and other name-typed values.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let schema = self.schema();
        self.properties
            .iter()
            .filter(move |(p, _)| {
                schema
                    .property(p)
                    .is_some_and(|prop| prop.kind == PropertyType::Name)
            })
            .flat_map(|(_, values)| values.iter().map(String::as_str))
    }

    /// Every entity this one points at, as (property, target id).
    pub fn references(&self) -> impl Iterator<Item = (&str, &str)> {
        let schema = self.schema();
        self.properties
            .iter()
            .filter(move |(p, _)| {
                schema
                    .property(p)
                    .is_some_and(|prop| prop.kind == PropertyType::Entity)
            })
            .flat_map(|(p, values)| values.iter().map(move |v| (p.as_str(), v.as_str())))
    }

    /// Takes every value of `other` (same id expected); keeps the more specific schema and the
    /// stricter sensitivity.
    pub fn merge(&mut self, other: &Entity) -> Result<(), EntityError> {
        if other.schema != self.schema {
            self.set_schema(&other.schema)?;
        }
        for (prop, values) in &other.properties {
            for v in values {
                self.push(prop, v.clone());
            }
        }
        self.sensitivity = self.sensitivity.max(other.sensitivity);
        Ok(())
    }

    /// Checks that every required property of the schema is present.
    pub fn missing_required(&self) -> Vec<&'static str> {
        self.schema()
            .required
            .iter()
            .filter(|p| !self.has(p))
            .map(String::as_str)
            .collect()
    }

    /// A digest of everything the entity says (schema, values, sensitivity, confidence), used to
    /// tell whether a new version of a dataset changed it.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.schema.as_bytes());
        hasher.update([0]);
        hasher.update(self.sensitivity.as_str().as_bytes());
        hasher.update([0]);
        if let Some(c) = self.confidence {
            hasher.update(c.to_le_bytes());
        }
        let mut hash_value = |prop: &str, value: &str| {
            hasher.update(prop.as_bytes());
            hasher.update([1]);
            hasher.update(value.as_bytes());
            hasher.update([2]);
        };
        for (prop, values) in &self.properties {
            // Values in sorted order, so that the order they were added in does not count; most
            // properties have one value, which needs no sorted copy.
            match values.as_slice() {
                [] => {}
                [value] => hash_value(prop, value),
                _ => {
                    let mut sorted: Vec<&String> = values.iter().collect();
                    sorted.sort_unstable();
                    for value in sorted {
                        hash_value(prop, value);
                    }
                }
            }
        }
        hex::encode(&hasher.finalize()[..16])
    }
}

/// Where a statement comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub dataset: String,
    /// The dataset version that last asserted the statement.
    pub version: String,
    /// When the statement was first and last seen in this dataset (ISO 8601, UTC).
    pub first_seen: String,
    pub last_seen: String,
}

/// One value of one property of one entity, as one dataset said it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub entity_id: String,
    pub schema: String,
    pub prop: String,
    pub value: String,
    #[serde(flatten)]
    pub provenance: Provenance,
    pub sensitivity: Sensitivity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl Entity {
    /// The entity's statements under one provenance.
    pub fn statements(&self, provenance: &Provenance) -> Vec<Statement> {
        self.properties
            .iter()
            .flat_map(|(prop, values)| {
                values.iter().map(move |value| Statement {
                    entity_id: self.id.clone(),
                    schema: self.schema.clone(),
                    prop: prop.clone(),
                    value: value.clone(),
                    provenance: provenance.clone(),
                    sensitivity: self.sensitivity,
                    confidence: self.confidence,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_an_entity() {
        let mut e = Entity::new("Person", "p-1").unwrap();
        e.add("name", "  Ermias  Ghermay ").unwrap();
        e.add("alias", "Ermias Ghermay").unwrap();
        e.add("birthDate", "1980").unwrap();
        e.add("nationality", "ER").unwrap();
        e.add("tandem:role", "organiser").unwrap();
        assert_eq!(e.caption(), "Ermias Ghermay");
        assert_eq!(e.get("nationality"), ["er"]);
        assert_eq!(e.names().count(), 2);
        assert!(matches!(
            e.add("tonnage", "12"),
            Err(EntityError::Model(ModelError::UnknownProperty { .. }))
        ));
        assert!(Entity::new("Thing", "x").is_err());
        assert!(Entity::new("Nope", "x").is_err());
        assert!(Entity::new("Person", "bad id").is_err());
    }

    #[test]
    fn hash_ignores_value_order_but_not_content() {
        let mut a = Entity::new("Person", "p").unwrap();
        a.add("alias", "A").unwrap();
        a.add("alias", "B").unwrap();
        let mut b = Entity::new("Person", "p").unwrap();
        b.add("alias", "B").unwrap();
        b.add("alias", "A").unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        b.sensitivity = Sensitivity::Restricted;
        assert_ne!(a.content_hash(), b.content_hash());
    }

    #[test]
    fn merge_specialises_schema() {
        let mut a = Entity::new("LegalEntity", "x").unwrap();
        a.add("name", "Acme").unwrap();
        let mut b = Entity::new("Company", "x").unwrap();
        b.add("name", "ACME Ltd").unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a.schema, "Company");
        assert_eq!(a.get("name").len(), 2);
        let person = Entity::new("Person", "x").unwrap();
        assert!(a.merge(&person).is_err());
    }

    #[test]
    fn references_and_statements() {
        let mut o = Entity::new("Ownership", "own-1").unwrap();
        o.add("owner", "p-1").unwrap();
        o.add("asset", "c-1").unwrap();
        let refs: Vec<_> = o.references().collect();
        assert_eq!(refs, [("asset", "c-1"), ("owner", "p-1")]);
        let prov = Provenance {
            dataset: "d".into(),
            version: "v1".into(),
            first_seen: "2026-01-01T00:00:00".into(),
            last_seen: "2026-01-01T00:00:00".into(),
        };
        assert_eq!(o.statements(&prov).len(), 2);
        assert!(o.missing_required().is_empty());
    }
}
