//! The people and firms around the smuggling groups that make journeys possible: corrupt
//! officials, money handlers, forgers, transport and boat companies, landlords, employers,
//! suppliers, and the social enablers who advertise and vouch. Each is tied to the groups of
//! its route and stage by the relations intelligence would record: employment, directorships,
//! ownership of vehicles and vessels, payments, associations and weaker links.

use std::collections::BTreeMap;

use tandem_core::{Role, Stage};

use super::DemoError;
use super::build::{Actor, Ecosystem, PersonSpec, put, scaled};
use super::corridors::{CORRIDORS, EnablerKind, EnablerPlan};
use super::details::{self, CompanyKind};
use super::names::PersonName;
use super::rng::Rng;

const ALL_STAGES: &[Stage] = Stage::ALL;
const SMUGGLER_ROLES: &[Role] = &[
    Role::Organiser,
    Role::Recruiter,
    Role::Transporter,
    Role::BoatOperator,
    Role::SafeHouseKeeper,
    Role::Enforcer,
];

/// One enabler being placed: its plan and route.
#[derive(Clone, Copy)]
struct Placing {
    corridor: usize,
    plan: &'static EnablerPlan,
}

impl Placing {
    fn country(self) -> &'static str {
        self.plan.place.country
    }

    fn city(self) -> &'static str {
        self.plan.place.city
    }

    fn stage(self) -> Stage {
        self.plan.stage
    }

    /// This stage and the one before it: enablers serve the groups that hand migrants on too.
    fn nearby_stages(self) -> Vec<Stage> {
        let position = Stage::ALL.iter().position(|&s| s == self.plan.stage);
        match position {
            Some(p) if p > 0 => Stage::ALL
                .get(p - 1..=p)
                .map(<[Stage]>::to_vec)
                .unwrap_or_default(),
            _ => vec![self.plan.stage],
        }
    }
}

