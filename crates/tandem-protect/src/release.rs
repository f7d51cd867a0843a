//! Anonymised release (spec §5.4, §6.4): k-anonymous, l-diverse aggregates and the anonymised
//! CTDC / HTCDS CSV exports.
//!
//! Rules: every released combination of quasi-identifier values describes at least k (≥ 11)
//! people and holds at least l (≥ 2) distinct values of each sensitive attribute. Groups that
//! fail are suppressed, never shown: their rows are left out, and totals are computed from
//! released rows only, so no total minus released cells reveals a suppressed count
//! (complementary disclosure).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::testimony::{
    ExploitationKind, ForcedCriminalityKind, MeansOfControl, RecruiterRelation,
};

/// The smallest k the release rules accept (CTDC's rule).
pub const MIN_K: usize = 11;
/// The smallest l the release rules accept.
pub const MIN_L: usize = 2;

/// HTCDS `prs_Gender`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HtcdsGender {
    Feminine,
    Masculine,
    TransgenderFeminine,
    TransgenderMasculine,
    NonConforming,
    NonSpecifiedUnknown,
}

/// CTDC `Datasource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Datasource {
    CaseManagement,
    Hotline,
}

/// CTDC `typeOfLabour*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LabourType {
    Agriculture,
    Aquafarming,
    Begging,
    Construction,
    DomesticWork,
    Hospitality,
    IllicitActivities,
    Manufacturing,
    MiningOrDrilling,
    Peddling,
    Transportation,
    Other,
}

/// CTDC `typeOfSex*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SexType {
    Prostitution,
    Pornography,
    RemoteInteractiveServices,
    PrivateSexualServices,
}

/// One case, coded for release. Built by the caller from decrypted case data inside the
/// protection boundary; it has no identifying fields (no names, dates, free text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    pub year_of_registration: u16,
    pub datasource: Datasource,
    pub gender: HtcdsGender,
    pub age_at_registration: Option<u32>,
    /// Age at the first exploitation event.
    pub age_at_exploitation: Option<u32>,
    /// Age when entering the assistance programme (CTDC `majorityEntry`).
    pub age_at_entry: Option<u32>,
    /// ISO 3166-1 alpha-2.
    pub citizenship: Option<String>,
    pub country_of_exploitation: Option<String>,
    pub means_of_control: BTreeSet<MeansOfControl>,
    pub exploitation: BTreeSet<ExploitationKind>,
    pub forced_criminality: BTreeSet<ForcedCriminalityKind>,
    pub labour: BTreeSet<LabourType>,
    pub sex: BTreeSet<SexType>,
    pub is_abduction: Option<bool>,
    pub recruiter_relation: Option<RecruiterRelation>,
}

/// Attributes that, combined, could single someone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuasiIdentifier {
    Year,
    Gender,
    AgeBand,
    MajorityStatus,
    Citizenship,
    CountryOfExploitation,
}

impl QuasiIdentifier {
    pub const ALL: [QuasiIdentifier; 6] = [
        QuasiIdentifier::Year,
        QuasiIdentifier::Gender,
        QuasiIdentifier::AgeBand,
        QuasiIdentifier::MajorityStatus,
        QuasiIdentifier::Citizenship,
        QuasiIdentifier::CountryOfExploitation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuasiIdentifier::Year => "year",
            QuasiIdentifier::Gender => "gender",
            QuasiIdentifier::AgeBand => "age_band",
            QuasiIdentifier::MajorityStatus => "majority_status",
            QuasiIdentifier::Citizenship => "citizenship",
            QuasiIdentifier::CountryOfExploitation => "country_of_exploitation",
        }
    }

    /// The released (coarsened) value of a record: CTDC gender, CTDC age band, etc.
    pub fn value(self, record: &ReleaseRecord) -> String {
        match self {
            QuasiIdentifier::Year => record.year_of_registration.to_string(),
            QuasiIdentifier::Gender => ctdc_gender(record.gender).to_string(),
            QuasiIdentifier::AgeBand => record
                .age_at_registration
                .map(|a| age_band(a).to_string())
                .unwrap_or_default(),
            QuasiIdentifier::MajorityStatus => majority(record.age_at_registration).to_string(),
            QuasiIdentifier::Citizenship => record
                .citizenship
                .clone()
                .unwrap_or_else(|| "ZZ".to_string()),
            QuasiIdentifier::CountryOfExploitation => {
                record.country_of_exploitation.clone().unwrap_or_default()
            }
        }
    }
}

