//! Identification: the exact decision rule of the protection spec (§1.2), one evaluation per
//! list applied.
//!
//! The evaluator ([`evaluate_list`]) sees only a list and indicator states; the list selector
//! ([`select_lists`]) sees only age, age doubt and exploitation types. Nothing else in the
//! answers can reach the result, which is what makes the invariance property hold by
//! construction (and a property test checks it).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::answers::{Act, Answers, AnswersError, ExploitationType, IndicatorState};
use crate::catalogue::{Catalogue, CatalogueRef, DimensionId, ListId, Tier, TierStatus};

/// The wording of a met rule. Never a legal label, never "victim".
pub const RULE_MET_TEXT: &str = "Indicators consistent with trafficking (rule met)";
pub const RULE_NOT_MET_TEXT: &str = "Rule not met on the information recorded";
pub const RULE_INCOMPLETE_TEXT: &str = "Rule not met; information incomplete";
/// Shown with forms the ILO/EC lists were not built for.
pub const OUTSIDE_DESIGN_NOTE: &str =
    "form outside the design of the ILO/EC lists; professional assessment required";

/// The dimension rule: two strong; one strong plus one medium or weak; three medium; two
/// medium plus one weak. Counts are of distinct indicators recorded `present`.
pub fn dimension_positive(strong: usize, medium: usize, weak: usize) -> bool {
    strong >= 2 || (strong >= 1 && medium + weak >= 1) || medium >= 3 || (medium >= 2 && weak >= 1)
}

/// The combination rule over positive dimensions. Adults: (D1 ∨ D2 ∨ D3) ∧ D4 ∧ (D5 ∨ D6);
/// children: (D1 ∨ D2 ∨ D3) ∧ D4.
pub fn combination_met(list: ListId, positive: &BTreeSet<DimensionId>) -> bool {
    use DimensionId::*;
    let recruitment = [D1, D2, D3].iter().any(|d| positive.contains(d));
    let exploitation = positive.contains(&D4);
    let destination = [D5, D6].iter().any(|d| positive.contains(d));
    recruitment && exploitation && (list.is_child() || destination)
}

/// Which lists apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSelection {
    pub lists: Vec<ListId>,
    /// The child lists apply (under 18 when the events began, or age in doubt).
    pub child: bool,
    /// Child lists chosen because age is in doubt (presumption of minority).
    pub child_presumed: bool,
    pub notes: Vec<String>,
}

/// Chooses the lists from age, age doubt and exploitation types only (spec §1.2).
pub fn select_lists(
    age_at_start: Option<u32>,
    age_in_doubt: bool,
    exploitation: &[ExploitationType],
) -> ListSelection {
    let child_presumed = age_in_doubt;
    let child = age_in_doubt || age_at_start.is_some_and(|a| a < 18);
    let mut labour = false;
    let mut sexual = false;
    let mut notes = Vec::new();
    if exploitation.is_empty() {
        labour = true;
        sexual = true;
    }
    for t in exploitation {
        match t {
            ExploitationType::Labour
            | ExploitationType::ForcedCriminality
            | ExploitationType::Begging => labour = true,
            ExploitationType::Sexual => sexual = true,
            ExploitationType::Unclear | ExploitationType::Other => {
                labour = true;
                sexual = true;
            }
            outside if outside.outside_list_design() => {
                labour = true;
                sexual = true;
                let note = format!("{}: {OUTSIDE_DESIGN_NOTE}", outside.as_str());
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            _ => {}
        }
    }
    if child_presumed {
        notes.push(
            "age in doubt: presumed a child (Directive 2011/36/EU Art. 13(2)); the child result \
             is the one shown"
                .into(),
        );
    }
    let mut lists = Vec::new();
    if labour {
        lists.push(ListId::of(child, false));
    }
    if sexual {
        lists.push(ListId::of(child, true));
    }
    ListSelection {
        lists,
        child,
        child_presumed,
        notes,
    }
}

/// The status of one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionStatus {
    Positive,
    NotPositive,
    /// Not positive, but confirming some unknown indicators would make it positive.
    NotPositiveUnknownsRemain,
}

