//! The golden canary's worker: on its interval, and whenever someone asks, it sends the
//! golden set through the appliance's own QUIC listener as the canary's tenant (TLS,
//! admission, batching, verification, ledger and receipt, as a partner's request goes),
//! judges the run with the comparators of `tf_canary::judge`, keeps the status the admin
//! server shows, and records an alarm in the ledger when the canary starts failing (webhook
//! endpoints subscribed to `canary.alarm` hear of it). It runs on a thread of its own with a
//! small single-threaded runtime, so a slow appliance delays only the canary.

mod after_switch;
mod gate;
pub(crate) mod journal;
mod probe;
mod status;
mod windows;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use tf_canary::golden::GoldenSet;
use tf_canary::judge::{self, ErrorRule, Judgement, LatencyRule, Overall, Score, Verdicts};
use tf_canary::silence::{self, Silence};
use tf_partner::PartnerConfig;
use tf_seam::clock::unix_micros;

pub use after_switch::{AfterSwitch, AfterSwitchNote, RecentRuns, Switch};
pub use gate::CanaryGate;
pub use journal::CanaryEvent;
pub use probe::{Probe, Prober};
pub use status::{
    CanaryHandle, CanaryStatus, ChangeRefused, MAX_PROBLEMS, MAX_SILENCES, RECENT_RUNS, RunRecord,
    Trigger, WindowSummary,
};
pub use windows::{RunSample, Window, Windows};

/// Everything the worker needs.
pub struct CanaryPlan {
    /// The golden set, opened and checked.
    pub set: GoldenSet,
    /// How to reach the appliance as the canary's tenant.
    pub partner: PartnerConfig,
    /// The canary's tenant.
    pub tenant: String,
    /// The published receipt key.
    pub receipt_key: VerifyingKey,
    /// How often it runs.
    pub interval: Duration,
    /// Runs in the current window.
    pub current_runs: usize,
    /// Runs in the baseline.
    pub baseline_runs: usize,
    /// Non-critical failures in a row before the canary fails.
    pub consecutive_failures: u32,
    /// Where the status goes, and the timeline and silences are kept.
    pub handle: CanaryHandle,
}

impl CanaryPlan {
    /// The status before the first run.
    pub fn starting_status(&self) -> CanaryStatus {
        CanaryStatus {
            enabled: true,
            problem: None,
            started_us: unix_micros(),
            interval_ms: self.interval.as_millis() as u64,
            item_labels: self.set.items.iter().map(|i| i.label.clone()).collect(),
            consecutive_failures: self.consecutive_failures,
            ..CanaryStatus::off(&self.tenant, String::new())
        }
    }
}

/// The running worker.
pub struct CanaryWorker {
    stop: Arc<AtomicBool>,
    handle: CanaryHandle,
    thread: JoinHandle<()>,
}

impl CanaryWorker {
    /// Starts the worker on a thread of its own; the first run comes after one interval.
    pub fn start(plan: CanaryPlan) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = plan.handle.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("canary".into())
            .spawn(move || runtime.block_on(run(plan, &stopping)))?;
        Ok(CanaryWorker {
            stop,
            handle,
            thread,
        })
    }

    /// Stops it (a run in progress ends first) and waits.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.handle.asked().notify_one();
        if self.thread.join().is_err() {
            tracing::error!("the canary failed while stopping");
        }
    }
}

async fn run(plan: CanaryPlan, stop: &AtomicBool) {
    let mut prober = Prober::new(plan.partner.clone(), plan.tenant.clone(), plan.receipt_key);
    let mut judge = Judge::new(&plan);
    let mut served = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep(plan.interval) => {}
            () = plan.handle.asked().notified() => {}
        }
        if stop.load(Ordering::Acquire) {
            break;
        }
        // A run that begins with someone waiting serves them, however it was woken.
        let serves = plan.handle.begin_run();
        let trigger = if serves > served {
            Trigger::Demand
        } else {
            Trigger::Schedule
        };
        served = serves;
        judge.take_switches(&plan, unix_micros());
        if plan.handle.take_reset() {
            judge.reset_baseline(&plan);
        }
        let started_us = unix_micros();
        let Some(probe) = prober.run(&plan.set, stop).await else {
            break;
        };
        let now_us = unix_micros();
        // A switch during the run ends the comparison under way before this run, which
        // belongs to neither side of it.
        judge.take_switches(&plan, now_us);
        let silences = plan.handle.silences(now_us);
        let record = judge.judge(&probe, trigger, (started_us, now_us), &silences);
        judge.after_run(&plan, &probe, now_us);
        // The timeline first: whoever waits for this run finds its alarm recorded.
        match judge.alarm_changed(&record) {
            Some(true) => raise_alarm(&plan, &record),
            Some(false) => plan.handle.note_event(
                record.finished_us,
                journal::RECOVERED,
                &serde_json::json!({ "tenant": plan.tenant, "run": record.number }),
            ),
            None => {}
        }
        let (current, baseline) = (
            judge.windows.current().summary(),
            judge.windows.baseline().summary(),
        );
        let failing_runs = judge.failing_runs();
        let alarm_since = judge.alarm_since_us;
        plan.handle.update(serves, |status| {
            status.runs = record.number;
            status.by_overall[match record.overall {
                Overall::Pass => 0,
                Overall::Marginal => 1,
                Overall::Fail => 2,
            }] += 1;
            status.failing_runs = failing_runs;
            status.alarm_since_us = alarm_since;
            status.current = current;
            status.baseline = baseline;
            status.recent.push_back(record.clone());
            while status.recent.len() > RECENT_RUNS {
                status.recent.pop_front();
            }
        });
    }
    plan.handle.stopped();
}

