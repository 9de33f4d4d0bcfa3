//! The scenario scheduler: a worker that runs the scenario packs at each slot of `[scenarios]
//! schedule`, at idle priority (SCHED_IDLE: it gets a core only when nothing else wants it)
//! and within a night's CPU budget, and keeps each pack's result 90 days in the decision log's
//! file. A slot that comes while packs run is skipped; after downtime one night catches up. A
//! slot is stored as done once all its packs ran: a restart in the middle of a night runs the
//! packs it had not reached. A pack naming tenants the bundle in force lacks is recorded as not
//! applicable: neither passed nor failing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;
use tf_bundles::Bundle;
use tf_config::Schedule;
use tf_decisions::{DecisionLog, RunRow};
use tf_drift::Registrations;
use tf_ledger::Ledger;
use tf_scenarios::{Night, Pack, Scheduler};
use tf_seam::Board;
use tf_seam::clock::unix_micros;
use tf_state::KeyStore;

/// How often the worker looks at the clock.
const TURN: Duration = Duration::from_secs(5);

/// The packs built in: run when `[scenarios] dir` names no folder.
pub const BUILT_IN_PACKS: [(&str, &str); 5] = [
    (
        "acme-cap-halved.toml",
        include_str!("../../../docs/examples/scenarios/acme-cap-halved.toml"),
    ),
    (
        "acme-p0-audits.toml",
        include_str!("../../../docs/examples/scenarios/acme-p0-audits.toml"),
    ),
    (
        "acme-quota-lowered.toml",
        include_str!("../../../docs/examples/scenarios/acme-quota-lowered.toml"),
    ),
    (
        "drop-globex.toml",
        include_str!("../../../docs/examples/scenarios/drop-globex.toml"),
    ),
    (
        "surge-three-times.toml",
        include_str!("../../../docs/examples/scenarios/surge-three-times.toml"),
    ),
];

/// Everything the worker needs.
pub struct ScenarioPlan {
    /// The packs: where each came from, and its text.
    pub packs: Vec<(String, String)>,
    /// Where candidate bundles a pack names are read from.
    pub dir: Option<PathBuf>,
    /// `[scenarios] schedule`.
    pub schedule: Schedule,
    /// Where results go (the decision log's file, whose events are read), and who is told.
    pub handle: ScenarioHandle,
    /// The bundle in force.
    pub board: Arc<Board>,
    /// The keys partners registered.
    pub keystore: KeyStore,
    /// CPU seconds a night's packs may use.
    pub cpu_seconds: u64,
    /// The ledger, where a failed pack's alarm is recorded for webhook endpoints (`None`:
    /// no alarm is recorded).
    pub ledger: Option<PathBuf>,
}

/// What the admin server knows of the scheduler: the file its results are in, its schedule,
/// and which packs' latest run failed (so a scrape of `/metrics` touches no file).
#[derive(Clone, Debug)]
pub struct ScenarioHandle {
    decisions: PathBuf,
    schedule: Option<String>,
    seen: Arc<Mutex<Seen>>,
}

/// The packs' latest outcomes, as the scheduler last stored them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Packs with a result kept.
    pub packs: BTreeSet<String>,
    /// Those whose latest run failed its expectations or did not run.
    pub failing: BTreeSet<String>,
    /// Those whose latest night did not apply to the bundle in force (neither passed nor
    /// failing).
    pub not_applicable: BTreeSet<String>,
    /// When the latest run ended, Unix microseconds.
    pub last_run_us: Option<u64>,
}

impl ScenarioHandle {
    /// The handle on results in `decisions`, under `schedule` (`None`: the scheduler is off,
    /// though results it kept may be read). What the file holds is read now, so an alert
    /// raised before a restart stays raised.
    pub fn new(decisions: PathBuf, schedule: Option<String>) -> Self {
        let handle = ScenarioHandle {
            decisions,
            schedule,
            seen: Arc::default(),
        };
        match DecisionLog::open_read(&handle.decisions).and_then(|log| log.latest_runs()) {
            Ok(latest) => latest.iter().for_each(|run| handle.ran(run)),
            Err(tf_decisions::LogError::Missing(_)) => {}
            Err(error) => tracing::warn!(%error, "the scenario results are unreadable"),
        }
        handle
    }

    /// The file results are kept in.
    pub fn decisions(&self) -> &Path {
        &self.decisions
    }

    /// The schedule, when the scheduler runs.
    pub fn schedule(&self) -> Option<String> {
        self.schedule.clone()
    }

