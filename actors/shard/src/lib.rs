//! A home shard's work, sans-IO: tenant admission (quota token bucket and bounded mailbox),
//! weighted deficit round robin across tenants, batch formation per (kind, curve, verifying
//! key), verification through the engine, and the receipt for each verdict.
//!
//! Every tenant has one home shard; only there is its state kept, so admission decisions need
//! no locks. Only verification may run elsewhere: a batch can be lent ([`Lent`]) to an idle
//! core and its verdicts decided back home. The runtime (the appliance's glommio shards) feeds
//! requests in with the current time and gets batches out; nothing here reads a clock,
//! spawns, or blocks.

#[cfg(feature = "fault-injection")]
pub mod faults;
mod job;
mod lanes;
mod lent;
mod receipt;
mod shard;
mod tenant;
mod verify;

pub use job::{BatchKey, Job, PolicyStamp, Reservation, kind as statement_kind, statement_digest};
pub use lent::Lent;
pub use receipt::receipt_for;
pub use shard::{KeyRefusal, KeyState, Refusal, Shard, ShardSettings};
pub use tenant::{TenantCounters, TenantSpec, TenantTerms};
pub use tf_batcher::{Batch, Lane};
pub use tf_budgets::{
    CapSpec, CapStatus, ChargePolicies, ChargePolicy, Costs, OverBudget, PastCharge, Settlement,
};
pub use tf_fairness::{Micros, TenantSlot};
pub use verify::{Verification, engine_curve};
