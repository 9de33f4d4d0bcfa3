//! After a promotion or rollback: the canary's runs after the switch judged against its runs
//! before it, so the bundle timeline says whether the switch changed what partners get. The
//! window before is the latest `current_runs` runs that ran wholly between the previous
//! switch and this one; the window after, as many runs that began once every shard served
//! the switch. A run under way at a switch belongs to neither side. Verdicts and receipts
//! after it must all be right; latency and errors are compared by the canary's own
//! comparators. Silences do not apply: this is a record of what happened, not an alarm. The
//! result is a control event ([`tf_ledger::CANARY_AFTER_SWITCH`]) that the timeline reads
//! back into the switch's entry.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use tf_canary::judge::{self, ErrorRule, Judgement, LatencyRule, Overall, Verdicts};
use tf_ledger::CanaryAfterSwitch;

use super::probe::Probe;
use super::status::{MAX_PROBLEMS, WindowSummary};
use super::windows::{RunSample, Window, flatten};

/// A switch the canary is told of, once every shard serves it (or the wait for them ended).
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
    /// When every shard served it, Unix microseconds.
    pub at_us: u64,
    /// Whether every shard reported it within the wait (if not, `at_us` is when the wait
    /// ended, and some runs after may have met the old revision).
    pub all_shards: bool,
}

/// The latest runs, for the window before a switch.
#[derive(Debug)]
pub struct RecentRuns {
    runs: VecDeque<RunSample>,
    keep: usize,
    /// When the previous switch took effect: runs begun before it are not before the next.
    since_us: u64,
}

impl RecentRuns {
    /// Keeps the latest `keep` runs (at least 1), and one more for the run under way at a
    /// switch.
    pub fn new(keep: usize) -> Self {
        RecentRuns {
            runs: VecDeque::new(),
            keep: keep.max(1),
            since_us: 0,
        }
    }

    /// Adds the newest run.
    pub fn push(&mut self, run: RunSample) {
        self.runs.push_back(run);
        while self.runs.len() > self.keep + 1 {
            self.runs.pop_front();
        }
    }

    /// The newest run.
    pub fn latest(&self) -> Option<&RunSample> {
        self.runs.back()
    }

    /// The window before a switch at `at_us`: the latest runs that began after the previous
    /// switch and ended by this one. From then on, runs are after this switch.
    pub fn before(&mut self, at_us: u64) -> Window {
        let since_us = std::mem::replace(&mut self.since_us, at_us);
        let wholly_between: Vec<&RunSample> = self
            .runs
            .iter()
            .filter(|run| run.started_us >= since_us && run.finished_us <= at_us)
            .collect();
        let skip = wholly_between.len().saturating_sub(self.keep);
        flatten(wholly_between.into_iter().skip(skip))
    }
}

/// A comparison under way: the window before, and the runs after so far.
#[derive(Debug)]
pub struct AfterSwitch {
    switch: Switch,
    before: Window,
    wanted_runs: usize,
    rules: (LatencyRule, ErrorRule),
    after: Window,
    answered: usize,
    wrong_verdicts: Problems,
    bad_receipts: Problems,
}

/// Wrong answers: all counted, the first [`MAX_PROBLEMS`] kept in words.
#[derive(Debug, Default)]
struct Problems {
    listed: Vec<String>,
    count: usize,
}

impl Problems {
    fn extend(&mut self, problems: &[(String, String)]) {
        self.count += problems.len();
        let room = MAX_PROBLEMS.saturating_sub(self.listed.len());
        self.listed
            .extend(problems.iter().take(room).map(|(_, what)| what.clone()));
    }
}

/// The judgement as the ledger keeps it: the timeline entry's part, and the details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AfterSwitchNote {
    /// What the bundle timeline shows in the switch's entry.
    #[serde(flatten)]
    pub entry: CanaryAfterSwitch,
    /// `promote` or `rollback`.
    pub action: String,
    /// The revision in force before.
    pub from_revision: u64,
    /// The revision put in force.
    pub to_revision: u64,
    /// When every shard served it, Unix microseconds.
    pub switched_us: u64,
    /// Whether every shard reported it within the wait.
    pub all_shards: bool,
    /// Each comparator's judgement.
    pub comparators: Vec<ComparatorNote>,
    /// The window before.
    pub before: WindowSummary,
    /// The window after.
    pub after: WindowSummary,
}

/// One comparator's judgement, in the note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparatorNote {
    /// `verdict`, `receipt`, `latency`, `error-rate`.
    pub comparator: String,
    /// `pass`, `marginal`, `fail`, `no-data`.
    pub score: String,
    /// What it saw.
    pub detail: String,
}

