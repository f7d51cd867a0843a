use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use proptest::prelude::*;
use tandem_core::{Entity, Sensitivity};

use super::*;
use crate::Change;

fn mapping(text: &str) -> Mapping {
    Mapping::from_toml(text, "test.toml").unwrap_or_else(|err| panic!("{err}"))
}

fn read(csv: &str, mapping: &Mapping) -> Vec<Result<Record, IngestError>> {
    MappedCsvReader::new(csv.as_bytes(), "sheet.csv", mapping)
        .unwrap_or_else(|err| panic!("{err}"))
        .collect()
}

fn upserts(results: &[Result<Record, IngestError>]) -> Vec<&Entity> {
    results
        .iter()
        .filter_map(|r| match r {
            Ok(Record {
                change: Change::Upsert(e),
                ..
            }) => Some(e),
            _ => None,
        })
        .collect()
}

fn errors(results: &[Result<Record, IngestError>]) -> Vec<&IngestError> {
    results.iter().filter_map(|r| r.as_ref().err()).collect()
}

const CASE_MAPPING: &str = r#"
[csv]
delimiter = ";"

[[entities]]
name = "people"
schema = "Person"
id = "case-{Case ID}"
sensitivity = { column = "Sensitivity" }
confidence = { column = "Confidence" }

[entities.properties]
name = "Name"
alias = { column = "Aliases", split = "|" }
birthDate = { column = "Born", date_format = "DD/MM/YYYY" }
nationality = "Nationality"
"tandem:role" = { column = "Role", map = { driver = "transporter", boss = "organiser", "?" = "" } }
"tandem:stage" = { value = "departure" }
notes = ["Notes", "More notes"]

[[entities]]
name = "links"
schema = "Associate"
id = "assoc-{Case ID}-{Associate ID}"
optional = true
confidence = 0.5

[entities.properties]
person = { entity = "people" }
associate = { entity = "people", column = "Associate ID" }
relationship = "Relationship"
"#;

const CASE_SHEET: &str = "\
Case ID;Name;Aliases;Born;Nationality;Role;Associate ID;Relationship;Sensitivity;Confidence;Notes;More notes
17;Ermias Ghermay;Guro | Ermies Ghermay;12/03/1980;Eritrea;boss;18;employs;;80%;from interview;
18;Ali Driver;;;LY;driver;;;protected;0.4;;second note
;;;;;;;;;;;
19;Nameless;;1/1/1990;ER;?;17;;public;;;
";

#[test]
fn people_and_associates_from_one_sheet() {
    let mapping = mapping(CASE_MAPPING);
    let results = read(CASE_SHEET, &mapping);
    assert!(errors(&results).is_empty(), "{:?}", errors(&results));
    let entities = upserts(&results);
    let ids: Vec<&str> = entities.iter().map(|e| e.id.as_str()).collect();
    // The blank row is skipped; rows without an associate make no link.
    assert_eq!(
        ids,
        [
            "case-17",
            "assoc-17-18",
            "case-18",
            "case-19",
            "assoc-19-17"
        ]
    );

    let ermias = entities[0];
    assert_eq!(ermias.schema, "Person");
    assert_eq!(ermias.get("alias"), ["Guro", "Ermies Ghermay"]);
    assert_eq!(ermias.get("birthDate"), ["1980-03-12"]);
    assert_eq!(ermias.get("nationality"), ["er"]);
    assert_eq!(ermias.get("tandem:role"), ["organiser"]);
    assert_eq!(ermias.get("tandem:stage"), ["departure"]);
    assert_eq!(ermias.get("notes"), ["from interview"]);
    assert_eq!(
        ermias.sensitivity, DEFAULT_SENSITIVITY,
        "an empty cell takes the default"
    );
    assert_eq!(ermias.confidence, Some(0.8));

    let link = entities[1];
    assert_eq!(link.schema, "Associate");
    assert_eq!(link.get("person"), ["case-17"]);
    assert_eq!(link.get("associate"), ["case-18"]);
    assert_eq!(link.get("relationship"), ["employs"]);
    assert_eq!(link.confidence, Some(0.5));

    let ali = entities[2];
    assert_eq!(ali.get("tandem:role"), ["transporter"]);
    assert_eq!(ali.sensitivity, Sensitivity::Protected);
    assert_eq!(ali.get("notes"), ["second note"]);
    let nameless = entities[3];
    assert!(
        !nameless.has("tandem:role"),
        "a value mapped to \"\" is dropped"
    );
    assert_eq!(nameless.sensitivity, Sensitivity::Public);

    // Records carry the row's line (the header is line 1).
    let lines: Vec<Option<u64>> = results
        .iter()
        .map(|r| r.as_ref().unwrap().location.line)
        .collect();
    assert_eq!(lines, [Some(2), Some(2), Some(3), Some(5), Some(5)]);
}