/// CTDC `gender` from HTCDS `prs_Gender` (spec §5.2).
pub fn ctdc_gender(gender: HtcdsGender) -> &'static str {
    match gender {
        HtcdsGender::Feminine => "Female",
        HtcdsGender::Masculine => "Male",
        HtcdsGender::TransgenderFeminine
        | HtcdsGender::TransgenderMasculine
        | HtcdsGender::NonConforming => "Transgender/NonConforming",
        HtcdsGender::NonSpecifiedUnknown => "Unknown",
    }
}

/// CTDC `ageBroad` band, spelled as in the file (`18--20`).
pub fn age_band(age: u32) -> &'static str {
    match age {
        0..=8 => "0--8",
        9..=17 => "9--17",
        18..=20 => "18--20",
        21..=23 => "21--23",
        24..=26 => "24--26",
        27..=29 => "27--29",
        30..=38 => "30--38",
        39..=47 => "39--47",
        _ => "48+",
    }
}

fn majority(age: Option<u32>) -> &'static str {
    match age {
        Some(a) if a < 18 => "Minor",
        Some(_) => "Adult",
        None => "Unknown",
    }
}

fn htcds_gender(gender: HtcdsGender) -> &'static str {
    match gender {
        HtcdsGender::Feminine => "Feminine",
        HtcdsGender::Masculine => "Masculine",
        HtcdsGender::TransgenderFeminine => "TransgenderFeminine",
        HtcdsGender::TransgenderMasculine => "TransgenderMasculine",
        HtcdsGender::NonConforming => "NonConforming",
        HtcdsGender::NonSpecifiedUnknown => "NonSpecifiedUnknown",
    }
}

/// Attributes whose value must not be inferable from group membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveAttribute {
    ExploitationType,
    MeansOfControl,
}

impl SensitiveAttribute {
    /// The value compared for l-diversity: the sorted, `;`-joined set (empty set: `""`).
    pub fn value(self, record: &ReleaseRecord) -> String {
        match self {
            SensitiveAttribute::ExploitationType => {
                let mut names: Vec<String> = record
                    .exploitation
                    .iter()
                    .map(|e| format!("{e:?}"))
                    .collect();
                names.extend(
                    record
                        .forced_criminality
                        .iter()
                        .map(|f| format!("ForcedCriminality.{f:?}")),
                );
                names.join(";")
            }
            SensitiveAttribute::MeansOfControl => record
                .means_of_control
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(";"),
        }
    }
}

/// Release rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRules {
    pub k: usize,
    pub l: usize,
    pub sensitive: Vec<SensitiveAttribute>,
}

impl Default for ReleaseRules {
    fn default() -> Self {
        ReleaseRules {
            k: MIN_K,
            l: MIN_L,
            sensitive: vec![
                SensitiveAttribute::ExploitationType,
                SensitiveAttribute::MeansOfControl,
            ],
        }
    }
}

/// A release that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("k = {0} is below the minimum of {MIN_K}")]
    KTooSmall(usize),
    #[error("l = {0} is below the minimum of {MIN_L}")]
    LTooSmall(usize),
    #[error("no quasi-identifier to group by")]
    NoGrouping,
    #[error("CSV line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

/// One released cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateRow {
    /// Values in the order of [`AggregateTable::columns`].
    pub values: Vec<String>,
    pub count: usize,
}

/// A released table: only cells that pass k and l. No count of suppressed cells or people
/// is given, and `total` is the sum of released cells only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateTable {
    pub columns: Vec<QuasiIdentifier>,
    pub rows: Vec<AggregateRow>,
    pub total: usize,
    pub k: usize,
    pub l: usize,
}

