//! The canary's two windows: the latest runs (current) and the baseline, the runs before
//! them that passed. A run joins the baseline only when it leaves the current window, and
//! only if no window it was judged in failed: a slow build stays judged against how the
//! appliance was before it, however long it lasts, never against itself.

use std::collections::VecDeque;

use super::probe::Probe;
use super::status::WindowSummary;

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSample {
    /// Latency of each answered request, milliseconds.
    pub latencies_ms: Vec<f64>,
    /// Requests sent.
    pub sent: u64,
    /// Requests that got no verdict (refused, timed out, connection lost).
    pub errors: u64,
    /// Whether a window it was in failed a comparator (it then never joins the baseline).
    pub failed: bool,
    /// When it began, Unix microseconds.
    pub started_us: u64,
    /// When it ended, Unix microseconds.
    pub finished_us: u64,
}

impl RunSample {
    /// What `probe`, a run from `started_us` to `finished_us`, measured.
    pub fn of(probe: &Probe, started_us: u64, finished_us: u64) -> Self {
        RunSample {
            latencies_ms: probe.latencies_ms.clone(),
            sent: probe.sent as u64,
            errors: (probe.sent - probe.answered) as u64,
            failed: false,
            started_us,
            finished_us,
        }
    }
}

/// The runs kept, newest last.
#[derive(Debug)]
pub struct Windows {
    current_runs: usize,
    baseline_runs: usize,
    current: VecDeque<RunSample>,
    baseline: VecDeque<RunSample>,
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
            current: VecDeque::new(),
            baseline: VecDeque::new(),
        }
    }

    /// Adds the newest run to the current window; the oldest run leaving it joins the
    /// baseline unless it failed, pushing the baseline's oldest out.
    pub fn push(&mut self, run: RunSample) {
        self.current.push_back(run);
        while self.current.len() > self.current_runs {
            let Some(leaving) = self.current.pop_front() else {
                break;
            };
            if leaving.failed {
                continue;
            }
            self.baseline.push_back(leaving);
            while self.baseline.len() > self.baseline_runs {
                self.baseline.pop_front();
            }
        }
    }

    /// Starts the baseline again from the current window: an operator accepted the
    /// appliance as it is now, so the current runs join the baseline as they leave, failed or
    /// not, and the runs before are forgotten.
    pub fn reset_baseline(&mut self) {
        self.baseline.clear();
        for run in &mut self.current {
            run.failed = false;
        }
    }

    /// Marks every run of the current window as failed: the window was judged slower (or
    /// more erring) than the baseline, so none of it may become the baseline.
    pub fn mark_current_failed(&mut self) {
        for run in &mut self.current {
            run.failed = true;
        }
    }

    /// The current window: the newest `current_runs` runs.
    pub fn current(&self) -> Window {
        flatten(self.current.iter())
    }

    /// The baseline: up to `baseline_runs` runs before the current window that never failed.
    pub fn baseline(&self) -> Window {
        flatten(self.baseline.iter())
    }
}

/// The runs, flattened into one window.
pub fn flatten<'a>(runs: impl Iterator<Item = &'a RunSample>) -> Window {
    let mut window = Window::default();
    for run in runs {
        window.add(run);
    }
    window
}

impl Window {
    /// Adds a run.
    pub fn add(&mut self, run: &RunSample) {
        self.runs += 1;
        self.latencies_ms.extend_from_slice(&run.latencies_ms);
        self.sent += run.sent;
        self.errors += run.errors;
    }

    /// Summed up, for the status and the timeline.
    pub fn summary(&self) -> WindowSummary {
        WindowSummary {
            runs: self.runs,
            samples: self.latencies_ms.len(),
            requests: self.sent,
            errors: self.errors,
            median_ms: tf_canary::judge::median(&self.latencies_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ms: f64) -> RunSample {
        RunSample {
            latencies_ms: vec![ms; 2],
            sent: 2,
            errors: 0,
            failed: false,
            started_us: ms as u64,
            finished_us: ms as u64,
        }
    }

    #[test]
    fn the_current_window_is_the_newest_runs_and_the_baseline_the_ones_before() {
        let mut windows = Windows::new(2, 3);
        for ms in 1..=7 {
            windows.push(run(f64::from(ms)));
        }
        assert_eq!(windows.current().latencies_ms, vec![6.0, 6.0, 7.0, 7.0]);
        assert_eq!(
            windows.baseline().latencies_ms,
            vec![3.0, 3.0, 4.0, 4.0, 5.0, 5.0]
        );
        assert_eq!(windows.baseline().runs, 3);
    }

    #[test]
    fn a_failed_window_never_joins_the_baseline_however_long_the_failure_lasts() {
        let mut windows = Windows::new(2, 2);
        for _ in 0..4 {
            windows.push(run(1.0));
        }
        assert_eq!(windows.baseline().latencies_ms, vec![1.0; 4]);
        // A slow stretch far longer than both windows: every window it is judged in fails.
        for _ in 0..20 {
            windows.push(run(9.0));
            windows.mark_current_failed();
        }
        assert_eq!(windows.current().latencies_ms, vec![9.0; 4]);
        assert_eq!(
            windows.baseline().latencies_ms,
            vec![1.0; 4],
            "the baseline is still the appliance before the slowdown"
        );
    }

    #[test]
    fn a_reset_baseline_starts_again_from_the_current_window_slow_or_not() {
        let mut windows = Windows::new(2, 2);
        for _ in 0..4 {
            windows.push(run(1.0));
        }
        for _ in 0..2 {
            windows.push(run(9.0));
            windows.mark_current_failed();
        }
        windows.reset_baseline();
        assert_eq!(windows.baseline(), Window::default());
        // The slow runs now join the baseline as they leave the current window.
        windows.push(run(9.0));
        windows.push(run(9.0));
        assert_eq!(windows.baseline().latencies_ms, vec![9.0; 4]);
    }

    #[test]
    fn before_enough_runs_the_baseline_is_empty() {
        let mut windows = Windows::new(2, 2);
        windows.push(run(1.0));
        windows.push(run(1.0));
        assert_eq!(windows.baseline(), Window::default());
        windows.push(run(1.0));
        assert_eq!(windows.baseline().runs, 1);
    }
}
