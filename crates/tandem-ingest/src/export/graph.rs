//! Graph exports for Gephi and other network tools: GraphML and GEXF 1.3.
//!
//! What becomes what:
//! - nodes: actors and places — every entity that is neither a relation, nor an attachment,
//!   nor an annotation (people, organisations, companies, vessels, addresses, accounts…);
//!   label = caption; attributes: schema, countries, birth date, identifiers, topics,
//!   `tandem:role`, `tandem:stage`, sensitivity, and from attachments `sanctioned`,
//!   `sanctions` and `program_ids`;
//! - edges from relation entities (the schemata with an edge in the model: Ownership, Family,
//!   Directorship, Payment, UnknownLink…): source and target properties give the ends, the
//!   model gives the label and whether the edge is directed; one edge per (source, target)
//!   pair when an end has several values;
//! - edges from plain references between nodes (e.g. `Person.addressEntity`), directed from
//!   the entity holding the reference, labelled with the property name;
//! - sanctions and identity documents become attributes of the node they name, not nodes:
//!   a sanctions analyst wants to see who is sanctioned, not a star of sanction records around
//!   each person; notes, risks, mentions and match suggestions are left out.
//!
//! An edge whose end is not among the exported nodes is left out and counted as dangling in the
//! [`GraphSummary`].
//!
//! These writers buffer until [`GraphWriter::finish`]: an edge can only be written once both
//! ends are known to be nodes, and a sanction may arrive after the entity it names. Memory is
//! bounded by the size of the graph, which a graph tool has to hold anyway.

use std::collections::HashMap;
use std::io::{self, Write};

use tandem_core::Entity;
use tandem_core::model::PropertyType;

use super::facts::{Attachments, EntityFacts, ExportKind, export_kind, schema_of};
use super::xml::XmlWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// GraphML (`.graphml`): Gephi, yEd, Cytoscape, networkx, igraph.
    GraphMl,
    /// GEXF 1.3 (`.gexf`): Gephi's own format.
    Gexf,
}

/// What an export contained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphSummary {
    pub nodes: usize,
    pub edges: usize,
    /// Sanctions and identity documents folded into node attributes.
    pub attachments: usize,
    /// Edges left out because an end is not an exported node (or a relation lacks an end).
    pub dangling: usize,
    /// Entities that are neither nodes, edges nor attachments (notes, risks, mentions…, or an
    /// unknown schema).
    pub skipped: usize,
}

#[derive(Clone, Copy)]
enum AttributeType {
    String,
    Boolean,
}

impl AttributeType {
    fn name(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Boolean => "boolean",
        }
    }
}

struct AttributeDef {
    id: &'static str,
    title: &'static str,
    kind: AttributeType,
}

const fn text(id: &'static str, title: &'static str) -> AttributeDef {
    AttributeDef {
        id,
        title,
        kind: AttributeType::String,
    }
}

const NODE_ATTRIBUTES: [AttributeDef; 11] = [
    text("schema", "schema"),
    text("countries", "countries"),
    text("birth_date", "birth_date"),
    text("identifiers", "identifiers"),
    text("topics", "topics"),
    text("role", "tandem:role"),
    text("stage", "tandem:stage"),
    text("sensitivity", "sensitivity"),
    AttributeDef {
        id: "sanctioned",
        title: "sanctioned",
        kind: AttributeType::Boolean,
    },
    text("sanctions", "sanctions"),
    text("program_ids", "program_ids"),
];

const EDGE_ATTRIBUTES: [AttributeDef; 5] = [
    text("schema", "schema"),
    text("property", "property"),
    text("role", "role"),
    text("entity_id", "entity_id"),
    text("sensitivity", "sensitivity"),
];

const JOINER: &str = "; ";

struct PendingEdge {
    source: String,
    target: String,
    directed: bool,
    label: String,
    /// Values in the order of [`EDGE_ATTRIBUTES`]; empty ones are not written.
    values: [String; 5],
}

struct GraphItem {
    id: String,
    label: String,
    values: Vec<String>,
}

struct GraphEdge {
    item: GraphItem,
    source: String,
    target: String,
    directed: bool,
}

/// Collects entities and writes them as one graph on [`GraphWriter::finish`].
pub struct GraphWriter<W: Write> {
    out: W,
    format: GraphFormat,
    nodes: Vec<Entity>,
    node_index: HashMap<String, usize>,
    relations: Vec<PendingEdge>,
    attachments: Attachments,
    dangling: usize,
    skipped: usize,
}

impl<W: Write> GraphWriter<W> {
    pub fn new(out: W, format: GraphFormat) -> GraphWriter<W> {
        GraphWriter {
            out,
            format,
            nodes: Vec::new(),
            node_index: HashMap::new(),
            relations: Vec::new(),
            attachments: Attachments::new(),
            dangling: 0,
            skipped: 0,
        }
    }

