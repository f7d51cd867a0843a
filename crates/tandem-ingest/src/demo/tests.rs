use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use tandem_core::model::{ROLE_PROPERTY, STAGE_PROPERTY};
use tandem_core::value::clean;
use tandem_core::{Entity, Model, Role, Sensitivity, Stage};

use super::names::contains_avoided;
use super::*;

fn demo(seed: u64, scale: f64) -> Vec<Entity> {
    generate(&DemoConfig { seed, scale }).unwrap()
}

fn role_of(entity: &Entity) -> Option<Role> {
    entity.first(ROLE_PROPERTY).and_then(|r| r.parse().ok())
}

fn stage_of(entity: &Entity) -> Option<Stage> {
    entity.first(STAGE_PROPERTY).and_then(|s| s.parse().ok())
}

/// Members of smuggling groups: persons whose role is neither an enabler's nor missing.
fn smugglers(entities: &[Entity]) -> Vec<&Entity> {
    entities
        .iter()
        .filter(|e| e.schema == "Person")
        .filter(|e| role_of(e).is_some_and(|r| !r.is_enabler()))
        .collect()
}

/// Actors: persons and companies with an ecosystem role.
fn actors(entities: &[Entity]) -> Vec<&Entity> {
    entities
        .iter()
        .filter(|e| matches!(e.schema.as_str(), "Person" | "Company"))
        .filter(|e| role_of(e).is_some())
        .collect()
}

fn by_id(entities: &[Entity]) -> HashMap<&str, &Entity> {
    entities.iter().map(|e| (e.id.as_str(), e)).collect()
}

#[test]
fn same_config_gives_identical_entities_and_other_seeds_differ() {
    let first = demo(DEFAULT_SEED, 1.0);
    assert_eq!(first, demo(DEFAULT_SEED, 1.0));
    let other = demo(DEFAULT_SEED + 1, 1.0);
    assert_ne!(first, other);
    let names = |entities: &[Entity]| -> BTreeSet<String> {
        entities
            .iter()
            .filter(|e| e.schema == "Person")
            .filter_map(|e| e.first("name").map(str::to_string))
            .collect()
    };
    // Not just shuffled: most people are different people.
    let shared = names(&first).intersection(&names(&other)).count();
    assert!(shared * 5 < names(&first).len(), "{shared} names shared");
    assert_eq!(generate(&DemoConfig::default()).unwrap(), first);
}

#[test]
fn default_scale_has_300_to_500_actors_and_grows_with_scale() {
    let one = actors(&demo(DEFAULT_SEED, 1.0)).len();
    assert!((300..=500).contains(&one), "{one} actors");
    let two = actors(&demo(DEFAULT_SEED, 2.0)).len();
    let ratio = two as f64 / one as f64;
    assert!(
        (1.7..2.3).contains(&ratio),
        "scale 2 gives {two} actors vs {one}"
    );
    let tiny = demo(DEFAULT_SEED, MIN_SCALE);
    assert!(!smugglers(&tiny).is_empty());
}

#[test]
fn organisers_are_10_to_20_percent_of_smugglers_and_every_group_has_one() {
    for seed in [DEFAULT_SEED, 1, 99] {
        let entities = demo(seed, 1.0);
        let smugglers = smugglers(&entities);
        let organisers = smugglers
            .iter()
            .filter(|e| role_of(e) == Some(Role::Organiser))
            .count();
        let share = organisers as f64 / smugglers.len() as f64;
        assert!((0.10..=0.20).contains(&share), "seed {seed}: {share}");

        let ids = by_id(&entities);
        let mut organisers_per_group: BTreeMap<&str, usize> = entities
            .iter()
            .filter(|e| e.schema == "Organization")
            .map(|e| (e.id.as_str(), 0))
            .collect();
        for membership in entities.iter().filter(|e| e.schema == "Membership") {
            let member = ids[membership.first("member").unwrap()];
            let group = membership.first("organization").unwrap();
            if role_of(member) == Some(Role::Organiser) {
                *organisers_per_group.get_mut(group).unwrap() += 1;
            }
            // Members work where their group works.
            assert_eq!(stage_of(member), stage_of(ids[group]));
        }
        assert!(organisers_per_group.values().all(|&n| n >= 1));
    }
}