#[test]
fn memberships_and_hashed_ids_from_the_same_row() {
    let mapping = mapping(
        r#"
[[entities]]
name = "member"
schema = "Person"
id = "victim-{#Full name}"
sensitivity = "protected"
[entities.properties]
name = "Full name"

[[entities]]
name = "network"
schema = "Organization"
id = "net-{Network}"
[entities.properties]
name = "Network"
country = { value = "Libya" }

[[entities]]
name = "membership"
schema = "Membership"
id = "member-{#Full name}-{Network}"
[entities.properties]
member = { entity = "member" }
organization = { entity = "network" }
role = "Role"
"#,
    );
    let results = read(
        "Full name,Network,Role\n\"Amina, the cook\",Zawiya group,cook\n",
        &mapping,
    );
    let entities = upserts(&results);
    assert_eq!(entities.len(), 3, "{results:?}");
    let person = entities[0];
    assert!(person.id.starts_with("victim-"));
    assert!(
        !person.id.contains("Amina"),
        "hashed ids do not reveal the name"
    );
    assert_eq!(person.sensitivity, Sensitivity::Protected);
    let network = entities[1];
    assert!(
        network.id.starts_with("net-Zawiya-group-"),
        "{}",
        network.id
    );
    assert_eq!(network.id.len(), "net-Zawiya-group-".len() + 8);
    assert_eq!(network.get("country"), ["ly"]);
    let membership = entities[2];
    assert_eq!(membership.get("member"), [person.id.as_str()]);
    assert_eq!(membership.get("organization"), [network.id.as_str()]);
    assert_eq!(membership.get("role"), ["cook"]);
}

fn config_error(text: &str) -> (String, String) {
    match Mapping::from_toml(text, "bad.toml") {
        Err(IngestError::Config { location, message }) => {
            assert_eq!(location.file, "bad.toml");
            (location.field.unwrap_or_default(), message)
        }
        Err(other) => panic!("not a Config error: {other}"),
        Ok(_) => panic!("accepted: {text}"),
    }
}

const PERSON_HEAD: &str = "[[entities]]\nname = \"people\"\nschema = \"Person\"\nid = \"p-{ID}\"\n[entities.properties]\nname = \"Name\"\n";

