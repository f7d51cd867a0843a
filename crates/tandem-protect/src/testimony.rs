//! Testimony coding (spec §4.2) and the `restricted` actor intelligence drawn from it (§4.3).
//!
//! A [`Testimony`] holds protected material (the speaker's name, the date it was given, the
//! account) next to the coded fields. [`intelligence_from_testimony`] reads only the actor
//! mentions and quarter-level event dates, and its output types have no field that could hold
//! free text about the speaker: names of people who testified, dates, quotes and notes are
//! stripped by construction.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tandem_core::model::{ROLE_PROPERTY, STAGE_PROPERTY};
use tandem_core::{Entity, Role, Sensitivity, Stage};

/// Who gave the testimony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceType {
    Survivor,
    FamilyMember,
    Diaspora,
    CommunityMember,
    Returnee,
    FrontlineObserver,
}

impl SourceType {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [SourceType; 6] = [
        SourceType::Survivor,
        SourceType::FamilyMember,
        SourceType::Diaspora,
        SourceType::CommunityMember,
        SourceType::Returnee,
        SourceType::FrontlineObserver,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStage {
    Recruitment,
    Transit,
    Destination,
}

/// A year and quarter (`2024-Q3`); finer dates are never coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Quarter {
    pub year: u16,
    /// 1 to 4.
    pub quarter: u8,
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.quarter)
    }
}

/// One stage event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEvent {
    pub stage: EventStage,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    #[serde(default)]
    pub admin1: Option<String>,
    #[serde(default)]
    pub quarter: Option<Quarter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecruiterRelation {
    IntimatePartner,
    FamilyRelative,
    FriendAcquaintance,
    CommunityOrReligiousFigure,
    LabourBrokerOrAgency,
    Employer,
    Smuggler,
    OnlineContactOnly,
    Stranger,
    Other,
    NotSpecified,
}

