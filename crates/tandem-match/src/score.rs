//! Scoring a query entity against a candidate entity, with explanations.
//!
//! The shape follows nomenklatura's logic-v2, which yente clients expect: the score is the
//! best *main* feature (names, weak aliases, identifiers) times its weight; when one fired,
//! *qualifiers* (birth dates, countries, gender) add their soft penalties; the result is
//! clamped to [0, 1]. Lists disagree about birth dates and nationalities of one person, so no
//! qualifier alone may turn a strong name match into no match; together (another birth year,
//! another nationality, another gender) they may, up to a cap.
//! Every feature that fired is explained with its score, weight, the values it used and a
//! readable detail; names also carry their part alignment.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tandem_core::value::PartialDate;
use tandem_core::{Entity, Model, PropertyType};

use crate::align::{self, AlignedPart, NameComparison, NameConfig};
use crate::error::MatchError;
use crate::hash::FastMap;
use crate::name::{self, AnalyzedName, NameKind};

/// Feature weights and limits. Field names follow nomenklatura's feature names.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchConfig {
    pub name: NameConfig,
    pub name_match: f64,
    pub weak_alias_match: f64,
    pub identifier_match: f64,
    /// Identifiers that name one thing worldwide (IMO, LEI, INN, OGRN, BIC, ISIN…).
    pub strong_identifier_match: f64,
    pub dob_year_disjoint: f64,
    pub dob_day_disjoint: f64,
    pub country_mismatch: f64,
    pub gender_mismatch: f64,
    /// The most all qualifiers together may take off. A disagreement lists have about one
    /// person (birth dates a few years or a day/month swap apart, another nationality, another
    /// gender) takes at most 0.25, so that none alone turns a strong name match into no match;
    /// several together, or birth dates beyond what lists disagree by, describe someone else.
    pub max_qualifier_penalty: f64,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            name: NameConfig::default(),
            name_match: 1.0,
            weak_alias_match: 0.8,
            identifier_match: 0.85,
            strong_identifier_match: 0.95,
            dob_year_disjoint: -0.15,
            dob_day_disjoint: -0.25,
            country_mismatch: -0.2,
            gender_mismatch: -0.2,
            max_qualifier_penalty: 0.5,
        }
    }
}

/// One name of a subject.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectName {
    pub name: AnalyzedName,
    /// From `weakAlias`: counts at reduced weight.
    pub weak: bool,
}

/// An identifier, normalised to upper-case letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub property: String,
    pub value: String,
    pub original: String,
}

/// An entity read for matching: analysed names, identifiers, birth dates, countries, gender.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub id: String,
    /// The schema's name, as the model has it.
    pub schema: &'static str,
    pub kind: NameKind,
    pub names: Vec<SubjectName>,
    pub identifiers: Vec<Identifier>,
    pub birth_dates: Vec<PartialDate>,
    /// Country codes at state level (`ua-cri` counts as `ua`).
    pub countries: Vec<String>,
    pub gender: Option<String>,
}

/// Person-name part properties: given names, then the family name.
const GIVEN_NAME_PROPERTIES: &[&str] = &["firstName", "secondName", "middleName", "fatherName"];
const COUNTRY_PROPERTIES: &[&str] = &[
    "nationality",
    "citizenship",
    "country",
    "birthCountry",
    "jurisdiction",
];
/// Identifier properties that classify rather than identify.
const NON_IDENTIFYING: &[&str] = &[
    "programId",
    "okvedCode",
    "kppCode",
    "ticker",
    "brightQueryOrgId",
];
const STRONG_IDENTIFIERS: &[&str] = &[
    "imoNumber",
    "mmsi",
    "leiCode",
    "innCode",
    "ogrnCode",
    "swiftBic",
    "bikCode",
    "isinCode",
    "uniqueEntityId",
    "npiCode",
    "wikidataId",
    "permId",
    "icaoCode",
    "bic",
    "iban",
];

/// Alternative names written in one value: `Al-Qa'ida/Islamic Army`. A slash between single
/// letters (`A/S`, `M/V`) is no separator. For persons, a full name in mixed case followed by
/// a comma and a nickname (the UN's `Ermias Ghermay, Guro`) also stands for the name alone;
/// lists that write `LAST, First` put the family name in capitals.
fn for_each_alternative(text: &str, kind: NameKind, mut each: impl FnMut(&str)) {
    let wordy = |p: &str| {
        p.split(|c: char| !c.is_alphanumeric())
            .any(|w| w.chars().count() >= 3)
    };
    if text.contains('/') && text.split('/').map(str::trim).all(wordy) {
        text.split('/').map(str::trim).for_each(&mut each);
    } else {
        each(text);
    }
    if kind == NameKind::Person
        && let Some((full, nickname)) = text.split_once(',')
        && !nickname.contains(',')
        && full.split_whitespace().count() >= 2
        && nickname.split_whitespace().count() == 1
        && full.chars().any(char::is_lowercase)
    {
        each(full.trim());
    }
}

