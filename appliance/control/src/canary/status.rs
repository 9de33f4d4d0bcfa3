//! What the admin server knows of the canary: its latest runs and windows, kept by the
//! worker, and a way to ask for a run now.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tf_canary::judge::{Judgement, Overall};
use tokio::sync::{Notify, watch};

/// Runs kept for the console's strip of recent verdicts.
pub const RECENT_RUNS: usize = 60;
/// Problems listed per run (the rest are counted).
pub const MAX_PROBLEMS: usize = 20;

/// Why a run happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Its interval came.
    Schedule,
    /// Someone asked (`appliance ctl canary run`).
    Demand,
}

/// One run, judged.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Its number since start, from 1.
    pub number: u64,
    /// When it ended, Unix microseconds.
    pub finished_us: u64,
    /// Why it ran.
    pub trigger: Trigger,
    /// The verdict.
    pub overall: Overall,
    /// Each comparator's judgement.
    pub judgements: Vec<Judgement>,
    /// Requests sent.
    pub sent: usize,
    /// Requests answered with a verdict.
    pub answered: usize,
    /// The run's median latency, milliseconds (none answered: `None`).
    pub median_ms: Option<f64>,
    /// Wrong verdicts, bad receipts and errors, in words (at most [`MAX_PROBLEMS`]).
    pub problems: Vec<String>,
    /// Problems beyond those listed.
    pub more_problems: usize,
}

/// A window, summed up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowSummary {
    /// Runs in it.
    pub runs: usize,
    /// Latency samples.
    pub samples: usize,
    /// Requests sent.
    pub requests: u64,
    /// Requests without a verdict.
    pub errors: u64,
    /// Median latency, milliseconds.
    pub median_ms: Option<f64>,
}

/// The canary as the worker last left it.
#[derive(Clone, Debug, PartialEq)]
pub struct CanaryStatus {
    /// Whether it runs.
    pub enabled: bool,
    /// Why it does not (disabled, its tenant not listed, ...), when it does not.
    pub problem: Option<String>,
    /// The tenant it connects as.
    pub tenant: String,
    /// How often it runs, milliseconds.
    pub interval_ms: u64,
    /// Requests in the golden set.
    pub items: usize,
    /// Runs since start.
    pub runs: u64,
    /// Runs since start by verdict: passed, marginal, failed.
    pub by_overall: [u64; 3],
    /// Non-critical failures in a row so far, and the limit at which the canary fails.
    pub failing_runs: u32,
    /// The consecutive-failure limit.
    pub consecutive_failures: u32,
    /// Since when the canary has been failing, Unix microseconds (`None`: it is not).
    pub alarm_since_us: Option<u64>,
    /// The latest runs, oldest first (at most [`RECENT_RUNS`]).
    pub recent: VecDeque<RunRecord>,
    /// The window judged.
    pub current: WindowSummary,
    /// The baseline it was judged against.
    pub baseline: WindowSummary,
}

impl CanaryStatus {
    /// A canary that does not run, and why.
    pub fn off(tenant: &str, problem: String) -> Self {
        CanaryStatus {
            enabled: false,
            problem: Some(problem),
            tenant: tenant.to_owned(),
            interval_ms: 0,
            items: 0,
            runs: 0,
            by_overall: [0; 3],
            failing_runs: 0,
            consecutive_failures: 0,
            alarm_since_us: None,
            recent: VecDeque::new(),
            current: WindowSummary::default(),
            baseline: WindowSummary::default(),
        }
    }

    /// The latest run.
    pub fn latest(&self) -> Option<&RunRecord> {
        self.recent.back()
    }
}

/// Shared between the worker, which writes, and the admin server, which reads and asks.
#[derive(Clone, Debug)]
pub struct CanaryHandle {
    status: Arc<Mutex<CanaryStatus>>,
    asked: Arc<Notify>,
    ran: watch::Receiver<u64>,
    ran_sender: Arc<watch::Sender<u64>>,
}

impl CanaryHandle {
    /// A handle starting from `status`.
    pub fn new(status: CanaryStatus) -> Self {
        let (ran_sender, ran) = watch::channel(0);
        CanaryHandle {
            status: Arc::new(Mutex::new(status)),
            asked: Arc::new(Notify::new()),
            ran,
            ran_sender: Arc::new(ran_sender),
        }
    }

    /// The status now.
    pub fn status(&self) -> CanaryStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Asks for a run now and waits for it, at most `wait`: the status after it, or `None`
    /// when the canary does not run or took longer.
    pub async fn run_now(&self, wait: Duration) -> Option<CanaryStatus> {
        if !self.status().enabled {
            return None;
        }
        let mut ran = self.ran.clone();
        let before = *ran.borrow_and_update();
        self.asked.notify_one();
        let after = tokio::time::timeout(wait, ran.wait_for(|runs| *runs > before)).await;
        match after {
            Ok(Ok(_)) => Some(self.status()),
            _ => None,
        }
    }

    /// Changes the status (the worker's side) and tells those waiting for a run.
    pub(super) fn update(&self, change: impl FnOnce(&mut CanaryStatus)) {
        let runs = {
            let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut status);
            status.runs
        };
        self.ran_sender.send_replace(runs);
    }

    /// Wakes when someone asks for a run (the worker's side).
    pub(super) fn asked(&self) -> &Notify {
        &self.asked
    }
}
