//! Ecosystem roles and route stages (`tandem:role`, `tandem:stage`), as in the ecosystem model
//! spec: organisers and the aides around them, and the enablers the journeys depend on.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| format!(
                        "unknown {} {s:?}; expected one of: {}",
                        stringify!($name).to_ascii_lowercase(),
                        $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    ))
            }
        }
    };
}

word_enum!(
    /// What an actor does in a smuggling or trafficking ecosystem.
    Role {
        Organiser => "organiser",
        Recruiter => "recruiter",
        Transporter => "transporter",
        BoatOperator => "boat_operator",
        SafeHouseKeeper => "safe_house_keeper",
        Enforcer => "enforcer",
        DocumentForger => "document_forger",
        MoneyHandler => "money_handler",
        CorruptOfficial => "corrupt_official",
        TransportCompany => "transport_company",
        PrivateEnabler => "private_enabler",
        SocialEnabler => "social_enabler",
    }
);

word_enum!(
    /// Where on a corridor an actor works.
    Stage {
        Origin => "origin",
        Transit => "transit",
        Departure => "departure",
        Crossing => "crossing",
        Destination => "destination",
    }
);

impl Role {
    /// Campana's distinction: organisers run the business, everyone else aids it.
    pub fn is_organiser(self) -> bool {
        self == Role::Organiser
    }

    /// Enablers sit outside the smuggling groups proper but make the journeys possible.
    pub fn is_enabler(self) -> bool {
        matches!(
            self,
            Role::DocumentForger
                | Role::MoneyHandler
                | Role::CorruptOfficial
                | Role::TransportCompany
                | Role::PrivateEnabler
                | Role::SocialEnabler
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_loosely_and_print_canonically() {
        assert_eq!("Money handler".parse::<Role>().unwrap(), Role::MoneyHandler);
        assert_eq!("boat-operator".parse::<Role>().unwrap(), Role::BoatOperator);
        assert!(
            "smuggler"
                .parse::<Role>()
                .unwrap_err()
                .contains("organiser")
        );
        assert_eq!(Stage::Departure.to_string(), "departure");
    }
}
