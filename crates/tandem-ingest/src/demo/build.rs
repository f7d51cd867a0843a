//! The ecosystem under construction: the entities made so far and, beside them, the plain facts
//! (route, stage, role, group, name) that later phases draw on to tie actors together.

use std::collections::{BTreeMap, BTreeSet};

use tandem_core::{Entity, Role, Sensitivity, Stage};

use super::DemoError;
use super::corridors::{CORRIDORS, Place, StagePlan};
use super::details;
use super::names::{self, Culture, PersonName};
use super::rng::Rng;

/// Campana 2018: organisers are about 15 % of a smuggling ring, aides about 85 %.
pub(super) const ORGANISER_SHARE: f64 = 0.15;
/// Share of group members who are kin of the group's leader (assumption: family ties carry
/// trust in these networks, and recur in investigations).
const KIN_SHARE: f64 = 0.18;
/// Chance that a group's leader is kin of a leader one stage earlier on the same route.
const KIN_ALONG_THE_ROUTE: f64 = 0.3;

pub(super) struct Actor {
    pub id: String,
    /// Index in [`Ecosystem::things`].
    pub entity: usize,
    pub corridor: usize,
    pub stage: Stage,
    pub role: Role,
    pub company: bool,
    pub city: &'static str,
    pub name: Option<PersonName>,
}

pub(super) struct Group {
    pub id: String,
    pub entity: usize,
    pub corridor: usize,
    pub stage: Stage,
    /// Position of the stage on its route.
    pub stage_index: usize,
    pub city: &'static str,
    /// Actor indices; the first organiser leads.
    pub organisers: Vec<usize>,
    pub aides: Vec<usize>,
}

/// What a new person is and where they work.
pub(super) struct PersonSpec {
    pub name: PersonName,
    pub corridor: usize,
    pub stage: Stage,
    pub role: Role,
    pub place: &'static Place,
    pub position: Option<&'static str>,
    pub profession: Option<&'static str>,
}

pub(super) struct Ecosystem {
    pub seed: u64,
    pub scale: f64,
    /// Actors, groups, bodies, vehicles, vessels.
    pub things: Vec<Entity>,
    /// Relation entities.
    pub relations: Vec<Entity>,
    pub designations: Vec<Entity>,
    pub actors: Vec<Actor>,
    pub groups: Vec<Group>,
    counters: BTreeMap<&'static str, usize>,
    /// Actor indices by (route, stage, role), for drawing partners.
    slots: BTreeMap<(usize, Stage, Role), Vec<usize>>,
    /// Actor pairs (lower index first) already tied by an `Associate`.
    associated: BTreeSet<(usize, usize)>,
}

/// Adds a value, naming the entity if the model refuses it.
pub(super) fn put(entity: &mut Entity, property: &str, value: &str) -> Result<(), DemoError> {
    entity
        .add(property, value)
        .map_err(|source| DemoError::Entity {
            id: entity.id.clone(),
            source,
        })
}

/// How many of something at this scale: never fewer than one.
pub(super) fn scaled(at_scale_one: f64, scale: f64) -> usize {
    ((at_scale_one * scale).round() as usize).max(1)
}

struct PlannedGroup {
    corridor: usize,
    stage_index: usize,
    plan: &'static StagePlan,
    size: u32,
    organisers: u32,
}

/// A relative's tie to the person they are named after.
#[derive(Clone, Copy)]
enum Kin {
    Sibling,
    Cousin,
    Spouse,
    InLaw,
}

impl Kin {
    fn relationship(self, female: bool) -> &'static str {
        match (self, female) {
            (Kin::Sibling, false) => "brother",
            (Kin::Sibling, true) => "sister",
            (Kin::Cousin, _) => "cousin",
            (Kin::Spouse, false) => "husband",
            (Kin::Spouse, true) => "wife",
            (Kin::InLaw, false) => "brother-in-law",
            (Kin::InLaw, true) => "sister-in-law",
        }
    }

    fn name(self, anchor: &PersonName, female: bool, rng: &mut Rng) -> PersonName {
        match self {
            Kin::Sibling => anchor.sibling(female, rng),
            Kin::Cousin => anchor.cousin(female, rng),
            // Spouses and in-laws do not share the name in any of these communities.
            Kin::Spouse | Kin::InLaw => PersonName::random(anchor.culture, female, rng),
        }
    }
}

