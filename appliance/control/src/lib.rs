//! The control plane: actix actors on the control thread.
//!
//! - [`Bundles`] owns promotion and rollback of policy bundles (its bounded mailbox serialises
//!   them) and answers the admin server's questions about what is in force.
//! - [`worker`]: the pattern every feature that follows the ledger uses (webhook outbox,
//!   transparency log, compliance snapshots, scheduler, golden canary): a [`worker::Follower`]
//!   driven by a supervised [`worker::Worker`] from a durable cursor.
//!
//! - [`log::TransparencyLog`]: the transparency log of receipts, a follower.
//! - [`compliance::Compliance`]: compliance snapshots on a schedule, their anchors in the log,
//!   and retention (pruning what a snapshot sealed).
//! - [`webhooks::Outbox`]: auditor webhooks, each endpoint's messages stored before they are
//!   sent and delivered on a retry ladder.
//! - [`fleet::FleetWorker`]: fleet mode's budget leases and receipt shipping, on a thread of its
//!   own since its database client blocks.
//!
//! It reaches the shards only through the seam (`tf-seam`: the board, the [`tf_seam::Shards`]
//! trait) and storage only through the ledger's trait (`tf_ledger::Ledger`); it knows neither
//! the data plane nor the admin server.

mod book;
pub mod bundles;
pub mod canary;
pub mod checklist;
pub mod compliance;
pub mod desk;
mod desk_loop;
pub mod drift;
mod error;
pub mod events;
mod evidence_preview;
pub mod fleet;
pub mod fleet_claim;
pub mod fleet_timeline;
pub mod invites;
pub mod log;
pub mod onboarding;
mod partner_revisions;
mod promote;
mod running;
pub mod scenarios;
mod spent;
pub mod terms;
pub mod webhooks;
pub mod worker;

pub use book::{Book, BundlesPlan};
pub use bundles::Bundles;
pub use error::ControlError;
pub use promote::{Allowances, DriftSay, Judged, PendingSwitch, Switched};
pub use running::Running;

#[cfg(test)]
mod tests;