    /// Takes one entity; nothing is written before [`GraphWriter::finish`].
    pub fn write(&mut self, entity: &Entity) {
        match export_kind(entity) {
            ExportKind::Node => self.add_node(entity),
            ExportKind::Relation => self.add_relation(entity),
            ExportKind::Attachment => {
                self.attachments.add(entity);
            }
            ExportKind::Annotation | ExportKind::Unknown => self.skipped += 1,
        }
    }

    fn add_node(&mut self, entity: &Entity) {
        match self.node_index.get(&entity.id) {
            Some(&index) => {
                if let Some(existing) = self.nodes.get_mut(index) {
                    // The same id from another dataset: one node with both sets of values.
                    // Conflicting schemata keep the first one seen.
                    let _ = existing.merge(entity);
                }
            }
            None => {
                self.node_index.insert(entity.id.clone(), self.nodes.len());
                self.nodes.push(entity.clone());
            }
        }
    }

    fn add_relation(&mut self, entity: &Entity) {
        let Some((schema, edge)) = schema_of(entity).and_then(|s| Some((s, s.edge.as_ref()?)))
        else {
            return;
        };
        let sources = entity.get(&edge.source);
        let targets = entity.get(&edge.target);
        if sources.is_empty() || targets.is_empty() {
            self.dangling += 1;
            return;
        }
        let role = entity
            .first("role")
            .or_else(|| entity.first("relationship"))
            .unwrap_or_default();
        let label = if edge.label.is_empty() {
            schema.name.clone()
        } else {
            edge.label.clone()
        };
        for source in sources {
            for target in targets {
                self.relations.push(PendingEdge {
                    source: source.clone(),
                    target: target.clone(),
                    directed: edge.directed,
                    label: label.clone(),
                    values: [
                        entity.schema.clone(),
                        String::new(),
                        role.to_string(),
                        entity.id.clone(),
                        entity.sensitivity.to_string(),
                    ],
                });
            }
        }
    }

    /// Plain references from each node to another node, e.g. `Person.addressEntity`.
    fn reference_edges(&self) -> Vec<PendingEdge> {
        let mut edges = Vec::new();
        for node in &self.nodes {
            let Some(schema) = schema_of(node) else {
                continue;
            };
            for (name, values) in &node.properties {
                let is_reference = schema
                    .property(name)
                    .is_some_and(|p| p.kind == PropertyType::Entity && !p.stub);
                if !is_reference {
                    continue;
                }
                for target in values {
                    edges.push(PendingEdge {
                        source: node.id.clone(),
                        target: target.clone(),
                        directed: true,
                        label: name.clone(),
                        values: [
                            String::new(),
                            name.clone(),
                            String::new(),
                            String::new(),
                            node.sensitivity.to_string(),
                        ],
                    });
                }
            }
        }
        edges
    }

    /// Writes the graph and hands back the output with what it contained.
    pub fn finish(mut self) -> io::Result<(W, GraphSummary)> {
        let mut pending = self.reference_edges();
        pending.append(&mut self.relations);
        let mut edges = Vec::with_capacity(pending.len());
        for edge in pending {
            let both_ends = self.node_index.contains_key(&edge.source)
                && self.node_index.contains_key(&edge.target);
            if !both_ends {
                self.dangling += 1;
                continue;
            }
            edges.push(GraphEdge {
                item: GraphItem {
                    id: format!("e{}", edges.len()),
                    label: edge.label,
                    values: edge.values.into(),
                },
                source: edge.source,
                target: edge.target,
                directed: edge.directed,
            });
        }
        let nodes: Vec<GraphItem> = self
            .nodes
            .iter()
            .map(|node| node_item(node, &self.attachments))
            .collect();
        let summary = GraphSummary {
            nodes: nodes.len(),
            edges: edges.len(),
            attachments: self.attachments.len(),
            dangling: self.dangling,
            skipped: self.skipped,
        };
        let mut xml = XmlWriter::new(self.out)?;
        match self.format {
            GraphFormat::GraphMl => write_graphml(&mut xml, &nodes, &edges)?,
            GraphFormat::Gexf => write_gexf(&mut xml, &nodes, &edges)?,
        }
        Ok((xml.finish()?, summary))
    }
}

fn node_item(node: &Entity, attachments: &Attachments) -> GraphItem {
    let facts = EntityFacts::of(node, attachments);
    let joined = |values: &[String]| values.join(JOINER);
    GraphItem {
        id: node.id.clone(),
        values: vec![
            node.schema.clone(),
            joined(&facts.countries),
            joined(&facts.birth_dates),
            joined(&facts.identifiers),
            joined(&facts.topics),
            joined(&facts.roles),
            joined(&facts.stages),
            node.sensitivity.to_string(),
            facts.sanctioned.to_string(),
            joined(&facts.sanctions),
            joined(&facts.program_ids),
        ],
        label: facts.name,
    }
}

/// The non-empty values of an item with their attribute definitions.
fn present<'a>(
    definitions: &'a [AttributeDef],
    values: &'a [String],
) -> impl Iterator<Item = (&'a AttributeDef, &'a str)> {
    definitions
        .iter()
        .zip(values)
        .filter(|(_, value)| !value.is_empty())
        .map(|(def, value)| (def, value.as_str()))
}

