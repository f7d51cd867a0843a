//! `tandem demo`: a synthetic, deterministic smuggling ecosystem on two routes, so that every
//! part of Tandem can be tried without real intelligence.
//!
//! - The **Central Mediterranean route**: the Horn of Africa (Eritrea, Ethiopia, Somalia),
//!   Sudan (Khartoum, Kassala), the Libyan Sahara (Kufra, Sabha), the Libyan coast (Bani Walid,
//!   Zuwara, Sabratha, Tripoli, Garabulli) and Italy (Lampedusa, Sicily, onward to Rome and
//!   Milan).
//! - The **Atlantic route**: Senegal and the Gambia (Dakar, Saint-Louis, Mbour, Banjul),
//!   Mauritania (Rosso, Nouakchott, Nouadhibou) and the Canary Islands.
//!
//! Each route has smuggling groups (`Organization`) at every journey stage, with organisers
//! (≈ 15 %) and aides (≈ 85 %) as Campana (2018) found; members carry `tandem:role` and
//! `tandem:stage`, and every actor carries its route's name ([`CENTRAL_MEDITERRANEAN`] or
//! [`ATLANTIC`]) in `keywords`. Around the groups are enablers: corrupt officials employed by
//! public bodies, transport and boat companies with their vehicles and vessels, hawala brokers
//! and exchange offices, forgers, landlords, an employer, suppliers, and social enablers. Ties
//! are relation entities (`Associate`, `Family`, `Membership`, `Payment`, `Employment`,
//! `Directorship`, `Ownership`, `UnknownLink`); `Associate` ties among smugglers follow the
//! odds the ecosystem model prescribes (same stage ≈ 7× likelier, two organisers or two aides
//! ≈ 3× less likely). A few `Sanction`s by the UN Libya committee, OFAC and the UK's
//! irregular-migration regime name organisers and enablers; they and the actors they name are
//! `public`, everything else `restricted`.
//!
//! Every name, number and designation is invented (see [`DEMO_DATASET_TITLE`]). The output is
//! a pure function of [`DemoConfig`]: the generator has its own PRNG and uses only basic IEEE
//! arithmetic, so a seed gives the same entities on every machine.

mod build;
mod corridors;
mod designations;
mod details;
mod enablers;
mod names;
mod rng;
mod ties;

#[cfg(test)]
mod tests;

use tandem_core::{Entity, EntityError};
use thiserror::Error;

use crate::{Location, Record, dataset_names};

pub use corridors::{ATLANTIC, CENTRAL_MEDITERRANEAN};
pub use designations::{UK_IRREGULAR_MIGRATION_REGIME, UN_LIBYA_COMMITTEE, US_TREASURY_OFAC};

/// The title under which the demo dataset is stored and shown.
pub const DEMO_DATASET_TITLE: &str = "Tandem demo: a synthetic smuggling ecosystem — fictional: every person, group, company, vessel, phone number and designation in it is invented";

pub const DEFAULT_SEED: u64 = 2018;
/// Scale 1 gives about 300–500 actors; the scale multiplies the number of groups and enablers.
pub const MIN_SCALE: f64 = 0.05;
pub const MAX_SCALE: f64 = 50.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoConfig {
    pub seed: u64,
    pub scale: f64,
}

impl Default for DemoConfig {
    fn default() -> DemoConfig {
        DemoConfig {
            seed: DEFAULT_SEED,
            scale: 1.0,
        }
    }
}

#[derive(Debug, Error)]
pub enum DemoError {
    #[error("demo scale {0} is out of range: use a number from {MIN_SCALE} to {MAX_SCALE}")]
    Scale(f64),
    /// The model refused a generated value: a defect in the generator's tables.
    #[error("demo entity {id}: {source}")]
    Entity {
        id: String,
        #[source]
        source: EntityError,
    },
}

/// The whole demo ecosystem: actors and groups first, then relations, then designations.
pub fn generate(config: &DemoConfig) -> Result<Vec<Entity>, DemoError> {
    if !(MIN_SCALE..=MAX_SCALE).contains(&config.scale) {
        return Err(DemoError::Scale(config.scale));
    }
    let mut ecosystem = build::Ecosystem::new(config.seed, config.scale);
    ecosystem.smuggling_groups()?;
    ecosystem.associate_ties()?;
    ecosystem.enablers()?;
    ecosystem.weak_links()?;
    ecosystem.designations()?;
    Ok(ecosystem.into_entities())
}

/// The demo as the records an import consumes; each record's location is the dataset name
/// and the entity's position in the generated sequence.
pub fn records(config: &DemoConfig) -> Result<impl Iterator<Item = Record>, DemoError> {
    let source = Location::file(dataset_names::DEMO);
    Ok(generate(config)?
        .into_iter()
        .enumerate()
        .map(move |(index, entity)| Record::upsert(entity, source.at_line(index as u64 + 1))))
}
