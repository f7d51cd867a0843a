//! How sensitive a record is; it travels with every entity and statement.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::EntityError;

/// Ordered from least to most sensitive, so `max` gives the stricter of two.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    /// Published sanctions lists and designations.
    #[default]
    Public,
    /// Intelligence, draft designations, assessments before release.
    Restricted,
    /// Personal data of victims, witnesses and survivors: encrypted, case workers only.
    Protected,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 3] = [Self::Public, Self::Restricted, Self::Protected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Restricted => "restricted",
            Self::Protected => "protected",
        }
    }
}

impl fmt::Display for Sensitivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sensitivity {
    type Err = EntityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Ok(Self::Public),
            "restricted" => Ok(Self::Restricted),
            "protected" => Ok(Self::Protected),
            _ => Err(EntityError::UnknownSensitivity(s.to_string())),
        }
    }
}