/// Associate ties among smugglers, and all smuggler pairs, classified by stage and position.
struct TieCounts {
    ties_within: f64,
    ties_across: f64,
    ties_total: f64,
    pairs_within: f64,
    pairs_across: f64,
    pairs_total: f64,
    /// [within stage, across stages] × [same position, mixed]: (ties, pairs).
    by_position: [[(f64, f64); 2]; 2],
}

fn tie_counts(entities: &[Entity]) -> TieCounts {
    let smugglers = smugglers(entities);
    let cell: HashMap<&str, (&str, Stage, bool)> = smugglers
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                (
                    e.first("keywords").unwrap(),
                    stage_of(e).unwrap(),
                    role_of(e) == Some(Role::Organiser),
                ),
            )
        })
        .collect();
    let mut counts = TieCounts {
        ties_within: 0.0,
        ties_across: 0.0,
        ties_total: 0.0,
        pairs_within: 0.0,
        pairs_across: 0.0,
        pairs_total: 0.0,
        by_position: [[(0.0, 0.0); 2]; 2],
    };
    let classify = |a: &(&str, Stage, bool), b: &(&str, Stage, bool)| {
        let same_route = a.0 == b.0;
        let within = same_route && a.1 == b.1;
        (same_route, within, usize::from(a.2 != b.2))
    };
    for (i, a) in smugglers.iter().enumerate() {
        for b in &smugglers[i + 1..] {
            let (same_route, within, mixed) = classify(&cell[a.id.as_str()], &cell[b.id.as_str()]);
            counts.pairs_total += 1.0;
            if within {
                counts.pairs_within += 1.0;
            } else if same_route {
                counts.pairs_across += 1.0;
            }
            if same_route {
                counts.by_position[usize::from(!within)][mixed].1 += 1.0;
            }
        }
    }
    for tie in entities.iter().filter(|e| e.schema == "Associate") {
        let (Some(a), Some(b)) = (
            cell.get(tie.first("person").unwrap()),
            cell.get(tie.first("associate").unwrap()),
        ) else {
            continue; // a tie with an enabler
        };
        let (same_route, within, mixed) = classify(a, b);
        counts.ties_total += 1.0;
        if within {
            counts.ties_within += 1.0;
        } else if same_route {
            counts.ties_across += 1.0;
        }
        if same_route {
            counts.by_position[usize::from(!within)][mixed].0 += 1.0;
        }
    }
    counts
}

#[test]
fn associate_ties_follow_campanas_odds() {
    for seed in [DEFAULT_SEED, 5] {
        let c = tie_counts(&demo(seed, 1.0));
        // The share of ties within a stage is far above the share of pairs within a stage.
        let share_ratio = (c.ties_within / c.ties_total) / (c.pairs_within / c.pairs_total);
        assert!(share_ratio >= 3.0, "seed {seed}: share ratio {share_ratio}");
        // Per pair, a same-stage pair is about 7× likelier to be tied.
        let stage_odds = (c.ties_within / c.pairs_within) / (c.ties_across / c.pairs_across);
        assert!(
            (5.0..9.5).contains(&stage_odds),
            "seed {seed}: same-stage odds {stage_odds}"
        );
        // Two organisers or two aides about 3× less likely than an organiser and an aide, both
        // within a stage and across stages.
        for (stratum, [(same_ties, same_pairs), (mixed_ties, mixed_pairs)]) in
            ["within", "across"].iter().zip(c.by_position)
        {
            let odds = (same_ties / same_pairs) / (mixed_ties / mixed_pairs);
            assert!(
                (0.2..0.5).contains(&odds),
                "seed {seed}: same-position odds {stratum} stages {odds}"
            );
        }
        let mean_degree = 2.0 * c.ties_total / smugglers(&demo(seed, 1.0)).len() as f64;
        assert!((3.0..5.0).contains(&mean_degree), "{mean_degree}");
    }
}