fn female_share(role: Role) -> f64 {
    match role {
        Role::SocialEnabler => 0.3,
        Role::Recruiter => 0.25,
        Role::SafeHouseKeeper => 0.2,
        Role::MoneyHandler | Role::PrivateEnabler => 0.15,
        Role::CorruptOfficial => 0.1,
        Role::Organiser => 0.08,
        _ => 0.03,
    }
}

impl Ecosystem {
    pub fn new(seed: u64, scale: f64) -> Ecosystem {
        Ecosystem {
            seed,
            scale,
            things: Vec::new(),
            relations: Vec::new(),
            designations: Vec::new(),
            actors: Vec::new(),
            groups: Vec::new(),
            counters: BTreeMap::new(),
            slots: BTreeMap::new(),
            associated: BTreeSet::new(),
        }
    }

    pub fn into_entities(self) -> Vec<Entity> {
        let mut all = self.things;
        all.extend(self.relations);
        all.extend(self.designations);
        all
    }

    fn next_id(&mut self, kind: &'static str) -> String {
        let counter = self.counters.entry(kind).or_insert(0);
        *counter += 1;
        format!("demo-{kind}-{:05}", *counter)
    }

    /// A new, empty entity of `schema` with a fresh id; intelligence unless made public later.
    pub fn blank(&mut self, schema: &str, kind: &'static str) -> Result<Entity, DemoError> {
        let id = self.next_id(kind);
        let mut entity =
            Entity::new(schema, id.clone()).map_err(|source| DemoError::Entity { id, source })?;
        entity.sensitivity = Sensitivity::Restricted;
        Ok(entity)
    }

    pub fn push_thing(&mut self, entity: Entity) -> (String, usize) {
        let id = entity.id.clone();
        self.things.push(entity);
        (id, self.things.len() - 1)
    }

    /// Records a relation entity of `schema` between two ids, with extra `(property, value)`s.
    pub fn relate(
        &mut self,
        schema: &'static str,
        kind: &'static str,
        ends: [(&str, &str); 2],
        extra: &[(&str, &str)],
    ) -> Result<(), DemoError> {
        let mut relation = self.blank(schema, kind)?;
        for (property, value) in ends.iter().chain(extra) {
            put(&mut relation, property, value)?;
        }
        self.relations.push(relation);
        Ok(())
    }

    pub fn actor_id(&self, actor: usize) -> Option<String> {
        self.actors.get(actor).map(|a| a.id.clone())
    }

    /// An `Associate` tie between two persons, unless they are already tied.
    pub fn associate(
        &mut self,
        person: usize,
        other: usize,
        relationship: &str,
        since: &str,
    ) -> Result<bool, DemoError> {
        let key = (person.min(other), person.max(other));
        if person == other || self.associated.contains(&key) {
            return Ok(false);
        }
        let (Some(a), Some(b)) = (self.actor_id(person), self.actor_id(other)) else {
            return Ok(false);
        };
        self.associated.insert(key);
        self.relate(
            "Associate",
            "associate",
            [("person", &a), ("associate", &b)],
            &[("relationship", relationship), ("startDate", since)],
        )?;
        Ok(true)
    }

    /// A `Payment` of about `usd` dollars, in the currency of the payer's country.
    pub fn pay(
        &mut self,
        payer: &str,
        beneficiary: &str,
        country: &str,
        usd: u64,
        purpose: &str,
        rng: &mut Rng,
    ) -> Result<(), DemoError> {
        let (amount, currency) = details::money(country, usd);
        let date = details::day(2017, 2025, rng);
        self.relate(
            "Payment",
            "payment",
            [("payer", payer), ("beneficiary", beneficiary)],
            &[
                ("amount", &amount.to_string()),
                ("currency", currency),
                ("date", &date),
                ("purpose", purpose),
            ],
        )
    }

    /// Weak intelligence: a link of unknown nature, with the confidence the source merits.
    pub fn unknown_link(
        &mut self,
        subject: &str,
        object: &str,
        role: &str,
        confidence: f32,
    ) -> Result<(), DemoError> {
        let mut link = self.blank("UnknownLink", "link")?;
        put(&mut link, "subject", subject)?;
        put(&mut link, "object", object)?;
        put(&mut link, "role", role)?;
        link.confidence = Some(confidence);
        self.relations.push(link);
        Ok(())
    }

