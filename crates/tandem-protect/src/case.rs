//! Case workflow (spec §3.1), consent gates on referral and transfer (§3.3), retention (§6.5).
//!
//! No function here takes the person's cooperation status: support, referral and closure never
//! depend on it (spec §2.3).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// A screening record; may never become a case.
    Screening,
    /// Case opened, consent recorded.
    Open,
    Assessment,
    CasePlan,
    Services,
    Closed,
    /// Another organisation took the case over.
    ClosedReferred,
}

impl CaseState {
    pub const ALL: [CaseState; 7] = [
        CaseState::Screening,
        CaseState::Open,
        CaseState::Assessment,
        CaseState::CasePlan,
        CaseState::Services,
        CaseState::Closed,
        CaseState::ClosedReferred,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Screening => "screening",
            CaseState::Open => "open",
            CaseState::Assessment => "assessment",
            CaseState::CasePlan => "case_plan",
            CaseState::Services => "services",
            CaseState::Closed => "closed",
            CaseState::ClosedReferred => "closed_referred",
        }
    }

    /// HTCDS `cas_Status` (none for a screening record).
    pub fn htcds_status(self) -> Option<&'static str> {
        match self {
            CaseState::Screening => None,
            CaseState::Open | CaseState::Assessment | CaseState::CasePlan => Some("Active"),
            CaseState::Services => Some("Active"),
            CaseState::Closed => Some("Closed"),
            CaseState::ClosedReferred => Some("ClosedReferred"),
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, CaseState::Closed | CaseState::ClosedReferred)
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CaseState::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| format!("unknown case state {s:?}"))
    }
}

/// Something a case worker does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    /// Screening → open; needs storage consent.
    Open,
    StartAssessment,
    AgreePlan,
    StartServices,
    /// Close with a reason (approval handled by the caller's approval flow).
    Close,
    /// A transfer was accepted: ownership moved; needs sharing consent.
    CloseTransferred,
    /// Closed → open again (logged by the caller).
    Reopen,
}

impl CaseAction {
    pub const ALL: [CaseAction; 7] = [
        CaseAction::Open,
        CaseAction::StartAssessment,
        CaseAction::AgreePlan,
        CaseAction::StartServices,
        CaseAction::Close,
        CaseAction::CloseTransferred,
        CaseAction::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::Open => "open",
            CaseAction::StartAssessment => "start_assessment",
            CaseAction::AgreePlan => "agree_plan",
            CaseAction::StartServices => "start_services",
            CaseAction::Close => "close",
            CaseAction::CloseTransferred => "close_transferred",
            CaseAction::Reopen => "reopen",
        }
    }
}

impl FromStr for CaseAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CaseAction::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| format!("unknown case action {s:?}"))
    }
}

/// A consent scope, recorded separately (spec §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    Interview,
    Storage,
    Referral,
    /// Sharing with, or transfer to, other organisations.
    Sharing,
    /// Research use of anonymised data.
    Research,
    /// Use of coded testimony as intelligence (§4).
    Intelligence,
}

impl ConsentScope {
    pub const ALL: [ConsentScope; 6] = [
        ConsentScope::Interview,
        ConsentScope::Storage,
        ConsentScope::Referral,
        ConsentScope::Sharing,
        ConsentScope::Research,
        ConsentScope::Intelligence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentScope::Interview => "interview",
            ConsentScope::Storage => "storage",
            ConsentScope::Referral => "referral",
            ConsentScope::Sharing => "sharing",
            ConsentScope::Research => "research",
            ConsentScope::Intelligence => "intelligence",
        }
    }
}

impl FromStr for ConsentScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ConsentScope::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| format!("unknown consent scope {s:?}"))
    }
}

/// The consent scopes currently granted (withdrawn scopes are simply absent).
pub type Consents = BTreeSet<ConsentScope>;

/// Why a consent-gated step went ahead without consent (needs the `consent_override`
/// permission; the caller alerts supervisor and DPO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideReason {
    VitalInterest,
    ChildProtection,
}

/// A refused workflow step.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WorkflowError {
    #[error("a case in state {from} cannot {action}")]
    NotAllowed {
        from: CaseState,
        action: &'static str,
    },
    #[error("{action} needs the person's {} consent (or a recorded override)", .scope.as_str())]
    ConsentMissing {
        action: &'static str,
        scope: ConsentScope,
    },
    #[error("a referral in state {from} cannot {action}")]
    ReferralNotAllowed {
        from: ReferralState,
        action: &'static str,
    },
}

