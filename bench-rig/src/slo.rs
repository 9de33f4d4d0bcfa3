//! Targets and the verdict: each target is an upper limit on one measure; the run passes when
//! every measured one holds. Defaults are the product plan's (p95 < 900 ms, errors < 0.25 %,
//! fairness Gini <= 0.14, CPU < 70 %), with p95 during burst swings at most 20 % above the
//! steady part, and for capacity trials p99 <= 100 ms.

use serde::{Deserialize, Serialize};

use crate::profile::{Profile, SpecError, spec_error};

/// What a target limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50Ms,
    P95Ms,
    P99Ms,
    P999Ms,
    /// Refused or failed requests / requests sent (fraction).
    ErrorRate,
    Gini,
    /// Appliance CPU seconds / (wall seconds x its cores).
    Cpu,
    /// burst: p95 during the swings / p95 of the steady part - 1.
    P95Swing,
}

impl Metric {
    const ALL: [Metric; 8] = [
        Metric::P50Ms,
        Metric::P95Ms,
        Metric::P99Ms,
        Metric::P999Ms,
        Metric::ErrorRate,
        Metric::Gini,
        Metric::Cpu,
        Metric::P95Swing,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::P50Ms => "p50_ms",
            Metric::P95Ms => "p95_ms",
            Metric::P99Ms => "p99_ms",
            Metric::P999Ms => "p999_ms",
            Metric::ErrorRate => "error_rate",
            Metric::Gini => "gini",
            Metric::Cpu => "cpu",
            Metric::P95Swing => "p95_swing",
        }
    }

    /// A value for people: `25 ms`, `0.25 %`, `0.050`.
    pub fn show(self, value: f64) -> String {
        match self {
            Metric::P50Ms | Metric::P95Ms | Metric::P99Ms | Metric::P999Ms => {
                format!("{value:.2} ms")
            }
            Metric::ErrorRate | Metric::Cpu | Metric::P95Swing => {
                format!("{:.2} %", value * 100.0)
            }
            Metric::Gini => format!("{value:.3}"),
        }
    }
}

/// Upper limits by measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Targets(pub Vec<(Metric, f64)>);

impl Targets {
    /// The profile's defaults with `given` (NAME=VALUE; `%` and `ms` suffixes allowed) on top.
    pub fn parse(profile: Profile, given: &[String]) -> Result<Targets, SpecError> {
        let mut targets = match profile {
            Profile::Capacity => vec![(Metric::P99Ms, 100.0), (Metric::ErrorRate, 0.0025)],
            _ => vec![
                (Metric::P95Ms, 900.0),
                (Metric::ErrorRate, 0.0025),
                (Metric::Gini, 0.14),
                (Metric::Cpu, 0.70),
            ],
        };
        if profile == Profile::Burst {
            targets.push((Metric::P95Swing, 0.20));
        }
        for item in given.iter().filter(|i| !i.trim().is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| spec_error("--target", format!("{item:?} is not NAME=VALUE")))?;
            let metric = Metric::ALL
                .into_iter()
                .find(|m| m.name() == name.trim())
                .ok_or_else(|| {
                    let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                    spec_error(
                        "--target",
                        format!("unknown target {name:?} ({})", names.join(", ")),
                    )
                })?;
            let value = parse_value(value.trim())
                .ok_or_else(|| spec_error("--target", format!("{value:?} is not a number")))?;
            targets.retain(|(m, _)| *m != metric);
            targets.push((metric, value));
        }
        Ok(Targets(targets))
    }

    /// The limit on `metric`, if any.
    #[cfg(test)]
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.0.iter().find(|(m, _)| *m == metric).map(|(_, v)| *v)
    }
}

fn parse_value(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix('%') {
        (n, 0.01)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else {
        (text, 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v * scale)
}

/// One target's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub metric: Metric,
    /// The upper limit.
    pub target: f64,
    /// None when the run could not measure it (see `note`).
    pub measured: Option<f64>,
    /// None when not measured.
    pub pass: Option<bool>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Checks every target against the measured values (`measure` answers None when a value was
/// not measured, with the reason).
pub fn check(targets: &Targets, measure: impl Fn(Metric) -> Result<f64, String>) -> Vec<Check> {
    targets
        .0
        .iter()
        .map(|&(metric, target)| match measure(metric) {
            Ok(value) => Check {
                metric,
                target,
                measured: Some(value),
                pass: Some(value <= target),
                note: String::new(),
            },
            Err(note) => Check {
                metric,
                target,
                measured: None,
                pass: None,
                note,
            },
        })
        .collect()
}

/// PASS when no measured target failed.
pub fn passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.pass != Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_product_plan_and_given_targets_replace_them() {
        let targets = Targets::parse(
            Profile::Steady,
            &[
                "p95_ms=25".into(),
                "p99_ms=50ms".into(),
                "error_rate=0".into(),
            ],
        )
        .unwrap();
        assert_eq!(targets.get(Metric::P95Ms), Some(25.0));
        assert_eq!(targets.get(Metric::P99Ms), Some(50.0));
        assert_eq!(targets.get(Metric::ErrorRate), Some(0.0));
        assert_eq!(targets.get(Metric::Gini), Some(0.14));
        assert_eq!(targets.get(Metric::P95Swing), None);
        let burst = Targets::parse(Profile::Burst, &["error_rate=0.25%".into()]).unwrap();
        assert_eq!(burst.get(Metric::P95Swing), Some(0.2));
        assert!((burst.get(Metric::ErrorRate).unwrap() - 0.0025).abs() < 1e-12);
        let error = Targets::parse(Profile::Steady, &["p42=1".into()]).unwrap_err();
        assert!(error.problem.contains("unknown target"));
    }

    #[test]
    fn the_verdict_fails_only_on_a_measured_miss() {
        let targets = Targets(vec![(Metric::P95Ms, 25.0), (Metric::Cpu, 0.7)]);
        let checks = check(&targets, |m| match m {
            Metric::P95Ms => Ok(24.0),
            _ => Err("not measured".into()),
        });
        assert_eq!(checks[0].pass, Some(true));
        assert_eq!(checks[1].pass, None);
        assert!(passed(&checks));
        let failing = check(&targets, |_| Ok(30.0));
        assert!(!passed(&failing));
    }
}