    /// The packs' latest outcomes.
    pub fn seen(&self) -> Seen {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets packs no longer configured (removed or renamed), so that their last failure
    /// stops counting.
    fn retain(&self, configured: &BTreeSet<String>) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.packs.retain(|pack| configured.contains(pack));
        seen.failing.retain(|pack| configured.contains(pack));
        seen.not_applicable.retain(|pack| configured.contains(pack));
    }

    /// Takes note of a run stored.
    fn ran(&self, run: &RunRow) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.packs.insert(run.pack.clone());
        if run.failing() {
            seen.failing.insert(run.pack.clone());
        } else {
            seen.failing.remove(&run.pack);
        }
        if run.applicable {
            seen.not_applicable.remove(&run.pack);
        } else {
            seen.not_applicable.insert(run.pack.clone());
        }
        seen.last_run_us = seen.last_run_us.max(Some(run.finished_us));
    }
}

/// The running worker.
pub struct ScenarioWorker {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl ScenarioWorker {
    /// Starts the worker on a thread of its own.
    pub fn start(plan: ScenarioPlan) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("scenarios".into())
            .spawn(move || run(plan, &stopping))?;
        Ok(ScenarioWorker { stop, thread })
    }

    /// Stops it (a night in progress stops at its next pack) and waits.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        if self.thread.join().is_err() {
            tracing::error!("the scenario scheduler failed while stopping");
        }
    }
}

fn run(plan: ScenarioPlan, stop: &AtomicBool) {
    idle_priority();
    let log = match DecisionLog::open(plan.handle.decisions()) {
        Ok(log) => log,
        Err(error) => {
            tracing::error!(%error, "the scenario scheduler cannot open the decision log; no packs run");
            return;
        }
    };
    let key = plan.schedule.as_str().to_owned();
    let stored = log.last_slot(&key).unwrap_or_else(|error| {
        tracing::warn!(%error, "the scenario schedule's last slot is unreadable; starting afresh");
        None
    });
    plan.handle
        .retain(&names(&plan.packs).into_iter().collect());
    let (mut scheduler, adopted) = Scheduler::start(plan.schedule.clone(), stored, unix_micros());
    let store = |slot_us: u64| {
        if let Err(error) = log.set_last_slot(&key, slot_us) {
            tracing::warn!(%error, "storing the scenario schedule's slot failed");
        }
    };
    if let Some(slot_us) = adopted {
        store(slot_us);
    }
    while !stop.load(Ordering::Acquire) {
        if let Some(due) = scheduler.due(unix_micros()) {
            if due.missed > 0 {
                tracing::info!(
                    missed = due.missed,
                    "scenario packs catch up on one night after downtime"
                );
            }
            let over = run_night(&plan, &log, due.slot_us, stop);
            let ended = scheduler.night_ended(unix_micros(), over);
            if let Some(slot_us) = ended.skipped_us {
                tracing::warn!(
                    slot_us,
                    "scenario packs ran past the next slot, which is skipped"
                );
            }
            // A night cut short (stopped for a restart) stores nothing: the next start runs
            // this slot's packs that have no result for it yet.
            if let Some(slot_us) = ended.store_us {
                store(slot_us);
            }
            if let Err(error) = log.prune_runs(tf_scenarios::kept_from(unix_micros())) {
                tracing::warn!(%error, "pruning old scenario results failed");
            }
        }
        std::thread::sleep(TURN);
    }
}

/// The names the configured packs run under, in order: the pack's own, or its file's for a
/// pack that does not parse (its failure is recorded under that).
fn names(packs: &[(String, String)]) -> Vec<String> {
    packs
        .iter()
        .map(|(source, text)| {
            Pack::parse(text, source).map_or_else(|_| source.clone(), |pack| pack.name)
        })
        .collect()
}

