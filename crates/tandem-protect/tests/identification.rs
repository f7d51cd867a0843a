//! The decision rule (spec §1.2), invariance (§1.7), answers validation and catalogue errors.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use tandem_protect::answers::{Answers, AnswersError, ExploitationType, IndicatorState};
use tandem_protect::catalogue::{BUILTIN_TOML, Catalogue, CatalogueError, DimensionId, ListId};
use tandem_protect::identify::{
    Outcome, combination_met, dimension_positive, identify, select_lists,
};

fn cat() -> &'static Catalogue {
    Catalogue::builtin()
}

#[test]
fn dimension_rule_truth_table() {
    // (S, M, W) → positive, straight from the spec's wording.
    let table = [
        ((0, 0, 0), false),
        ((1, 0, 0), false), // one strong alone
        ((0, 2, 0), false), // two medium alone
        ((0, 0, 1), false),
        ((0, 0, 9), false), // any number of weak alone
        ((0, 1, 1), false),
        ((0, 1, 5), false),
        ((2, 0, 0), true), // two strong
        ((1, 1, 0), true), // strong + medium
        ((1, 0, 1), true), // strong + weak
        ((0, 3, 0), true), // three medium
        ((0, 2, 1), true), // two medium + weak
        ((0, 2, 3), true),
        ((3, 3, 3), true),
    ];
    for ((s, m, w), expected) in table {
        assert_eq!(dimension_positive(s, m, w), expected, "S={s} M={m} W={w}");
    }
    // Exhaustively: positive iff one of the four minimal shapes fits, and monotone.
    for s in 0..5 {
        for m in 0..5 {
            for w in 0..5 {
                let fits = [(2, 0, 0), (1, 1, 0), (1, 0, 1), (0, 3, 0), (0, 2, 1)]
                    .iter()
                    .any(|&(a, b, c)| s >= a && m >= b && w >= c);
                assert_eq!(dimension_positive(s, m, w), fits, "S={s} M={m} W={w}");
            }
        }
    }
}

/// Indicators that make each dimension positive in every list, and nothing else.
fn positive_set(dim: DimensionId) -> &'static [&'static str] {
    match dim {
        DimensionId::D1 => &["DR-01", "DR-02"],
        DimensionId::D2 => &["CR-01", "CR-03"],
        DimensionId::D3 => &["AV-01", "AV-02", "AV-03"],
        DimensionId::D4 => &["EX-02", "EX-04", "EX-05"],
        DimensionId::D5 => &["CD-01", "CD-03"],
        DimensionId::D6 => &["VD-01", "VD-02", "VD-03"],
    }
}

fn answers_with(age: u32, exploitation: ExploitationType, dims: &BTreeSet<DimensionId>) -> Answers {
    let mut indicators = BTreeMap::new();
    for d in dims {
        for code in positive_set(*d) {
            indicators.insert(code.to_string(), IndicatorState::Present);
        }
    }
    Answers {
        age_at_start: Some(age),
        exploitation: vec![exploitation],
        indicators,
        ..Answers::default()
    }
}

#[test]
fn combination_rule_truth_table_adults_and_children() {
    use DimensionId::*;
    for mask in 0u32..64 {
        let dims: BTreeSet<DimensionId> = DimensionId::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, d)| d)
            .collect();
        let recruitment = dims.contains(&D1) || dims.contains(&D2) || dims.contains(&D3);
        let adult_expected =
            recruitment && dims.contains(&D4) && (dims.contains(&D5) || dims.contains(&D6));
        let child_expected = recruitment && dims.contains(&D4);
        for (age, list, expected) in [
            (30, ListId::AL, adult_expected),
            (15, ListId::CL, child_expected),
        ] {
            assert_eq!(combination_met(list, &dims), expected, "{list} {dims:?}");
            let a = answers_with(age, ExploitationType::Labour, &dims);
            let assessment = identify(cat(), &a).unwrap();
            assert_eq!(assessment.evaluations.len(), 1);
            let e = &assessment.evaluations[0];
            assert_eq!(e.list, list);
            let positive: BTreeSet<DimensionId> = e
                .dimensions
                .iter()
                .filter(|(_, r)| r.positive)
                .map(|(d, _)| *d)
                .collect();
            assert_eq!(positive, dims, "{list}: dimensions counted");
            assert_eq!(e.rule_met, expected, "{list} {dims:?}");
            assert_eq!(e.outcome == Outcome::RuleMet, expected);
        }
    }
}

