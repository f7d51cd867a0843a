//! Property tests: arbitrary text never panics anywhere in analysis, scoring, indexing or the
//! pairs reader; scores stay in [0, 1]; comparisons are symmetric where they should be.

use proptest::prelude::*;
use tandem_core::Entity;
use tandem_match::align::{self, NameConfig};
use tandem_match::similarity::part_similarity;
use tandem_match::{CandidateIndex, IndexConfig, MatchConfig, NameKind, Subject, analyze, eval};

fn kinds() -> impl Strategy<Value = NameKind> {
    prop_oneof![
        Just(NameKind::Person),
        Just(NameKind::Organization),
        Just(NameKind::Object),
        Just(NameKind::Entity)
    ]
}

/// Names that look like names often enough to exercise matching: letters from several
/// scripts, separators, digits, invisible and look-alike characters.
fn namey() -> impl Strategy<Value = String> {
    "[a-zA-Z\u{0430}-\u{044F}\u{0621}-\u{064A}\u{3b1}-\u{3c9} ,.'\u{2019}\u{200B}\u{00AD}&/-]{0,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn analysis_never_panics(text in any::<String>(), kind in kinds()) {
        let name = analyze(&text, kind);
        prop_assert!(name.parts.iter().all(|p| p.form.is_ascii() && p.weight >= 0.0));
    }

    #[test]
    fn scores_stay_in_range(a in any::<String>(), b in namey(), kind in kinds()) {
        let (x, y) = (analyze(&a, kind), analyze(&b, kind));
        let c = align::compare(&x, &y, &NameConfig::default());
        prop_assert!((0.0..=1.0).contains(&c.score), "{}", c.score);
        let d = align::detail(&c.alignment(&x, &y));
        prop_assert!(c.score == 0.0 || !d.is_empty());
    }

    #[test]
    fn symmetric_with_symmetric_weights(a in namey(), b in namey(), kind in kinds()) {
        let config = NameConfig {
            person_extra_query: 0.4,
            person_extra_candidate: 0.4,
            person_extra_candidate_family: 0.4,
            org_extra_query: 0.7,
            org_extra_candidate: 0.7,
            single_part_candidate: 1.0,
            ..NameConfig::default()
        };
        let (x, y) = (analyze(&a, kind), analyze(&b, kind));
        let forward = align::compare(&x, &y, &config).score;
        let backward = align::compare(&y, &x, &config).score;
        prop_assert!((forward - backward).abs() < 1e-6, "{a:?} / {b:?}: {forward} vs {backward}");
    }

    #[test]
    fn part_similarity_is_symmetric(a in namey(), b in namey()) {
        let (x, y) = (analyze(&a, NameKind::Person), analyze(&b, NameKind::Person));
        for p in &x.parts {
            for q in &y.parts {
                prop_assert_eq!(part_similarity(p, q), part_similarity(q, p));
            }
        }
    }

    #[test]
    fn identical_names_score_one(a in namey(), kind in kinds()) {
        let x = analyze(&a, kind);
        let score = align::compare(&x, &x, &NameConfig::default()).score;
        prop_assert!(!x.is_matchable() || score == 1.0, "{a:?}: {score}");
    }

    #[test]
    fn entity_scoring_and_screening_never_panic(a in namey(), b in namey(), date in "[0-9]{4}(-[0-9]{2}){0,2}") {
        let mut q = Entity::new("Person", "q").unwrap();
        let mut c = Entity::new("Person", "c").unwrap();
        let named = q.add_lenient("name", &a) && c.add_lenient("name", &b);
        q.add_lenient("birthDate", &date);
        c.add_lenient("alias", &a);
        if let (true, Ok(qs), Ok(cs)) = (named, Subject::from_entity(&q), Subject::from_entity(&c)) {
            let result = tandem_match::score(&qs, &cs, &MatchConfig::default(), 0.7);
            prop_assert!((0.0..=1.0).contains(&result.score));
            prop_assert_eq!(result.is_match, result.score >= 0.7);
            let (index, _) = CandidateIndex::build([c], IndexConfig::default());
            for hit in index.screen(&qs, &MatchConfig::default(), 0.7, 5) {
                prop_assert!((0.0..=1.0).contains(&hit.score.score));
            }
        }
    }

    #[test]
    fn pairs_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = eval::read_labelled_pairs(bytes.as_slice(), "fuzz.csv");
    }

    #[test]
    fn perturbations_never_panic(name in any::<String>(), seed in any::<u64>(), person in any::<bool>()) {
        for p in eval::perturb("e", "Person", &name, person, seed) {
            prop_assert!(p.perturbed != name);
        }
    }
}
