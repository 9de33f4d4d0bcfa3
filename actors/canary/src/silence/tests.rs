use super::*;

const HOUR_US: u64 = 3_600_000_000;
const NOW: u64 = 1_800_000_000_000_000;

fn silence(comparators: &[&str], items: &[&str], hours: u64) -> Silence {
    let mut silence = Silence::new(
        comparators.iter().map(|c| (*c).to_owned()).collect(),
        items.iter().map(|i| (*i).to_owned()).collect(),
        NOW,
        NOW + hours * HOUR_US,
        "oncall",
        "host noisy during the disk rebuild (OPS-12)",
    )
    .expect("valid");
    silence.id = 7;
    silence
}

fn judged(comparator: &'static str, score: Score) -> Judgement {
    Judgement {
        comparator,
        score,
        critical: false,
        detail: "shift +9 ms".into(),
    }
}

#[test]
fn a_silence_covers_its_comparators_and_items_until_it_expires_in_virtual_time() {
    let latency = silence(&["latency"], &[], 2);
    assert!(latency.covers("latency", None));
    assert!(!latency.covers("error-rate", None));
    assert!(covering(std::slice::from_ref(&latency), "latency", None, NOW).is_some());
    // An hour later it still applies; at its expiry and after, it no longer does.
    assert!(latency.applies(NOW + HOUR_US));
    assert!(!latency.applies(NOW + 2 * HOUR_US));
    assert!(covering(&[latency], "latency", None, NOW + 3 * HOUR_US).is_none());

    let one_item = silence(&["verdict"], &["bls-single"], 1);
    assert!(one_item.covers("verdict", Some("bls-single")));
    assert!(!one_item.covers("verdict", Some("groth16-bn254")));
    assert!(!one_item.covers("receipt", Some("bls-single")));
    assert!(
        !one_item.covers("verdict", None),
        "a run-wide result is not one item's"
    );
}

#[test]
fn what_a_silence_covers_shows_as_silenced_never_as_passing() {
    let silences = [silence(&["latency"], &[], 1)];
    let slow = silence_run(judged("latency", Score::Fail), &silences, NOW);
    assert_eq!(slow.score, Score::Silenced);
    assert!(
        slow.detail.contains("silence #7 by oncall"),
        "{}",
        slow.detail
    );
    // Passing and no-data results are what they are; other comparators are not covered.
    assert_eq!(
        silence_run(judged("latency", Score::Pass), &silences, NOW).score,
        Score::Pass
    );
    assert_eq!(
        silence_run(judged("error-rate", Score::Fail), &silences, NOW).score,
        Score::Fail
    );
    // Expired: the failure counts again.
    assert_eq!(
        silence_run(judged("latency", Score::Fail), &silences, NOW + HOUR_US).score,
        Score::Fail
    );

    // Per item: the covered item's problem is silenced, another still fails.
    let silences = [silence(&["verdict"], &["bls-single"], 1)];
    let problems = vec![
        (
            "bls-single".to_owned(),
            "bls-single: expected valid, got invalid".to_owned(),
        ),
        (
            "groth16-bn254".to_owned(),
            "groth16-bn254: expected valid, got invalid".to_owned(),
        ),
    ];
    let (counted, silenced) = split_items(&problems, "verdict", &silences, NOW);
    assert_eq!(counted, ["groth16-bn254: expected valid, got invalid"]);
    assert_eq!(silenced.len(), 1);
    let still_failing = with_silenced(crate::judge::verdicts(10, 10, &counted), &silenced);
    assert_eq!(still_failing.score, Score::Fail);
    assert!(
        still_failing.detail.contains("1 silenced"),
        "{}",
        still_failing.detail
    );
    let (counted, silenced) = split_items(&problems[..1], "verdict", &silences, NOW);
    let quiet = with_silenced(crate::judge::verdicts(10, 10, &counted), &silenced);
    assert_eq!(quiet.score, Score::Silenced, "{}", quiet.detail);
}

#[test]
fn a_silenced_run_is_marginal_and_neither_ends_nor_extends_a_streak() {
    let mut verdicts = crate::judge::Verdicts::new(2);
    let failing = [judged("latency", Score::Fail)];
    let silenced = [judged("latency", Score::Silenced)];
    assert_eq!(verdicts.judge(&failing), crate::judge::Overall::Marginal);
    assert_eq!(verdicts.judge(&silenced), crate::judge::Overall::Marginal);
    assert_eq!(verdicts.failing_runs(), 1);
    assert_eq!(verdicts.judge(&failing), crate::judge::Overall::Fail);
}

#[test]
fn a_silence_must_name_comparators_expire_within_a_week_and_say_who_and_why() {
    let make = |comparators: &[&str], items: &[&str], span: u64, creator: &str, reason: &str| {
        Silence::new(
            comparators.iter().map(|c| (*c).to_owned()).collect(),
            items.iter().map(|i| (*i).to_owned()).collect(),
            NOW,
            NOW + span,
            creator,
            reason,
        )
    };
    let ok = make(&["latency", "latency"], &[], HOUR_US, " oncall ", "known");
    assert_eq!(ok.expect("valid").comparators, ["latency"]);
    assert!(matches!(
        make(&[], &[], HOUR_US, "a", "b"),
        Err(SilenceError::Comparators(_))
    ));
    assert!(matches!(
        make(&["speed"], &[], HOUR_US, "a", "b"),
        Err(SilenceError::Comparators(_))
    ));
    assert!(matches!(
        make(&["latency"], &["bls-single"], HOUR_US, "a", "b"),
        Err(SilenceError::Items(_))
    ));
    assert!(matches!(
        make(&["latency"], &[], 0, "a", "b"),
        Err(SilenceError::Expiry(_))
    ));
    assert!(matches!(
        make(&["latency"], &[], MAX_SPAN_US + 1, "a", "b"),
        Err(SilenceError::Expiry(_))
    ));
    assert_eq!(
        make(&["latency"], &[], HOUR_US, "a", " "),
        Err(SilenceError::Text("reason"))
    );
    assert_eq!(
        make(&["latency"], &[], HOUR_US, "a\u{202E}b", "why"),
        Err(SilenceError::Text("creator"))
    );
}