#[test]
fn bad_mappings_name_the_section_and_key() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "[[entities]]\nname = \"people\"\nschema = \"Persn\"\nid = \"p-{ID}\"\n".into(),
            "entities[people].schema",
            "unknown schema",
        ),
        (
            "[[entities]]\nname = \"x\"\nschema = \"Thing\"\nid = \"p-{ID}\"\n".into(),
            "entities[x].schema",
            "abstract",
        ),
        (
            format!("{PERSON_HEAD}nationalty = \"Nationality\"\n"),
            "entities[people].properties.nationalty",
            "no property",
        ),
        (
            format!("{PERSON_HEAD}nationality = {{ value = \"Atlantis\" }}\n"),
            "entities[people].properties.nationality.value",
            "country",
        ),
        (
            format!("{PERSON_HEAD}birthDate = {{ column = \"Born\", date_format = \"DD/MM\" }}\n"),
            "entities[people].properties.birthDate.date_format",
            "YYYY",
        ),
        (
            format!("{PERSON_HEAD}\"tandem:role\" = {{ value = \"smuggler\" }}\n"),
            "entities[people].properties.tandem:role.value",
            "organiser",
        ),
        (
            format!("{PERSON_HEAD}associates = \"X\"\n"),
            "entities[people].properties.associates",
            "reverse side",
        ),
        (
            format!("{PERSON_HEAD}nationality = {{ column = \"N\", splt = \";\" }}\n"),
            "entities[people].properties.nationality.splt",
            "unknown key",
        ),
        (
            "[[entities]]\nname = \"people\"\nschema = \"Person\"\nid = \"p-{ID}\"\n[entities.properties]\nalias = \"A\"\n".into(),
            "entities[people].properties",
            "needs name",
        ),
        (
            "[[entities]]\nname = \"people\"\nschema = \"Person\"\nid = \"person\"\n[entities.properties]\nname = \"A\"\n".into(),
            "entities[people].id",
            "placeholder",
        ),
        (
            format!(
                "{PERSON_HEAD}\n[[entities]]\nname = \"link\"\nschema = \"UnknownLink\"\nid = \"l-{{ID}}\"\n[entities.properties]\nsubject = {{ entity = \"people\" }}\n"
            ),
            "entities[link].properties",
            "needs object",
        ),
        (
            format!(
                "{PERSON_HEAD}\n[[entities]]\nname = \"link\"\nschema = \"UnknownLink\"\nid = \"l-{{ID}}\"\n[entities.properties]\nsubject = {{ entity = \"people\" }}\nobject = {{ entity = \"peple\", column = \"B\" }}\n"
            ),
            "entities[link].properties.object.entity",
            "no section is named \"peple\"",
        ),
        (
            "[[entities]]\nname = \"org\"\nschema = \"Organization\"\nid = \"o-{ID}\"\n[entities.properties]\nname = \"Name\"\n[[entities]]\nname = \"a\"\nschema = \"Associate\"\nid = \"a-{ID}\"\n[entities.properties]\nperson = { entity = \"org\" }\nassociate = { entity = \"org\", column = \"B\" }\n".into(),
            "entities[a].properties.associate.entity",
            "must point at a Person",
        ),
        (
            "[[entities]]\nname = \"people\"\nschema = \"Person\"\nid = \"p-{ID}\"\n[entities.properties]\nname = { entity = \"people\" }\n".into(),
            "entities[people].properties.name.entity",
            "not a reference",
        ),
        (
            "[[entities]]\nname = \"people\"\nschema = \"Person\"\nid = \"p-{ID}\"\nsensitivity = \"secret\"\n[entities.properties]\nname = \"N\"\n".into(),
            "entities[people].sensitivity",
            "unknown sensitivity",
        ),
        (
            "[csv]\ndelimiter = \";;\"\n".into(),
            "csv.delimiter",
            "one ASCII character",
        ),
        ("[csv]\nheader = true\ncolumns = [\"a\"]\n".into(), "csv.columns", "header"),
        ("nothing = 1\n".into(), "nothing", "unknown key"),
        ("[csv]\n".into(), "entities", "no [[entities]]"),
        (
            "[csv]\nheader = false\n[[entities]]\nname = \"p\"\nschema = \"Person\"\nid = \"p-{ID}\"\n[entities.properties]\nname = \"1\"\n".into(),
            "entities[p].id",
            "no header",
        ),
        (
            "[[entities]]\nname = \"a\"\nschema = \"Person\"\nid = \"a-{ID}\"\n[entities.properties]\nname = \"N\"\n[[entities]]\nname = \"x\"\nschema = \"Associate\"\nid = \"x-{ID}\"\n[entities.properties]\nperson = { entity = \"a\" }\nassociate = { entity = \"a\" }\n[[entities]]\nname = \"a\"\nschema = \"Person\"\nid = \"b-{ID}\"\n[entities.properties]\nname = \"N\"\n".into(),
            "entities[a].name",
            "two sections",
        ),
    ];
    for (text, key, message) in cases {
        let (found_key, found_message) = config_error(&text);
        assert_eq!(found_key, key, "{text}\n→ {found_message}");
        assert!(
            found_message.contains(message),
            "{found_key}: {found_message}"
        );
    }
}

