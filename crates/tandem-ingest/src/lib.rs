//! Tandem's readers and writers.
//!
//! Every reader turns a source into a stream of [`Record`]s: an entity to store (or, for FtM
//! deltas, an id to delete) together with the [`Location`] it came from, so that a bad line,
//! row or element is reported with file, line (or XML element path) and field. Readers never
//! panic on input; they return [`IngestError`]. Writers take entities and a `Write`.

pub mod demo;
pub mod export;
pub mod ftm;
pub mod mapped_csv;
pub mod ofac;
pub mod un;

use std::fmt;

use tandem_core::Entity;
use thiserror::Error;

/// Where in a source a record or an error is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based line (text formats) or row number (CSV, counting the header line).
    pub line: Option<u64>,
    /// XML element path, e.g. `/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[12]/DATAID`.
    pub element: Option<String>,
    /// The field (column, JSON key, property) at fault, when known.
    pub field: Option<String>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            ..Location::default()
        }
    }

    pub fn at_line(&self, line: u64) -> Location {
        Location {
            line: Some(line),
            ..self.clone()
        }
    }

    pub fn with_field(&self, field: impl Into<String>) -> Location {
        Location {
            field: Some(field.into()),
            ..self.clone()
        }
    }

    pub fn with_element(&self, element: impl Into<String>) -> Location {
        Location {
            element: Some(element.into()),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(element) = &self.element {
            write!(f, ", element {element}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum IngestError {
    /// The input is malformed at `location`.
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The source is broken at `location` (bad XML, a truncated file) so nothing after it can be
    /// read: unlike `Invalid`, `--skip-invalid` must not step over it, or a truncated list would
    /// quietly replace the whole one.
    #[error("{location}: {message}")]
    Unreadable { location: Location, message: String },
    /// A mapping or configuration file is wrong (not the data itself).
    #[error("{location}: {message}")]
    Config { location: Location, message: String },
}

impl IngestError {
    pub fn invalid(location: Location, message: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            location,
            message: message.into(),
        }
    }

    pub fn unreadable(location: Location, message: impl Into<String>) -> IngestError {
        IngestError::Unreadable {
            location,
            message: message.into(),
        }
    }

    /// The location when the error is about the input's content.
    pub fn location(&self) -> Option<&Location> {
        match self {
            IngestError::Invalid { location, .. }
            | IngestError::Unreadable { location, .. }
            | IngestError::Config { location, .. } => Some(location),
            IngestError::Io { .. } => None,
        }
    }

    /// True when the error is about one record, so `--skip-invalid` may step over it and go on.
    pub fn is_skippable(&self) -> bool {
        matches!(self, IngestError::Invalid { .. })
    }
}

/// What a source asks the store to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Store this entity (add it, or replace this dataset's statements about it).
    Upsert(Entity),
    /// Remove the entity with this id from the dataset (FtM delta `DEL`).
    Delete(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub change: Change,
    pub location: Location,
}

impl Record {
    pub fn upsert(entity: Entity, location: Location) -> Record {
        Record {
            change: Change::Upsert(entity),
            location,
        }
    }
}

/// The dataset name OpenSanctions uses for each built-in source.
pub mod dataset_names {
    pub const OFAC_SDN: &str = "us_ofac_sdn";
    pub const OFAC_CONSOLIDATED: &str = "us_ofac_cons";
    pub const UN_SC: &str = "un_sc_sanctions";
    pub const DEMO: &str = "tandem_demo";
}
