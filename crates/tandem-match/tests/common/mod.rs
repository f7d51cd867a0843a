//! Minimal readers of the shared list files, for tests and the benchmark only: enough of the UN
//! XML and OFAC CSV to build Person and Organization entities with names, aliases, birth dates,
//! nationalities and document numbers. (Tandem's real readers live in tandem-ingest; this crate
//! must not depend on it.)

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tandem_core::Entity;
use tandem_core::country;
use tandem_match::eval::LabelledQuery;

pub fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/screening")
        .join(relative)
}

fn read_latin1(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .into_iter()
        .filter(|&b| b != 0x1A)
        .map(char::from)
        .collect()
}

/// The text of each `<tag>…</tag>` inside `xml`, entity-decoded and trimmed.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&after[..=semi]),
        }
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first(xml: &str, tag: &str) -> Option<String> {
    elements(xml, tag)
        .into_iter()
        .map(decode)
        .find(|v| !v.is_empty())
}

/// One UN record with what the tests need besides the entity.
pub struct UnRecord {
    pub reference: String,
    pub list: String,
    pub entity: Entity,
    pub original_script: Option<String>,
    pub latin_name: String,
}

/// Every INDIVIDUAL (as Person) and ENTITY (as Organization) of the UN consolidated list, with
/// the original-script name as an alias.
pub fn un_records() -> Vec<UnRecord> {
    un_records_with(true)
}