    /// A random actor of `corridor` at one of `stages` in one of `roles`.
    pub fn pick_actor(
        &self,
        rng: &mut Rng,
        corridor: usize,
        stages: &[Stage],
        roles: &[Role],
    ) -> Option<usize> {
        let lists: Vec<&Vec<usize>> = stages
            .iter()
            .flat_map(|&stage| roles.iter().map(move |&role| (corridor, stage, role)))
            .filter_map(|key| self.slots.get(&key))
            .collect();
        let total: usize = lists.iter().map(|l| l.len()).sum();
        if total == 0 {
            return None;
        }
        let mut rest = rng.below(total);
        for list in lists {
            if let Some(&actor) = list.get(rest) {
                return Some(actor);
            }
            rest -= list.len();
        }
        None
    }

    /// Up to `count` distinct actors, drawn as in [`Ecosystem::pick_actor`].
    pub fn pick_actors(
        &self,
        rng: &mut Rng,
        corridor: usize,
        stages: &[Stage],
        roles: &[Role],
        count: u32,
    ) -> Vec<usize> {
        let mut chosen = Vec::new();
        for _ in 0..count * 3 {
            if chosen.len() >= count as usize {
                break;
            }
            match self.pick_actor(rng, corridor, stages, roles) {
                Some(actor) if !chosen.contains(&actor) => chosen.push(actor),
                Some(_) => {}
                None => break,
            }
        }
        chosen
    }

    /// A person with the names, aliases, dates, numbers and places that case files hold.
    pub fn add_person(&mut self, spec: PersonSpec, rng: &mut Rng) -> Result<usize, DemoError> {
        let corridor_name = CORRIDORS.get(spec.corridor).map_or("", |c| c.name);
        let name = &spec.name;
        let culture = name.culture;
        let mut person = self.blank("Person", "person")?;
        let full = name.full();
        put(&mut person, "name", &full)?;
        put(&mut person, "firstName", name.first_name())?;
        if let Some(father) = name.father_name() {
            put(&mut person, "fatherName", father)?;
        }
        if let Some(last) = name.last_name() {
            put(&mut person, "lastName", &last)?;
        }
        put(
            &mut person,
            "gender",
            if name.female { "female" } else { "male" },
        )?;
        if rng.chance(0.6) {
            for _ in 0..rng.between(1, 2) {
                let variant = name.variant(rng);
                if variant != full {
                    put(&mut person, "alias", &variant)?;
                }
            }
        }
        if rng.chance(0.25)
            && let Some(other) = name.other_form()
        {
            put(&mut person, "alias", &other)?;
        }
        if rng.chance(0.3)
            && let Some(kunya) = name.kunya(rng)
        {
            put(&mut person, "alias", &kunya)?;
        }
        if rng.chance(0.4)
            && let Some(short) = name.short()
        {
            put(&mut person, "weakAlias", short)?;
        }
        if rng.chance(0.25)
            && let Some(epithet) = names::epithet(spec.role, rng)
        {
            put(&mut person, "weakAlias", epithet)?;
        }
        let abroad = culture.nationality() != spec.place.country;
        if abroad
            && matches!(spec.place.country, "ly" | "sd")
            && rng.chance(0.35)
            && let Some(nisba) = culture.nisba()
        {
            put(&mut person, "weakAlias", nisba)?;
        }
        put(&mut person, "nationality", culture.nationality())?;
        for date in details::birth_dates(rng) {
            put(&mut person, "birthDate", &date)?;
        }
        if rng.chance(0.5) {
            put(&mut person, "birthPlace", culture.home_cities().pick(rng))?;
        }
        put(&mut person, "country", spec.place.country)?;
        put(
            &mut person,
            "address",
            &details::address(spec.place.city, spec.place.country, rng),
        )?;
        let phones = match rng.below(10) {
            0..=2 => 0,
            3..=7 => 1,
            _ => 2,
        };
        for _ in 0..phones {
            if let Some(number) = details::phone(spec.place.country, rng) {
                put(&mut person, "phone", &number)?;
            }
        }
        let at_sea = matches!(spec.role, Role::BoatOperator | Role::Organiser)
            && matches!(spec.stage, Stage::Departure | Stage::Crossing);
        if at_sea && rng.chance(0.5) {
            put(&mut person, "phone", &details::satellite_phone(rng))?;
        }
        if rng.chance(0.2) {
            put(
                &mut person,
                "passportNumber",
                &details::passport_number(culture.nationality(), rng),
            )?;
        }
        for language in culture.languages() {
            put(&mut person, "spokenLanguage", language)?;
        }
        if let Some(position) = spec.position {
            put(&mut person, "position", position)?;
        }
        if let Some(profession) = spec.profession {
            put(&mut person, "profession", profession)?;
        }
        self.tag(&mut person, spec.role, spec.stage, corridor_name)?;
        let (id, entity) = self.push_thing(person);
        Ok(self.register(Actor {
            id,
            entity,
            corridor: spec.corridor,
            stage: spec.stage,
            role: spec.role,
            company: false,
            city: spec.place.city,
            name: Some(spec.name),
        }))
    }

