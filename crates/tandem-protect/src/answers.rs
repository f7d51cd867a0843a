//! The answers to one screening, as read from an answers file or built by the interview.
//!
//! Demographic fields (gender, sexual orientation, gender identity, nationality) are kept for
//! the case record but are never an input of the rule: [`crate::identify`] reads only age (to
//! choose the child or adult list), exploitation types (to choose labour or sexual lists) and
//! indicator states.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::catalogue::Catalogue;

/// The state of one indicator. Only `present` counts; `unknown` never counts against anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorState {
    Present,
    Absent,
    /// Not asked, declined or not applicable.
    Unknown,
}

impl IndicatorState {
    pub fn parse(text: &str) -> Option<IndicatorState> {
        match text.trim().to_ascii_lowercase().as_str() {
            "present" => Some(IndicatorState::Present),
            "absent" => Some(IndicatorState::Absent),
            "unknown" => Some(IndicatorState::Unknown),
            _ => None,
        }
    }
}

/// The form of exploitation observed. It selects the labour or sexual list, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExploitationType {
    Labour,
    Sexual,
    /// Assessed on the labour lists (spec §1.2).
    ForcedCriminality,
    /// Assessed on the labour lists (spec §1.2).
    Begging,
    /// Forms the ILO/EC lists were not built for: assessed on both lists with a note.
    OrganRemoval,
    ForcedMarriage,
    IllegalAdoption,
    Surrogacy,
    /// Not yet clear: both lists are assessed.
    Unclear,
    Other,
}

impl ExploitationType {
    pub const ALL: [ExploitationType; 10] = [
        ExploitationType::Labour,
        ExploitationType::Sexual,
        ExploitationType::ForcedCriminality,
        ExploitationType::Begging,
        ExploitationType::OrganRemoval,
        ExploitationType::ForcedMarriage,
        ExploitationType::IllegalAdoption,
        ExploitationType::Surrogacy,
        ExploitationType::Unclear,
        ExploitationType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExploitationType::Labour => "labour",
            ExploitationType::Sexual => "sexual",
            ExploitationType::ForcedCriminality => "forced_criminality",
            ExploitationType::Begging => "begging",
            ExploitationType::OrganRemoval => "organ_removal",
            ExploitationType::ForcedMarriage => "forced_marriage",
            ExploitationType::IllegalAdoption => "illegal_adoption",
            ExploitationType::Surrogacy => "surrogacy",
            ExploitationType::Unclear => "unclear",
            ExploitationType::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ExploitationType> {
        let wanted = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        ExploitationType::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
    }

    /// Forms outside the design of the ILO/EC lists (spec §1.2).
    pub fn outside_list_design(self) -> bool {
        matches!(
            self,
            ExploitationType::OrganRemoval
                | ExploitationType::ForcedMarriage
                | ExploitationType::IllegalAdoption
                | ExploitationType::Surrogacy
        )
    }
}

/// The act element, recorded apart from the rule (a child moved without deception may fail
/// D1–D3, and the act is shown next to the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    Recruitment,
    Transport,
    Transfer,
    Harbouring,
    Receipt,
}

/// Where the person stands on cooperating with authorities. Kept only for their own legal
/// planning: no rule, guard or referral in Tandem reads it (spec §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CooperationStatus {
    NotDiscussed,
    Declined,
    Considering,
    Cooperating,
}

/// Offences or status breaches the person may have been compelled to commit (spec §2.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NonPunishmentAnswers {
    /// Made to commit criminal activities (linked to CD-06 / FC-07).
    pub criminal_activity: bool,
    pub irregular_entry_or_stay: bool,
    /// False or borrowed documents.
    pub document_fraud: bool,
    pub other_status_offence: bool,
}

/// The answers to one screening.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// Age when the assessed events began. Required unless `age_in_doubt`.
    #[serde(default)]
    pub age_at_start: Option<u32>,
    /// Age is in doubt: the person is presumed a child (Directive 2011/36/EU Art. 13(2)).
    #[serde(default)]
    pub age_in_doubt: bool,
    /// Exploitation observed; empty means unclear (both lists are assessed).
    #[serde(default)]
    pub exploitation: Vec<ExploitationType>,
    /// Indicator code (ILO/EC `DR-01`…, or forced-criminality `FC-01`…) → state. A code not
    /// listed is `unknown`.
    #[serde(default, deserialize_with = "deserialize_indicators")]
    pub indicators: BTreeMap<String, IndicatorState>,
    #[serde(default)]
    pub act_occurred: Vec<Act>,
    #[serde(default)]
    pub non_punishment: NonPunishmentAnswers,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub sexual_orientation: Option<String>,
    #[serde(default)]
    pub gender_identity: Option<String>,
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub cooperation_status: Option<CooperationStatus>,
}

/// One fault in the answers, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field, e.g. `age_at_start` or `indicators.DR-99`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Answers that cannot be assessed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswersError {
    /// The text is not valid JSON or does not have the expected shape.
    #[error("answers line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// One or more fields are wrong; each names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
}

impl AnswersError {
    /// The fields at fault (empty for syntax errors).
    pub fn fields(&self) -> Vec<&str> {
        match self {
            AnswersError::Syntax { .. } => Vec::new(),
            AnswersError::Invalid(errors) => errors.iter().map(|e| e.field.as_str()).collect(),
        }
    }
}

/// The oldest plausible age; anything above is a typing error.
const MAX_AGE: u32 = 120;