/// [`un_records`], optionally without the original-script alias (to use it as a query).
pub fn un_records_with(original_script_alias: bool) -> Vec<UnRecord> {
    let xml = std::fs::read_to_string(shared("un/un_consolidated_2026-02-27.xml")).expect("UN XML");
    let mut records = Vec::new();
    for (tag, schema, alias_tag) in [
        ("INDIVIDUAL", "Person", "INDIVIDUAL_ALIAS"),
        ("ENTITY", "Organization", "ENTITY_ALIAS"),
    ] {
        for block in elements(&xml, tag) {
            let reference = first(block, "REFERENCE_NUMBER").unwrap_or_default();
            let list = first(block, "UN_LIST_TYPE").unwrap_or_default();
            let id = format!("un-{}", reference.replace(' ', ""));
            let mut entity = Entity::new(schema, &id).expect("UN id");
            let parts: Vec<String> = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
                .iter()
                .filter_map(|t| first(block, t))
                .collect();
            let latin_name = parts.join(" ");
            entity.add_lenient("name", &latin_name);
            let original_script = first(block, "NAME_ORIGINAL_SCRIPT");
            if let Some(original) = original_script.as_ref().filter(|_| original_script_alias) {
                entity.add_lenient("alias", original);
            }
            for alias in elements(block, alias_tag) {
                let Some(name) = first(alias, "ALIAS_NAME") else {
                    continue;
                };
                let property = match first(alias, "QUALITY").as_deref() {
                    Some("Low") => "weakAlias",
                    Some("f.k.a.") => "previousName",
                    _ => "alias",
                };
                entity.add_lenient(property, &name);
            }
            for dob in elements(block, "INDIVIDUAL_DATE_OF_BIRTH") {
                if let Some(date) = first(dob, "DATE") {
                    entity.add_lenient("birthDate", &date);
                } else if let Some(year) = first(dob, "YEAR") {
                    entity.add_lenient("birthDate", &year);
                } else if let (Some(from), Some(to)) = (
                    first(dob, "FROM_YEAR").and_then(|y| y.parse::<u16>().ok()),
                    first(dob, "TO_YEAR").and_then(|y| y.parse::<u16>().ok()),
                ) {
                    for year in from..=to.min(from + 20) {
                        entity.add_lenient("birthDate", &year.to_string());
                    }
                }
            }
            for nationality in elements(block, "NATIONALITY") {
                for value in elements(nationality, "VALUE") {
                    if let Some(code) = country::lookup(&decode(value)) {
                        entity.add_lenient("nationality", code);
                    }
                }
            }
            for document in elements(block, "INDIVIDUAL_DOCUMENT") {
                let kind = first(document, "TYPE_OF_DOCUMENT")
                    .unwrap_or_default()
                    .to_lowercase();
                if let Some(number) = first(document, "NUMBER") {
                    let property = if kind.contains("passport") {
                        "passportNumber"
                    } else {
                        "idNumber"
                    };
                    entity.add_lenient(property, &number);
                }
            }
            if let Some(gender) = first(block, "GENDER") {
                entity.add_lenient("gender", &gender);
            }
            records.push(UnRecord {
                reference,
                list,
                entity,
                original_script,
                latin_name,
            });
        }
    }
    records
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// OFAC remark dates: `12 Dec 1985`, `Dec 1985`, `1985`, `1972 to 1977`, `circa 1979`.
fn ofac_dates(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().filter(|w| *w != "circa").collect();
    match words.as_slice() {
        [from, "to", to] => match (from.parse::<u16>(), to.parse::<u16>()) {
            (Ok(a), Ok(b)) if a <= b && b - a <= 20 => (a..=b).map(|y| y.to_string()).collect(),
            _ => Vec::new(),
        },
        [day, month, year] => {
            let m = MONTHS
                .iter()
                .position(|m| month.to_lowercase().starts_with(m));
            match (day.parse::<u8>(), m) {
                (Ok(d), Some(m)) => vec![format!("{year}-{:02}-{d:02}", m + 1)],
                _ => Vec::new(),
            }
        }
        [month, year] => MONTHS
            .iter()
            .position(|m| month.to_lowercase().starts_with(m))
            .map(|m| vec![format!("{year}-{:02}", m + 1)])
            .unwrap_or_default(),
        [year] => vec![year.to_string()],
        _ => Vec::new(),
    }
}

fn ofac_remarks(entity: &mut Entity, remarks: &str) {
    for clause in remarks.split(';').map(|c| c.trim().trim_end_matches('.')) {
        if let Some(dates) = clause
            .strip_prefix("DOB ")
            .or_else(|| clause.strip_prefix("alt. DOB "))
        {
            for date in ofac_dates(dates) {
                entity.add_lenient("birthDate", &date);
            }
        } else if let Some(name) = clause.strip_prefix("nationality ") {
            if let Some(code) = country::lookup(name) {
                entity.add_lenient("nationality", code);
            }
        } else if let Some(name) = clause.strip_prefix("citizen ") {
            if let Some(code) = country::lookup(name) {
                entity.add_lenient("citizenship", code);
            }
        } else if let Some(rest) = clause.strip_prefix("Passport ") {
            if let Some(number) = rest.split_whitespace().next() {
                entity.add_lenient("passportNumber", number);
            }
        } else if let Some(rest) = clause.strip_prefix("National ID No. ") {
            if let Some(number) = rest.split_whitespace().next() {
                entity.add_lenient("idNumber", number);
            }
        } else if let Some(rest) = clause.strip_prefix("Gender ") {
            entity.add_lenient("gender", rest);
        } else if let Some(rest) = clause.strip_prefix("a.k.a. '") {
            entity.add_lenient("weakAlias", rest.trim_end_matches('\''));
        } else if let Some(rest) = clause.strip_prefix("Vessel Registration Identification IMO ") {
            entity.add_lenient("imoNumber", rest.trim());
        }
    }
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = read_latin1(path);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            r.iter()
                .map(|f| {
                    if f.trim() == "-0-" {
                        String::new()
                    } else {
                        f.trim().to_string()
                    }
                })
                .collect()
        })
        .collect()
}

/// OFAC SDN records as entities (`ofac-<ent_num>`), with the aliases of `alt` when given.
pub fn ofac_entities(sdn: &str, alt: Option<&str>) -> Vec<Entity> {
    let mut entities: Vec<Entity> = Vec::new();
    let mut position = std::collections::HashMap::new();
    for row in csv_rows(&shared(sdn)) {
        let (Some(ent_num), Some(name)) = (row.first(), row.get(1)) else {
            continue;
        };
        let schema = match row.get(2).map(String::as_str) {
            Some("individual") => "Person",
            Some("vessel") => "Vessel",
            Some("aircraft") => "Airplane",
            _ => "Organization",
        };
        let Ok(mut entity) = Entity::new(schema, format!("ofac-{ent_num}")) else {
            continue;
        };
        if !entity.add_lenient("name", name) {
            continue;
        }
        if let Some(remarks) = row.get(11) {
            ofac_remarks(&mut entity, remarks);
        }
        position.insert(ent_num.clone(), entities.len());
        entities.push(entity);
    }
    if let Some(alt) = alt {
        for row in csv_rows(&shared(alt)) {
            let (Some(ent_num), Some(kind), Some(name)) = (row.first(), row.get(2), row.get(3))
            else {
                continue;
            };
            let Some(&i) = position.get(ent_num) else {
                continue;
            };
            let property = match kind.as_str() {
                "fka" => "previousName",
                _ => "alias",
            };
            entities[i].add_lenient(property, name);
        }
    }
    entities
}