    /// Role, stage, route and topic, which every actor carries.
    pub fn tag(
        &self,
        entity: &mut Entity,
        role: Role,
        stage: Stage,
        corridor_name: &str,
    ) -> Result<(), DemoError> {
        put(entity, "tandem:role", role.as_str())?;
        put(entity, "tandem:stage", stage.as_str())?;
        put(entity, "keywords", corridor_name)?;
        put(entity, "topics", "crime.traffick")
    }

    pub fn register(&mut self, actor: Actor) -> usize {
        let index = self.actors.len();
        self.slots
            .entry((actor.corridor, actor.stage, actor.role))
            .or_default()
            .push(index);
        self.actors.push(actor);
        index
    }

    /// The smuggling groups of both routes, their members, kin and memberships.
    pub fn smuggling_groups(&mut self) -> Result<(), DemoError> {
        let mut rng = Rng::stream(self.seed, "groups");
        let mut planned = Vec::new();
        for (corridor, route) in CORRIDORS.iter().enumerate() {
            for (stage_index, plan) in route.stages.iter().enumerate() {
                for _ in 0..scaled(plan.groups, self.scale) {
                    planned.push(PlannedGroup {
                        corridor,
                        stage_index,
                        plan,
                        size: rng.between(plan.size.0, plan.size.1),
                        organisers: 1,
                    });
                }
            }
        }
        allocate_organisers(&mut planned, &mut rng);
        for group in &planned {
            self.group(group, &mut rng)?;
        }
        Ok(())
    }

    fn culture_at(plan: &StagePlan, place: &Place, rng: &mut Rng) -> Culture {
        if rng.below(100) < plan.locals_percent as usize {
            place.locals
        } else {
            plan.foreigners.pick(rng)
        }
    }

