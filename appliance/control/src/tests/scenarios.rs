//! The scenario scheduler's night over a real decision log file: every built-in pack runs
//! against the bundle in force and leaves a result; a night past its CPU budget records the
//! packs it stopped as not finished; packs naming tenants the bundle lacks are not applicable,
//! with no alarm; a night cut short runs only the packs without a result for its slot.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tf_decisions::DecisionLog;
use tf_seam::{ActivePolicy, Board};

use super::{author, repo};
use crate::scenarios::{BUILT_IN_PACKS, ScenarioHandle, ScenarioPlan, run_night};

/// The built-in packs' names, in the order they run.
const BUILT_IN: [&str; 5] = [
    "acme-cap-halved",
    "acme-p0-audits",
    "acme-quota-lowered",
    "drop-globex",
    "surge-three-times",
];

fn plan(dir: &std::path::Path, cpu_seconds: u64) -> ScenarioPlan {
    let files = tf_bundles::BundleFiles::from_dir(&repo().join("docs/examples/bundle"))
        .expect("example bundle");
    let info = tf_bundles::BuildInfo {
        revision: 3,
        author: "policy team".into(),
        note: "in force".into(),
        tickets: vec![],
        created_unix_s: 1_795_000_000,
        republishes: None,
    };
    let bundle = tf_bundles::build(files, info, &mut author(3), &tf_engine::Limits::DEFAULT)
        .expect("builds");
    let board = Arc::new(Board::new(1));
    board.publish_policy(Arc::new(ActivePolicy::promoted(Arc::new(bundle))));
    let state = tf_state::State::open_or_init(&dir.join("state"), &["localhost".into()])
        .expect("a state directory");
    ScenarioPlan {
        packs: BUILT_IN_PACKS
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect(),
        dir: None,
        schedule: "30 2 * * *".parse().expect("cron"),
        handle: ScenarioHandle::new(dir.join("decisions.sqlite"), Some("30 2 * * *".into())),
        board,
        keystore: tf_state::KeyStore::new(&state),
        cpu_seconds,
        ledger: Some(dir.join("ledger.sqlite")),
    }
}

#[test]
fn a_night_runs_every_pack_and_keeps_each_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan(dir.path(), 900);
    let log = DecisionLog::open(plan.handle.decisions()).expect("log");
    assert!(
        run_night(&plan, &log, 42, &AtomicBool::new(false)),
        "the night is over"
    );
    let runs = log.runs_since(0, true).expect("runs");
    let names: Vec<&str> = runs.iter().map(|r| r.pack.as_str()).collect();
    assert_eq!(names, BUILT_IN);
    assert!(runs.iter().all(|r| r.slot_us == 42));
    let surge = runs
        .iter()
        .find(|r| r.pack == "surge-three-times")
        .expect("surge");
    assert!(surge.passed && surge.decisions > 1_000_000, "{surge:?}");
    // With nothing recorded yet, a pack over the recorded window cannot bound its drift.
    let halved = runs
        .iter()
        .find(|r| r.pack == "acme-cap-halved")
        .expect("halved");
    assert!(!halved.passed && halved.decisions == 0, "{halved:?}");
    assert!(
        halved.result.contains("\"expectations\""),
        "{}",
        halved.result
    );
    // The handle knows which packs failed, and so does a new one over the same file (the
    // alert stays raised across a restart).
    let seen = plan.handle.seen();
    assert_eq!(seen.packs.len(), 5);
    assert!(seen.failing.contains("acme-cap-halved"), "{seen:?}");
    assert!(!seen.failing.contains("surge-three-times"), "{seen:?}");
    let again = ScenarioHandle::new(plan.handle.decisions().to_owned(), None).seen();
    assert_eq!(again, seen);
    // Each failed pack raised an alarm in the ledger, which webhook endpoints are sent.
    let ledger = tf_ledger::SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("ledger");
    let alarms = tf_ledger::Ledger::control_events_after(&ledger, 0, 100).expect("alarms");
    let packs: Vec<String> = alarms
        .iter()
        .map(|alarm| {
            assert_eq!(alarm.kind, "scenario.failed");
            let data: serde_json::Value = serde_json::from_str(&alarm.body).expect("JSON");
            data["pack"].as_str().expect("a pack").to_owned()
        })
        .collect();
    let failing: Vec<String> = seen.failing.iter().cloned().collect();
    assert_eq!(packs, failing);
}