/// Counts of distinct present indicators by tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierCounts {
    #[serde(rename = "S")]
    pub strong: usize,
    #[serde(rename = "M")]
    pub medium: usize,
    #[serde(rename = "W")]
    pub weak: usize,
}

/// One dimension in one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionResult {
    pub positive: bool,
    pub status: DimensionStatus,
    pub counts: TierCounts,
    /// The indicators that counted (present in this list), catalogue order.
    pub present: Vec<String>,
    /// Indicators of this dimension still unknown in this list.
    pub unknown: Vec<String>,
}

/// The one overall line of an evaluation (spec §1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    RuleMet,
    RuleNotMet,
    InformationIncomplete,
}

impl Outcome {
    pub fn text(self) -> &'static str {
        match self {
            Outcome::RuleMet => RULE_MET_TEXT,
            Outcome::RuleNotMet => RULE_NOT_MET_TEXT,
            Outcome::InformationIncomplete => RULE_INCOMPLETE_TEXT,
        }
    }
}

/// Open topics that would resolve one unmet dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub dimension: DimensionId,
    pub dimension_name: String,
    /// The smallest sets of unknown indicators whose confirmation would make the dimension
    /// positive (at most [`MAX_FOLLOW_UP_SETS`], deterministic order).
    pub indicator_sets: Vec<Vec<String>>,
    /// Open, non-leading topics for a follow-up conversation.
    pub topics: Vec<String>,
}

/// Cap on listed minimal sets: with many unknowns the number of combinations explodes, and the
/// interviewer needs topics, not an exhaustive list.
pub const MAX_FOLLOW_UP_SETS: usize = 12;

/// One list's evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub list: ListId,
    pub rule_met: bool,
    pub outcome: Outcome,
    /// The one overall line, in words.
    pub summary: String,
    pub dimensions: BTreeMap<DimensionId, DimensionResult>,
    /// Positive dimensions when the rule is met; unmet ones otherwise.
    pub positive_dimensions: Vec<DimensionId>,
    pub unmet_dimensions: Vec<DimensionId>,
    pub follow_up: Vec<FollowUp>,
    /// Present indicators whose tier in this list is `unverified` or `disputed` (the UI warns).
    pub uncertain_tiers: Vec<String>,
}

/// A finding on the ILO forced-labour view (unweighted, derived, no extra questions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForcedLabourFinding {
    pub code: String,
    pub label: String,
    /// The present indicators it was derived from.
    pub from: Vec<String>,
}

/// Grounds of the non-punishment flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonPunishmentGround {
    CompelledOffence,
    IrregularEntryOrStay,
    DocumentFraud,
    OtherStatusOffence,
}

/// The non-punishment flag (spec §2.2): shown as a banner; kept out of every export to
/// prosecution or immigration bodies unless the person consents and a supervisor approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonPunishmentFlag {
    pub flagged: bool,
    pub grounds: Vec<NonPunishmentGround>,
    /// Legal anchors, for the banner.
    pub anchors: Vec<String>,
}

/// Referral is offered to everyone, whatever the result and whatever the person's stance on
/// cooperating with authorities (spec §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralOffer {
    pub offered: bool,
    pub depends_on_cooperation: bool,
    pub depends_on_result: bool,
    pub message: String,
}

/// The full assessment of one answers set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub evaluations: Vec<Evaluation>,
    pub catalogue: CatalogueRef,
    pub selection: ListSelection,
    /// The act element, shown next to the result.
    pub act_occurred: Vec<Act>,
    /// Forced-criminality items confirmed (they set ILO/EC indicators, they are not counted).
    pub forced_criminality: Vec<String>,
    pub forced_labour: Vec<ForcedLabourFinding>,
    pub non_punishment: NonPunishmentFlag,
    pub referral: ReferralOffer,
    /// Reminders that travel with every result.
    pub notes: Vec<String>,
}