/// Counts by a combination of quasi-identifiers, releasing only groups of at least k people
/// with at least l distinct values of each sensitive attribute.
pub fn aggregate(
    records: &[ReleaseRecord],
    group_by: &[QuasiIdentifier],
    rules: &ReleaseRules,
) -> Result<AggregateTable, ReleaseError> {
    rules.check()?;
    if group_by.is_empty() {
        return Err(ReleaseError::NoGrouping);
    }
    let groups = group(records, |r| group_by.iter().map(|q| q.value(r)).collect());
    let mut rows: Vec<AggregateRow> = groups
        .into_iter()
        .filter(|(_, members)| rules.passes(members))
        .map(|(values, members)| AggregateRow {
            values,
            count: members.len(),
        })
        .collect();
    rows.sort_by(|a, b| a.values.cmp(&b.values));
    // The total is what the released rows add up to; a grand total over all records would let
    // anyone subtract the released cells and learn the size of what was suppressed.
    let total = rows.iter().map(|r| r.count).sum();
    Ok(AggregateTable {
        columns: group_by.to_vec(),
        rows,
        total,
        k: rules.k,
        l: rules.l,
    })
}

impl ReleaseRules {
    fn check(&self) -> Result<(), ReleaseError> {
        if self.k < MIN_K {
            return Err(ReleaseError::KTooSmall(self.k));
        }
        if self.l < MIN_L {
            return Err(ReleaseError::LTooSmall(self.l));
        }
        Ok(())
    }

    /// At least k members and at least l distinct values of each sensitive attribute.
    pub fn passes(&self, members: &[&ReleaseRecord]) -> bool {
        members.len() >= self.k
            && self.sensitive.iter().all(|attr| {
                members
                    .iter()
                    .map(|r| attr.value(r))
                    .collect::<BTreeSet<_>>()
                    .len()
                    >= self.l
            })
    }
}

fn group<K: Ord>(
    records: &[ReleaseRecord],
    key: impl Fn(&ReleaseRecord) -> K,
) -> BTreeMap<K, Vec<&ReleaseRecord>> {
    let mut groups: BTreeMap<K, Vec<&ReleaseRecord>> = BTreeMap::new();
    for r in records {
        groups.entry(key(r)).or_default().push(r);
    }
    groups
}

/// The quasi-identifiers of a row-level export, in CTDC terms.
fn export_key(r: &ReleaseRecord) -> [String; 8] {
    [
        r.year_of_registration.to_string(),
        ctdc_gender(r.gender).to_string(),
        r.age_at_registration
            .map(|a| age_band(a).to_string())
            .unwrap_or_default(),
        majority(r.age_at_registration).to_string(),
        majority(r.age_at_exploitation).to_string(),
        majority(r.age_at_entry).to_string(),
        r.citizenship.clone().unwrap_or_else(|| "ZZ".into()),
        r.country_of_exploitation.clone().unwrap_or_default(),
    ]
}

/// Which records are released with their quasi-identifiers, which with them blanked, and
/// which are withheld.
struct Partition<'r> {
    released: Vec<&'r ReleaseRecord>,
    pooled: Vec<&'r ReleaseRecord>,
    withheld: usize,
}

fn partition<'r>(records: &'r [ReleaseRecord], rules: &ReleaseRules) -> Partition<'r> {
    let mut released = Vec::new();
    let mut pool = Vec::new();
    let mut pool_keys = 0usize;
    for (_, members) in group(records, export_key) {
        if rules.passes(&members) {
            released.extend(members);
        } else {
            pool.extend(members);
            pool_keys += 1;
        }
    }
    // Blanked rows form one more group, which must itself pass. It must also mix at least two
    // original profiles: a pool drawn from one profile would give that profile away to anyone
    // who knows the overall counts (complementary disclosure).
    if !pool.is_empty() && (pool_keys < 2 || !rules.passes(&pool)) {
        let withheld = pool.len();
        return Partition {
            released,
            pooled: Vec::new(),
            withheld,
        };
    }
    Partition {
        released,
        pooled: pool,
        withheld: 0,
    }
}

/// What an export released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub rows_written: usize,
    /// Rows whose quasi-identifiers were blanked (they joined the pooled group).
    pub rows_generalised: usize,
    /// Rows left out because even the pooled group failed k or l.
    pub rows_withheld: usize,
}

/// The CTDC 2021 header (first cell: the terms-of-use sentence; 63 variables).
pub const CTDC_TERMS_CELL: &str = "By using this data you agree to the Terms of Use: https://www.ctdatacollaborative.org/terms-use";

/// The 63 CTDC variables, in file order.
pub fn ctdc_columns() -> &'static [&'static str] {
    &CTDC_COLUMNS
}

