//! The schema model: which schemata exist, what they inherit, which properties they carry and
//! of what type.
//!
//! The listing lives in `ftm_schemata.txt`, one schema header line followed by indented
//! property lines:
//!
//! ```text
//! schema NAME [abstract] [matchable] [extends=A,B] [caption=p,q] [featured=p,q]
//!             [required=p,q] [edge=SOURCE>TARGET[,undirected]] [edge_label=WORDS_WITH_UNDERSCORES]
//!   PROPERTY TYPE[:RANGE] [reverse=NAME] [matchable] [stub] [hidden] [deprecated]
//! ```
//!
//! Tandem adds its own namespaced properties (`tandem:role`, `tandem:stage`) to `Thing`, so every
//! schema carries them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use crate::error::ModelError;

/// The FollowTheMoney property types, plus nothing else: Tandem's own properties use them too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PropertyType {
    Address,
    Checksum,
    Country,
    Date,
    Email,
    Entity,
    Gender,
    Html,
    Identifier,
    Ip,
    Json,
    Language,
    Mimetype,
    Name,
    Number,
    Phone,
    String,
    Text,
    Topic,
    Url,
}

impl PropertyType {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "address" => Self::Address,
            "checksum" => Self::Checksum,
            "country" => Self::Country,
            "date" => Self::Date,
            "email" => Self::Email,
            "entity" => Self::Entity,
            "gender" => Self::Gender,
            "html" => Self::Html,
            "identifier" => Self::Identifier,
            "ip" => Self::Ip,
            "json" => Self::Json,
            "language" => Self::Language,
            "mimetype" => Self::Mimetype,
            "name" => Self::Name,
            "number" => Self::Number,
            "phone" => Self::Phone,
            "string" => Self::String,
            "text" => Self::Text,
            "topic" => Self::Topic,
            "url" => Self::Url,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Checksum => "checksum",
            Self::Country => "country",
            Self::Date => "date",
            Self::Email => "email",
            Self::Entity => "entity",
            Self::Gender => "gender",
            Self::Html => "html",
            Self::Identifier => "identifier",
            Self::Ip => "ip",
            Self::Json => "json",
            Self::Language => "language",
            Self::Mimetype => "mimetype",
            Self::Name => "name",
            Self::Number => "number",
            Self::Phone => "phone",
            Self::String => "string",
            Self::Text => "text",
            Self::Topic => "topic",
            Self::Url => "url",
        }
    }
}

impl fmt::Display for PropertyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone)]
pub struct Property {
    pub name: String,
    /// The schema that declares it (properties are inherited by every descendant).
    pub schema: String,
    pub kind: PropertyType,
    /// For entity references: the schema the referenced entity must be.
    pub range: Option<String>,
    pub reverse: Option<String>,
    pub matchable: bool,
    /// Reverse side of a reference, computed rather than stored.
    pub stub: bool,
    pub hidden: bool,
    pub deprecated: bool,
}

impl Property {
    pub fn qname(&self) -> String {
        format!("{}:{}", self.schema, self.name)
    }
}

/// How a relation schema becomes an edge in a graph: which property holds each end.
#[derive(Debug, Clone)]
pub struct Edge {
    pub source: String,
    pub target: String,
    pub directed: bool,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub name: String,
    pub is_abstract: bool,
    pub matchable: bool,
    pub extends: Vec<String>,
    pub caption: Vec<String>,
    pub featured: Vec<String>,
    pub required: Vec<String>,
    pub edge: Option<Edge>,
    /// This schema and every ancestor, nearest first.
    pub lineage: Vec<String>,
    /// Own and inherited properties by name.
    pub properties: BTreeMap<String, Property>,
}

impl Schema {
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.get(name)
    }

    /// True when this schema is `other` or descends from it.
    pub fn is_a(&self, other: &str) -> bool {
        self.lineage.iter().any(|s| s == other)
    }

    pub fn is_edge(&self) -> bool {
        self.edge.is_some()
    }
}

/// The whole model. Use [`Model::get`] for the built-in one.
#[derive(Debug)]
pub struct Model {
    schemata: HashMap<String, Schema>,
}

/// Tandem's own properties, on `Thing` so that every schema has them.
pub const ROLE_PROPERTY: &str = "tandem:role";
pub const STAGE_PROPERTY: &str = "tandem:stage";

