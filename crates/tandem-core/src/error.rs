//! Typed errors of the entity model. Each names what was wrong so that importers can add where.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    #[error("schema listing, line {line}: {message}")]
    Listing { line: usize, message: String },
    #[error("unknown schema {0:?}")]
    UnknownSchema(String),
    #[error("schema {schema} has no property {property:?}")]
    UnknownProperty { schema: String, property: String },
    #[error("schema {0} is abstract: entities must use a concrete schema")]
    AbstractSchema(String),
}

/// A value that does not fit its property's type.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{property}: {message} (value {value:?})")]
pub struct ValueError {
    pub property: String,
    pub value: String,
    pub message: String,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EntityError {
    #[error(
        "invalid entity id {0:?}: use 1 to 200 characters of letters, digits, '.', '-', '_' or ':'"
    )]
    InvalidId(String),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error("unknown sensitivity {0:?}: use public, restricted or protected")]
    UnknownSensitivity(String),
}