/// Indicator states after forced-criminality items have set their mapped indicators.
pub fn effective_states(
    catalogue: &Catalogue,
    answers: &Answers,
) -> BTreeMap<String, IndicatorState> {
    let mut states: BTreeMap<String, IndicatorState> = answers
        .indicators
        .iter()
        .filter(|(code, _)| catalogue.indicator(code).is_some())
        .map(|(c, s)| (c.clone(), *s))
        .collect();
    for item in &catalogue.forced_criminality {
        if answers.state(&item.code) == IndicatorState::Present {
            for code in &item.sets {
                states.insert(code.clone(), IndicatorState::Present);
            }
        }
    }
    states
}

/// Evaluates one list from indicator states alone.
pub fn evaluate_list(
    catalogue: &Catalogue,
    list: ListId,
    states: &BTreeMap<String, IndicatorState>,
) -> Evaluation {
    let state = |code: &str| states.get(code).copied().unwrap_or(IndicatorState::Unknown);
    let mut dimensions = BTreeMap::new();
    let mut uncertain_tiers = Vec::new();
    // Per dimension: present counts and unknown indicators grouped by tier.
    let mut open: BTreeMap<DimensionId, (TierCounts, [Vec<String>; 3])> = BTreeMap::new();
    for dim in DimensionId::ALL {
        let mut counts = TierCounts::default();
        let mut present = Vec::new();
        let mut unknown = Vec::new();
        let mut unknown_by_tier: [Vec<String>; 3] = Default::default();
        for (indicator, tier) in catalogue.indicators_in(dim, list) {
            match state(&indicator.code) {
                IndicatorState::Present => {
                    match tier {
                        Tier::Strong => counts.strong += 1,
                        Tier::Medium => counts.medium += 1,
                        Tier::Weak => counts.weak += 1,
                    }
                    present.push(indicator.code.clone());
                    let cell = indicator.tiers[&list];
                    if cell.status != TierStatus::Verified || cell.doubtful {
                        uncertain_tiers.push(indicator.code.clone());
                    }
                }
                IndicatorState::Unknown => {
                    unknown.push(indicator.code.clone());
                    unknown_by_tier[tier_index(tier)].push(indicator.code.clone());
                }
                IndicatorState::Absent => {}
            }
        }
        let positive = dimension_positive(counts.strong, counts.medium, counts.weak);
        let reachable = dimension_positive(
            counts.strong + unknown_by_tier[0].len(),
            counts.medium + unknown_by_tier[1].len(),
            counts.weak + unknown_by_tier[2].len(),
        );
        let status = if positive {
            DimensionStatus::Positive
        } else if reachable {
            DimensionStatus::NotPositiveUnknownsRemain
        } else {
            DimensionStatus::NotPositive
        };
        dimensions.insert(
            dim,
            DimensionResult {
                positive,
                status,
                counts,
                present,
                unknown,
            },
        );
        open.insert(dim, (counts, unknown_by_tier));
    }

    let positive: BTreeSet<DimensionId> = dimensions
        .iter()
        .filter(|(_, r)| r.positive)
        .map(|(d, _)| *d)
        .collect();
    let reachable: BTreeSet<DimensionId> = dimensions
        .iter()
        .filter(|(_, r)| r.status != DimensionStatus::NotPositive)
        .map(|(d, _)| *d)
        .collect();
    let rule_met = combination_met(list, &positive);
    let unmet_dimensions = unmet(list, &positive);
    let outcome = if rule_met {
        Outcome::RuleMet
    } else if combination_met(list, &reachable) {
        Outcome::InformationIncomplete
    } else {
        Outcome::RuleNotMet
    };
    let mut follow_up = Vec::new();
    if outcome == Outcome::InformationIncomplete {
        for dim in &unmet_dimensions {
            if dimensions[dim].status != DimensionStatus::NotPositiveUnknownsRemain {
                continue;
            }
            let (counts, unknown_by_tier) = &open[dim];
            let (indicator_sets, in_some_set) = minimal_sets(*counts, unknown_by_tier);
            let mut topics: Vec<String> = Vec::new();
            for (indicator, _) in catalogue.indicators_in(*dim, list) {
                if in_some_set.contains(&indicator.code) && !topics.contains(&indicator.topic) {
                    topics.push(indicator.topic.clone());
                }
            }
            follow_up.push(FollowUp {
                dimension: *dim,
                dimension_name: catalogue
                    .dimension(*dim)
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
                indicator_sets,
                topics,
            });
        }
    }
    let summary = match outcome {
        Outcome::RuleMet => format!(
            "{} in list {list}; positive dimensions: {}",
            outcome.text(),
            join_dims(&positive)
        ),
        _ => format!(
            "{} in list {list}; unmet dimensions: {}",
            outcome.text(),
            join_dims(&unmet_dimensions)
        ),
    };
    Evaluation {
        list,
        rule_met,
        outcome,
        summary,
        dimensions,
        positive_dimensions: positive.into_iter().collect(),
        unmet_dimensions: unmet_dimensions.into_iter().collect(),
        follow_up,
        uncertain_tiers,
    }
}

fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::Strong => 0,
        Tier::Medium => 1,
        Tier::Weak => 2,
    }
}

fn join_dims<'a>(dims: impl IntoIterator<Item = &'a DimensionId>) -> String {
    let names: Vec<&str> = dims.into_iter().map(|d| d.as_str()).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The dimensions whose absence keeps the rule from being met: every dimension of a group
/// that has no positive member.
fn unmet(list: ListId, positive: &BTreeSet<DimensionId>) -> BTreeSet<DimensionId> {
    use DimensionId::*;
    let mut groups: Vec<&[DimensionId]> = vec![&[D1, D2, D3], &[D4]];
    if !list.is_child() {
        groups.push(&[D5, D6]);
    }
    groups
        .into_iter()
        .filter(|g| !g.iter().any(|d| positive.contains(d)))
        .flat_map(|g| g.iter().copied())
        .collect()
}

/// The smallest sets of unknown indicators whose confirmation makes a dimension positive,
/// capped at [`MAX_FOLLOW_UP_SETS`], and every indicator that belongs to at least one of them.
fn minimal_sets(
    counts: TierCounts,
    unknown: &[Vec<String>; 3],
) -> (Vec<Vec<String>>, BTreeSet<String>) {
    // Three additions always suffice when anything does (three medium is the widest need).
    for size in 1..=3usize {
        let mut shapes = Vec::new();
        // Strong-first, so the listed sets favour the fewest and clearest topics.
        for ds in (0..=size.min(unknown[0].len())).rev() {
            for dm in 0..=(size - ds).min(unknown[1].len()) {
                let dw = size - ds - dm;
                if dw > unknown[2].len() {
                    continue;
                }
                if dimension_positive(counts.strong + ds, counts.medium + dm, counts.weak + dw) {
                    shapes.push([ds, dm, dw]);
                }
            }
        }
        if shapes.is_empty() {
            continue;
        }
        let mut members = BTreeSet::new();
        let mut sets = Vec::new();
        for shape in &shapes {
            for (t, &n) in shape.iter().enumerate() {
                if n > 0 {
                    members.extend(unknown[t].iter().cloned());
                }
            }
            let picks: Vec<Vec<Vec<String>>> = (0..3)
                .map(|t| combinations(&unknown[t], shape[t]))
                .collect();
            'outer: for a in &picks[0] {
                for b in &picks[1] {
                    for c in &picks[2] {
                        if sets.len() >= MAX_FOLLOW_UP_SETS {
                            break 'outer;
                        }
                        let mut set: Vec<String> = a.iter().chain(b).chain(c).cloned().collect();
                        set.sort();
                        sets.push(set);
                    }
                }
            }
        }
        return (sets, members);
    }
    (Vec::new(), BTreeSet::new())
}

