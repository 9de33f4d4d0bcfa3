use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::*;

const S: u64 = MICROS_PER_S;
/// An arbitrary first-attempt time (2024-01-01T00:00:00Z).
const T0: u64 = 1_704_067_200 * S;

/// Attempt times of a delivery that always fails instantly, until the ladder gives up.
fn attempts(random: impl FnMut() -> u32) -> Vec<u64> {
    let mut random = random;
    let ladder = RetryLadder::STANDARD;
    let mut times = vec![T0];
    while let Some(next) = ladder.next_attempt_at(
        times.len() as u32,
        T0,
        *times.last().expect("one attempt"),
        None,
        random(),
    ) {
        times.push(next);
    }
    times
}

#[test]
fn first_seven_attempts_fit_in_two_minutes_even_at_max_jitter() {
    let slowest = attempts(|| u32::MAX);
    assert!(
        slowest[6] - T0 < 120 * S,
        "seventh attempt at {} us",
        slowest[6] - T0
    );
    // And they are spread over most of the window, not bunched at the start.
    let fastest = attempts(|| 0);
    assert!(
        fastest[6] - T0 >= 76 * S,
        "seventh attempt at {} us",
        fastest[6] - T0
    );
}

#[test]
fn gives_up_after_about_three_days() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for times in [
        attempts(|| 0),
        attempts(|| u32::MAX),
        attempts(|| rng.next_u32()),
    ] {
        let last = *times.last().expect("at least the first attempt") - T0;
        assert!(
            last <= 72 * 3600 * S,
            "attempt after the horizon: {last} us"
        );
        // The tail really runs to about three days: within one jittered 8 h step of it.
        assert!(
            last > (72 * 3600 - 8 * 3600 * 12 / 10) * S,
            "gave up early: {last} us"
        );
        assert!((20..=24).contains(&times.len()), "{} attempts", times.len());
    }
    // Past the horizon nothing more is scheduled, whatever the attempt count.
    let ladder = RetryLadder::STANDARD;
    assert_eq!(
        ladder.next_attempt_at(30, T0, T0 + 70 * 3600 * S, None, 0),
        None
    );
    assert_eq!(
        ladder.next_attempt_at(3, T0, T0 + 72 * 3600 * S, None, 0),
        None
    );
}

#[test]
fn nominal_schedule_matches_the_documented_table() {
    let rows: Vec<Rung> = RetryLadder::STANDARD.nominal_schedule().collect();
    assert_eq!(rows.len(), 22);
    assert_eq!(rows[0].delay, Duration::ZERO);
    assert_eq!(rows[6].since_first, Duration::from_secs(96));
    assert_eq!(
        rows[13].since_first,
        Duration::from_secs(7 * 3600 + 48 * 60 + 36)
    );
    assert_eq!(
        rows[21].since_first,
        Duration::from_secs(71 * 3600 + 48 * 60 + 36)
    );
    assert_eq!(rows[21].delay, Duration::from_secs(TAIL_INTERVAL_S));
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.attempt as usize, i + 1);
    }
}

#[test]
fn retry_after_is_honoured_and_capped() {
    let ladder = RetryLadder::STANDARD;
    let now = T0 + 5 * S;
    // Later than the ladder's 3 s: wait for it, exactly.
    assert_eq!(
        ladder.next_attempt_at(2, T0, now, Some(now + 600 * S), 0),
        Some(now + 600 * S)
    );
    // Earlier than the ladder: the ladder wins (Retry-After never brings an attempt forward).
    assert_eq!(
        ladder.next_attempt_at(9, T0, now, Some(now + S), 0),
        Some(now + 480 * S)
    );
    // In the past (an HTTP-date already gone): the ladder.
    assert_eq!(
        ladder.next_attempt_at(2, T0, now, Some(T0), 0),
        Some(now + 2_400_000)
    );
    // Five hours: held to one.
    assert_eq!(
        ladder.next_attempt_at(2, T0, now, Some(now + 5 * 3600 * S), 0),
        Some(now + 3600 * S)
    );
    assert_eq!(
        ladder.next_attempt_at(2, T0, now, Some(u64::MAX), u32::MAX),
        Some(now + 3600 * S)
    );
    // Near the horizon a Retry-After past it means giving up.
    let late = T0 + 71 * 3600 * S + 30 * 60 * S;
    assert_eq!(
        ladder.next_attempt_at(1, T0, late, None, 0),
        Some(late + 800_000)
    );
    assert_eq!(
        ladder.next_attempt_at(1, T0, late, Some(late + 3600 * S), 0),
        None
    );
}

#[test]
fn jitter_spans_the_band() {
    assert_eq!(jitter(10 * S, 0), 8 * S);
    assert_eq!(jitter(10 * S, 1 << 31), 10 * S);
    let top = jitter(10 * S, u32::MAX);
    assert!(top < 12 * S && top > 12 * S - 10, "{top}");
    // Saturates instead of wrapping.
    assert_eq!(jitter(u64::MAX, u32::MAX), u64::MAX);
}

proptest! {
    /// Every delay stays in [0.8, 1.2) of its rung, whatever the attempt and the random draw.
    #[test]
    fn delay_stays_in_the_jitter_band(attempts_made in 1u32..60, random: u32, offset_s in 0u64..3600) {
        let ladder = RetryLadder::STANDARD;
        let now = T0 + offset_s * S;
        let at = ladder.next_attempt_at(attempts_made, now, now, None, random);
        let floor = ladder.nominal_delay_s(attempts_made) * S;
        let at = at.expect("a first attempt just now is far from the horizon");
        prop_assert!(at - now >= floor / 5 * 4, "{} < 0.8 x {}", at - now, floor);
        prop_assert!(at - now < floor / 5 * 6, "{} >= 1.2 x {}", at - now, floor);
        // Later rungs are never shorter than earlier ones.
        prop_assert!(ladder.nominal_delay_s(attempts_made + 1) >= ladder.nominal_delay_s(attempts_made));
    }
}

/// The goal itself: with a fifth of attempts failing at random, each failure costing a
/// 15 s timeout (the low end of the spec's advice), the p95 acknowledgement is under 2 minutes.
#[test]
fn acknowledgement_p95_is_under_two_minutes_with_a_fifth_failing() {
    let ladder = RetryLadder::STANDARD;
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let mut latencies: Vec<u64> = (0..10_000)
        .map(|_| {
            let mut now = T0;
            let mut made = 0;
            loop {
                now = ladder
                    .next_attempt_at(made, T0, now, None, rng.next_u32())
                    .expect("acknowledged long before the horizon");
                made += 1;
                // 20 % of attempts fail, at random.
                if rng.next_u32() % 5 != 0 {
                    return now - T0;
                }
                now += 15 * S;
            }
        })
        .collect();
    latencies.sort_unstable();
    let p95 = latencies[latencies.len() * 95 / 100];
    assert!(p95 < 120 * S, "p95 {p95} us");
    let p999 = latencies[latencies.len() * 999 / 1000];
    assert!(p999 < 120 * S, "p99.9 {p999} us");
}
