//! The canary's two windows: the latest runs (current) and, before them, the runs that make
//! the baseline. A run that failed a comparator never joins the baseline, so a slow build
//! stays judged against how the appliance was before it, not against itself.

use std::collections::VecDeque;

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSample {
    /// Latency of each answered request, milliseconds.
    pub latencies_ms: Vec<f64>,
    /// Requests sent.
    pub sent: u64,
    /// Requests that got no verdict (refused, timed out, connection lost).
    pub errors: u64,
    /// Whether any comparator failed on this run (it then stays out of the baseline).
    pub failed: bool,
}

/// The runs kept, newest last.
#[derive(Debug)]
pub struct Windows {
    current_runs: usize,
    baseline_runs: usize,
    runs: VecDeque<RunSample>,
}

/// One window, flattened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window {
    /// Runs in it.
    pub runs: usize,
    /// Every latency, milliseconds.
    pub latencies_ms: Vec<f64>,
    /// Requests sent.
    pub sent: u64,
    /// Requests without a verdict.
    pub errors: u64,
}

impl Windows {
    /// Windows of `current_runs` and `baseline_runs` runs (each at least 1).
    pub fn new(current_runs: usize, baseline_runs: usize) -> Self {
        Windows {
            current_runs: current_runs.max(1),
            baseline_runs: baseline_runs.max(1),
            runs: VecDeque::new(),
        }
    }

    /// Adds the newest run, dropping those older than both windows.
    pub fn push(&mut self, run: RunSample) {
        self.runs.push_back(run);
        while self.runs.len() > self.current_runs + self.baseline_runs {
            self.runs.pop_front();
        }
    }

    /// Marks the newest run as failed (judged after it was pushed).
    pub fn mark_newest_failed(&mut self) {
        if let Some(run) = self.runs.back_mut() {
            run.failed = true;
        }
    }

    /// Forgets every run: the next runs build a fresh baseline (after a change an operator
    /// accepts as the new normal).
    pub fn clear(&mut self) {
        self.runs.clear();
    }

    /// The current window: the newest `current_runs` runs.
    pub fn current(&self) -> Window {
        let skip = self.runs.len().saturating_sub(self.current_runs);
        flatten(self.runs.iter().skip(skip))
    }

    /// The baseline: the runs before the current window that failed nothing.
    pub fn baseline(&self) -> Window {
        let before = self.runs.len().saturating_sub(self.current_runs);
        flatten(self.runs.iter().take(before).filter(|run| !run.failed))
    }
}

fn flatten<'a>(runs: impl Iterator<Item = &'a RunSample>) -> Window {
    let mut window = Window::default();
    for run in runs {
        window.runs += 1;
        window.latencies_ms.extend_from_slice(&run.latencies_ms);
        window.sent += run.sent;
        window.errors += run.errors;
    }
    window
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ms: f64, failed: bool) -> RunSample {
        RunSample {
            latencies_ms: vec![ms; 2],
            sent: 2,
            errors: u64::from(failed),
            failed,
        }
    }

    #[test]
    fn the_current_window_is_the_newest_runs_and_the_baseline_the_ones_before() {
        let mut windows = Windows::new(2, 3);
        for ms in 1..=7 {
            windows.push(run(f64::from(ms), false));
        }
        assert_eq!(windows.current().latencies_ms, vec![6.0, 6.0, 7.0, 7.0]);
        assert_eq!(
            windows.baseline().latencies_ms,
            vec![3.0, 3.0, 4.0, 4.0, 5.0, 5.0]
        );
        assert_eq!(windows.baseline().runs, 3);
    }

    #[test]
    fn a_failed_run_counts_in_the_current_window_but_never_joins_the_baseline() {
        let mut windows = Windows::new(1, 3);
        windows.push(run(1.0, false));
        windows.push(run(9.0, false));
        windows.mark_newest_failed();
        assert_eq!(windows.current().errors, 0, "marked after it was pushed");
        assert_eq!(windows.current().latencies_ms, vec![9.0, 9.0]);
        windows.push(run(2.0, false));
        assert_eq!(windows.baseline().latencies_ms, vec![1.0, 1.0]);
        assert_eq!(windows.baseline().sent, 2);
    }

    #[test]
    fn before_enough_runs_the_baseline_is_empty_and_clear_starts_over() {
        let mut windows = Windows::new(2, 2);
        windows.push(run(1.0, false));
        assert_eq!(windows.baseline(), Window::default());
        windows.push(run(1.0, false));
        windows.push(run(1.0, false));
        assert_eq!(windows.baseline().runs, 1);
        windows.clear();
        assert_eq!(windows.current(), Window::default());
    }
}
