//! One admission decision as the decision log keeps it: what was asked (never the proof or
//! the message), by whom, and what the appliance answered.

use std::sync::Arc;

use tf_budgets::Work;
use tf_engine::KeyId;
use tf_receipts::VerdictLabel;
use tf_wire::DatasetClass;

/// One admission decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The appliance run it was made in (the run's start, Unix microseconds): shard clocks and
    /// admission buckets start afresh with each run.
    pub run: u64,
    /// The shard that decided it (the tenant's home shard; the receiving shard for a request
    /// turned away before it reached home).
    pub shard: u16,
    /// Its place among the shard's events in this run (admissions and settlements share one
    /// count), the order budgets and buckets saw them in.
    pub seq: u64,
    /// When it was admitted or refused, Unix microseconds (budget windows count in these).
    pub at_us: u64,
    /// The same instant on the shard's monotonic clock (admission buckets count in these).
    pub mono_us: u64,
    /// The tenant, as its client certificate names it.
    pub tenant: Arc<str>,
    /// The purpose the partner gave.
    pub purpose: Arc<str>,
    /// The dataset class.
    pub class: DatasetClass,
    /// The statement kind as receipts name it (`bls-single`, `groth16-bn254`, ...).
    pub kind: Arc<str>,
    /// The Groth16 verifying key, for a proof.
    pub key: Option<KeyId>,
    /// The work the statement carries (what its budget cost is priced from).
    pub work: Work,
    /// Its budget cost under the bundle that decided it.
    pub cost: u64,
    /// That bundle's revision (0: none).
    pub revision: u64,
    /// Whether the tenant could use the key then (registered, granted, or in the bundle's
    /// registry, and prepared); true for statements without a key.
    pub key_known: bool,
    /// What the appliance answered.
    pub outcome: Outcome,
}

/// What the appliance answered at admission. `Policies` holds the deciding policies of a
/// denial: owned when read back, borrowed (`&[String]`) when a shard records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<Policies = Vec<Arc<str>>> {
    /// Admitted: its budget cost reserved, queued for verification (its [`Settlement`]
    /// follows once verified).
    Admitted,
    /// Refused by the bundle's policies.
    Denied {
        /// The deciding `forbid` policies (empty: nothing permitted it).
        policies: Policies,
        /// The bundle did not list the tenant.
        unlisted: bool,
    },
    /// A Groth16 key the tenant could not use.
    UnknownKey,
    /// A budget cap would have been overspent.
    OverBudget,
    /// Over the tenant's admission rate.
    OverRate,
    /// Turned away busy: the tenant's queue was full (`Mailbox`), or the request never reached
    /// its home shard (`Ingress`).
    Busy(Busy),
}

/// An admitted request verified: its reservation charged or released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// The run.
    pub run: u64,
    /// The home shard.
    pub shard: u16,
    /// Its place among the shard's events.
    pub seq: u64,
    /// The admission it settles (its [`Decision::seq`]).
    pub admitted_seq: u64,
    /// When, Unix microseconds.
    pub at_us: u64,
    /// The verdict.
    pub verdict: VerdictLabel,
    /// Budget units charged.
    pub charged: u64,
}

/// What the decision log holds, in each shard's order: decisions and settlements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An admission decision.
    Decided(Decision),
    /// An admitted request's settlement.
    Settled(Settlement),
}

impl Event {
    /// When it happened, Unix microseconds.
    pub fn at_us(&self) -> u64 {
        match self {
            Event::Decided(decision) => decision.at_us,
            Event::Settled(settlement) => settlement.at_us,
        }
    }
}

/// Where a request was turned away busy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Busy {
    /// The tenant's queue on its home shard was full (after policy and key checks).
    Mailbox,
    /// The way to its home shard was full (before any check).
    Ingress,
}

/// An outcome as drift compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// Admitted.
    Allowed,
    /// Refused by policy.
    Denied,
    /// Refused: a key the tenant cannot use.
    UnknownKey,
    /// Refused: over budget.
    OverBudget,
    /// Refused: over the admission rate.
    OverRate,
    /// Turned away busy.
    Busy,
}

impl Answer {
    /// The answer in words, as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Answer::Allowed => "allowed",
            Answer::Denied => "denied",
            Answer::UnknownKey => "unknown key",
            Answer::OverBudget => "over budget",
            Answer::OverRate => "over rate",
            Answer::Busy => "busy",
        }
    }
}

impl<Policies> Outcome<Policies> {
    /// The outcome as drift compares them.
    pub fn answer(&self) -> Answer {
        match self {
            Outcome::Admitted => Answer::Allowed,
            Outcome::Denied { .. } => Answer::Denied,
            Outcome::UnknownKey => Answer::UnknownKey,
            Outcome::OverBudget => Answer::OverBudget,
            Outcome::OverRate => Answer::OverRate,
            Outcome::Busy(_) => Answer::Busy,
        }
    }
}
