//! The batch former: requests that can be verified together (same kind, curve and verifying
//! key) are grouped, and each open batch closes by the latency-budgeted rule of [`policy`]: it
//! waits for company while one more request is expected in time and would lower the cost per
//! item, and closes at once when not (an idle appliance never waits). What a batch costs and
//! how often each key's requests arrive, and how often while one of its batches waits, are
//! learned as the appliance runs ([`cost`], [`rate`]).
//! A busy shard's tenants beyond their share are batched in a lane of their own ([`Lane`]).
//!
//! Sans-IO: time is passed in, and [`BatchFormer::next_deadline`] tells the runtime when to
//! call back. Batch buffers are recycled ([`BatchFormer::recycle`]), so steady-state batching
//! does not allocate.

mod company;
pub mod cost;
mod former;
mod lane;
pub mod policy;
pub mod rate;

pub use cost::{CostModel, Line};
pub use former::{Arrival, Batch, BatchFormer, FormerSettings};
pub use lane::Lane;
pub use policy::{Plan, Situation, plan};
