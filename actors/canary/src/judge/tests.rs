//! Each comparator: a pass, a fail, too few samples, an empty baseline, a zero baseline; and
//! the overall verdict's consecutive-failure limit.

use super::*;

/// `count` latencies spread evenly around `centre` ms (± 20 %), without ties.
fn window(count: usize, centre: f64) -> Vec<f64> {
    (0..count)
        .map(|i| centre * (0.8 + 0.4 * i as f64 / count as f64) + i as f64 * 1e-6)
        .collect()
}

#[test]
fn verdicts_and_receipts_fail_critically_at_the_first_difference() {
    assert_eq!(verdicts(12, 12, &[]).score, Score::Pass);
    let wrong = verdicts(
        12,
        12,
        &["groth16-bn254 #3: valid, expected invalid".into()],
    );
    assert_eq!((wrong.score, wrong.critical), (Score::Fail, true));
    assert!(wrong.detail.contains("1 of 12"), "{}", wrong.detail);
    assert_eq!(verdicts(0, 0, &[]).score, Score::NoData);
    // Sent and never answered is a failure, not a lack of data.
    let silent = verdicts(12, 0, &[]);
    assert_eq!((silent.score, silent.critical), (Score::Fail, true));
    assert_eq!(receipts(12, 12, &[]).score, Score::Pass);
    assert_eq!(
        receipts(12, 12, &["#4: signature".into()]).score,
        Score::Fail
    );
    assert_eq!(receipts(12, 0, &[]).score, Score::Fail);
    assert_eq!(receipts(0, 0, &[]).score, Score::NoData);
    // Many wrong answers: all counted, the first few named.
    let many: Vec<String> = (0..30).map(|i| format!("item {i}: wrong")).collect();
    let judged = verdicts(600, 600, &many);
    assert!(
        judged.detail.starts_with("30 of 600 verdicts differ"),
        "{}",
        judged.detail
    );
    assert!(
        judged.detail.contains("item 9: wrong; and 20 more"),
        "{}",
        judged.detail
    );
    assert!(!judged.detail.contains("item 10:"), "{}", judged.detail);
    let kept = verdicts_counted(600, 600, &many[..3], 30);
    assert!(kept.detail.contains("30 of 600") && kept.detail.ends_with("and 27 more"));
}

#[test]
fn latency_passes_noise_and_fails_a_real_slowdown() {
    let rule = LatencyRule::default();
    let baseline = window(200, 4.0);
    // The same spread again: a pass.
    assert_eq!(
        latency(&window(200, 4.0), &baseline, &rule).score,
        Score::Pass
    );
    // Twice as slow: significant and far over a quarter of the median (and the 2 ms floor).
    let slow = latency(&window(200, 8.5), &baseline, &rule);
    assert_eq!(slow.score, Score::Fail, "{}", slow.detail);
    // Significantly slower but under the allowance: a pass, the shift is benign.
    let slight = latency(&window(200, 4.6), &baseline, &rule);
    assert_eq!(slight.score, Score::Pass, "{}", slight.detail);
    // Between half the allowance and the allowance: marginal.
    let nearer = latency(&window(200, 5.5), &baseline, &rule);
    assert_eq!(nearer.score, Score::Marginal, "{}", nearer.detail);
}

#[test]
fn latency_without_enough_data_is_never_a_pass() {
    let rule = LatencyRule::default();
    let empty = latency(&window(200, 4.0), &[], &rule);
    assert_eq!(empty.score, Score::NoData);
    assert!(empty.detail.contains("no baseline"), "{}", empty.detail);
    let few = latency(&window(10, 40.0), &window(200, 4.0), &rule);
    assert_eq!(few.score, Score::NoData, "{}", few.detail);
    assert!(few.detail.contains("at least 30"), "{}", few.detail);
}

#[test]
fn a_zero_baseline_is_judged_against_the_floor_not_a_ratio() {
    let rule = LatencyRule::default();
    let zero = vec![0.0; 100];
    // Every current value above zero: significant, but 1 ms is within the 2 ms floor.
    let small = latency(&vec![1.0; 100], &zero, &rule);
    assert_eq!(small.score, Score::Pass, "{}", small.detail);
    let large = latency(&vec![5.0; 100], &zero, &rule);
    assert_eq!(large.score, Score::Fail, "{}", large.detail);
}

#[test]
fn error_rate_by_an_exact_test_on_counts() {
    let rule = ErrorRule::default();
    assert_eq!(error_rate((0, 600), (0, 6_000), &rule).score, Score::Pass);
    // One error in 600 against none in 6000 is not evidence of anything.
    assert_eq!(error_rate((1, 600), (0, 6_000), &rule).score, Score::Pass);
    let rise = error_rate((30, 600), (6, 6_000), &rule);
    assert_eq!(rise.score, Score::Fail, "{}", rise.detail);
    // A zero baseline rate is judged, not divided by.
    let from_zero = error_rate((12, 600), (0, 6_000), &rule);
    assert_eq!(from_zero.score, Score::Fail, "{}", from_zero.detail);
    assert_eq!(error_rate((0, 600), (0, 0), &rule).score, Score::NoData);
    assert_eq!(error_rate((5, 10), (0, 6_000), &rule).score, Score::NoData);
}