/// What matching reads of a schema, looked up once per schema rather than per entity: the
/// kind of its names and the type of each of its properties.
struct SchemaReading {
    name: &'static str,
    kind: NameKind,
    property_types: FastMap<&'static str, PropertyType>,
}

fn schema_reading(name: &str) -> Option<&'static SchemaReading> {
    static READINGS: OnceLock<FastMap<&'static str, SchemaReading>> = OnceLock::new();
    READINGS
        .get_or_init(|| {
            Model::get()
                .schemata()
                .map(|schema| {
                    let reading = SchemaReading {
                        name: schema.name.as_str(),
                        kind: NameKind::of_schema(schema),
                        property_types: schema
                            .properties
                            .iter()
                            .map(|(name, property)| (name.as_str(), property.kind))
                            .collect(),
                    };
                    (schema.name.as_str(), reading)
                })
                .collect()
        })
        .get(name)
}

fn normalise_identifier(value: &str) -> String {
    value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Subject {
    /// Reads an entity. Fails when its schema is unknown or it has no name to match on.
    pub fn from_entity(entity: &Entity) -> Result<Subject, MatchError> {
        let schema = schema_reading(&entity.schema).ok_or_else(|| MatchError::UnknownSchema {
            id: entity.id.clone(),
            schema: entity.schema.clone(),
        })?;
        let kind = schema.kind;
        let mut names: Vec<SubjectName> = Vec::new();
        let mut identifiers = Vec::new();
        let push = |analysed: AnalyzedName, weak: bool, names: &mut Vec<SubjectName>| {
            if !analysed.is_matchable() {
                return;
            }
            // Only the same words are the same name: aliases that merely run together alike
            // ("Ali Akbar" and "Aliakbar") stay apart, each with its own parts.
            match names
                .iter_mut()
                .find(|n| n.name.text.eq_ignore_ascii_case(&analysed.text))
            {
                // The same name as a strong and a weak alias is strong.
                Some(existing) => existing.weak &= weak,
                None => names.push(SubjectName {
                    name: analysed,
                    weak,
                }),
            }
        };
        // One pass over the properties: an entity has few, and looking each wanted one up
        // by name costs more than the names' analysis of a short name.
        let mut given: [Option<&str>; GIVEN_NAME_PROPERTIES.len()] =
            [None; GIVEN_NAME_PROPERTIES.len()];
        let mut family: Option<&str> = None;
        let mut birth_dates = Vec::new();
        let mut countries: Vec<String> = Vec::new();
        let mut gender: Option<&str> = None;
        for (property, values) in &entity.properties {
            let first = values.first().map(String::as_str);
            match property.as_str() {
                "birthDate" => {
                    birth_dates.extend(values.iter().filter_map(|d| PartialDate::parse(d)));
                }
                "gender" => gender = first,
                "lastName" => family = first,
                p if COUNTRY_PROPERTIES.contains(&p) => countries.extend(
                    values
                        .iter()
                        .map(|code| code.split('-').next().unwrap_or(code).to_ascii_lowercase()),
                ),
                p => {
                    if let Some(slot) = GIVEN_NAME_PROPERTIES
                        .iter()
                        .position(|g| *g == p)
                        .and_then(|i| given.get_mut(i))
                    {
                        *slot = first;
                    }
                }
            }
            let Some(property_type) = schema.property_types.get(property.as_str()) else {
                continue;
            };
            match property_type {
                PropertyType::Name => {
                    let weak = property == "weakAlias";
                    for value in values {
                        for_each_alternative(value, kind, |alternative| {
                            push(name::analyze(alternative, kind), weak, &mut names);
                        });
                    }
                }
                PropertyType::Identifier if !NON_IDENTIFYING.contains(&property.as_str()) => {
                    for value in values {
                        let normalised = normalise_identifier(value);
                        // Very short numbers match by accident.
                        if normalised.len() >= 5 {
                            identifiers.push(Identifier {
                                property: property.clone(),
                                value: normalised,
                                original: value.clone(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        if kind == NameKind::Person {
            let given: Vec<&str> = given.into_iter().flatten().collect();
            let family: Vec<&str> = family.into_iter().collect();
            if !family.is_empty() || !given.is_empty() {
                push(
                    name::analyze_person_parts(&given, &family),
                    false,
                    &mut names,
                );
            }
        }
        if names.is_empty() {
            return Err(MatchError::NoNames {
                id: entity.id.clone(),
                schema: entity.schema.clone(),
            });
        }
        countries.sort_unstable();
        countries.dedup();
        Ok(Subject {
            id: entity.id.clone(),
            schema: schema.name,
            kind,
            names,
            identifiers,
            birth_dates,
            countries,
            gender: gender.map(str::to_string),
        })
    }
}

/// One feature's part in a score, in yente's explanation shape plus weight and alignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub score: f64,
    pub weight: f64,
    pub detail: String,
    pub query: String,
    pub candidate: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alignment: Vec<AlignedPart>,
}

/// A score with its explanations. Serialises to yente's `score`, `match`, `explanations`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchScore {
    pub score: f64,
    #[serde(rename = "match")]
    pub is_match: bool,
    pub explanations: BTreeMap<&'static str, Explanation>,
}

/// Whether entities of these two schemata can be the same thing (one is the other or
/// descends from it: a LegalEntity can be a Person, a Person cannot be a Company).
pub fn schemata_compatible(a: &str, b: &str) -> bool {
    let model = Model::get();
    match (model.schema(a), model.schema(b)) {
        (Some(x), Some(y)) => x.is_a(&y.name) || y.is_a(&x.name),
        _ => false,
    }
}

struct BestName<'a> {
    comparison: NameComparison,
    query: &'a AnalyzedName,
    candidate: &'a AnalyzedName,
}

fn best_names<'a>(
    query: &'a Subject,
    candidate: &'a Subject,
    config: &NameConfig,
    weak: bool,
) -> Option<BestName<'a>> {
    let mut best: Option<BestName> = None;
    for q in &query.names {
        for c in &candidate.names {
            if (q.weak || c.weak) != weak {
                continue;
            }
            let comparison = align::compare(&q.name, &c.name, config);
            if best
                .as_ref()
                .is_none_or(|b| comparison.score > b.comparison.score)
            {
                let done = comparison.score >= 1.0;
                best = Some(BestName {
                    comparison,
                    query: &q.name,
                    candidate: &c.name,
                });
                if done {
                    break;
                }
            }
        }
        if best.as_ref().is_some_and(|b| b.comparison.score >= 1.0) {
            break;
        }
    }
    best
}

fn join<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Scores `candidate` as a match for `query`.
pub fn score(
    query: &Subject,
    candidate: &Subject,
    config: &MatchConfig,
    threshold: f64,
) -> MatchScore {
    let mut explanations = BTreeMap::new();
    // Subjects carry schema names from the model, and a schema is compatible with itself.
    if query.schema != candidate.schema && !schemata_compatible(query.schema, candidate.schema) {
        explanations.insert(
            "schema_mismatch",
            Explanation {
                score: 1.0,
                weight: 0.0,
                detail: format!("a {} cannot be a {}", query.schema, candidate.schema),
                query: query.schema.to_string(),
                candidate: candidate.schema.to_string(),
                alignment: Vec::new(),
            },
        );
        return MatchScore {
            score: 0.0,
            is_match: false,
            explanations,
        };
    }

    let mut main = 0.0f64;
    for (feature, weak, weight) in [
        ("name_match", false, config.name_match),
        ("weak_alias_match", true, config.weak_alias_match),
    ] {
        if let Some(best) = best_names(query, candidate, &config.name, weak)
            && best.comparison.score > 0.0
        {
            main = main.max(best.comparison.score * weight);
            let alignment = best.comparison.alignment(best.query, best.candidate);
            explanations.insert(
                feature,
                Explanation {
                    score: best.comparison.score,
                    weight,
                    detail: align::detail(&alignment),
                    query: best.query.text.clone(),
                    candidate: best.candidate.text.clone(),
                    alignment,
                },
            );
        }
    }

    if let Some((q, c)) = query.identifiers.iter().find_map(|q| {
        candidate
            .identifiers
            .iter()
            .find(|c| c.value == q.value)
            .map(|c| (q, c))
    }) {
        let strong = STRONG_IDENTIFIERS.contains(&q.property.as_str())
            || STRONG_IDENTIFIERS.contains(&c.property.as_str());
        let weight = if strong {
            config.strong_identifier_match
        } else {
            config.identifier_match
        };
        main = main.max(weight);
        explanations.insert(
            "identifier_match",
            Explanation {
                score: 1.0,
                weight,
                detail: format!(
                    "{} {} = {} {}",
                    q.property, q.original, c.property, c.original
                ),
                query: q.original.clone(),
                candidate: c.original.clone(),
                alignment: Vec::new(),
            },
        );
    }

    let mut penalty = 0.0f64;
    if main > 0.0 {
        let mut qualify = |feature: &'static str,
                           score: f64,
                           weight: f64,
                           detail: String,
                           q: String,
                           c: String| {
            penalty += score * weight;
            explanations.insert(
                feature,
                Explanation {
                    score,
                    weight,
                    detail,
                    query: q,
                    candidate: c,
                    alignment: Vec::new(),
                },
            );
        };
        if let Some(dates) = compare_birth_dates(&query.birth_dates, &candidate.birth_dates) {
            let (q, c) = (join(&query.birth_dates), join(&candidate.birth_dates));
            match dates {
                DateConflict::Years {
                    distance,
                    beyond_disagreement,
                } => {
                    qualify(
                        "dob_year_disjoint",
                        (f64::from(distance) / f64::from(LIST_DISAGREEMENT_YEARS)).min(1.0),
                        config.dob_year_disjoint,
                        format!("birth years {distance} apart"),
                        q.clone(),
                        c.clone(),
                    );
                    // As in logic-v2, dates of different years differ in the day as well; only
                    // within the span lists disagree by is that left out, so that no such
                    // disagreement alone turns a strong name match into no match.
                    if beyond_disagreement {
                        qualify(
                            "dob_day_disjoint",
                            1.0,
                            config.dob_day_disjoint,
                            format!("birth dates {distance} years apart: two people"),
                            q,
                            c,
                        );
                    }
                }
                DateConflict::Days { swapped } => qualify(
                    "dob_day_disjoint",
                    if swapped { 0.5 } else { 1.0 },
                    config.dob_day_disjoint,
                    if swapped {
                        "same birth year, day and month swapped".to_string()
                    } else {
                        "same birth year, different days".to_string()
                    },
                    q,
                    c,
                ),
            }
        }
        if !query.countries.is_empty()
            && !candidate.countries.is_empty()
            && !query
                .countries
                .iter()
                .any(|c| candidate.countries.contains(c))
        {
            qualify(
                "country_mismatch",
                1.0,
                config.country_mismatch,
                "no country in common".to_string(),
                join(&query.countries),
                join(&candidate.countries),
            );
        }
        if let (Some(q), Some(c)) = (&query.gender, &candidate.gender)
            && q != c
            && q != "other"
            && c != "other"
        {
            qualify(
                "gender_mismatch",
                1.0,
                config.gender_mismatch,
                "different genders".to_string(),
                q.clone(),
                c.clone(),
            );
        }
    }
    let total = (main + penalty.max(-config.max_qualifier_penalty)).clamp(0.0, 1.0);
    MatchScore {
        score: total,
        is_match: total >= threshold,
        explanations,
    }
}

/// The widest gap between birth years that lists give for one person (an approximate year
/// against a range, as for Ghermay: about 1980 at the UN, 1972–1977 at OFAC). Full dates
/// further apart than this are not a disagreement about one person.
const LIST_DISAGREEMENT_YEARS: u16 = 4;

/// Birth years further apart than this, even given as years or ranges, belong to two people.
const DIFFERENT_PEOPLE_YEARS: u16 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateConflict {
    /// No year in common: the smallest distance between years, and whether that is beyond
    /// what lists disagree by (full dates more than [`LIST_DISAGREEMENT_YEARS`] apart, or
    /// any dates more than [`DIFFERENT_PEOPLE_YEARS`]).
    Years {
        distance: u16,
        beyond_disagreement: bool,
    },
    /// A year in common, but the full dates differ (possibly by a day/month swap).
    Days { swapped: bool },
}

/// Compares two sets of birth dates at the precision both give. Year ranges arrive as one date
/// per year, so a set overlaps a range when any year does.
fn compare_birth_dates(q: &[PartialDate], c: &[PartialDate]) -> Option<DateConflict> {
    if q.is_empty() || c.is_empty() {
        return None;
    }
    let distance = q
        .iter()
        .flat_map(|a| c.iter().map(move |b| a.year.abs_diff(b.year)))
        .min()?;
    let full = |d: &&PartialDate| d.day.is_some() && d.month.is_some();
    let (qd, cd): (Vec<&PartialDate>, Vec<&PartialDate>) = (
        q.iter().filter(full).collect(),
        c.iter().filter(full).collect(),
    );
    if distance > 0 {
        return Some(DateConflict::Years {
            distance,
            beyond_disagreement: distance > DIFFERENT_PEOPLE_YEARS
                || (distance > LIST_DISAGREEMENT_YEARS && !qd.is_empty() && !cd.is_empty()),
        });
    }
    if qd.is_empty() || cd.is_empty() {
        return None;
    }
    let same_day =
        |a: &PartialDate, b: &PartialDate| a.year == b.year && a.month == b.month && a.day == b.day;
    if qd.iter().any(|a| cd.iter().any(|b| same_day(a, b))) {
        return None;
    }
    let swapped = qd.iter().any(|a| {
        cd.iter()
            .any(|b| a.year == b.year && a.month == b.day && a.day == b.month)
    });
    Some(DateConflict::Days { swapped })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, props: &[(&str, &str)]) -> Subject {
        let mut e = Entity::new("Person", id).unwrap();
        for (p, v) in props {
            e.add(p, v).unwrap();
        }
        Subject::from_entity(&e).unwrap()
    }

    fn run(q: &Subject, c: &Subject) -> MatchScore {
        score(q, c, &MatchConfig::default(), 0.7)
    }

    #[test]
    fn aliases_on_both_sides() {
        // Ermias Alem (UN LYi.021) meets GHERMAY, Ermias (OFAC 24004) only through the UN alias.
        let un = person(
            "un-lyi021",
            &[
                ("name", "Ermias Alem"),
                ("alias", "Ermias Ghermay"),
                ("weakAlias", "Ermies Ghermay"),
            ],
        );
        let ofac = person(
            "ofac-24004",
            &[
                ("name", "Ermias GHERMAY"),
                ("firstName", "Ermias"),
                ("lastName", "GHERMAY"),
            ],
        );
        let result = run(&un, &ofac);
        assert!(result.is_match);
        let name = &result.explanations["name_match"];
        assert_eq!(name.query, "Ermias Ghermay");
        assert!(name.score >= 0.99);
        assert!(result.explanations.contains_key("weak_alias_match"));
        let primary_only = person("un-lyi021", &[("name", "Ermias Alem")]);
        assert!(!run(&primary_only, &ofac).is_match);
    }

    #[test]
    fn identifiers_are_strong_evidence() {
        let q = person(
            "q",
            &[("name", "Ahmed Dabbashi"), ("passportNumber", "LY53FP76")],
        );
        let c = person(
            "c",
            &[
                ("name", "Ahmad Oumar Imhamad al-Fitouri"),
                ("idNumber", "LY53FP76"),
            ],
        );
        let result = run(&q, &c);
        let id = &result.explanations["identifier_match"];
        assert_eq!(
            (id.query.as_str(), id.candidate.as_str()),
            ("LY53FP76", "LY53FP76")
        );
        assert!((result.score - 0.85).abs() < 1e-9, "{}", result.score);
    }

    #[test]
    fn birth_dates_country_and_gender_are_soft() {
        let base = [("name", "Mohamed KOSHLAF")];
        let q = person(
            "q",
            &[base[0], ("birthDate", "1985-12-02"), ("nationality", "ly")],
        );
        let swapped = person(
            "c",
            &[base[0], ("birthDate", "1985-02-12"), ("nationality", "ly")],
        );
        let r = run(&q, &swapped);
        assert_eq!(r.explanations["dob_day_disjoint"].score, 0.5);
        assert!((r.score - 0.875).abs() < 1e-9, "{}", r.score);
        // OFAC's alternative date contains the UN one: no penalty.
        let alt = person(
            "c",
            &[
                base[0],
                ("birthDate", "1985-12-12"),
                ("birthDate", "1985-12-02"),
            ],
        );
        assert_eq!(run(&q, &alt).score, 1.0);
        let years = person(
            "c",
            &[base[0], ("birthDate", "1972"), ("birthDate", "1977")],
        );
        let r = run(&q, &years);
        assert_eq!(r.explanations["dob_year_disjoint"].score, 1.0);
        assert!(!r.explanations.contains_key("dob_day_disjoint"));
        // Full dates two years apart: a disagreement between lists, the years only.
        let near = person("c", &[base[0], ("birthDate", "1983-05-01")]);
        let r = run(&q, &near);
        assert!(!r.explanations.contains_key("dob_day_disjoint"));
        assert!((r.score - (1.0 - 0.5 * 0.15)).abs() < 1e-9, "{}", r.score);
        // Full dates decades apart: someone else, the days differ too (as in logic-v2).
        let far = person("c", &[base[0], ("birthDate", "1961-01-08")]);
        let r = run(&q, &far);
        assert_eq!(r.explanations["dob_day_disjoint"].score, 1.0);
        assert!((r.score - 0.6).abs() < 1e-9, "{}", r.score);
        // So are years more than a decade apart, however precise.
        let decades = person("c", &[base[0], ("birthDate", "1960")]);
        assert!((run(&q, &decades).score - 0.6).abs() < 1e-9);
        let everything = person(
            "c",
            &[
                base[0],
                ("birthDate", "1960"),
                ("nationality", "er"),
                ("gender", "female"),
            ],
        );
        let q = person(
            "q",
            &[
                base[0],
                ("birthDate", "1985-12-02"),
                ("nationality", "ly"),
                ("gender", "male"),
            ],
        );
        let r = run(&q, &everything);
        assert!(
            r.explanations.contains_key("country_mismatch")
                && r.explanations.contains_key("gender_mismatch")
        );
        assert!(
            (r.score - 0.5).abs() < 1e-9,
            "penalties together are capped: {}",
            r.score
        );
        // Alone, none of them turns a strong name match into no match (S-11).
        let config = MatchConfig::default();
        for penalty in [
            config.dob_year_disjoint,
            config.dob_day_disjoint,
            config.country_mismatch,
            config.gender_mismatch,
        ] {
            assert!(0.95 + penalty >= 0.7, "{penalty}");
        }
        // A territory is in its state.
        let crimea = person("c", &[base[0], ("country", "ua-cri")]);
        let ukraine = person("q", &[base[0], ("nationality", "ua")]);
        assert!(
            !run(&ukraine, &crimea)
                .explanations
                .contains_key("country_mismatch")
        );
    }

    #[test]
    fn schemata_must_be_compatible() {
        let q = person("q", &[("name", "Siemens")]);
        let mut company = Entity::new("Company", "c").unwrap();
        company.add("name", "Siemens").unwrap();
        let c = Subject::from_entity(&company).unwrap();
        let r = run(&q, &c);
        assert_eq!(r.score, 0.0);
        assert!(r.explanations.contains_key("schema_mismatch"));
        assert!(schemata_compatible("LegalEntity", "Person"));
        assert!(schemata_compatible("Company", "Organization"));
        assert!(!schemata_compatible("Vessel", "Person"));
    }

    #[test]
    fn serialises_to_yente_shape() {
        let q = person("q", &[("name", "Ermias Ghermay")]);
        let c = person("c", &[("name", "GHERMAY, Ermias")]);
        let json = serde_json::to_value(run(&q, &c)).unwrap();
        assert_eq!(json["match"], true);
        assert_eq!(json["score"], 1.0);
        let name = &json["explanations"]["name_match"];
        for key in ["score", "detail", "query", "candidate"] {
            assert!(name.get(key).is_some(), "{key}");
        }
    }

    fn alternatives(text: &str, kind: NameKind) -> Vec<String> {
        let mut out = Vec::new();
        for_each_alternative(text, kind, |a| out.push(a.to_string()));
        out
    }

    #[test]
    fn names_need_no_schema_to_be_missing() {
        let e = Entity::new("Person", "p").unwrap();
        assert!(matches!(
            Subject::from_entity(&e),
            Err(MatchError::NoNames { .. })
        ));
        assert_eq!(
            alternatives("Al-Qa'ida/Islamic Army", NameKind::Organization),
            ["Al-Qa'ida", "Islamic Army"]
        );
        assert_eq!(
            alternatives("Bowne A/S", NameKind::Organization),
            ["Bowne A/S"]
        );
        assert_eq!(
            alternatives("Ermias Ghermay, Guro", NameKind::Person),
            ["Ermias Ghermay, Guro", "Ermias Ghermay"]
        );
        assert_eq!(
            alternatives("HERNANDEZ SALAS, Ofelia", NameKind::Person),
            ["HERNANDEZ SALAS, Ofelia"]
        );
    }
}