#[test]
fn toml_syntax_errors_name_the_line() {
    match Mapping::from_toml("[csv]\ndelimiter = \n", "bad.toml") {
        Err(IngestError::Config { location, .. }) => assert_eq!(location.line, Some(2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn same_row_cycles_are_refused() {
    let (key, message) = config_error(
        r#"
[[entities]]
name = "a"
schema = "Company"
id = "a-{ID}"
[entities.properties]
name = "N"
parent = { entity = "b" }
[[entities]]
name = "b"
schema = "Company"
id = "b-{ID}"
[entities.properties]
name = "N"
parent = { entity = "a" }
"#,
    );
    assert_eq!(key, "entities[a]");
    assert!(
        message.contains("in a circle: entities[a], entities[b]"),
        "{message}"
    );
}

#[test]
fn a_column_missing_from_the_header_is_a_config_error() {
    let mapping = mapping(CASE_MAPPING);
    let error = MappedCsvReader::new("Case ID;Name\n1;A\n".as_bytes(), "sheet.csv", &mapping)
        .err()
        .unwrap();
    match error {
        IngestError::Config { location, message } => {
            assert_eq!(location.file, "test.toml");
            // The first missing column is Associate ID, first used by the links section.
            assert_eq!(location.field.as_deref(), Some("entities[links]"));
            assert!(
                message.starts_with("\"Associate ID\", \"Aliases\", \"Born\""),
                "{message}"
            );
            assert!(
                message.contains("are not in the header of sheet.csv (its columns: Case ID, Name)"),
                "{message}"
            );
        }
        other => panic!("{other}"),
    }
}

#[test]
fn bad_rows_name_line_and_column_and_the_next_row_goes_on() {
    let mapping = mapping(CASE_MAPPING);
    let sheet = "\
Case ID;Name;Aliases;Born;Nationality;Role;Associate ID;Relationship;Sensitivity;Confidence;Notes;More notes
1;Good;;;;;;;;;;
2;Bad date;;1980-03-12;;;;;;;;
3;Bad country;;;Atlantis;;;;;;;
;No id;;;;;;;;;;
5;Bad confidence;;;;;;;;1.5;;
6;;;;;;;;;;;
7;Bad role;;;;smuggler;;;;;;
8;Bad sensitivity;;;;;;;secret;;;
9;Bad link;;;;;has space;;;;;
10;Last;;;;;;;;;;
";
    let results = read(sheet, &mapping);
    let ok: Vec<&str> = upserts(&results).iter().map(|e| e.id.as_str()).collect();
    // Row 9's link has an id that cannot be made from "has space"? It can (slugged), so
    // the row is taken whole.
    assert_eq!(ok[0], "case-1");
    assert_eq!(ok.last(), Some(&"case-10"));
    let found: Vec<(Option<u64>, Option<String>)> = errors(&results)
        .iter()
        .map(|e| {
            assert!(e.is_skippable());
            let l = e.location().unwrap();
            assert_eq!(l.file, "sheet.csv");
            (l.line, l.field.clone())
        })
        .collect();
    let expected = [
        (3, "Born"),
        (4, "Nationality"),
        (5, "Case ID"),
        (6, "Confidence"),
        (7, "Name"),
        (8, "Role"),
        (9, "Sensitivity"),
    ];
    assert_eq!(
        found,
        expected
            .iter()
            .map(|(l, f)| (Some(*l), Some(f.to_string())))
            .collect::<Vec<_>>()
    );
    let message = errors(&results)[0].to_string();
    assert!(
        message.contains("sheet.csv, line 3, field Born"),
        "{message}"
    );
    assert!(message.contains("DD/MM/YYYY"), "{message}");
}

#[test]
fn a_row_is_all_or_nothing() {
    let mapping = mapping(
        r#"
[[entities]]
name = "people"
schema = "Person"
id = "p-{A}"
[entities.properties]
name = "A"
[[entities]]
name = "others"
schema = "Person"
id = "p-{B}"
[entities.properties]
name = "B"
birthDate = "Born"
[[entities]]
name = "link"
schema = "UnknownLink"
id = "l-{A}-{B}"
[entities.properties]
subject = { entity = "people" }
object = { entity = "others" }
"#,
    );
    let results = read("A,B,Born\nx,y,not a date\nx,z,1990\n", &mapping);
    let ids: Vec<&str> = upserts(&results).iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["p-x", "p-z", "l-x-z"]);
    assert_eq!(errors(&results).len(), 1);
}

#[test]
fn invalid_utf8_names_the_column() {
    let mapping = mapping(
        "[[entities]]\nschema = \"Person\"\nid = \"p-{A}\"\n[entities.properties]\nname = \"B\"\n",
    );
    let mut bytes = b"A,B\n1,ok\n2,".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"\n3,fine\n");
    let results: Vec<_> = MappedCsvReader::new(bytes.as_slice(), "sheet.csv", &mapping)
        .unwrap()
        .collect();
    assert_eq!(upserts(&results).len(), 2);
    let error = errors(&results)[0];
    let location = error.location().unwrap();
    assert_eq!(
        (location.line, location.field.as_deref()),
        (Some(3), Some("B"))
    );
}

fn network_data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/networks")
        .join(path)
}

/// The Mexican southern-border trafficking network: node labels in one headerless file, a
/// space-separated edge list in another, imported with two mappings that agree on ids.
#[test]
fn trafficking_network_from_two_files() {
    let people = mapping(
        r#"
[csv]
header = false
columns = ["node", "label"]

[[entities]]
name = "actors"
schema = "Person"
id = "htmx-{node}"
[entities.properties]
name = "label"
"#,
    );
    let links = mapping(
        r#"
[csv]
header = false
delimiter = " "

[[entities]]
name = "ties"
schema = "UnknownLink"
id = "htmx-tie-{1}-{2}"
[entities.properties]
subject = { id = "htmx-{1}" }
object = { id = "htmx-{2}" }
role = { value = "tie (snowball fieldwork)" }
"#,
    );
    let actors: Vec<_> =
        MappedCsvReader::open(network_data("human_trafficking_mexico/labels.csv"), &people)
            .unwrap()
            .collect();
    assert!(errors(&actors).is_empty(), "{:?}", errors(&actors));
    let actors = upserts(&actors);
    assert_eq!(actors.len(), 34);
    // The byte-order mark does not end up in the first id.
    assert_eq!(actors[0].id, "htmx-0");
    assert_eq!(actors[0].get("name"), ["Cuidador 1"]);
    assert_eq!(actors[16].get("name"), ["Funcionario 1"]);
    assert!(actors.iter().all(|a| a.sensitivity == DEFAULT_SENSITIVITY));
    let actor_ids: HashSet<&str> = actors.iter().map(|a| a.id.as_str()).collect();

    let ties: Vec<_> =
        MappedCsvReader::open(network_data("human_trafficking_mexico/Data.txt"), &links)
            .unwrap()
            .collect();
    assert!(errors(&ties).is_empty());
    let ties = upserts(&ties);
    assert_eq!(ties.len(), 225);
    let mut degree: HashMap<&str, usize> = HashMap::new();
    for tie in &ties {
        for end in ["subject", "object"] {
            let id = tie.first(end).unwrap();
            assert!(actor_ids.contains(id), "{id} is not an actor");
            *degree.entry(id).or_default() += 1;
        }
    }
    assert_eq!(degree.len(), 34, "every actor has a tie");
    assert_eq!(degree.values().sum::<usize>(), 450);
}

/// Montagna roles: rows shorter than the header (trailing cells dropped) read as empty cells.
#[test]
fn montagna_roles_with_short_rows() {
    let roles = mapping(
        r#"
[[entities]]
name = "suspects"
schema = "Person"
id = "montagna-{Node}"
sensitivity = "public"
[entities.properties]
name = "Node"
description = ["Role", "Relationship"]
status = "Request"
"#,
    );
    let results: Vec<_> = MappedCsvReader::open(
        network_data("louisww_collection/Montagna_Roles.csv"),
        &roles,
    )
    .unwrap()
    .collect();
    assert!(errors(&results).is_empty(), "{:?}", errors(&results));
    let suspects = upserts(&results);
    assert_eq!(suspects.len(), 143);
    assert_eq!(by_id_count(&suspects), 143, "node ids are unique");
    let by_id: HashMap<&str, &Entity> = suspects.iter().map(|e| (e.id.as_str(), *e)).collect();
    assert_eq!(
        by_id["montagna-N0"].get("description"),
        ["cooperating witness"]
    );
    assert_eq!(
        by_id["montagna-N1"].get("description"),
        ["conversation with 0"]
    );
    assert_eq!(by_id["montagna-N12"].get("status"), ["arrested"]);
    assert!(!by_id["montagna-N0"].has("status"));
}

/// The example in docs/mapping.md imports as the guide says.
#[test]
fn the_guide_example_works() {
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mapping.md"),
    )
    .unwrap();
    let block = |fence: &str| {
        let start = guide.find(fence).unwrap() + fence.len();
        let end = start + guide[start..].find("```").unwrap();
        guide[start..end].to_string()
    };
    let sheet =
        block("(saved from a spreadsheet as *CSV UTF-8*, semicolons between cells):\n\n```\n");
    let mapping = Mapping::from_toml(&block("```toml\n"), "cases.toml").unwrap();
    let results = read(&sheet, &mapping);
    assert!(errors(&results).is_empty(), "{:?}", errors(&results));
    let ids: Vec<&str> = upserts(&results).iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["case-17", "assoc-17-18", "case-18"]);
}

