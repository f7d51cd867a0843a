use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tandem_core::{Entity, Provenance, Sensitivity};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/screening/ftm/fixtures")
        .join(name)
}

fn read_file(name: &str) -> Vec<Record> {
    let file = File::open(fixture(name)).unwrap();
    FtmReader::new(BufReader::new(file), name)
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn read_text(text: &str) -> Vec<Result<Record, IngestError>> {
    FtmReader::new(Cursor::new(text.as_bytes()), "test.jsonl").collect()
}

fn upserts(records: &[Record]) -> Vec<&Entity> {
    records
        .iter()
        .filter_map(|r| match &r.change {
            Change::Upsert(e) => Some(e),
            Change::Delete(_) => None,
        })
        .collect()
}

fn schema_counts(records: &[Record]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for entity in upserts(records) {
        *counts.entry(entity.schema.clone()).or_default() += 1;
    }
    counts
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

/// Per fixture: entities per schema and deleted ids, counted from the files (one entity per
/// non-empty line; none of the fixtures nests entities).
fn expected() -> Vec<(&'static str, BTreeMap<String, usize>, Vec<&'static str>)> {
    vec![
        (
            "yente_parteispenden.ftm.jsonl",
            counts(&[
                ("Address", 89),
                ("Company", 56),
                ("Organization", 18),
                ("Payment", 290),
                ("Person", 22),
            ]),
            vec![],
        ),
        (
            "yente_t1.ftm.jsonl",
            counts(&[("Address", 1), ("Organization", 2), ("Person", 4)]),
            vec![],
        ),
        (
            "yente_t2_delta_add.jsonl",
            counts(&[("Organization", 1), ("Person", 1)]),
            vec![],
        ),
        (
            "yente_t2_delta_add2.jsonl",
            counts(&[("Person", 1)]),
            vec![],
        ),
        (
            "yente_t2_delta_del.jsonl",
            counts(&[]),
            vec!["NK-500Poltergeist"],
        ),
        (
            "yente_zala.ftm.jsonl",
            counts(&[
                ("Address", 11),
                ("Company", 11),
                ("Directorship", 3),
                ("Family", 4),
                ("Ownership", 14),
                ("Passport", 1),
                ("Person", 6),
                ("Sanction", 41),
            ]),
            vec![],
        ),
    ]
}

#[test]
fn fixtures_read_with_the_counts_of_the_files() {
    for (name, schemata, deleted) in expected() {
        let records = read_file(name);
        assert_eq!(schema_counts(&records), schemata, "{name}");
        let deletes: Vec<&str> = records
            .iter()
            .filter_map(|r| match &r.change {
                Change::Delete(id) => Some(id.as_str()),
                Change::Upsert(_) => None,
            })
            .collect();
        assert_eq!(deletes, deleted, "{name}");
        // Every record remembers its line; lines are counted from 1 without gaps here.
        for (index, record) in records.iter().enumerate() {
            assert_eq!(record.location.file, name);
            assert_eq!(record.location.line, Some(index as u64 + 1), "{name}");
        }
    }
}

fn provenance() -> Provenance {
    Provenance {
        dataset: "fixture".into(),
        version: "v1".into(),
        first_seen: "2026-01-01T00:00:00".into(),
        last_seen: "2026-01-01T00:00:00".into(),
    }
}

#[test]
fn fixtures_round_trip_through_the_writer() {
    for (name, _, _) in expected() {
        let first = read_file(name);
        let mut writer = FtmWriter::new(Vec::new()).with_datasets(["fixture"]);
        let is_delta = name.contains("delta");
        for record in &first {
            match &record.change {
                Change::Upsert(entity) if !is_delta => writer.write(entity).unwrap(),
                change => writer.write_change(change).unwrap(),
            }
        }
        let written = writer.finish().unwrap();
        let second: Vec<Record> = FtmReader::new(Cursor::new(&written), "again")
            .collect::<Result<_, _>>()
            .unwrap();
        let changes = |records: &[Record]| -> Vec<Change> {
            records.iter().map(|r| r.change.clone()).collect()
        };
        assert_eq!(changes(&first), changes(&second), "{name}");
        let statements = |records: &[Record]| -> Vec<tandem_core::Statement> {
            upserts(records)
                .into_iter()
                .flat_map(|e| e.statements(&provenance()))
                .collect()
        };
        let before = statements(&first);
        assert!(before.len() >= upserts(&first).len(), "{name}");
        assert_eq!(before, statements(&second), "{name}");
        // Written once more, the text is the same: writing is deterministic.
        let mut again = FtmWriter::new(Vec::new()).with_datasets(["fixture"]);
        for record in &second {
            match &record.change {
                Change::Upsert(entity) if !is_delta => again.write(entity).unwrap(),
                change => again.write_change(change).unwrap(),
            }
        }
        assert_eq!(again.finish().unwrap(), written, "{name}");
    }
}

#[test]
fn aggregated_entities_keep_their_values_and_drop_the_metadata() {
    let records = read_file("yente_t1.ftm.jsonl");
    let Change::Upsert(inter_tobacco) = &records[0].change else {
        panic!("first line is an entity");
    };
    assert_eq!(inter_tobacco.id, "NK-2GdmHtZTeNXjNVrBGEXZNj");
    assert_eq!(inter_tobacco.schema, "Organization");
    assert_eq!(inter_tobacco.get("name").len(), 12);
    assert_eq!(inter_tobacco.get("country"), ["by"]);
    assert_eq!(inter_tobacco.get("registrationNumber"), ["808000714"]);
    assert_eq!(
        inter_tobacco.get("addressEntity"),
        ["addr-125caec37c3486d3a71de8ae943eec47f420b38a"]
    );
    // caption, referents, datasets, first_seen… are not properties.
    assert!(!inter_tobacco.properties.contains_key("caption"));
    assert_eq!(inter_tobacco.properties.len(), 7);
    assert_eq!(inter_tobacco.sensitivity, Sensitivity::Public);
}

#[test]
fn zala_relations_point_at_entities_in_the_file() {
    let records = read_file("yente_zala.ftm.jsonl");
    let entities = upserts(&records);
    let ids: std::collections::HashSet<&str> = entities.iter().map(|e| e.id.as_str()).collect();
    let ownerships: Vec<&&Entity> = entities
        .iter()
        .filter(|e| e.schema == "Ownership")
        .collect();
    assert_eq!(ownerships.len(), 14);
    for ownership in ownerships {
        assert!(
            ownership.has("owner") && ownership.has("asset"),
            "{}",
            ownership.id
        );
    }
    let sanctioned: std::collections::BTreeSet<&str> = entities
        .iter()
        .filter(|e| e.schema == "Sanction")
        .flat_map(|e| e.get("entity"))
        .map(String::as_str)
        .collect();
    assert!(sanctioned.iter().all(|id| ids.contains(id)));
    assert!(sanctioned.contains("NK-abdzbEBkqyT29GyREbiURZ"));
}

#[test]
fn nested_entities_become_their_own_records() {
    let line = r#"{"id":"p-1","schema":"Person","properties":{
        "name":["Osama Al Kuni Ibrahim"],
        "addressEntity":[{"id":"addr-1","schema":"Address","properties":{"full":["Zawiya, Libya"]}}],
        "sanctions":[{"id":"s-1","schema":"Sanction","properties":{"program":["LIBYA"]}}],
        "ownershipOwner":[{"id":"own-1","schema":"Ownership","properties":{
            "asset":[{"id":"c-1","schema":"Company","properties":{"name":["Al-Noor Shipping"]}}]}}]}}"#
        .replace('\n', " ");
    let records: Vec<Record> = read_text(&line)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let ids: Vec<&str> = upserts(&records).iter().map(|e| e.id.as_str()).collect();
    // The line's entity first, then what is nested in it, inner entities before outer ones.
    assert_eq!(ids, ["p-1", "addr-1", "s-1", "c-1", "own-1"]);
    let by_id = |id: &str| upserts(&records).into_iter().find(|e| e.id == id).unwrap();
    let person = by_id("p-1");
    assert_eq!(person.get("addressEntity"), ["addr-1"]);
    // Stub properties are not stored; the nested entity points back instead.
    assert!(!person.has("sanctions") && !person.has("ownershipOwner"));
    assert_eq!(by_id("s-1").get("entity"), ["p-1"]);
    assert_eq!(by_id("own-1").get("owner"), ["p-1"]);
    assert_eq!(by_id("own-1").get("asset"), ["c-1"]);
    assert!(records.iter().all(|r| r.location.line == Some(1)));
}

