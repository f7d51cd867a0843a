//! The screening interview for frontline staff (spec §2.1): a trauma-informed, ordered flow.
//!
//! Consent comes first (after a safety check), the interpreter is noted, breaks are offered,
//! the account is invited with open prompts, and yes/no items exist only in the interviewer's
//! coding panel. Every coding question maps to catalogue codes; nothing is asked that the
//! assessment does not need. The flow never branches on gender, sexual orientation, gender
//! identity or nationality: [`InterviewFlow::standard`] takes only the catalogue, and
//! [`needed_questions`] only the indicator states.
//!
//! Responses come back as a flat map of question id → text (what an HTML form posts), and
//! [`answers_from_responses`] turns them into [`Answers`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answers::{Answers, AnswersError, ExploitationType, IndicatorState};
use crate::catalogue::{Catalogue, DimensionId};
use crate::identify::{DimensionStatus, effective_states, evaluate_list, select_lists};

/// What a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Safety check, setting, interpreter, possible child.
    Before,
    Consent,
    ImmediateNeeds,
    /// One phase of the account: open prompts first, then the coding panel.
    Account,
    Options,
    Closing,
}

/// How a question is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum AnswerKind {
    /// yes / no / not known (coded as present / absent / unknown).
    YesNoUnknown,
    /// A tick box; posted as `yes` when ticked.
    Confirm,
    /// A whole number.
    Number { min: u32, max: u32 },
    /// One or more of the listed values.
    Choice {
        options: Vec<ChoiceOption>,
        multiple: bool,
    },
    /// Short text (e.g. interpreter's language). Never mandatory about abuse.
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

/// One question of the flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Form field name; stable across catalogue revisions for indicator questions
    /// (`ind_DR-01`).
    pub id: String,
    /// Plain words, for an interviewer without training in the tool.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub kind: AnswerKind,
    /// Catalogue codes this question codes (empty for procedural questions).
    pub codes: Vec<String>,
    /// The flow cannot finish without it (only consent, age or age doubt, immediate needs).
    pub required: bool,
    /// Shown in the interviewer's coding panel, not asked as a yes/no to the person.
    pub coding_panel: bool,
}

/// One step of the flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    pub kind: StepKind,
    pub title: String,
    /// What the interviewer does and says in this step.
    pub guidance: Vec<String>,
    /// Open, non-leading prompts to invite the person's own account.
    pub prompts: Vec<String>,
    pub questions: Vec<Question>,
    /// Dimensions this step's coding questions serve.
    pub dimensions: Vec<DimensionId>,
}

/// The whole flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewFlow {
    pub catalogue_version: String,
    pub steps: Vec<Step>,
    /// Shown throughout: pause, break reminder every 30 minutes, quick exit.
    pub standing_reminders: Vec<String>,
    pub break_reminder_minutes: u32,
}

/// Responses as posted by a form: question id → value (multiple choices comma-separated).
pub type Responses = BTreeMap<String, String>;

/// A response that cannot be turned into answers; names the question.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{question}: {message}")]
pub struct ResponseError {
    pub question: String,
    pub message: String,
}

/// The procedural record of an interview (kept on the screening record, not in the answers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewRecord {
    pub consent_interview: bool,
    pub consent_storage: bool,
    pub interpreter_used: bool,
    pub interpreter_language: Option<String>,
    pub interpreter_confidentiality_recorded: bool,
    pub guardian_called: bool,
    pub immediate_needs: Vec<String>,
    pub breaks_offered: bool,
}

/// Question ids of the procedural questions.
pub mod ids {
    pub const SAFE_SETTING: &str = "before_safe_setting";
    pub const POSSIBLE_CHILD: &str = "before_possible_child";
    pub const GUARDIAN_CALLED: &str = "before_guardian_called";
    pub const INTERPRETER_USED: &str = "before_interpreter_used";
    pub const INTERPRETER_LANGUAGE: &str = "before_interpreter_language";
    pub const INTERPRETER_CONFIDENTIALITY: &str = "before_interpreter_confidentiality";
    pub const CONSENT_INTERVIEW: &str = "consent_interview";
    pub const CONSENT_STORAGE: &str = "consent_storage";
    pub const IMMEDIATE_NEEDS: &str = "needs_immediate";
    pub const AGE_AT_START: &str = "age_at_start";
    pub const AGE_IN_DOUBT: &str = "age_in_doubt";
    pub const EXPLOITATION: &str = "exploitation";
    pub const BREAKS_OFFERED: &str = "breaks_offered";
    pub const NP_IRREGULAR: &str = "np_irregular_entry_or_stay";
    pub const NP_DOCUMENTS: &str = "np_document_fraud";
    pub const NP_OTHER: &str = "np_other_status_offence";
    /// Prefix of indicator coding questions: `ind_DR-01`, `ind_FC-07`.
    pub const INDICATOR_PREFIX: &str = "ind_";
}

