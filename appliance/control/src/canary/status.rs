//! What the admin server knows of the canary: its latest runs and windows, kept by the
//! worker, and a way to ask for a run now.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use tf_canary::judge::{Judgement, Overall};
use tf_canary::silence::Silence;
use tokio::sync::{Notify, watch};

use super::after_switch::Switch;
use super::journal::{self, CanaryEvent};

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
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// Whether the configuration asks for it (`[canary] enabled`): a canary asked for that
    /// does not run is worth an alert, one turned off is not.
    pub wanted: bool,
    /// Why it does not (disabled, its tenant not listed, ...), when it does not.
    pub problem: Option<String>,
    /// The tenant it connects as.
    pub tenant: String,
    /// How often it runs, milliseconds.
    pub interval_ms: u64,
    /// The golden set's items, by label, in the order they are sent.
    pub item_labels: Vec<String>,
    /// When the canary started, Unix microseconds (0 when it does not run).
    pub started_us: u64,
    /// Runs since start.
    pub runs: u64,
    /// Runs since start by verdict: passed, marginal, failed.
    pub by_overall: [u64; 3],
    /// The longest streak of failing runs of any one comparator so far.
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
            wanted: true,
            problem: Some(problem),
            tenant: tenant.to_owned(),
            interval_ms: 0,
            item_labels: Vec::new(),
            started_us: 0,
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

/// The most silences applying at once.
pub const MAX_SILENCES: usize = 32;
/// The most switches waiting for the worker to take them (the oldest give way).
const MAX_WAITING_SWITCHES: usize = 16;
/// The most silences that ended (expired or lifted) kept for showing, newest kept.
pub const MAX_ENDED_SILENCES: usize = 64;

/// Shared between the worker, which writes, and the admin server, which reads and asks.
#[derive(Clone, Debug)]
pub struct CanaryHandle {
    status: Arc<Mutex<CanaryStatus>>,
    asked: Arc<Notify>,
    /// Runs asked for so far: each asker's ticket.
    requested: Arc<AtomicU64>,
    /// The highest ticket a run has served: a run serves the tickets given before it began.
    served: watch::Receiver<u64>,
    served_sender: Arc<watch::Sender<u64>>,
    /// The ledger the timeline and silences are kept in (`None`: memory only, for tests).
    journal: Option<PathBuf>,
    kept: Arc<Mutex<Kept>>,
    /// Held through a silence's or a lift's check, ledger write and bookkeeping, so two at
    /// once cannot both pass the cap.
    changing: Arc<Mutex<()>>,
    /// Promotions and rollbacks not yet taken by the worker, oldest first.
    switches: Arc<Mutex<Vec<Switch>>>,
    /// An operator reset the baseline: the worker takes it before its next run.
    reset_asked: Arc<AtomicBool>,
}

/// Drops silences that ended more than a day before `now_us`, and those that ended earliest
/// beyond [`MAX_ENDED_SILENCES`]; those that apply stay, and the order is kept.
pub(super) fn prune(silences: &mut Vec<Silence>, now_us: u64) {
    silences.retain(|s| s.expires_us + journal::SHOWN_AFTER_EXPIRY_US > now_us);
    let mut ended: Vec<u64> = silences
        .iter()
        .filter(|s| !s.applies(now_us))
        .map(|s| s.expires_us)
        .collect();
    let over = ended.len().saturating_sub(MAX_ENDED_SILENCES);
    if over == 0 {
        return;
    }
    ended.sort_unstable();
    let cut_us = ended[over - 1];
    // Every one that ended before the cut goes; of those that ended at it, the earliest made.
    let mut ties = over - ended.iter().filter(|&&at| at < cut_us).count();
    silences.retain(|s| {
        if s.applies(now_us) || s.expires_us > cut_us {
            return true;
        }
        if s.expires_us < cut_us {
            return false;
        }
        let keep = ties == 0;
        ties = ties.saturating_sub(1);
        keep
    });
}

/// Silences and the timeline, as the ledger holds them.
#[derive(Debug, Default)]
struct Kept {
    silences: Vec<Silence>,
    events: VecDeque<CanaryEvent>,
}

/// Why a silence could not be made or lifted, or the baseline reset.
#[derive(Debug, thiserror::Error)]
pub enum ChangeRefused {
    /// The canary does not run: there is nothing to change.
    #[error("the canary does not run ({0}): there is nothing to change")]
    NotRunning(String),
    /// A reason missing, too long, or not plain text on one line.
    #[error("give a reason: plain text on one line, at most 500 characters")]
    Reason,
    /// It names an item the golden set does not have.
    #[error("the golden set has no item {0:?} (its items: {1})")]
    UnknownItem(String, String),
    /// As many silences apply as may.
    #[error("{MAX_SILENCES} silences already apply: lift one first")]
    TooMany,
    /// No silence applying has this number.
    #[error("no silence #{0} applies (it expired, was lifted, or never was)")]
    Unknown(u64),
    /// The ledger did not take it.
    #[error("recording it in the ledger failed: {0}")]
    Ledger(String),
}