const CTDC_COLUMNS: [&str; 63] = [
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "majorityStatusAtExploit",
    "majorityEntry",
    "citizenship",
    "meansOfControlDebtBondage",
    "meansOfControlTakesEarnings",
    "meansOfControlRestrictsFinancialAccess",
    "meansOfControlThreats",
    "meansOfControlPsychologicalAbuse",
    "meansOfControlPhysicalAbuse",
    "meansOfControlSexualAbuse",
    "meansOfControlFalsePromises",
    "meansOfControlPsychoactiveSubstances",
    "meansOfControlRestrictsMovement",
    "meansOfControlRestrictsMedicalCare",
    "meansOfControlExcessiveWorkingHours",
    "meansOfControlUsesChildren",
    "meansOfControlThreatOfLawEnforcement",
    "meansOfControlWithholdsNecessities",
    "meansOfControlWithholdsDocuments",
    "meansOfControlOther",
    "meansOfControlNotSpecified",
    "meansOfControlConcatenated",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "isSexAndLabour",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isSlaveryAndPractices",
    "typeOfExploitConcatenated",
    "typeOfLabourAgriculture",
    "typeOfLabourAquafarming",
    "typeOfLabourBegging",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfLabourIllicitActivities",
    "typeOfLabourManufacturing",
    "typeOfLabourMiningOrDrilling",
    "typeOfLabourPeddling",
    "typeOfLabourTransportation",
    "typeOfLabourOther",
    "typeOfLabourNotSpecified",
    "typeOfLabourConcatenated",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "typeOfSexRemoteInteractiveServices",
    "typeOfSexPrivateSexualServices",
    "typeOfSexConcatenated",
    "isAbduction",
    "RecruiterRelationship",
    "CountryOfExploitation",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
    "recruiterRelationUnknown",
];

/// The CTDC means-of-control columns (after the prefix) with their label in concatenations,
/// and the Tandem codes that set them (spec §4.2 mapping).
const CTDC_MEANS: [(&str, &str, &[MeansOfControl]); 17] = {
    use MeansOfControl as M;
    [
        ("DebtBondage", "Debt bondage", &[M::DebtBondage]),
        ("TakesEarnings", "Takes earnings", &[M::TakesEarnings]),
        (
            "RestrictsFinancialAccess",
            "Restricts financial access",
            &[M::RestrictsFinancialAccess],
        ),
        (
            "Threats",
            "Threats",
            &[M::PhysicalThreats, M::ThreatensChildrenFamily],
        ),
        (
            "PsychologicalAbuse",
            "Psychological abuse",
            &[M::PsychologicalAbuse],
        ),
        ("PhysicalAbuse", "Physical abuse", &[M::PhysicalAbuse]),
        ("SexualAbuse", "Sexual abuse", &[M::SexualAbuse]),
        ("FalsePromises", "False promises", &[M::FalsePromises]),
        (
            "PsychoactiveSubstances",
            "Psychoactive substances",
            &[M::PsychoactiveSubstance],
        ),
        (
            "RestrictsMovement",
            "Restricts movement",
            &[M::RestrictsMovement],
        ),
        (
            "RestrictsMedicalCare",
            "Restricts medical care",
            &[M::RestrictsMedicalCare],
        ),
        (
            "ExcessiveWorkingHours",
            "Excessive working hours",
            &[M::ExcessiveWorkingHours],
        ),
        ("UsesChildren", "Uses children", &[M::UsesChildren]),
        (
            "ThreatOfLawEnforcement",
            "Threat of law enforcement",
            &[M::ThreatsLawEnforcement],
        ),
        (
            "WithholdsNecessities",
            "Withholds necessities",
            &[M::WithholdsNecessities],
        ),
        (
            "WithholdsDocuments",
            "Withholds documents",
            &[M::WithholdsDocuments],
        ),
        ("Other", "Other", &[M::Other]),
    ]
};

const CTDC_LABOUR: [(LabourType, &str); 12] = [
    (LabourType::Agriculture, "Agriculture"),
    (LabourType::Aquafarming, "Aquafarming"),
    (LabourType::Begging, "Begging"),
    (LabourType::Construction, "Construction"),
    (LabourType::DomesticWork, "Domestic work"),
    (LabourType::Hospitality, "Hospitality"),
    (LabourType::IllicitActivities, "Illicit activities"),
    (LabourType::Manufacturing, "Manufacturing"),
    (LabourType::MiningOrDrilling, "Mining or drilling"),
    (LabourType::Peddling, "Peddling"),
    (LabourType::Transportation, "Transportation"),
    (LabourType::Other, "Other"),
];

