use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use proptest::prelude::*;
use tandem_core::Entity;

use super::*;
use crate::Change;

fn real_list_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/screening/un/un_consolidated_2026-02-27.xml")
}

fn read_all<R: BufRead>(reader: UnReader<R>) -> (Vec<Record>, Vec<IngestError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in reader {
        match item {
            Ok(record) => records.push(record),
            Err(error) => errors.push(error),
        }
    }
    (records, errors)
}

fn entities(records: &[Record]) -> Vec<&Entity> {
    records
        .iter()
        .filter_map(|r| match &r.change {
            Change::Upsert(entity) => Some(entity),
            Change::Delete(_) => None,
        })
        .collect()
}

fn from_text(xml: &str) -> UnReader<&[u8]> {
    UnReader::from_reader(xml.as_bytes(), "test.xml")
}

#[test]
fn reads_every_listing_of_the_real_list() {
    let reader = UnReader::open(real_list_path()).unwrap();
    let (records, errors) = read_all(reader);
    assert!(errors.is_empty(), "{errors:?}");
    let all = entities(&records);
    let count = |schema: &str| all.iter().filter(|e| e.schema == schema).count();
    assert_eq!(count("Person"), 730);
    assert_eq!(count("Organization"), 273);
    assert_eq!(count("Sanction"), 730 + 273);
    // Expected figures counted from the file independently (non-empty addresses and
    // documents with a number, each once per listing).
    assert_eq!(count("Address"), 809);
    assert_eq!(count("Passport"), 315);
    assert_eq!(count("Identification"), 139);

    let ids: HashSet<&str> = all.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "ids are unique");
    let mut sanctions_per_entity: HashMap<&str, usize> = HashMap::new();
    for sanction in all.iter().filter(|e| e.schema == "Sanction") {
        let target = sanction.first("entity").unwrap();
        *sanctions_per_entity.entry(target).or_default() += 1;
        assert_eq!(sanction.first("authority"), Some(AUTHORITY));
        assert!(sanction.has("startDate") && sanction.has("programId"));
    }
    for main in all
        .iter()
        .filter(|e| e.schema == "Person" || e.schema == "Organization")
    {
        assert_eq!(
            sanctions_per_entity.get(main.id.as_str()),
            Some(&1),
            "{}",
            main.id
        );
        assert!(main.id.starts_with("unsc-"), "{}", main.id);
        for (_, target) in main.references() {
            assert!(
                ids.contains(target),
                "{} points at missing {target}",
                main.id
            );
        }
    }
    for derived in all
        .iter()
        .filter(|e| matches!(e.schema.as_str(), "Passport" | "Identification"))
    {
        assert!(ids.contains(derived.first("holder").unwrap()));
        assert!(derived.missing_required().is_empty());
    }
    // Alias qualities: Good/a.k.a. → alias, Low → weakAlias, f.k.a. → previousName; the
    // figures are distinct names per entity, counted from the file.
    let values = |property: &str| all.iter().map(|e| e.get(property).len()).sum::<usize>();
    assert_eq!(values("alias"), 2486);
    assert_eq!(values("weakAlias"), 615);
    assert_eq!(values("previousName"), 19);
    // LISTED_ON is an xs:date and may carry a time zone ("2015-04-07-04:00").
    let maulana = all
        .iter()
        .find(|e| e.id == "unsc-QDi.352-sanction")
        .unwrap();
    assert_eq!(maulana.get("listingDate"), ["2015-04-07"]);
    // Records say where they came from.
    let first = &records[0];
    assert_eq!(first.location.line, Some(4));
    assert_eq!(
        first.location.element.as_deref(),
        Some("/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[1]")
    );
}

#[test]
fn date_generated_is_read_from_the_root() {
    let mut reader = UnReader::open(real_list_path()).unwrap();
    assert!(reader.next().is_some());
    assert_eq!(reader.date_generated(), Some("2026-02-27T00:00:09.554Z"));
}

