//! Evaluation harness: labelled name pairs (precision, recall, F1 at a threshold, broken down
//! by category, case group, schema and quality), perturbations of real list names (recall per
//! perturbation class), and the false-positive rate of non-listed people against an index.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;
use tandem_core::Entity;

use crate::error::MatchError;
use crate::index::CandidateIndex;
use crate::score::{self, MatchConfig, Subject};

pub use crate::perturb::{Perturbation, PerturbationClass, perturb};

/// One row of a labelled pairs file (`case_group,schema,name1,name2,is_match,quality,category,notes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelledPair {
    pub case_group: String,
    pub schema: String,
    pub name1: String,
    pub name2: String,
    pub is_match: bool,
    pub quality: String,
    pub category: String,
    pub notes: String,
    /// Line in the file (the header is line 1).
    pub line: u64,
}

const PAIR_COLUMNS: [&str; 8] = [
    "case_group",
    "schema",
    "name1",
    "name2",
    "is_match",
    "quality",
    "category",
    "notes",
];

/// Reads a labelled pairs CSV. `file` names the source in errors.
pub fn read_labelled_pairs<R: Read>(
    reader: R,
    file: &str,
) -> Result<Vec<LabelledPair>, MatchError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let fail = |line: u64, field: &str, message: String| MatchError::Input {
        file: file.to_string(),
        line,
        field: field.to_string(),
        message,
    };
    let headers = csv
        .headers()
        .map_err(|e| fail(1, "header", e.to_string()))?
        .clone();
    let mut columns = [0usize; 8];
    for (slot, name) in columns.iter_mut().zip(PAIR_COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| fail(1, name, "missing column".to_string()))?;
    }
    let mut pairs = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            fail(line, "record", e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |k: usize| record.get(columns[k]).unwrap_or("").to_string();
        let is_match = match get(4).trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            other => {
                return Err(fail(
                    line,
                    "is_match",
                    format!("expected true or false, found {other:?}"),
                ));
            }
        };
        for (k, field) in [(1, "schema"), (2, "name1"), (3, "name2")] {
            if get(k).trim().is_empty() {
                return Err(fail(line, field, "is empty".to_string()));
            }
        }
        pairs.push(LabelledPair {
            case_group: get(0),
            schema: get(1),
            name1: get(2),
            name2: get(3),
            is_match,
            quality: get(5),
            category: get(6),
            notes: get(7),
            line,
        });
    }
    Ok(pairs)
}

/// Builds the entity a name stands for: `schema` with `name` as its only property.
pub fn name_entity(schema: &str, id: &str, name: &str) -> Result<Entity, tandem_core::EntityError> {
    let mut entity = Entity::new(schema, id)?;
    entity.add("name", name)?;
    Ok(entity)
}

/// Scores a labelled pair the way the protocol says: `name1` is the query and `name2` the
/// candidate, both of the pair's schema, names only.
pub fn score_pair(
    pair: &LabelledPair,
    config: &MatchConfig,
    file: &str,
) -> Result<score::MatchScore, MatchError> {
    let subject = |id: &str, name: &str, field: &str| {
        let entity = name_entity(&pair.schema, id, name).map_err(|e| MatchError::Input {
            file: file.to_string(),
            line: pair.line,
            field: field.to_string(),
            message: e.to_string(),
        })?;
        Subject::from_entity(&entity)
    };
    let query = subject("query", &pair.name1, "name1")?;
    let candidate = subject("candidate", &pair.name2, "name2")?;
    Ok(score::score(&query, &candidate, config, 0.0))
}

/// True/false positives and negatives, with the rates they give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Metrics {
    fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
    }
}

/// The score one pair got.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairOutcome {
    pub line: u64,
    pub name1: String,
    pub name2: String,
    pub is_match: bool,
    pub score: f64,
    pub detail: String,
}

/// Precision, recall and F1 at a threshold, overall and per category, case group, schema and
/// quality (an empty category is reported as `uncategorised`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairsReport {
    pub threshold: f64,
    #[serde(flatten)]
    pub overall: Metrics,
    pub by_category: BTreeMap<String, Metrics>,
    pub by_case_group: BTreeMap<String, Metrics>,
    pub by_schema: BTreeMap<String, Metrics>,
    pub by_quality: BTreeMap<String, Metrics>,
    pub pairs: Vec<PairOutcome>,
}