/// All `n`-element combinations of `items`, in order (n ≤ 3, so this stays small).
fn combinations(items: &[String], n: usize) -> Vec<Vec<String>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for (i, first) in items.iter().enumerate() {
        for mut rest in combinations(&items[i + 1..], n - 1) {
            rest.insert(0, first.clone());
            out.push(rest);
        }
    }
    out
}

/// Legal anchors of the non-punishment principle, for the banner.
const NON_PUNISHMENT_ANCHORS: [&str; 3] = [
    "Directive 2011/36/EU Art. 8",
    "Council of Europe Convention CETS 197 Art. 26",
    "ILO Protocol P029 Art. 4(2)",
];

/// Validates the answers and assesses them: one evaluation per list applied.
pub fn identify(catalogue: &Catalogue, answers: &Answers) -> Result<Assessment, AnswersError> {
    answers.validate(catalogue)?;
    let selection = select_lists(
        answers.age_at_start,
        answers.age_in_doubt,
        &answers.exploitation,
    );
    let states = effective_states(catalogue, answers);
    let evaluations = selection
        .lists
        .iter()
        .map(|&list| evaluate_list(catalogue, list, &states))
        .collect();

    let present: BTreeSet<&str> = states
        .iter()
        .filter(|(_, s)| **s == IndicatorState::Present)
        .map(|(c, _)| c.as_str())
        .collect();
    let forced_labour = catalogue
        .forced_labour
        .iter()
        .filter_map(|fl| {
            let from: Vec<String> = catalogue
                .indicators
                .iter()
                .filter(|i| present.contains(i.code.as_str()))
                .filter(|i| {
                    fl.derived_codes.contains(&i.code)
                        || fl.derived_dimensions.contains(&i.dimension)
                })
                .map(|i| i.code.clone())
                .collect();
            (!from.is_empty()).then(|| ForcedLabourFinding {
                code: fl.code.clone(),
                label: fl.label.clone(),
                from,
            })
        })
        .collect();
    let forced_criminality = catalogue
        .forced_criminality
        .iter()
        .filter(|fc| answers.state(&fc.code) == IndicatorState::Present)
        .map(|fc| fc.code.clone())
        .collect();

    let np = &answers.non_punishment;
    let mut grounds = Vec::new();
    if np.criminal_activity || present.contains("CD-06") {
        grounds.push(NonPunishmentGround::CompelledOffence);
    }
    if np.irregular_entry_or_stay {
        grounds.push(NonPunishmentGround::IrregularEntryOrStay);
    }
    if np.document_fraud {
        grounds.push(NonPunishmentGround::DocumentFraud);
    }
    if np.other_status_offence {
        grounds.push(NonPunishmentGround::OtherStatusOffence);
    }
    let non_punishment = NonPunishmentFlag {
        flagged: !grounds.is_empty(),
        grounds,
        anchors: NON_PUNISHMENT_ANCHORS
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };

    let mut notes = selection.notes.clone();
    notes.push(
        "For the interviewer and case worker only: not a legal determination, never shown to \
         the person. A rule not met never closes a case, lowers a priority or removes access to \
         services."
            .into(),
    );
    Ok(Assessment {
        evaluations,
        catalogue: catalogue.reference(),
        selection,
        act_occurred: answers.act_occurred.clone(),
        forced_criminality,
        forced_labour,
        non_punishment,
        referral: ReferralOffer {
            offered: true,
            depends_on_cooperation: false,
            depends_on_result: false,
            message: "Offer referral to support services. Help does not depend on answering, on \
                      this result, or on cooperating with the authorities."
                .into(),
        },
        notes,
    })
}
