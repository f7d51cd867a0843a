//! k-anonymity and l-diversity of aggregates and exports; CTDC format round trip; HTCDS values.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use tandem_protect::release::*;
use tandem_protect::testimony::{ExploitationKind, MeansOfControl, RecruiterRelation};

const EXCERPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/protection/ctdc_global_k_anon_excerpt.csv"
);
const HTCDS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/protection/htcds_field_standards_2.0.csv"
);

fn record() -> impl Strategy<Value = ReleaseRecord> {
    (
        2019u16..2022,
        prop::sample::select(vec![
            HtcdsGender::Feminine,
            HtcdsGender::Masculine,
            HtcdsGender::NonConforming,
        ]),
        prop::option::of(5u32..60),
        prop::sample::select(vec!["NG", "ER", "LY"]),
        prop::sample::subsequence(
            vec![
                ExploitationKind::ForcedLabour,
                ExploitationKind::SexualExploitation,
                ExploitationKind::ForcedCriminality,
            ],
            0..3,
        ),
        prop::sample::subsequence(
            vec![
                MeansOfControl::DebtBondage,
                MeansOfControl::PhysicalAbuse,
                MeansOfControl::RestrictsMovement,
            ],
            0..3,
        ),
    )
        .prop_map(|(year, gender, age, country, expl, means)| ReleaseRecord {
            year_of_registration: year,
            datasource: Datasource::CaseManagement,
            gender,
            age_at_registration: age,
            age_at_exploitation: age,
            age_at_entry: age,
            citizenship: Some(country.to_string()),
            country_of_exploitation: Some("IT".into()),
            means_of_control: means.into_iter().collect(),
            exploitation: expl.into_iter().collect(),
            forced_criminality: BTreeSet::new(),
            labour: BTreeSet::new(),
            sex: BTreeSet::new(),
            is_abduction: Some(false),
            recruiter_relation: Some(RecruiterRelation::Smuggler),
        })
}

