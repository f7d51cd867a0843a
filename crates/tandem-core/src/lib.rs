//! Tandem's entity model.
//!
//! FollowTheMoney-compatible schemata and properties ([`model`]), typed values ([`value`]),
//! entities and statements with provenance ([`entity`]), sensitivity ([`sensitivity`]) and
//! the ecosystem vocabulary of roles and route stages ([`ecosystem`]).

pub mod country;
pub mod ecosystem;
pub mod entity;
pub mod error;
pub mod model;
pub mod sensitivity;
pub mod time;
pub mod value;

pub use ecosystem::{Role, Stage};
pub use entity::{Entity, Provenance, Statement};
pub use error::{EntityError, ModelError, ValueError};
pub use model::{Model, Property, PropertyType, Schema};
pub use sensitivity::Sensitivity;