/// Scores every pair and counts outcomes at `threshold` (a score at or above it is a match).
pub fn evaluate_pairs(
    pairs: &[LabelledPair],
    config: &MatchConfig,
    threshold: f64,
    file: &str,
) -> Result<PairsReport, MatchError> {
    let mut report = PairsReport {
        threshold,
        overall: Metrics::default(),
        by_category: BTreeMap::new(),
        by_case_group: BTreeMap::new(),
        by_schema: BTreeMap::new(),
        by_quality: BTreeMap::new(),
        pairs: Vec::with_capacity(pairs.len()),
    };
    for pair in pairs {
        let result = score_pair(pair, config, file)?;
        let predicted = result.score >= threshold;
        report.overall.add(predicted, pair.is_match);
        let category = if pair.category.is_empty() {
            "uncategorised"
        } else {
            pair.category.as_str()
        };
        for (map, key) in [
            (&mut report.by_category, category),
            (&mut report.by_case_group, pair.case_group.as_str()),
            (&mut report.by_schema, pair.schema.as_str()),
            (&mut report.by_quality, pair.quality.as_str()),
        ] {
            map.entry(key.to_string())
                .or_default()
                .add(predicted, pair.is_match);
        }
        let detail = result
            .explanations
            .get("name_match")
            .map(|e| e.detail.clone())
            .unwrap_or_default();
        report.pairs.push(PairOutcome {
            line: pair.line,
            name1: pair.name1.clone(),
            name2: pair.name2.clone(),
            is_match: pair.is_match,
            score: result.score,
            detail,
        });
    }
    Ok(report)
}

/// Recall of one perturbation class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassRecall {
    pub n: u64,
    /// The source entity among the results at or above the threshold.
    pub found: u64,
    /// The source entity ranked first.
    pub rank1: u64,
    pub recall: f64,
    pub rank1_rate: f64,
    /// Up to ten misses, for inspection.
    pub misses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerturbationReport {
    pub threshold: f64,
    pub by_class: BTreeMap<String, ClassRecall>,
}

/// Screens each perturbed name against `index` and reports, per class, how often the source
/// entity was found at or above `threshold` and how often it ranked first.
pub fn evaluate_perturbations(
    perturbations: &[Perturbation],
    index: &CandidateIndex,
    config: &MatchConfig,
    threshold: f64,
    limit: usize,
) -> PerturbationReport {
    use rayon::prelude::*;
    let outcomes: Vec<(PerturbationClass, bool, bool, String)> = perturbations
        .par_iter()
        .map(|p| {
            let query = name_entity(&p.schema, "perturbed", &p.perturbed)
                .ok()
                .and_then(|e| Subject::from_entity(&e).ok());
            let hits = query
                .map(|q| index.screen(&q, config, threshold, limit))
                .unwrap_or_default();
            let found = hits
                .iter()
                .any(|h| h.entity_id == p.entity_id && h.score.is_match);
            let rank1 = hits.first().is_some_and(|h| h.entity_id == p.entity_id);
            (
                p.class,
                found,
                rank1,
                format!("{} <- {}", p.perturbed, p.original),
            )
        })
        .collect();
    let mut by_class: BTreeMap<String, ClassRecall> = BTreeMap::new();
    for (class, found, rank1, label) in outcomes {
        let entry = by_class.entry(class.name().to_string()).or_default();
        entry.n += 1;
        entry.found += u64::from(found);
        entry.rank1 += u64::from(rank1);
        if !found && entry.misses.len() < 10 {
            entry.misses.push(label);
        }
    }
    for entry in by_class.values_mut() {
        entry.recall = entry.found as f64 / entry.n.max(1) as f64;
        entry.rank1_rate = entry.rank1 as f64 / entry.n.max(1) as f64;
    }
    PerturbationReport {
        threshold,
        by_class,
    }
}

/// Share of queries alerted, with a 95 % Wilson interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertRate {
    pub rows: u64,
    pub alerted: u64,
    pub rate: f64,
    pub per_1000: f64,
    pub wilson_low: f64,
    pub wilson_high: f64,
}

impl AlertRate {
    fn finish(&mut self) {
        let n = self.rows as f64;
        if n == 0.0 {
            return;
        }
        let p = self.alerted as f64 / n;
        self.rate = p;
        self.per_1000 = p * 1000.0;
        let z = 1.959_963_984_540_054f64;
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        // The interval holds the observed rate; rounding must not push it out at 0 or 1.
        self.wilson_low = (centre - half).clamp(0.0, p);
        self.wilson_high = (centre + half).clamp(p, 1.0);
    }
}

