//! The shapes of load the rig knows, which options each of them uses, and the error every part
//! of a run's description reports (the spec and its targets share them).

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
    /// Every profile, in the order the help lists them.
    pub const ALL: [Profile; 5] = [
        Profile::Steady,
        Profile::Ramp,
        Profile::Burst,
        Profile::NoisyNeighbour,
        Profile::Capacity,
    ];

    /// Refuses the first of `given` (options as named in [`PROFILE_OPTIONS`]) that this
    /// profile does not use: an option silently ignored makes a run measure something other
    /// than what was asked.
    pub fn refuse_foreign(self, given: &[&str]) -> Result<(), SpecError> {
        for option in given {
            let Some((_, users, note)) = PROFILE_OPTIONS.iter().find(|(o, ..)| o == option) else {
                continue;
            };
            if users.contains(&self) {
                continue;
            }
            let names: Vec<&str> = users.iter().map(|p| p.name()).collect();
            let advice = match users {
                [only] => format!("remove it, or run `bench-rig {}`", only.name()),
                _ => "remove it".to_string(),
            };
            return Err(spec_error(
                option,
                format!(
                    "does not apply to the {} profile ({note}it is for {} only); {advice}",
                    self.name(),
                    names.join(", ")
                ),
            ));
        }
        Ok(())
    }

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

/// Options only some profiles use: the option, the profiles that use it, and what the others
/// use instead. Every other load option applies to every profile.
pub const PROFILE_OPTIONS: [(&str, &[Profile], &str); 10] = [
    (
        "--rps",
        &[
            Profile::Steady,
            Profile::Burst,
            Profile::NoisyNeighbour,
            Profile::Capacity,
        ],
        "a ramp's rates are in --stages; ",
    ),
    (
        "--duration",
        &[Profile::Steady, Profile::Burst, Profile::NoisyNeighbour],
        "a ramp's durations are in --stages, capacity runs trials of --trial each; ",
    ),
    ("--stages", &[Profile::Ramp], ""),
    ("--swing", &[Profile::Burst], ""),
    ("--swing-period", &[Profile::Burst], ""),
    ("--noisy", &[Profile::NoisyNeighbour], ""),
    ("--noisy-factor", &[Profile::NoisyNeighbour], ""),
    ("--trial", &[Profile::Capacity], ""),
    ("--max-rps", &[Profile::Capacity], ""),
    (
        "--target p95_swing",
        &[Profile::Burst],
        "only a burst has swings to compare with its steady part; ",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_option_of_another_profile_is_refused_with_what_to_do() {
        let error = Profile::Steady.refuse_foreign(&["--stages"]).unwrap_err();
        assert_eq!(error.what, "--stages");
        assert_eq!(
            error.problem,
            "does not apply to the steady profile (it is for ramp only); remove it, or run \
             `bench-rig ramp`"
        );
        let error = Profile::Ramp.refuse_foreign(&["--rps"]).unwrap_err();
        assert!(
            error.problem.contains("a ramp's rates are in --stages"),
            "{error}"
        );
        assert!(
            Profile::Capacity
                .refuse_foreign(&["--rps", "--trial"])
                .is_ok()
        );
        // Every profile uses each of these options or refuses it.
        for (option, users, _) in PROFILE_OPTIONS {
            for profile in Profile::ALL {
                assert_eq!(
                    profile.refuse_foreign(&[option]).is_ok(),
                    users.contains(&profile)
                );
            }
        }
    }
}