impl RecruiterRelation {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [RecruiterRelation; 11] = [
        RecruiterRelation::IntimatePartner,
        RecruiterRelation::FamilyRelative,
        RecruiterRelation::FriendAcquaintance,
        RecruiterRelation::CommunityOrReligiousFigure,
        RecruiterRelation::LabourBrokerOrAgency,
        RecruiterRelation::Employer,
        RecruiterRelation::Smuggler,
        RecruiterRelation::OnlineContactOnly,
        RecruiterRelation::Stranger,
        RecruiterRelation::Other,
        RecruiterRelation::NotSpecified,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Promise {
    JobOrEmployer,
    Pay,
    Conditions,
    ContractOrLegality,
    Housing,
    DocumentsOrStatus,
    JourneyTerms,
    FamilyReunification,
    MarriageOrAdoption,
    Education,
    OnwardTravelToEurope,
    ProtectionOrAsylum,
    Other,
}

impl Promise {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [Promise; 13] = [
        Promise::JobOrEmployer,
        Promise::Pay,
        Promise::Conditions,
        Promise::ContractOrLegality,
        Promise::Housing,
        Promise::DocumentsOrStatus,
        Promise::JourneyTerms,
        Promise::FamilyReunification,
        Promise::MarriageOrAdoption,
        Promise::Education,
        Promise::OnwardTravelToEurope,
        Promise::ProtectionOrAsylum,
        Promise::Other,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeBand {
    None,
    Under500,
    From500To1999,
    From2000To4999,
    Over5000,
    Unknown,
}

impl FeeBand {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [FeeBand; 6] = [
        FeeBand::None,
        FeeBand::Under500,
        FeeBand::From500To1999,
        FeeBand::From2000To4999,
        FeeBand::Over5000,
        FeeBand::Unknown,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    SelfPaid,
    Family,
    LoanFromRecruiter,
    ThirdPartyLoan,
    WorkToPay,
}

impl Payer {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [Payer; 5] = [
        Payer::SelfPaid,
        Payer::Family,
        Payer::LoanFromRecruiter,
        Payer::ThirdPartyLoan,
        Payer::WorkToPay,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guarantee {
    Family,
    Property,
    Documents,
    OathOrRitual,
}

impl Guarantee {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [Guarantee; 4] = [
        Guarantee::Family,
        Guarantee::Property,
        Guarantee::Documents,
        Guarantee::OathOrRitual,
    ];
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeesDebt {
    pub fee: Option<FeeBand>,
    #[serde(default)]
    pub payers: Vec<Payer>,
    #[serde(default)]
    pub debt_incurred: bool,
    #[serde(default)]
    pub debt_grew_en_route: bool,
    #[serde(default)]
    pub guarantees: Vec<Guarantee>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcceptedRisk {
    DangerousCrossing,
    IrregularEntry,
    FalseDocuments,
    Debt,
    UndeclaredWork,
    SeparationFromFamily,
    SexWork,
    Other,
}

impl AcceptedRisk {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [AcceptedRisk; 8] = [
        AcceptedRisk::DangerousCrossing,
        AcceptedRisk::IrregularEntry,
        AcceptedRisk::FalseDocuments,
        AcceptedRisk::Debt,
        AcceptedRisk::UndeclaredWork,
        AcceptedRisk::SeparationFromFamily,
        AcceptedRisk::SexWork,
        AcceptedRisk::Other,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    NoAlternative,
    TrustInRecruiter,
    OthersSucceeded,
    FamilyPressure,
    Debt,
}

impl RiskReason {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [RiskReason; 5] = [
        RiskReason::NoAlternative,
        RiskReason::TrustInRecruiter,
        RiskReason::OthersSucceeded,
        RiskReason::FamilyPressure,
        RiskReason::Debt,
    ];
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptableRisks {
    #[serde(default)]
    pub risks: Vec<AcceptedRisk>,
    #[serde(default)]
    pub reasons: Vec<RiskReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnsetPhase {
    BeforeDeparture,
    Recruitment,
    Transit,
    Arrival,
    Exploitation,
    Unknown,
}

impl OnsetPhase {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [OnsetPhase; 6] = [
        OnsetPhase::BeforeDeparture,
        OnsetPhase::Recruitment,
        OnsetPhase::Transit,
        OnsetPhase::Arrival,
        OnsetPhase::Exploitation,
        OnsetPhase::Unknown,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoercionOnset {
    pub phase: OnsetPhase,
    /// The first coercive code: a D2, D5 or FC indicator code.
    #[serde(default)]
    pub first_code: Option<String>,
    #[serde(default)]
    pub began_as_smuggling: bool,
}

/// Means of control: the union of the HTCDS and CTDC lists (spec §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MeansOfControl {
    DebtBondage,
    TakesEarnings,
    RestrictsFinancialAccess,
    PsychologicalAbuse,
    PhysicalAbuse,
    SexualAbuse,
    FalsePromises,
    RestrictsMedicalCare,
    WithholdsNecessities,
    WithholdsDocuments,
    ExcessiveWorkingHours,
    PhysicalThreats,
    ThreatensChildrenFamily,
    ThreatsLawEnforcement,
    PsychoactiveSubstance,
    RestrictsMovement,
    UsesChildren,
    Other,
}

impl MeansOfControl {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [MeansOfControl; 18] = [
        MeansOfControl::DebtBondage,
        MeansOfControl::TakesEarnings,
        MeansOfControl::RestrictsFinancialAccess,
        MeansOfControl::PsychologicalAbuse,
        MeansOfControl::PhysicalAbuse,
        MeansOfControl::SexualAbuse,
        MeansOfControl::FalsePromises,
        MeansOfControl::RestrictsMedicalCare,
        MeansOfControl::WithholdsNecessities,
        MeansOfControl::WithholdsDocuments,
        MeansOfControl::ExcessiveWorkingHours,
        MeansOfControl::PhysicalThreats,
        MeansOfControl::ThreatensChildrenFamily,
        MeansOfControl::ThreatsLawEnforcement,
        MeansOfControl::PsychoactiveSubstance,
        MeansOfControl::RestrictsMovement,
        MeansOfControl::UsesChildren,
        MeansOfControl::Other,
    ];
}

/// HTCDS `vic_TypeOfExploitation` plus Tandem's `ForcedCriminality` (spec §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ExploitationKind {
    ForcedLabour,
    SexualExploitation,
    ChildLabour,
    ForcedMarriage,
    Servitude,
    ForcedMilitaryByNonStateActors,
    OrganRemoval,
    ForcedBegging,
    ForcedAdoption,
    Surrogacy,
    ForcedCriminality,
    Other,
}

impl ExploitationKind {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [ExploitationKind; 12] = [
        ExploitationKind::ForcedLabour,
        ExploitationKind::SexualExploitation,
        ExploitationKind::ChildLabour,
        ExploitationKind::ForcedMarriage,
        ExploitationKind::Servitude,
        ExploitationKind::ForcedMilitaryByNonStateActors,
        ExploitationKind::OrganRemoval,
        ExploitationKind::ForcedBegging,
        ExploitationKind::ForcedAdoption,
        ExploitationKind::Surrogacy,
        ExploitationKind::ForcedCriminality,
        ExploitationKind::Other,
    ];
}

/// Sub-types of forced criminality (Tandem extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ForcedCriminalityKind {
    OnlineFraud,
    DrugCultivationOrProduction,
    DrugDealingOrTransport,
    TheftOrPickpocketing,
    SmugglingOfPeopleOrGoods,
    BenefitOrDocumentFraud,
    Other,
}

impl ForcedCriminalityKind {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [ForcedCriminalityKind; 7] = [
        ForcedCriminalityKind::OnlineFraud,
        ForcedCriminalityKind::DrugCultivationOrProduction,
        ForcedCriminalityKind::DrugDealingOrTransport,
        ForcedCriminalityKind::TheftOrPickpocketing,
        ForcedCriminalityKind::SmugglingOfPeopleOrGoods,
        ForcedCriminalityKind::BenefitOrDocumentFraud,
        ForcedCriminalityKind::Other,
    ];
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploitationCoding {
    #[serde(default)]
    pub kinds: Vec<ExploitationKind>,
    #[serde(default)]
    pub forced_criminality: Vec<ForcedCriminalityKind>,
    /// ISIC Rev.4 section letter (A–U).
    #[serde(default)]
    pub isic_section: Option<char>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreventiveSupport {
    AccurateJobOrRouteInformation,
    LegalMigrationChannel,
    CreditOrDebtRelief,
    ConsularHelp,
    LabourInspection,
    Shelter,
    IdentityDocuments,
    FamilyOrCommunitySupport,
    Helpline,
    GuardianOrChildProtection,
    HealthCare,
    LegalAid,
    None,
    Other,
}

impl PreventiveSupport {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [PreventiveSupport; 14] = [
        PreventiveSupport::AccurateJobOrRouteInformation,
        PreventiveSupport::LegalMigrationChannel,
        PreventiveSupport::CreditOrDebtRelief,
        PreventiveSupport::ConsularHelp,
        PreventiveSupport::LabourInspection,
        PreventiveSupport::Shelter,
        PreventiveSupport::IdentityDocuments,
        PreventiveSupport::FamilyOrCommunitySupport,
        PreventiveSupport::Helpline,
        PreventiveSupport::GuardianOrChildProtection,
        PreventiveSupport::HealthCare,
        PreventiveSupport::LegalAid,
        PreventiveSupport::None,
        PreventiveSupport::Other,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitRoute {
    Escaped,
    Released,
    Rescued,
    IdentifiedByAuthority,
    SelfReferral,
    Other,
}

impl ExitRoute {
    /// Every value, in the order of the declaration (form choices, export checks).
    pub const ALL: [ExitRoute; 6] = [
        ExitRoute::Escaped,
        ExitRoute::Released,
        ExitRoute::Rescued,
        ExitRoute::IdentifiedByAuthority,
        ExitRoute::SelfReferral,
        ExitRoute::Other,
    ];
}

/// HTCDS `per_RoleInProcess`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PerpetratorRole {
    TravellingPartner,
    Transporter,
    RecruiterOrIntermediary,
    BrokerTravelAgent,
    TransferredIndividual,
    HarbouredIndividual,
    SoldIndividual,
    BoughtIndividual,
    ReceivedIndividual,
    ControlledIndividual,
    Smuggler,
    Abuser,
    Kidnapper,
    Exploiter,
    Other,
}

/// An online handle: platform and handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handle {
    pub platform: String,
    pub handle: String,
}

/// A town-level place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub town: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// One actor the testimony mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorMention {
    pub role: PerpetratorRole,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// As told; normalised to E.164 on the way out.
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub handles: Vec<Handle>,
    #[serde(default)]
    pub places: Vec<Place>,
    #[serde(default)]
    pub stage: Option<EventStage>,
}

/// The coded fields of one testimony.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestimonyCoding {
    pub source_type: SourceType,
    #[serde(default)]
    pub events: Vec<StageEvent>,
    #[serde(default)]
    pub recruiter_relation: Option<RecruiterRelation>,
    /// HTCDS `vic_MethodOfRecruitment` value or a Tandem addition.
    #[serde(default)]
    pub recruitment_channel: Option<String>,
    /// Platform from `vic_RecruitmentWebsitesAndApps`.
    #[serde(default)]
    pub recruitment_platform: Option<String>,
    #[serde(default)]
    pub promises: Vec<Promise>,
    #[serde(default)]
    pub fees_debt: FeesDebt,
    #[serde(default)]
    pub acceptable_risks: AcceptableRisks,
    #[serde(default)]
    pub coercion_onset: Option<CoercionOnset>,
    #[serde(default)]
    pub means_of_control: Vec<MeansOfControl>,
    #[serde(default)]
    pub exploitation: ExploitationCoding,
    #[serde(default)]
    pub actors: Vec<ActorMention>,
    #[serde(default)]
    pub preventive_support: Vec<PreventiveSupport>,
    #[serde(default)]
    pub exit: Option<ExitRoute>,
}

/// A testimony as the protected store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Testimony {
    /// Opaque id of the testimony record.
    pub id: String,
    /// The speaker's name or alias, if recorded (T1).
    #[serde(default)]
    pub speaker_name: Option<String>,
    /// When the testimony was given, `YYYY-MM-DD` (identifying; never leaves).
    #[serde(default)]
    pub given_on: Option<String>,
    /// The account (T5).
    #[serde(default)]
    pub account: Option<String>,
    pub coding: TestimonyCoding,
}

/// Where an intelligence record came from, without saying which testimony.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelProvenance {
    /// Always `testimony`.
    pub source_kind: String,
    /// HMAC-SHA-256(intel_key, testimony id), hex; resolvable only by protection officers.
    pub testimony_ref: String,
}

/// What one testimony contributes to the ecosystem graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorIntelligence {
    /// `Person` entities (one per mention with a usable name) and `UnknownLink` entities
    /// between actors mentioned together; all `restricted`.
    pub entities: Vec<Entity>,
    pub provenance: IntelProvenance,
    /// Quarter-level span of the events the testimony codes.
    pub first_quarter: Option<Quarter>,
    pub last_quarter: Option<Quarter>,
    /// Country-level corridor of the testimony's events (`NG>NE>LY>IT`: recruitment, transit,
    /// destination countries in that order), when it codes any.
    pub corridor: Option<String>,
    /// Mentions left out and why (e.g. an alias equal to the speaker's name).
    pub dropped: Vec<String>,
}

/// A testimony that cannot be turned into intelligence.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TestimonyError {
    #[error("the intelligence key must be at least 32 bytes")]
    ShortKey,
    #[error("actors[{index}].{field}: {message}")]
    Actor {
        index: usize,
        field: &'static str,
        message: String,
    },
}

/// Builds the `restricted` actor entities of one testimony. `intel_key` keys the opaque
/// provenance reference and the entity ids; it is not available to the analytics side.
pub fn intelligence_from_testimony(
    testimony: &Testimony,
    intel_key: &[u8],
) -> Result<ActorIntelligence, TestimonyError> {
    if intel_key.len() < 32 {
        return Err(TestimonyError::ShortKey);
    }
    let testimony_ref = hex::encode(hmac_sha256(
        intel_key,
        format!("testimony\0{}", testimony.id).as_bytes(),
    ));
    let speaker = speaker_tokens(testimony.speaker_name.as_deref());
    let mut entities = Vec::new();
    let mut actor_ids = Vec::new();
    let mut dropped = Vec::new();
    for (index, actor) in testimony.coding.actors.iter().enumerate() {
        // The id is keyed on the testimony so that nobody without the key can tell which
        // actors came from the same testimony, and stable so re-promotion updates in place.
        let id = format!(
            "tst-{}",
            &hex::encode(hmac_sha256(
                intel_key,
                format!("actor\0{}\0{index}", testimony.id).as_bytes()
            ))[..24]
        );
        let mut entity = Entity::new("Person", id.clone()).map_err(|e| TestimonyError::Actor {
            index,
            field: "id",
            message: e.to_string(),
        })?;
        entity.sensitivity = Sensitivity::Restricted;
        let mut names = Vec::new();
        for (a, alias) in actor.aliases.iter().enumerate() {
            if mentions_speaker(alias, &speaker) {
                dropped.push(format!(
                    "actors[{index}].aliases[{a}]: contains the name of the person who testified"
                ));
                continue;
            }
            if alias.trim().is_empty() || alias.chars().count() > MAX_ALIAS_CHARS {
                dropped.push(format!(
                    "actors[{index}].aliases[{a}]: not a name (empty or longer than \
                     {MAX_ALIAS_CHARS} characters; free text is never promoted)"
                ));
                continue;
            }
            names.push(alias.trim().to_string());
        }
        for (n, name) in names.iter().enumerate() {
            let property = if n == 0 { "name" } else { "alias" };
            if !entity.add_lenient(property, name) {
                dropped.push(format!(
                    "actors[{index}].aliases: a value is not a valid name"
                ));
            }
        }
        for (p, phone) in actor.phones.iter().enumerate() {
            match normalise_phone(phone) {
                Some(e164) => {
                    entity.add_lenient("phone", &e164);
                }
                None => dropped.push(format!(
                    "actors[{index}].phones[{p}]: not a phone number in E.164 form"
                )),
            }
        }
        for (h, handle) in actor.handles.iter().enumerate() {
            let platform = handle.platform.trim().to_lowercase();
            let name = handle.handle.trim().trim_start_matches('@').to_lowercase();
            if platform.is_empty() || name.is_empty() || mentions_speaker(&name, &speaker) {
                dropped.push(format!(
                    "actors[{index}].handles[{h}]: empty or names the person who testified"
                ));
                continue;
            }
            entity.add_lenient("keywords", &format!("handle:{platform}:{name}"));
        }
        for (p, place) in actor.places.iter().enumerate() {
            let country = place.country.trim();
            if !entity.add_lenient("country", country) {
                dropped.push(format!(
                    "actors[{index}].places[{p}].country: not an ISO 3166-1 alpha-2 code"
                ));
                continue;
            }
            let town = place.town.trim();
            if !town.is_empty() && town.chars().count() <= MAX_ALIAS_CHARS {
                entity.add_lenient("address", &format!("{town}, {}", country.to_uppercase()));
            }
        }
        if let Some(role) = ecosystem_role(actor.role) {
            entity.add_lenient(ROLE_PROPERTY, role.as_str());
        }
        entity.add_lenient("keywords", &format!("per_RoleInProcess:{:?}", actor.role));
        if let Some(stage) = actor.stage {
            entity.add_lenient(STAGE_PROPERTY, route_stage(stage).as_str());
        }
        actor_ids.push(id);
        entities.push(entity);
    }
    // Actors mentioned together.
    for i in 0..actor_ids.len() {
        for j in i + 1..actor_ids.len() {
            let (a, b) = (&actor_ids[i], &actor_ids[j]);
            let id = format!(
                "tst-{}",
                &hex::encode(hmac_sha256(intel_key, format!("link\0{a}\0{b}").as_bytes()))[..24]
            );
            entities.push(tie(id, j, a, b, "mentioned together in testimony")?);
        }
    }
    let quarters: Vec<Quarter> = testimony
        .coding
        .events
        .iter()
        .filter_map(|e| e.quarter)
        .filter(|q| (1..=4).contains(&q.quarter))
        .collect();
    Ok(ActorIntelligence {
        entities,
        provenance: IntelProvenance {
            source_kind: "testimony".into(),
            testimony_ref,
        },
        first_quarter: quarters.iter().min().copied(),
        last_quarter: quarters.iter().max().copied(),
        corridor: corridor(&testimony.coding.events),
        dropped,
    })
}

/// Countries of the events by stage (recruitment, transit, destination), each once.
fn corridor(events: &[StageEvent]) -> Option<String> {
    let mut ordered: Vec<&StageEvent> = events.iter().collect();
    ordered.sort_by_key(|e| e.stage);
    let mut countries: Vec<String> = Vec::new();
    for event in ordered {
        let country = event.country.trim().to_uppercase();
        let valid = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
        if valid && !countries.contains(&country) {
            countries.push(country);
        }
    }
    (!countries.is_empty()).then(|| countries.join(">"))
}

/// A keyed blind reference of a case id: the intelligence side finds the links of a case
/// (to erase them) without holding the case id itself.
pub fn case_reference(intel_key: &[u8], case_id: &str) -> Result<String, TestimonyError> {
    if intel_key.len() < 32 {
        return Err(TestimonyError::ShortKey);
    }
    Ok(hex::encode(hmac_sha256(
        intel_key,
        format!("case\0{case_id}").as_bytes(),
    )))
}

/// The id of a new actor first confirmed from mention `index` of the testimony with this
/// reference. Keyed, so nobody without the key can tell which testimony it started from.
pub fn new_actor_id(
    intel_key: &[u8],
    testimony_ref: &str,
    index: u32,
) -> Result<String, TestimonyError> {
    if intel_key.len() < 32 {
        return Err(TestimonyError::ShortKey);
    }
    let mac = hmac_sha256(
        intel_key,
        format!("confirmed-actor\0{testimony_ref}\0{index}").as_bytes(),
    );
    Ok(format!("act-{}", &hex::encode(mac)[..24]))
}

/// One confirmed mention of an actor: the mention's sanitised `Person` (from
/// [`intelligence_from_testimony`]) and the quarter-level span and corridor of its testimony.
/// `testimony_ref` tells independent testimonies apart; it never reaches the actor entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionEvidence {
    pub entity: Entity,
    pub testimony_ref: String,
    #[serde(default)]
    pub first_quarter: Option<Quarter>,
    #[serde(default)]
    pub last_quarter: Option<Quarter>,
    #[serde(default)]
    pub corridor: Option<String>,
}

/// Properties of a mention that the actor entity takes over; anything else (ids, notes) is
/// left behind, so no free text can ride along.
const ACTOR_PROPERTIES: [&str; 7] = [
    "phone",
    "keywords",
    "country",
    "address",
    ROLE_PROPERTY,
    STAGE_PROPERTY,
    "alias",
];

/// The `restricted` actor entity of all its confirmed mentions: names and aliases, phones,
/// handles and role codes (keywords), town-level places, role and stage, the corridors, the
/// number of independent testimonies and the first and last quarter mentioned. The caller
/// decides whether analysts may see it yet (the §4.3 guard).
pub fn promote_actor(
    actor_id: &str,
    evidence: &[MentionEvidence],
) -> Result<Entity, TestimonyError> {
    let invalid = |message: String| TestimonyError::Actor {
        index: 0,
        field: "id",
        message,
    };
    if evidence.is_empty() {
        return Err(invalid(format!(
            "actor {actor_id} has no confirmed mention"
        )));
    }
    let mut actor = Entity::new("Person", actor_id).map_err(|e| invalid(e.to_string()))?;
    actor.sensitivity = Sensitivity::Restricted;
    let mut names: Vec<String> = Vec::new();
    for mention in evidence {
        for name in mention
            .entity
            .get("name")
            .iter()
            .chain(mention.entity.get("alias"))
        {
            if !names.iter().any(|n| fold(n) == fold(name)) {
                names.push(name.clone());
            }
        }
    }
    for (n, name) in names.iter().enumerate() {
        actor.add_lenient(if n == 0 { "name" } else { "alias" }, name);
    }
    for mention in evidence {
        for property in ACTOR_PROPERTIES.iter().filter(|p| **p != "alias") {
            for value in mention.entity.get(property) {
                if !actor.get(property).contains(value) {
                    actor.add_lenient(property, value);
                }
            }
        }
        if let Some(corridor) = &mention.corridor {
            actor.add_lenient("keywords", &format!("corridor:{corridor}"));
        }
    }
    let mut testimonies: Vec<&str> = evidence.iter().map(|e| e.testimony_ref.as_str()).collect();
    testimonies.sort_unstable();
    testimonies.dedup();
    actor.add_lenient("keywords", "source_kind:testimony");
    actor.add_lenient("keywords", &format!("testimonies:{}", testimonies.len()));
    let first = evidence.iter().filter_map(|e| e.first_quarter).min();
    let last = evidence.iter().filter_map(|e| e.last_quarter).max();
    if let Some(first) = first {
        actor.add_lenient("keywords", &format!("first_mentioned:{first}"));
    }
    if let Some(last) = last {
        actor.add_lenient("keywords", &format!("last_mentioned:{last}"));
    }
    Ok(actor)
}

/// A restricted tie between actors `a` and `b` (an UnknownLink); `index` is the actor an id
/// fault is reported against.
fn tie(id: String, index: usize, a: &str, b: &str, role: &str) -> Result<Entity, TestimonyError> {
    let mut link = Entity::new("UnknownLink", id).map_err(|e| TestimonyError::Actor {
        index,
        field: "id",
        message: e.to_string(),
    })?;
    link.sensitivity = Sensitivity::Restricted;
    link.add_lenient("subject", a);
    link.add_lenient("object", b);
    link.add_lenient("role", role);
    Ok(link)
}

/// The edge between two confirmed actors named in the same testimonies (`testimonies` of
/// them). Its id depends only on the two actors, so both ends rebuild the same edge.
pub fn co_mention_link(a: &str, b: &str, testimonies: u64) -> Result<Entity, TestimonyError> {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let digest = Sha256::digest(format!("co-mention\0{a}\0{b}").as_bytes());
    let id = format!("tie-{}", &hex::encode(digest)[..24]);
    let mut link = tie(id, 0, a, b, "mentioned together in testimonies")?;
    link.add_lenient("keywords", "source_kind:testimony");
    link.add_lenient("keywords", &format!("testimonies:{testimonies}"));
    Ok(link)
}

/// Longer "aliases" are descriptions, and descriptions can carry details about the speaker.
const MAX_ALIAS_CHARS: usize = 60;

fn fold(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect()
}

/// The speaker's name tokens worth matching (short particles would match everything).
fn speaker_tokens(name: Option<&str>) -> Vec<String> {
    name.map(|n| {
        fold(n)
            .split_whitespace()
            .filter(|t| t.chars().count() >= 3)
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

fn mentions_speaker(text: &str, speaker: &[String]) -> bool {
    let folded = fold(text);
    let tokens: Vec<&str> = folded.split_whitespace().collect();
    speaker
        .iter()
        .any(|s| tokens.contains(&s.as_str()) || folded.contains(s.as_str()))
}

fn ecosystem_role(role: PerpetratorRole) -> Option<Role> {
    match role {
        PerpetratorRole::RecruiterOrIntermediary => Some(Role::Recruiter),
        PerpetratorRole::Transporter => Some(Role::Transporter),
        PerpetratorRole::BrokerTravelAgent => Some(Role::PrivateEnabler),
        PerpetratorRole::Kidnapper | PerpetratorRole::Abuser => Some(Role::Enforcer),
        _ => None,
    }
}

fn route_stage(stage: EventStage) -> Stage {
    match stage {
        EventStage::Recruitment => Stage::Origin,
        EventStage::Transit => Stage::Transit,
        EventStage::Destination => Stage::Destination,
    }
}

/// HMAC-SHA-256 (RFC 2104), written out to stay on the workspace's sha2 version.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Query entities for screening the mentioned actors with `tandem_match::screen_batch`: one
/// `Person` per mention with a name (first alias as name, the rest as aliases, phones in
/// E.164). Ids are `q-<index>` so hits map back to `actors[index]`.
pub fn screening_queries(actors: &[ActorMention]) -> Vec<Entity> {
    actors
        .iter()
        .enumerate()
        .filter_map(|(index, actor)| {
            let names: Vec<&str> = actor
                .aliases
                .iter()
                .map(|a| a.trim())
                .filter(|a| !a.is_empty())
                .collect();
            let first = names.first()?;
            let mut query = Entity::new("Person", format!("q-{index}")).ok()?;
            query.sensitivity = Sensitivity::Restricted;
            if !query.add_lenient("name", first) {
                return None;
            }
            for alias in &names[1..] {
                query.add_lenient("alias", alias);
            }
            for phone in actor.phones.iter().filter_map(|p| normalise_phone(p)) {
                query.add_lenient("phone", &phone);
            }
            for place in &actor.places {
                query.add_lenient("country", place.country.trim());
            }
            Some(query)
        })
        .collect()
}

/// A phone number in E.164 (`+` and 8–15 digits), or `None` when it cannot be one.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let (international, rest) = if let Some(r) = trimmed.strip_prefix('+') {
        (true, r)
    } else if let Some(r) = trimmed.strip_prefix("00") {
        (true, r)
    } else {
        (false, trimmed)
    };
    // Without a country code the number cannot be placed; guessing one would link strangers.
    if !international {
        return None;
    }
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => return None,
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return None;
    }
    Some(format!("+{digits}"))
}

#[cfg(test)]
mod promotion_tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn testimony(id: &str, alias: &str, phone: &str, quarter: u8) -> Testimony {
        Testimony {
            id: id.into(),
            speaker_name: Some("Amina Speaker".into()),
            given_on: Some("2025-01-02".into()),
            account: Some("free text that must never leave".into()),
            coding: TestimonyCoding {
                source_type: SourceType::Survivor,
                events: vec![
                    StageEvent {
                        stage: EventStage::Destination,
                        country: "it".into(),
                        admin1: None,
                        quarter: Some(Quarter {
                            year: 2024,
                            quarter,
                        }),
                    },
                    StageEvent {
                        stage: EventStage::Recruitment,
                        country: "NG".into(),
                        admin1: None,
                        quarter: Some(Quarter {
                            year: 2023,
                            quarter: 4,
                        }),
                    },
                ],
                recruiter_relation: None,
                recruitment_channel: None,
                recruitment_platform: None,
                promises: Vec::new(),
                fees_debt: FeesDebt::default(),
                acceptable_risks: AcceptableRisks::default(),
                coercion_onset: None,
                means_of_control: Vec::new(),
                exploitation: ExploitationCoding::default(),
                actors: vec![ActorMention {
                    role: PerpetratorRole::RecruiterOrIntermediary,
                    aliases: vec![alias.into(), "Amina".into()],
                    phones: vec![phone.into()],
                    handles: vec![Handle {
                        platform: "Telegram".into(),
                        handle: "@Big_Boss".into(),
                    }],
                    places: vec![Place {
                        town: "Kano".into(),
                        country: "NG".into(),
                    }],
                    stage: Some(EventStage::Recruitment),
                }],
                preventive_support: Vec::new(),
                exit: None,
            },
        }
    }

    fn evidence(t: &Testimony) -> MentionEvidence {
        let intel = intelligence_from_testimony(t, KEY).unwrap();
        MentionEvidence {
            entity: intel.entities[0].clone(),
            testimony_ref: intel.provenance.testimony_ref,
            first_quarter: intel.first_quarter,
            last_quarter: intel.last_quarter,
            corridor: intel.corridor,
        }
    }

    #[test]
    fn an_actor_merges_its_mentions_and_counts_independent_testimonies() {
        let a = evidence(&testimony("t1", "Big Boss", "+234 803 000 1111", 1));
        let b = evidence(&testimony("t2", "Oga Boss", "+234 803 000 1111", 3));
        assert_eq!(a.corridor.as_deref(), Some("NG>IT"));
        let actor = promote_actor("act-1", &[a.clone(), b.clone(), a.clone()]).unwrap();
        assert_eq!(actor.id, "act-1");
        assert_eq!(actor.sensitivity, Sensitivity::Restricted);
        assert_eq!(actor.get("name"), ["Big Boss"]);
        assert_eq!(actor.get("alias"), ["Oga Boss"]);
        assert_eq!(actor.get("phone"), ["+2348030001111"]);
        let keywords = actor.get("keywords");
        for expected in [
            "handle:telegram:big_boss",
            "testimonies:2",
            "source_kind:testimony",
            "first_mentioned:2023-Q4",
            "last_mentioned:2024-Q3",
            "corridor:NG>IT",
        ] {
            assert!(
                keywords.iter().any(|k| k == expected),
                "{expected}: {keywords:?}"
            );
        }
        // Nothing about the person who testified, no testimony reference, no finer date.
        let text = serde_json::to_string(&actor).unwrap();
        for secret in [
            "Amina",
            "free text",
            "2025-01-02",
            a.testimony_ref.as_str(),
            b.testimony_ref.as_str(),
            "t1",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(promote_actor("act-1", &[]).is_err());
    }

    #[test]
    fn keyed_references_and_edges() {
        let case = case_reference(KEY, "case-1").unwrap();
        assert_eq!(case.len(), 64);
        assert_ne!(case, case_reference(KEY, "case-2").unwrap());
        assert_eq!(
            case_reference(b"short", "case-1"),
            Err(TestimonyError::ShortKey)
        );
        let id = new_actor_id(KEY, "ref", 0).unwrap();
        assert!(id.starts_with("act-") && id.len() == 28);
        assert_ne!(id, new_actor_id(KEY, "ref", 1).unwrap());
        let ab = co_mention_link("act-a", "act-b", 2).unwrap();
        let ba = co_mention_link("act-b", "act-a", 2).unwrap();
        assert_eq!(ab.id, ba.id, "both ends build the same edge");
        assert_eq!(ab.get("subject"), ["act-a"]);
        assert_eq!(ab.get("object"), ["act-b"]);
        assert_eq!(ab.sensitivity, Sensitivity::Restricted);
    }
}