/// A query for the false-positive measurement, grouped by a label (e.g. its script).
#[derive(Debug, Clone)]
pub struct LabelledQuery {
    pub group: String,
    pub entity: Entity,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FalsePositiveReport {
    pub threshold: f64,
    #[serde(flatten)]
    pub overall: AlertRate,
    pub by_group: BTreeMap<String, AlertRate>,
    /// Up to twenty alerts, for inspection: query name, best candidate, score.
    pub examples: Vec<(String, String, f64)>,
}

/// One alert: query name, best candidate name, score.
type Alert = (String, String, f64);

/// Screens queries that should match nothing and counts those with any result at or above
/// `threshold`.
pub fn false_positive_rate(
    queries: &[LabelledQuery],
    index: &CandidateIndex,
    config: &MatchConfig,
    threshold: f64,
) -> FalsePositiveReport {
    use rayon::prelude::*;
    let outcomes: Vec<(&str, Option<Alert>)> = queries
        .par_iter()
        .map(|q| {
            let alert = Subject::from_entity(&q.entity).ok().and_then(|subject| {
                let hits = index.screen(&subject, config, threshold, 1);
                hits.into_iter()
                    .next()
                    .filter(|h| h.score.is_match)
                    .map(|h| {
                        let name = h
                            .score
                            .explanations
                            .get("name_match")
                            .map(|e| e.candidate.clone())
                            .unwrap_or_else(|| h.entity_id.clone());
                        (q.entity.caption().to_string(), name, h.score.score)
                    })
            });
            (q.group.as_str(), alert)
        })
        .collect();
    let mut overall = AlertRate::default();
    let mut by_group: BTreeMap<String, AlertRate> = BTreeMap::new();
    let mut examples = Vec::new();
    for (group, alert) in outcomes {
        let alerted = alert.is_some();
        for rate in [&mut overall, by_group.entry(group.to_string()).or_default()] {
            rate.rows += 1;
            rate.alerted += u64::from(alerted);
        }
        if let Some(example) = alert
            && examples.len() < 20
        {
            examples.push(example);
        }
    }
    overall.finish();
    by_group.values_mut().for_each(AlertRate::finish);
    FalsePositiveReport {
        threshold,
        overall,
        by_group,
        examples,
    }
}

/// A stable pseudo-random position of an id in a seeded sample: sorting by it and taking the
/// first n draws the same sample on every machine.
pub fn sample_key(seed: u64, id: &str) -> u64 {
    let mut h = seed ^ 0xCBF2_9CE4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// The writing system a name is mostly written in (by letters), for per-script reporting:
/// Latin, Cyrillic, Greek, Arabic, Hebrew, CJK, Hangul, Devanagari, Thai or Other.
pub fn script_label(name: &str) -> &'static str {
    use crate::text::{self, Script};
    let cleaned = text::clean(name);
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for word in text::words(&cleaned) {
        let label = match word.script {
            Script::Latin => "Latin",
            Script::Cyrillic => "Cyrillic",
            Script::Greek => "Greek",
            Script::Arabic => "Arabic",
            Script::Hebrew => "Hebrew",
            Script::Han | Script::Kana => "CJK",
            Script::Hangul => "Hangul",
            Script::Common | Script::Other => {
                if word
                    .original
                    .chars()
                    .any(|c| ('\u{0900}'..='\u{097F}').contains(&c))
                {
                    "Devanagari"
                } else if word
                    .original
                    .chars()
                    .any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c))
                {
                    "Thai"
                } else {
                    "Other"
                }
            }
        };
        *counts.entry(label).or_default() += word.original.chars().count();
    }
    counts
        .into_iter()
        .max_by_key(|(label, n)| (*n, std::cmp::Reverse(*label)))
        .map_or("Other", |(label, _)| label)
}