fn by_id_count(entities: &[&Entity]) -> usize {
    entities
        .iter()
        .map(|e| e.id.as_str())
        .collect::<HashSet<_>>()
        .len()
}

proptest! {
    #[test]
    fn arbitrary_csv_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let mapping = mapping(CASE_MAPPING);
        if let Ok(reader) = MappedCsvReader::new(bytes.as_slice(), "fuzz.csv", &mapping) {
            for item in reader.take(10_000) {
                if let Err(error) = item {
                    let located = error.location().is_some();
                    prop_assert!(located, "{}", error);
                }
            }
        }
    }

    #[test]
    fn arbitrary_rows_under_a_valid_header_never_panic(rows in "([0-9a-zA-Z ;|/%?\"\n]{0,30}\n){0,20}") {
        let mapping = mapping(CASE_MAPPING);
        let header = CASE_SHEET.lines().next().unwrap_or_default();
        let sheet = format!("{header}\n{rows}");
        for item in read(&sheet, &mapping) {
            if let Err(error) = item {
                prop_assert!(error.location().and_then(|l| l.line).is_some(), "{error}");
            }
        }
    }

    #[test]
    fn arbitrary_mapping_text_never_panics(text in "\\PC{0,300}") {
        let _ = Mapping::from_toml(&text, "fuzz.toml");
    }
}