const CTDC_SEX: [(SexType, &str); 4] = [
    (SexType::Prostitution, "Prostitution"),
    (SexType::Pornography, "Pornography"),
    (
        SexType::RemoteInteractiveServices,
        "Remote interactive services",
    ),
    (SexType::PrivateSexualServices, "Private sexual services"),
];

fn flag(b: bool) -> String {
    if b { "1".into() } else { "0".into() }
}

fn ctdc_row(r: &ReleaseRecord, blank_quasi: bool) -> Vec<String> {
    use ExploitationKind as E;
    let mut row = vec![String::new()];
    if blank_quasi {
        row.extend(std::iter::repeat_n(String::new(), 8));
        row[2] = datasource(r.datasource).into();
    } else {
        let key = export_key(r);
        row.push(key[0].clone());
        row.push(datasource(r.datasource).into());
        row.extend(key[1..].iter().cloned());
        // CTDC column order: gender, ageBroad, majorityStatus, majorityStatusAtExploit,
        // majorityEntry, citizenship — then CountryOfExploitation near the end.
        row.truncate(9);
    }
    // Means of control.
    if r.means_of_control.is_empty() {
        row.extend(std::iter::repeat_n(String::new(), CTDC_MEANS.len()));
        row.push("1".into());
        row.push("Not specified".into());
    } else {
        let mut labels = Vec::new();
        for (_, label, codes) in CTDC_MEANS {
            let on = codes.iter().any(|c| r.means_of_control.contains(c));
            if on {
                labels.push(label);
            }
            row.push(flag(on));
        }
        row.push("0".into());
        row.push(labels.join(";"));
    }
    // Exploitation.
    let labour = r.exploitation.contains(&E::ForcedLabour)
        || r.exploitation.contains(&E::ChildLabour)
        || r.exploitation.contains(&E::ForcedBegging)
        || r.exploitation.contains(&E::ForcedCriminality)
        || !r.forced_criminality.is_empty();
    let sexual = r.exploitation.contains(&E::SexualExploitation);
    let marriage = r.exploitation.contains(&E::ForcedMarriage);
    let military = r.exploitation.contains(&E::ForcedMilitaryByNonStateActors);
    let organ = r.exploitation.contains(&E::OrganRemoval);
    let slavery = r.exploitation.contains(&E::Servitude);
    let other = r
        .exploitation
        .iter()
        .any(|e| matches!(e, E::ForcedAdoption | E::Surrogacy | E::Other));
    let mut exploit_labels = Vec::new();
    if labour {
        exploit_labels.push("Forced labour");
    }
    if sexual {
        exploit_labels.push("Sexual exploitation");
    }
    if labour && sexual {
        exploit_labels.push("Combined sexual and labour exploitation");
    }
    if marriage {
        exploit_labels.push("Forced marriage");
    }
    if military {
        exploit_labels.push("Forced military");
    }
    if organ {
        exploit_labels.push("Organ removal");
    }
    if slavery {
        exploit_labels.push("Slavery and similar practices");
    }
    if other {
        exploit_labels.push("Other");
    }
    for b in [
        labour,
        sexual,
        other,
        labour && sexual,
        marriage,
        military,
        organ,
        slavery,
    ] {
        row.push(flag(b));
    }
    row.push(exploit_labels.join(";"));
    // Labour types; forced criminality maps to illicit activities, begging to begging (§1.5).
    let mut kinds: BTreeSet<LabourType> = r.labour.clone();
    if r.exploitation.contains(&E::ForcedCriminality) || !r.forced_criminality.is_empty() {
        kinds.insert(LabourType::IllicitActivities);
    }
    if r.exploitation.contains(&E::ForcedBegging) {
        kinds.insert(LabourType::Begging);
    }
    if labour {
        let mut labels = Vec::new();
        for (t, label) in CTDC_LABOUR {
            let on = kinds.contains(&t);
            if on {
                labels.push(label);
            }
            row.push(flag(on));
        }
        row.push(flag(kinds.is_empty()));
        if kinds.is_empty() {
            labels.push("Not specified");
        }
        row.push(labels.join(";"));
    } else {
        row.extend(std::iter::repeat_n(String::new(), CTDC_LABOUR.len() + 2));
    }
    if sexual {
        let mut labels = Vec::new();
        for (t, label) in CTDC_SEX {
            let on = r.sex.contains(&t);
            if on {
                labels.push(label);
            }
            row.push(flag(on));
        }
        row.push(labels.join(";"));
    } else {
        row.extend(std::iter::repeat_n(String::new(), CTDC_SEX.len() + 1));
    }
    row.push(r.is_abduction.map(flag).unwrap_or_default());
    let relation = r.recruiter_relation.map(ctdc_relation);
    row.push(relation.unwrap_or("").to_string());
    row.push(if blank_quasi {
        String::new()
    } else {
        r.country_of_exploitation.clone().unwrap_or_default()
    });
    for label in [
        "Intimate Partner",
        "Friend/Acquaintance",
        "Family/Relative",
        "Other",
        "Not Specified",
    ] {
        match relation {
            Some(rel) => row.push(flag(rel == label)),
            None => row.push(String::new()),
        }
    }
    row
}