#[test]
fn relations_point_at_entities_of_the_right_schema() {
    let entities = demo(DEFAULT_SEED, 1.0);
    let ids = by_id(&entities);
    assert_eq!(ids.len(), entities.len(), "ids are unique");
    let model = Model::get();
    let mut references = 0;
    for entity in &entities {
        let schema = model.schema(&entity.schema).unwrap();
        for (property, target) in entity.references() {
            references += 1;
            let target_entity = ids
                .get(target)
                .unwrap_or_else(|| panic!("{} {property} → missing {target}", entity.id));
            let range = schema.property(property).unwrap().range.as_deref().unwrap();
            assert!(
                model.schema(&target_entity.schema).unwrap().is_a(range),
                "{} {property} → {} is not a {range}",
                entity.id,
                target_entity.schema
            );
        }
    }
    assert!(references > 1_000, "{references}");
    let schemata: BTreeSet<&str> = entities.iter().map(|e| e.schema.as_str()).collect();
    for wanted in [
        "Person",
        "Organization",
        "Company",
        "PublicBody",
        "Vehicle",
        "Vessel",
        "Associate",
        "Family",
        "Membership",
        "Payment",
        "Employment",
        "Directorship",
        "Ownership",
        "UnknownLink",
        "Sanction",
    ] {
        assert!(schemata.contains(wanted), "no {wanted}");
    }
}

fn assert_fits_the_model(entities: &[Entity]) {
    let model = Model::get();
    for entity in entities {
        let schema = model.schema(&entity.schema).unwrap();
        assert!(!schema.is_abstract);
        assert!(entity.missing_required().is_empty(), "{}", entity.id);
        assert!(
            !entity.get("name").is_empty() || schema.is_edge() || entity.schema == "Sanction",
            "{} has no name",
            entity.id
        );
        for (property, values) in &entity.properties {
            let prop = schema
                .property(property)
                .unwrap_or_else(|| panic!("{} has no property {property}", entity.schema));
            assert!(!values.is_empty());
            for value in values {
                assert_eq!(
                    clean(prop.kind, property, value).as_ref(),
                    Ok(value),
                    "{} {property}",
                    entity.id
                );
            }
        }
    }
}

#[test]
fn every_entity_fits_the_model() {
    assert_fits_the_model(&demo(DEFAULT_SEED, 1.0));
}

#[test]
fn every_stage_of_both_routes_and_every_role_occurs() {
    let entities = demo(DEFAULT_SEED, 1.0);
    for route in [CENTRAL_MEDITERRANEAN, ATLANTIC] {
        let stages: BTreeSet<Stage> = smugglers(&entities)
            .into_iter()
            .filter(|e| e.first("keywords") == Some(route))
            .filter_map(stage_of)
            .collect();
        assert_eq!(stages.len(), Stage::ALL.len(), "{route}: {stages:?}");
    }
    let roles: BTreeSet<Role> = actors(&entities).into_iter().filter_map(role_of).collect();
    for role in Role::ALL {
        assert!(roles.contains(role), "no {role}");
    }
    // Officials work for public bodies, with a position.
    let ids = by_id(&entities);
    let officials: Vec<&Entity> = entities
        .iter()
        .filter(|e| role_of(e) == Some(Role::CorruptOfficial))
        .collect();
    assert!(officials.len() >= 10);
    for official in officials {
        assert!(official.has("position"));
        let employed = entities.iter().any(|e| {
            e.schema == "Employment"
                && e.first("employee") == Some(official.id.as_str())
                && ids[e.first("employer").unwrap()].schema == "PublicBody"
        });
        assert!(employed, "{}", official.id);
    }
    // Transport and boat companies own their vehicles and vessels.
    for asset in entities
        .iter()
        .filter(|e| matches!(e.schema.as_str(), "Vehicle" | "Vessel"))
    {
        let owner = entities
            .iter()
            .find(|e| e.schema == "Ownership" && e.first("asset") == Some(asset.id.as_str()))
            .and_then(|o| o.first("owner"))
            .unwrap();
        assert_eq!(ids[owner].schema, "Company");
    }
}

