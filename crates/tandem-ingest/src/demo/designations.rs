//! A handful of (fictional) designations by the three authorities that sanction migrant
//! smugglers: the UN Security Council's Libya committee, the US Treasury (OFAC) and the UK's
//! irregular-migration regime. Designations and the actors they name are public; the rest of
//! the demo is intelligence.

use std::collections::BTreeSet;

use tandem_core::{Role, Sensitivity, Stage};

use super::DemoError;
use super::build::{Ecosystem, put, scaled};
use super::corridors::{ATLANTIC_INDEX, CENTRAL_MEDITERRANEAN_INDEX};
use super::details;
use super::rng::Rng;

pub const UN_LIBYA_COMMITTEE: &str = "UN Security Council (Libya committee)";
pub const US_TREASURY_OFAC: &str = "US Treasury OFAC";
pub const UK_IRREGULAR_MIGRATION_REGIME: &str =
    "UK FCDO (Global Irregular Migration and Trafficking in Persons regime)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Authority {
    UnLibya,
    Ofac,
    Uk,
}

impl Authority {
    fn name(self) -> &'static str {
        match self {
            Authority::UnLibya => UN_LIBYA_COMMITTEE,
            Authority::Ofac => US_TREASURY_OFAC,
            Authority::Uk => UK_IRREGULAR_MIGRATION_REGIME,
        }
    }

    fn program(self) -> &'static str {
        match self {
            Authority::UnLibya => "Libya sanctions regime (resolution 1970 (2011))",
            Authority::Ofac => "Transnational Criminal Organizations (TCO), Executive Order 13581",
            Authority::Uk => "Global Irregular Migration and Trafficking in Persons Sanctions",
        }
    }

    fn country(self) -> Option<&'static str> {
        match self {
            Authority::UnLibya => None,
            Authority::Ofac => Some("us"),
            Authority::Uk => Some("gb"),
        }
    }

    fn provisions(self) -> &'static str {
        match self {
            Authority::UnLibya => "Asset freeze; travel ban",
            Authority::Ofac => "Blocking of property and interests in property",
            Authority::Uk => "Asset freeze; travel ban; director disqualification",
        }
    }

    fn id_prefix(self) -> &'static str {
        match self {
            Authority::UnLibya => "DEMO-UN-LY",
            Authority::Ofac => "DEMO-OFAC-TCO",
            Authority::Uk => "DEMO-UK-GIM",
        }
    }

    /// The UN committee listed its first smugglers in June 2018; the UK regime dates from July
    /// 2025.
    fn listing_date(self, rng: &mut Rng) -> String {
        match self {
            Authority::UnLibya => format!(
                "{}-{:02}-{:02}",
                rng.between(2018, 2024),
                rng.between(6, 12),
                rng.between(1, 28)
            ),
            Authority::Ofac => details::day(2018, 2025, rng),
            Authority::Uk => format!("2025-{:02}-{:02}", rng.between(7, 10), rng.between(1, 28)),
        }
    }
}

