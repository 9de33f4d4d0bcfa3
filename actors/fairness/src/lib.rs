//! Fairness on a shard: each tenant's requests wait in a bounded mailbox, and a weighted deficit
//! round robin scheduler decides whose request is verified next, in proportion to tenant weights
//! and in units of verification cost, so a tenant sending expensive proofs cannot take more than
//! its share by sending fewer of them. An admission token bucket per tenant smooths bursts and
//! answers "busy, retry after" with the exact wait.
//!
//! Sans-IO: time is passed in as [`Micros`]; nothing here reads a clock or blocks.

mod drr;
mod token_bucket;

pub use drr::{Busy, DrrScheduler, TenantSlot};
pub use token_bucket::{Micros, RetryAfter, TokenBucket};
