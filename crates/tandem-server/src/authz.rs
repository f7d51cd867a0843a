//! Who may do what. A permission is a resource × an action, granted to a role with a scope
//! (own records, the organisation's, or all). Sensitivity gates sit on top: `protected` records
//! only for case workers of the owning organisation, `restricted` not for viewers.
//!
//! This table is the whole policy; routes name the permission they need in the route table and
//! the one authorisation middleware checks it, so no handler decides access by hand.

use serde::Serialize;
use tandem_core::Sensitivity;
use tandem_store::security::UserRole;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Entities, statements, datasets, search and exports of the entity graph.
    Entities,
    /// Imports and other changes to datasets.
    Datasets,
    /// Name screening (single and batch) and its decisions.
    Screening,
    /// Long-running jobs and their progress.
    Jobs,
    /// Victims' cases, interviews and testimonies: protected personal data.
    Cases,
    /// Anonymised aggregates of case work.
    Aggregates,
    /// Users, organisations and API tokens.
    Users,
    /// The audit log.
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Write,
    Export,
    /// Going ahead with a referral or transfer without the person's consent (vital interest,
    /// child protection; spec §3.3). Meant for supervisors: no role of this installation holds
    /// it, so the consent gates cannot be passed by anyone until such a role exists.
    OverrideConsent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Records the user created.
    Own,
    /// Records of the user's organisation.
    Organisation,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Permission {
    pub resource: Resource,
    pub action: Action,
}

impl Permission {
    pub const fn new(resource: Resource, action: Action) -> Permission {
        Permission { resource, action }
    }
}

/// The scope at which `role` holds `permission`, or `None` when it does not.
pub fn grant(role: UserRole, permission: Permission) -> Option<Scope> {
    use Action::*;
    use Resource::*;
    use Scope::*;
    use UserRole::*;
    match (role, permission.resource, permission.action) {
        // Administrators run the installation; they do not read victims' files.
        (Admin, Cases, _) => None,
        (_, _, OverrideConsent) => None,
        (Admin, _, _) => Some(All),

        (Analyst, Entities | Screening | Jobs | Aggregates, Read | Export) => Some(All),
        (Analyst, Datasets | Screening, Write) => Some(All),
        (Analyst, Jobs, Write) => Some(Own),
        (Analyst, Datasets, Read | Export) => Some(All),
        (Analyst, Users, Read) => Some(Organisation),
        (Analyst, ..) => None,

        (Caseworker, Cases, Read | Write | Export) => Some(Organisation),
        (Caseworker, Entities | Datasets | Screening | Aggregates, Read) => Some(All),
        (Caseworker, Screening, Write) => Some(Own),
        (Caseworker, Jobs, Read | Write) => Some(Own),
        (Caseworker, Users, Read) => Some(Organisation),
        (Caseworker, ..) => None,

        (Viewer, Entities | Datasets | Aggregates, Read) => Some(All),
        (Viewer, ..) => None,
    }
}

/// The sensitivity gate: may a user of `role` in `organisation` see a record of this
/// sensitivity owned by `owner` (the organisation that holds it, for protected records)?
pub fn may_see(
    role: UserRole,
    organisation: i64,
    sensitivity: Sensitivity,
    owner: Option<i64>,
) -> bool {
    match sensitivity {
        Sensitivity::Public => true,
        Sensitivity::Restricted => role != UserRole::Viewer,
        Sensitivity::Protected => role == UserRole::Caseworker && owner == Some(organisation),
    }
}

/// The most sensitive level a role may see at all (for filtering lists and searches).
pub fn visible_ceiling(role: UserRole) -> Sensitivity {
    match role {
        UserRole::Viewer => Sensitivity::Public,
        UserRole::Caseworker => Sensitivity::Protected,
        UserRole::Admin | UserRole::Analyst => Sensitivity::Restricted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_read_only_public_things() {
        let read = Permission::new(Resource::Entities, Action::Read);
        assert_eq!(grant(UserRole::Viewer, read), Some(Scope::All));
        for resource in [
            Resource::Users,
            Resource::Audit,
            Resource::Cases,
            Resource::Screening,
        ] {
            assert_eq!(
                grant(UserRole::Viewer, Permission::new(resource, Action::Read)),
                None
            );
        }
        assert!(!may_see(UserRole::Viewer, 1, Sensitivity::Restricted, None));
    }

    #[test]
    fn protected_only_for_caseworkers_of_the_owner() {
        assert!(may_see(
            UserRole::Caseworker,
            7,
            Sensitivity::Protected,
            Some(7)
        ));
        assert!(!may_see(
            UserRole::Caseworker,
            7,
            Sensitivity::Protected,
            Some(8)
        ));
        for role in [UserRole::Admin, UserRole::Analyst, UserRole::Viewer] {
            assert!(
                !may_see(role, 7, Sensitivity::Protected, Some(7)),
                "{role:?}"
            );
        }
        let cases = Permission::new(Resource::Cases, Action::Read);
        assert_eq!(grant(UserRole::Admin, cases), None);
        assert_eq!(grant(UserRole::Analyst, cases), None);
        assert_eq!(
            grant(UserRole::Caseworker, cases),
            Some(Scope::Organisation)
        );
    }

    #[test]
    fn nobody_overrides_consent() {
        let override_ = Permission::new(Resource::Cases, Action::OverrideConsent);
        for role in UserRole::ALL {
            assert_eq!(grant(role, override_), None, "{role:?}");
        }
        // Case workers still work on cases; only the override is withheld.
        assert!(
            grant(
                UserRole::Caseworker,
                Permission::new(Resource::Cases, Action::Write)
            )
            .is_some()
        );
    }

    #[test]
    fn only_admins_administer() {
        let write_users = Permission::new(Resource::Users, Action::Write);
        let audit = Permission::new(Resource::Audit, Action::Read);
        for role in UserRole::ALL {
            assert_eq!(
                grant(role, write_users).is_some(),
                role == UserRole::Admin,
                "{role:?}"
            );
            assert_eq!(grant(role, audit).is_some(), role == UserRole::Admin);
        }
    }
}