/// (reference, name, birth dates, nationality, listed on) as the list gives them.
const LIBYA_TRAFFICKERS: [(&str, &str, &[&str], &str, &str); 7] = [
    ("LYi.021", "Ermias Alem", &["1980"], "er", "2018-06-07"),
    ("LYi.022", "Fitiwi Abdelrazak", &[], "er", "2018-06-07"),
    (
        "LYi.023",
        "Ahmad Oumar Imhamad al-Fitouri",
        &["1988-05-07"],
        "ly",
        "2018-06-07",
    ),
    (
        "LYi.024",
        "Mus’ab Mustafa Abu al Qassim Omar",
        &["1983-01-19"],
        "ly",
        "2018-06-07",
    ),
    (
        "LYi.025",
        "Mohammed Al Amin Al-Arabi Kashlaf",
        &["1985-12-02"],
        "ly",
        "2018-06-07",
    ),
    (
        "LYi.026",
        "Abd Al-Rahman SALIM IBRAHIM AL-MILAD",
        &["1986-07-27"],
        "ly",
        "2018-06-07",
    ),
    (
        "LYi.029",
        "Osama Al Kuni Ibrahim",
        &["1976-04-02"],
        "ly",
        "2021-10-25",
    ),
];

#[test]
fn libyan_smugglers_and_traffickers() {
    let (records, errors) = read_all(UnReader::open(real_list_path()).unwrap());
    assert!(errors.is_empty());
    let all = entities(&records);
    let by_id: HashMap<&str, &Entity> = all.iter().map(|e| (e.id.as_str(), *e)).collect();
    for (reference, name, birth_dates, nationality, listed_on) in LIBYA_TRAFFICKERS {
        let id = format!("unsc-{reference}");
        let person = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(person.schema, "Person");
        assert_eq!(person.get("name"), [name]);
        assert_eq!(person.get("birthDate"), birth_dates, "{reference}");
        assert_eq!(person.get("nationality"), [nationality], "{reference}");
        assert_eq!(person.get("programId"), [reference]);
        assert_eq!(person.get("program"), ["Libya"]);
        let sanction = by_id[format!("{id}-sanction").as_str()];
        assert_eq!(sanction.get("entity"), [id.as_str()]);
        assert_eq!(sanction.get("listingDate"), [listed_on]);
        assert_eq!(sanction.get("startDate"), [listed_on]);
        assert_eq!(sanction.get("unscId"), [reference]);
        assert!(
            sanction
                .first("reason")
                .unwrap()
                .contains("resolution 1970")
        );
    }

    let ermias = by_id["unsc-LYi.021"];
    assert_eq!(ermias.get("alias"), ["Ermias Ghermay, Guro"]);
    assert_eq!(
        ermias.get("weakAlias"),
        ["Ermies Ghermay", "Ermias Ghirmay"]
    );
    assert_eq!(
        ermias.get("position"),
        ["Leader of a transnational trafficking network"]
    );
    assert_eq!(ermias.get("birthCountry"), ["er"]);
    assert_eq!(ermias.get("modifiedAt"), ["2018-09-17"]);
    // The only address is a note; it is kept as an Address entity.
    let address = by_id[ermias.first("addressEntity").unwrap()];
    assert!(
        address
            .first("full")
            .unwrap()
            .starts_with("Known address: Tripoli")
    );

    let fitiwi = by_id["unsc-LYi.022"];
    assert!(
        fitiwi
            .get("notes")
            .iter()
            .any(|n| n == "Date of birth: 30-35 years old")
    );

    let dabbashi = by_id["unsc-LYi.023"];
    assert_eq!(dabbashi.get("firstName"), ["Ahmad"]);
    assert_eq!(dabbashi.get("middleName"), ["Oumar Imhamad"]);
    assert_eq!(dabbashi.get("lastName"), ["al-Fitouri"]);
    assert_eq!(dabbashi.get("alias"), ["احمد عمر امحمد الفيتوري"]);
    assert_eq!(
        dabbashi.get("modifiedAt"),
        ["2020-02-25"],
        "the latest update"
    );
    assert_eq!(dabbashi.get("passportNumber"), ["LY53FP76"]);
    assert_eq!(dabbashi.get("idNumber"), ["119880387067"]);
    let passport = all
        .iter()
        .find(|e| e.schema == "Passport" && e.first("holder") == Some("unsc-LYi.023"))
        .unwrap();
    assert_eq!(passport.get("number"), ["LY53FP76"]);
    assert_eq!(passport.get("country"), ["ly"]);
    assert_eq!(passport.get("startDate"), ["2015-09-29"]);
    assert_eq!(passport.get("description"), ["Issued in Tripoli"]);
    let id_card = all
        .iter()
        .find(|e| e.schema == "Identification" && e.first("holder") == Some("unsc-LYi.023"))
        .unwrap();
    assert_eq!(id_card.get("type"), ["National Identification Number"]);

    let milad = by_id["unsc-LYi.026"];
    assert_eq!(milad.get("title"), ["Navy Major"]);
    assert_eq!(milad.get("birthPlace"), ["Tripoli, Libya"]);

    let osama = by_id["unsc-LYi.029"];
    assert_eq!(
        osama.get("alias").len(),
        6,
        "five aliases and the Arabic script name"
    );
    assert!(
        osama
            .get("alias")
            .contains(&"أسامة الكوني ابراهيم".to_string())
    );
    assert_eq!(
        osama.get("title"),
        ["Manager of Al Nasr Detention Center in Zawiyah"]
    );
    assert_eq!(osama.get("country"), ["ly"]);
}