impl AfterSwitch {
    /// Begins comparing after `switch`, against `before`, once `wanted_runs` runs follow it,
    /// with the canary's latency and error rules.
    pub fn begin(
        switch: Switch,
        before: Window,
        wanted_runs: usize,
        rules: (LatencyRule, ErrorRule),
    ) -> Self {
        AfterSwitch {
            switch,
            before,
            wanted_runs: wanted_runs.max(1),
            rules,
            after: Window::default(),
            answered: 0,
            wrong_verdicts: Problems::default(),
            bad_receipts: Problems::default(),
        }
    }

    /// The switch compared.
    pub fn switch(&self) -> &Switch {
        &self.switch
    }

    /// Adds a run (`sample` of `probe`); one that began before the switch is not after it,
    /// and is left out.
    pub fn add(&mut self, sample: &RunSample, probe: &Probe) {
        if sample.started_us < self.switch.at_us {
            return;
        }
        self.after.add(sample);
        self.answered += probe.answered;
        self.wrong_verdicts.extend(&probe.mismatches);
        self.bad_receipts.extend(&probe.bad_receipts);
    }

    /// Whether enough runs followed the switch.
    pub fn complete(&self) -> bool {
        self.after.runs >= self.wanted_runs
    }

    /// Judges the runs after against those before at `now_us`; `cut_short_by` names the
    /// revision of a later switch that ended the comparison early.
    pub fn judge(&self, now_us: u64, cut_short_by: Option<u64>) -> (Overall, AfterSwitchNote) {
        let sent = self.after.sent as usize;
        let (latency_rule, error_rule) = &self.rules;
        let judgements = [
            judge::verdicts_counted(
                sent,
                self.answered,
                &self.wrong_verdicts.listed,
                self.wrong_verdicts.count,
            ),
            judge::receipts_counted(
                sent,
                self.answered,
                &self.bad_receipts.listed,
                self.bad_receipts.count,
            ),
            judge::latency(
                &self.after.latencies_ms,
                &self.before.latencies_ms,
                latency_rule,
            ),
            judge::error_rate(
                (self.after.errors, self.after.sent),
                (self.before.errors, self.before.sent),
                error_rule,
            ),
        ];
        // One comparison, no streak: any failure fails it.
        let overall = Verdicts::new(1).judge(&judgements);
        let mut summary = format!(
            "{} runs after against {} before",
            self.after.runs, self.before.runs
        );
        if let Some(revision) = cut_short_by {
            summary.push_str(&format!(
                " (cut short by the switch to revision {revision})"
            ));
        }
        if !self.switch.all_shards {
            summary.push_str(" (not every shard had reported the switch in time)");
        }
        summary.push_str(": ");
        summary.push_str(&describe(&judgements, &self.before, &self.after));
        let note = AfterSwitchNote {
            entry: CanaryAfterSwitch {
                timeline_seq: self.switch.timeline_seq,
                overall: overall.name().to_owned(),
                summary,
                judged_us: now_us,
            },
            action: self.switch.action.clone(),
            from_revision: self.switch.from_revision,
            to_revision: self.switch.to_revision,
            switched_us: self.switch.at_us,
            all_shards: self.switch.all_shards,
            comparators: judgements
                .iter()
                .map(|j| ComparatorNote {
                    comparator: j.comparator.to_owned(),
                    score: j.score.name().to_owned(),
                    detail: j.detail.clone(),
                })
                .collect(),
            before: self.before.summary(),
            after: self.after.summary(),
        };
        (overall, note)
    }
}

/// The comparators' findings in words: those that did not pass, or a short all-clear with the
/// medians.
fn describe(judgements: &[Judgement], before: &Window, after: &Window) -> String {
    let not_passing: Vec<String> = judgements
        .iter()
        .filter(|j| j.score != judge::Score::Pass)
        .map(|j| format!("{} {}: {}", j.comparator, j.score.name(), j.detail))
        .collect();
    if !not_passing.is_empty() {
        return not_passing.join("; ");
    }
    let median =
        |w: &Window| judge::median(&w.latencies_ms).map_or("-".into(), |m| format!("{m:.1} ms"));
    format!(
        "verdicts and receipts right, median latency {} against {}, errors {} of {} against {} \
         of {}",
        median(after),
        median(before),
        after.errors,
        after.sent,
        before.errors,
        before.sent
    )
}

#[cfg(test)]
mod tests;
