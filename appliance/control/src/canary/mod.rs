//! The golden canary's worker: on its interval, and whenever someone asks, it sends the
//! golden set through the appliance's own QUIC listener as the canary's tenant (TLS,
//! admission, batching, verification, ledger and receipt, as a partner's request goes),
//! judges the run with the comparators of `tf_canary::judge`, keeps the status the admin
//! server shows, and records an alarm in the ledger when the canary starts failing (webhook
//! endpoints subscribed to `canary.alarm` hear of it). It runs on a thread of its own with a
//! small single-threaded runtime, so a slow appliance delays only the canary.

mod probe;
mod status;
mod windows;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use tf_canary::golden::GoldenSet;
use tf_canary::judge::{self, ErrorRule, Judgement, LatencyRule, Overall, Score, Verdicts};
use tf_ledger::Ledger;
use tf_partner::PartnerConfig;
use tf_seam::clock::unix_micros;

pub use probe::{Probe, Prober};
pub use status::{
    CanaryHandle, CanaryStatus, MAX_PROBLEMS, RECENT_RUNS, RunRecord, Trigger, WindowSummary,
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
    /// Where the status goes.
    pub handle: CanaryHandle,
    /// The ledger, where an alarm is recorded for webhook endpoints (`None`: none is).
    pub ledger: Option<PathBuf>,
}

impl CanaryPlan {
    /// The status before the first run.
    pub fn starting_status(&self) -> CanaryStatus {
        CanaryStatus {
            enabled: true,
            problem: None,
            interval_ms: self.interval.as_millis() as u64,
            items: self.set.items.len(),
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
    loop {
        let trigger = tokio::select! {
            () = tokio::time::sleep(plan.interval) => Trigger::Schedule,
            () = plan.handle.asked().notified() => Trigger::Demand,
        };
        if stop.load(Ordering::Acquire) {
            return;
        }
        let probe = prober.run(&plan.set).await;
        let record = judge.judge(&probe, trigger, unix_micros());
        let alarm = judge.alarm_started(&record);
        let (current, baseline) = (
            summary(&judge.windows.current()),
            summary(&judge.windows.baseline()),
        );
        let failing_runs = judge.failing_runs();
        let alarm_since = judge.alarm_since_us;
        plan.handle.update(|status| {
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
        if alarm {
            raise_alarm(&plan, &record);
        }
    }
}

/// The comparators over the windows, and the consecutive-failure count.
struct Judge {
    windows: Windows,
    verdicts: Verdicts,
    latency: LatencyRule,
    errors: ErrorRule,
    runs: u64,
    alarm_since_us: Option<u64>,
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
        }
    }

    /// Judges a run: its verdicts and receipts on their own, its latency and errors in the
    /// current window against the baseline.
    fn judge(&mut self, probe: &Probe, trigger: Trigger, now_us: u64) -> RunRecord {
        self.runs += 1;
        self.windows.push(RunSample {
            latencies_ms: probe.latencies_ms.clone(),
            sent: probe.sent as u64,
            errors: (probe.sent - probe.answered) as u64,
            failed: false,
        });
        let (current, baseline) = (self.windows.current(), self.windows.baseline());
        let judgements = vec![
            judge::verdicts(probe.sent, probe.answered, &probe.mismatches),
            judge::receipts(probe.sent, probe.answered, &probe.bad_receipts),
            judge::latency(&current.latencies_ms, &baseline.latencies_ms, &self.latency),
            judge::error_rate(
                (current.errors, current.sent),
                (baseline.errors, baseline.sent),
                &self.errors,
            ),
        ];
        if judgements.iter().any(|j| j.score == Score::Fail) {
            self.windows.mark_newest_failed();
        }
        let overall = self.verdicts.judge(&judgements);
        let problems: Vec<&String> = probe
            .mismatches
            .iter()
            .chain(&probe.bad_receipts)
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

    /// Whether this run starts an alarm (the canary failing after it was not); keeps track
    /// of when the alarm began and ends it on the first run that does not fail.
    fn alarm_started(&mut self, record: &RunRecord) -> bool {
        match (record.overall, self.alarm_since_us) {
            (Overall::Fail, None) => {
                self.alarm_since_us = Some(record.finished_us);
                true
            }
            (Overall::Fail, Some(_)) => false,
            (_, Some(since)) => {
                tracing::info!(
                    since_us = since,
                    "the canary no longer fails: its alarm is over"
                );
                self.alarm_since_us = None;
                false
            }
            (_, None) => false,
        }
    }

    fn failing_runs(&self) -> u32 {
        self.verdicts.failing_runs()
    }
}

fn summary(window: &Window) -> WindowSummary {
    WindowSummary {
        runs: window.runs,
        samples: window.latencies_ms.len(),
        requests: window.sent,
        errors: window.errors,
        median_ms: judge::median(&window.latencies_ms),
    }
}

/// Records the alarm in the ledger, where the webhook outbox finds it.
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
    let Some(path) = &plan.ledger else {
        return;
    };
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
    let recorded = tf_ledger::SqliteLedger::open(path).and_then(|mut ledger| {
        ledger.record_control_event(
            record.finished_us,
            tf_webhooks::EventType::CanaryAlarm.as_str(),
            &data.to_string(),
        )
    });
    if let Err(error) = recorded {
        tracing::warn!(%error, "recording the canary's alarm failed");
    }
}
