//! The shapes of load the rig knows, and the error every part of a run's description reports
//! (the spec and its targets share them).

use serde::{Deserialize, Serialize};

/// A mistake in the command line or profile file, said so it can be fixed.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {problem}")]
pub struct SpecError {
    /// The flag or key.
    pub what: String,
    /// What is wrong and what is allowed.
    pub problem: String,
}

pub fn spec_error(what: &str, problem: impl Into<String>) -> SpecError {
    SpecError {
        what: what.into(),
        problem: problem.into(),
    }
}

/// The shapes of load the rig knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// One rate for the whole run.
    Steady,
    /// Stages of rising (or falling) rates.
    Ramp,
    /// A steady third, then swings of +-N % around the rate.
    Burst,
    /// One tenant sends far above its share.
    NoisyNeighbour,
    /// Search for the highest rate that meets the latency and error targets.
    Capacity,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Steady => "steady",
            Profile::Ramp => "ramp",
            Profile::Burst => "burst",
            Profile::NoisyNeighbour => "noisy-neighbour",
            Profile::Capacity => "capacity",
        }
    }
}