#[test]
fn a_night_past_its_cpu_budget_records_the_packs_it_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan(dir.path(), 1);
    let log = DecisionLog::open(plan.handle.decisions()).expect("log");
    run_night(&plan, &log, 7, &AtomicBool::new(false));
    let runs = log.runs_since(0, true).expect("runs");
    let surge = runs
        .iter()
        .find(|r| r.pack == "surge-three-times")
        .expect("surge");
    assert!(!surge.passed, "{surge:?}");
    assert!(surge.result.contains("CPU budget"), "{}", surge.result);
}

#[test]
fn packs_naming_a_tenant_the_bundle_lacks_are_not_applicable_and_raise_no_alarm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan(dir.path(), 900);
    // The bundle in force without globex, which two built-in packs name.
    let example = plan
        .board
        .policy()
        .bundle
        .clone()
        .expect("a bundle in force");
    let drop_globex = BUILT_IN_PACKS
        .iter()
        .find(|(file, _)| *file == "drop-globex.toml")
        .map(|(file, text)| tf_scenarios::Pack::parse(text, file).expect("parses"))
        .expect("drop-globex");
    let without = tf_scenarios::apply(&example, &drop_globex.change, 0).expect("applies");
    plan.board
        .publish_policy(Arc::new(ActivePolicy::promoted(Arc::new(without))));
    let log = DecisionLog::open(plan.handle.decisions()).expect("log");
    assert!(run_night(&plan, &log, 42, &AtomicBool::new(false)));
    let runs = log.runs_since(0, true).expect("runs");
    assert_eq!(runs.len(), 5);
    let foreign: Vec<&str> = (runs.iter())
        .filter(|r| !r.applicable)
        .map(|r| r.pack.as_str())
        .collect();
    assert_eq!(foreign, ["drop-globex", "surge-three-times"]);
    for run in runs.iter().filter(|r| !r.applicable) {
        assert!(!run.ran && !run.failing(), "{run:?}");
        let result: serde_json::Value = serde_json::from_str(&run.result).expect("JSON");
        assert_eq!(
            result["missing_tenants"],
            serde_json::json!(["globex"]),
            "{run:?}"
        );
    }
    let seen = plan.handle.seen();
    let not_applicable: Vec<&str> = seen.not_applicable.iter().map(String::as_str).collect();
    assert_eq!(not_applicable, ["drop-globex", "surge-three-times"]);
    assert!(
        seen.failing
            .iter()
            .all(|p| !seen.not_applicable.contains(p)),
        "{seen:?}"
    );
    assert_eq!(
        ScenarioHandle::new(plan.handle.decisions().to_owned(), None).seen(),
        seen
    );
    // Alarms only for the packs that failed.
    let ledger = tf_ledger::SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("ledger");
    let alarms = tf_ledger::Ledger::control_events_after(&ledger, 0, 100).expect("alarms");
    for alarm in &alarms {
        let data: serde_json::Value = serde_json::from_str(&alarm.body).expect("JSON");
        let pack = data["pack"].as_str().expect("a pack");
        assert!(seen.failing.contains(pack), "{pack} raised an alarm");
    }
}

#[test]
fn a_night_cut_short_runs_only_the_packs_without_a_result_for_its_slot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan(dir.path(), 900);
    let log = DecisionLog::open(plan.handle.decisions()).expect("log");
    // Stopped before its first pack: nothing kept, and the night is not over.
    assert!(!run_night(&plan, &log, 42, &AtomicBool::new(true)));
    assert!(log.runs_since(0, false).expect("runs").is_empty());
    // Two packs ran for slot 42 before a restart (their results stored as the worker does).
    for pack in ["acme-quota-lowered", "surge-three-times"] {
        let before = tf_decisions::RunRow {
            pack: pack.to_owned(),
            slot_us: 42,
            started_us: 1,
            finished_us: 2,
            passed: true,
            decisions: 1,
            flips: 0,
            upper_bound: 0.0,
            result: serde_json::json!({ "before": "the restart" }).to_string(),
            ran: true,
            applicable: true,
        };
        log.record_run(&before).expect("stored");
    }
    assert_eq!(log.packs_run_for(42).expect("packs").len(), 2);
    assert!(
        run_night(&plan, &log, 42, &AtomicBool::new(false)),
        "the night is over"
    );
    let runs = log.runs_since(0, true).expect("runs");
    let mut names: Vec<&str> = runs.iter().map(|r| r.pack.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, BUILT_IN, "each pack once");
    for run in runs.iter().filter(|r| r.started_us == 1) {
        assert!(run.result.contains("the restart"), "{run:?}");
    }
    assert_eq!(runs.iter().filter(|r| r.started_us == 1).count(), 2);
    assert_eq!(log.packs_run_for(42).expect("packs").len(), 5);
    assert!(log.packs_run_for(43).expect("packs").is_empty());
}