#[derive(Clone, Copy)]
enum Target {
    Person(Role, &'static [Stage]),
    Company(Role, &'static [Stage]),
    Group(&'static [Stage]),
    /// The actor chosen by the plan at this index in the same round: several authorities
    /// often list the same person.
    AlsoListed(usize),
}

struct Plan {
    authority: Authority,
    corridor: usize,
    target: Target,
}

const CM: usize = CENTRAL_MEDITERRANEAN_INDEX;
const AT: usize = ATLANTIC_INDEX;

const PLANS: &[Plan] = &[
    Plan {
        authority: Authority::UnLibya,
        corridor: CM,
        target: Target::Person(Role::Organiser, &[Stage::Departure]),
    },
    Plan {
        authority: Authority::UnLibya,
        corridor: CM,
        target: Target::Person(Role::Organiser, &[Stage::Transit]),
    },
    Plan {
        authority: Authority::UnLibya,
        corridor: CM,
        target: Target::Person(Role::CorruptOfficial, &[Stage::Departure, Stage::Crossing]),
    },
    Plan {
        authority: Authority::Ofac,
        corridor: CM,
        target: Target::AlsoListed(0),
    },
    Plan {
        authority: Authority::Ofac,
        corridor: CM,
        target: Target::Person(Role::MoneyHandler, &[Stage::Transit, Stage::Departure]),
    },
    Plan {
        authority: Authority::Ofac,
        corridor: CM,
        target: Target::Company(Role::TransportCompany, &[Stage::Transit]),
    },
    Plan {
        authority: Authority::Uk,
        corridor: CM,
        target: Target::Group(&[Stage::Departure]),
    },
    Plan {
        authority: Authority::Uk,
        corridor: AT,
        target: Target::Person(Role::Organiser, &[Stage::Departure, Stage::Crossing]),
    },
    Plan {
        authority: Authority::Uk,
        corridor: AT,
        target: Target::Person(Role::DocumentForger, &[Stage::Origin, Stage::Transit]),
    },
    Plan {
        authority: Authority::Uk,
        corridor: AT,
        target: Target::Company(Role::MoneyHandler, &[Stage::Origin]),
    },
];

/// Whom a designation names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Designee {
    Actor(usize),
    Group(usize),
}

struct Subject {
    entity: usize,
    id: String,
    city: &'static str,
    stage: Stage,
    role: Option<Role>,
    company: bool,
}

impl Ecosystem {
    /// `scale` rounds (at least one) of the plan above, each naming new targets.
    pub fn designations(&mut self) -> Result<(), DemoError> {
        let mut rng = Rng::stream(self.seed, "designations");
        let mut listed: BTreeSet<(Authority, usize)> = BTreeSet::new();
        for _ in 0..scaled(1.0, self.scale) {
            let mut chosen: Vec<Option<Designee>> = Vec::with_capacity(PLANS.len());
            for plan in PLANS {
                let designee = match plan.target {
                    Target::AlsoListed(index) => chosen.get(index).copied().flatten(),
                    target => self.pick_designee(plan, target, &listed, &mut rng),
                };
                chosen.push(designee);
                let Some(designee) = designee else { continue };
                let Some(subject) = self.subject(designee) else {
                    continue;
                };
                if listed.insert((plan.authority, subject.entity)) {
                    self.designate(plan.authority, &subject, &mut rng)?;
                }
            }
        }
        Ok(())
    }

    fn pick_designee(
        &self,
        plan: &Plan,
        target: Target,
        listed: &BTreeSet<(Authority, usize)>,
        rng: &mut Rng,
    ) -> Option<Designee> {
        let free = |entity: usize| !listed.contains(&(plan.authority, entity));
        let candidates: Vec<Designee> = match target {
            Target::Group(stages) => self
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| {
                    g.corridor == plan.corridor && stages.contains(&g.stage) && free(g.entity)
                })
                .map(|(i, _)| Designee::Group(i))
                .collect(),
            Target::Person(role, stages) | Target::Company(role, stages) => {
                let company = matches!(target, Target::Company(..));
                self.actors
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| {
                        a.corridor == plan.corridor
                            && a.role == role
                            && a.company == company
                            && stages.contains(&a.stage)
                            && free(a.entity)
                    })
                    .map(|(i, _)| Designee::Actor(i))
                    .collect()
            }
            Target::AlsoListed(_) => Vec::new(),
        };
        rng.choose(&candidates).copied()
    }

    fn subject(&self, designee: Designee) -> Option<Subject> {
        match designee {
            Designee::Actor(i) => self.actors.get(i).map(|a| Subject {
                entity: a.entity,
                id: a.id.clone(),
                city: a.city,
                stage: a.stage,
                role: Some(a.role),
                company: a.company,
            }),
            Designee::Group(i) => self.groups.get(i).map(|g| Subject {
                entity: g.entity,
                id: g.id.clone(),
                city: g.city,
                stage: g.stage,
                role: None,
                company: false,
            }),
        }
    }

