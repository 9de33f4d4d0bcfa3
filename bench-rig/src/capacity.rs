//! The capacity search: short open-loop trials, raising the rate by a quarter while the
//! targets hold, then halving the gap between the best rate that met them and the lowest that
//! missed, until the two are within 3 %. The report's figures are the best trial's (or the
//! last one's when none met the targets), with every trial listed, an interrupted one too.

use std::time::Duration;

use crate::driver::{Measured, Rig, Stop};
use crate::floor::Floor;
use crate::monitor::Process;
use crate::report::{self, Report, Trial};
use crate::spec::{PlannedStage, RunSpec, WARMUP};

/// Trials at most, so a search ends even on a host whose capacity drifts.
const MAX_TRIALS: usize = 14;
/// Pause between trials so the previous trial's backlog drains.
const PAUSE: Duration = Duration::from_secs(3);

/// Where the search goes next, from what the trials so far found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    pub best_pass: Option<f64>,
    pub lowest_fail: Option<f64>,
}

impl Search {
    /// The next rate to try, or None when the search is done.
    pub fn next(&self, max_rps: f64) -> Option<f64> {
        match (self.best_pass, self.lowest_fail) {
            (Some(pass), Some(fail)) if fail <= pass * 1.03 => None,
            (Some(pass), Some(fail)) => Some((pass + fail) / 2.0),
            (Some(pass), None) if pass >= max_rps => None,
            (Some(pass), None) => Some((pass * 1.25).min(max_rps)),
            (None, Some(fail)) if fail < 2.0 => None,
            (None, Some(fail)) => Some(fail / 1.5),
            (None, None) => None,
        }
    }

    pub fn record(&mut self, rate: f64, pass: bool) {
        if pass {
            self.best_pass = Some(self.best_pass.map_or(rate, |b| b.max(rate)));
        } else {
            self.lowest_fail = Some(self.lowest_fail.map_or(rate, |f| f.min(rate)));
        }
    }
}

/// Runs the search and returns the report of the best trial (or the last one if none met the
/// targets) with every trial listed.
pub async fn search(
    rig: &Rig,
    spec: &RunSpec,
    floor: &Floor,
    process: Option<&Process>,
    stop: &Stop,
) -> (Report, Measured) {
    let demands: Vec<f64> = spec.effective_tenants().iter().map(|t| t.demand).collect();
    let warmup = spec.warmup.min(spec.trial / 4);
    let measured_part = spec
        .trial
        .saturating_sub(warmup)
        .max(Duration::from_secs(1));
    let mut rate = if spec.rps > 0.0 {
        spec.rps
    } else {
        // Half the single-verification floor: comfortably inside what the host can do.
        (floor.single_rps / 2.0).max(10.0).round()
    };
    let mut search = Search {
        best_pass: None,
        lowest_fail: None,
    };
    let mut trials = Vec::new();
    // (1-based trial, its report and measurements).
    let mut best: Option<(usize, Report, Measured)> = None;
    let mut last: Option<(usize, Report, Measured)> = None;
    while trials.len() < MAX_TRIALS && !stop.requested() {
        let plan = vec![
            PlannedStage {
                label: WARMUP.into(),
                stage: crate::schedule::Stage {
                    rate,
                    duration: warmup,
                },
            },
            PlannedStage {
                label: "steady".into(),
                stage: crate::schedule::Stage {
                    rate,
                    duration: measured_part,
                },
            },
        ];
        let number = trials.len() + 1;
        let title = format!("capacity trial {number} at {rate:.0} req/s");
        let measured = rig.run(&title, &plan, &demands, process, stop).await;
        let mut trial_spec = spec.clone();
        trial_spec.rps = rate;
        trial_spec.warmup = warmup;
        trial_spec.duration = measured_part;
        let report = report::build(&trial_spec, &plan, floor, &measured);
        let trial = Trial::of(rate, &report);
        eprintln!(
            "capacity trial {number} at {rate:.0} req/s: served {:.1} req/s, p99 {:.2} ms, \
             errors {:.3} %: {}",
            trial.served_rps,
            trial.p99_ms,
            trial.error_rate * 100.0,
            trial.outcome()
        );
        let (pass, interrupted) = (trial.pass, trial.interrupted);
        trials.push(trial);
        // An interrupted trial is listed with what it measured but does not steer the search.
        if interrupted {
            last = Some((number, report, measured));
            break;
        }
        search.record(rate, pass);
        if pass
            && best.as_ref().is_none_or(|(_, r, _)| {
                r.overall.counts.offered_rps < report.overall.counts.offered_rps
            })
        {
            best = Some((number, report, measured));
        } else {
            last = Some((number, report, measured));
        }
        match search.next(spec.max_rps) {
            Some(next) => rate = next.round().max(1.0),
            None => break,
        }
        tokio::time::sleep(PAUSE).await;
    }
    let highest = search.best_pass.unwrap_or(0.0);
    let (figures_from_trial, mut report, measured) = match (best, last) {
        (Some((number, report, measured)), _) | (None, Some((number, report, measured))) => {
            (Some(number), report, measured)
        }
        (None, None) => {
            let plan = spec.plan();
            let measured = rig
                .run("capacity", &plan[..0], &demands, process, stop)
                .await;
            (
                None,
                report::build(spec, &plan[..0], floor, &measured),
                measured,
            )
        }
    };
    report.capacity = Some(report::Capacity {
        highest_rps: highest,
        ratio_to_single_floor: highest / floor.single_rps.max(1e-9),
        ratio_to_batched_floor: highest / floor.batched_rps.max(1e-9),
        trials,
        figures_from_trial,
    });
    if highest == 0.0 {
        report.verdict = "FAIL".into();
    }
    report.interrupted = stop.requested();
    (report, measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_climbs_then_bisects_to_within_three_percent() {
        // A host that meets the targets up to 1000 req/s.
        let capacity = 1000.0;
        let mut search = Search {
            best_pass: None,
            lowest_fail: None,
        };
        let mut rate = 400.0;
        let mut tried = Vec::new();
        loop {
            tried.push(rate);
            search.record(rate, rate <= capacity);
            match search.next(20_000.0) {
                Some(next) => rate = f64::round(next),
                None => break,
            }
        }
        assert_eq!(&tried[..5], &[400.0, 500.0, 625.0, 781.0, 976.0]);
        let best = search.best_pass.unwrap();
        let fail = search.lowest_fail.unwrap();
        assert!(best <= capacity && fail > capacity);
        assert!(fail <= best * 1.03, "{best} .. {fail}");
        assert!(tried.len() <= MAX_TRIALS);
    }

    #[test]
    fn the_search_goes_down_when_the_first_trial_misses_and_stops_at_the_ceiling() {
        let mut search = Search {
            best_pass: None,
            lowest_fail: None,
        };
        search.record(900.0, false);
        assert_eq!(search.next(20_000.0), Some(600.0));
        let mut capped = Search {
            best_pass: Some(500.0),
            lowest_fail: None,
        };
        assert_eq!(capped.next(550.0), Some(550.0));
        capped.record(550.0, true);
        assert_eq!(capped.next(550.0), None);
    }
}