#[test]
fn organisations_keep_previous_names() {
    let (records, _) = read_all(UnReader::open(real_list_path()).unwrap());
    let adf = entities(&records)
        .into_iter()
        .find(|e| e.id == "unsc-CDe.001")
        .unwrap();
    assert_eq!(adf.schema, "Organization");
    assert_eq!(adf.get("name"), ["ADF"]);
    assert_eq!(adf.get("alias"), ["Allied Democratic Forces"]);
    assert_eq!(
        adf.get("previousName"),
        [
            "Forces Démocratiques Alliées-Armée Nationale de Libération de l’Ouganda",
            "ADF/NALU",
            "NALU"
        ]
    );
    assert_eq!(adf.get("modifiedAt"), ["2020-08-19"]);
    assert_eq!(adf.get("country"), ["cd"]);
}

const SMALL_LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID>
      <FIRST_NAME>Ali</FIRST_NAME>
      <SECOND_NAME>Tester</SECOND_NAME>
      <UN_LIST_TYPE>Libya</UN_LIST_TYPE>
      <REFERENCE_NUMBER>LYi.901</REFERENCE_NUMBER>
      <LISTED_ON>2020-01-02</LISTED_ON>
      <GENDER>Unknowable</GENDER>
      <NATIONALITY><VALUE>Atlantis</VALUE><VALUE>Libya</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Medium</QUALITY><ALIAS_NAME>A &amp; T</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH>
        <TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1970</FROM_YEAR><TO_YEAR>1972</TO_YEAR>
      </INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>SOMETIMES</TYPE_OF_DATE><DATE>1971-13-45</DATE></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NOTE>number unknown</NOTE></INDIVIDUAL_DOCUMENT>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>2</DATAID>
      <FIRST_NAME/>
      <REFERENCE_NUMBER>LYi.902</REFERENCE_NUMBER>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>3</DATAID>
      <FIRST_NAME>Third</FIRST_NAME>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES/>
</CONSOLIDATED_LIST>
"#;

