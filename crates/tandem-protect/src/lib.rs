//! Tandem's protection domain: everything about people who may have been trafficked or
//! exploited that can be decided without a database.
//!
//! - [`catalogue`]: the ILO/EC operational indicators, forced-criminality and forced-labour
//!   indicators as a versioned data file (`catalogue/indicators.toml`), with provenance and
//!   tier status per list.
//! - [`answers`] and [`identify`]: the answers to a screening and the exact decision rule of
//!   the protection spec (§1.2), one evaluation per list applied. The result is "indicators
//!   consistent with trafficking", never a legal label.
//! - [`interview`]: the trauma-informed screening flow for frontline staff, and the mapping of
//!   its responses to [`answers::Answers`].
//! - [`case`]: case workflow states, consent gates on referral and transfer, retention.
//! - [`testimony`]: the testimony coding scheme and the `restricted` actor intelligence drawn
//!   from it, which carries nothing about the person who spoke.
//! - [`release`]: k-anonymous, l-diverse aggregates and the anonymised HTCDS / CTDC exports.
//!
//! The crate does no I/O beyond the readers and writers it is given.

pub mod answers;
pub mod case;
pub mod catalogue;
pub mod identify;
pub mod interview;
pub mod release;
pub mod testimony;

pub use answers::{Answers, AnswersError, ExploitationType, FieldError, IndicatorState};
pub use catalogue::{Catalogue, CatalogueError, DimensionId, ListId, Tier, TierStatus};
pub use identify::{Assessment, Evaluation, identify};