impl InterviewFlow {
    /// The standard flow for a catalogue.
    pub fn standard(catalogue: &Catalogue) -> InterviewFlow {
        use DimensionId::*;
        let mut steps = vec![
            Step {
                id: "before".into(),
                kind: StepKind::Before,
                title: "Before you start".into(),
                guidance: strings(&[
                    "Check that nobody who came with the person, or who may control them, can see or hear the conversation.",
                    "Find a private place. Ask whether the person prefers to speak with a woman or a man.",
                    "Use an interpreter from outside the person's own community network, and record their confidentiality undertaking.",
                    "If the person may be under 18, treat them as a child: call a guardian or child-protection officer and use a child-friendly setting.",
                    "Have the local support contacts ready before you begin.",
                ]),
                prompts: Vec::new(),
                questions: vec![
                    procedural(
                        ids::SAFE_SETTING,
                        "The setting is private and nobody controlling the person is nearby",
                        AnswerKind::Confirm,
                        false,
                    ),
                    procedural(
                        ids::POSSIBLE_CHILD,
                        "Could the person be under 18?",
                        AnswerKind::YesNoUnknown,
                        false,
                    ),
                    procedural(
                        ids::GUARDIAN_CALLED,
                        "A guardian or child-protection officer has been called",
                        AnswerKind::Confirm,
                        false,
                    ),
                    procedural(
                        ids::INTERPRETER_USED,
                        "An interpreter is helping",
                        AnswerKind::Confirm,
                        false,
                    ),
                    procedural(
                        ids::INTERPRETER_LANGUAGE,
                        "Language used with the interpreter",
                        AnswerKind::Text,
                        false,
                    ),
                    procedural(
                        ids::INTERPRETER_CONFIDENTIALITY,
                        "The interpreter has signed the confidentiality undertaking",
                        AnswerKind::Confirm,
                        false,
                    ),
                ],
                dimensions: Vec::new(),
            },
            Step {
                id: "consent".into(),
                kind: StepKind::Consent,
                title: "Consent".into(),
                guidance: strings(&[
                    "Explain who you are, why you are talking, what will be written down, who will see it and for how long.",
                    "Explain the limits of confidentiality.",
                    "Say clearly: the person can pause, skip any question, stop at any time and withdraw consent later.",
                    "Say clearly: help does not depend on answering questions or on cooperating with the police.",
                    "For a child: the child's agreement and a guardian's consent.",
                ]),
                prompts: Vec::new(),
                questions: vec![
                    procedural(
                        ids::CONSENT_INTERVIEW,
                        "The person agrees to talk with me",
                        AnswerKind::Confirm,
                        true,
                    ),
                    procedural(
                        ids::CONSENT_STORAGE,
                        "The person agrees that what they say is recorded and stored",
                        AnswerKind::Confirm,
                        true,
                    ),
                ],
                dimensions: Vec::new(),
            },
            Step {
                id: "needs".into(),
                kind: StepKind::ImmediateNeeds,
                title: "Immediate needs".into(),
                guidance: strings(&[
                    "Before any account: medical care, safety, food, rest, contact with family.",
                ]),
                prompts: strings(&["Is there anything you need right now?"]),
                questions: vec![procedural(
                    ids::IMMEDIATE_NEEDS,
                    "What does the person need now?",
                    AnswerKind::Choice {
                        options: options(&[
                            ("medical", "Medical care"),
                            ("safety", "Safety"),
                            ("food", "Food or water"),
                            ("rest", "Rest"),
                            ("family_contact", "Contact with family"),
                            ("none", "Nothing right now"),
                        ]),
                        multiple: true,
                    },
                    true,
                )],
                dimensions: Vec::new(),
            },
        ];
        let phases: [Phase; 6] = [
            (
                "account_before",
                "Life before leaving",
                &[
                    "Can you tell me a little about your life before you left?",
                    "What made you think about leaving?",
                ],
                &[D3],
                &[],
            ),
            (
                "account_recruitment",
                "How it started",
                &[
                    "How did you find this job or this opportunity?",
                    "What were you told about it?",
                ],
                &[D1],
                &["FC-01"],
            ),
            (
                "account_journey",
                "The journey",
                &[
                    "How did the journey happen?",
                    "Who arranged and paid for the different parts?",
                ],
                &[D2],
                &["FC-02"],
            ),
            (
                "account_work",
                "Work and living",
                &[
                    "What was a usual day like?",
                    "How were you paid, and what happened with the money?",
                ],
                &[D4],
                &["FC-07", "FC-08"],
            ),
            (
                "account_control",
                "Leaving and contact with others",
                &[
                    "Could you leave when you wanted to? What would have happened?",
                    "Could you contact your family or friends?",
                ],
                &[D5, D6],
                &["FC-03", "FC-04", "FC-05", "FC-06"],
            ),
            (
                "account_exit",
                "How it ended",
                &["How did you get out of that situation?"],
                &[],
                &[],
            ),
        ];
        for (id, title, prompts, dims, fc) in phases {
            let mut questions = Vec::new();
            if id == "account_before" {
                questions.push(procedural(
                    ids::AGE_AT_START,
                    "Age of the person when this began (best estimate)",
                    AnswerKind::Number { min: 0, max: 120 },
                    false,
                ));
                questions.push(procedural(
                    ids::AGE_IN_DOUBT,
                    "Age is uncertain (the person will be treated as a child)",
                    AnswerKind::Confirm,
                    false,
                ));
            }
            if id == "account_work" {
                questions.push(Question {
                    id: ids::EXPLOITATION.into(),
                    text:
                        "What kind of exploitation was it? Tick all that apply, or 'not clear yet'."
                            .into(),
                    help: Some("This only chooses which indicator list is used.".into()),
                    kind: AnswerKind::Choice {
                        options: ExploitationType::ALL
                            .iter()
                            .map(|t| ChoiceOption {
                                value: t.as_str().into(),
                                label: exploitation_label(*t).into(),
                            })
                            .collect(),
                        multiple: true,
                    },
                    codes: Vec::new(),
                    required: false,
                    coding_panel: true,
                });
            }
            for dim in dims {
                for indicator in catalogue.indicators.iter().filter(|i| i.dimension == *dim) {
                    questions.push(Question {
                        id: format!("{}{}", ids::INDICATOR_PREFIX, indicator.code),
                        text: indicator.question.clone(),
                        help: Some(indicator.label.clone()),
                        kind: AnswerKind::YesNoUnknown,
                        codes: vec![indicator.code.clone()],
                        required: false,
                        coding_panel: true,
                    });
                }
            }
            for code in fc {
                if let Some(item) = catalogue.forced_criminality_item(code) {
                    let mut codes = vec![item.code.clone()];
                    codes.extend(item.sets.iter().cloned());
                    questions.push(Question {
                        id: format!("{}{}", ids::INDICATOR_PREFIX, item.code),
                        text: item.question.clone(),
                        help: Some(item.theme.clone()),
                        kind: AnswerKind::YesNoUnknown,
                        codes,
                        required: false,
                        coding_panel: true,
                    });
                }
            }
            if id == "account_control" {
                for (qid, text) in [
                    (
                        ids::NP_IRREGULAR,
                        "Did the person enter or stay in the country without permission because of this situation?",
                    ),
                    (
                        ids::NP_DOCUMENTS,
                        "Was the person made to use false or borrowed documents?",
                    ),
                    (
                        ids::NP_OTHER,
                        "Was the person made to break any other rule about status or residence?",
                    ),
                ] {
                    questions.push(Question {
                        id: qid.into(),
                        text: text.into(),
                        help: Some("Non-punishment: recorded to protect the person, never passed to prosecution or immigration without consent.".into()),
                        kind: AnswerKind::YesNoUnknown,
                        codes: Vec::new(),
                        required: false,
                        coding_panel: true,
                    });
                }
            }
            steps.push(Step {
                id: id.into(),
                kind: StepKind::Account,
                title: title.into(),
                guidance: strings(&[
                    "Let the person tell it in their own words first. Do not read the coding questions aloud.",
                    "Code only what the person has said. Leave anything not discussed as 'not known'.",
                    "Do not ask for graphic details or sexual history; they are not needed.",
                ]),
                prompts: strings(prompts),
                questions,
                dimensions: dims.to_vec(),
            });
        }
        steps.push(Step {
            id: "options".into(),
            kind: StepKind::Options,
            title: "Options and support".into(),
            guidance: strings(&[
                "A recovery and reflection period of at least 30 days (CETS 197 Art. 13).",
                "Assistance and shelter, a residence permit (Directive 2004/81/EC), asylum, voluntary return, legal aid, compensation.",
                "Support is offered whatever the person decides about the police.",
                "Do not promise what cannot be kept.",
            ]),
            prompts: strings(&["What would help you most now?"]),
            questions: Vec::new(),
            dimensions: Vec::new(),
        });
        steps.push(Step {
            id: "closing".into(),
            kind: StepKind::Closing,
            title: "Closing".into(),
            guidance: strings(&[
                "Summarise what happens next and when you will be in touch.",
                "Agree a safety plan and give emergency numbers.",
                "Arrange your own debrief.",
            ]),
            prompts: strings(&["Is there anything you want to ask me?"]),
            questions: vec![procedural(
                ids::BREAKS_OFFERED,
                "Breaks were offered during the conversation",
                AnswerKind::Confirm,
                false,
            )],
            dimensions: Vec::new(),
        });
        InterviewFlow {
            catalogue_version: catalogue.version().to_string(),
            steps,
            standing_reminders: strings(&[
                "Pause at any time; offer a break at least every 30 minutes.",
                "Quick exit closes this page at once.",
                "One account only: with consent it is passed on, so the person need not tell it again.",
            ]),
            break_reminder_minutes: 30,
        }
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.steps
            .iter()
            .flat_map(|s| s.questions.iter())
            .find(|q| q.id == id)
    }
}