/// The comparators over the windows, and the consecutive-failure count.
struct Judge {
    windows: Windows,
    verdicts: Verdicts,
    latency: LatencyRule,
    errors: ErrorRule,
    runs: u64,
    alarm_since_us: Option<u64>,
    /// The latest runs, for the window before a switch.
    recent: RecentRuns,
    /// The comparison after the latest promotion or rollback, while its runs come in.
    after_switch: Option<AfterSwitch>,
}

impl Judge {
    fn new(plan: &CanaryPlan) -> Self {
        Judge {
            windows: Windows::new(plan.current_runs, plan.baseline_runs),
            verdicts: Verdicts::new(plan.consecutive_failures),
            latency: LatencyRule::default(),
            errors: ErrorRule::default(),
            runs: 0,
            alarm_since_us: None,
            recent: RecentRuns::new(plan.current_runs),
            after_switch: None,
        }
    }

    /// Begins comparing after each switch the control plane told of since it last looked;
    /// one still under way is judged at `now_us` on what it has, cut short by the newer
    /// switch.
    fn take_switches(&mut self, plan: &CanaryPlan, now_us: u64) {
        for switch in plan.handle.take_switches() {
            if let Some(pending) = self.after_switch.take() {
                record_after_switch(plan, &pending, Some(switch.to_revision), now_us);
            }
            let before = self.recent.before(switch.at_us);
            let rules = (self.latency, self.errors);
            self.after_switch = Some(AfterSwitch::begin(switch, before, plan.current_runs, rules));
        }
    }

    /// Starts the baseline and the failure streaks again: an operator accepted the appliance
    /// as it is now.
    fn reset_baseline(&mut self, plan: &CanaryPlan) {
        self.windows.reset_baseline();
        self.verdicts = Verdicts::new(plan.consecutive_failures);
        tracing::info!("the canary's baseline starts again from its current window");
    }

    /// Adds the latest run (of `probe`) to the comparison under way, and records its
    /// judgement at `now_us` once a window of runs followed the switch.
    fn after_run(&mut self, plan: &CanaryPlan, probe: &Probe, now_us: u64) {
        let (Some(pending), Some(latest)) = (&mut self.after_switch, self.recent.latest()) else {
            return;
        };
        pending.add(latest, probe);
        if pending.complete() {
            record_after_switch(plan, pending, None, now_us);
            self.after_switch = None;
        }
    }