#[test]
fn lists_follow_age_and_exploitation_only() {
    assert_eq!(
        select_lists(Some(17), false, &[ExploitationType::Labour]).lists,
        vec![ListId::CL]
    );
    assert_eq!(
        select_lists(Some(18), false, &[ExploitationType::Sexual]).lists,
        vec![ListId::AS]
    );
    assert_eq!(
        select_lists(Some(40), true, &[ExploitationType::ForcedCriminality]).lists,
        vec![ListId::CL],
        "age in doubt presumes a child"
    );
    assert_eq!(
        select_lists(Some(30), false, &[]).lists,
        vec![ListId::AL, ListId::AS]
    );
    let organ = select_lists(Some(30), false, &[ExploitationType::OrganRemoval]);
    assert_eq!(organ.lists, vec![ListId::AL, ListId::AS]);
    assert!(organ.notes[0].contains("professional assessment required"));
}

#[test]
fn json_shape_follows_issue_5() {
    let text = r#"{"age_at_start": 24, "exploitation": ["labour"],
        "indicators": {"DR-01": "present", "DR-02": "present", "EX-01": "present",
                       "EX-04": "present", "CD-01": "present", "CD-03": "present",
                       "AV-06": "absent"},
        "gender": "male", "nationality": "NG"}"#;
    let answers = Answers::from_json(text, cat()).unwrap();
    let value = serde_json::to_value(identify(cat(), &answers).unwrap()).unwrap();
    let e = &value["evaluations"][0];
    assert_eq!(e["list"], "AL");
    assert_eq!(e["rule_met"], true);
    assert_eq!(e["dimensions"]["D1"]["positive"], true);
    assert_eq!(
        e["dimensions"]["D1"]["present"],
        serde_json::json!(["DR-01", "DR-02"])
    );
    assert_eq!(e["dimensions"]["D4"]["counts"]["S"], 1);
    assert!(e["follow_up"].is_array());
    assert!(
        e["summary"]
            .as_str()
            .unwrap()
            .starts_with("Indicators consistent with trafficking")
    );
    assert_eq!(value["catalogue"]["version"], cat().version());
    assert_eq!(value["catalogue"]["sha256"], cat().sha256());
    assert_eq!(value["referral"]["offered"], true);
    assert_eq!(value["referral"]["depends_on_cooperation"], false);
    // Never a legal label, a score or a probability.
    let text = value.to_string().to_lowercase();
    for banned in ["victim", "score", "probability", "%"] {
        assert!(!text.contains(banned), "{banned} in output");
    }
}

#[test]
fn incomplete_information_gives_follow_up_topics() {
    let text = r#"{"age_at_start": 30, "exploitation": ["labour"],
        "indicators": {"DR-01": "present", "DR-02": "present", "EX-01": "present",
                       "EX-04": "present"}}"#;
    let answers = Answers::from_json(text, cat()).unwrap();
    let a = identify(cat(), &answers).unwrap();
    let e = &a.evaluations[0];
    assert_eq!(e.outcome, Outcome::InformationIncomplete);
    assert!(!e.rule_met);
    assert_eq!(e.unmet_dimensions, vec![DimensionId::D5, DimensionId::D6]);
    let d5 = e
        .follow_up
        .iter()
        .find(|f| f.dimension == DimensionId::D5)
        .unwrap();
    // Two strong unknowns suffice: the minimal sets have two indicators.
    assert!(d5.indicator_sets.iter().all(|s| s.len() == 2));
    assert!(
        d5.indicator_sets
            .contains(&vec!["CD-01".to_string(), "CD-02".to_string()])
    );
    assert!(d5.topics.iter().any(|t| t.contains("leave the workplace")));
    assert!(d5.topics.iter().any(|t| t.contains("documents")));

    // Everything else recorded absent: the rule is not met on the information recorded.
    let mut closed = answers.clone();
    for i in &cat().indicators {
        closed
            .indicators
            .entry(i.code.clone())
            .or_insert(IndicatorState::Absent);
    }
    let e = &identify(cat(), &closed).unwrap().evaluations[0];
    assert_eq!(e.outcome, Outcome::RuleNotMet);
    assert!(e.follow_up.is_empty());
}

