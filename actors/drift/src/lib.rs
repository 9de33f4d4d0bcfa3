//! The decision log and drift replay, sans-IO.
//!
//! Every admission decision (never the proof or message) is kept in compact per-shard
//! [`block`]s. [`replay`] runs recorded decisions through a bundle's terms with the checks a
//! home shard makes, in its order, simulating budgets and admission buckets; [`compare`]
//! sets two replays side by side and bounds the drift rate; [`render`] writes the report.

pub mod block;
mod bound;
mod compare;
mod decision;
pub mod render;
mod replay;
mod terms;
mod varint;

pub use bound::{trials_needed, upper_bound};
pub use compare::{
    BundleRef, CONFIDENCE, ChangeCount, Example, FlipGroup, Judgement, Judging, Report, Sample,
    change, compare,
};
pub use decision::{Answer, Busy, Decision, Outcome};
pub use replay::{Registrations, Replayed, replay};
pub use terms::{PolicyAnswer, TenantTerms, Terms};