    fn group(&mut self, planned: &PlannedGroup, rng: &mut Rng) -> Result<(), DemoError> {
        let plan = planned.plan;
        let place = plan.places.pick(rng);
        let corridor_name = CORRIDORS.get(planned.corridor).map_or("", |c| c.name);
        let group_index = self.groups.len();

        // The leader, perhaps kin of a leader one stage earlier: family chains along a route.
        let earlier: Vec<usize> = self
            .groups
            .iter()
            .filter(|g| g.corridor == planned.corridor && g.stage_index + 1 == planned.stage_index)
            .filter_map(|g| g.organisers.first().copied())
            .collect();
        let kin_leader = match rng.choose(&earlier) {
            Some(&anchor) if rng.chance(KIN_ALONG_THE_ROUTE) => self
                .actors
                .get(anchor)
                .and_then(|a| a.name.clone())
                .map(|name| (anchor, name)),
            _ => None,
        };
        let leader_female = rng.chance(female_share(Role::Organiser));
        let (leader_name, leader_kin) = match kin_leader {
            Some((anchor, anchor_name)) => {
                let kin = if rng.chance(0.7) {
                    Kin::Sibling
                } else {
                    Kin::Cousin
                };
                (
                    kin.name(&anchor_name, leader_female, rng),
                    Some((anchor, kin.relationship(leader_female))),
                )
            }
            None => (
                PersonName::random(Self::culture_at(plan, place, rng), leader_female, rng),
                None,
            ),
        };

        let mut organisation = self.blank("Organization", "group")?;
        let label = leader_name.label();
        put(&mut organisation, "name", &format!("{label} network"))?;
        put(
            &mut organisation,
            "alias",
            &format!("{} {} group", place.city, plan.stage.as_str()),
        )?;
        put(&mut organisation, "country", place.country)?;
        put(
            &mut organisation,
            "address",
            &format!("{}, {}", place.city, details::country_name(place.country)),
        )?;
        put(&mut organisation, "tandem:stage", plan.stage.as_str())?;
        put(&mut organisation, "keywords", corridor_name)?;
        put(&mut organisation, "topics", "crime.traffick")?;
        put(
            &mut organisation,
            "notes",
            "Fictional smuggling group generated for the Tandem demo.",
        )?;
        let founded = details::year(2012, 2021, rng);
        put(&mut organisation, "incorporationDate", &founded)?;
        let (group_id, group_entity) = self.push_thing(organisation);
        self.groups.push(Group {
            id: group_id.clone(),
            entity: group_entity,
            corridor: planned.corridor,
            stage: plan.stage,
            stage_index: planned.stage_index,
            city: place.city,
            organisers: Vec::new(),
            aides: Vec::new(),
        });

        let mut leader: Option<(usize, PersonName)> = None;
        for member in 0..planned.size {
            let organiser = member < planned.organisers;
            let role = if organiser {
                Role::Organiser
            } else {
                plan.aide_roles.pick(rng)
            };
            let (name, kin) = match &leader {
                None => (leader_name.clone(), leader_kin),
                Some((leader_actor, leader_name)) if rng.chance(KIN_SHARE) => {
                    let kin = match rng.below(10) {
                        0..=4 => Kin::Sibling,
                        5..=7 => Kin::Cousin,
                        8 => Kin::InLaw,
                        _ => Kin::Spouse,
                    };
                    let female = match kin {
                        Kin::Spouse => !leader_name.female,
                        _ => rng.chance(female_share(role)),
                    };
                    (
                        kin.name(leader_name, female, rng),
                        Some((*leader_actor, kin.relationship(female))),
                    )
                }
                Some(_) => {
                    let female = rng.chance(female_share(role));
                    (
                        PersonName::random(Self::culture_at(plan, place, rng), female, rng),
                        None,
                    )
                }
            };
            let actor = self.add_person(
                PersonSpec {
                    name,
                    corridor: planned.corridor,
                    stage: plan.stage,
                    role,
                    place,
                    position: None,
                    profession: None,
                },
                rng,
            )?;
            if leader.is_none() {
                let name = self.actors.get(actor).and_then(|a| a.name.clone());
                leader = name.map(|n| (actor, n));
            }
            if let Some(group) = self.groups.get_mut(group_index) {
                if organiser {
                    group.organisers.push(actor);
                } else {
                    group.aides.push(actor);
                }
            }
            let member_id = self.actor_id(actor).unwrap_or_default();
            if let Some((anchor, relationship)) = kin
                && let Some(anchor_id) = self.actor_id(anchor)
            {
                self.relate(
                    "Family",
                    "family",
                    [("person", &anchor_id), ("relative", &member_id)],
                    &[("relationship", relationship)],
                )?;
            }
            let joined = details::month(2012, 2023, rng);
            let membership_role = if organiser {
                "organiser".to_string()
            } else {
                role.as_str().replace('_', " ")
            };
            self.relate(
                "Membership",
                "membership",
                [("member", &member_id), ("organization", &group_id)],
                &[("role", &membership_role), ("startDate", &joined)],
            )?;
        }
        Ok(())
    }
}

/// Gives every group one organiser, then hands out the rest, one at a time to a random member
/// slot's group, until organisers are [`ORGANISER_SHARE`] of all members (never more than a
/// third of one group).
fn allocate_organisers(planned: &mut [PlannedGroup], rng: &mut Rng) {
    let total: u32 = planned.iter().map(|g| g.size).sum();
    let wanted = (f64::from(total) * ORGANISER_SHARE).round() as u32;
    let mut extra = wanted.saturating_sub(planned.len() as u32);
    let mut attempts = 0;
    while extra > 0 && attempts < total * 4 {
        attempts += 1;
        let mut slot = rng.below(total as usize) as u32;
        for group in planned.iter_mut() {
            if slot < group.size {
                if (group.organisers + 1) * 3 <= group.size {
                    group.organisers += 1;
                    extra -= 1;
                }
                break;
            }
            slot -= group.size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisers_are_allocated_to_the_target_share() {
        let plan = &CORRIDORS[0].stages[0];
        let mut rng = Rng::stream(11, "test");
        let mut planned: Vec<PlannedGroup> = (0..40)
            .map(|i| PlannedGroup {
                corridor: 0,
                stage_index: 0,
                plan,
                size: 5 + i % 9,
                organisers: 1,
            })
            .collect();
        allocate_organisers(&mut planned, &mut rng);
        let total: u32 = planned.iter().map(|g| g.size).sum();
        let organisers: u32 = planned.iter().map(|g| g.organisers).sum();
        assert_eq!(
            organisers,
            (f64::from(total) * ORGANISER_SHARE).round() as u32
        );
        assert!(
            planned
                .iter()
                .all(|g| g.organisers >= 1 && g.organisers * 3 <= g.size.max(3))
        );
    }
}
