//! Typed errors of screening and evaluation; each names what was wrong and where.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum MatchError {
    #[error("entity {id}: schema {schema} has no names to match on (name, alias, …)")]
    NoNames { id: String, schema: String },
    #[error("entity {id}: unknown schema {schema:?}")]
    UnknownSchema { id: String, schema: String },
    #[error("{file}, line {line}, field {field}: {message}")]
    Input {
        file: String,
        line: u64,
        field: String,
        message: String,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}