/// One bad line: the expected field (None when the whole line is at fault) and a word of the
/// message.
fn assert_invalid(line: &str, field: Option<&str>, words: &str) {
    let results = read_text(&format!("{line}\n"));
    assert_eq!(results.len(), 1, "{line}");
    match &results[0] {
        Err(err @ IngestError::Invalid { location, message }) => {
            assert_eq!(location.file, "test.jsonl");
            assert_eq!(location.line, Some(1));
            assert_eq!(location.field.as_deref(), field, "{line}: {err}");
            assert!(
                message.contains(words),
                "{line}: {message:?} lacks {words:?}"
            );
            assert!(err.is_skippable());
        }
        other => panic!("{line}: expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn bad_lines_name_the_line_and_the_field() {
    let p = |props: &str| format!(r#"{{"id":"p-1","schema":"Person","properties":{props}}}"#);
    assert_invalid(
        r#"{"id":"x","schema":"Spaceship"}"#,
        Some("schema"),
        "unknown schema",
    );
    assert_invalid(r#"{"id":"x","schema":"Thing"}"#, Some("schema"), "abstract");
    assert_invalid(
        r#"{"id":"a b","schema":"Person"}"#,
        Some("id"),
        "invalid entity id",
    );
    assert_invalid(r#"{"schema":"Person"}"#, Some("id"), "missing");
    assert_invalid(
        r#"{"id":7,"schema":"Person"}"#,
        Some("id"),
        "found a number",
    );
    assert_invalid(&p(r#"{"tonnage":["12"]}"#), Some("tonnage"), "no property");
    assert_invalid(
        &p(r#"{"birthDate":["12/03/1975"]}"#),
        Some("birthDate"),
        "not a date",
    );
    assert_invalid(
        &p(r#"{"nationality":["Libya"]}"#),
        Some("nationality"),
        "country",
    );
    assert_invalid(&p(r#"{"name":[42]}"#), Some("name"), "found a number");
    assert_invalid(
        &p(r#"{"name":[["nested"]]}"#),
        Some("name"),
        "found an array",
    );
    assert_invalid(&p(r#"["name"]"#), Some("properties"), "must be an object");
    assert_invalid(
        &p(r#"{"tandem:role":["smuggler"]}"#),
        Some("tandem:role"),
        "unknown role",
    );
    assert_invalid(
        &p(r#"{"tandem:stage":["sea"]}"#),
        Some("tandem:stage"),
        "unknown stage",
    );
    assert_invalid(
        &p(r#"{"name":[{"id":"x","schema":"Person"}]}"#),
        Some("name[0]"),
        "not entities",
    );
    assert_invalid(
        &p(
            r#"{"ownershipOwner":[{"id":"o","schema":"Ownership","properties":{"startDate":["soon"]}}]}"#,
        ),
        Some("ownershipOwner[0].startDate"),
        "not a date",
    );
    assert_invalid(
        r#"{"id":"p","schema":"Person","sensitivity":"secret"}"#,
        Some("sensitivity"),
        "unknown sensitivity",
    );
    assert_invalid(
        r#"{"id":"p","schema":"Person","confidence":1.5}"#,
        Some("confidence"),
        "from 0 to 1",
    );
    assert_invalid(r#"{"id":"p","schema":"Person""#, None, "malformed JSON");
    assert_invalid(r#"{"id":"p","schema":"Person"} trailing"#, None, "column");
    assert_invalid(r#"["p","Person"]"#, None, "found an array");
    assert_invalid("\"just text\"", None, "found a string");
    assert_invalid(r#"{"op":"UPSERT","entity":{}}"#, Some("op"), "unknown op");
    assert_invalid(r#"{"op":"DEL"}"#, Some("entity"), "needs an entity");
    assert_invalid(
        r#"{"op":"DEL","entity":{"id":"a b"}}"#,
        Some("id"),
        "invalid entity id",
    );
    assert_invalid(
        r#"{"op":"ADD","entity":{"id":"p","schema":"Person","properties":{"gender":["robot"]}}}"#,
        Some("gender"),
        "not a gender",
    );
}

#[test]
fn invalid_bytes_are_an_error_for_their_line_only() {
    let mut text =
        b"{\"id\":\"p-1\",\"schema\":\"Person\",\"properties\":{\"name\":[\"A\xff\"]}}\n".to_vec();
    text.extend_from_slice(b"{\"id\":\"p-2\",\"schema\":\"Person\"}\n");
    let results: Vec<_> = FtmReader::new(Cursor::new(text), "bytes.jsonl").collect();
    assert_eq!(results.len(), 2);
    assert!(
        matches!(&results[0], Err(IngestError::Invalid { location, .. }) if location.line == Some(1))
    );
    assert!(matches!(&results[1], Ok(r) if r.location.line == Some(2)));
}

#[test]
fn reading_goes_on_after_a_bad_line() {
    let text = "\u{feff}{\"id\":\"p-1\",\"schema\":\"Person\",\"properties\":{\"name\":[\"A\"]}}\r\n\
                \n\
                {\"id\":\"p-2\",\"schema\":\"Nope\"}\n\
                   \n\
                {\"op\":\"DEL\",\"entity\":{\"id\":\"p-3\"}}";
    let results = read_text(text);
    let lines: Vec<(Option<u64>, bool)> = results
        .iter()
        .map(|r| match r {
            Ok(record) => (record.location.line, true),
            Err(err) => (err.location().and_then(|l| l.line), false),
        })
        .collect();
    // Blank lines count but give nothing; the BOM and CRLF are tolerated.
    assert_eq!(lines, [(Some(1), true), (Some(3), false), (Some(5), true)]);
    assert!(matches!(&results[2], Ok(Record { change: Change::Delete(id), .. }) if id == "p-3"));
}

#[test]
fn an_overlong_line_is_reported_and_skipped() {
    let long = format!(
        r#"{{"id":"p-1","schema":"Person","properties":{{"notes":["{}"]}}}}"#,
        "x".repeat(500)
    );
    let text = format!("{long}\n{{\"id\":\"p-2\",\"schema\":\"Person\"}}\n");
    let results: Vec<_> = FtmReader::new(Cursor::new(text), "long.jsonl")
        .with_max_line_bytes(200)
        .collect();
    assert_eq!(results.len(), 2);
    match &results[0] {
        Err(IngestError::Invalid { location, message }) => {
            assert_eq!(location.line, Some(1));
            assert!(message.contains("longer than 200 bytes"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&results[1], Ok(r) if r.location.line == Some(2)));
}

/// Endless input: the reader must yield records as it goes rather than read everything first.
struct EndlessLines {
    line: Vec<u8>,
    position: usize,
}

impl Read for EndlessLines {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < buf.len() {
            buf[written] = self.line[self.position % self.line.len()];
            self.position += 1;
            written += 1;
        }
        Ok(written)
    }
}

#[test]
fn reading_streams_without_reading_ahead() {
    let input = EndlessLines {
        line: b"{\"id\":\"p-1\",\"schema\":\"Person\",\"properties\":{\"name\":[\"Ali\"]}}\n"
            .to_vec(),
        position: 0,
    };
    let taken = FtmReader::new(BufReader::new(input), "endless")
        .take(50_000)
        .filter(Result::is_ok)
        .count();
    assert_eq!(taken, 50_000);
}

#[test]
fn tandem_additions_pass_through() {
    let line = r#"{"id":"p-1","schema":"Person","sensitivity":"Protected","confidence":0.75,"properties":{"name":["  Hiwet   Habte "],"tandem:role":["Money handler"],"tandem:stage":["Departure"]}}"#;
    let records: Vec<Record> = read_text(line)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let Change::Upsert(entity) = &records[0].change else {
        panic!("an entity");
    };
    assert_eq!(entity.sensitivity, Sensitivity::Protected);
    assert_eq!(entity.confidence, Some(0.75));
    assert_eq!(entity.get("name"), ["Hiwet Habte"]);
    assert_eq!(entity.get("tandem:role"), ["money_handler"]);
    assert_eq!(entity.get("tandem:stage"), ["departure"]);
    let mut writer = FtmWriter::new(Vec::new());
    writer.write(entity).unwrap();
    let text = String::from_utf8(writer.finish().unwrap()).unwrap();
    assert_eq!(
        text,
        "{\"id\":\"p-1\",\"schema\":\"Person\",\"properties\":{\"name\":[\"Hiwet Habte\"],\
         \"tandem:role\":[\"money_handler\"],\"tandem:stage\":[\"departure\"]},\
         \"sensitivity\":\"protected\",\"confidence\":0.75}\n"
    );
    let again: Vec<Record> = read_text(&text)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(again[0].change, records[0].change);
}

#[test]
fn writer_lines_are_plain_ftm() {
    let mut entity = Entity::new("Person", "p-1").unwrap();
    entity.add("name", "Ermias Ghermay").unwrap();
    entity.add("nationality", "ER").unwrap();
    let mut writer = FtmWriter::new(Vec::new()).with_datasets(["tandem_demo"]);
    writer.write(&entity).unwrap();
    writer.write_with_datasets(&entity, &["a", "b"]).unwrap();
    writer.write_with_datasets::<&str>(&entity, &[]).unwrap();
    writer.write_change(&Change::Delete("p-1".into())).unwrap();
    let text = String::from_utf8(writer.finish().unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"id":"p-1","schema":"Person","properties":{"name":["Ermias Ghermay"],"nationality":["er"]},"datasets":["tandem_demo"]}"#,
            r#"{"id":"p-1","schema":"Person","properties":{"name":["Ermias Ghermay"],"nationality":["er"]},"datasets":["a","b"]}"#,
            r#"{"id":"p-1","schema":"Person","properties":{"name":["Ermias Ghermay"],"nationality":["er"]}}"#,
            r#"{"op":"DEL","entity":{"id":"p-1"}}"#,
        ]
    );
}

#[test]
fn synthetic_lines_are_deterministic_realistic_and_valid() {
    let lines: Vec<String> = synthetic_lines(3_000, 7).collect();
    assert_eq!(lines, synthetic_lines(3_000, 7).collect::<Vec<_>>());
    assert_ne!(lines, synthetic_lines(3_000, 8).collect::<Vec<_>>());
    let text = lines.join("\n");
    let records: Vec<Record> = read_text(&text)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 3_000);
    let counts = schema_counts(&records);
    let share = |schema: &str| counts.get(schema).copied().unwrap_or(0) as f64 / 3_000.0;
    assert!((0.33..0.47).contains(&share("Person")), "{counts:?}");
    assert!((0.19..0.31).contains(&share("Company")), "{counts:?}");
    assert!((0.10..0.20).contains(&share("Ownership")), "{counts:?}");
    assert!((0.15..0.25).contains(&share("Sanction")), "{counts:?}");
    let mut seen = std::collections::HashSet::new();
    for entity in upserts(&records) {
        let values: usize = entity.properties.values().map(Vec::len).sum();
        assert!(
            (5..=12).contains(&values),
            "{} has {values} values",
            entity.id
        );
        for (_, target) in entity.references() {
            assert!(
                seen.contains(target),
                "{} points ahead at {target}",
                entity.id
            );
        }
        seen.insert(entity.id.clone());
    }
}

#[test]
#[ignore = "benchmark: cargo test --release -p tandem-ingest -- --ignored --nocapture ftm_read_throughput"]
fn ftm_read_throughput() {
    use std::io::Write as _;
    let n: usize = std::env::var("TANDEM_FTM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synthetic.ftm.jsonl");
    let mut out = io::BufWriter::new(File::create(&path).unwrap());
    for line in synthetic_lines(n, 42) {
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let cpu_start = thread_cpu_seconds();
    let start = std::time::Instant::now();
    let reader = FtmReader::new(BufReader::new(File::open(&path).unwrap()), "synthetic");
    let mut writer = FtmWriter::new(io::sink());
    let mut writing = std::time::Duration::ZERO;
    let mut entities = 0usize;
    let mut values = 0usize;
    for record in reader {
        if let Change::Upsert(entity) = record.unwrap().change {
            entities += 1;
            values += entity.properties.values().map(Vec::len).sum::<usize>();
            let before = std::time::Instant::now();
            writer.write(&entity).unwrap();
            writing += before.elapsed();
        }
    }
    writer.finish().unwrap();
    let elapsed = start.elapsed();
    let cpu = thread_cpu_seconds() - cpu_start;
    let reading = elapsed.saturating_sub(writing).as_secs_f64();
    assert_eq!(entities, n);
    println!(
        "FtM read: {entities} entities ({values} values, {:.1} MB) in {reading:.2} s = {:.0} entities/s, {:.1} MB/s",
        bytes as f64 / 1e6,
        entities as f64 / reading,
        bytes as f64 / 1e6 / reading
    );
    println!(
        "FtM write: {:.2} s = {:.0} entities/s",
        writing.as_secs_f64(),
        entities as f64 / writing.as_secs_f64()
    );
    // Wall time suffers when other work shares the cores; CPU time of this thread does not.
    println!(
        "CPU time reading and writing: {cpu:.2} s of {:.2} s wall = {:.0} entities/s per core",
        elapsed.as_secs_f64(),
        entities as f64 / cpu
    );
}

/// User plus system time of the calling thread (Linux), in seconds.
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: f64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        for result in FtmReader::new(Cursor::new(bytes), "fuzz").with_max_line_bytes(512) {
            if let Err(err) = result {
                prop_assert!(err.is_skippable());
            }
        }
    }

    #[test]
    fn arbitrary_entity_shaped_lines_never_panic(
        schema in prop::sample::select(vec!["Person", "Company", "Ownership", "Sanction", "Thing", "Nope"]),
        id in "[a-z0-9 .:-]{0,12}",
        props in proptest::collection::vec(
            (prop::sample::select(vec!["name", "birthDate", "country", "owner", "sanctions", "ownershipAsset", "tandem:role", "x"]),
             prop::sample::select(vec![
                 r#""Ali""#, r#""1975-02-30""#, r#""ly""#, "null", "3", r#"{"id":"n","schema":"Company"}"#,
                 r#"{"id":"s","schema":"Sanction","properties":{"program":["X"]}}"#, "[]", r#""organiser""#,
             ])),
            0..6),
    ) {
        let properties: Vec<String> = props
            .iter()
            .map(|(name, value)| format!(r#""{name}":[{value}]"#))
            .collect();
        let line = format!(
            r#"{{"id":"{id}","schema":"{schema}","properties":{{{}}}}}"#,
            properties.join(",")
        );
        let results = read_text(&line);
        prop_assert!(!results.is_empty());
        for result in results {
            match result {
                Ok(record) => prop_assert_eq!(record.location.line, Some(1)),
                Err(err) => prop_assert!(err.location().and_then(|l| l.line) == Some(1)),
            }
        }
    }

    #[test]
    fn written_values_read_back_unchanged(name in any::<String>(), notes in any::<String>()) {
        let mut entity = Entity::new("Person", "p-1").unwrap();
        let name_ok = entity.add("name", &name).is_ok();
        let notes_ok = entity.add("notes", &notes).is_ok();
        let mut writer = FtmWriter::new(Vec::new());
        writer.write(&entity).unwrap();
        let text = writer.finish().unwrap();
        let records: Vec<Record> = FtmReader::new(Cursor::new(text), "p")
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(records.len(), 1);
        prop_assert_eq!(&records[0].change, &Change::Upsert(entity.clone()));
        prop_assert_eq!(entity.has("name"), name_ok);
        prop_assert_eq!(entity.has("notes"), notes_ok);
    }
}
