//! The seam between the appliance's planes: everything the data plane (shards, ledger thread)
//! and the control plane (actors, admin server) share, and nothing else.
//!
//! - [`Board`]: atomics and published snapshots. Shards read the policy's generation with one
//!   atomic load per admission and everything else once per pulse; the ledger thread publishes
//!   its committed sequence once per commit; the control plane publishes policies, staged terms
//!   and quotas.
//! - [`ActivePolicy`], [`StagedTerms`] and [`TenantTable`]: the immutable values published.
//! - [`Shards`]: the board as the control plane drives a switch, with a fake in tests.
//! - [`AnchorSender`]: digests the control plane has the ledger thread append (anchors).
//! - [`FleetBoard`]: in fleet mode, what home shards spent from their tenants' caps and the
//!   grants the fleet worker's leases give back.
//! - [`PartnerDesk`]: partners' requests on the QUIC port handed to the control plane, and
//!   their failed steps seen on the data plane ([`SupportLine`]).
//!
//! Neither plane awaits the other's futures: they meet only here and on bounded channels.

mod anchor;
mod board;
pub mod clock;
mod desk;
mod fleet;
mod policy;
mod published;
mod shards;
mod staged;
mod storage;
mod support;
mod tenants;

pub use anchor::{
    ANCHOR_QUEUE, ANCHOR_TENANT, AnchorError, AnchorInbox, AnchorRequest, AnchorSender, Anchored,
    anchor_channel,
};
pub use board::{Board, PulseReading, Quota};
pub use desk::{
    DESK_BUSY_MS, DESK_QUEUE, DeskAsk, DeskRequest, Next, NotAsked, PartnerDesk, PartnerInbox,
    PendingAnswer, SourceLimit, partner_desk,
};
pub use fleet::{CapDemand, CapGrant, Demands, FleetBoard};
pub use policy::ActivePolicy;
pub use published::Published;
pub use shards::Shards;
pub use staged::{StagedTenant, StagedTerms};
pub use storage::{STORAGE_RETRY_MS, StorageHealth, StorageReport};
pub use support::{MAX_WAITING_REPORTS, StepReport, SupportLine, TakenReports};
pub use tenants::{TenantTable, home_shard};
