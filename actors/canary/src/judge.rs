//! The canary's comparators and its overall verdict. Each comparator scores one aspect of the
//! current window against the baseline window: a pass, a marginal result, a failure, or no
//! data, which is never taken for a pass (an empty or zero baseline, too few samples). A
//! critical comparator's failure fails the canary at once; other failures must repeat for
//! `consecutive_failures` runs in a row (Argo Rollouts' limit), so one noisy window pages
//! no one. A run without data neither ends nor extends a streak.

use crate::{Alternative, fisher_greater, hodges_lehmann, mann_whitney};

/// One comparator's score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    /// Within its thresholds.
    Pass,
    /// Near them: worth a look, not an alarm.
    Marginal,
    /// Over them.
    Fail,
    /// Nothing to judge: no baseline, too few samples. Never a pass.
    NoData,
    /// A failure or marginal result an operator's silence covers: no alarm, never a pass.
    Silenced,
}

impl Score {
    /// Its name, as the API, metrics and timeline spell it.
    pub fn name(self) -> &'static str {
        match self {
            Score::Pass => "pass",
            Score::Marginal => "marginal",
            Score::Fail => "fail",
            Score::NoData => "no-data",
            Score::Silenced => "silenced",
        }
    }
}

/// One comparator's judgement of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// `verdict`, `latency`, `error-rate`, `receipt`.
    pub comparator: &'static str,
    /// Its score.
    pub score: Score,
    /// Whether its failure fails the canary at once.
    pub critical: bool,
    /// What it saw, in words.
    pub detail: String,
}

/// Wrong answers named in a judgement's detail; the rest are counted.
pub const LISTED_PROBLEMS: usize = 10;

/// Verdicts must match the golden set's exactly: any difference is a critical failure, and
/// so is sending requests and getting no verdict back at all.
pub fn verdicts(sent: usize, checked: usize, mismatches: &[String]) -> Judgement {
    verdicts_counted(sent, checked, mismatches, mismatches.len())
}

/// [`verdicts`] of `count` differences of which `listed` are kept in words.
pub fn verdicts_counted(sent: usize, checked: usize, listed: &[String], count: usize) -> Judgement {
    critical(
        "verdict",
        (sent, checked),
        (listed, count),
        "verdicts as expected",
        "verdicts differ from the golden set's",
    )
}

/// Receipts must verify with the published key and carry the fields expected: any that does
/// not is a critical failure, and so is getting none back for the requests sent.
pub fn receipts(sent: usize, checked: usize, bad: &[String]) -> Judgement {
    receipts_counted(sent, checked, bad, bad.len())
}

/// [`receipts`] of `count` bad receipts of which `listed` are kept in words.
pub fn receipts_counted(sent: usize, checked: usize, listed: &[String], count: usize) -> Judgement {
    critical(
        "receipt",
        (sent, checked),
        (listed, count),
        "receipts verify",
        "receipts do not check out",
    )
}

/// A critical comparator over `(sent, checked)` requests with `(listed, count)` wrong.
fn critical(
    comparator: &'static str,
    (sent, checked): (usize, usize),
    (listed, count): (&[String], usize),
    good: &str,
    bad: &str,
) -> Judgement {
    let (score, detail) = match (sent, checked, count) {
        (0, _, _) => (Score::NoData, "nothing sent".to_owned()),
        (_, 0, _) => (
            Score::Fail,
            format!("{sent} requests sent and none answered"),
        ),
        (_, _, 0) => (Score::Pass, format!("{checked} {good}")),
        (_, _, count) => {
            let shown = &listed[..listed.len().min(LISTED_PROBLEMS)];
            let mut detail = format!("{count} of {sent} {bad}: {}", shown.join("; "));
            if count > shown.len() {
                detail.push_str(&format!("; and {} more", count - shown.len()));
            }
            (Score::Fail, detail)
        }
    };
    Judgement {
        comparator,
        score,
        critical: true,
        detail,
    }
}

/// The most samples of each window the latency comparator reads (the newest): the
/// Hodges-Lehmann shift looks at every pair, so two windows of this size are a million pairs.
pub const MAX_LATENCY_SAMPLES: usize = 1_000;

/// Thresholds of the latency comparator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyRule {
    /// Fewer samples in either window judge nothing.
    pub min_samples: usize,
    /// The Mann-Whitney p-value (one-sided: slower) under which a shift counts.
    pub alpha: f64,
    /// The shift allowed, as a fraction of the baseline's median.
    pub tolerance: f64,
    /// The shift allowed whatever the baseline, milliseconds: a baseline near zero (or zero)
    /// does not make every microsecond an alarm.
    pub floor_ms: f64,
}

impl Default for LatencyRule {
    fn default() -> Self {
        LatencyRule {
            min_samples: 30,
            alpha: 0.001,
            tolerance: 0.25,
            floor_ms: 2.0,
        }
    }
}

