//! The scheduler's cadence in virtual time: nightly slots run once each, a slot that comes
//! during a run is skipped, downtime gets one catch-up run, a first start waits for the next
//! slot, and a restart resumes from the stored slot.

use tf_config::Schedule;
use tf_scenarios::{Cadence, Tick};

const MINUTE: u64 = 60_000_000;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
/// 2026-12-01T00:00:00Z.
const DEC_1: u64 = 1_796_083_200_000_000;

fn nightly() -> Schedule {
    "0 2 * * *".parse().expect("a cron expression")
}

/// Ticks every minute from `from` to `to`, with a run lasting `run_minutes`; the starts and
/// skips seen.
fn drive(cadence: &mut Cadence, from: u64, to: u64, run_minutes: u64) -> Vec<Tick> {
    let mut seen = Vec::new();
    let mut running_until = 0;
    let mut now = from;
    while now <= to {
        let tick = cadence.tick(now, now < running_until);
        if let Tick::Start { .. } = tick {
            running_until = now + run_minutes * MINUTE;
        }
        if !matches!(tick, Tick::Idle { .. }) {
            seen.push(tick);
        }
        now += MINUTE;
    }
    seen
}

#[test]
fn each_nightly_slot_runs_once_and_a_first_start_waits_for_the_next() {
    // Started at 10:00 on December 1st: the 02:00 slot of that day is past, not run.
    let mut cadence = Cadence::new(nightly(), None, DEC_1 + 10 * HOUR);
    let seen = drive(
        &mut cadence,
        DEC_1 + 10 * HOUR,
        DEC_1 + 3 * DAY + 12 * HOUR,
        30,
    );
    let starts: Vec<u64> = seen
        .iter()
        .map(|t| match t {
            Tick::Start { slot_us, missed: 0 } => *slot_us,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        starts,
        vec![
            DEC_1 + DAY + 2 * HOUR,
            DEC_1 + 2 * DAY + 2 * HOUR,
            DEC_1 + 3 * DAY + 2 * HOUR
        ]
    );
    let Tick::Idle { next_us } = cadence.tick(DEC_1 + 3 * DAY + 12 * HOUR, false) else {
        panic!("idle after the night's run");
    };
    assert_eq!(next_us, Some(DEC_1 + 4 * DAY + 2 * HOUR));
}

#[test]
fn a_slot_that_comes_during_a_run_is_skipped_not_queued() {
    let hourly: Schedule = "0 * * * *".parse().expect("cron");
    let mut cadence = Cadence::new(hourly, None, DEC_1);
    // Each run takes 90 minutes: every other hourly slot comes while one is going.
    let seen = drive(&mut cadence, DEC_1, DEC_1 + 6 * HOUR, 90);
    let kinds: Vec<&str> = seen
        .iter()
        .map(|t| match t {
            Tick::Start { .. } => "start",
            Tick::Skip { .. } => "skip",
            Tick::Idle { .. } => "idle",
        })
        .collect();
    assert_eq!(kinds, ["start", "skip", "start", "skip", "start", "skip"]);
}

#[test]
fn downtime_gets_one_catch_up_run_however_many_slots_it_missed() {
    let mut cadence = Cadence::new(nightly(), None, DEC_1 + 10 * HOUR);
    assert!(matches!(
        cadence.tick(DEC_1 + DAY + 2 * HOUR, false),
        Tick::Start { missed: 0, .. }
    ));
    let stored = cadence.last_slot_us();
    // Down for five days; back at noon: one run, for the latest slot, four missed before it.
    let back = DEC_1 + 6 * DAY + 12 * HOUR;
    let mut restarted = Cadence::new(nightly(), Some(stored), back);
    assert_eq!(
        restarted.tick(back, false),
        Tick::Start {
            slot_us: DEC_1 + 6 * DAY + 2 * HOUR,
            missed: 4
        }
    );
    assert!(matches!(
        restarted.tick(back + MINUTE, false),
        Tick::Idle { .. }
    ));
}

#[test]
fn a_restart_resumes_from_the_stored_slot_without_running_it_again() {
    let mut cadence = Cadence::new(nightly(), None, DEC_1 + 10 * HOUR);
    let slot = DEC_1 + DAY + 2 * HOUR;
    assert!(matches!(
        cadence.tick(slot + MINUTE, false),
        Tick::Start { .. }
    ));
    let mut restarted = Cadence::new(nightly(), Some(cadence.last_slot_us()), slot + HOUR);
    assert!(matches!(
        restarted.tick(slot + HOUR, false),
        Tick::Idle { .. }
    ));
}
