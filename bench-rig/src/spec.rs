//! What a run is: the profile's stages, tenants with weights and demands, the proof mix and the
//! targets. Built from the command line or read from a profile file (TOML with the same names).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::mix::Kind;
pub use crate::profile::{Profile, SpecError, spec_error};
use crate::schedule::Stage;
use crate::slo::Targets;

/// One tenant of the run: its name (a certificate in the state directory's tenants/NAME/,
/// or the partner identity for the first), its fairness weight as configured on the appliance,
/// and its share of the offered load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantSpec {
    pub name: String,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default = "one")]
    pub demand: f64,
}

fn one() -> f64 {
    1.0
}

/// A labelled stage of the plan: `label` groups stages in the report (burst: steady, high,
/// low).
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedStage {
    pub label: String,
    pub stage: Stage,
}

/// Everything one run needs.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub profile: Profile,
    pub rps: f64,
    pub duration: Duration,
    pub warmup: Duration,
    /// ramp: the stages as given.
    pub stages: Vec<Stage>,
    /// burst: the swing in percent and the time at each level.
    pub swing_percent: f64,
    pub swing_period: Duration,
    /// noisy-neighbour: who, and how many times the others' demand.
    pub noisy: Option<(String, f64)>,
    pub tenants: Vec<TenantSpec>,
    pub mix: Vec<(Kind, u32)>,
    pub connections: usize,
    pub purpose: String,
    pub class: tf_wire::DatasetClass,
    pub max_in_flight: usize,
    pub targets: Targets,
    /// capacity: trial length and the highest rate to try.
    pub trial: Duration,
    pub max_rps: f64,
}

impl RunSpec {
    /// The stages to run, warm-up first (label `warm-up`, excluded from the figures).
    pub fn plan(&self) -> Vec<PlannedStage> {
        let mut plan = Vec::new();
        if !self.warmup.is_zero() {
            let rate = match self.profile {
                Profile::Ramp => self.stages.first().map_or(self.rps, |s| s.rate),
                _ => self.rps,
            };
            plan.push(labelled(WARMUP, rate, self.warmup));
        }
        match self.profile {
            Profile::Steady | Profile::NoisyNeighbour | Profile::Capacity => {
                plan.push(labelled("steady", self.rps, self.duration));
            }
            Profile::Ramp => {
                for stage in &self.stages {
                    plan.push(labelled(
                        &format!("{} req/s", stage.rate),
                        stage.rate,
                        stage.duration,
                    ));
                }
            }
            Profile::Burst => plan.extend(burst_stages(
                self.rps,
                self.duration,
                self.swing_percent,
                self.swing_period,
            )),
        }
        plan
    }

    /// Tenants with noisy-neighbour's demand applied.
    pub fn effective_tenants(&self) -> Vec<TenantSpec> {
        let mut tenants = self.tenants.clone();
        if let Some((noisy, factor)) = &self.noisy {
            for tenant in &mut tenants {
                if &tenant.name == noisy {
                    tenant.demand *= factor;
                }
            }
        }
        tenants
    }

    /// Checks everything that can be checked before connecting.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.tenants.is_empty() {
            return Err(spec_error(
                "--tenants",
                "no tenant to send as: name them (--tenants a,b), give --appliance-config, or \
                 issue certificates in the state directory (`appliance tenants issue NAME`)",
            ));
        }
        for tenant in &self.tenants {
            if !(tenant.weight > 0.0 && tenant.weight.is_finite()) {
                return Err(spec_error(
                    "--weights",
                    format!("{}: a weight must be above 0", tenant.name),
                ));
            }
            if !(tenant.demand >= 0.0 && tenant.demand.is_finite()) {
                return Err(spec_error(
                    "--demands",
                    format!("{}: a demand must be 0 or more", tenant.name),
                ));
            }
        }
        if self.tenants.iter().all(|t| t.demand == 0.0) {
            return Err(spec_error("--demands", "at least one tenant must send"));
        }
        if let Some((noisy, factor)) = &self.noisy {
            if !self.tenants.iter().any(|t| &t.name == noisy) {
                return Err(spec_error(
                    "--noisy",
                    format!("{noisy} is not one of --tenants"),
                ));
            }
            if !(*factor >= 1.0 && factor.is_finite()) {
                return Err(spec_error("--noisy-factor", "must be 1 or more"));
            }
        }
        let rate_ok = |r: f64| r > 0.0 && r <= 1_000_000.0;
        let auto_start = self.profile == Profile::Capacity && self.rps == 0.0;
        if self.profile != Profile::Ramp && !auto_start && !rate_ok(self.rps) {
            return Err(spec_error("--rps", "must be above 0 and at most 1000000"));
        }
        if self.profile == Profile::Ramp {
            if self.stages.is_empty() {
                return Err(spec_error(
                    "--stages",
                    "give the ramp's stages, e.g. 760:2m,800:2m,900:2m",
                ));
            }
            if self.stages.iter().any(|s| !rate_ok(s.rate)) {
                return Err(spec_error("--stages", "each rate must be above 0"));
            }
        } else if self.profile != Profile::Capacity && self.duration.is_zero() {
            return Err(spec_error("--duration", "must be above 0"));
        }
        if self.profile == Profile::Burst {
            if !(self.swing_percent > 0.0 && self.swing_percent < 100.0) {
                return Err(spec_error("--swing", "a percentage between 0 and 100"));
            }
            if self.swing_period.is_zero() {
                return Err(spec_error("--swing-period", "must be above 0"));
            }
        }
        if self.mix.iter().all(|(_, w)| *w == 0) {
            return Err(spec_error(
                "--mix",
                "give at least one kind a weight above 0",
            ));
        }
        if self.connections == 0 {
            return Err(spec_error("--connections", "at least 1 per tenant"));
        }
        if self.profile == Profile::Capacity && self.trial < Duration::from_secs(2) {
            return Err(spec_error("--trial", "at least 2s"));
        }
        if self.max_in_flight == 0 {
            return Err(spec_error("--max-in-flight", "at least 1"));
        }
        Ok(())
    }
}