/// Whether the current window's latencies (ms) are slower than the baseline's by more than
/// the rule allows, and significantly so.
pub fn latency<'a>(current: &'a [f64], baseline: &'a [f64], rule: &LatencyRule) -> Judgement {
    let judged = |score, detail| Judgement {
        comparator: "latency",
        score,
        critical: false,
        detail,
    };
    if baseline.is_empty() {
        return judged(
            Score::NoData,
            "no baseline yet: the canary judges latency once a baseline window has filled"
                .to_owned(),
        );
    }
    if current.len() < rule.min_samples || baseline.len() < rule.min_samples {
        return judged(
            Score::NoData,
            format!(
                "{} current and {} baseline samples; at least {} of each are needed",
                current.len(),
                baseline.len(),
                rule.min_samples
            ),
        );
    }
    let newest = |window: &'a [f64]| &window[window.len().saturating_sub(MAX_LATENCY_SAMPLES)..];
    let (current, baseline) = (newest(current), newest(baseline));
    let test = mann_whitney(current, baseline, Alternative::Greater).expect("samples checked");
    let shift = hodges_lehmann(current, baseline).expect("samples checked");
    let median = median(baseline).expect("samples checked");
    // A zero (or tiny) baseline allows the floor, never a ratio of nothing.
    let allowed = (rule.tolerance * median).max(rule.floor_ms);
    let detail = format!(
        "shift {shift:+.3} ms against a baseline median of {median:.3} ms (allowed {allowed:.3} \
         ms), Mann-Whitney p = {:.2e}",
        test.p_value
    );
    let significant = test.p_value < rule.alpha;
    let score = if significant && shift > allowed {
        Score::Fail
    } else if significant && shift > allowed / 2.0 {
        Score::Marginal
    } else {
        Score::Pass
    };
    judged(score, detail)
}

/// Thresholds of the error-rate comparator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorRule {
    /// Fewer requests in either window judge nothing.
    pub min_requests: u64,
    /// Fisher's p-value (one-sided: more errors) under which the rise counts.
    pub alpha: f64,
}

impl Default for ErrorRule {
    fn default() -> Self {
        ErrorRule {
            min_requests: 30,
            alpha: 0.001,
        }
    }
}

/// Whether the current window has more errors (requests that failed outright: refused,
/// timed out, unanswered) than the baseline, by an exact test on the counts.
pub fn error_rate(
    (current_errors, current_total): (u64, u64),
    (baseline_errors, baseline_total): (u64, u64),
    rule: &ErrorRule,
) -> Judgement {
    let judged = |score, detail| Judgement {
        comparator: "error-rate",
        score,
        critical: false,
        detail,
    };
    if baseline_total == 0 {
        return judged(Score::NoData, "no baseline yet".to_owned());
    }
    if current_total < rule.min_requests || baseline_total < rule.min_requests {
        return judged(
            Score::NoData,
            format!(
                "{current_total} current and {baseline_total} baseline requests; at least {} \
                 of each are needed",
                rule.min_requests
            ),
        );
    }
    let Some(p) = fisher_greater(
        current_errors,
        current_total,
        baseline_errors,
        baseline_total,
    ) else {
        return judged(Score::NoData, "error counts over their totals".to_owned());
    };
    let detail = format!(
        "{current_errors} errors in {current_total} against {baseline_errors} in \
         {baseline_total}, Fisher p = {p:.2e}"
    );
    let score = if p < rule.alpha {
        Score::Fail
    } else if p < rule.alpha * 10.0 {
        Score::Marginal
    } else {
        Score::Pass
    };
    judged(score, detail)
}

/// The median of `values` (`None` for none).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    })
}

/// The canary's verdict on a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overall {
    /// Every comparator passed.
    Pass,
    /// Something is marginal, lacks data, or failed fewer times in a row than the limit.
    Marginal,
    /// A critical comparator failed, or another failed the limit's number of runs in a row.
    Fail,
}

impl Overall {
    /// Its name, as the API, metrics and timeline spell it.
    pub fn name(self) -> &'static str {
        match self {
            Overall::Pass => "pass",
            Overall::Marginal => "marginal",
            Overall::Fail => "fail",
        }
    }
}

/// Runs' verdicts in order, with each comparator's count of consecutive failures: a streak
/// belongs to one comparator, so a pass elsewhere, or another comparator's silence, neither
/// ends nor hides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdicts {
    /// Non-critical failures in a row before the canary fails.
    pub consecutive_failures: u32,
    streaks: Vec<(&'static str, u32)>,
}

impl Verdicts {
    /// A fresh count, failing after `consecutive_failures` failing runs in a row (at least 1).
    pub fn new(consecutive_failures: u32) -> Self {
        Verdicts {
            consecutive_failures: consecutive_failures.max(1),
            streaks: Vec::new(),
        }
    }

    /// The longest streak of failing runs of any comparator so far.
    pub fn failing_runs(&self) -> u32 {
        self.streaks
            .iter()
            .map(|(_, runs)| *runs)
            .max()
            .unwrap_or(0)
    }

    /// The verdict on a run's judgements. A comparator's failure extends its streak and a pass
    /// or marginal result ends it; no data and a silenced result leave it as it was.
    pub fn judge(&mut self, run: &[Judgement]) -> Overall {
        let mut over_limit = false;
        for judgement in run {
            let streak = self.streak(judgement.comparator);
            match judgement.score {
                Score::Fail => {
                    *streak += 1;
                    over_limit |= *streak >= self.consecutive_failures || judgement.critical;
                }
                Score::Pass | Score::Marginal => *streak = 0,
                Score::NoData | Score::Silenced => {}
            }
        }
        if over_limit {
            Overall::Fail
        } else if !run.is_empty() && run.iter().all(|j| j.score == Score::Pass) {
            Overall::Pass
        } else {
            Overall::Marginal
        }
    }

    fn streak(&mut self, comparator: &'static str) -> &mut u32 {
        let at = match self
            .streaks
            .iter()
            .position(|(name, _)| *name == comparator)
        {
            Some(at) => at,
            None => {
                self.streaks.push((comparator, 0));
                self.streaks.len() - 1
            }
        };
        &mut self.streaks[at].1
    }
}

#[cfg(test)]
mod tests;