fn graphml_key(class: &str, id: &str) -> String {
    // GraphML keys share one id space across nodes and edges.
    format!("{class}_{id}")
}

fn write_graphml<W: Write>(
    xml: &mut XmlWriter<W>,
    nodes: &[GraphItem],
    edges: &[GraphEdge],
) -> io::Result<()> {
    xml.start(
        "graphml",
        &[
            ("xmlns", "http://graphml.graphdrawing.org/xmlns"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
            ),
        ],
    )?;
    for (class, definitions) in [
        ("node", &NODE_ATTRIBUTES[..]),
        ("edge", &EDGE_ATTRIBUTES[..]),
    ] {
        let label = AttributeDef {
            id: "label",
            title: "label",
            kind: AttributeType::String,
        };
        for def in std::iter::once(&label).chain(definitions) {
            xml.empty(
                "key",
                &[
                    ("id", &graphml_key(class, def.id)),
                    ("for", class),
                    ("attr.name", def.title),
                    ("attr.type", def.kind.name()),
                ],
            )?;
        }
    }
    xml.start("graph", &[("id", "tandem"), ("edgedefault", "directed")])?;
    for node in nodes {
        xml.start("node", &[("id", &node.id)])?;
        write_graphml_data(xml, "node", node, &NODE_ATTRIBUTES)?;
        xml.end("node")?;
    }
    for edge in edges {
        xml.start(
            "edge",
            &[
                ("id", &edge.item.id),
                ("source", &edge.source),
                ("target", &edge.target),
                ("directed", if edge.directed { "true" } else { "false" }),
            ],
        )?;
        write_graphml_data(xml, "edge", &edge.item, &EDGE_ATTRIBUTES)?;
        xml.end("edge")?;
    }
    xml.end("graph")?;
    xml.end("graphml")
}

fn write_graphml_data<W: Write>(
    xml: &mut XmlWriter<W>,
    class: &str,
    item: &GraphItem,
    definitions: &[AttributeDef],
) -> io::Result<()> {
    xml.text(
        "data",
        &[("key", &graphml_key(class, "label"))],
        &item.label,
    )?;
    for (def, value) in present(definitions, &item.values) {
        xml.text("data", &[("key", &graphml_key(class, def.id))], value)?;
    }
    Ok(())
}

fn write_gexf<W: Write>(
    xml: &mut XmlWriter<W>,
    nodes: &[GraphItem],
    edges: &[GraphEdge],
) -> io::Result<()> {
    xml.start(
        "gexf",
        &[
            ("xmlns", "http://gexf.net/1.3"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd",
            ),
            ("version", "1.3"),
        ],
    )?;
    xml.start("meta", &[])?;
    xml.text("creator", &[], "Tandem")?;
    xml.text(
        "description",
        &[],
        "Entities and their relations exported from Tandem (FollowTheMoney model)",
    )?;
    xml.end("meta")?;
    xml.start(
        "graph",
        &[("mode", "static"), ("defaultedgetype", "directed")],
    )?;
    for (class, definitions) in [
        ("node", &NODE_ATTRIBUTES[..]),
        ("edge", &EDGE_ATTRIBUTES[..]),
    ] {
        xml.start("attributes", &[("class", class)])?;
        for def in definitions {
            xml.empty(
                "attribute",
                &[
                    ("id", def.id),
                    ("title", def.title),
                    ("type", def.kind.name()),
                ],
            )?;
        }
        xml.end("attributes")?;
    }
    xml.start("nodes", &[])?;
    for node in nodes {
        write_gexf_item(
            xml,
            "node",
            &[("id", &node.id), ("label", &node.label)],
            node,
            &NODE_ATTRIBUTES,
        )?;
    }
    xml.end("nodes")?;
    xml.start("edges", &[])?;
    for edge in edges {
        let attributes = [
            ("id", edge.item.id.as_str()),
            ("source", &edge.source),
            ("target", &edge.target),
            (
                "type",
                if edge.directed {
                    "directed"
                } else {
                    "undirected"
                },
            ),
            ("label", &edge.item.label),
        ];
        write_gexf_item(xml, "edge", &attributes, &edge.item, &EDGE_ATTRIBUTES)?;
    }
    xml.end("edges")?;
    xml.end("graph")?;
    xml.end("gexf")
}

fn write_gexf_item<W: Write>(
    xml: &mut XmlWriter<W>,
    element: &str,
    attributes: &[(&str, &str)],
    item: &GraphItem,
    definitions: &[AttributeDef],
) -> io::Result<()> {
    let mut values = present(definitions, &item.values).peekable();
    if values.peek().is_none() {
        return xml.empty(element, attributes);
    }
    xml.start(element, attributes)?;
    xml.start("attvalues", &[])?;
    for (def, value) in values {
        xml.empty("attvalue", &[("for", def.id), ("value", value)])?;
    }
    xml.end("attvalues")?;
    xml.end(element)
}
