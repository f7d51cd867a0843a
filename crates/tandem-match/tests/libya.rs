//! The Libya smuggling designations (screening spec, section 5.1) across the UN consolidated
//! list and the OFAC SDN list: each UN record must find its OFAC record with all aliases on
//! both sides, identifiers must fire, and list disagreements about birth dates and
//! nationalities must not push a true match below the threshold.

mod common;

use std::sync::OnceLock;

use tandem_core::Entity;
use tandem_match::{CandidateIndex, IndexConfig, MatchConfig, MatchScore, Subject, score};

struct Lists {
    un: Vec<common::UnRecord>,
    ofac: CandidateIndex,
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| {
        let ofac = common::ofac_entities("ofac/sdn_2024-05-03.csv", Some("ofac/alt_2025-12.csv"));
        assert_eq!(ofac.len(), 14965);
        let (index, errors) = CandidateIndex::build(ofac, IndexConfig::default());
        assert!(errors.is_empty(), "{errors:?}");
        Lists {
            un: common::un_records(),
            ofac: index,
        }
    })
}

fn un(reference: &str) -> &'static Entity {
    &lists()
        .un
        .iter()
        .find(|r| r.reference == reference)
        .unwrap_or_else(|| panic!("{reference} missing"))
        .entity
}

fn ofac(ent_num: u32) -> &'static Subject {
    lists()
        .ofac
        .subject(&format!("ofac-{ent_num}"))
        .expect("OFAC record")
}

fn compare(query: &Entity, ent_num: u32) -> MatchScore {
    score(
        &Subject::from_entity(query).unwrap(),
        ofac(ent_num),
        &MatchConfig::default(),
        0.7,
    )
}

const PAIRS: [(&str, u32); 7] = [
    ("LYi.021", 24004),
    ("LYi.022", 24313),
    ("LYi.023", 24314),
    ("LYi.024", 24310),
    ("LYi.025", 24311),
    ("LYi.026", 24312),
    ("LYi.029", 30526),
];

#[test]
fn every_un_smuggler_meets_his_ofac_record_with_all_aliases() {
    for (reference, ent_num) in PAIRS {
        let result = compare(un(reference), ent_num);
        assert!(
            result.is_match,
            "{reference} / {ent_num}: {:.3} {:#?}",
            result.score, result.explanations
        );
        // And the index finds him first, screening the whole SDN list.
        let hits = lists().ofac.screen(
            &Subject::from_entity(un(reference)).unwrap(),
            &MatchConfig::default(),
            0.7,
            5,
        );
        assert_eq!(
            hits.first().map(|h| h.entity_id.as_str()),
            Some(format!("ofac-{ent_num}").as_str()),
            "{reference}"
        );
    }
}

#[test]
fn ermias_alem_meets_ghermay_only_through_the_un_aliases() {
    let full = un("LYi.021");
    let mut primary = Entity::new("Person", "q").unwrap();
    primary.add("name", full.first("name").unwrap()).unwrap();
    assert_eq!(primary.first("name"), Some("Ermias Alem"));
    let without = compare(&primary, 24004);
    assert!(without.score < 0.7, "{}", without.score);
    let with = compare(full, 24004);
    let name = &with.explanations["name_match"];
    assert_eq!(name.query, "Ermias Ghermay");
    assert_eq!(name.score, 1.0);
    // Born about 1980 at the UN, 1972 to 1977 at OFAC: a soft penalty, still a match.
    assert!(with.score >= 0.85, "{}", with.score);
}

#[test]
fn shared_identifiers_fire() {
    // Koshlaf's passport is on both lists.
    let koshlaf = compare(un("LYi.025"), 24311);
    let id = &koshlaf.explanations["identifier_match"];
    assert_eq!(id.query, "C17HLRL3");
    // Dabbashi: passport and national ID from OFAC, screened as a document-only query.
    let mut query = Entity::new("Person", "q").unwrap();
    query.add("name", "Ahmed Dabbashi").unwrap();
    query.add("passportNumber", "LY53FP76").unwrap();
    query.add("idNumber", "119880387067").unwrap();
    let result = compare(&query, 24314);
    assert!(result.explanations.contains_key("identifier_match"));
    assert!(result.is_match);
}

#[test]
fn list_disagreements_do_not_break_true_matches() {
    // Day/month swaps (Dabbashi, Koshlaf, Al Kuni), year ranges (Ghermay, Abu Grein),
    // nationality (Fitiwi: Eritrea at the UN, Sudan at OFAC).
    for (reference, ent_num, feature) in [
        ("LYi.021", 24004, "dob_year_disjoint"),
        ("LYi.022", 24313, "country_mismatch"),
    ] {
        let result = compare(un(reference), ent_num);
        assert!(
            result.explanations.contains_key(feature),
            "{reference}: {:?}",
            result.explanations.keys()
        );
        assert!(result.is_match, "{reference}: {}", result.score);
    }
    let al_kuni = compare(un("LYi.029"), 30526);
    assert!(al_kuni.is_match);
    assert!(
        !al_kuni.explanations.contains_key("dob_day_disjoint"),
        "the alternative OFAC date is the UN one"
    );
}

#[test]
fn press_spelling_finds_koshlaf() {
    let mut query = Entity::new("Person", "q").unwrap();
    query.add("name", "Mohammed Kachlaf").unwrap();
    let hits = lists().ofac.screen(
        &Subject::from_entity(&query).unwrap(),
        &MatchConfig::default(),
        0.7,
        5,
    );
    let first = hits.first().expect("a result");
    assert_eq!(first.entity_id, "ofac-24311");
    assert!(first.score.is_match, "{}", first.score.score);
}

#[test]
fn a_shared_family_name_is_not_the_same_man() {
    // Osama Milad (LYi.029) is not Abd al-Rahman Milad (LYi.026 / OFAC 24312).
    let mut query = Entity::new("Person", "q").unwrap();
    query.add("name", "Osama Milad").unwrap();
    let result = compare(&query, 24312);
    assert!(result.score < 0.7, "{}", result.score);
    let mut alias = Entity::new("Person", "q").unwrap();
    alias.add("name", "Osama al-Milad").unwrap();
    assert!(compare(&alias, 24312).score < 0.7);
}