/// Coding questions whose answer could still change an outcome: those of dimensions not yet
/// positive in any list applied. Reads only indicator states, age and exploitation types.
pub fn needed_questions<'f>(
    flow: &'f InterviewFlow,
    catalogue: &Catalogue,
    answers: &Answers,
) -> Vec<&'f Question> {
    let selection = select_lists(
        answers.age_at_start,
        answers.age_in_doubt,
        &answers.exploitation,
    );
    let states = effective_states(catalogue, answers);
    let mut open_codes = std::collections::BTreeSet::new();
    for list in &selection.lists {
        let evaluation = evaluate_list(catalogue, *list, &states);
        for result in evaluation.dimensions.values() {
            if result.status == DimensionStatus::NotPositiveUnknownsRemain {
                open_codes.extend(result.unknown.iter().cloned());
            }
        }
    }
    flow.steps
        .iter()
        .flat_map(|s| s.questions.iter())
        .filter(|q| q.coding_panel && !q.codes.is_empty())
        .filter(|q| {
            let own = &q.codes[0];
            states.get(own).copied().unwrap_or(IndicatorState::Unknown) == IndicatorState::Unknown
                && answers.state(own) == IndicatorState::Unknown
                && q.codes.iter().any(|c| open_codes.contains(c))
        })
        .collect()
}