    fn designate(
        &mut self,
        authority: Authority,
        subject: &Subject,
        rng: &mut Rng,
    ) -> Result<(), DemoError> {
        // A designation is published, and with it the designated actor's identity; phone
        // numbers are intelligence that published lists do not carry.
        if let Some(entity) = self.things.get_mut(subject.entity) {
            entity.sensitivity = Sensitivity::Public;
            entity.properties.remove("phone");
            put(entity, "topics", "sanction")?;
            if entity.schema == "Person" {
                put(
                    entity,
                    "notes",
                    "Fictional person generated for the Tandem demo.",
                )?;
            }
        }
        let mut sanction = self.blank("Sanction", "sanction")?;
        sanction.sensitivity = Sensitivity::Public;
        let listed = authority.listing_date(rng);
        let number = self.designations.len() + 1;
        put(&mut sanction, "entity", &subject.id)?;
        put(&mut sanction, "authority", authority.name())?;
        put(&mut sanction, "program", authority.program())?;
        if let Some(country) = authority.country() {
            put(&mut sanction, "country", country)?;
        }
        put(&mut sanction, "listingDate", &listed)?;
        put(&mut sanction, "startDate", &listed)?;
        put(&mut sanction, "provisions", authority.provisions())?;
        put(&mut sanction, "status", "active")?;
        put(
            &mut sanction,
            "authorityId",
            &format!("{}.{number:03}", authority.id_prefix()),
        )?;
        put(&mut sanction, "reason", &reason(subject))?;
        put(
            &mut sanction,
            "summary",
            "Fictional designation generated by `tandem demo`; no such listing exists.",
        )?;
        self.designations.push(sanction);
        Ok(())
    }
}

fn reason(subject: &Subject) -> String {
    let city = subject.city;
    match (subject.role, subject.company, subject.stage) {
        (None, _, _) => format!(
            "Smuggling group based in {city} that holds migrants in warehouses, extorts ransoms from their families and organises unseaworthy sea departures."
        ),
        (Some(Role::Organiser), _, Stage::Origin) => format!(
            "Leads a network that recruits migrants in {city} and sells them journeys on credit, binding them by debt."
        ),
        (Some(Role::Organiser), _, Stage::Transit) => format!(
            "Runs desert convoys and holding sites out of {city}; migrants are held there until their families pay ransoms."
        ),
        (Some(Role::Organiser), _, Stage::Departure) => format!(
            "Controls warehouses and sea departures around {city}; migrants held there report beatings, forced labour and extortion."
        ),
        (Some(Role::Organiser), _, Stage::Crossing) => {
            format!("Organises overcrowded, unseaworthy boat departures from {city}.")
        }
        (Some(Role::Organiser), _, Stage::Destination) => format!(
            "Organises onward movement from {city} and collects migrants' debts through threats against their families."
        ),
        (Some(Role::MoneyHandler), true, _) => format!(
            "Exchange office in {city} through which smuggling networks move the proceeds of migrant smuggling."
        ),
        (Some(Role::MoneyHandler), false, _) => format!(
            "Hawala broker in {city} who holds and settles migrants' fees for smuggling networks along the route."
        ),
        (Some(Role::CorruptOfficial), _, _) => format!(
            "Official in {city} who takes payments from smugglers and hands detained migrants over to them."
        ),
        (Some(Role::DocumentForger), _, _) => {
            format!("Produces forged passports and visas in {city} for smuggling networks.")
        }
        (Some(Role::TransportCompany), _, _) => format!(
            "Transport company in {city} whose vehicles carry migrants for smuggling networks."
        ),
        (Some(_), _, _) => format!("Facilitates migrant smuggling in {city}."),
    }
}
