//! The decision log: every admission decision, in compact blocks (see `tf_drift::block`), in
//! an SQLite file of its own beside the ledger. Nothing here is on a partner's path or the
//! ledger's fsync path: shards hand sealed blocks to a [`writer`] thread over a bounded
//! channel and never wait for it; a block it has no room for is counted, not queued.

mod judgements;
pub mod sample;
mod scenario_runs;
mod store;
pub mod writer;

pub use scenario_runs::RunRow;
pub use store::{DecisionLog, LogError, LogStats, Window};