/// An account phase: step id, title, open prompts, dimensions coded, forced-criminality items.
type Phase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [DimensionId],
    &'static [&'static str],
);

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn options(items: &[(&str, &str)]) -> Vec<ChoiceOption> {
    items
        .iter()
        .map(|(value, label)| ChoiceOption {
            value: value.to_string(),
            label: label.to_string(),
        })
        .collect()
}

fn procedural(id: &str, text: &str, kind: AnswerKind, required: bool) -> Question {
    Question {
        id: id.into(),
        text: text.into(),
        help: None,
        kind,
        codes: Vec::new(),
        required,
        coding_panel: false,
    }
}

fn exploitation_label(t: ExploitationType) -> &'static str {
    match t {
        ExploitationType::Labour => "Work (any sector)",
        ExploitationType::Sexual => "Sexual exploitation",
        ExploitationType::ForcedCriminality => "Made to commit offences",
        ExploitationType::Begging => "Begging",
        ExploitationType::OrganRemoval => "Organ removal",
        ExploitationType::ForcedMarriage => "Forced marriage",
        ExploitationType::IllegalAdoption => "Illegal adoption",
        ExploitationType::Surrogacy => "Surrogacy",
        ExploitationType::Unclear => "Not clear yet",
        ExploitationType::Other => "Other",
    }
}

fn yes(responses: &Responses, id: &str) -> bool {
    responses.get(id).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "yes" | "on" | "true"
        )
    })
}

fn tri(responses: &Responses, id: &str) -> Result<Option<bool>, ResponseError> {
    match responses.get(id).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) => match v.as_str() {
            "yes" | "on" | "true" => Ok(Some(true)),
            "no" | "false" => Ok(Some(false)),
            "" | "unknown" | "not_known" => Ok(None),
            _ => Err(ResponseError {
                question: id.to_string(),
                message: format!("{v:?} is not an answer; expected yes, no or unknown"),
            }),
        },
    }
}

