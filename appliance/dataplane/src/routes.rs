//! What crosses between threads: requests going to their tenant's home shard, decided
//! requests going to the ledger, and answers going back to the shard whose connection asked.

use quinn_proto::{ConnectionHandle, StreamId};
use tf_engine::{StatementDigest, Verdict};
use tf_ledger::ChargeGroup;
use tf_receipts::Receipt;
use tf_shard::{Job, TenantSlot};
use tf_wire::{Curve, DatasetClass};

/// Where an answer goes: the ingress shard, the connection (with its generation, because
/// quinn reuses handles) and the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The ingress shard.
    pub shard: usize,
    /// The connection on that shard.
    pub connection: ConnectionHandle,
    /// Distinguishes this connection from a later one given the same handle.
    pub generation: u64,
    /// The request's stream.
    pub stream: StreamId,
}

/// A request for a tenant's home shard.
#[derive(Debug)]
// Submits are nearly every message: boxing them would cost an allocation per request to
// shrink the rare key registrations and budget queries.
#[allow(clippy::large_enum_variant)]
pub enum ToHome {
    /// Verify a statement.
    Submit(Job<Route>),
    /// Register a Groth16 verifying key.
    RegisterKey {
        /// The tenant registering it.
        tenant: TenantSlot,
        /// The partner's request id.
        request_id: u64,
        /// The key's curve.
        curve: Curve,
        /// Canonical compressed bytes.
        key: Vec<u8>,
        /// Where the answer goes.
        route: Route,
    },
    /// Report the tenant's budget caps.
    Budgets {
        /// The tenant asking.
        tenant: TenantSlot,
        /// The partner's request id.
        request_id: u64,
        /// Where the answer goes.
        route: Route,
    },
}

impl ToHome {
    /// The partner's request id.
    pub fn request_id(&self) -> u64 {
        match self {
            ToHome::Submit(job) => job.submit.request_id,
            ToHome::RegisterKey { request_id, .. } | ToHome::Budgets { request_id, .. } => {
                *request_id
            }
        }
    }
}

/// A verified request on its way to the ledger: the ledger numbers and signs its receipt,
/// stores it, and only then answers the partner.
#[derive(Debug)]
pub struct Decided {
    /// Where the answer goes.
    pub route: Route,
    /// The verdict.
    pub verdict: Verdict,
    /// What was verified.
    pub statement_digest: StatementDigest,
    /// The receipt, not yet numbered or signed.
    pub receipt: Receipt,
}

/// What a shard sends the ledger thread, in order.
#[derive(Debug)]
pub enum ToLedger {
    /// Decided requests to store and answer.
    #[cfg_attr(feature = "without-ledger", allow(dead_code))]
    Decided(Vec<Decided>),
    /// A tenant's charges, for caps a staged bundle adds. The ledger answers it once
    /// everything the shard sent before it is stored, so the answer holds every charge the
    /// shard settled before asking and none it settled after (those it notes itself).
    History(HistoryQuery),
}

/// Which charges a home shard needs.
#[derive(Clone, Debug)]
pub struct HistoryQuery {
    /// The staged terms being prepared.
    pub generation: u64,
    /// The tenant.
    pub slot: TenantSlot,
    /// Its id, as the ledger stores it.
    pub tenant: String,
    /// Charges from this instant on, Unix microseconds.
    pub since_us: u64,
}

/// What the ledger thread sends a shard.
#[derive(Debug)]
pub enum FromLedger {
    /// Answers for its connections, receipts stored.
    Answers(Vec<Reply>),
    /// The charges a [`HistoryQuery`] asked for, or why they could not be read.
    History {
        /// The question.
        query: HistoryQuery,
        /// Charges summed per purpose, class and minute.
        charges: Result<Vec<ChargeGroup>, String>,
    },
    /// Charges this shard settled whose receipts the ledger could not store.
    Unstored(Vec<UnstoredCharge>),
}

/// A charge settled on a home shard whose receipt the ledger could not store: the shard takes
/// it back, since its partner was answered that nothing was charged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnstoredCharge {
    /// The tenant's id.
    pub tenant: String,
    /// The request's purpose.
    pub purpose: String,
    /// Its dataset class.
    pub class: DatasetClass,
    /// Cost units charged.
    pub amount: u64,
    /// When it was settled (its decision time), Unix microseconds.
    pub at_unix_us: u64,
}

impl UnstoredCharge {
    /// The charge of a receipt not stored, `None` when it charged nothing.
    pub fn of(receipt: &Receipt) -> Option<Self> {
        if receipt.budget_charged == 0 {
            return None;
        }
        Some(UnstoredCharge {
            tenant: receipt.tenant.clone(),
            purpose: receipt.purpose.clone(),
            class: DatasetClass::from_name(&receipt.dataset_class)?,
            amount: receipt.budget_charged,
            at_unix_us: receipt.decided_at_unix_us,
        })
    }
}

/// An encoded answer frame and where it goes.
#[derive(Debug)]
pub struct Reply {
    /// Where it goes.
    pub route: Route,
    /// The framed message.
    pub frame: Vec<u8>,
}