/// The state a case action leads to, or why it is refused. `consent_override` lets a
/// consent-gated action through (the caller checks the permission and records the reason).
pub fn transition(
    from: CaseState,
    action: CaseAction,
    consents: &Consents,
    consent_override: Option<OverrideReason>,
) -> Result<CaseState, WorkflowError> {
    use CaseAction as A;
    use CaseState as S;
    let next = match (from, action) {
        (S::Screening, A::Open) => S::Open,
        (S::Open, A::StartAssessment) => S::Assessment,
        (S::Assessment, A::AgreePlan) => S::CasePlan,
        (S::CasePlan, A::StartServices) => S::Services,
        (S::Open | S::Assessment | S::CasePlan | S::Services, A::Close) => S::Closed,
        (S::Open | S::Assessment | S::CasePlan | S::Services, A::CloseTransferred) => {
            S::ClosedReferred
        }
        (S::Closed | S::ClosedReferred, A::Reopen) => S::Open,
        _ => {
            return Err(WorkflowError::NotAllowed {
                from,
                action: action.as_str(),
            });
        }
    };
    match action {
        // "open: case opened, consent recorded" — a case holds personal data only with the
        // person's consent to storage.
        A::Open => require(consents, ConsentScope::Storage, "open", consent_override)?,
        A::CloseTransferred => may_transfer(consents, consent_override)?,
        _ => {}
    }
    Ok(next)
}

fn require(
    consents: &Consents,
    scope: ConsentScope,
    action: &'static str,
    consent_override: Option<OverrideReason>,
) -> Result<(), WorkflowError> {
    if consents.contains(&scope) || consent_override.is_some() {
        Ok(())
    } else {
        Err(WorkflowError::ConsentMissing { action, scope })
    }
}

/// The actions a case in this state allows (ignoring consent).
pub fn allowed_actions(from: CaseState) -> Vec<CaseAction> {
    let all: Consents = ConsentScope::ALL.into_iter().collect();
    CaseAction::ALL
        .into_iter()
        .filter(|a| transition(from, *a, &all, None).is_ok())
        .collect()
}

/// State of a referral or a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralState {
    Pending,
    Accepted,
    Rejected,
    Done,
    /// Revoked by the sender while pending.
    Revoked,
}

impl fmt::Display for ReferralState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReferralState::Pending => "pending",
            ReferralState::Accepted => "accepted",
            ReferralState::Rejected => "rejected",
            ReferralState::Done => "done",
            ReferralState::Revoked => "revoked",
        })
    }
}

/// A step in a referral's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralAction {
    Accept,
    Reject,
    Complete,
    Revoke,
}

/// Whether a referral may be made: the referral consent scope, or an override.
pub fn may_refer(
    consents: &Consents,
    consent_override: Option<OverrideReason>,
) -> Result<(), WorkflowError> {
    require(
        consents,
        ConsentScope::Referral,
        "referral",
        consent_override,
    )
}

/// Whether a transfer (ownership moves) may be made: the sharing scope, or an override.
pub fn may_transfer(
    consents: &Consents,
    consent_override: Option<OverrideReason>,
) -> Result<(), WorkflowError> {
    require(
        consents,
        ConsentScope::Sharing,
        "transfer",
        consent_override,
    )
}

/// The next referral state. Transfers use the same machine without `Complete`.
pub fn referral_transition(
    from: ReferralState,
    action: ReferralAction,
) -> Result<ReferralState, WorkflowError> {
    use ReferralAction as A;
    use ReferralState as S;
    match (from, action) {
        (S::Pending, A::Accept) => Ok(S::Accepted),
        (S::Pending, A::Reject) => Ok(S::Rejected),
        (S::Pending, A::Revoke) => Ok(S::Revoked),
        (S::Accepted, A::Complete) => Ok(S::Done),
        _ => Err(WorkflowError::ReferralNotAllowed {
            from,
            action: match action {
                A::Accept => "accept",
                A::Reject => "reject",
                A::Complete => "complete",
                A::Revoke => "revoke",
            },
        }),
    }
}

