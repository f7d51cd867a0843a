use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;
use std::sync::OnceLock;
use std::time::Instant;

use proptest::prelude::*;
use tandem_core::Entity;

use super::*;
use crate::Change;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/screening/ofac")
}

fn data(name: &str) -> PathBuf {
    data_dir().join(name)
}

struct Output {
    entities: Vec<Entity>,
    errors: Vec<IngestError>,
}

impl Output {
    fn by_id(&self) -> HashMap<&str, &Entity> {
        self.entities.iter().map(|e| (e.id.as_str(), e)).collect()
    }

    fn main_entities(&self) -> impl Iterator<Item = &Entity> {
        self.entities.iter().filter(|e| is_main_id(&e.id))
    }

    fn of_schema<'a>(&'a self, schema: &'a str) -> impl Iterator<Item = &'a Entity> {
        self.entities.iter().filter(move |e| e.schema == schema)
    }
}

fn is_main_id(id: &str) -> bool {
    id.strip_prefix("ofac-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn read_all<R: std::io::Read>(reader: OfacReader<R>) -> Output {
    let mut read = Output {
        entities: Vec::new(),
        errors: Vec::new(),
    };
    for item in reader {
        match item {
            Ok(Record {
                change: Change::Upsert(entity),
                ..
            }) => read.entities.push(entity),
            Ok(other) => panic!("unexpected change {other:?}"),
            Err(err) => read.errors.push(err),
        }
    }
    read
}

fn read_set(primary: &str) -> Output {
    let files = OfacFiles::discover(&data(primary)).unwrap();
    read_all(OfacReader::open(&files).unwrap())
}

/// The full 2024 SDN file, read once for the tests that look at it.
fn full_sdn() -> &'static Output {
    static READ: OnceLock<Output> = OnceLock::new();
    READ.get_or_init(|| {
        let started = Instant::now();
        let read = read_set("sdn_2024-05-03.csv");
        eprintln!(
            "read sdn_2024-05-03.csv ({} entities) in {:?}",
            read.entities.len(),
            started.elapsed()
        );
        read
    })
}

/// The rows of one of the data files, read here without the reader under test.
fn raw_rows(name: &str) -> Vec<Vec<String>> {
    let bytes = std::fs::read(data(name)).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| {
            !(r.len() == 1
                && r.get(0)
                    .is_some_and(|f| f.trim_matches('\u{1a}').trim().is_empty()))
        })
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

fn is_null(field: &str) -> bool {
    let t = field.trim();
    t.is_empty() || t == "-0-"
}

fn assert_well_formed(read: &Output) {
    let ids: HashSet<&str> = read.entities.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), read.entities.len(), "every id once");
    for entity in &read.entities {
        assert!(
            entity.missing_required().is_empty(),
            "{} lacks {:?}",
            entity.id,
            entity.missing_required()
        );
        for (property, target) in entity.references() {
            assert!(
                ids.contains(target),
                "{}.{property} points at {target}, which the set does not contain",
                entity.id
            );
        }
    }
}

