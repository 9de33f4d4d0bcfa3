//! The decision log and drift replay, sans-IO.
//!
//! Every admission decision (never the proof or message) and every settlement is kept in
//! compact per-shard [`block`]s. A [`Replayer`] runs recorded events through a bundle's terms
//! with the checks a home shard makes, in its order, simulating budgets and admission
//! buckets; [`Drift`] streams events through two replays side by side and bounds the drift
//! rate; [`render`] writes the report.

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
    BundleRef, CONFIDENCE, ChangeCount, Drift, Example, FlipGroup, Judgement, Judging, Override,
    OverrideError, Report, Sample, TenantTally, change,
};
pub use decision::{Answer, Busy, Decision, Event, Outcome, Settlement};
pub use replay::{Registrations, Replayed, Replayer, replay};
pub use terms::{PolicyAnswer, TenantTerms, Terms};