/// Runs once for `slot_us` every pack that has no result for it yet (all of them, unless a
/// restart cut this slot's night short), recording each result. Whether the night is over:
/// every pack has a result for the slot (or no bundle is in force, so none runs tonight).
pub fn run_night(plan: &ScenarioPlan, log: &DecisionLog, slot_us: u64, stop: &AtomicBool) -> bool {
    let Some(active) = plan.board.policy().bundle.clone() else {
        tracing::info!("no bundle in force: scenario packs compare against one, none run tonight");
        return true;
    };
    let names = names(&plan.packs);
    let done = log.packs_run_for(slot_us).unwrap_or_else(|error| {
        tracing::warn!(%error, "the scenario packs already run tonight are unreadable; all run");
        BTreeSet::new()
    });
    let mut night = Night::new(slot_us, &names, &done);
    if !done.is_empty() {
        tracing::info!(
            left = night.left().len(),
            "scenario packs resume a night a restart cut short"
        );
    }
    let cpu_start = thread_cpu_seconds();
    let budget = plan.cpu_seconds as f64;
    let (mut failed, mut not_applicable) = (Vec::new(), Vec::new());
    for ((source, text), name) in plan.packs.iter().zip(&names) {
        if !night.left().contains(name) {
            continue;
        }
        if stop.load(Ordering::Acquire) {
            return false;
        }
        let started_us = unix_micros();
        let outcome = run_pack(plan, &active, source, text, &mut || {
            thread_cpu_seconds() - cpu_start < budget && !stop.load(Ordering::Acquire)
        });
        // Stopped for a restart: the pack did not fail, it was cut short; nothing is kept, and
        // it runs again after the restart.
        if stop.load(Ordering::Acquire) {
            return false;
        }
        let row = match outcome {
            Ok((name, Ran::Judged(result))) => RunRow {
                pack: name,
                slot_us,
                started_us,
                finished_us: unix_micros(),
                passed: result.passed,
                decisions: result.report.sample.decisions,
                flips: result.report.flips,
                upper_bound: result.report.upper_bound,
                result: serde_json::to_string(&result).unwrap_or_default(),
                ran: true,
                applicable: true,
            },
            Ok((name, Ran::NotApplicable(missing))) => RunRow {
                upper_bound: 0.0,
                applicable: false,
                ..not_run(
                    name,
                    slot_us,
                    started_us,
                    json!({ "missing_tenants": missing }),
                )
            },
            Err((name, why)) => not_run(name, slot_us, started_us, json!({ "error": why })),
        };
        if !row.applicable {
            not_applicable.push(row.pack.clone());
        } else if row.failing() {
            failed.push(row.pack.clone());
        }
        // Writes take locks others wait on (the decision log's writer, the ledger's thread):
        // they run at the normal priority, never starved behind the partners' work.
        let _normal = NormalPriority::now();
        match log.record_run(&row) {
            Ok(()) => {
                plan.handle.ran(&row);
                night.ran(name);
            }
            Err(error) => {
                tracing::warn!(%error, pack = row.pack, "storing a scenario result failed")
            }
        }
        if row.failing() {
            raise_alarm(plan, &row);
        }
    }
    if !not_applicable.is_empty() {
        tracing::info!(
            ?not_applicable,
            "scenario packs name tenants the bundle in force does not have: not applicable, not run"
        );
    }
    if failed.is_empty() {
        tracing::info!(
            packs = plan.packs.len(),
            "scenario packs passed or did not apply"
        );
    } else {
        tracing::warn!(
            ?failed,
            "scenario packs failed their expectations (appliance scenarios results)"
        );
    }
    night.is_over()
}

/// The row of a pack that did not run for slot `slot_us`: `result` says why. It counts as
/// failing (the pack could not be judged) unless the caller says it does not apply.
fn not_run(pack: String, slot_us: u64, started_us: u64, result: serde_json::Value) -> RunRow {
    RunRow {
        pack,
        slot_us,
        started_us,
        finished_us: unix_micros(),
        passed: false,
        decisions: 0,
        flips: 0,
        upper_bound: 1.0,
        result: result.to_string(),
        ran: false,
        applicable: true,
    }
}
/// Records a failed pack's `scenario.failed` alarm in the ledger, for webhook endpoints.
fn raise_alarm(plan: &ScenarioPlan, row: &RunRow) {
    let Some(path) = &plan.ledger else {
        return;
    };
    let result: serde_json::Value = serde_json::from_str(&row.result).unwrap_or_default();
    let failed: Vec<serde_json::Value> = result["expectations"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|e| e["held"] == false)
                .map(|e| serde_json::json!({ "what": e["what"], "detail": e["detail"] }))
                .collect()
        })
        .unwrap_or_default();
    let data = serde_json::json!({
        "pack": row.pack,
        "started": tf_budgets::format_utc(row.started_us / 1_000_000),
        "decisions": row.decisions,
        "flips": row.flips,
        "drift_bound_percent": row.upper_bound * 100.0,
        "failed": failed,
        "error": result["error"],
    });
    let recorded = tf_ledger::SqliteLedger::open(path).and_then(|mut ledger| {
        ledger.record_control_event(
            row.finished_us,
            tf_webhooks::EventType::ScenarioFailed.as_str(),
            &data.to_string(),
        )
    });
    if let Err(error) = recorded {
        tracing::warn!(%error, pack = row.pack, "recording a failed scenario's alarm failed");
    }
}