fn datasource(d: Datasource) -> &'static str {
    match d {
        Datasource::CaseManagement => "Case Management",
        Datasource::Hotline => "Hotline",
    }
}

/// CTDC `RecruiterRelationship`: broker, employer, smuggler, community figure, stranger and
/// online contact become `Other` (spec §5.2).
fn ctdc_relation(r: RecruiterRelation) -> &'static str {
    match r {
        RecruiterRelation::IntimatePartner => "Intimate Partner",
        RecruiterRelation::FamilyRelative => "Family/Relative",
        RecruiterRelation::FriendAcquaintance => "Friend/Acquaintance",
        RecruiterRelation::NotSpecified => "Not Specified",
        _ => "Other",
    }
}

fn csv_writer<W: Write>(writer: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .delimiter(b';')
        .quote_style(csv::QuoteStyle::Necessary)
        .flexible(true)
        .from_writer(writer)
}

fn csv_error(err: csv::Error) -> ReleaseError {
    let line = err.position().map(|p| p.line()).unwrap_or(0);
    match err.into_kind() {
        csv::ErrorKind::Io(io) => ReleaseError::Io(io),
        other => ReleaseError::Csv {
            line,
            message: format!("{other:?}"),
        },
    }
}

/// Writes the k-anonymous, l-diverse CTDC-layout CSV (`;`-separated, empty leading cell).
/// Quasi-identifiers are year, gender, age band, majority status, citizenship and country of
/// exploitation; groups failing k or l have them blanked and are pooled; if the pool fails,
/// its rows are withheld.
pub fn write_ctdc_csv<W: Write>(
    records: &[ReleaseRecord],
    rules: &ReleaseRules,
    writer: W,
) -> Result<ExportSummary, ReleaseError> {
    rules.check()?;
    let parts = partition(records, rules);
    let mut out = csv_writer(writer);
    let mut header = vec![CTDC_TERMS_CELL];
    header.extend(CTDC_COLUMNS);
    out.write_record(&header).map_err(csv_error)?;
    for r in &parts.released {
        out.write_record(ctdc_row(r, false)).map_err(csv_error)?;
    }
    for r in &parts.pooled {
        out.write_record(ctdc_row(r, true)).map_err(csv_error)?;
    }
    out.flush()?;
    Ok(ExportSummary {
        rows_written: parts.released.len() + parts.pooled.len(),
        rows_generalised: parts.pooled.len(),
        rows_withheld: parts.withheld,
    })
}

/// The columns of the anonymised HTCDS export.
pub const HTCDS_COLUMNS: [&str; 10] = [
    "cas_YearOfRegistration",
    "prs_Gender",
    "tandem_AgeBand",
    "tandem_MajorityStatusAtExploit",
    "prs_Citizenship",
    "hte_CountryOfExploitation",
    "vic_TypeOfExploitation",
    "vic_MethodsOfControl",
    "vic_RelationshipToTrafficker",
    "tandem_ForcedCriminality",
];