#[test]
fn full_sdn_file_gives_every_entry_with_its_schema() {
    let read = full_sdn();
    assert!(read.errors.is_empty(), "{:?}", read.errors.first());
    let mut per_schema: BTreeMap<&str, usize> = BTreeMap::new();
    for entity in read.main_entities() {
        *per_schema.entry(entity.schema.as_str()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("Airplane", 376),
        ("Organization", 6884),
        ("Person", 6854),
        ("Vessel", 851),
    ]
    .into();
    assert_eq!(per_schema, expected);
    assert_eq!(read.main_entities().count(), 14_965);

    // The SDN_Type column, counted here from the raw rows, agrees.
    let raw = raw_rows("sdn_2024-05-03.csv");
    assert_eq!(raw.len(), 14_965);
    let individuals = raw.iter().filter(|r| r[2] == "individual").count();
    assert_eq!(per_schema["Person"], individuals);

    // Every entry carries at least one program, so every main entity has a sanction.
    let sanctioned: HashSet<&str> = read
        .of_schema("Sanction")
        .filter_map(|s| s.first("entity"))
        .collect();
    assert_eq!(sanctioned.len(), 14_965);
    assert_well_formed(read);
}

#[test]
fn libya_smugglers_have_their_dates_places_and_nationalities() {
    let read = full_sdn();
    let by_id = read.by_id();
    let libya3: Vec<&Entity> = read
        .of_schema("Sanction")
        .filter(|s| s.first("program") == Some("LIBYA3"))
        .collect();
    assert_eq!(libya3.len(), 52);
    for sanction in &libya3 {
        assert_eq!(sanction.first("authority"), Some(AUTHORITY));
        assert_eq!(sanction.first("country"), Some("us"));
        assert_eq!(sanction.first("programId"), Some("US-OFAC-LIBYA3"));
    }
    let person = |id: &str| *by_id.get(id).unwrap_or_else(|| panic!("{id} missing"));

    let ghermay = person("ofac-24004");
    assert_eq!(ghermay.schema, "Person");
    assert_eq!(ghermay.first("name"), Some("Ermias GHERMAY"));
    assert_eq!(ghermay.first("firstName"), Some("Ermias"));
    assert_eq!(ghermay.first("lastName"), Some("GHERMAY"));
    assert_eq!(
        ghermay.get("birthDate"),
        ["1972", "1973", "1974", "1975", "1976", "1977"]
    );
    assert_eq!(ghermay.first("birthPlace"), Some("Addis Ababa, Ethiopia"));
    assert_eq!(ghermay.get("birthCountry"), ["et"]);
    assert_eq!(ghermay.get("nationality"), ["et"]);
    assert_eq!(ghermay.get("citizenship"), ["er"]);
    assert_eq!(ghermay.get("gender"), ["male"]);
    assert!(
        ghermay.get("notes").is_empty(),
        "{:?}",
        ghermay.get("notes")
    );
    assert!(by_id.contains_key("ofac-24004-sanction-LIBYA3"));

    let koshlaf = person("ofac-24311");
    assert_eq!(koshlaf.get("birthDate"), ["1985-12-12", "1985-12-02"]);
    assert_eq!(koshlaf.get("nationality"), ["ly"]);
    assert_eq!(koshlaf.get("passportNumber"), ["C17HLRL3"]);
    assert_eq!(koshlaf.get("weakAlias"), ["Al Qasseb"]);
    let passport = read
        .of_schema("Passport")
        .find(|p| p.first("holder") == Some("ofac-24311"))
        .unwrap();
    assert_eq!(passport.first("number"), Some("C17HLRL3"));
    assert_eq!(passport.first("startDate"), Some("2015-12-30"));
    assert_eq!(passport.first("country"), None, "the list names no country");

    let fitwi = person("ofac-24313");
    assert_eq!(fitwi.get("birthDate"), ["1985", "1986", "1987"]);
    assert_eq!(fitwi.get("nationality"), ["sd"]);
    assert_eq!(fitwi.get("birthCountry"), ["er"]);

    let dabbashi = person("ofac-24314");
    assert_eq!(dabbashi.get("birthDate"), ["1988-07-05", "1988-05-07"]);
    assert_eq!(dabbashi.get("idNumber"), ["119880387067"]);
    let national_id = read
        .of_schema("Identification")
        .find(|p| p.first("holder") == Some("ofac-24314"))
        .unwrap();
    assert_eq!(national_id.first("type"), Some("National ID No."));
    assert_eq!(national_id.first("country"), Some("ly"));

    assert_eq!(person("ofac-24312").get("birthDate"), ["1986-07-27"]);
    let al_kuni = person("ofac-30526");
    assert_eq!(al_kuni.first("name"), Some("Osama Al Kuni IBRAHIM"));
    assert_eq!(al_kuni.get("weakAlias"), ["Osama ZAWIYA", "Osama ZAWIYAH"]);
    assert_eq!(al_kuni.get("birthCountry"), ["ly"]);
}

#[test]
fn linked_to_becomes_a_relation_to_the_named_entry() {
    let read = full_sdn();
    let by_id = read.by_id();
    let link = by_id["ofac-link-24038-24037"];
    assert_eq!(link.schema, "UnknownLink");
    assert_eq!(link.get("subject"), ["ofac-24038"]);
    assert_eq!(link.get("object"), ["ofac-24037"]);
    assert_eq!(
        by_id["ofac-24037"].first("name"),
        Some("BARAKAT TRANSNATIONAL CRIMINAL ORGANIZATION")
    );
    // Four members of the Abid Ali Khan network point at their organisation.
    let to_khan_tco = read
        .of_schema("UnknownLink")
        .filter(|l| l.first("object") == Some("ofac-30166"))
        .count();
    assert_eq!(to_khan_tco, 4);

    // Of the 6,375 "Linked To" clauses, those naming exactly one entry of the file become
    // relations; names that no entry carries, or that several carry, stay as notes.
    let links = read.of_schema("UnknownLink").count();
    assert_eq!(links, 6_364);
    let rosneft_note = "Linked To: OPEN JOINT-STOCK COMPANY ROSNEFT OIL COMPANY";
    assert!(
        by_id["ofac-18299"]
            .get("notes")
            .iter()
            .any(|n| n.starts_with(rosneft_note)),
        "{:?}",
        by_id["ofac-18299"].get("notes")
    );
}

#[test]
fn bench_set_attaches_aliases_addresses_and_continued_remarks() {
    let read = read_set("bench2021_sdn.csv");
    assert!(read.errors.is_empty(), "{:?}", read.errors.first());
    assert_eq!(read.main_entities().count(), 8_976);
    assert_well_formed(&read);

    let entries: HashSet<String> = raw_rows("bench2021_sdn.csv")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let alt_rows: Vec<Vec<String>> = raw_rows("bench2021_alt.csv")
        .into_iter()
        .filter(|r| entries.contains(&r[0]))
        .collect();
    assert_eq!(alt_rows.len(), 11_910);
    // Two rows repeat a name their entry already has; an entity holds each name once.
    let distinct: HashSet<(String, bool, String)> = alt_rows
        .iter()
        .map(|r| {
            let name = r[3].split_whitespace().collect::<Vec<_>>().join(" ");
            (r[0].clone(), r[2] == "fka", name)
        })
        .collect();
    assert_eq!(distinct.len(), 11_908);
    let aliases: usize = read
        .main_entities()
        .map(|e| e.get("alias").len() + e.get("previousName").len())
        .sum();
    assert_eq!(aliases, distinct.len());
    let previous: usize = read
        .main_entities()
        .map(|e| e.get("previousName").len())
        .sum();
    assert_eq!(previous, alt_rows.iter().filter(|r| r[2] == "fka").count());

    let address_rows = raw_rows("bench2021_add.csv")
        .into_iter()
        .filter(|r| entries.contains(&r[0]))
        .filter(|r| r[2..].iter().any(|f| !is_null(f)))
        .count();
    assert_eq!(address_rows, 11_440);
    assert_eq!(read.of_schema("Address").count(), address_rows);

    // 12300's remarks run on in sdn_comments.csv, splitting "PROMO RAIZ S.A.S." in two.
    let by_id = read.by_id();
    for object in ["ofac-12396", "ofac-12349"] {
        let id = format!("ofac-link-12300-{}", object.trim_start_matches("ofac-"));
        assert_eq!(by_id[id.as_str()].get("object"), [object]);
    }
}

#[test]
fn consolidated_list_reads_the_same_way() {
    let files = OfacFiles::discover(&data("cons_prim.csv")).unwrap();
    assert_eq!(files.dataset_name(), dataset_names::OFAC_CONSOLIDATED);
    let read = read_all(OfacReader::open(&files).unwrap());
    assert!(read.errors.is_empty(), "{:?}", read.errors.first());
    assert_eq!(read.main_entities().count(), 442);
    let aliases: usize = read
        .main_entities()
        .map(|e| e.get("alias").len() + e.get("previousName").len())
        .sum();
    assert_eq!(aliases, 1_073);
    assert_well_formed(&read);
}

#[test]
fn mini_set_field_by_field() {
    let read = read_set("mini_sdn.csv");
    assert!(read.errors.is_empty(), "{:?}", read.errors.first());
    assert_eq!(read.main_entities().count(), 17);
    assert_well_formed(&read);
    let by_id = read.by_id();

    let moreno = by_id["ofac-15102"];
    assert_eq!(moreno.schema, "Person");
    assert_eq!(moreno.get("name"), ["Daniel MORENO"]);
    assert_eq!(moreno.get("alias"), ["Daniel Gonzalo MORENO JR."]);
    assert_eq!(moreno.get("birthDate"), ["1972-10-12"]);
    assert_eq!(moreno.get("birthPlace"), ["Corozal, Belize"]);
    assert_eq!(moreno.get("passportNumber"), ["0291622"]);
    assert_eq!(moreno.get("country"), ["bz"]);
    assert_eq!(moreno.get("addressEntity").len(), 3);
    assert_eq!(
        moreno.get("address"),
        [
            "50 6th Ave., Corozal, Belize",
            "651 Vista Del Mar, Ladyville, Belize",
            "561 Vista Del Mar, Ladyville, Belize"
        ]
    );
    // The linked company is not in this small file: the clause stays as a note.
    assert_eq!(
        moreno.get("notes"),
        ["Linked To: D'S SUPERMARKET COMPANY LTD"]
    );
    let address = by_id["ofac-15102-address-22454"];
    assert_eq!(address.get("city"), ["Ladyville"]);
    assert_eq!(address.get("country"), ["bz"]);
    assert_eq!(address.get("street"), ["651 Vista Del Mar"]);
    let sanction = by_id["ofac-15102-sanction-SDNTK"];
    assert_eq!(sanction.get("entity"), ["ofac-15102"]);
    assert_eq!(
        sanction.get("sourceUrl"),
        ["https://sanctionssearch.ofac.treas.gov/Details.aspx?id=15102"]
    );

    let vessel = by_id["ofac-47371"];
    assert_eq!(vessel.schema, "Vessel");
    assert_eq!(vessel.get("name"), ["NS LEADER"]);
    assert_eq!(vessel.get("callSign"), ["A8LU7"]);
    assert_eq!(vessel.get("type"), ["Crude Oil Tanker"]);
    assert_eq!(vessel.get("flag"), ["ga"]);
    assert_eq!(vessel.get("imoNumber"), ["IMO9339301"]);
    assert_eq!(vessel.get("mmsi"), ["636013272"]);
    assert_eq!(
        by_id["ofac-47371-sanction-RUSSIA-EO14024"].get("provisions"),
        ["Secondary sanctions risk: See Section 11 of Executive Order 14024."]
    );

    let aircraft = by_id["ofac-20540"];
    assert_eq!(aircraft.schema, "Airplane");
    assert_eq!(aircraft.get("buildDate"), ["1974"]);
    assert_eq!(aircraft.get("model"), ["AN24-RV"]);

    let iran_aircraft = by_id["ofac-11195"];
    assert_eq!(iran_aircraft.schema, "Organization");
    assert_eq!(iran_aircraft.get("idNumber"), ["10100722073"]);
    assert_eq!(iran_aircraft.get("registrationNumber"), ["26740"]);
    assert_eq!(iran_aircraft.get("weakAlias").len(), 9);
    assert_eq!(iran_aircraft.get("alias").len(), 4);
    let programs: Vec<&str> = read
        .of_schema("Sanction")
        .filter(|s| s.first("entity") == Some("ofac-11195"))
        .filter_map(|s| s.first("program"))
        .collect();
    assert_eq!(programs, ["NPWMD", "IFSR", "IRAN-CON-ARMS-EO"]);

    // SUEX's remarks continue in sdn_comments.csv, mid-way through a wallet address.
    let suex = by_id["ofac-33151"];
    assert_eq!(suex.get("registrationNumber"), ["07486049"]);
    assert_eq!(suex.get("weakAlias"), ["SUCCESSFUL EXCHANGE"]);
    assert_eq!(suex.get("incorporationDate"), ["2018-09-25"]);
    assert_eq!(suex.get("website"), ["http://suex.io"]);
    let keys: HashSet<&str> = read
        .of_schema("CryptoWallet")
        .filter(|w| w.first("holder") == Some("ofac-33151"))
        .filter_map(|w| w.first("publicKey"))
        .collect();
    assert!(
        keys.contains("1B64QRxfaa35MVkf7sDjuGUYAP5izQt7Qi"),
        "{keys:?}"
    );

    let khoroshev = by_id["ofac-48603"];
    assert_eq!(
        khoroshev.get("alias"),
        [
            "Dmitriy Yurevich KHOROSHEV",
            "Dmitry YURIEVICH",
            "Dmitrii Yuryevich KHOROSHEV"
        ]
    );
    assert_eq!(khoroshev.get("email").len(), 2);
    assert_eq!(khoroshev.get("birthCountry"), ["ru"]);
}

fn source(name: &str, text: &str) -> Source<Cursor<Vec<u8>>> {
    Source::new(name, Cursor::new(text.as_bytes().to_vec()))
}

#[test]
fn malformed_rows_name_file_line_and_field_and_reading_goes_on() {
    let sdn = "1,\"ONE, Person\",\"individual\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 1970.\"\r\n\
               2,\"TWO\",-0- ,\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
               x3,\"THREE\",-0- ,\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
               4,\"FOUR\",\"spaceship\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
               5,-0- ,-0- ,\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
               1,\"ONE AGAIN\",-0- ,\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
               6,\"SIX\",-0- ,\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 31 Feb 1970; Linked To: ONE, Person.\"\r\n\x1a";
    let alt = "1,10,\"aka\",\"UNO, Persona\",-0- \r\n1,11,\"xyz\",\"NOPE\",-0- \r\n";
    let reader = OfacReader::from_sources(
        source("test_sdn.csv", sdn),
        None,
        Some(source("test_alt.csv", alt)),
        None,
    )
    .unwrap();
    let read = read_all(reader);
    let located: Vec<(String, Option<u64>, Option<String>)> = read
        .errors
        .iter()
        .map(|e| {
            assert!(e.is_skippable());
            let l = e.location().unwrap();
            (l.file.clone(), l.line, l.field.clone())
        })
        .collect();
    let expect = |file: &str, line: u64, field: &str| {
        (file.to_string(), Some(line), Some(field.to_string()))
    };
    assert_eq!(
        located,
        [
            expect("test_alt.csv", 2, "alt_type"),
            expect("test_sdn.csv", 2, "Remarks"),
            expect("test_sdn.csv", 3, "ent_num"),
            expect("test_sdn.csv", 4, "SDN_Type"),
            expect("test_sdn.csv", 5, "SDN_Name"),
            expect("test_sdn.csv", 6, "ent_num"),
        ]
    );
    assert!(
        read.errors[1]
            .to_string()
            .contains("expected 12 columns, found 11")
    );
    let by_id = read.by_id();
    assert_eq!(by_id["ofac-1"].get("alias"), ["Persona UNO"]);
    assert_eq!(by_id["ofac-1"].get("birthDate"), ["1970"]);
    // A value the remarks get wrong is kept as a note; the link still resolves.
    let six = by_id["ofac-6"];
    assert_eq!(six.get("notes"), ["DOB 31 Feb 1970"]);
    assert_eq!(by_id["ofac-link-6-1"].get("object"), ["ofac-1"]);
    assert_eq!(read.main_entities().count(), 2);
}

#[test]
fn remarks_continue_in_the_comments_file_exactly_where_they_were_cut() {
    let sdn = "1,\"ONE CORP\",-0- ,\"TCO\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Organization Established Date 2018; a.k.a. 'BIG \"\r\n";
    let comments = "1,\"ONE'; Website www.one.example.\"\r\n\u{1a}";
    let reader = OfacReader::from_sources(
        source("c_sdn.csv", sdn),
        None,
        None,
        Some(source("c_sdn_comments.csv", comments)),
    )
    .unwrap();
    let read = read_all(reader);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let one = read.by_id()["ofac-1"];
    assert_eq!(one.get("weakAlias"), ["BIG ONE"]);
    assert_eq!(one.get("website"), ["http://www.one.example"]);
    assert_eq!(one.get("incorporationDate"), ["2018"]);
    assert!(one.get("notes").is_empty());
}

#[test]
fn latin1_bytes_are_read_not_rejected() {
    let mut sdn = b"7,\"CAF".to_vec();
    sdn.push(0xC9);
    sdn.extend_from_slice(b" NOIR\",-0- ,\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n");
    let reader = OfacReader::from_sources(
        Source::new("latin1.csv", Cursor::new(sdn)),
        None,
        None,
        None,
    )
    .unwrap();
    let read = read_all(reader);
    assert_eq!(read.by_id()["ofac-7"].get("name"), ["CAFÉ NOIR"]);
}

#[test]
fn discovering_the_set_from_any_of_its_files() {
    let bench = OfacFiles::discover(&data("bench2021_alt.csv")).unwrap();
    assert_eq!(
        bench,
        OfacFiles {
            sdn: data("bench2021_sdn.csv"),
            add: Some(data("bench2021_add.csv")),
            alt: Some(data("bench2021_alt.csv")),
            comments: Some(data("bench2021_sdn_comments.csv")),
        }
    );
    assert_eq!(bench.dataset_name(), dataset_names::OFAC_SDN);
    assert_eq!(
        OfacFiles::discover(&data("mini_sdn_comments.csv"))
            .unwrap()
            .sdn,
        data("mini_sdn.csv")
    );
    let cons = OfacFiles::discover(&data("cons_prim.csv")).unwrap();
    assert_eq!(cons.comments, Some(data("cons_comments.csv")));
    assert_eq!(cons.add, Some(data("cons_add.csv")));
    assert_eq!(
        OfacFiles::discover(&data("sdn_2024-05-03.csv")).unwrap(),
        OfacFiles::primary_only(data("sdn_2024-05-03.csv"))
    );

    let dir = tempfile::tempdir().unwrap();
    for name in ["SDN.CSV", "ADD.CSV", "SDN_COMMENTS.CSV"] {
        std::fs::write(dir.path().join(name), "").unwrap();
    }
    assert_eq!(
        OfacFiles::discover(&dir.path().join("SDN.CSV")).unwrap(),
        OfacFiles {
            sdn: dir.path().join("SDN.CSV"),
            add: Some(dir.path().join("ADD.CSV")),
            alt: None,
            comments: Some(dir.path().join("SDN_COMMENTS.CSV")),
        }
    );
    let orphan = dir.path().join("old_add.csv");
    std::fs::write(&orphan, "1,2,-0- ,-0- ,-0- ,-0- \r\n").unwrap();
    let err = OfacFiles::discover(&orphan).unwrap_err();
    assert!(matches!(err, IngestError::Config { .. }), "{err}");
    let missing = OfacReader::open(&OfacFiles::primary_only(dir.path().join("none.csv")));
    assert!(matches!(missing, Err(IngestError::Io { .. })));
}

/// Rows made of pieces OFAC files are made of, so that generated input reaches the remarks
/// parser and not only the CSV layer.
fn ofac_like_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_string()),
        Just("\"".to_string()),
        Just("-0- ".to_string()),
        Just("\r\n".to_string()),
        Just("; ".to_string()),
        Just("individual".to_string()),
        Just("vessel".to_string()),
        Just("SDGT] [IRGC".to_string()),
        Just("DOB 1970 to 1972".to_string()),
        Just("Passport A1 (Libya) issued 1 Jan 2000".to_string()),
        Just("a.k.a. '".to_string()),
        Just("Linked To: ".to_string()),
        Just("Digital Currency Address - XBT ".to_string()),
        Just("Listing Date (EO 1): ".to_string()),
        Just("\u{1a}".to_string()),
        "[0-9]{1,3}",
        "[A-Za-z ]{0,8}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn read_bytes(sdn: Vec<u8>, add: Vec<u8>, alt: Vec<u8>, comments: Vec<u8>) -> usize {
    let named = |name: &str, bytes: Vec<u8>| Source::new(name, Cursor::new(bytes));
    match OfacReader::from_sources(
        named("sdn.csv", sdn),
        Some(named("add.csv", add)),
        Some(named("alt.csv", alt)),
        Some(named("sdn_comments.csv", comments)),
    ) {
        Ok(reader) => reader.count(),
        Err(_) => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_in_any_file_never_panic(
        sdn in prop::collection::vec(any::<u8>(), 0..1500),
        add in prop::collection::vec(any::<u8>(), 0..600),
        alt in prop::collection::vec(any::<u8>(), 0..600),
        comments in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        read_bytes(sdn, add, alt, comments);
    }

    #[test]
    fn ofac_shaped_text_in_any_file_never_panics(
        sdn in ofac_like_text(),
        add in ofac_like_text(),
        alt in ofac_like_text(),
        comments in ofac_like_text(),
    ) {
        let with_ids = |text: String| format!("1,{text}\r\n2,{text}").into_bytes();
        read_bytes(with_ids(sdn), with_ids(add), with_ids(alt), with_ids(comments));
    }
}