type Named<T> = Result<(String, T), (String, String)>;

/// What became of a pack that could be run.
enum Ran {
    /// Run, and its expectations judged (boxed: a report is large).
    Judged(Box<tf_scenarios::PackResult>),
    /// Not run: the bundle in force lacks these tenants, which the pack names.
    NotApplicable(Vec<String>),
}

fn run_pack(
    plan: &ScenarioPlan,
    active: &Bundle,
    source: &str,
    text: &str,
    go_on: &mut dyn FnMut() -> bool,
) -> Named<Ran> {
    let pack = Pack::parse(text, source).map_err(|e| (source.to_owned(), e.to_string()))?;
    let name = pack.name.clone();
    let fail = |why: String| (name.clone(), why);
    let candidate = match &pack.change.bundle {
        Some(file) => {
            let path = plan.dir.clone().unwrap_or_default().join(file);
            let files = tf_bundles::BundleFiles::read(&path).map_err(|p| fail(p.to_string()))?;
            let candidate = tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT)
                .map_err(|r| fail(r.to_string()))?;
            Some(candidate)
        }
        None => None,
    };
    // A pack written for other tenants (the built-in examples name the example bundle's)
    // says nothing about this deployment: not run, and no alarm.
    let known: Vec<&Bundle> = std::iter::once(active).chain(&candidate).collect();
    let missing = tf_scenarios::missing_tenants(&pack, &known);
    if !missing.is_empty() {
        return Ok((name, Ran::NotApplicable(missing)));
    }
    let candidate = match candidate {
        Some(candidate) => candidate,
        None => {
            tf_scenarios::apply(active, &pack.change, unix_micros() / 1_000_000).map_err(fail)?
        }
    };
    let registered = registrations(&plan.keystore, &[active, &candidate]).map_err(fail)?;
    let reader =
        DecisionLog::open_read(plan.handle.decisions()).map_err(|e| fail(e.to_string()))?;
    let mut recorded = |from_us: u64, to_us: u64, each: &mut dyn FnMut(tf_drift::Event) -> bool| {
        reader
            .scan_while(from_us, to_us, each)
            .map_err(|e| e.to_string())?;
        reader
            .not_recorded(from_us, to_us)
            .map_err(|e| e.to_string())
    };
    let result = tf_scenarios::run(
        &pack,
        active,
        &candidate,
        &registered,
        unix_micros(),
        &mut recorded,
        go_on,
    )
    .map_err(fail)?;
    Ok((name, Ran::Judged(Box::new(result))))
}

/// The keys the bundles' tenants registered themselves (a tenant neither lists is denied
/// before its keys matter).
pub fn registrations(keystore: &KeyStore, bundles: &[&Bundle]) -> Result<Registrations, String> {
    let mut tenants: Vec<String> = bundles
        .iter()
        .flat_map(|b| b.content.tenants.iter().map(|t| t.id.clone()))
        .collect();
    tenants.sort();
    tenants.dedup();
    let loaded = keystore
        .registered_by(&tenants)
        .map_err(|e| e.to_string())?;
    let mut registered = Registrations::default();
    for (key, owners) in &loaded.keys {
        for owner in owners {
            registered.add(owner, key.id);
        }
    }
    Ok(registered)
}

/// The calling thread's CPU time, seconds.
fn thread_cpu_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given and reads nothing else.
    #[allow(unsafe_code)]
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0;
    if ok {
        now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
    } else {
        0.0
    }
}

/// SCHED_IDLE: the scheduler's thread runs only on a core nothing else wants, so packs never
/// take CPU from the shards, the ledger or the admin server.
fn idle_priority() {
    if !set_policy(libc::SCHED_IDLE) {
        tracing::info!("the scenario scheduler keeps the normal priority (SCHED_IDLE refused)");
    }
}

/// The calling thread at the normal priority until dropped, then idle again.
struct NormalPriority;

impl NormalPriority {
    fn now() -> Self {
        set_policy(libc::SCHED_OTHER);
        NormalPriority
    }
}

impl Drop for NormalPriority {
    fn drop(&mut self) {
        set_policy(libc::SCHED_IDLE);
    }
}

/// Sets the calling thread's scheduling policy; whether it took.
fn set_policy(policy: libc::c_int) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler reads the param it is given; 0 is the calling thread.
    #[allow(unsafe_code)]
    let result = unsafe { libc::sched_setscheduler(0, policy, &param) };
    result == 0
}