/// The synthetic negatives as Person queries, grouped by script; with `qualifiers`, their
/// birth date and nationality too. A path as given, or one inside the shared screening data.
pub fn negatives(file: &str, qualifiers: bool) -> Vec<LabelledQuery> {
    let path = if Path::new(file).exists() {
        PathBuf::from(file)
    } else {
        shared(file)
    };
    let reader = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    tandem_match::eval::read_negatives(
        std::io::BufReader::new(reader),
        &path.display().to_string(),
        qualifiers,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Cross-script figures of the screening spec (section 4.4), shared by the tests and the
/// benchmark.
pub mod cross_script {
    use std::collections::BTreeMap;

    use tandem_core::Entity;
    use tandem_match::{CandidateIndex, IndexConfig, MatchConfig, Subject, eval};

    /// Each UN record's original-script name as a query against the UN list without those
    /// names: the records found (positives) and the other records of the same regime that
    /// alert (hard negatives), as `query -> record` lines.
    pub struct OriginalScript {
        pub positives: usize,
        pub found: usize,
        pub missed: Vec<String>,
        pub hard_negatives: Vec<String>,
    }

    pub fn un_original_script() -> OriginalScript {
        let records = super::un_records_with(false);
        let (index, _) = CandidateIndex::build(
            records.iter().map(|r| r.entity.clone()),
            IndexConfig::default(),
        );
        let config = MatchConfig::default();
        let list_of: BTreeMap<&str, &str> = records
            .iter()
            .map(|r| (r.entity.id.as_str(), r.list.as_str()))
            .collect();
        let mut report = OriginalScript {
            positives: 0,
            found: 0,
            missed: Vec::new(),
            hard_negatives: Vec::new(),
        };
        for r in &records {
            let Some(original) = r.original_script.as_deref() else {
                continue;
            };
            report.positives += 1;
            let query = eval::name_entity(&r.entity.schema, "q", original).expect("query");
            let subject = Subject::from_entity(&query).expect("subject");
            let hits = index.screen(&subject, &config, 0.7, 10);
            if hits
                .iter()
                .any(|h| h.entity_id == r.entity.id && h.score.is_match)
            {
                report.found += 1;
            } else {
                report
                    .missed
                    .push(format!("{original} -> {}", r.latin_name));
            }
            for h in hits
                .iter()
                .filter(|h| h.score.is_match && h.entity_id != r.entity.id)
                .filter(|h| list_of.get(h.entity_id.as_str()) == Some(&r.list.as_str()))
            {
                report.hard_negatives.push(format!(
                    "{original} -> {} ({:.3})",
                    h.entity_id, h.score.score
                ));
            }
        }
        report
    }

    /// The 81 spellings of Putin as queries against his one record: (spellings, missed).
    pub fn putin_spellings() -> (usize, Vec<String>) {
        let mut putin = Entity::new("Person", "putin").expect("entity");
        putin
            .add("name", "PUTIN, Vladimir Vladimirovich")
            .expect("name");
        let (index, _) = CandidateIndex::build([putin], IndexConfig::default());
        let text = std::fs::read_to_string(super::shared("eval/putin_name_variants.txt"))
            .expect("Putin spellings");
        let variants: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let config = MatchConfig::default();
        let missed = variants
            .iter()
            .enumerate()
            .filter(|(i, variant)| {
                let query = eval::name_entity("Person", &format!("q{i}"), variant).expect("query");
                let subject = Subject::from_entity(&query).expect("subject");
                let hits = index.screen(&subject, &config, 0.7, 1);
                !hits.first().is_some_and(|h| h.score.is_match)
            })
            .map(|(_, variant)| variant.to_string())
            .collect();
        (variants.len(), missed)
    }
}