#[test]
fn the_verdict_fails_at_once_on_a_critical_failure_and_after_the_limit_otherwise() {
    let pass = |comparator| Judgement {
        comparator,
        score: Score::Pass,
        critical: false,
        detail: String::new(),
    };
    let slow = Judgement {
        score: Score::Fail,
        ..pass("latency")
    };
    let wrong = Judgement {
        score: Score::Fail,
        critical: true,
        ..pass("verdict")
    };
    let mut verdicts = Verdicts::new(3);
    assert_eq!(
        verdicts.judge(&[pass("verdict"), pass("latency")]),
        Overall::Pass
    );
    assert_eq!(
        verdicts.judge(&[pass("verdict"), slow.clone()]),
        Overall::Marginal
    );
    assert_eq!(
        verdicts.judge(&[pass("verdict"), slow.clone()]),
        Overall::Marginal
    );
    assert_eq!(
        verdicts.judge(&[pass("verdict"), slow.clone()]),
        Overall::Fail
    );
    // A pass resets the count.
    assert_eq!(
        verdicts.judge(&[pass("verdict"), pass("latency")]),
        Overall::Pass
    );
    assert_eq!(verdicts.judge(&[pass("verdict"), slow]), Overall::Marginal);
    // A critical failure fails at once.
    assert_eq!(verdicts.judge(&[wrong, pass("latency")]), Overall::Fail);
    // No data is never a pass.
    let nothing = Judgement {
        score: Score::NoData,
        ..pass("latency")
    };
    assert_eq!(
        verdicts.judge(&[pass("verdict"), nothing.clone()]),
        Overall::Marginal
    );
    assert_eq!(verdicts.judge(&[]), Overall::Marginal);
    // Nor does it end a streak: two failures, a run without data, a third failure.
    let mut verdicts = Verdicts::new(3);
    let failing = Judgement {
        score: Score::Fail,
        ..pass("latency")
    };
    assert_eq!(
        verdicts.judge(std::slice::from_ref(&failing)),
        Overall::Marginal
    );
    assert_eq!(
        verdicts.judge(std::slice::from_ref(&failing)),
        Overall::Marginal
    );
    assert_eq!(verdicts.judge(&[nothing]), Overall::Marginal);
    assert_eq!(
        verdicts.judge(std::slice::from_ref(&failing)),
        Overall::Fail
    );
}

#[test]
fn a_streak_is_one_comparators_and_only_its_own_pass_ends_it() {
    let judged = |comparator, score| Judgement {
        comparator,
        score,
        critical: comparator == "verdict",
        detail: String::new(),
    };
    let mut verdicts = Verdicts::new(2);
    // Slow, then slow again while the verdicts are silenced: the second slow run counts.
    assert_eq!(
        verdicts.judge(&[
            judged("verdict", Score::Pass),
            judged("latency", Score::Fail)
        ]),
        Overall::Marginal
    );
    assert_eq!(
        verdicts.judge(&[
            judged("verdict", Score::Silenced),
            judged("latency", Score::Fail)
        ]),
        Overall::Fail
    );
    assert_eq!(verdicts.failing_runs(), 2);
    // Latency passes while verdicts are still silenced: its streak is over.
    assert_eq!(
        verdicts.judge(&[
            judged("verdict", Score::Silenced),
            judged("latency", Score::Pass)
        ]),
        Overall::Marginal
    );
    assert_eq!(verdicts.failing_runs(), 0);
    // Errors failing once and latency failing once are two streaks of one, not one of two.
    assert_eq!(
        verdicts.judge(&[
            judged("latency", Score::Fail),
            judged("error-rate", Score::Pass)
        ]),
        Overall::Marginal
    );
    assert_eq!(
        verdicts.judge(&[
            judged("latency", Score::Pass),
            judged("error-rate", Score::Fail)
        ]),
        Overall::Marginal
    );
    assert_eq!(verdicts.failing_runs(), 1);
}

#[test]
fn latency_reads_the_newest_samples_of_long_windows() {
    // An old slow stretch beyond the newest thousand samples does not count.
    let mut current = window(5_000, 40.0);
    current.extend(window(MAX_LATENCY_SAMPLES, 4.0));
    let judged = latency(&current, &window(2_000, 4.0), &LatencyRule::default());
    assert_eq!(judged.score, Score::Pass, "{}", judged.detail);
}