/// HTCDS `vic_MethodsOfControl` value of a Tandem code; `None` for CTDC-only codes, which go
/// out as `Other` plus a `tandem_` value.
fn htcds_means(m: MeansOfControl) -> Option<&'static str> {
    use MeansOfControl as M;
    Some(match m {
        M::DebtBondage => "DebtBondage",
        M::TakesEarnings => "TakesEarnings",
        M::RestrictsFinancialAccess => "RestrictsFinancialAccess",
        M::PsychologicalAbuse => "PsychologicalAbuse",
        M::PhysicalAbuse => "PhysicalAbuse",
        M::SexualAbuse => "SexualAbuse",
        M::FalsePromises => "FalsePromises",
        M::RestrictsMedicalCare => "RestrictsMedicalCare",
        M::WithholdsNecessities => "WithholdsNecessities",
        M::WithholdsDocuments => "WithholdsDocuments",
        M::ExcessiveWorkingHours => "ExcessiveWorkingHours",
        M::PhysicalThreats => "PhysicalThreats",
        M::ThreatensChildrenFamily => "ThreatensChildrenFamily",
        M::ThreatsLawEnforcement => "ThreatsLawEnforcement",
        M::PsychoactiveSubstance => "PsychoactiveSubstance",
        M::Other => "Other",
        M::RestrictsMovement | M::UsesChildren => return None,
    })
}

/// HTCDS `vic_TypeOfExploitation`; `ForcedCriminality` is not an HTCDS value and goes to
/// `tandem_ForcedCriminality` (with `Other` here).
fn htcds_exploitation(e: ExploitationKind) -> &'static str {
    use ExploitationKind as E;
    match e {
        E::ForcedLabour => "ForcedLabour",
        E::SexualExploitation => "SexualExploitation",
        E::ChildLabour => "ChildLabour",
        E::ForcedMarriage => "ForcedMarriage",
        E::Servitude => "Servitude",
        E::ForcedMilitaryByNonStateActors => "ForcedMilitaryByNonStateActors",
        E::OrganRemoval => "OrganRemoval",
        E::ForcedBegging => "ForcedBegging",
        E::ForcedAdoption => "ForcedAdoption",
        E::Surrogacy => "Surrogacy",
        E::ForcedCriminality | E::Other => "Other",
    }
}

/// HTCDS `vic_RelationshipToTrafficker` (spelled as in the standard, `Unaquainted`).
fn htcds_relation(r: RecruiterRelation) -> Option<&'static str> {
    use RecruiterRelation as R;
    match r {
        R::FamilyRelative | R::IntimatePartner => Some("Familial"),
        R::FriendAcquaintance | R::CommunityOrReligiousFigure | R::Employer => Some("Acquainted"),
        R::Stranger | R::OnlineContactOnly | R::Smuggler | R::LabourBrokerOrAgency => {
            Some("Unaquainted")
        }
        R::Other | R::NotSpecified => None,
    }
}

fn htcds_row(r: &ReleaseRecord, blank_quasi: bool) -> Vec<String> {
    let mut exploitation: Vec<&str> = Vec::new();
    for e in &r.exploitation {
        let v = htcds_exploitation(*e);
        if !exploitation.contains(&v) {
            exploitation.push(v);
        }
    }
    let mut means: Vec<&str> = Vec::new();
    for m in &r.means_of_control {
        let v = htcds_means(*m).unwrap_or("Other");
        if !means.contains(&v) {
            means.push(v);
        }
    }
    let forced_criminality: Vec<String> = r
        .forced_criminality
        .iter()
        .map(|f| format!("{f:?}"))
        .collect();
    let quasi: [String; 6] = if blank_quasi {
        Default::default()
    } else {
        [
            r.year_of_registration.to_string(),
            htcds_gender(r.gender).to_string(),
            r.age_at_registration
                .map(|a| age_band(a).to_string())
                .unwrap_or_default(),
            majority(r.age_at_exploitation).to_string(),
            r.citizenship.clone().unwrap_or_default(),
            r.country_of_exploitation.clone().unwrap_or_default(),
        ]
    };
    let mut row: Vec<String> = quasi.into_iter().collect();
    row.push(exploitation.join(";"));
    row.push(means.join(";"));
    row.push(
        r.recruiter_relation
            .and_then(htcds_relation)
            .unwrap_or("")
            .to_string(),
    );
    row.push(forced_criminality.join(";"));
    row
}

