//! The data plane: one glommio executor pinned per core, each driving its own QUIC endpoint
//! (quinn-proto over an io_uring UDP socket), admitting requests for the tenants homed on it,
//! verifying them in fair batches, and handing decided requests to the ledger thread, which
//! stores each receipt durably before the partner is answered.
//!
//! It meets the control plane only on the board (`tf-seam`): it reads the policy, staged terms
//! and quotas published there, and publishes its pulses and the ledger's committed watermark.

mod connection;
pub mod cpus;
mod decisions;
mod desk;
mod driver;
mod home;
mod identity;
mod ingress_quota;
mod launch;
mod ledger;
mod lending;
mod log_proofs;
pub mod nudge;
mod occupancy;
mod policy;
mod prepare;
mod priority;
mod registration;
mod replies;
mod routes;
mod shard;
mod sockets;
mod support;
pub mod tls;
#[cfg(feature = "without-ledger")]
mod unstored;
mod wakeup;

pub use driver::DriverLimits;
pub use launch::{DataPlane, DataPlanePlan, LaunchError};
pub use log_proofs::LogFiles;
pub use occupancy::HoldLimits;
pub use replies::AboutKeys;
pub use sockets::{BUFFER_BYTES as UDP_BUFFER_BYTES, bind as bind_sockets};