const LISTING: &str = include_str!("ftm_schemata.txt");

impl Model {
    /// The built-in model, parsed once.
    pub fn get() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| {
            // The listing ships inside the binary and a test parses it; failure here is a
            // build defect, not bad input.
            Model::parse(LISTING).unwrap_or_else(|err| panic!("built-in schema listing: {err}"))
        })
    }

    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.schemata.get(name)
    }

    /// The schema by name, or an error that names it.
    pub fn require(&self, name: &str) -> Result<&Schema, ModelError> {
        self.schema(name)
            .ok_or_else(|| ModelError::UnknownSchema(name.to_string()))
    }

    pub fn schemata(&self) -> impl Iterator<Item = &Schema> {
        self.schemata.values()
    }

    /// The most specific schema that both `a` and `b` are, if one is a descendant of the other.
    pub fn common_schema<'a>(&'a self, a: &str, b: &str) -> Option<&'a Schema> {
        let sa = self.schema(a)?;
        let sb = self.schema(b)?;
        if sa.is_a(b) {
            Some(sa)
        } else if sb.is_a(a) {
            Some(sb)
        } else {
            None
        }
    }

    pub fn parse(listing: &str) -> Result<Model, ModelError> {
        struct Raw {
            schema: Schema,
            own: Vec<Property>,
        }
        let mut raws: Vec<Raw> = Vec::new();
        for (index, line) in listing.lines().enumerate() {
            let line_no = index + 1;
            let bad = |message: String| ModelError::Listing {
                line: line_no,
                message,
            };
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("schema ") {
                let mut words = rest.split_whitespace();
                let name = words
                    .next()
                    .ok_or_else(|| bad("schema without a name".into()))?;
                let mut schema = Schema {
                    name: name.to_string(),
                    is_abstract: false,
                    matchable: false,
                    extends: vec![],
                    caption: vec![],
                    featured: vec![],
                    required: vec![],
                    edge: None,
                    lineage: vec![],
                    properties: BTreeMap::new(),
                };
                let mut edge_label = String::new();
                for word in words {
                    let list = |v: &str| v.split(',').map(str::to_string).collect::<Vec<_>>();
                    match word.split_once('=') {
                        None if word == "abstract" => schema.is_abstract = true,
                        None if word == "matchable" => schema.matchable = true,
                        Some(("extends", v)) => schema.extends = list(v),
                        Some(("caption", v)) => schema.caption = list(v),
                        Some(("featured", v)) => schema.featured = list(v),
                        Some(("required", v)) => schema.required = list(v),
                        Some(("edge_label", v)) => edge_label = v.replace('_', " "),
                        Some(("edge", v)) => {
                            let (ends, directed) = match v.strip_suffix(",undirected") {
                                Some(ends) => (ends, false),
                                None => (v, true),
                            };
                            let (source, target) = ends
                                .split_once('>')
                                .ok_or_else(|| bad(format!("edge {v:?} is not SOURCE>TARGET")))?;
                            schema.edge = Some(Edge {
                                source: source.to_string(),
                                target: target.to_string(),
                                directed,
                                label: String::new(),
                            });
                        }
                        _ => return Err(bad(format!("unknown schema attribute {word:?}"))),
                    }
                }
                if let Some(edge) = schema.edge.as_mut() {
                    edge.label = edge_label;
                }
                raws.push(Raw {
                    schema,
                    own: vec![],
                });
            } else if line.starts_with("  ") {
                let raw = raws
                    .last_mut()
                    .ok_or_else(|| bad("property before any schema".into()))?;
                let mut words = line.split_whitespace();
                let name = words.next().ok_or_else(|| bad("empty property".into()))?;
                let kind_word = words
                    .next()
                    .ok_or_else(|| bad(format!("property {name} has no type")))?;
                let (kind_name, range) = match kind_word.split_once(':') {
                    Some((k, r)) => (k, Some(r.to_string())),
                    None => (kind_word, None),
                };
                let kind = PropertyType::from_name(kind_name)
                    .ok_or_else(|| bad(format!("unknown type {kind_name:?}")))?;
                let mut property = Property {
                    name: name.to_string(),
                    schema: raw.schema.name.clone(),
                    kind,
                    range,
                    reverse: None,
                    matchable: false,
                    stub: false,
                    hidden: false,
                    deprecated: false,
                };
                for word in words {
                    match word.split_once('=') {
                        Some(("reverse", v)) => property.reverse = Some(v.to_string()),
                        None if word == "matchable" => property.matchable = true,
                        None if word == "stub" => property.stub = true,
                        None if word == "hidden" => property.hidden = true,
                        None if word == "deprecated" => property.deprecated = true,
                        _ => return Err(bad(format!("unknown property attribute {word:?}"))),
                    }
                }
                raw.own.push(property);
            } else {
                return Err(bad(format!("cannot read {line:?}")));
            }
        }

        // Tandem's own ecosystem properties.
        if let Some(thing) = raws.iter_mut().find(|r| r.schema.name == "Thing") {
            for name in [ROLE_PROPERTY, STAGE_PROPERTY] {
                thing.own.push(Property {
                    name: name.to_string(),
                    schema: "Thing".to_string(),
                    kind: PropertyType::String,
                    range: None,
                    reverse: None,
                    matchable: false,
                    stub: false,
                    hidden: false,
                    deprecated: false,
                });
            }
        }

        let own: HashMap<String, (Vec<String>, Vec<Property>)> = raws
            .iter()
            .map(|r| {
                (
                    r.schema.name.clone(),
                    (r.schema.extends.clone(), r.own.clone()),
                )
            })
            .collect();
        let mut schemata = HashMap::new();
        for raw in raws {
            let mut schema = raw.schema;
            let mut lineage = Vec::new();
            let mut queue = vec![schema.name.clone()];
            while let Some(current) = queue.pop() {
                if lineage.contains(&current) {
                    continue;
                }
                let (parents, props) = own.get(&current).ok_or_else(|| ModelError::Listing {
                    line: 0,
                    message: format!("{} extends unknown schema {current}", schema.name),
                })?;
                for p in props {
                    // Nearer schemata win when a descendant re-declares a property.
                    schema
                        .properties
                        .entry(p.name.clone())
                        .or_insert_with(|| p.clone());
                }
                lineage.push(current);
                queue.extend(parents.iter().rev().cloned());
            }
            schema.lineage = lineage;
            schemata.insert(schema.name.clone(), schema);
        }
        Ok(Model { schemata })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_listing_parses_with_the_required_schemata() {
        let model = Model::get();
        for name in [
            "Thing",
            "LegalEntity",
            "Person",
            "Organization",
            "Company",
            "PublicBody",
            "Vessel",
            "Address",
            "Sanction",
            "Identification",
            "Passport",
            "Family",
            "Associate",
            "Membership",
            "Employment",
            "Directorship",
            "Ownership",
            "Representation",
            "Payment",
            "UnknownLink",
        ] {
            assert!(model.schema(name).is_some(), "{name} missing");
        }
    }

    #[test]
    fn inheritance_and_types() {
        let model = Model::get();
        let person = model.schema("Person").unwrap();
        assert!(person.is_a("LegalEntity"));
        assert!(person.is_a("Thing"));
        assert!(!person.is_a("Organization"));
        assert_eq!(
            person.property("birthDate").unwrap().kind,
            PropertyType::Date
        );
        assert_eq!(person.property("name").unwrap().kind, PropertyType::Name);
        assert_eq!(person.property("name").unwrap().schema, "Thing");
        assert!(person.property(ROLE_PROPERTY).is_some());
        let company = model.schema("Company").unwrap();
        assert!(company.is_a("Organization") && company.is_a("Asset"));
        let ownership = model.schema("Ownership").unwrap();
        let edge = ownership.edge.as_ref().unwrap();
        assert_eq!(
            (edge.source.as_str(), edge.target.as_str()),
            ("owner", "asset")
        );
        let owner = ownership.property("owner").unwrap();
        assert_eq!(owner.kind, PropertyType::Entity);
        assert_eq!(owner.range.as_deref(), Some("LegalEntity"));
        assert_eq!(
            model.common_schema("LegalEntity", "Company").unwrap().name,
            "Company"
        );
        assert!(model.common_schema("Person", "Company").is_none());
    }

    #[test]
    fn bad_listing_names_the_line() {
        let err = Model::parse("schema A\n  p nosuchtype\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