impl Answers {
    /// Reads an answers file (JSON) and validates it against the catalogue.
    pub fn from_json(text: &str, catalogue: &Catalogue) -> Result<Answers, AnswersError> {
        let answers: Answers = serde_json::from_str(text).map_err(|err| AnswersError::Syntax {
            line: err.line(),
            column: err.column(),
            message: strip_position(&err.to_string()),
        })?;
        answers.validate(catalogue)?;
        Ok(answers)
    }

    /// Checks the answers: age given (or in doubt), known indicator codes, no contradiction.
    pub fn validate(&self, catalogue: &Catalogue) -> Result<(), AnswersError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_string(),
                message,
            })
        };
        match self.age_at_start {
            None if !self.age_in_doubt => fail(
                "age_at_start",
                "missing; give the age when the events began, or set age_in_doubt to true".into(),
            ),
            Some(age) if age > MAX_AGE => fail(
                "age_at_start",
                format!("{age} is not a plausible age (0 to {MAX_AGE})"),
            ),
            _ => {}
        }
        let mut seen = Vec::new();
        for t in &self.exploitation {
            if seen.contains(t) {
                fail("exploitation", format!("{:?} is listed twice", t.as_str()));
            }
            seen.push(*t);
        }
        if self.exploitation.contains(&ExploitationType::Unclear) && self.exploitation.len() > 1 {
            fail(
                "exploitation",
                "\"unclear\" cannot be combined with a known exploitation type".into(),
            );
        }
        for code in self.indicators.keys() {
            if catalogue.indicator(code).is_none()
                && catalogue.forced_criminality_item(code).is_none()
            {
                fail(
                    &format!("indicators.{code}"),
                    "unknown indicator code (not in the catalogue)".into(),
                );
            }
        }
        // A confirmed forced-criminality item sets its ILO/EC indicators to present; the same
        // indicator recorded absent is a contradiction the interviewer must resolve.
        for item in &catalogue.forced_criminality {
            if self.state(&item.code) != IndicatorState::Present {
                continue;
            }
            for code in &item.sets {
                if self.state(code) == IndicatorState::Absent {
                    fail(
                        &format!("indicators.{code}"),
                        format!(
                            "recorded absent, but {} is present and implies it",
                            item.code
                        ),
                    );
                }
            }
        }
        let sexual_only = catalogue.indicators.iter().filter(|i| {
            i.tiers
                .iter()
                .all(|(l, t)| l.is_sexual() || t.tier.is_none())
        });
        let only_labour_like = !self.exploitation.is_empty()
            && self.exploitation.iter().all(|t| {
                matches!(
                    t,
                    ExploitationType::Labour
                        | ExploitationType::ForcedCriminality
                        | ExploitationType::Begging
                )
            });
        if only_labour_like {
            for indicator in sexual_only {
                if self.state(&indicator.code) == IndicatorState::Present {
                    fail(
                        &format!("indicators.{}", indicator.code),
                        format!(
                            "present, but it belongs to the sexual-exploitation lists only while \
                             exploitation is {}; add \"sexual\" or correct the indicator",
                            self.exploitation
                                .iter()
                                .map(|t| t.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
        }
        if self
            .exploitation
            .contains(&ExploitationType::ForcedCriminality)
            && self.state("CD-06") == IndicatorState::Absent
        {
            fail(
                "indicators.CD-06",
                "recorded absent, but exploitation includes forced_criminality".into(),
            );
        }
        if self.non_punishment.criminal_activity && self.state("CD-06") == IndicatorState::Absent {
            fail(
                "non_punishment.criminal_activity",
                "set, but indicator CD-06 (forced into criminal activities) is recorded absent"
                    .into(),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AnswersError::Invalid(errors))
        }
    }

    /// The state of a code; codes not recorded are `unknown`.
    pub fn state(&self, code: &str) -> IndicatorState {
        self.indicators
            .get(code)
            .copied()
            .unwrap_or(IndicatorState::Unknown)
    }
}

/// serde_json appends " at line L column C"; the error variant carries those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A JSON object may repeat a key; serde would keep the last silently, which would hide an
/// answer recorded both `present` and `absent`. Repeats are refused here, naming the code.
fn deserialize_indicators<'de, D>(
    deserializer: D,
) -> Result<BTreeMap<String, IndicatorState>, D::Error>
where
    D: Deserializer<'de>,
{
    struct IndicatorMap;
    impl<'de> Visitor<'de> for IndicatorMap {
        type Value = BTreeMap<String, IndicatorState>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of indicator code → \"present\" | \"absent\" | \"unknown\"")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((code, raw)) = map.next_entry::<String, String>()? {
                let state = IndicatorState::parse(&raw).ok_or_else(|| {
                    de::Error::custom(format!(
                        "indicators.{code}: {raw:?} is not a state; expected present, absent or unknown"
                    ))
                })?;
                if let Some(previous) = out.insert(code.clone(), state) {
                    let what = if previous == state {
                        "is given twice".to_string()
                    } else {
                        format!(
                            "is given twice with contradictory states ({} and {})",
                            as_word(previous),
                            as_word(state)
                        )
                    };
                    return Err(de::Error::custom(format!("indicators.{code}: {what}")));
                }
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(IndicatorMap)
}

fn as_word(state: IndicatorState) -> &'static str {
    match state {
        IndicatorState::Present => "present",
        IndicatorState::Absent => "absent",
        IndicatorState::Unknown => "unknown",
    }
}
