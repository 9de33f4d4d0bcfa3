//! After a promotion or rollback: the canary's runs after the switch judged against its runs
//! before it, so the bundle timeline says whether the switch changed what partners get. The
//! window before is the current window's runs that ended before the switch; the window after,
//! as many runs again that began after it. Verdicts and receipts after it must all be right;
//! latency and errors are compared by the canary's own comparators. Silences do not apply:
//! this is a record of what happened, not an alarm. The result is a control event
//! ([`tf_ledger::CANARY_AFTER_SWITCH`]) that the timeline reads back into the switch's entry.

use serde_json::{Value, json};
use tf_canary::judge::{self, ErrorRule, Judgement, LatencyRule, Overall, Score};

use super::probe::Probe;
use super::windows::Window;

/// A switch the canary is told of, as the timeline recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switch {
    /// Its timeline entry.
    pub timeline_seq: u64,
    /// `promote` or `rollback`.
    pub action: String,
    /// The revision in force before.
    pub from_revision: u64,
    /// The revision put in force.
    pub to_revision: u64,
    /// When, Unix microseconds.
    pub at_us: u64,
}

/// A comparison under way: the window before, and the runs after so far.
#[derive(Debug)]
pub struct AfterSwitch {
    switch: Switch,
    before: Window,
    wanted_runs: usize,
    after: Window,
    answered: usize,
    wrong_verdicts: Vec<String>,
    bad_receipts: Vec<String>,
}

/// The judgement, ready to record.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// `pass`, `marginal` or `fail`.
    pub overall: Overall,
    /// The control event's body.
    pub body: Value,
}

impl AfterSwitch {
    /// Begins comparing after `switch`, against `before`, once `wanted_runs` runs follow it.
    pub fn begin(switch: Switch, before: Window, wanted_runs: usize) -> Self {
        AfterSwitch {
            switch,
            before,
            wanted_runs: wanted_runs.max(1),
            after: Window::default(),
            answered: 0,
            wrong_verdicts: Vec::new(),
            bad_receipts: Vec::new(),
        }
    }

    /// The switch compared.
    pub fn switch(&self) -> &Switch {
        &self.switch
    }

    /// Adds a run that began at `started_us` (one that began before the switch is not after
    /// it, and is left out).
    pub fn add(&mut self, started_us: u64, probe: &Probe) {
        if started_us < self.switch.at_us {
            return;
        }
        self.after.runs += 1;
        self.after
            .latencies_ms
            .extend_from_slice(&probe.latencies_ms);
        self.after.sent += probe.sent as u64;
        self.after.errors += (probe.sent - probe.answered) as u64;
        self.answered += probe.answered;
        self.wrong_verdicts
            .extend(probe.mismatches.iter().map(|(_, what)| what.clone()));
        self.bad_receipts
            .extend(probe.bad_receipts.iter().map(|(_, what)| what.clone()));
    }

    /// Whether enough runs followed the switch.
    pub fn complete(&self) -> bool {
        self.after.runs >= self.wanted_runs
    }

    /// Judges the runs after against those before at `now_us`; `cut_short_by` names the
    /// revision of a later switch that ended the comparison early.
    pub fn judge(&self, now_us: u64, cut_short_by: Option<u64>) -> Judged {
        let sent = self.after.sent as usize;
        let judgements = [
            judge::verdicts(sent, self.answered, &self.wrong_verdicts),
            judge::receipts(sent, self.answered, &self.bad_receipts),
            judge::latency(
                &self.after.latencies_ms,
                &self.before.latencies_ms,
                &LatencyRule::default(),
            ),
            judge::error_rate(
                (self.after.errors, self.after.sent),
                (self.before.errors, self.before.sent),
                &ErrorRule::default(),
            ),
        ];
        let overall = if judgements.iter().any(|j| j.score == Score::Fail) {
            Overall::Fail
        } else if judgements.iter().all(|j| j.score == Score::Pass) {
            Overall::Pass
        } else {
            Overall::Marginal
        };
        let mut summary = format!(
            "{} runs after against {} before",
            self.after.runs, self.before.runs
        );
        if let Some(revision) = cut_short_by {
            summary.push_str(&format!(
                " (cut short by the switch to revision {revision})"
            ));
        }
        summary.push_str(": ");
        summary.push_str(&describe(&judgements, &self.before, &self.after));
        let body = json!({
            "timeline_seq": self.switch.timeline_seq,
            "overall": overall.name(),
            "summary": summary,
            "judged_us": now_us,
            "action": self.switch.action,
            "from_revision": self.switch.from_revision,
            "to_revision": self.switch.to_revision,
            "switched_us": self.switch.at_us,
            "comparators": judgements
                .iter()
                .map(|j| json!({
                    "comparator": j.comparator,
                    "score": j.score.name(),
                    "detail": j.detail,
                }))
                .collect::<Vec<_>>(),
            "before": window_value(&self.before),
            "after": window_value(&self.after),
        });
        Judged { overall, body }
    }
}

/// The comparators' findings in words: those that did not pass, or a short all-clear with the
/// medians.
fn describe(judgements: &[Judgement], before: &Window, after: &Window) -> String {
    let not_passing: Vec<String> = judgements
        .iter()
        .filter(|j| j.score != Score::Pass)
        .map(|j| format!("{} {}: {}", j.comparator, j.score.name(), j.detail))
        .collect();
    if !not_passing.is_empty() {
        return not_passing.join("; ");
    }
    let median =
        |w: &Window| judge::median(&w.latencies_ms).map_or("-".into(), |m| format!("{m:.1} ms"));
    format!(
        "verdicts and receipts right, median latency {} against {}, errors {} of {} against {} of {}",
        median(after),
        median(before),
        after.errors,
        after.sent,
        before.errors,
        before.sent
    )
}

fn window_value(window: &Window) -> Value {
    json!({
        "runs": window.runs,
        "samples": window.latencies_ms.len(),
        "requests": window.sent,
        "errors": window.errors,
        "median_ms": judge::median(&window.latencies_ms),
    })
}

#[cfg(test)]
mod tests;