#[test]
fn people_have_the_details_case_files_hold() {
    let entities = demo(DEFAULT_SEED, 1.0);
    let people: Vec<&Entity> = entities.iter().filter(|e| e.schema == "Person").collect();
    let share = |test: &dyn Fn(&Entity) -> bool| {
        people.iter().filter(|e| test(e)).count() as f64 / people.len() as f64
    };
    assert_eq!(share(&|e| e.has("nationality") && e.has("country")), 1.0);
    assert_eq!(share(&|e| e.has("birthDate") && e.has("address")), 1.0);
    assert!(share(&|e| e.has("alias")) > 0.4);
    assert!(share(&|e| e.has("weakAlias")) > 0.2);
    assert!(share(&|e| e.get("alias").iter().any(|a| a.starts_with("Abu "))) > 0.02);
    assert!(share(&|e| e.has("phone")) > 0.5);
    // Some birth dates are known only to the year or month.
    assert!(share(&|e| e.get("birthDate").iter().any(|d| d.len() < 10)) > 0.2);
    assert!(share(&|e| e.get("birthDate").len() == 2) > 0.02);
    // Phone numbers sit in the fictional 555 block.
    for person in &people {
        for phone in person.get("phone") {
            assert!(phone.contains(" 555 "), "{phone}");
        }
    }
    let nationalities: BTreeSet<&str> = people
        .iter()
        .filter_map(|e| e.first("nationality"))
        .collect();
    for code in ["er", "et", "so", "sd", "ly", "it", "sn", "gm", "mr", "es"] {
        assert!(nationalities.contains(code), "no {code}");
    }
    // Kin share names: siblings have the same father's or family name.
    let ids = by_id(&entities);
    let families: Vec<&Entity> = entities.iter().filter(|e| e.schema == "Family").collect();
    assert!(families.len() >= 20, "{}", families.len());
    for family in families {
        if matches!(family.first("relationship"), Some("brother" | "sister")) {
            let a = ids[family.first("person").unwrap()];
            let b = ids[family.first("relative").unwrap()];
            let lineage = |e: &Entity| {
                (
                    e.first("fatherName").map(str::to_string),
                    e.first("lastName").map(str::to_string),
                )
            };
            assert_eq!(lineage(a), lineage(b), "{} / {}", a.id, b.id);
        }
    }
}

#[test]
fn names_are_composed_never_those_of_designated_smugglers() {
    for seed in 0..20 {
        let entities = demo(seed, 1.0);
        for entity in entities.iter().filter(|e| e.schema == "Person") {
            for name in entity.names() {
                assert!(!contains_avoided(name), "seed {seed}: {name}");
            }
        }
    }
    let entities = demo(DEFAULT_SEED, 1.0);
    let names: Vec<&str> = entities
        .iter()
        .filter(|e| e.schema == "Person")
        .filter_map(|e| e.first("name"))
        .collect();
    let distinct: BTreeSet<&str> = names.iter().copied().collect();
    assert!(
        distinct.len() * 10 >= names.len() * 9,
        "{} of {}",
        distinct.len(),
        names.len()
    );
}