/// The warm-up stage's label.
pub const WARMUP: &str = "warm-up";

fn labelled(label: &str, rate: f64, duration: Duration) -> PlannedStage {
    PlannedStage {
        label: label.into(),
        stage: Stage { rate, duration },
    }
}

/// A steady third at `rps` (the reference), then whole high-low pairs at +swing and -swing,
/// the period stretched or shrunk to fit the rest exactly, so the swings average `rps`.
fn burst_stages(
    rps: f64,
    duration: Duration,
    swing_percent: f64,
    period: Duration,
) -> Vec<PlannedStage> {
    let reference = duration / 3;
    let swings = duration - reference;
    let pairs = (swings.as_secs_f64() / (2.0 * period.as_secs_f64()))
        .round()
        .max(1.0) as u32;
    let level = swings / (2 * pairs);
    let mut stages = vec![labelled("steady", rps, reference)];
    for _ in 0..pairs {
        stages.push(labelled("high", rps * (1.0 + swing_percent / 100.0), level));
        stages.push(labelled("low", rps * (1.0 - swing_percent / 100.0), level));
    }
    stages
}

/// Parses `90`, `90s`, `500ms`, `10m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 90s, 10m, 1h, 500ms)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit {other:?} in {text:?} (ms, s, m, h)")),
    };
    if !(seconds.is_finite() && (0.0..=7.0 * 86_400.0).contains(&seconds)) {
        return Err(format!("{text:?} is out of range (at most a week)"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses ramp stages `760:2m,800:2m,900:2m`.
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, String> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (rate, duration) = part
                .split_once(':')
                .ok_or_else(|| format!("{part:?} is not RATE:DURATION (e.g. 800:2m)"))?;
            let rate: f64 = rate
                .trim()
                .parse()
                .map_err(|_| format!("{rate:?} is not a rate in requests/s"))?;
            Ok(Stage {
                rate,
                duration: parse_duration(duration)?,
            })
        })
        .collect()
}

/// Parses `name=value,name=value` into pairs.
pub fn parse_pairs(text: &str, flag: &str) -> Result<Vec<(String, f64)>, SpecError> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| spec_error(flag, format!("{part:?} is not NAME=VALUE")))?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| spec_error(flag, format!("{value:?} is not a number")))?;
            Ok((name.trim().to_string(), value))
        })
        .collect()
}

/// Tenants from names, with weights and demands given by name (default 1).
pub fn tenants(
    names: &[String],
    weights: &[(String, f64)],
    demands: &[(String, f64)],
) -> Result<Vec<TenantSpec>, SpecError> {
    for (flag, pairs) in [("--weights", weights), ("--demands", demands)] {
        if let Some((unknown, _)) = pairs.iter().find(|(n, _)| !names.contains(n)) {
            return Err(spec_error(
                flag,
                format!("{unknown} is not one of --tenants ({})", names.join(",")),
            ));
        }
    }
    let find = |pairs: &[(String, f64)], name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map_or(1.0, |(_, v)| *v)
    };
    Ok(names
        .iter()
        .map(|name| TenantSpec {
            name: name.clone(),
            weight: find(weights, name),
            demand: find(demands, name),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("10x").unwrap_err().contains("unknown unit"));
        assert!(
            parse_duration("fast")
                .unwrap_err()
                .contains("not a duration")
        );
    }

    #[test]
    fn ramp_stages_parse_in_order() {
        let stages = parse_stages("760:2m,800:30s").unwrap();
        assert_eq!(
            stages,
            vec![
                Stage {
                    rate: 760.0,
                    duration: Duration::from_secs(120)
                },
                Stage {
                    rate: 800.0,
                    duration: Duration::from_secs(30)
                }
            ]
        );
        assert!(parse_stages("800").unwrap_err().contains("RATE:DURATION"));
    }

    #[test]
    fn burst_is_a_steady_third_then_alternating_swings() {
        let stages = burst_stages(
            800.0,
            Duration::from_secs(90),
            30.0,
            Duration::from_secs(20),
        );
        let shape: Vec<(&str, u64, u64)> = stages
            .iter()
            .map(|s| {
                (
                    s.label.as_str(),
                    s.stage.rate.round() as u64,
                    s.stage.duration.as_secs(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                ("steady", 800, 30),
                ("high", 1040, 15),
                ("low", 560, 15),
                ("high", 1040, 15),
                ("low", 560, 15)
            ]
        );
    }

    #[test]
    fn weights_and_demands_must_name_known_tenants() {
        let names = vec!["a".to_string(), "b".to_string()];
        let tenants = tenants(&names, &[("b".into(), 2.0)], &[("a".into(), 3.0)]).unwrap();
        assert_eq!(tenants[0].demand, 3.0);
        assert_eq!(tenants[0].weight, 1.0);
        assert_eq!(tenants[1].weight, 2.0);
        let error = super::tenants(&names, &[("c".into(), 1.0)], &[]).unwrap_err();
        assert_eq!(error.what, "--weights");
        assert!(error.problem.contains("c is not one of --tenants (a,b)"));
    }
}
