use super::*;

const SWITCH_US: u64 = 1_000_000;

fn switch() -> Switch {
    Switch {
        timeline_seq: 7,
        action: "promote".into(),
        from_revision: 3,
        to_revision: 4,
        at_us: SWITCH_US,
    }
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
    let mut check = AfterSwitch::begin(switch(), before, runs.len());
    for (i, run) in runs.iter().enumerate() {
        assert!(!check.complete());
        check.add(SWITCH_US + i as u64, run);
    }
    assert!(check.complete());
    check
}

fn scores(judged: &Judged) -> Vec<(&str, &str)> {
    judged.body["comparators"]
        .as_array()
        .expect("comparators")
        .iter()
        .map(|c| {
            (
                c["comparator"].as_str().expect("name"),
                c["score"].as_str().expect("score"),
            )
        })
        .collect()
}

#[test]
fn the_same_appliance_after_a_switch_passes_and_says_so_for_the_timeline_entry() {
    let runs: Vec<Probe> = (0..6).map(|_| probe(2.0)).collect();
    let judged = after(before(2.0), &runs).judge(5_000_000, None);
    assert_eq!(judged.overall, Overall::Pass, "{}", judged.body);
    let entry: tf_ledger::CanaryAfterSwitch =
        serde_json::from_value(judged.body.clone()).expect("the timeline reads it");
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
    assert_eq!(judged.body["to_revision"], 4);
    assert_eq!(judged.body["after"]["samples"], 60);
}

#[test]
fn a_slower_appliance_after_a_switch_fails_on_latency() {
    let runs: Vec<Probe> = (0..6).map(|_| probe(9.0)).collect();
    let judged = after(before(2.0), &runs).judge(5_000_000, None);
    assert_eq!(judged.overall, Overall::Fail, "{}", judged.body);
    assert_eq!(
        scores(&judged),
        [
            ("verdict", "pass"),
            ("receipt", "pass"),
            ("latency", "fail"),
            ("error-rate", "pass")
        ]
    );
    let summary = judged.body["summary"].as_str().expect("summary");
    assert!(summary.contains("latency fail"), "{summary}");
}

#[test]
fn one_wrong_verdict_after_a_switch_fails_it() {
    let mut runs: Vec<Probe> = (0..6).map(|_| probe(2.0)).collect();
    runs[4].mismatches.push((
        "bls-single".into(),
        "bls-single: expected valid, got invalid".into(),
    ));
    let judged = after(before(2.0), &runs).judge(5_000_000, None);
    assert_eq!(judged.overall, Overall::Fail);
    assert_eq!(scores(&judged)[0], ("verdict", "fail"));
    assert!(
        judged.body["summary"]
            .as_str()
            .is_some_and(|s| s.contains("bls-single")),
        "{}",
        judged.body
    );
}

#[test]
fn a_run_begun_before_the_switch_is_not_after_it() {
    let mut check = AfterSwitch::begin(switch(), before(2.0), 1);
    check.add(SWITCH_US - 1, &probe(50.0));
    assert!(!check.complete());
    check.add(SWITCH_US, &probe(2.0));
    assert!(check.complete());
    assert_eq!(check.judge(0, None).body["after"]["runs"], 1);
}

#[test]
fn without_runs_before_or_after_there_is_no_pass() {
    let runs: Vec<Probe> = (0..6).map(|_| probe(2.0)).collect();
    let judged = after(Window::default(), &runs).judge(0, None);
    assert_eq!(judged.overall, Overall::Marginal, "{}", judged.body);
    assert!(scores(&judged).contains(&("latency", "no-data")));

    // Cut short by a newer switch before any run: nothing after it, and the reason said.
    let cut = AfterSwitch::begin(switch(), before(2.0), 6).judge(0, Some(5));
    assert_eq!(cut.overall, Overall::Marginal, "{}", cut.body);
    let summary = cut.body["summary"].as_str().expect("summary");
    assert!(
        summary
            .starts_with("0 runs after against 6 before (cut short by the switch to revision 5)"),
        "{summary}"
    );
}
