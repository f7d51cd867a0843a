use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use proptest::prelude::*;
use quick_xml::events::Event;
use tandem_core::{Entity, Provenance, Sensitivity, Statement};

use super::xml::is_xml_char;
use super::*;
use crate::Change;
use crate::ftm::FtmReader;

fn fixture_entities(name: &str) -> Vec<Entity> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/screening/ftm/fixtures")
        .join(name);
    FtmReader::new(BufReader::new(File::open(path).unwrap()), name)
        .map(|record| match record.unwrap().change {
            Change::Upsert(entity) => entity,
            Change::Delete(id) => panic!("unexpected delete {id}"),
        })
        .collect()
}

/// A `node` or `edge` element of a parsed graph file: its XML attributes and its data (GraphML
/// `<data key=…>` text or GEXF `<attvalue for=… value=…>`).
#[derive(Debug, Default)]
struct Element {
    attributes: BTreeMap<String, String>,
    data: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct ParsedGraph {
    nodes: Vec<Element>,
    edges: Vec<Element>,
}

fn resolve_reference(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Parses a graph file strictly: balanced tags, one root, valid references, only characters
/// XML allows, unique attributes. Errors are returned, not panicked, for proptest.
fn parse_graph(bytes: &[u8]) -> Result<ParsedGraph, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    if let Some(bad) = text.chars().find(|c| !is_xml_char(*c)) {
        return Err(format!("character {bad:?} is not allowed in XML"));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut graph = ParsedGraph::default();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut current: Option<(String, Element)> = None;
    let mut data_key: Option<String> = None;
    let mut data_text = String::new();
    let attributes_of =
        |e: &quick_xml::events::BytesStart| -> Result<BTreeMap<String, String>, String> {
            let mut map = BTreeMap::new();
            for attribute in e.attributes() {
                let attribute = attribute.map_err(|e| e.to_string())?;
                let key = attribute.key.as_ref().to_string();
                let value = attribute
                    .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                    .map_err(|e| e.to_string())?
                    .into_owned();
                if value.chars().any(|c| !is_xml_char(c)) {
                    return Err(format!("attribute {key} holds a forbidden character"));
                }
                map.insert(key, value);
            }
            Ok(map)
        };
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if stack.is_empty() && roots > 0 => {
                return Err(format!("second root {:?}", e.name()));
            }
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if stack.is_empty() {
                    roots += 1;
                }
                let attributes = attributes_of(&e)?;
                match name.as_str() {
                    "node" | "edge" => {
                        current = Some((
                            name.clone(),
                            Element {
                                attributes,
                                data: BTreeMap::new(),
                            },
                        ));
                    }
                    "data" => {
                        data_key = attributes.get("key").cloned();
                        data_text.clear();
                    }
                    _ => {}
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                let attributes = attributes_of(&e)?;
                match name.as_str() {
                    "node" => graph.nodes.push(Element {
                        attributes,
                        data: BTreeMap::new(),
                    }),
                    "edge" => graph.edges.push(Element {
                        attributes,
                        data: BTreeMap::new(),
                    }),
                    "attvalue" => {
                        let (Some(key), Some(value)) =
                            (attributes.get("for"), attributes.get("value"))
                        else {
                            return Err("attvalue without for/value".into());
                        };
                        if let Some((_, element)) = current.as_mut() {
                            element.data.insert(key.clone(), value.clone());
                        }
                    }
                    "data" => {
                        if let (Some(key), Some((_, element))) =
                            (attributes.get("key"), current.as_mut())
                        {
                            element.data.insert(key.clone(), String::new());
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                if stack.pop().as_deref() != Some(name.as_str()) {
                    return Err(format!("unbalanced </{name}>"));
                }
                match name.as_str() {
                    "data" => {
                        if let (Some(key), Some((_, element))) = (data_key.take(), current.as_mut())
                        {
                            element.data.insert(key, std::mem::take(&mut data_text));
                        }
                    }
                    "node" | "edge" => {
                        if let Some((kind, element)) = current.take() {
                            if kind == "node" {
                                graph.nodes.push(element);
                            } else {
                                graph.edges.push(element);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                let raw = t.xml10_content();
                if stack.is_empty() && !raw.trim().is_empty() {
                    return Err("text outside the root".into());
                }
                if data_key.is_some() {
                    data_text.push_str(&raw);
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c,
                    None => {
                        let name: &str = &r;
                        resolve_reference(name).ok_or(format!("unknown entity &{name};"))?
                    }
                };
                if !is_xml_char(c) {
                    return Err(format!("reference to forbidden character {c:?}"));
                }
                if data_key.is_some() {
                    data_text.push(c);
                }
            }
            Event::CData(_) | Event::DocType(_) => return Err("unexpected CDATA or DOCTYPE".into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() || roots != 1 {
        return Err(format!("unclosed {stack:?} or {roots} roots"));
    }
    Ok(graph)
}

fn export_graph(entities: &[Entity], format: GraphFormat) -> (ParsedGraph, GraphSummary) {
    let mut writer = GraphWriter::new(Vec::new(), format);
    for entity in entities {
        writer.write(entity);
    }
    let (bytes, summary) = writer.finish().unwrap();
    (parse_graph(&bytes).unwrap(), summary)
}

/// GraphML keeps data under `node_…`/`edge_…` keys, GEXF under the attribute id; the label is
/// data in GraphML and an XML attribute in GEXF.
fn value<'a>(element: &'a Element, format: GraphFormat, class: &str, id: &str) -> Option<&'a str> {
    match (format, id) {
        (GraphFormat::Gexf, "label") => element.attributes.get("label"),
        (GraphFormat::Gexf, _) => element.data.get(id),
        (GraphFormat::GraphMl, _) => element.data.get(&format!("{class}_{id}")),
    }
    .map(String::as_str)
}

fn is_directed(edge: &Element, format: GraphFormat) -> bool {
    match format {
        GraphFormat::GraphMl => edge.attributes.get("directed").map(String::as_str) == Some("true"),
        GraphFormat::Gexf => edge.attributes.get("type").map(String::as_str) == Some("directed"),
    }
}

#[test]
fn zala_exports_as_a_graph_gephi_can_read() {
    let entities = fixture_entities("yente_zala.ftm.jsonl");
    for format in [GraphFormat::GraphMl, GraphFormat::Gexf] {
        let (graph, summary) = export_graph(&entities, format);
        // 6 Person + 11 Company + 11 Address nodes; 14 Ownership + 4 Family + 3 Directorship
        // relations and 11 addressEntity references between them; 16 addressEntity references
        // point at addresses the file lacks; 41 Sanction + 1 Passport attachments.
        assert_eq!(
            summary,
            GraphSummary {
                nodes: 28,
                edges: 32,
                attachments: 42,
                dangling: 16,
                skipped: 0
            },
            "{format:?}"
        );
        assert_eq!(graph.nodes.len(), 28, "{format:?}");
        assert_eq!(graph.edges.len(), 32, "{format:?}");
        let node_ids: HashSet<&str> = graph
            .nodes
            .iter()
            .map(|n| n.attributes["id"].as_str())
            .collect();
        assert_eq!(node_ids.len(), 28);
        for edge in &graph.edges {
            assert!(node_ids.contains(edge.attributes["source"].as_str()));
            assert!(node_ids.contains(edge.attributes["target"].as_str()));
        }
        let mut labels: BTreeMap<&str, usize> = BTreeMap::new();
        for edge in &graph.edges {
            *labels
                .entry(value(edge, format, "edge", "label").unwrap())
                .or_default() += 1;
        }
        assert_eq!(
            labels,
            BTreeMap::from([
                ("addressEntity", 11),
                ("directs", 3),
                ("owns", 14),
                ("related to", 4)
            ]),
            "{format:?}"
        );
        let undirected: Vec<&Element> = graph
            .edges
            .iter()
            .filter(|e| !is_directed(e, format))
            .collect();
        assert_eq!(undirected.len(), 4);
        assert!(
            undirected
                .iter()
                .all(|e| value(e, format, "edge", "schema") == Some("Family"))
        );
        let schemata: BTreeMap<&str, usize> =
            graph.nodes.iter().fold(BTreeMap::new(), |mut m, n| {
                *m.entry(value(n, format, "node", "schema").unwrap())
                    .or_default() += 1;
                m
            });
        assert_eq!(
            schemata,
            BTreeMap::from([("Address", 11), ("Company", 11), ("Person", 6)])
        );
        // Named by a Sanction (2 nodes) or tagged `sanction` (11 more).
        let sanctioned = graph
            .nodes
            .iter()
            .filter(|n| value(n, format, "node", "sanctioned") == Some("true"))
            .count();
        assert_eq!(sanctioned, 13, "{format:?}");
        let zakharov = graph
            .nodes
            .iter()
            .find(|n| n.attributes["id"] == "NK-aU5ybkbRFJucf8YMwsJvDw")
            .unwrap();
        assert_eq!(
            value(zakharov, format, "node", "label"),
            Some("Aleksandr Vyacheslavovich Zakharov")
        );
        let programs = value(zakharov, format, "node", "program_ids").unwrap();
        assert_eq!(programs.split("; ").count(), 6, "{programs}");
        assert!(programs.contains("EU-UKR") && programs.contains("GB-RUS"));
    }
}

#[test]
fn party_donations_become_payment_edges() {
    let entities = fixture_entities("yente_parteispenden.ftm.jsonl");
    for format in [GraphFormat::GraphMl, GraphFormat::Gexf] {
        let (graph, summary) = export_graph(&entities, format);
        // 290 Payment entities, one with two payers: 291 edges; 103 addressEntity references.
        assert_eq!(
            summary,
            GraphSummary {
                nodes: 185,
                edges: 394,
                attachments: 0,
                dangling: 0,
                skipped: 0
            }
        );
        assert_eq!((graph.nodes.len(), graph.edges.len()), (185, 394));
        let paid = graph
            .edges
            .iter()
            .filter(|e| value(e, format, "edge", "label") == Some("paid") && is_directed(e, format))
            .count();
        assert_eq!(paid, 291);
    }
}

#[test]
fn graph_summary_counts_what_was_left_out() {
    let mut person = Entity::new("Person", "p-1").unwrap();
    person.add("name", "Ali").unwrap();
    let mut note = Entity::new("Note", "n-1").unwrap();
    note.add("entity", "p-1").unwrap();
    let mut half_ownership = Entity::new("Ownership", "o-1").unwrap();
    half_ownership.add("owner", "p-1").unwrap();
    let stranger = Entity {
        schema: "Spaceship".into(),
        ..person.clone()
    };
    let mut twin = Entity::new("Person", "p-1").unwrap();
    twin.add("alias", "Ali Baba").unwrap();
    twin.sensitivity = Sensitivity::Restricted;
    let (graph, summary) = export_graph(
        &[person, note, half_ownership, stranger, twin],
        GraphFormat::Gexf,
    );
    assert_eq!(
        summary,
        GraphSummary {
            nodes: 1,
            edges: 0,
            attachments: 0,
            dangling: 1,
            skipped: 2
        }
    );
    // The same id twice is one node with the stricter sensitivity.
    assert_eq!(
        value(&graph.nodes[0], GraphFormat::Gexf, "node", "sensitivity"),
        Some("restricted")
    );
}

fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn zala_entity_csv_has_one_row_per_actor_with_its_sanctions() {
    let entities = fixture_entities("yente_zala.ftm.jsonl");
    let attachments = Attachments::collect(&entities);
    assert_eq!(attachments.len(), 42);
    let mut writer = CsvEntityWriter::new(Vec::new()).unwrap();
    let mut written = 0;
    for entity in &entities {
        if writer.write(entity, &attachments, &["zala"]).unwrap() {
            written += 1;
        }
    }
    let (header, rows) = read_csv(&writer.finish().unwrap());
    assert_eq!(header, ENTITY_COLUMNS);
    assert_eq!((written, rows.len()), (28, 28));
    let column = |name: &str| ENTITY_COLUMNS.iter().position(|c| *c == name).unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r[column("sanctioned")] == "true")
            .count(),
        13
    );
    let company = rows
        .iter()
        .find(|r| r[0] == "NK-abdzbEBkqyT29GyREbiURZ")
        .unwrap();
    assert_eq!(company[column("schema")], "Company");
    assert_eq!(company[column("program_ids")].split("; ").count(), 11);
    // 28 Sanction entities name the company; 24 distinct summaries.
    let sanctions: Vec<&str> = company[column("sanctions")].split("; ").collect();
    assert_eq!(sanctions.len(), 24, "{sanctions:?}");
    assert!(sanctions.contains(
        &"Autonomous (Russia) (Department of Foreign Affairs and Trade, since 2023-02-24)"
    ));
    assert_eq!(company[column("datasets")], "zala");
    assert_eq!(company[column("sensitivity")], "public");
    let zakharov = rows
        .iter()
        .find(|r| r[0] == "NK-aU5ybkbRFJucf8YMwsJvDw")
        .unwrap();
    assert_eq!(
        zakharov[column("name")],
        "Aleksandr Vyacheslavovich Zakharov"
    );
    assert!(!zakharov[column("aliases")].is_empty());
    assert!(
        !zakharov[column("aliases")]
            .split("; ")
            .any(|a| a == "Aleksandr Vyacheslavovich Zakharov")
    );
}

#[test]
fn zala_statement_csv_holds_every_value() {
    let entities = fixture_entities("yente_zala.ftm.jsonl");
    let mut writer = CsvStatementWriter::new(Vec::new()).unwrap();
    let mut written = 0;
    for entity in &entities {
        written += writer.write_entity(entity, "zala").unwrap();
    }
    let (header, rows) = read_csv(&writer.finish().unwrap());
    assert_eq!(header, STATEMENT_COLUMNS);
    // 1619 property values in the file's 91 lines.
    assert_eq!((written, rows.len()), (1619, 1619));
    let expected: Vec<Vec<String>> = entities
        .iter()
        .flat_map(|e| {
            e.properties.iter().flat_map(move |(p, values)| {
                values.iter().map(move |v| {
                    vec![
                        e.id.clone(),
                        e.schema.clone(),
                        p.clone(),
                        v.clone(),
                        "zala".into(),
                        "public".into(),
                        String::new(),
                        String::new(),
                    ]
                })
            })
        })
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn statements_keep_their_provenance() {
    let statement = Statement {
        entity_id: "p-1".into(),
        schema: "Person".into(),
        prop: "name".into(),
        value: "=cmd|' /C calc'!A0".into(),
        provenance: Provenance {
            dataset: "d".into(),
            version: "v1".into(),
            first_seen: "2026-01-01T00:00:00".into(),
            last_seen: "2026-02-01T00:00:00".into(),
        },
        sensitivity: Sensitivity::Protected,
        confidence: None,
    };
    let mut writer = CsvStatementWriter::new(Vec::new()).unwrap();
    writer.write_statement(&statement).unwrap();
    let (_, rows) = read_csv(&writer.finish().unwrap());
    assert_eq!(
        rows,
        [[
            "p-1",
            "Person",
            "name",
            "=cmd|' /C calc'!A0",
            "d",
            "protected",
            "2026-01-01T00:00:00",
            "2026-02-01T00:00:00"
        ]]
    );
}

#[test]
fn entity_csv_defuses_spreadsheet_formulas() {
    let mut person = Entity::new("Person", "-p-1").unwrap();
    person
        .add("name", "=HYPERLINK(\"http://x\",\"click\")")
        .unwrap();
    person.add("alias", "Ali").unwrap();
    let mut writer = CsvEntityWriter::new(Vec::new()).unwrap();
    assert!(
        writer
            .write(&person, &Attachments::new(), &[] as &[&str])
            .unwrap()
    );
    let (_, rows) = read_csv(&writer.finish().unwrap());
    assert_eq!(rows[0][0], "-p-1");
    assert_eq!(rows[0][2], "'=HYPERLINK(\"http://x\",\"click\")");
    assert_eq!(rows[0][3], "Ali");
}

#[test]
fn attachments_summarise_sanctions_and_documents() {
    let mut sanction = Entity::new("Sanction", "s-1").unwrap();
    sanction.add("entity", "p-1").unwrap();
    sanction.add("program", "Libya").unwrap();
    sanction.add("programId", "UN-LY").unwrap();
    sanction.add("authority", "UN Security Council").unwrap();
    sanction.add("listingDate", "2018-06-07").unwrap();
    let mut bare = Entity::new("Sanction", "s-2").unwrap();
    bare.add("entity", "p-1").unwrap();
    let mut passport = Entity::new("Passport", "pp-1").unwrap();
    passport.add("holder", "p-1").unwrap();
    passport.add("number", "ER123456").unwrap();
    let mut person = Entity::new("Person", "p-1").unwrap();
    person.add("name", "Ermias Ghermay").unwrap();
    person.add("idNumber", "ID-9").unwrap();
    let attachments = Attachments::collect([&sanction, &bare, &passport, &person]);
    assert_eq!(attachments.len(), 3);
    let facts = EntityFacts::of(&person, &attachments);
    assert!(facts.sanctioned);
    assert_eq!(
        facts.sanctions,
        ["Libya (UN Security Council, since 2018-06-07)", "Sanction"]
    );
    assert_eq!(facts.program_ids, ["UN-LY"]);
    assert_eq!(facts.identifiers, ["ID-9", "ER123456"]);
    let alone = EntityFacts::of(&person, &Attachments::new());
    assert!(!alone.sanctioned && alone.sanctions.is_empty());
}

fn person_with_raw_values(name: &str, alias: &str, topic: &str) -> Entity {
    let mut person = Entity::new("Person", "p-1").unwrap();
    // Straight into the map: writers must cope with values no cleaner has seen.
    person
        .properties
        .insert("name".into(), vec![name.to_string()]);
    person
        .properties
        .insert("alias".into(), vec![alias.to_string()]);
    person
        .properties
        .insert("topics".into(), vec![topic.to_string()]);
    person
        .properties
        .insert("addressEntity".into(), vec!["a-1".to_string()]);
    person
}

fn sanitised(text: &str) -> String {
    text.chars()
        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect()
}

proptest! {
    #[test]
    fn graph_files_stay_well_formed_whatever_the_values(
        name in any::<String>(),
        alias in any::<String>(),
        topic in any::<String>(),
        address in any::<String>(),
    ) {
        let person = person_with_raw_values(&name, &alias, &topic);
        let mut place = Entity::new("Address", "a-1").unwrap();
        place.properties.insert("full".into(), vec![address.clone()]);
        for format in [GraphFormat::GraphMl, GraphFormat::Gexf] {
            let mut writer = GraphWriter::new(Vec::new(), format);
            writer.write(&person);
            writer.write(&place);
            let (bytes, summary) = writer.finish().unwrap();
            prop_assert_eq!((summary.nodes, summary.edges), (2, 1));
            let graph = parse_graph(&bytes).map_err(TestCaseError::fail)?;
            prop_assert_eq!((graph.nodes.len(), graph.edges.len()), (2, 1));
            let (name, address, topic) = (sanitised(&name), sanitised(&address), sanitised(&topic));
            prop_assert_eq!(value(&graph.nodes[0], format, "node", "label"), Some(name.as_str()));
            prop_assert_eq!(value(&graph.nodes[1], format, "node", "label"), Some(address.as_str()));
            let topics = value(&graph.nodes[0], format, "node", "topics");
            prop_assert_eq!(topics, (!topic.is_empty()).then_some(topic.as_str()));
        }
    }

    #[test]
    fn csv_files_keep_any_value(name in any::<String>(), alias in any::<String>(), topic in any::<String>()) {
        let person = person_with_raw_values(&name, &alias, &topic);
        let mut entities = CsvEntityWriter::new(Vec::new()).unwrap();
        entities.write(&person, &Attachments::new(), &["d"]).unwrap();
        let (_, rows) = read_csv(&entities.finish().unwrap());
        prop_assert_eq!(rows.len(), 1);
        let expected_name = if name.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{name}")
        } else {
            name.clone()
        };
        prop_assert_eq!(&rows[0][2], &expected_name);

        let mut statements = CsvStatementWriter::new(Vec::new()).unwrap();
        prop_assert_eq!(statements.write_entity(&person, "d").unwrap(), 4);
        let (_, rows) = read_csv(&statements.finish().unwrap());
        let values: BTreeMap<String, String> = rows.iter().map(|r| (r[2].clone(), r[3].clone())).collect();
        prop_assert_eq!(&values["name"], &name);
        prop_assert_eq!(&values["alias"], &alias);
        prop_assert_eq!(&values["topics"], &topic);
    }

    #[test]
    fn ftm_lines_keep_any_value(name in any::<String>()) {
        let person = person_with_raw_values(&name, "a", "t");
        let mut writer = crate::ftm::FtmWriter::new(Vec::new());
        writer.write(&person).unwrap();
        let bytes = writer.finish().unwrap();
        prop_assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 1);
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(parsed["properties"]["name"][0].as_str(), Some(name.as_str()));
    }
}
