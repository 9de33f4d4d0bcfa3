//! Why a request to the control plane did not happen. The bundle in force is then unchanged.

use tf_bundles::{Problem, Refusal};
use tf_ledger::LedgerError;

/// Why a promotion or rollback did not happen. The bundle in force is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The bundle failed validation.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The ledger could not be read or written.
    #[error("the ledger failed: {0}")]
    Storage(String),
    /// A revision the store does not hold.
    #[error("revision {revision} was never promoted on this appliance")]
    NotStored {
        /// The revision asked for.
        revision: u64,
    },
    /// A rollback target that was never in force (or is in force now).
    #[error(
        "revision {revision} cannot be rolled back to: only a revision that was in force before \
         (see the timeline) and is not in force now can be"
    )]
    NeverActive {
        /// The revision asked for.
        revision: u64,
    },
    /// Nothing to roll back to.
    #[error(
        "nothing to roll back to: the bundle in force is the first one promoted; promote a \
         corrected bundle instead"
    )]
    NoPrevious,
    /// A shard did not prepare the bundle's terms in time.
    #[error(
        "shard(s) {shards} did not prepare the bundle's tenant terms within {seconds} s (see the \
         appliance log); nothing changed, the bundle in force stays: retry, or restart the \
         appliance if it persists"
    )]
    NotPrepared {
        /// The shards that did not report, comma-separated.
        shards: String,
        /// How long the control plane waited, seconds.
        seconds: f64,
    },
    /// The fleet's database could not record or tell the fleet's timeline.
    #[error(
        "the fleet's policy timeline: {0}. Nothing was switched if this came before the \
         switch; retry when the fleet's PostgreSQL answers (appliance fleet status)"
    )]
    Fleet(String),
    /// The control plane is stopping or stopped: the request was not handled.
    #[error(
        "the control plane is not running (the appliance is stopping); retry after it restarts"
    )]
    Stopped,
    /// The drift guard judged the bundle on this appliance and did not pass it, and nobody
    /// overrode it.
    #[error(
        "the drift guard did not pass this bundle here ({judgement}: drift up to \
         {upper_bound_percent:.3} % against a tolerance of {tolerance_percent:.3} %); nothing \
         changed. Promote it with an approver's override (--override-by NAME --reason TEXT) \
         if the change is meant"
    )]
    DriftBlocked {
        /// `block` or `too-few-decisions`.
        judgement: String,
        /// The drift's upper bound, percent.
        upper_bound_percent: f64,
        /// The tolerance, percent.
        tolerance_percent: f64,
    },
    /// A stored bundle signed by this appliance that is not a faithful republication.
    #[error(
        "stored revision {revision} is signed by this appliance but republishes nothing it promoted"
    )]
    NotRepublished {
        /// The revision.
        revision: u64,
    },
    /// A stored bundle signed by this appliance that says it onboards a tenant and is not
    /// exactly that.
    #[error("stored revision {revision} is signed by this appliance but {why}")]
    NotOnboarded {
        /// The revision.
        revision: u64,
        /// What does not hold.
        why: String,
    },
    /// A partner's terms request was refused; nothing changed.
    #[error("{detail}")]
    Terms {
        /// Why, by name (`not-a-partner`, `bad-request`, `unknown`, `decided`).
        reason: &'static str,
        /// What happened and what to do.
        detail: String,
    },
    /// A partner's onboarding was refused; nothing changed and the invite is as it was.
    #[error("{detail}")]
    Onboarding {
        /// Why, by name (`unknown`, `used`, `revoked`, `expired`, `wrong-tenant`,
        /// `tenant-exists`, `no-bundle`, `refused`).
        reason: &'static str,
        /// What happened and what to do.
        detail: String,
    },
}

impl From<LedgerError> for ControlError {
    fn from(error: LedgerError) -> Self {
        ControlError::Storage(error.to_string())
    }
}

impl From<Problem> for ControlError {
    fn from(problem: Problem) -> Self {
        ControlError::Refused(Refusal::one(problem))
    }
}