impl Ecosystem {
    pub fn enablers(&mut self) -> Result<(), DemoError> {
        let mut rng = Rng::stream(self.seed, "enablers");
        let mut bodies: BTreeMap<(usize, usize), String> = BTreeMap::new();
        for (corridor, route) in CORRIDORS.iter().enumerate() {
            for (line, plan) in route.enablers.iter().enumerate() {
                let placing = Placing { corridor, plan };
                for _ in 0..scaled(plan.count, self.scale) {
                    match plan.kind {
                        EnablerKind::Official { body, position } => {
                            let body_id = match bodies.get(&(corridor, line)) {
                                Some(id) => id.clone(),
                                None => {
                                    let id = self.public_body(placing, body)?;
                                    bodies.insert((corridor, line), id.clone());
                                    id
                                }
                            };
                            self.official(placing, &body_id, position, &mut rng)?;
                        }
                        EnablerKind::MoneyBroker => self.money_broker(placing, &mut rng)?,
                        EnablerKind::ExchangeOffice => self.exchange_office(placing, &mut rng)?,
                        EnablerKind::Forger => self.forger(placing, &mut rng)?,
                        EnablerKind::TransportCompany(kind) => {
                            self.transport_company(placing, kind, &mut rng)?;
                        }
                        EnablerKind::BoatSupplier(kind) => {
                            self.boat_supplier(placing, kind, &mut rng)?;
                        }
                        EnablerKind::Landlord => self.landlord(placing, &mut rng)?,
                        EnablerKind::Employer => self.employer(placing, &mut rng)?,
                        EnablerKind::Supplier(goods) => self.supplier(placing, goods, &mut rng)?,
                        EnablerKind::SocialMediaPromoter => self.promoter(placing, &mut rng)?,
                        EnablerKind::CommunityBroker => {
                            self.community_broker(placing, &mut rng)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn enabler_person(
        &mut self,
        placing: Placing,
        role: Role,
        position: Option<&'static str>,
        profession: Option<&'static str>,
        rng: &mut Rng,
    ) -> Result<usize, DemoError> {
        let culture = placing.plan.culture.unwrap_or(placing.plan.place.locals);
        let female = rng.chance(match role {
            Role::SocialEnabler => 0.3,
            Role::MoneyHandler | Role::PrivateEnabler => 0.15,
            _ => 0.1,
        });
        self.add_person(
            PersonSpec {
                name: PersonName::random(culture, female, rng),
                corridor: placing.corridor,
                stage: placing.stage(),
                role,
                place: &placing.plan.place,
                position,
                profession,
            },
            rng,
        )
    }

    fn enabler_company(
        &mut self,
        placing: Placing,
        kind: CompanyKind,
        role: Role,
        rng: &mut Rng,
    ) -> Result<usize, DemoError> {
        let corridor_name = CORRIDORS.get(placing.corridor).map_or("", |c| c.name);
        let mut company = self.blank("Company", "company")?;
        put(&mut company, "name", &kind.name(rng))?;
        put(&mut company, "jurisdiction", placing.country())?;
        put(&mut company, "country", placing.country())?;
        put(
            &mut company,
            "address",
            &details::address(placing.city(), placing.country(), rng),
        )?;
        put(&mut company, "legalForm", kind.legal_form())?;
        put(&mut company, "sector", kind.sector())?;
        put(
            &mut company,
            "registrationNumber",
            &details::registration_number(placing.country(), rng),
        )?;
        put(
            &mut company,
            "incorporationDate",
            &details::day(2005, 2020, rng),
        )?;
        if let Some(phone) = details::phone(placing.country(), rng) {
            put(&mut company, "phone", &phone)?;
        }
        put(
            &mut company,
            "notes",
            "Fictional company generated for the Tandem demo.",
        )?;
        self.tag(&mut company, role, placing.stage(), corridor_name)?;
        let (id, entity) = self.push_thing(company);
        Ok(self.register(Actor {
            id,
            entity,
            corridor: placing.corridor,
            stage: placing.stage(),
            role,
            company: true,
            city: placing.city(),
            name: None,
        }))
    }

    fn public_body(&mut self, placing: Placing, body: &str) -> Result<String, DemoError> {
        let corridor_name = CORRIDORS.get(placing.corridor).map_or("", |c| c.name);
        let mut entity = self.blank("PublicBody", "body")?;
        put(&mut entity, "name", &format!("{body}, {}", placing.city()))?;
        put(&mut entity, "country", placing.country())?;
        put(
            &mut entity,
            "address",
            &format!(
                "{}, {}",
                placing.city(),
                details::country_name(placing.country())
            ),
        )?;
        put(&mut entity, "tandem:stage", placing.stage().as_str())?;
        put(&mut entity, "keywords", corridor_name)?;
        put(
            &mut entity,
            "notes",
            "Fictional public body generated for the Tandem demo; any likeness to a real office is coincidental.",
        )?;
        Ok(self.push_thing(entity).0)
    }

    fn official(
        &mut self,
        placing: Placing,
        body_id: &str,
        position: &'static str,
        rng: &mut Rng,
    ) -> Result<(), DemoError> {
        let official =
            self.enabler_person(placing, Role::CorruptOfficial, Some(position), None, rng)?;
        let official_id = self.actor_id(official).unwrap_or_default();
        let since = details::year(2008, 2020, rng);
        self.relate(
            "Employment",
            "employment",
            [("employee", &official_id), ("employer", body_id)],
            &[("role", position), ("startDate", &since)],
        )?;
        let count = rng.between(1, 3);
        let stages = placing.nearby_stages();
        for organiser in self.pick_actors(rng, placing.corridor, &stages, &[Role::Organiser], count)
        {
            let since = details::year(2015, 2023, rng);
            self.associate(official, organiser, "takes payments from", &since)?;
            let organiser_id = self.actor_id(organiser).unwrap_or_default();
            let (usd, purpose) = match placing.stage() {
                Stage::Origin => (800, "Payment for passports issued without checks"),
                Stage::Transit => (3_000, "Payment to let a convoy pass the checkpoint"),
                Stage::Departure => (
                    5_000,
                    "Payment for the release of detained migrants to the group",
                ),
                _ => (4_000, "Payment to keep patrols away from a departure"),
            };
            let usd = usd * u64::from(rng.between(5, 20)) / 10;
            let payer_country = self.country_of(organiser);
            self.pay(
                &organiser_id,
                &official_id,
                &payer_country,
                usd,
                purpose,
                rng,
            )?;
        }
        Ok(())
    }

    fn country_of(&self, actor: usize) -> String {
        self.actors
            .get(actor)
            .and_then(|a| self.things.get(a.entity))
            .and_then(|e| e.first("country"))
            .unwrap_or_default()
            .to_string()
    }

    /// Settlements with organisers all along the route: the hawala system is how passengers'
    /// fees travel from families to the stage that has to be paid.
    fn settle_with_organisers(
        &mut self,
        handler: usize,
        placing: Placing,
        rng: &mut Rng,
    ) -> Result<(), DemoError> {
        let handler_id = self.actor_id(handler).unwrap_or_default();
        let count = rng.between(2, 4);
        for organiser in
            self.pick_actors(rng, placing.corridor, ALL_STAGES, &[Role::Organiser], count)
        {
            let organiser_id = self.actor_id(organiser).unwrap_or_default();
            let passengers = u64::from(rng.between(8, 60));
            let fare = if placing.corridor == super::corridors::CENTRAL_MEDITERRANEAN_INDEX {
                u64::from(rng.between(15, 40)) * 100
            } else {
                u64::from(rng.between(4, 12)) * 100
            };
            if rng.chance(0.5) {
                let purpose = format!("Hawala settlement: fees of {passengers} passengers");
                self.pay(
                    &handler_id,
                    &organiser_id,
                    placing.country(),
                    passengers * fare,
                    &purpose,
                    rng,
                )?;
            } else {
                let country = self.country_of(organiser);
                self.pay(
                    &organiser_id,
                    &handler_id,
                    &country,
                    passengers * fare / 2,
                    "Transfer through the hawala network to a partner further along the route",
                    rng,
                )?;
            }
        }
        Ok(())
    }

    fn money_broker(&mut self, placing: Placing, rng: &mut Rng) -> Result<(), DemoError> {
        let profession = if placing.corridor == super::corridors::CENTRAL_MEDITERRANEAN_INDEX {
            "hawala broker"
        } else {
            "money transfer agent"
        };
        let broker =
            self.enabler_person(placing, Role::MoneyHandler, None, Some(profession), rng)?;
        self.settle_with_organisers(broker, placing, rng)?;
        if let Some(organiser) = self.pick_actor(
            rng,
            placing.corridor,
            &placing.nearby_stages(),
            &[Role::Organiser],
        ) {
            let since = details::year(2014, 2023, rng);
            self.associate(broker, organiser, "holds passengers' fees for", &since)?;
        }
        Ok(())
    }

    fn exchange_office(&mut self, placing: Placing, rng: &mut Rng) -> Result<(), DemoError> {
        let office =
            self.enabler_company(placing, CompanyKind::Exchange, Role::MoneyHandler, rng)?;
        let owner = self.enabler_person(
            placing,
            Role::MoneyHandler,
            None,
            Some("exchange office owner"),
            rng,
        )?;
        self.own(owner, office, rng)?;
        self.settle_with_organisers(office, placing, rng)
    }

    /// Ownership of a company or asset by an actor, with the share and the date.
    fn own(&mut self, owner: usize, asset: usize, rng: &mut Rng) -> Result<(), DemoError> {
        let (Some(owner_id), Some(asset_id)) = (self.actor_id(owner), self.actor_id(asset)) else {
            return Ok(());
        };
        self.own_by_id(&owner_id, &asset_id, rng)
    }

    fn own_by_id(&mut self, owner: &str, asset: &str, rng: &mut Rng) -> Result<(), DemoError> {
        let since = details::day(2008, 2022, rng);
        self.relate(
            "Ownership",
            "ownership",
            [("owner", owner), ("asset", asset)],
            &[("percentage", "100"), ("startDate", &since)],
        )
    }

    fn forger(&mut self, placing: Placing, rng: &mut Rng) -> Result<(), DemoError> {
        let forger = self.enabler_person(
            placing,
            Role::DocumentForger,
            None,
            Some("print shop owner"),
            rng,
        )?;
        let forger_id = self.actor_id(forger).unwrap_or_default();
        let count = rng.between(1, 3);
        let clients = self.pick_actors(
            rng,
            placing.corridor,
            &[Stage::Origin, Stage::Transit],
            &[Role::Organiser, Role::Recruiter],
            count,
        );
        for client in clients {
            let client_id = self.actor_id(client).unwrap_or_default();
            if rng.chance(0.5) {
                let since = details::year(2015, 2023, rng);
                self.associate(client, forger, "buys forged documents from", &since)?;
            } else {
                self.unknown_link(&client_id, &forger_id, "documents reportedly supplied", 0.5)?;
            }
            let people = u64::from(rng.between(3, 25));
            let purpose = format!("Forged passports and visas for {people} people");
            let country = self.country_of(client);
            self.pay(
                &client_id,
                &forger_id,
                &country,
                people * 250,
                &purpose,
                rng,
            )?;
        }
        Ok(())
    }

    fn transport_company(
        &mut self,
        placing: Placing,
        kind: CompanyKind,
        rng: &mut Rng,
    ) -> Result<(), DemoError> {
        let company = self.enabler_company(placing, kind, Role::TransportCompany, rng)?;
        let company_id = self.actor_id(company).unwrap_or_default();
        let director = self.enabler_person(
            placing,
            Role::TransportCompany,
            None,
            Some("transport company manager"),
            rng,
        )?;
        let director_id = self.actor_id(director).unwrap_or_default();
        let since = details::day(2008, 2021, rng);
        self.relate(
            "Directorship",
            "directorship",
            [("director", &director_id), ("organization", &company_id)],
            &[("role", "general manager"), ("startDate", &since)],
        )?;
        self.own(director, company, rng)?;
        let count = rng.between(1, 3);
        let drivers = self.pick_actors(
            rng,
            placing.corridor,
            &[placing.stage()],
            &[Role::Transporter],
            count,
        );
        for &driver in &drivers {
            let driver_id = self.actor_id(driver).unwrap_or_default();
            let since = details::month(2014, 2023, rng);
            self.relate(
                "Employment",
                "employment",
                [("employee", &driver_id), ("employer", &company_id)],
                &[("role", "driver"), ("startDate", &since)],
            )?;
        }
        for _ in 0..rng.between(2, 4) {
            let (model, kind_of_vehicle) = details::road_vehicle(kind, rng);
            let plate = details::licence_plate(placing.country(), rng);
            let mut vehicle = self.blank("Vehicle", "vehicle")?;
            put(&mut vehicle, "name", &format!("{model} ({plate})"))?;
            put(&mut vehicle, "registrationNumber", &plate)?;
            put(&mut vehicle, "model", model)?;
            put(&mut vehicle, "type", kind_of_vehicle)?;
            put(&mut vehicle, "country", placing.country())?;
            put(&mut vehicle, "buildDate", &details::year(2002, 2020, rng))?;
            put(&mut vehicle, "tandem:stage", placing.stage().as_str())?;
            if let Some(driver_id) = rng.choose(&drivers).and_then(|&d| self.actor_id(d)) {
                put(&mut vehicle, "operator", &driver_id)?;
            }
            let (vehicle_id, _) = self.push_thing(vehicle);
            self.own_by_id(&company_id, &vehicle_id, rng)?;
        }
        if let Some(organiser) = self.pick_actor(
            rng,
            placing.corridor,
            &placing.nearby_stages(),
            &[Role::Organiser],
        ) {
            let organiser_id = self.actor_id(organiser).unwrap_or_default();
            let people = rng.between(20, 120);
            let purpose = format!("Hire of vehicles for a convoy of {people} people");
            let country = self.country_of(organiser);
            self.pay(
                &organiser_id,
                &company_id,
                &country,
                u64::from(people) * 60,
                &purpose,
                rng,
            )?;
        }
        Ok(())
    }

    fn boat_supplier(
        &mut self,
        placing: Placing,
        kind: CompanyKind,
        rng: &mut Rng,
    ) -> Result<(), DemoError> {
        let company = self.enabler_company(placing, kind, Role::PrivateEnabler, rng)?;
        let company_id = self.actor_id(company).unwrap_or_default();
        let owner =
            self.enabler_person(placing, Role::PrivateEnabler, None, Some("boat owner"), rng)?;
        self.own(owner, company, rng)?;
        for _ in 0..rng.between(1, 3) {
            let (name, boat_type, tonnage) = details::boat(kind, placing.country(), rng);
            let mut vessel = self.blank("Vessel", "vessel")?;
            put(&mut vessel, "name", &name)?;
            put(&mut vessel, "type", boat_type)?;
            put(&mut vessel, "flag", placing.country())?;
            put(&mut vessel, "registrationPort", placing.city())?;
            put(&mut vessel, "grossRegisteredTonnage", &tonnage.to_string())?;
            put(&mut vessel, "buildDate", &details::year(1985, 2018, rng))?;
            put(&mut vessel, "tandem:stage", Stage::Crossing.as_str())?;
            if let Some(operator) = self.pick_actor(
                rng,
                placing.corridor,
                &[Stage::Crossing],
                &[Role::BoatOperator],
            ) && let Some(operator_id) = self.actor_id(operator)
            {
                put(&mut vessel, "operator", &operator_id)?;
            }
            let (vessel_id, _) = self.push_thing(vessel);
            self.own_by_id(&company_id, &vessel_id, rng)?;
        }
        let count = rng.between(1, 2);
        let buyers = self.pick_actors(
            rng,
            placing.corridor,
            &[Stage::Departure, Stage::Crossing],
            &[Role::Organiser],
            count,
        );
        for buyer in buyers {
            let buyer_id = self.actor_id(buyer).unwrap_or_default();
            let country = self.country_of(buyer);
            self.pay(
                &buyer_id,
                &company_id,
                &country,
                u64::from(rng.between(8, 40)) * 1_000,
                "Purchase of a boat and engine for a departure",
                rng,
            )?;
        }
        Ok(())
    }

    fn landlord(&mut self, placing: Placing, rng: &mut Rng) -> Result<(), DemoError> {
        let landlord =
            self.enabler_person(placing, Role::PrivateEnabler, None, Some("landlord"), rng)?;
        let landlord_id = self.actor_id(landlord).unwrap_or_default();
        let count = rng.between(1, 2);
        let tenants = self.pick_actors(
            rng,
            placing.corridor,
            &[placing.stage()],
            &[Role::SafeHouseKeeper, Role::Organiser],
            count,
        );
        for tenant in tenants {
            let since = details::year(2016, 2023, rng);
            self.associate(landlord, tenant, "rents a warehouse to", &since)?;
            let tenant_id = self.actor_id(tenant).unwrap_or_default();
            let country = self.country_of(tenant);
            self.pay(
                &tenant_id,
                &landlord_id,
                &country,
                u64::from(rng.between(4, 20)) * 100,
                "Rent of a warehouse",
                rng,
            )?;
        }
        Ok(())
    }

    fn employer(&mut self, placing: Placing, rng: &mut Rng) -> Result<(), DemoError> {
        let company =
            self.enabler_company(placing, CompanyKind::Farm, Role::PrivateEnabler, rng)?;
        let company_id = self.actor_id(company).unwrap_or_default();
        let director = self.enabler_person(
            placing,
            Role::PrivateEnabler,
            None,
            Some("farm manager"),
            rng,
        )?;
        let director_id = self.actor_id(director).unwrap_or_default();
        let since = details::day(2010, 2021, rng);
        self.relate(
            "Directorship",
            "directorship",
            [("director", &director_id), ("organization", &company_id)],
            &[("role", "managing director"), ("startDate", &since)],
        )?;
        let count = rng.between(1, 2);
        let suppliers = self.pick_actors(
            rng,
            placing.corridor,
            &[Stage::Destination],
            &[Role::Organiser, Role::Recruiter],
            count,
        );
        for supplier in suppliers {
            let supplier_id = self.actor_id(supplier).unwrap_or_default();
            self.unknown_link(&company_id, &supplier_id, "takes workers from", 0.5)?;
            let workers = u64::from(rng.between(5, 30));
            let purpose = format!("Fee for {workers} workers supplied");
            self.pay(
                &company_id,
                &supplier_id,
                placing.country(),
                workers * 150,
                &purpose,
                rng,
            )?;
        }
        Ok(())
    }

    fn supplier(
        &mut self,
        placing: Placing,
        goods: &'static str,
        rng: &mut Rng,
    ) -> Result<(), DemoError> {
        let trader = self.enabler_person(
            placing,
            Role::PrivateEnabler,
            None,
            Some("trader in marine engines"),
            rng,
        )?;
        let trader_id = self.actor_id(trader).unwrap_or_default();
        let count = rng.between(1, 3);
        let buyers = self.pick_actors(
            rng,
            placing.corridor,
            &[Stage::Departure, Stage::Crossing],
            &[Role::Organiser, Role::BoatOperator],
            count,
        );
        for buyer in buyers {
            let buyer_id = self.actor_id(buyer).unwrap_or_default();
            let purpose = format!("Purchase of {goods}");
            let country = self.country_of(buyer);
            self.pay(
                &buyer_id,
                &trader_id,
                &country,
                u64::from(rng.between(2, 12)) * 1_000,
                &purpose,
                rng,
            )?;
        }
        Ok(())
    }

    fn promoter(&mut self, placing: Placing, rng: &mut Rng) -> Result<(), DemoError> {
        let promoter = self.enabler_person(
            placing,
            Role::SocialEnabler,
            None,
            Some("social-media page administrator"),
            rng,
        )?;
        let promoter_id = self.actor_id(promoter).unwrap_or_default();
        let count = rng.between(2, 3);
        let clients = self.pick_actors(
            rng,
            placing.corridor,
            &[Stage::Origin, Stage::Departure],
            &[Role::Recruiter, Role::Organiser],
            count,
        );
        for client in clients {
            let client_id = self.actor_id(client).unwrap_or_default();
            self.unknown_link(&promoter_id, &client_id, "advertises crossings for", 0.4)?;
        }
        Ok(())
    }

    fn community_broker(&mut self, placing: Placing, rng: &mut Rng) -> Result<(), DemoError> {
        let broker = self.enabler_person(
            placing,
            Role::SocialEnabler,
            None,
            Some("community figure"),
            rng,
        )?;
        let count = rng.between(1, 2);
        for vouched in
            self.pick_actors(rng, placing.corridor, ALL_STAGES, &[Role::Organiser], count)
        {
            let since = details::year(2012, 2023, rng);
            self.associate(broker, vouched, "vouches for", &since)?;
        }
        Ok(())
    }

    /// Weak intelligence across the whole ecosystem: reported contacts of unknown nature,
    /// mostly within one route.
    pub fn weak_links(&mut self) -> Result<(), DemoError> {
        const KINDS: &[&str] = &[
            "reported contact",
            "shared phone number",
            "seen together at a warehouse",
            "named together in a migrant's account",
            "same vehicle used",
        ];
        let mut rng = Rng::stream(self.seed, "weak links");
        let wanted = scaled(0.08 * self.actors.len() as f64, 1.0);
        let mut linked = std::collections::BTreeSet::new();
        for _ in 0..wanted * 3 {
            if linked.len() >= wanted {
                break;
            }
            let a = rng.below(self.actors.len());
            let corridor = self.actors.get(a).map_or(0, |actor| actor.corridor);
            let b = if rng.chance(0.9) {
                match self.pick_actor(&mut rng, corridor, ALL_STAGES, SMUGGLER_ROLES) {
                    Some(b) => b,
                    None => continue,
                }
            } else {
                rng.below(self.actors.len())
            };
            if a == b || !linked.insert((a.min(b), a.max(b))) {
                continue;
            }
            let (Some(a_id), Some(b_id)) = (self.actor_id(a), self.actor_id(b)) else {
                continue;
            };
            let kind = rng.choose(KINDS).copied().unwrap_or("reported contact");
            let confidence = rng.choose(&[0.3, 0.4, 0.5, 0.6]).copied().unwrap_or(0.5);
            self.unknown_link(&a_id, &b_id, kind, confidence)?;
        }
        Ok(())
    }
}
