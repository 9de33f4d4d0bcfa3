use super::*;

const SWITCH_US: u64 = 1_000_000;

fn switch() -> Switch {
    Switch {
        timeline_seq: 7,
        action: "promote".into(),
        from_revision: 3,
        to_revision: 4,
        at_us: SWITCH_US,
        all_shards: true,
    }
}

fn rules() -> (LatencyRule, ErrorRule) {
    (LatencyRule::default(), ErrorRule::default())
}

/// A run of `probe` from `started_us` to `finished_us`.
fn sample(probe: &Probe, started_us: u64, finished_us: u64) -> RunSample {
    RunSample::of(probe, started_us, finished_us)
}

/// Ten answered requests around `centre` ms, spread a little.
fn probe(centre: f64) -> Probe {
    Probe {
        sent: 10,
        answered: 10,
        latencies_ms: (0..10).map(|i| centre + f64::from(i) * 0.01).collect(),
        mismatches: Vec::new(),
        bad_receipts: Vec::new(),
        errors: Vec::new(),
    }
}

/// A window before of six runs around `centre` ms.
fn before(centre: f64) -> Window {
    let runs: Vec<Probe> = (0..6).map(|_| probe(centre)).collect();
    Window {
        runs: runs.len(),
        latencies_ms: runs.iter().flat_map(|p| p.latencies_ms.clone()).collect(),
        sent: 60,
        errors: 0,
    }
}

fn after(before: Window, runs: &[Probe]) -> AfterSwitch {
    let mut check = AfterSwitch::begin(switch(), before, runs.len(), rules());
    for (i, run) in runs.iter().enumerate() {
        assert!(!check.complete());
        let start = SWITCH_US + i as u64;
        check.add(&sample(run, start, start + 1), run);
    }
    assert!(check.complete());
    check
}

fn scores(note: &AfterSwitchNote) -> Vec<(&str, &str)> {
    note.comparators
        .iter()
        .map(|c| (c.comparator.as_str(), c.score.as_str()))
        .collect()
}

#[test]
fn the_same_appliance_after_a_switch_passes_and_says_so_for_the_timeline_entry() {
    let runs: Vec<Probe> = (0..6).map(|_| probe(2.0)).collect();
    let (overall, note) = after(before(2.0), &runs).judge(5_000_000, None);
    assert_eq!(overall, Overall::Pass, "{note:?}");
    let body = serde_json::to_value(&note).expect("JSON");
    let entry: tf_ledger::CanaryAfterSwitch =
        serde_json::from_value(body.clone()).expect("the timeline reads it");
    assert_eq!(entry.timeline_seq, 7);
    assert_eq!(entry.overall, "pass");
    assert_eq!(entry.judged_us, 5_000_000);
    assert!(
        entry
            .summary
            .starts_with("6 runs after against 6 before: verdicts and receipts right"),
        "{}",
        entry.summary
    );
    assert_eq!(body["to_revision"], 4);
    assert_eq!(body["after"]["samples"], 60);
    assert_eq!(
        serde_json::from_value::<AfterSwitchNote>(body).expect("read back"),
        note
    );
}

#[test]
fn a_slower_appliance_after_a_switch_fails_on_latency() {
    let runs: Vec<Probe> = (0..6).map(|_| probe(9.0)).collect();
    let (overall, note) = after(before(2.0), &runs).judge(5_000_000, None);
    assert_eq!(overall, Overall::Fail, "{note:?}");
    assert_eq!(
        scores(&note),
        [
            ("verdict", "pass"),
            ("receipt", "pass"),
            ("latency", "fail"),
            ("error-rate", "pass")
        ]
    );
    let summary = &note.entry.summary;
    assert!(summary.contains("latency fail"), "{summary}");
}

#[test]
fn one_wrong_verdict_after_a_switch_fails_it() {
    let mut runs: Vec<Probe> = (0..6).map(|_| probe(2.0)).collect();
    runs[4].mismatches.push((
        "bls-single".into(),
        "bls-single: expected valid, got invalid".into(),
    ));
    let (overall, note) = after(before(2.0), &runs).judge(5_000_000, None);
    assert_eq!(overall, Overall::Fail);
    assert_eq!(scores(&note)[0], ("verdict", "fail"));
    assert!(note.entry.summary.contains("bls-single"), "{note:?}");
}

#[test]
fn a_run_begun_before_the_switch_is_not_after_it() {
    let mut check = AfterSwitch::begin(switch(), before(2.0), 1, rules());
    let straddling = probe(50.0);
    check.add(
        &sample(&straddling, SWITCH_US - 1, SWITCH_US + 5),
        &straddling,
    );
    assert!(!check.complete());
    check.add(&sample(&probe(2.0), SWITCH_US, SWITCH_US + 1), &probe(2.0));
    assert!(check.complete());
    assert_eq!(check.judge(0, None).1.after.runs, 1);
}

#[test]
fn without_runs_before_or_after_there_is_no_pass() {
    let runs: Vec<Probe> = (0..6).map(|_| probe(2.0)).collect();
    let (overall, note) = after(Window::default(), &runs).judge(0, None);
    assert_eq!(overall, Overall::Marginal, "{note:?}");
    assert!(scores(&note).contains(&("latency", "no-data")));

    // Cut short by a newer switch before any run: nothing after it, and the reason said.
    let (overall, cut) = AfterSwitch::begin(switch(), before(2.0), 6, rules()).judge(0, Some(5));
    assert_eq!(overall, Overall::Marginal, "{cut:?}");
    let summary = &cut.entry.summary;
    assert!(
        summary
            .starts_with("0 runs after against 6 before (cut short by the switch to revision 5)"),
        "{summary}"
    );
}

#[test]
fn the_window_before_is_the_latest_runs_wholly_between_the_previous_switch_and_this_one() {
    let mut recent = RecentRuns::new(3);
    // Runs of one second every second; their latency says which they were.
    let run = |n: u64| sample(&probe(n as f64), n * 10, n * 10 + 5);
    for n in 1..=5 {
        recent.push(run(n));
    }
    // A switch at 52, while run 5 (50 to 55) was under way: before it, runs 2 to 4.
    let before = recent.before(52);
    assert_eq!(before.runs, 3);
    assert_eq!(
        judge::median(&before.latencies_ms).map(f64::round),
        Some(3.0)
    );
    // Two runs later, another switch: before it only the runs begun after the first.
    recent.push(run(6));
    recent.push(run(7));
    let before = recent.before(80);
    assert_eq!(
        before.runs, 2,
        "runs 6 and 7; 5 began before the first switch"
    );
    assert_eq!(recent.latest().map(|r| r.started_us), Some(70));
}

#[test]
fn many_wrong_answers_are_all_counted_and_a_few_named() {
    let mut wrong = probe(2.0);
    wrong.mismatches = (0..10)
        .map(|i| {
            (
                format!("item-{i}"),
                format!("item-{i}: expected valid, got invalid"),
            )
        })
        .collect();
    let runs = vec![wrong; 6];
    let (_, note) = after(before(2.0), &runs).judge(0, None);
    let verdict = &note.comparators[0];
    assert!(
        verdict.detail.starts_with("60 of 60 verdicts differ"),
        "{}",
        verdict.detail
    );
    assert!(verdict.detail.contains("and 50 more"), "{}", verdict.detail);
    assert!(note.entry.summary.len() < 2_000, "{}", note.entry.summary);
}