#[test]
fn forced_criminality_sets_indicators_and_non_punishment() {
    let text = r#"{"age_at_start": 16, "exploitation": ["forced_criminality"],
        "indicators": {"FC-07": "present", "FC-03": "present"},
        "non_punishment": {"irregular_entry_or_stay": true}}"#;
    let answers = Answers::from_json(text, cat()).unwrap();
    let a = identify(cat(), &answers).unwrap();
    assert_eq!(a.evaluations[0].list, ListId::CL);
    let d5 = &a.evaluations[0].dimensions[&DimensionId::D5];
    assert_eq!(d5.present, vec!["CD-01", "CD-06"]);
    assert!(d5.positive, "two strong in the child list");
    assert!(a.non_punishment.flagged);
    assert_eq!(a.forced_criminality, vec!["FC-03", "FC-07"]);
    assert!(a.forced_labour.iter().any(|f| f.code == "FL-07"));
}

fn field_errors(text: &str) -> Vec<String> {
    match Answers::from_json(text, cat()) {
        Err(AnswersError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
        Err(AnswersError::Syntax { message, .. }) => vec![format!("syntax: {message}")],
        Ok(_) => Vec::new(),
    }
}

#[test]
fn bad_answers_name_the_field() {
    assert_eq!(
        field_errors(r#"{"exploitation": ["labour"], "indicators": {}}"#),
        vec!["age_at_start"]
    );
    assert_eq!(
        field_errors(r#"{"age_at_start": 20, "indicators": {"DR-99": "present"}}"#),
        vec!["indicators.DR-99"]
    );
    assert_eq!(
        field_errors(
            r#"{"age_at_start": 20, "exploitation": ["labour"], "indicators": {"DR-11": "present"}}"#
        ),
        vec!["indicators.DR-11"],
        "sexual-only indicator with labour exploitation"
    );
    assert_eq!(
        field_errors(
            r#"{"age_at_start": 20, "indicators": {"FC-07": "present", "CD-06": "absent"}}"#
        ),
        vec!["indicators.CD-06"]
    );
    assert_eq!(
        field_errors(r#"{"age_at_start": 20, "exploitation": ["unclear", "sexual"]}"#),
        vec!["exploitation"]
    );
    let dup = field_errors(
        r#"{"age_at_start": 20, "indicators": {"DR-01": "present", "DR-01": "absent"}}"#,
    );
    assert!(
        dup[0].contains("indicators.DR-01") && dup[0].contains("contradictory"),
        "{dup:?}"
    );
    let bad_state = field_errors(r#"{"age_at_start": 20, "indicators": {"DR-01": "maybe"}}"#);
    assert!(bad_state[0].contains("indicators.DR-01"), "{bad_state:?}");
    let unknown_field = field_errors(r#"{"age_at_start": 20, "agee": 3}"#);
    assert!(unknown_field[0].contains("agee"), "{unknown_field:?}");
    assert_eq!(
        field_errors(r#"{"age_at_start": 400}"#),
        vec!["age_at_start"]
    );
}

#[test]
fn catalogue_errors_are_located() {
    let dup = BUILTIN_TOML.replacen("code = \"DR-02\"", "code = \"DR-01\"", 1);
    match Catalogue::from_toml(&dup) {
        Err(CatalogueError::Invalid {
            line,
            location,
            message,
        }) => {
            assert!(location.contains("DR-01"), "{location}");
            assert!(message.contains("duplicate"));
            let expected = BUILTIN_TOML
                .lines()
                .position(|l| l == "code = \"DR-02\"")
                .unwrap();
            // The entry's span starts at its `[[indicator]]` header, the line before `code`.
            assert_eq!(line, expected);
        }
        other => panic!("{other:?}"),
    }
    let bad_dim = BUILTIN_TOML.replacen("dimension = \"D1\"", "dimension = \"D9\"", 1);
    let err = Catalogue::from_toml(&bad_dim).unwrap_err();
    assert!(err.to_string().contains("DR-01, dimension"), "{err}");
    assert!(err.to_string().contains("D9"), "{err}");
    let bad_tier = BUILTIN_TOML.replacen("AL = \"S\"", "AL = \"X\"", 1);
    let err = Catalogue::from_toml(&bad_tier).unwrap_err();
    assert!(err.to_string().contains("tiers.AL"), "{err}");
    let bad_set = BUILTIN_TOML.replacen("sets = [\"CD-01\"]", "sets = [\"CD-99\"]", 1);
    let err = Catalogue::from_toml(&bad_set).unwrap_err();
    assert!(err.to_string().contains("CD-99"), "{err}");
    let syntax = format!("{BUILTIN_TOML}\n[[indicator]\n");
    match Catalogue::from_toml(&syntax) {
        Err(CatalogueError::Syntax { line, .. }) => assert!(line > 100),
        other => panic!("{other:?}"),
    }
    let bad_version = BUILTIN_TOML.replacen("version = \"0.1.0\"", "version = \"one\"", 1);
    assert!(
        Catalogue::from_toml(&bad_version)
            .unwrap_err()
            .to_string()
            .contains("catalogue.version")
    );
    // A corrected revision loads and gets its own hash.
    let revised = BUILTIN_TOML.replacen("version = \"0.1.0\"", "version = \"0.1.1\"", 1);
    let c = Catalogue::from_toml(&revised).unwrap();
    assert_eq!(c.version(), "0.1.1");
    assert_ne!(c.sha256(), cat().sha256());
}

fn states() -> impl Strategy<Value = BTreeMap<String, IndicatorState>> {
    let codes: Vec<String> = cat()
        .indicators
        .iter()
        .filter(|i| i.code != "DR-11")
        .map(|i| i.code.clone())
        .collect();
    proptest::collection::vec(0u8..4, codes.len()).prop_map(move |picks| {
        codes
            .iter()
            .zip(picks)
            .filter_map(|(c, p)| {
                let s = match p {
                    0 => return None,
                    1 => IndicatorState::Present,
                    2 => IndicatorState::Absent,
                    _ => IndicatorState::Unknown,
                };
                Some((c.clone(), s))
            })
            .collect()
    })
}

fn demographic() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        Just("female".to_string()),
        Just("male".to_string()),
        Just("non-binary".to_string()),
        Just("gay".to_string()),
        Just("transgender woman".to_string()),
        Just("NG".to_string()),
        Just("ER".to_string()),
        "[a-z]{1,12}",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Changing gender, sexual orientation, gender identity or nationality never changes any
    /// part of the result.
    #[test]
    fn demographics_never_change_the_result(
        indicators in states(),
        age in 0u32..90,
        exploitation in proptest::sample::subsequence(
            vec![ExploitationType::Labour, ExploitationType::Sexual,
                 ExploitationType::Begging, ExploitationType::ForcedMarriage], 0..3),
        demo_a in proptest::collection::vec(demographic(), 4),
        demo_b in proptest::collection::vec(demographic(), 4),
    ) {
        let base = Answers {
            age_at_start: Some(age),
            exploitation,
            indicators,
            ..Answers::default()
        };
        let with = |d: &[Option<String>]| Answers {
            gender: d[0].clone(),
            sexual_orientation: d[1].clone(),
            gender_identity: d[2].clone(),
            nationality: d[3].clone(),
            ..base.clone()
        };
        let a = identify(cat(), &with(&demo_a));
        let b = identify(cat(), &with(&demo_b));
        prop_assert_eq!(a, b);
    }

    /// Age changes the result only by crossing 18.
    #[test]
    fn only_age_crosses_the_child_rule(indicators in states(), a1 in 0u32..100, a2 in 0u32..100) {
        let answers = |age| Answers {
            age_at_start: Some(age),
            exploitation: vec![ExploitationType::Labour],
            indicators: indicators.clone(),
            ..Answers::default()
        };
        let r1 = identify(cat(), &answers(a1)).unwrap();
        let r2 = identify(cat(), &answers(a2)).unwrap();
        if (a1 < 18) == (a2 < 18) {
            prop_assert_eq!(r1, r2);
        } else {
            prop_assert_ne!(r1.evaluations[0].list, r2.evaluations[0].list);
        }
    }
}