/// Turns form responses into answers plus the procedural record. Fails, naming the question,
/// when consent is missing, age is neither given nor in doubt, or a value is malformed.
pub fn answers_from_responses(
    flow: &InterviewFlow,
    catalogue: &Catalogue,
    responses: &Responses,
) -> Result<(Answers, InterviewRecord), ResponseError> {
    let fail = |question: &str, message: &str| ResponseError {
        question: question.to_string(),
        message: message.to_string(),
    };
    for id in [ids::CONSENT_INTERVIEW, ids::CONSENT_STORAGE] {
        if !yes(responses, id) {
            return Err(fail(
                id,
                "consent is required before anything is recorded; if the person does not agree, stop here and offer support anyway",
            ));
        }
    }
    let needs: Vec<String> = responses
        .get(ids::IMMEDIATE_NEEDS)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if needs.is_empty() {
        return Err(fail(
            ids::IMMEDIATE_NEEDS,
            "ask about immediate needs before the account (choose 'Nothing right now' if none)",
        ));
    }
    let allowed = [
        "medical",
        "safety",
        "food",
        "rest",
        "family_contact",
        "none",
    ];
    if let Some(bad) = needs.iter().find(|n| !allowed.contains(&n.as_str())) {
        return Err(fail(ids::IMMEDIATE_NEEDS, &format!("unknown need {bad:?}")));
    }

    let mut answers = Answers::default();
    match responses.get(ids::AGE_AT_START).map(|v| v.trim()) {
        Some(v) if !v.is_empty() => {
            let age: u32 = v
                .parse()
                .map_err(|_| fail(ids::AGE_AT_START, "give the age as a whole number"))?;
            answers.age_at_start = Some(age);
        }
        _ => {}
    }
    answers.age_in_doubt =
        yes(responses, ids::AGE_IN_DOUBT) || tri(responses, ids::POSSIBLE_CHILD)? == Some(true);
    if answers.age_at_start.is_none() && !answers.age_in_doubt {
        return Err(fail(
            ids::AGE_AT_START,
            "give the age when this began (an estimate is fine), or tick 'age is uncertain'",
        ));
    }
    if let Some(value) = responses.get(ids::EXPLOITATION) {
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let t = ExploitationType::parse(part)
                .ok_or_else(|| fail(ids::EXPLOITATION, &format!("unknown type {part:?}")))?;
            if !answers.exploitation.contains(&t) {
                answers.exploitation.push(t);
            }
        }
    }
    for (key, _) in responses.iter() {
        let Some(code) = key.strip_prefix(ids::INDICATOR_PREFIX) else {
            continue;
        };
        if flow.question(key).is_none() {
            return Err(fail(key, "not a question of this interview"));
        }
        match tri(responses, key)? {
            Some(true) => {
                answers
                    .indicators
                    .insert(code.to_string(), IndicatorState::Present);
            }
            Some(false) => {
                answers
                    .indicators
                    .insert(code.to_string(), IndicatorState::Absent);
            }
            None => {}
        }
    }
    answers.non_punishment.irregular_entry_or_stay =
        tri(responses, ids::NP_IRREGULAR)? == Some(true);
    answers.non_punishment.document_fraud = tri(responses, ids::NP_DOCUMENTS)? == Some(true);
    answers.non_punishment.other_status_offence = tri(responses, ids::NP_OTHER)? == Some(true);
    answers.non_punishment.criminal_activity = ["CD-06", "FC-07", "FC-08"]
        .iter()
        .any(|c| answers.state(c) == IndicatorState::Present);

    answers.validate(catalogue).map_err(|err| match err {
        AnswersError::Invalid(errors) => match errors.first() {
            Some(first) => ResponseError {
                question: match first.field.strip_prefix("indicators.") {
                    Some(code) => format!("{}{code}", ids::INDICATOR_PREFIX),
                    None => first.field.clone(),
                },
                message: first.message.clone(),
            },
            None => fail("responses", "invalid answers"),
        },
        AnswersError::Syntax { message, .. } => fail("responses", &message),
    })?;

    let record = InterviewRecord {
        consent_interview: true,
        consent_storage: true,
        interpreter_used: yes(responses, ids::INTERPRETER_USED),
        interpreter_language: responses
            .get(ids::INTERPRETER_LANGUAGE)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        interpreter_confidentiality_recorded: yes(responses, ids::INTERPRETER_CONFIDENTIALITY),
        guardian_called: yes(responses, ids::GUARDIAN_CALLED),
        immediate_needs: needs,
        breaks_offered: yes(responses, ids::BREAKS_OFFERED),
    };
    Ok((answers, record))
}