/// Reads synthetic negatives (columns `full_name` and, with `qualifiers`, `date_of_birth` and
/// `nationality` as an English country name) as Person queries grouped by script. Rows whose
/// name is empty are errors naming the line; unparsable birth dates and unknown countries are
/// left out of the query, as a screening client would.
pub fn read_negatives<R: Read>(
    reader: R,
    file: &str,
    qualifiers: bool,
) -> Result<Vec<LabelledQuery>, MatchError> {
    let fail = |line: u64, field: &str, message: String| MatchError::Input {
        file: file.to_string(),
        line,
        field: field.to_string(),
        message,
    };
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| fail(1, "header", e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let name_column =
        column("full_name").ok_or_else(|| fail(1, "full_name", "missing column".to_string()))?;
    let (dob_column, nationality_column) = (column("date_of_birth"), column("nationality"));
    let mut out = Vec::new();
    for (i, record) in csv.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            fail(line, "record", e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let name = record.get(name_column).unwrap_or("").trim();
        let mut entity = Entity::new("Person", format!("negative-{}", i + 1))
            .map_err(|e| fail(line, "full_name", e.to_string()))?;
        if name.is_empty() || !entity.add_lenient("name", name) {
            return Err(fail(line, "full_name", "is empty".to_string()));
        }
        if qualifiers {
            if let Some(dob) = dob_column.and_then(|c| record.get(c)) {
                entity.add_lenient("birthDate", dob.trim());
            }
            if let Some(code) = nationality_column
                .and_then(|c| record.get(c))
                .and_then(tandem_core::country::lookup)
            {
                entity.add_lenient("nationality", code);
            }
        }
        out.push(LabelledQuery {
            group: script_label(name).to_string(),
            entity,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_and_reports_bad_rows() {
        let text = "case_group,schema,name1,name2,is_match,quality,category,notes\n\
                    g,Person,\"GHERMAY, Ermias\",Ermias Ghermay,true,STRONG,,\n\
                    g,Person,Ermias Alem,Ermias Ghermay,maybe,STRONG,,\n";
        let err = read_labelled_pairs(text.as_bytes(), "pairs.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "pairs.csv, line 3, field is_match: expected true or false, found \"maybe\""
        );
        let good = text.lines().take(2).collect::<Vec<_>>().join("\n");
        let pairs = read_labelled_pairs(good.as_bytes(), "pairs.csv").unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].name1, "GHERMAY, Ermias");
        assert_eq!(pairs[0].line, 2);
        let missing = "case_group,schema,name1\n";
        assert!(
            read_labelled_pairs(missing.as_bytes(), "x.csv")
                .unwrap_err()
                .to_string()
                .contains("field name2: missing column")
        );
    }

    #[test]
    fn reads_negatives_by_script() {
        let text = "full_name,date_of_birth,nationality\n\
                    Andrea Vásquez,1990-04-01,Colombia\n\
                    حسین موسوی,1985,Iran\n\
                    静 林,not a date,Atlantis\n";
        let queries = read_negatives(text.as_bytes(), "neg.csv", true).unwrap();
        let groups: Vec<&str> = queries.iter().map(|q| q.group.as_str()).collect();
        assert_eq!(groups, ["Latin", "Arabic", "CJK"]);
        assert_eq!(queries[0].entity.get("nationality"), ["co"]);
        assert_eq!(queries[1].entity.get("birthDate"), ["1985"]);
        // A bad date or an unknown country is left out of the query, not an error.
        assert!(queries[2].entity.get("birthDate").is_empty());
        assert!(queries[2].entity.get("nationality").is_empty());
        let names_only = read_negatives(text.as_bytes(), "neg.csv", false).unwrap();
        assert!(names_only[0].entity.get("birthDate").is_empty());
        let empty = "full_name\nAli\n  \n";
        assert_eq!(
            read_negatives(empty.as_bytes(), "neg.csv", false)
                .unwrap_err()
                .to_string(),
            "neg.csv, line 3, field full_name: is empty"
        );
    }

    #[test]
    fn metrics_count_outcomes() {
        let mut m = Metrics::default();
        for (p, a) in [
            (true, true),
            (true, true),
            (true, false),
            (false, true),
            (false, false),
        ] {
            m.add(p, a);
        }
        assert_eq!((m.tp, m.fp, m.tn, m.fn_), (2, 1, 1, 1));
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn wilson_interval() {
        let mut r = AlertRate {
            rows: 100,
            alerted: 10,
            ..AlertRate::default()
        };
        r.finish();
        assert!((r.rate - 0.1).abs() < 1e-12);
        assert!((r.wilson_low - 0.0552).abs() < 1e-3, "{}", r.wilson_low);
        assert!((r.wilson_high - 0.1744).abs() < 1e-3, "{}", r.wilson_high);
    }
}