/// How long a record in a state may be kept before it is reviewed for erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Retention {
    /// Kept while the case is active; reviewed at closure.
    WhileActive,
    /// Reviewed for erasure this many months after the state was entered (closure or the
    /// screening date).
    Months { months: u32 },
}

/// Retention defaults (spec §6.5); a deployment may change them after its DPIA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Screening records that never became a case.
    pub screening_months: u32,
    /// Closed cases, after closure.
    pub closed_months: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            screening_months: 12,
            closed_months: 24,
        }
    }
}

impl RetentionPolicy {
    pub fn for_state(&self, state: CaseState) -> Retention {
        match state {
            CaseState::Screening => Retention::Months {
                months: self.screening_months,
            },
            CaseState::Closed | CaseState::ClosedReferred => Retention::Months {
                months: self.closed_months,
            },
            CaseState::Open | CaseState::Assessment | CaseState::CasePlan | CaseState::Services => {
                Retention::WhileActive
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consents(scopes: &[ConsentScope]) -> Consents {
        scopes.iter().copied().collect()
    }

    #[test]
    fn happy_path_and_reopen() {
        let c = consents(&[ConsentScope::Storage, ConsentScope::Sharing]);
        let mut s = CaseState::Screening;
        for a in [
            CaseAction::Open,
            CaseAction::StartAssessment,
            CaseAction::AgreePlan,
            CaseAction::StartServices,
            CaseAction::Close,
        ] {
            s = transition(s, a, &c, None).unwrap();
        }
        assert_eq!(s, CaseState::Closed);
        assert_eq!(s.htcds_status(), Some("Closed"));
        assert_eq!(
            transition(s, CaseAction::Reopen, &c, None).unwrap(),
            CaseState::Open
        );
        assert!(transition(CaseState::Open, CaseAction::AgreePlan, &c, None).is_err());
        assert!(transition(CaseState::Services, CaseAction::Reopen, &c, None).is_err());
    }

    #[test]
    fn consent_gates_opening_referral_and_transfer() {
        let none = Consents::new();
        assert_eq!(
            transition(CaseState::Screening, CaseAction::Open, &none, None),
            Err(WorkflowError::ConsentMissing {
                action: "open",
                scope: ConsentScope::Storage
            })
        );
        assert!(may_refer(&none, None).is_err());
        assert!(may_refer(&consents(&[ConsentScope::Referral]), None).is_ok());
        assert!(may_refer(&none, Some(OverrideReason::ChildProtection)).is_ok());
        assert!(may_transfer(&consents(&[ConsentScope::Referral]), None).is_err());
        assert!(
            transition(
                CaseState::Services,
                CaseAction::CloseTransferred,
                &consents(&[ConsentScope::Referral]),
                None
            )
            .is_err()
        );
        assert_eq!(
            transition(
                CaseState::Services,
                CaseAction::CloseTransferred,
                &consents(&[ConsentScope::Sharing]),
                None
            ),
            Ok(CaseState::ClosedReferred)
        );
    }

    #[test]
    fn referrals_revocable_only_while_pending() {
        use ReferralAction as A;
        use ReferralState as S;
        assert_eq!(referral_transition(S::Pending, A::Revoke), Ok(S::Revoked));
        assert!(referral_transition(S::Accepted, A::Revoke).is_err());
        assert_eq!(referral_transition(S::Accepted, A::Complete), Ok(S::Done));
        assert!(referral_transition(S::Rejected, A::Accept).is_err());
    }

    #[test]
    fn retention_defaults() {
        let p = RetentionPolicy::default();
        assert_eq!(
            p.for_state(CaseState::Screening),
            Retention::Months { months: 12 }
        );
        assert_eq!(
            p.for_state(CaseState::Closed),
            Retention::Months { months: 24 }
        );
        assert_eq!(p.for_state(CaseState::Services), Retention::WhileActive);
        assert_eq!(allowed_actions(CaseState::Closed), vec![CaseAction::Reopen]);
    }

    /// Spec §2.3: no workflow guard reads cooperation status.
    #[test]
    fn no_guard_reads_cooperation_status() {
        let source = include_str!("case.rs");
        let code = source.split("#[cfg(test)]").next().unwrap_or("");
        assert!(!code.contains(concat!("cooperation", "_status")));
        assert!(!code.contains(concat!("Cooperation", "Status")));
    }
}