impl CanaryHandle {
    /// A handle starting from `status`, keeping its timeline and silences in `journal` (read
    /// back now).
    pub fn new(status: CanaryStatus, journal: Option<PathBuf>) -> Self {
        let (served_sender, served) = watch::channel(0);
        let now_us = tf_seam::clock::unix_micros();
        let kept = match journal.as_deref().map(|path| journal::load(path, now_us)) {
            Some(Ok((silences, events))) => Kept { silences, events },
            Some(Err(error)) => {
                tracing::warn!(%error, "the canary's silences and timeline are unreadable");
                Kept::default()
            }
            None => Kept::default(),
        };
        CanaryHandle {
            status: Arc::new(Mutex::new(status)),
            asked: Arc::new(Notify::new()),
            requested: Arc::new(AtomicU64::new(0)),
            served,
            served_sender: Arc::new(served_sender),
            journal,
            kept: Arc::new(Mutex::new(kept)),
            changing: Arc::new(Mutex::new(())),
            switches: Arc::new(Mutex::new(Vec::new())),
            reset_asked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Accepts the appliance as it is now as the canary's new normal, for `by` because of
    /// `reason`: recorded in the ledger, the baseline starts again from the current window
    /// before the next run. Blocks on the ledger.
    pub fn reset_baseline(
        &self,
        by: &str,
        reason: &str,
        now_us: u64,
    ) -> Result<CanaryEvent, ChangeRefused> {
        let _changing = self.changing.lock().unwrap_or_else(PoisonError::into_inner);
        let status = self.status();
        if !status.enabled {
            let why = status.problem.unwrap_or_else(|| "turned off".to_owned());
            return Err(ChangeRefused::NotRunning(why));
        }
        let reason = reason.trim();
        if reason.is_empty() || !tf_wire::is_plain_line(reason, 500) {
            return Err(ChangeRefused::Reason);
        }
        let body = json!({ "by": by, "reason": reason });
        let seq = self
            .note(now_us, journal::BASELINE_RESET, &body)
            .map_err(ChangeRefused::Ledger)?;
        self.reset_asked.store(true, Ordering::Release);
        Ok(journal::event(seq, now_us, journal::BASELINE_RESET, &body))
    }

    /// Whether the baseline was reset since the last call (the worker's side).
    pub(super) fn take_reset(&self) -> bool {
        self.reset_asked.swap(false, Ordering::AcqRel)
    }

    /// Tells the worker of a promotion or rollback, for it to judge the runs after it
    /// against those before (the control thread's side; never blocks on the worker).
    pub fn note_switch(&self, switch: Switch) {
        let mut switches = self.switches.lock().unwrap_or_else(PoisonError::into_inner);
        switches.push(switch);
        let over = switches.len().saturating_sub(MAX_WAITING_SWITCHES);
        switches.drain(..over);
    }

    /// The switches since the last call, oldest first (the worker's side).
    pub(super) fn take_switches(&self) -> Vec<Switch> {
        std::mem::take(&mut *self.switches.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Silences that apply at `now_us`, and those that ended within a day of it (at most
    /// [`MAX_ENDED_SILENCES`]), oldest first.
    pub fn silences(&self, now_us: u64) -> Vec<Silence> {
        let mut kept = self.kept();
        prune(&mut kept.silences, now_us);
        kept.silences.clone()
    }

    /// The latest timeline events, oldest first.
    pub fn events(&self) -> Vec<CanaryEvent> {
        self.kept().events.iter().cloned().collect()
    }

    /// Records an event in the ledger and the timeline; its number (0 without a ledger).
    fn note(&self, at_us: u64, kind: &str, body: &serde_json::Value) -> Result<u64, String> {
        let seq = match &self.journal {
            Some(path) => journal::record(path, at_us, kind, body)?,
            None => 0,
        };
        let mut kept = self.kept();
        kept.events
            .push_back(journal::event(seq, at_us, kind, body));
        while kept.events.len() > journal::KEPT_EVENTS {
            kept.events.pop_front();
        }
        Ok(seq)
    }

    /// Records an alarm, its end, or a judgement after a switch (the worker's side).
    pub(super) fn note_event(&self, at_us: u64, kind: &str, body: &serde_json::Value) {
        if let Err(error) = self.note(at_us, kind, body) {
            tracing::warn!(%error, kind, "recording the canary's timeline failed");
        }
    }

    /// Makes a silence (checked by [`Silence::new`]) for a canary that runs, naming only
    /// items of its golden set, recorded in the ledger; it applies from the next run. Blocks
    /// on the ledger.
    pub fn silence(&self, silence: Silence) -> Result<Silence, ChangeRefused> {
        let _changing = self.changing.lock().unwrap_or_else(PoisonError::into_inner);
        let status = self.status();
        if !status.enabled {
            let why = status.problem.unwrap_or_else(|| "turned off".to_owned());
            return Err(ChangeRefused::NotRunning(why));
        }
        if let Some(unknown) = silence
            .items
            .iter()
            .find(|item| !status.item_labels.contains(item))
        {
            let known = status.item_labels.join(", ");
            return Err(ChangeRefused::UnknownItem(unknown.clone(), known));
        }
        let now_us = silence.created_us;
        if self
            .silences(now_us)
            .iter()
            .filter(|s| s.applies(now_us))
            .count()
            >= MAX_SILENCES
        {
            return Err(ChangeRefused::TooMany);
        }
        let body = serde_json::to_value(&silence).expect("a silence serialises");
        let id = self
            .note(now_us, journal::SILENCED, &body)
            .map_err(ChangeRefused::Ledger)?;
        let made = Silence { id, ..silence };
        self.kept().silences.push(made.clone());
        Ok(made)
    }

    /// Lifts silence `id` for `by`: it stops applying now. Blocks on the ledger.
    pub fn lift(&self, id: u64, by: &str, now_us: u64) -> Result<Silence, ChangeRefused> {
        let _changing = self.changing.lock().unwrap_or_else(PoisonError::into_inner);
        let applies = self
            .silences(now_us)
            .iter()
            .any(|s| s.id == id && s.applies(now_us));
        if !applies {
            return Err(ChangeRefused::Unknown(id));
        }
        self.note(now_us, journal::LIFTED, &json!({ "id": id, "by": by }))
            .map_err(ChangeRefused::Ledger)?;
        let mut kept = self.kept();
        let silence = kept
            .silences
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or(ChangeRefused::Unknown(id))?;
        silence.expires_us = silence.expires_us.min(now_us);
        let lifted = silence.clone();
        prune(&mut kept.silences, now_us);
        Ok(lifted)
    }

    /// The status now.
    pub fn status(&self) -> CanaryStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Asks for a run that begins after this call and waits for it, at most `wait`: the
    /// status after it, or `None` when the canary does not run, stopped, or took longer.
    pub async fn run_now(&self, wait: Duration) -> Option<CanaryStatus> {
        if !self.status().enabled {
            return None;
        }
        let mut served = self.served.clone();
        let ticket = self.requested.fetch_add(1, Ordering::AcqRel) + 1;
        self.asked.notify_one();
        let after = tokio::time::timeout(wait, served.wait_for(|done| *done >= ticket)).await;
        let status = self.status();
        match after {
            Ok(Ok(_)) if status.enabled => Some(status),
            _ => None,
        }
    }

    /// The tickets a run beginning now serves (the worker's side).
    pub(super) fn begin_run(&self) -> u64 {
        self.requested.load(Ordering::Acquire)
    }

    /// Changes the status after a run that served the tickets up to `served` (the worker's
    /// side), and tells those waiting for it.
    pub(super) fn update(&self, served: u64, change: impl FnOnce(&mut CanaryStatus)) {
        {
            let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut status);
        }
        self.served_sender.send_if_modified(|done| {
            let advanced = served > *done;
            *done = (*done).max(served);
            advanced
        });
    }

    /// The worker stopped: the canary no longer runs, and whoever waits for a run hears so.
    pub(super) fn stopped(&self) {
        {
            let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
            status.enabled = false;
            status.problem = Some("the appliance is stopping".to_owned());
        }
        self.served_sender.send_replace(u64::MAX);
    }

    /// Wakes when someone asks for a run (the worker's side).
    pub(super) fn asked(&self) -> &Notify {
        &self.asked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(created_us: u64, expires_us: u64) -> Silence {
        let mut made = Silence::new(
            vec!["latency".to_owned()],
            Vec::new(),
            created_us,
            expires_us,
            "oncall",
            "test",
        )
        .expect("a silence");
        made.id = created_us;
        made
    }

    #[test]
    fn ended_silences_beyond_the_cap_go_earliest_ended_first_and_those_applying_stay() {
        let now = 10_000;
        // Made in order; ended at 9_000 - i for the first ones (the latest made ended first),
        // and one still applying.
        let mut silences: Vec<Silence> = (0..MAX_ENDED_SILENCES as u64 + 3)
            .map(|i| silence(i, 9_000 - i))
            .collect();
        silences.push(silence(500, now + 1));
        prune(&mut silences, now);
        assert_eq!(silences.len(), MAX_ENDED_SILENCES + 1);
        let ids: Vec<u64> = silences.iter().map(|s| s.id).collect();
        // The three that ended earliest (made last) are gone; the order is kept.
        assert_eq!(ids[..3], [0, 1, 2]);
        assert!(!ids.contains(&(MAX_ENDED_SILENCES as u64 + 2)));
        assert_eq!(ids.last(), Some(&500), "the one applying stays");
        // Ended more than a day ago: gone whatever the count.
        prune(&mut silences, now + journal::SHOWN_AFTER_EXPIRY_US);
        assert_eq!(ids_of(&silences), [500]);
    }

    fn ids_of(silences: &[Silence]) -> Vec<u64> {
        silences.iter().map(|s| s.id).collect()
    }
}