    /// Judges a run from `started_us` to `now_us`: its verdicts and receipts on their own,
    /// its latency and errors in the current window against the baseline; then the silences
    /// that apply at `now_us`.
    fn judge(
        &mut self,
        probe: &Probe,
        trigger: Trigger,
        (started_us, now_us): (u64, u64),
        silences: &[Silence],
    ) -> RunRecord {
        self.runs += 1;
        let sample = RunSample::of(probe, started_us, now_us);
        self.recent.push(sample.clone());
        self.windows.push(sample);
        let (current, baseline) = (self.windows.current(), self.windows.baseline());
        let per_item = |comparator: &str, problems: &[(String, String)]| {
            silence::split_items(problems, comparator, silences, now_us)
        };
        let (wrong, silenced_wrong) = per_item("verdict", &probe.mismatches);
        let (bad, silenced_bad) = per_item("receipt", &probe.bad_receipts);
        let latency = judge::latency(&current.latencies_ms, &baseline.latencies_ms, &self.latency);
        let errors = judge::error_rate(
            (current.errors, current.sent),
            (baseline.errors, baseline.sent),
            &self.errors,
        );
        // A slow or erring window, or one with a wrong verdict or receipt, stays out of the
        // baseline, even when a silence covers it.
        let wrong_answers = !probe.mismatches.is_empty() || !probe.bad_receipts.is_empty();
        if wrong_answers || [&latency, &errors].iter().any(|j| j.score == Score::Fail) {
            self.windows.mark_current_failed();
        }
        let judgements = vec![
            silence::with_silenced(
                judge::verdicts(probe.sent, probe.answered, &wrong),
                &silenced_wrong,
            ),
            silence::with_silenced(
                judge::receipts(probe.sent, probe.answered, &bad),
                &silenced_bad,
            ),
            silence::silence_run(latency, silences, now_us),
            silence::silence_run(errors, silences, now_us),
        ];
        let overall = self.verdicts.judge(&judgements);
        let problems: Vec<&String> = probe
            .mismatches
            .iter()
            .chain(&probe.bad_receipts)
            .map(|(_, what)| what)
            .chain(&probe.errors)
            .collect();
        RunRecord {
            number: self.runs,
            finished_us: now_us,
            trigger,
            overall,
            judgements,
            sent: probe.sent,
            answered: probe.answered,
            median_ms: judge::median(&probe.latencies_ms),
            problems: problems
                .iter()
                .take(MAX_PROBLEMS)
                .map(|p| (*p).clone())
                .collect(),
            more_problems: problems.len().saturating_sub(MAX_PROBLEMS),
        }
    }

    /// Whether this run starts an alarm (`Some(true)`: the canary fails after it did not) or
    /// ends one (`Some(false)`: the first run in which no comparator fails, lacks data or is
    /// silenced, so a run without a baseline, within a streak of failures or quietened by a
    /// silence never ends an episode); keeps track of when the alarm began.
    fn alarm_changed(&mut self, record: &RunRecord) -> Option<bool> {
        let clear = record
            .judgements
            .iter()
            .all(|j| !matches!(j.score, Score::Fail | Score::NoData | Score::Silenced));
        match (record.overall, self.alarm_since_us) {
            (Overall::Fail, None) => {
                self.alarm_since_us = Some(record.finished_us);
                Some(true)
            }
            (_, Some(since)) if clear => {
                tracing::info!(
                    since_us = since,
                    "the canary no longer fails: its alarm is over"
                );
                self.alarm_since_us = None;
                Some(false)
            }
            _ => None,
        }
    }

    fn failing_runs(&self) -> u32 {
        self.verdicts.failing_runs()
    }
}

/// Records the judgement of the runs after a switch: the bundle timeline shows it in the
/// switch's entry, the canary's timeline as an event.
fn record_after_switch(
    plan: &CanaryPlan,
    pending: &AfterSwitch,
    cut_short_by: Option<u64>,
    now_us: u64,
) {
    let (overall, note) = pending.judge(now_us, cut_short_by);
    let switch = pending.switch();
    let summary = &note.entry.summary;
    if overall == Overall::Fail {
        tracing::warn!(
            revision = switch.to_revision,
            action = %switch.action,
            "the canary after the switch fails: {summary}"
        );
    } else {
        tracing::info!(
            revision = switch.to_revision,
            action = %switch.action,
            overall = overall.name(),
            "the canary after the switch: {summary}"
        );
    }
    let body = serde_json::to_value(&note).expect("a note serialises");
    plan.handle.note_event(now_us, journal::AFTER_SWITCH, &body);
}

/// Records the alarm in the ledger, where the webhook outbox finds it (as `canary.alarm`).
fn raise_alarm(plan: &CanaryPlan, record: &RunRecord) {
    let failing: Vec<&Judgement> = record
        .judgements
        .iter()
        .filter(|j| j.score == Score::Fail)
        .collect();
    tracing::error!(
        run = record.number,
        comparators = ?failing.iter().map(|j| j.comparator).collect::<Vec<_>>(),
        "the golden canary fails: {}",
        failing.iter().map(|j| j.detail.as_str()).collect::<Vec<_>>().join("; ")
    );
    let data = serde_json::json!({
        "tenant": plan.tenant,
        "run": record.number,
        "failed": failing
            .iter()
            .map(|j| serde_json::json!({
                "comparator": j.comparator,
                "critical": j.critical,
                "detail": j.detail,
            }))
            .collect::<Vec<_>>(),
        "problems": record.problems,
    });
    plan.handle
        .note_event(record.finished_us, journal::ALARM, &data);
}