/// Every HTCDS value the exporter can emit, per column (checked against the field table).
pub fn htcds_emitted_values() -> Vec<(&'static str, &'static str)> {
    use ExploitationKind as E;
    use MeansOfControl as M;
    let mut out = Vec::new();
    for g in [
        HtcdsGender::Feminine,
        HtcdsGender::Masculine,
        HtcdsGender::TransgenderFeminine,
        HtcdsGender::TransgenderMasculine,
        HtcdsGender::NonConforming,
        HtcdsGender::NonSpecifiedUnknown,
    ] {
        out.push(("prs_Gender", htcds_gender(g)));
    }
    for e in E::ALL {
        out.push(("vic_TypeOfExploitation", htcds_exploitation(e)));
    }
    for m in M::ALL {
        out.push(("vic_MethodsOfControl", htcds_means(m).unwrap_or("Other")));
    }
    use RecruiterRelation as R;
    for r in R::ALL {
        if let Some(v) = htcds_relation(r) {
            out.push(("vic_RelationshipToTrafficker", v));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Writes the same release with HTCDS v2.0 column names and values (plus `tandem_` columns
/// for Tandem-only data).
pub fn write_htcds_csv<W: Write>(
    records: &[ReleaseRecord],
    rules: &ReleaseRules,
    writer: W,
) -> Result<ExportSummary, ReleaseError> {
    rules.check()?;
    let parts = partition(records, rules);
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(writer);
    out.write_record(HTCDS_COLUMNS).map_err(csv_error)?;
    for r in &parts.released {
        out.write_record(htcds_row(r, false)).map_err(csv_error)?;
    }
    for r in &parts.pooled {
        out.write_record(htcds_row(r, true)).map_err(csv_error)?;
    }
    out.flush()?;
    Ok(ExportSummary {
        rows_written: parts.released.len() + parts.pooled.len(),
        rows_generalised: parts.pooled.len(),
        rows_withheld: parts.withheld,
    })
}

/// A CTDC-layout file as cells: header (63 variable names, terms cell dropped) and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtdcTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Reads a CTDC 2021-layout file (e.g. the excerpt), checking the header and cell counts.
pub fn read_ctdc<R: Read>(reader: R) -> Result<CtdcTable, ReleaseError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut records = rdr.records();
    let header = match records.next() {
        Some(r) => r.map_err(csv_error)?,
        None => {
            return Err(ReleaseError::Csv {
                line: 1,
                message: "empty file; expected the CTDC header".into(),
            });
        }
    };
    let first = header.get(0).unwrap_or("");
    if !first.starts_with("By using this data") {
        return Err(ReleaseError::Csv {
            line: 1,
            message: "the first header cell must be the CTDC terms-of-use sentence".into(),
        });
    }
    let names: Vec<String> = header.iter().skip(1).map(str::to_string).collect();
    if names != CTDC_COLUMNS {
        let at = names
            .iter()
            .zip(CTDC_COLUMNS)
            .position(|(a, b)| a != b)
            .unwrap_or(names.len().min(CTDC_COLUMNS.len()));
        return Err(ReleaseError::Csv {
            line: 1,
            message: format!(
                "header differs from the CTDC 2021 layout at variable {} (expected {:?})",
                at + 1,
                CTDC_COLUMNS.get(at).copied().unwrap_or("end of header")
            ),
        });
    }
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != CTDC_COLUMNS.len() + 1 {
            return Err(ReleaseError::Csv {
                line,
                message: format!(
                    "{} cells; a CTDC row has {} (an empty lead cell and 63 variables)",
                    record.len(),
                    CTDC_COLUMNS.len() + 1
                ),
            });
        }
        if !record.get(0).unwrap_or("").is_empty() {
            return Err(ReleaseError::Csv {
                line,
                message: "the first cell of a CTDC row must be empty".into(),
            });
        }
        rows.push(record.iter().skip(1).map(str::to_string).collect());
    }
    Ok(CtdcTable {
        header: names,
        rows,
    })
}

/// Writes a [`CtdcTable`] back in the same layout.
pub fn write_ctdc_table<W: Write>(table: &CtdcTable, writer: W) -> Result<(), ReleaseError> {
    let mut out = csv_writer(writer);
    let mut header = vec![CTDC_TERMS_CELL.to_string()];
    header.extend(table.header.iter().cloned());
    out.write_record(&header).map_err(csv_error)?;
    for row in &table.rows {
        out.write_record(std::iter::once("").chain(row.iter().map(String::as_str)))
            .map_err(csv_error)?;
    }
    out.flush()?;
    Ok(())
}
