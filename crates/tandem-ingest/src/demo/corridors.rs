//! The two routes of the demo: where each journey stage happens, who works there, which aides
//! each stage needs, how many groups it has at scale 1, and the enablers around them.

use tandem_core::{Role, Stage};

use super::details::CompanyKind;
use super::names::Culture;
use super::rng::{Pool, Weighted};

/// Horn of Africa → Sudan → Libyan Sahara → Libyan coast → Italy.
pub const CENTRAL_MEDITERRANEAN: &str = "Central Mediterranean route";
/// Senegal, the Gambia, Mauritania → Canary Islands.
pub const ATLANTIC: &str = "Atlantic route";

pub(super) struct Place {
    pub city: &'static str,
    pub country: &'static str,
    /// The community most people working there come from.
    pub locals: Culture,
}

const fn place(city: &'static str, country: &'static str, locals: Culture) -> Place {
    Place {
        city,
        country,
        locals,
    }
}

pub(super) struct StagePlan {
    pub stage: Stage,
    pub places: Pool<Place>,
    /// Percent of the stage's smugglers who come from the place's own community.
    pub locals_percent: u32,
    /// Where the others come from.
    pub foreigners: Weighted<Culture>,
    pub aide_roles: Weighted<Role>,
    /// Groups at scale 1.
    pub groups: f64,
    /// Members per group (organisers included), inclusive.
    pub size: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum EnablerKind {
    Official {
        body: &'static str,
        position: &'static str,
    },
    /// A hawala broker or money-transfer agent (a person).
    MoneyBroker,
    ExchangeOffice,
    Forger,
    TransportCompany(CompanyKind),
    BoatSupplier(CompanyKind),
    Landlord,
    Employer,
    Supplier(&'static str),
    SocialMediaPromoter,
    CommunityBroker,
}

pub(super) struct EnablerPlan {
    pub kind: EnablerKind,
    pub stage: Stage,
    pub place: Place,
    /// The community of the people involved, when not the place's own.
    pub culture: Option<Culture>,
    /// How many at scale 1.
    pub count: f64,
}

const fn enabler(kind: EnablerKind, stage: Stage, place: Place) -> EnablerPlan {
    EnablerPlan {
        kind,
        stage,
        place,
        culture: None,
        count: 1.0,
    }
}

const fn diaspora(kind: EnablerKind, stage: Stage, place: Place, culture: Culture) -> EnablerPlan {
    EnablerPlan {
        kind,
        stage,
        place,
        culture: Some(culture),
        count: 1.0,
    }
}

pub(super) struct CorridorPlan {
    pub name: &'static str,
    /// In journey order.
    pub stages: &'static [StagePlan],
    pub enablers: &'static [EnablerPlan],
}

use Culture::{
    Eritrean, Ethiopian, Gambian, Italian, Libyan, Mauritanian, Senegalese, Somali, Spanish,
    Sudanese,
};

const ASMARA: Place = place("Asmara", "er", Eritrean);
const KEREN: Place = place("Keren", "er", Eritrean);
const ADDIS_ABABA: Place = place("Addis Ababa", "et", Ethiopian);
const GONDAR: Place = place("Gondar", "et", Ethiopian);
const SHIRE: Place = place("Shire", "et", Ethiopian);
const MOGADISHU: Place = place("Mogadishu", "so", Somali);
const HARGEISA: Place = place("Hargeisa", "so", Somali);
const KHARTOUM: Place = place("Khartoum", "sd", Sudanese);
const KASSALA: Place = place("Kassala", "sd", Sudanese);
const KUFRA: Place = place("Kufra", "ly", Libyan);
const SABHA: Place = place("Sabha", "ly", Libyan);
const BANI_WALID: Place = place("Bani Walid", "ly", Libyan);
const ZUWARA: Place = place("Zuwara", "ly", Libyan);
const SABRATHA: Place = place("Sabratha", "ly", Libyan);
const TRIPOLI: Place = place("Tripoli", "ly", Libyan);
const GARABULLI: Place = place("Garabulli", "ly", Libyan);
const LAMPEDUSA: Place = place("Lampedusa", "it", Italian);
const AGRIGENTO: Place = place("Agrigento", "it", Italian);
const CATANIA: Place = place("Catania", "it", Italian);
const PALERMO: Place = place("Palermo", "it", Italian);
const ROME: Place = place("Rome", "it", Italian);
const MILAN: Place = place("Milan", "it", Italian);

const DAKAR: Place = place("Dakar", "sn", Senegalese);
const THIES: Place = place("Thiès", "sn", Senegalese);
const KAOLACK: Place = place("Kaolack", "sn", Senegalese);
const SAINT_LOUIS: Place = place("Saint-Louis", "sn", Senegalese);
const MBOUR: Place = place("Mbour", "sn", Senegalese);
const BANJUL: Place = place("Banjul", "gm", Gambian);
const SEREKUNDA: Place = place("Serekunda", "gm", Gambian);
const GUNJUR: Place = place("Gunjur", "gm", Gambian);
const ROSSO: Place = place("Rosso", "mr", Mauritanian);
const NOUAKCHOTT: Place = place("Nouakchott", "mr", Mauritanian);
const NOUADHIBOU: Place = place("Nouadhibou", "mr", Mauritanian);
const LAS_PALMAS: Place = place("Las Palmas de Gran Canaria", "es", Spanish);
const ARGUINEGUIN: Place = place("Arguineguín", "es", Spanish);
const LA_RESTINGA: Place = place("La Restinga", "es", Spanish);
const SANTA_CRUZ: Place = place("Santa Cruz de Tenerife", "es", Spanish);

const CENTRAL_MEDITERRANEAN_STAGES: &[StagePlan] = &[
    StagePlan {
        stage: Stage::Origin,
        places: Pool::new(&[
            ASMARA,
            KEREN,
            ADDIS_ABABA,
            GONDAR,
            SHIRE,
            MOGADISHU,
            HARGEISA,
        ]),
        locals_percent: 85,
        // Eritrean brokers recruit in Ethiopia's refugee camps.
        foreigners: Weighted::new(&[(Eritrean, 3), (Sudanese, 1)]),
        aide_roles: Weighted::new(&[
            (Role::Recruiter, 6),
            (Role::Transporter, 2),
            (Role::SafeHouseKeeper, 1),
            (Role::Enforcer, 1),
        ]),
        groups: 4.0,
        size: (5, 9),
    },
    StagePlan {
        stage: Stage::Transit,
        places: Pool::new(&[KHARTOUM, KASSALA, KUFRA, SABHA]),
        locals_percent: 55,
        foreigners: Weighted::new(&[(Eritrean, 5), (Ethiopian, 2), (Sudanese, 2), (Somali, 1)]),
        aide_roles: Weighted::new(&[
            (Role::Transporter, 5),
            (Role::SafeHouseKeeper, 2),
            (Role::Enforcer, 2),
            (Role::Recruiter, 1),
        ]),
        groups: 5.0,
        size: (6, 12),
    },
    StagePlan {
        stage: Stage::Departure,
        places: Pool::new(&[BANI_WALID, ZUWARA, SABRATHA, TRIPOLI, GARABULLI]),
        locals_percent: 60,
        foreigners: Weighted::new(&[(Eritrean, 4), (Sudanese, 2), (Ethiopian, 1), (Somali, 1)]),
        aide_roles: Weighted::new(&[
            (Role::SafeHouseKeeper, 4),
            (Role::Enforcer, 3),
            (Role::Transporter, 2),
            (Role::Recruiter, 1),
        ]),
        groups: 6.0,
        size: (6, 13),
    },
    StagePlan {
        stage: Stage::Crossing,
        places: Pool::new(&[ZUWARA, SABRATHA, GARABULLI, TRIPOLI]),
        locals_percent: 65,
        // West Africans who steer boats out of Libya are a known pattern.
        foreigners: Weighted::new(&[(Sudanese, 2), (Gambian, 1), (Senegalese, 1), (Eritrean, 1)]),
        aide_roles: Weighted::new(&[
            (Role::BoatOperator, 6),
            (Role::Transporter, 1),
            (Role::Enforcer, 1),
        ]),
        groups: 3.0,
        size: (5, 8),
    },
    StagePlan {
        stage: Stage::Destination,
        places: Pool::new(&[LAMPEDUSA, AGRIGENTO, CATANIA, PALERMO, ROME, MILAN]),
        locals_percent: 20,
        foreigners: Weighted::new(&[(Eritrean, 6), (Ethiopian, 2), (Somali, 1), (Sudanese, 1)]),
        aide_roles: Weighted::new(&[
            (Role::Transporter, 3),
            (Role::SafeHouseKeeper, 2),
            (Role::Recruiter, 2),
        ]),
        groups: 4.0,
        size: (5, 9),
    },
];

const CENTRAL_MEDITERRANEAN_ENABLERS: &[EnablerPlan] = &[
    enabler(
        EnablerKind::Official {
            body: "Regional Travel Documents Office",
            position: "passport clerk",
        },
        Stage::Origin,
        ADDIS_ABABA,
    ),
    enabler(
        EnablerKind::Official {
            body: "Border Police Post",
            position: "border police officer",
        },
        Stage::Transit,
        KASSALA,
    ),
    enabler(
        EnablerKind::Official {
            body: "Desert Checkpoint Command",
            position: "checkpoint commander",
        },
        Stage::Transit,
        KUFRA,
    ),
    enabler(
        EnablerKind::Official {
            body: "Municipal Security Office",
            position: "security officer",
        },
        Stage::Transit,
        SABHA,
    ),
    enabler(
        EnablerKind::Official {
            body: "Migrant Holding Facility (East)",
            position: "facility guard",
        },
        Stage::Departure,
        TRIPOLI,
    ),
    enabler(
        EnablerKind::Official {
            body: "Municipal Guard",
            position: "guard captain",
        },
        Stage::Departure,
        BANI_WALID,
    ),
    enabler(
        EnablerKind::Official {
            body: "Coastal Security Sector",
            position: "coastal security officer",
        },
        Stage::Departure,
        ZUWARA,
    ),
    enabler(
        EnablerKind::Official {
            body: "Coastal Patrol Unit",
            position: "patrol boat commander",
        },
        Stage::Crossing,
        SABRATHA,
    ),
    enabler(EnablerKind::MoneyBroker, Stage::Origin, ADDIS_ABABA),
    EnablerPlan {
        count: 2.0,
        ..enabler(EnablerKind::MoneyBroker, Stage::Transit, KHARTOUM)
    },
    enabler(EnablerKind::MoneyBroker, Stage::Departure, TRIPOLI),
    diaspora(
        EnablerKind::MoneyBroker,
        Stage::Destination,
        MILAN,
        Eritrean,
    ),
    diaspora(EnablerKind::MoneyBroker, Stage::Destination, ROME, Eritrean),
    enabler(EnablerKind::ExchangeOffice, Stage::Transit, KHARTOUM),
    enabler(EnablerKind::ExchangeOffice, Stage::Departure, TRIPOLI),
    enabler(EnablerKind::Forger, Stage::Origin, ADDIS_ABABA),
    enabler(EnablerKind::Forger, Stage::Transit, KHARTOUM),
    enabler(EnablerKind::Forger, Stage::Departure, TRIPOLI),
    enabler(
        EnablerKind::TransportCompany(CompanyKind::Trucking),
        Stage::Transit,
        KUFRA,
    ),
    enabler(
        EnablerKind::TransportCompany(CompanyKind::Trucking),
        Stage::Transit,
        SABHA,
    ),
    enabler(
        EnablerKind::TransportCompany(CompanyKind::Coaches),
        Stage::Transit,
        KHARTOUM,
    ),
    enabler(
        EnablerKind::BoatSupplier(CompanyKind::Fishing),
        Stage::Crossing,
        ZUWARA,
    ),
    enabler(EnablerKind::Landlord, Stage::Departure, BANI_WALID),
    enabler(EnablerKind::Landlord, Stage::Departure, TRIPOLI),
    enabler(EnablerKind::Employer, Stage::Destination, AGRIGENTO),
    enabler(
        EnablerKind::Supplier("outboard engines and fuel"),
        Stage::Crossing,
        GARABULLI,
    ),
    enabler(EnablerKind::SocialMediaPromoter, Stage::Origin, ADDIS_ABABA),
    diaspora(
        EnablerKind::CommunityBroker,
        Stage::Destination,
        ROME,
        Eritrean,
    ),
    diaspora(
        EnablerKind::CommunityBroker,
        Stage::Transit,
        KHARTOUM,
        Eritrean,
    ),
];

const ATLANTIC_STAGES: &[StagePlan] = &[
    StagePlan {
        stage: Stage::Origin,
        places: Pool::new(&[DAKAR, THIES, KAOLACK, SEREKUNDA, BANJUL]),
        locals_percent: 90,
        foreigners: Weighted::new(&[(Senegalese, 1), (Gambian, 1)]),
        aide_roles: Weighted::new(&[
            (Role::Recruiter, 6),
            (Role::Transporter, 2),
            (Role::SafeHouseKeeper, 1),
        ]),
        groups: 4.0,
        size: (5, 9),
    },
    StagePlan {
        stage: Stage::Transit,
        places: Pool::new(&[ROSSO, NOUAKCHOTT]),
        locals_percent: 45,
        foreigners: Weighted::new(&[(Senegalese, 3), (Gambian, 1)]),
        aide_roles: Weighted::new(&[
            (Role::Transporter, 5),
            (Role::SafeHouseKeeper, 2),
            (Role::Enforcer, 1),
            (Role::Recruiter, 1),
        ]),
        groups: 2.0,
        size: (5, 9),
    },
    StagePlan {
        stage: Stage::Departure,
        places: Pool::new(&[NOUADHIBOU, SAINT_LOUIS, MBOUR, GUNJUR]),
        locals_percent: 70,
        foreigners: Weighted::new(&[(Senegalese, 3), (Gambian, 1), (Mauritanian, 1)]),
        aide_roles: Weighted::new(&[
            (Role::SafeHouseKeeper, 3),
            (Role::Recruiter, 2),
            (Role::Transporter, 2),
            (Role::Enforcer, 1),
        ]),
        groups: 4.0,
        size: (6, 11),
    },
    StagePlan {
        stage: Stage::Crossing,
        places: Pool::new(&[NOUADHIBOU, SAINT_LOUIS, MBOUR, BANJUL]),
        locals_percent: 60,
        foreigners: Weighted::new(&[(Senegalese, 4), (Gambian, 2)]),
        aide_roles: Weighted::new(&[
            (Role::BoatOperator, 6),
            (Role::Transporter, 1),
            (Role::Enforcer, 1),
        ]),
        groups: 3.0,
        size: (5, 8),
    },
    StagePlan {
        stage: Stage::Destination,
        places: Pool::new(&[LAS_PALMAS, ARGUINEGUIN, LA_RESTINGA, SANTA_CRUZ]),
        locals_percent: 25,
        foreigners: Weighted::new(&[(Senegalese, 4), (Gambian, 2), (Mauritanian, 1)]),
        aide_roles: Weighted::new(&[
            (Role::Transporter, 3),
            (Role::SafeHouseKeeper, 2),
            (Role::Recruiter, 2),
        ]),
        groups: 2.0,
        size: (5, 8),
    },
];

const ATLANTIC_ENABLERS: &[EnablerPlan] = &[
    enabler(
        EnablerKind::Official {
            body: "Border Post",
            position: "border police officer",
        },
        Stage::Transit,
        ROSSO,
    ),
    enabler(
        EnablerKind::Official {
            body: "Port Police Section",
            position: "port police officer",
        },
        Stage::Departure,
        NOUADHIBOU,
    ),
    enabler(
        EnablerKind::Official {
            body: "Port Security Office",
            position: "port security officer",
        },
        Stage::Departure,
        BANJUL,
    ),
    enabler(
        EnablerKind::Official {
            body: "Maritime Surveillance Post",
            position: "surveillance officer",
        },
        Stage::Crossing,
        SAINT_LOUIS,
    ),
    enabler(EnablerKind::MoneyBroker, Stage::Origin, DAKAR),
    enabler(EnablerKind::MoneyBroker, Stage::Departure, NOUADHIBOU),
    diaspora(
        EnablerKind::MoneyBroker,
        Stage::Destination,
        LAS_PALMAS,
        Senegalese,
    ),
    enabler(EnablerKind::ExchangeOffice, Stage::Origin, DAKAR),
    enabler(EnablerKind::Forger, Stage::Origin, DAKAR),
    enabler(EnablerKind::Forger, Stage::Transit, NOUAKCHOTT),
    enabler(
        EnablerKind::TransportCompany(CompanyKind::Coaches),
        Stage::Transit,
        DAKAR,
    ),
    enabler(
        EnablerKind::BoatSupplier(CompanyKind::Pirogues),
        Stage::Departure,
        MBOUR,
    ),
    enabler(
        EnablerKind::BoatSupplier(CompanyKind::Fishing),
        Stage::Crossing,
        NOUADHIBOU,
    ),
    enabler(
        EnablerKind::Supplier("outboard engines"),
        Stage::Departure,
        SAINT_LOUIS,
    ),
    enabler(EnablerKind::Landlord, Stage::Departure, NOUADHIBOU),
    enabler(EnablerKind::SocialMediaPromoter, Stage::Origin, DAKAR),
    enabler(EnablerKind::CommunityBroker, Stage::Origin, BANJUL),
];

pub(super) const CORRIDORS: &[CorridorPlan] = &[
    CorridorPlan {
        name: CENTRAL_MEDITERRANEAN,
        stages: CENTRAL_MEDITERRANEAN_STAGES,
        enablers: CENTRAL_MEDITERRANEAN_ENABLERS,
    },
    CorridorPlan {
        name: ATLANTIC,
        stages: ATLANTIC_STAGES,
        enablers: ATLANTIC_ENABLERS,
    },
];

/// Index of each route in [`CORRIDORS`].
pub(super) const CENTRAL_MEDITERRANEAN_INDEX: usize = 0;
pub(super) const ATLANTIC_INDEX: usize = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_covers_every_stage_in_journey_order() {
        for corridor in CORRIDORS {
            let stages: Vec<Stage> = corridor.stages.iter().map(|s| s.stage).collect();
            assert_eq!(stages, Stage::ALL, "{}", corridor.name);
            for plan in corridor.stages {
                assert!(plan.size.0 >= 5 && plan.size.0 <= plan.size.1);
                assert!(plan.locals_percent <= 100);
                assert!(
                    plan.aide_roles
                        .items()
                        .all(|r| !r.is_organiser() && !r.is_enabler())
                );
            }
        }
        assert_eq!(
            CORRIDORS[CENTRAL_MEDITERRANEAN_INDEX].name,
            CENTRAL_MEDITERRANEAN
        );
        assert_eq!(CORRIDORS[ATLANTIC_INDEX].name, ATLANTIC);
    }
}