#[test]
fn designations_are_public_and_name_existing_actors() {
    let entities = demo(DEFAULT_SEED, 1.0);
    let ids = by_id(&entities);
    let sanctions: Vec<&Entity> = entities.iter().filter(|e| e.schema == "Sanction").collect();
    assert!((5..=15).contains(&sanctions.len()), "{}", sanctions.len());
    let authorities: BTreeSet<&str> = sanctions
        .iter()
        .filter_map(|s| s.first("authority"))
        .collect();
    assert_eq!(
        authorities,
        BTreeSet::from([
            UN_LIBYA_COMMITTEE,
            US_TREASURY_OFAC,
            UK_IRREGULAR_MIGRATION_REGIME
        ])
    );
    let mut designated = BTreeSet::new();
    for sanction in &sanctions {
        assert_eq!(sanction.sensitivity, Sensitivity::Public);
        for property in ["program", "listingDate", "reason", "provisions"] {
            assert!(sanction.has(property), "{} lacks {property}", sanction.id);
        }
        let target = ids[sanction.first("entity").unwrap()];
        assert!(matches!(
            target.schema.as_str(),
            "Person" | "Company" | "Organization"
        ));
        assert_eq!(target.sensitivity, Sensitivity::Public);
        assert!(target.get("topics").iter().any(|t| t == "sanction"));
        assert!(
            !target.has("phone"),
            "{} publishes a phone number",
            target.id
        );
        let role = role_of(target);
        assert!(
            role.is_none_or(|r| r.is_organiser() || r.is_enabler()),
            "{} is an aide",
            target.id
        );
        designated.insert(target.id.as_str());
    }
    // One actor is listed by two authorities.
    assert!(designated.len() < sanctions.len());
    assert!(designated.iter().any(|id| ids[id].schema == "Organization"));
    // Everything else is intelligence.
    for entity in &entities {
        if entity.schema != "Sanction" && !designated.contains(entity.id.as_str()) {
            assert_eq!(entity.sensitivity, Sensitivity::Restricted, "{}", entity.id);
        }
    }
}

#[test]
fn bad_scales_are_refused() {
    for scale in [0.0, -1.0, 0.01, 50.5, f64::NAN, f64::INFINITY] {
        let err = generate(&DemoConfig { seed: 1, scale }).unwrap_err();
        assert!(matches!(err, DemoError::Scale(_)));
        assert!(err.to_string().contains("scale"), "{err}");
    }
}

#[test]
fn records_carry_the_demo_location() {
    let records: Vec<Record> = records(&DemoConfig::default()).unwrap().collect();
    assert_eq!(records.len(), demo(DEFAULT_SEED, 1.0).len());
    let first = records.first().unwrap();
    assert_eq!(first.location.file, dataset_names::DEMO);
    assert_eq!(first.location.line, Some(1));
    assert!(matches!(first.change, crate::Change::Upsert(_)));
    assert!(DEMO_DATASET_TITLE.contains("fictional"));
}

#[test]
fn generation_is_fast() {
    let start = Instant::now();
    let entities = demo(DEFAULT_SEED, 1.0);
    let elapsed = start.elapsed();
    assert!(!entities.is_empty());
    // Typically a few milliseconds; the bound leaves room for a loaded debug build.
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_seed_and_scale_gives_a_consistent_ecosystem(seed in any::<u64>(), scale in 0.05f64..1.5) {
        let entities = generate(&DemoConfig { seed, scale }).unwrap();
        assert_fits_the_model(&entities);
        let ids = by_id(&entities);
        for entity in &entities {
            for (_, target) in entity.references() {
                prop_assert!(ids.contains_key(target));
            }
        }
        let smugglers = smugglers(&entities);
        let organisers = smugglers.iter().filter(|e| role_of(e) == Some(Role::Organiser)).count();
        let share = organisers as f64 / smugglers.len() as f64;
        prop_assert!((0.10..=0.20).contains(&share), "{}", share);
        prop_assert!(entities.iter().any(|e| e.schema == "Sanction"));
    }
}
