//! Testimony intelligence carries nothing about the speaker; the interview flow maps to answers.

use tandem_core::Sensitivity;
use tandem_protect::catalogue::Catalogue;
use tandem_protect::interview::{
    InterviewFlow, Responses, StepKind, answers_from_responses, ids, needed_questions,
};
use tandem_protect::testimony::*;
use tandem_protect::{IndicatorState, identify};

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-intel";

fn testimony() -> Testimony {
    let json = serde_json::json!({
        "id": "tst-7f3a",
        "speaker_name": "Amina Yusuf Bello",
        "given_on": "2025-03-14",
        "account": "I met Big Joe at the bus station in Agadez on 3 March; he knew my brother Musa.",
        "coding": {
            "source_type": "survivor",
            "events": [
                {"stage": "recruitment", "country": "NG", "quarter": {"year": 2024, "quarter": 3}},
                {"stage": "destination", "country": "LY", "admin1": "Tripoli", "quarter": {"year": 2025, "quarter": 1}}
            ],
            "promises": ["job_or_employer", "pay"],
            "means_of_control": ["DebtBondage", "WithholdsDocuments"],
            "actors": [
                {"role": "RecruiterOrIntermediary", "aliases": ["Big Joe", "Joe Amina's cousin"],
                 "phones": ["+234 803 555 0101", "0803 555 0101"],
                 "handles": [{"platform": "Facebook", "handle": "@BigJoeTravels"}],
                 "places": [{"town": "Agadez", "country": "NE"}], "stage": "recruitment"},
                {"role": "Exploiter", "aliases": ["Hajj Mansour"], "places": [{"town": "Tripoli", "country": "LY"}]}
            ]
        }
    });
    serde_json::from_value(json).unwrap()
}