#[test]
fn unknown_codes_are_kept_and_a_nameless_listing_is_skippable() {
    let results: Vec<_> = from_text(SMALL_LIST).collect();
    let first = match &results[0] {
        Ok(Record {
            change: Change::Upsert(e),
            ..
        }) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(first.id, "unsc-LYi.901");
    assert!(
        !first.has("gender"),
        "an unknown gender is dropped, the listing kept"
    );
    assert_eq!(first.get("nationality"), ["ly"]);
    assert!(
        first
            .get("notes")
            .contains(&"Nationality: Atlantis".to_string())
    );
    assert_eq!(first.get("alias"), ["A & T"], "unknown quality → alias");
    assert_eq!(first.get("birthDate"), ["1970", "1971", "1972"]);
    assert!(
        first
            .get("notes")
            .contains(&"Passport: number unknown".to_string())
    );
    // main + sanction, then the nameless listing's error, then the third listing.
    assert!(
        matches!(&results[1], Ok(r) if matches!(&r.change, Change::Upsert(e) if e.schema == "Sanction"))
    );
    let error = results[2].as_ref().unwrap_err();
    assert!(error.is_skippable());
    let location = error.location().unwrap();
    assert_eq!(location.field.as_deref(), Some("FIRST_NAME"));
    assert_eq!(
        location.element.as_deref(),
        Some("/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[2]/FIRST_NAME")
    );
    assert_eq!(location.line, Some(22));
    // No reference number: the DATAID fallback.
    assert!(
        matches!(&results[3], Ok(r) if matches!(&r.change, Change::Upsert(e) if e.id == "unsc-dataid-3"))
    );
    assert_eq!(results.len(), 5);
}

#[test]
fn a_truncated_document_names_where_it_stops() {
    let text = std::fs::read_to_string(real_list_path()).unwrap();
    // Cut inside the DATAID of the twelfth individual.
    let twelfth = text.match_indices("<INDIVIDUAL>").nth(11).unwrap().0;
    let cut = twelfth + text[twelfth..].find("<DATAID>").unwrap() + "<DATAID>".len() + 3;
    let expected_line = text[..cut].matches('\n').count() as u64 + 1;
    let (records, errors) = read_all(from_text(&text[..cut]));
    let mains = entities(&records)
        .iter()
        .filter(|e| e.schema == "Person")
        .count();
    assert_eq!(mains, 11);
    assert_eq!(errors.len(), 1);
    // --skip-invalid must not turn a truncated list into a shorter one.
    assert!(!errors[0].is_skippable());
    let location = errors[0].location().unwrap();
    assert_eq!(location.file, "test.xml");
    assert_eq!(
        location.element.as_deref(),
        Some("/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[12]/DATAID")
    );
    assert_eq!(location.line, Some(expected_line));

    // Cut inside a tag: quick-xml's syntax error, located at the tag's line.
    let in_tag = twelfth + text[twelfth..].find("<DATAID>").unwrap() + 4;
    let (_, errors) = read_all(from_text(&text[..in_tag]));
    let location = errors[0].location().unwrap();
    assert_eq!(
        location.line,
        Some(text[..in_tag].matches('\n').count() as u64 + 1)
    );
    assert_eq!(
        location.element.as_deref(),
        Some("/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[12]")
    );
}

#[test]
fn mismatched_tags_and_wrong_roots_are_errors() {
    let broken = "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL>\n<DATAID>1</DATAI>\n";
    let (_, errors) = read_all(from_text(broken));
    let location = errors[0].location().unwrap();
    assert_eq!(location.line, Some(4));
    assert!(
        errors[0].to_string().contains("not well-formed"),
        "{}",
        errors[0]
    );

    let (_, errors) = read_all(from_text("<html><body/></html>"));
    assert!(errors[0].to_string().contains("not a UN consolidated list"));
    let (_, errors) = read_all(from_text(""));
    assert_eq!(errors.len(), 1);
}

#[test]
fn a_byte_order_mark_does_not_shift_lines() {
    let with_bom = format!("\u{feff}{SMALL_LIST}");
    let results: Vec<_> = from_text(&with_bom).collect();
    let error = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(error.location().unwrap().line, Some(22));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let reader = UnReader::from_reader(bytes.as_slice(), "fuzz.xml");
        // The reader must end: after a fatal error it stops.
        prop_assert!(reader.take(10_000).count() < 10_000);
    }

    #[test]
    fn mutated_listings_never_panic(cut in 0usize..SMALL_LIST.len(), junk in "[<>/&;a-zA-Z#0-9 \n]{0,20}") {
        let mut text = SMALL_LIST.as_bytes().to_vec();
        let at = cut.min(text.len());
        text.splice(at..at, junk.bytes());
        let reader = UnReader::from_reader(text.as_slice(), "fuzz.xml");
        for item in reader {
            if let Err(error) = item {
                prop_assert!(error.location().is_some());
            }
        }
    }
}
