//! The scheduler's cadence in virtual time: nightly slots run once each, a slot that comes
//! during a run is skipped, downtime gets one catch-up run, a first start waits for the next
//! slot, a restart resumes from the stored slot, and a restart in the middle of a night runs
//! the packs that night had not reached, and only those.

use std::collections::BTreeSet;

use tf_config::Schedule;
use tf_scenarios::{Cadence, Ended, Night, Scheduler, Tick};

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

/// Five packs, in the order they run.
const PACKS: [&str; 5] = [
    "acme-cap-halved",
    "acme-p0-audits",
    "acme-quota-lowered",
    "drop-globex",
    "surge-three-times",
];

/// What the worker keeps across a restart (in decisions.sqlite): the slot stored, and each
/// pack's result with the slot it ran for, in the order recorded.
#[derive(Default)]
struct Stored {
    slot_us: Option<u64>,
    results: Vec<(u64, String)>,
}

impl Stored {
    /// The packs with a result for `slot_us`, in the order recorded.
    fn night(&self, slot_us: u64) -> Vec<&str> {
        (self.results.iter())
            .filter(|(slot, _)| *slot == slot_us)
            .map(|(_, pack)| pack.as_str())
            .collect()
    }
}

/// The scheduler's worker in virtual time, as appliance/control/src/scenarios.rs drives the
/// same [`Scheduler`]: started at `from` with what `stored` holds, a turn every minute until
/// `to`, each pack taking ten minutes. It is stopped (a restart) when `stop_after` packs have
/// run, before the next; returns the time it stopped or ended.
fn serve(stored: &mut Stored, from: u64, to: u64, stop_after: usize) -> u64 {
    let packs: Vec<String> = PACKS.iter().map(|p| (*p).to_owned()).collect();
    let (mut scheduler, adopted) = Scheduler::start(nightly(), stored.slot_us, from);
    if let Some(slot_us) = adopted {
        stored.slot_us = Some(slot_us);
    }
    let (mut now, mut ran) = (from, 0);
    while now <= to {
        if let Some(due) = scheduler.due(now) {
            let done: BTreeSet<String> = stored
                .night(due.slot_us)
                .into_iter()
                .map(str::to_owned)
                .collect();
            let mut night = Night::new(due.slot_us, &packs, &done);
            while let Some(pack) = night.left().first().cloned() {
                if ran == stop_after {
                    return now;
                }
                now += 10 * MINUTE;
                stored.results.push((due.slot_us, pack.clone()));
                night.ran(&pack);
                ran += 1;
            }
            if let Some(slot_us) = scheduler.night_ended(now, night.is_over()).store_us {
                stored.slot_us = Some(slot_us);
            }
        }
        now += MINUTE;
    }
    now
}

#[test]
fn a_restart_after_two_of_five_packs_runs_the_other_three_and_not_the_two_again() {
    let mut stored = Stored::default();
    let slot = DEC_1 + DAY + 2 * HOUR;
    // First started the day before; stopped in the slot's night after two packs.
    let stopped = serve(&mut stored, DEC_1 + 10 * HOUR, DEC_1 + 2 * DAY, 2);
    assert_eq!(stopped, slot + 20 * MINUTE);
    assert_eq!(stored.night(slot), &PACKS[..2]);
    assert_eq!(
        stored.slot_us,
        Some(DEC_1 + 2 * HOUR),
        "a night cut short is not stored as done"
    );
    // Back five minutes later: the same slot again, for the three packs it had not reached.
    let back = stopped + 5 * MINUTE;
    let mut cadence = Cadence::new(nightly(), stored.slot_us, back);
    assert_eq!(
        cadence.tick(back, false),
        Tick::Start {
            slot_us: slot,
            missed: 0
        }
    );
    let ended = serve(&mut stored, back, slot + 12 * HOUR, usize::MAX);
    assert_eq!(stored.night(slot), PACKS, "each pack once, in order");
    assert_eq!(stored.results.len(), 5);
    assert_eq!(
        stored.slot_us,
        Some(slot),
        "the night over, its slot stored"
    );
    // And the next night runs all five as usual.
    serve(&mut stored, ended, slot + DAY + 12 * HOUR, usize::MAX);
    assert_eq!(stored.night(slot + DAY), PACKS);
    assert_eq!(stored.results.len(), 10);
}

#[test]
fn a_night_cut_short_then_downtime_past_the_next_slot_gets_one_catch_up_night() {
    let mut stored = Stored::default();
    let slot = DEC_1 + DAY + 2 * HOUR;
    serve(&mut stored, DEC_1 + 10 * HOUR, DEC_1 + 2 * DAY, 2);
    // Back three days later at noon: one night, for the latest slot, with every pack; the
    // night cut short is not finished late, nor the nights between run.
    let back = slot + 3 * DAY + 10 * HOUR;
    serve(&mut stored, back, back + 2 * HOUR, usize::MAX);
    let latest = slot + 3 * DAY;
    assert_eq!(stored.night(slot), &PACKS[..2]);
    assert_eq!(stored.night(latest), PACKS);
    assert_eq!(stored.results.len(), 7);
    assert_eq!(stored.slot_us, Some(latest));
}

#[test]
fn a_night_leaves_out_the_packs_done_and_is_over_when_the_rest_ran() {
    let packs: Vec<String> = PACKS.iter().map(|p| (*p).to_owned()).collect();
    let done: BTreeSet<String> = [PACKS[1], PACKS[3]].map(str::to_owned).into();
    let mut night = Night::new(7, &packs, &done);
    assert_eq!(night.slot_us(), 7);
    assert_eq!(night.left(), [PACKS[0], PACKS[2], PACKS[4]]);
    night.ran(PACKS[0]);
    night.ran(PACKS[2]);
    assert!(!night.is_over());
    night.ran(PACKS[4]);
    assert!(night.is_over());
    assert!(Night::new(7, &packs, &packs.iter().cloned().collect()).is_over());
}

#[test]
fn a_night_past_the_next_slot_skips_it_and_stores_it_as_acted_on() {
    let hourly: Schedule = "0 * * * *".parse().expect("cron");
    let (mut scheduler, adopted) = Scheduler::start(hourly.clone(), None, DEC_1 + 30 * MINUTE);
    assert_eq!(adopted, Some(DEC_1), "a first start adopts the latest slot");
    assert_eq!(scheduler.due(DEC_1 + 59 * MINUTE), None);
    let due = scheduler.due(DEC_1 + HOUR).expect("the next slot is due");
    assert_eq!((due.slot_us, due.missed), (DEC_1 + HOUR, 0));
    // The night ran for 70 minutes, past 02:00: that slot is skipped and stored.
    assert_eq!(
        scheduler.night_ended(DEC_1 + 2 * HOUR + 10 * MINUTE, true),
        Ended {
            skipped_us: Some(DEC_1 + 2 * HOUR),
            store_us: Some(DEC_1 + 2 * HOUR)
        }
    );
    assert_eq!(scheduler.due(DEC_1 + 2 * HOUR + 11 * MINUTE), None);
    // A night cut short stores nothing; a start with a slot stored adopts nothing.
    let (mut again, adopted) = Scheduler::start(hourly, Some(DEC_1 + 2 * HOUR), DEC_1 + 3 * HOUR);
    assert_eq!(adopted, None);
    assert!(again.due(DEC_1 + 3 * HOUR).is_some());
    assert_eq!(
        again.night_ended(DEC_1 + 3 * HOUR + MINUTE, false),
        Ended::default()
    );
}