/// Groups of released CSV rows by their quasi-identifier cells.
fn check_groups(rows: &[Vec<String>], qi: &[usize], sensitive: &[usize], k: usize, l: usize) {
    let mut groups: BTreeMap<Vec<&str>, Vec<&Vec<String>>> = BTreeMap::new();
    for r in rows {
        groups
            .entry(qi.iter().map(|&i| r[i].as_str()).collect())
            .or_default()
            .push(r);
    }
    for (key, members) in groups {
        assert!(
            members.len() >= k,
            "group {key:?} has {} rows",
            members.len()
        );
        for &s in sensitive {
            let distinct: BTreeSet<&str> = members.iter().map(|r| r[s].as_str()).collect();
            assert!(
                distinct.len() >= l,
                "group {key:?} column {s}: {distinct:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn aggregates_are_k_anonymous_and_l_diverse(
        records in prop::collection::vec(record(), 0..300),
        by in prop::sample::subsequence(QuasiIdentifier::ALL.to_vec(), 1..4),
    ) {
        let rules = ReleaseRules::default();
        let table = aggregate(&records, &by, &rules).unwrap();
        let mut released = 0;
        for row in &table.rows {
            prop_assert!(row.count >= MIN_K);
            let members: Vec<&ReleaseRecord> = records
                .iter()
                .filter(|r| by.iter().map(|q| q.value(r)).collect::<Vec<_>>() == row.values)
                .collect();
            prop_assert_eq!(members.len(), row.count);
            for attr in &rules.sensitive {
                let distinct: BTreeSet<String> = members.iter().map(|r| attr.value(r)).collect();
                prop_assert!(distinct.len() >= MIN_L);
            }
            released += row.count;
        }
        // The total never reveals what was suppressed.
        prop_assert_eq!(table.total, released);
    }

    #[test]
    fn ctdc_export_is_k_anonymous_and_l_diverse(records in prop::collection::vec(record(), 0..300)) {
        let mut out = Vec::new();
        let summary = write_ctdc_csv(&records, &ReleaseRules::default(), &mut out).unwrap();
        let table = read_ctdc(out.as_slice()).unwrap();
        prop_assert_eq!(table.rows.len(), summary.rows_written);
        prop_assert_eq!(summary.rows_written + summary.rows_withheld, records.len());
        let col = |name: &str| table.header.iter().position(|h| h == name).unwrap();
        let qi: Vec<usize> = ["yearOfRegistration", "gender", "ageBroad", "majorityStatus",
            "majorityStatusAtExploit", "majorityEntry", "citizenship", "CountryOfExploitation"]
            .iter().map(|c| col(c)).collect();
        let sensitive = [col("meansOfControlConcatenated"), col("typeOfExploitConcatenated")];
        check_groups(&table.rows, &qi, &sensitive, MIN_K, MIN_L);
    }

    #[test]
    fn htcds_export_is_k_anonymous_and_l_diverse(records in prop::collection::vec(record(), 0..300)) {
        let mut out = Vec::new();
        write_htcds_csv(&records, &ReleaseRules::default(), &mut out).unwrap();
        let mut rdr = csv::Reader::from_reader(out.as_slice());
        let rows: Vec<Vec<String>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        check_groups(&rows, &[0, 1, 2, 3, 4, 5], &[6, 7], MIN_K, MIN_L);
    }
}

#[test]
fn small_groups_are_suppressed_never_shown() {
    let mut records = Vec::new();
    let base = |gender, means: &[MeansOfControl]| ReleaseRecord {
        year_of_registration: 2021,
        datasource: Datasource::Hotline,
        gender,
        age_at_registration: Some(25),
        age_at_exploitation: Some(25),
        age_at_entry: Some(25),
        citizenship: Some("NG".into()),
        country_of_exploitation: Some("IT".into()),
        means_of_control: means.iter().copied().collect(),
        exploitation: [ExploitationKind::ForcedLabour].into_iter().collect(),
        forced_criminality: BTreeSet::new(),
        labour: BTreeSet::new(),
        sex: BTreeSet::new(),
        is_abduction: None,
        recruiter_relation: None,
    };
    for i in 0..20 {
        let means = if i % 2 == 0 {
            vec![MeansOfControl::DebtBondage]
        } else {
            vec![MeansOfControl::PhysicalAbuse]
        };
        let mut r = base(HtcdsGender::Feminine, &means);
        if i % 3 == 0 {
            r.exploitation = [ExploitationKind::SexualExploitation].into_iter().collect();
        }
        records.push(r);
    }
    // Three people of another gender: too few to show.
    for _ in 0..3 {
        records.push(base(
            HtcdsGender::TransgenderMasculine,
            &[MeansOfControl::Other],
        ));
    }
    let table = aggregate(
        &records,
        &[QuasiIdentifier::Gender],
        &ReleaseRules::default(),
    )
    .unwrap();
    assert_eq!(table.rows.len(), 1);
    assert_eq!(table.rows[0].values, vec!["Female"]);
    assert_eq!(table.total, 20, "the total leaves the suppressed group out");
    // Twenty people sharing one means of control: large enough, but not l-diverse.
    let uniform: Vec<ReleaseRecord> = records
        .iter()
        .cloned()
        .map(|mut r| {
            r.means_of_control = [MeansOfControl::DebtBondage].into();
            r
        })
        .collect();
    let table = aggregate(
        &uniform,
        &[QuasiIdentifier::Gender],
        &ReleaseRules::default(),
    )
    .unwrap();
    assert!(table.rows.is_empty());
    assert_eq!(table.total, 0);
    assert!(matches!(
        aggregate(
            &records,
            &[QuasiIdentifier::Gender],
            &ReleaseRules {
                k: 5,
                ..ReleaseRules::default()
            }
        ),
        Err(ReleaseError::KTooSmall(5))
    ));
    // Export: the three are withheld (the pool holds one profile only, and too few).
    let mut out = Vec::new();
    let summary = write_ctdc_csv(&records, &ReleaseRules::default(), &mut out).unwrap();
    assert_eq!(summary.rows_withheld, 3);
    assert!(!String::from_utf8(out).unwrap().contains("Transgender"));
}

#[test]
fn ctdc_excerpt_round_trips_byte_for_byte() {
    let text = std::fs::read_to_string(EXCERPT).unwrap();
    let table = read_ctdc(text.as_bytes()).unwrap();
    assert_eq!(table.rows.len(), 15);
    assert_eq!(table.header, ctdc_columns());
    assert!(table.rows.iter().any(|r| r[3] == "18--20"));
    let mut out = Vec::new();
    write_ctdc_table(&table, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), text);
}

#[test]
fn ctdc_reader_rejects_bad_layout() {
    let text = std::fs::read_to_string(EXCERPT).unwrap();
    let short = text.replacen(";2002;", ";", 1);
    let err = read_ctdc(short.as_bytes()).unwrap_err().to_string();
    assert!(
        err.contains("line 2") && err.contains("63 variables"),
        "{err}"
    );
    let renamed = text.replacen("ageBroad", "age", 1);
    assert!(
        read_ctdc(renamed.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("variable 4")
    );
}

#[test]
fn written_ctdc_rows_have_the_file_layout() {
    let r = ReleaseRecord {
        year_of_registration: 2021,
        datasource: Datasource::CaseManagement,
        gender: HtcdsGender::TransgenderFeminine,
        age_at_registration: Some(19),
        age_at_exploitation: Some(17),
        age_at_entry: Some(19),
        citizenship: None,
        country_of_exploitation: Some("LY".into()),
        means_of_control: [MeansOfControl::DebtBondage, MeansOfControl::PhysicalThreats].into(),
        exploitation: [
            ExploitationKind::ForcedCriminality,
            ExploitationKind::SexualExploitation,
        ]
        .into(),
        forced_criminality: BTreeSet::new(),
        labour: BTreeSet::new(),
        sex: BTreeSet::new(),
        is_abduction: Some(false),
        recruiter_relation: Some(RecruiterRelation::Employer),
    };
    let mut records = vec![r.clone(); 11];
    records[0].means_of_control = [MeansOfControl::Other].into();
    records[1].exploitation = [ExploitationKind::ForcedLabour].into();
    let mut out = Vec::new();
    write_ctdc_csv(&records, &ReleaseRules::default(), &mut out).unwrap();
    let table = read_ctdc(out.as_slice()).unwrap();
    assert_eq!(table.rows.len(), 11);
    let row = &table.rows[2];
    let col = |name: &str| row[table.header.iter().position(|h| h == name).unwrap()].as_str();
    assert_eq!(col("gender"), "Transgender/NonConforming");
    assert_eq!(col("ageBroad"), "18--20");
    assert_eq!(col("majorityStatusAtExploit"), "Minor");
    assert_eq!(col("citizenship"), "ZZ");
    assert_eq!(col("meansOfControlThreats"), "1");
    assert_eq!(col("meansOfControlConcatenated"), "Debt bondage;Threats");
    assert_eq!(col("typeOfLabourIllicitActivities"), "1");
    assert_eq!(col("isSexAndLabour"), "1");
    assert_eq!(col("RecruiterRelationship"), "Other");
    assert_eq!(col("CountryOfExploitation"), "LY");
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("\"Debt bondage;Threats\""),
        "concatenations are quoted"
    );
    assert!(
        text.lines().skip(1).all(|l| l.starts_with(';')),
        "empty lead cell"
    );
}

#[test]
fn every_emitted_htcds_value_exists_in_the_field_table() {
    let mut rdr = csv::Reader::from_path(HTCDS).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let name_col = headers
        .iter()
        .position(|h| h == "Field Name including Prefix")
        .unwrap();
    let values_col = headers
        .iter()
        .position(|h| h.starts_with("Value Names"))
        .unwrap();
    let mut allowed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rdr.records() {
        let row = row.unwrap();
        let values = row[values_col]
            .lines()
            .map(|v| v.trim().to_string())
            .collect();
        allowed.insert(row[name_col].trim().to_string(), values);
    }
    for (field, value) in htcds_emitted_values() {
        assert!(
            allowed.get(field).is_some_and(|v| v.contains(value)),
            "{field} = {value} is not in the HTCDS table"
        );
    }
    for column in HTCDS_COLUMNS {
        assert!(
            column.starts_with("tandem_")
                || allowed.contains_key(column)
                || column.starts_with("cas_")
                || column.starts_with("hte_"),
            "{column}"
        );
    }
}