#[test]
fn intelligence_carries_nothing_about_the_speaker() {
    let t = testimony();
    let intel = intelligence_from_testimony(&t, KEY).unwrap();
    assert_eq!(intel.entities.len(), 3, "two actors and one link");
    assert!(
        intel
            .entities
            .iter()
            .all(|e| e.sensitivity == Sensitivity::Restricted)
    );
    let text = serde_json::to_string(&intel).unwrap();
    for secret in [
        "Amina",
        "Yusuf",
        "Bello",
        "2025-03-14",
        "tst-7f3a",
        "bus station",
        "Musa",
        "3 March",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let joe = &intel.entities[0];
    assert_eq!(joe.get("name"), ["Big Joe"]);
    assert_eq!(joe.get("phone"), ["+2348035550101"]);
    assert!(
        joe.get("keywords")
            .contains(&"handle:facebook:bigjoetravels".to_string())
    );
    assert_eq!(joe.get("tandem:role"), ["recruiter"]);
    assert!(intel.dropped.iter().any(|d| d.contains("aliases[1]")));
    assert!(intel.dropped.iter().any(|d| d.contains("phones[1]")));
    assert_eq!(intel.provenance.source_kind, "testimony");
    assert_eq!(intel.provenance.testimony_ref.len(), 64);
    assert_eq!(intel.first_quarter.unwrap().to_string(), "2024-Q3");
    assert_eq!(intel.last_quarter.unwrap().to_string(), "2025-Q1");
    // Stable for the same key, different for another; short keys refused.
    assert_eq!(intelligence_from_testimony(&t, KEY).unwrap(), intel);
    let other = intelligence_from_testimony(&t, b"another-key-another-key-another-key").unwrap();
    assert_ne!(
        other.provenance.testimony_ref,
        intel.provenance.testimony_ref
    );
    assert_eq!(
        intelligence_from_testimony(&t, b"short"),
        Err(TestimonyError::ShortKey)
    );
}

#[test]
fn screening_queries_map_back_to_mentions() {
    let t = testimony();
    let queries = screening_queries(&t.coding.actors);
    assert_eq!(queries.len(), 2);
    assert_eq!(queries[1].id, "q-1");
    assert_eq!(queries[1].get("name"), ["Hajj Mansour"]);
    assert_eq!(
        normalise_phone("00218 91 234 5678").as_deref(),
        Some("+218912345678")
    );
    assert_eq!(normalise_phone("091 234"), None);
    assert_eq!(normalise_phone("+1 (555) call me"), None);
}

#[test]
fn interview_is_consent_first_and_maps_to_answers() {
    let cat = Catalogue::builtin();
    let flow = InterviewFlow::standard(cat);
    assert_eq!(flow.steps[0].kind, StepKind::Before);
    assert_eq!(flow.steps[1].kind, StepKind::Consent);
    assert_eq!(flow.steps[2].kind, StepKind::ImmediateNeeds);
    assert!(
        flow.steps
            .iter()
            .any(|s| s.kind == StepKind::Account && !s.prompts.is_empty())
    );
    // Every catalogue indicator has exactly one coding question, mapped to its code.
    for i in &cat.indicators {
        let q = flow.question(&format!("ind_{}", i.code)).unwrap();
        assert_eq!(q.codes[0], i.code);
        assert!(q.coding_panel);
    }
    // Required fields: only consent, age, immediate needs.
    let required: Vec<&str> = flow
        .steps
        .iter()
        .flat_map(|s| &s.questions)
        .filter(|q| q.required)
        .map(|q| q.id.as_str())
        .collect();
    assert_eq!(
        required,
        [
            ids::CONSENT_INTERVIEW,
            ids::CONSENT_STORAGE,
            ids::IMMEDIATE_NEEDS
        ]
    );

    let mut r = Responses::new();
    let err = answers_from_responses(&flow, cat, &r).unwrap_err();
    assert_eq!(err.question, ids::CONSENT_INTERVIEW);
    r.insert(ids::CONSENT_INTERVIEW.into(), "yes".into());
    r.insert(ids::CONSENT_STORAGE.into(), "yes".into());
    r.insert(ids::IMMEDIATE_NEEDS.into(), "rest,food".into());
    assert_eq!(
        answers_from_responses(&flow, cat, &r).unwrap_err().question,
        ids::AGE_AT_START
    );
    r.insert(ids::AGE_AT_START.into(), "22".into());
    r.insert(ids::EXPLOITATION.into(), "labour".into());
    r.insert("ind_DR-01".into(), "yes".into());
    r.insert("ind_DR-02".into(), "no".into());
    r.insert("ind_FC-03".into(), "yes".into());
    r.insert("ind_EX-01".into(), "unknown".into());
    r.insert(ids::INTERPRETER_USED.into(), "yes".into());
    r.insert(ids::INTERPRETER_LANGUAGE.into(), "Hausa".into());
    let (answers, record) = answers_from_responses(&flow, cat, &r).unwrap();
    assert_eq!(answers.age_at_start, Some(22));
    assert_eq!(answers.state("DR-01"), IndicatorState::Present);
    assert_eq!(answers.state("DR-02"), IndicatorState::Absent);
    assert_eq!(answers.state("EX-01"), IndicatorState::Unknown);
    assert!(record.interpreter_used);
    assert_eq!(record.interpreter_language.as_deref(), Some("Hausa"));
    assert!(identify(cat, &answers).is_ok());

    // Only questions that could still change a result are proposed; answered ones are not.
    let needed = needed_questions(&flow, cat, &answers);
    assert!(
        needed
            .iter()
            .all(|q| q.id != "ind_DR-01" && q.id != "ind_DR-02")
    );
    assert!(needed.iter().any(|q| q.id == "ind_CD-03"));

    r.insert("ind_XX-01".into(), "yes".into());
    assert_eq!(
        answers_from_responses(&flow, cat, &r).unwrap_err().question,
        "ind_XX-01"
    );
}

#[test]
fn question_flow_never_branches_on_demographics() {
    let cat = Catalogue::builtin();
    let flow = InterviewFlow::standard(cat);
    let base = tandem_protect::Answers {
        age_at_start: Some(30),
        ..Default::default()
    };
    let mut other = base.clone();
    other.gender = Some("male".into());
    other.sexual_orientation = Some("gay".into());
    other.gender_identity = Some("transgender".into());
    other.nationality = Some("ER".into());
    let ids = |a| {
        needed_questions(&flow, cat, a)
            .iter()
            .map(|q| q.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&base), ids(&other));
}
