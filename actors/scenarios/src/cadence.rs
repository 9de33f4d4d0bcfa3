//! When a scheduled run starts: at each slot of a cron schedule (UTC). A slot that comes while
//! the previous run is still going is skipped, never queued; after downtime, one run catches up
//! on the latest missed slot, however many there were. A cadence without history adopts the
//! latest slot: a first start runs at the next slot, not for the past. A slot's run is a
//! [`Night`] of packs, stored as done only once every pack has run, so that a restart in the
//! middle of one runs the packs it had not reached, and not the others again.

use std::collections::BTreeSet;

use tf_config::Schedule;

/// Most missed slots counted after downtime (the run is one either way).
pub const MAX_MISSED_COUNTED: u64 = 10_000;

/// What a tick says to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// Nothing until `next_us` (`None`: the schedule never fires again).
    Idle {
        /// The next slot.
        next_us: Option<u64>,
    },
    /// Start a run for slot `slot_us`; `missed` earlier slots went by without one (downtime).
    Start {
        /// The slot run.
        slot_us: u64,
        /// Slots since the last run that had none.
        missed: u64,
    },
    /// Slot `slot_us` came while a run was still going: it is skipped.
    Skip {
        /// The slot skipped.
        slot_us: u64,
    },
}

/// A schedule and the last slot it acted on (ran or skipped), which the caller keeps durable.
#[derive(Clone, Debug)]
pub struct Cadence {
    schedule: Schedule,
    last_slot_us: u64,
}

impl Cadence {
    /// A cadence over `schedule` whose last acted-on slot was `last_slot_us`; `None` (never ran)
    /// adopts the latest slot at or before `now_us`, so nothing runs for the past (store the
    /// adopted slot at once: a restart during the first night then resumes it).
    pub fn new(schedule: Schedule, last_slot_us: Option<u64>, now_us: u64) -> Self {
        let last_slot_us = last_slot_us
            .or_else(|| schedule.last_at_or_before(now_us))
            .unwrap_or(0);
        Cadence {
            schedule,
            last_slot_us,
        }
    }

    /// The last slot acted on: store it once that slot's [`Night`] is over (a slot skipped is
    /// over at once), and pass what was stored to [`Cadence::new`] after a restart. A night
    /// cut short leaves the slot before it stored, so the cadence starts it again.
    pub fn last_slot_us(&self) -> u64 {
        self.last_slot_us
    }

    /// What to do at `now_us`, with a run `running` or not.
    pub fn tick(&mut self, now_us: u64, running: bool) -> Tick {
        let slot = match self.schedule.last_at_or_before(now_us) {
            Some(slot) if slot > self.last_slot_us => slot,
            _ => {
                return Tick::Idle {
                    next_us: self.schedule.next_after(now_us),
                };
            }
        };
        let missed = self.missed_before(slot);
        self.last_slot_us = slot;
        if running {
            Tick::Skip { slot_us: slot }
        } else {
            Tick::Start {
                slot_us: slot,
                missed,
            }
        }
    }

    /// Slots after the last one acted on and before `slot`.
    fn missed_before(&self, slot: u64) -> u64 {
        let mut missed = 0;
        let mut at = self.last_slot_us;
        while missed < MAX_MISSED_COUNTED {
            match self.schedule.next_after(at) {
                Some(next) if next < slot => {
                    missed += 1;
                    at = next;
                }
                _ => break,
            }
        }
        missed
    }
}

/// One slot's packs and which of them are left to run. Each pack's result is recorded with its
/// slot as it ends; the slot is stored as acted on only once [`Night::is_over`]. After a restart
/// in the middle of a night the cadence starts the same slot again, and the packs with a result
/// recorded for it are left out: none runs twice, none is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Night {
    slot_us: u64,
    left: Vec<String>,
}

impl Night {
    /// The night of slot `slot_us` over the packs named `packs`, in the order they run, of
    /// which those in `done` already have a result recorded for this slot.
    pub fn new(slot_us: u64, packs: &[String], done: &BTreeSet<String>) -> Self {
        Night {
            slot_us,
            left: packs
                .iter()
                .filter(|pack| !done.contains(*pack))
                .cloned()
                .collect(),
        }
    }

    /// The slot.
    pub fn slot_us(&self) -> u64 {
        self.slot_us
    }

    /// The packs left to run, in order.
    pub fn left(&self) -> &[String] {
        &self.left
    }

    /// Takes note that `pack` ran and its result was recorded.
    pub fn ran(&mut self, pack: &str) {
        if let Some(at) = self.left.iter().position(|p| p == pack) {
            self.left.remove(at);
        }
    }

    /// Whether every pack has run: only then is the slot stored.
    pub fn is_over(&self) -> bool {
        self.left.is_empty()
    }
}

/// The scheduler's worker loop without its I/O: when a night starts, and which slot to store
/// when. The worker asks [`Scheduler::due`] each turn, runs the night it names, and reports
/// how it ended to [`Scheduler::night_ended`]; it stores every slot this returns.
#[derive(Clone, Debug)]
pub struct Scheduler {
    cadence: Cadence,
}

/// A night to run now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    /// Its slot.
    pub slot_us: u64,
    /// Slots that went by without a run (downtime): caught up by this one night.
    pub missed: u64,
}

/// What a night's end asks of the worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    /// A slot that came while the night ran, skipped (worth a warning).
    pub skipped_us: Option<u64>,
    /// The slot to store as acted on: `None` when the night was cut short, so that the next
    /// start finishes it.
    pub store_us: Option<u64>,
}

impl Scheduler {
    /// The scheduler over `schedule` with the slot stored (`None`: never ran) at `now_us`, and
    /// a slot to store at once: the one a first start adopts, so that a restart during the
    /// first night finishes it instead of adopting the next.
    pub fn start(schedule: Schedule, stored_us: Option<u64>, now_us: u64) -> (Self, Option<u64>) {
        let cadence = Cadence::new(schedule, stored_us, now_us);
        let adopted = stored_us.is_none().then(|| cadence.last_slot_us());
        (Scheduler { cadence }, adopted)
    }

    /// The night to run at `now_us`, if one is due.
    pub fn due(&mut self, now_us: u64) -> Option<Due> {
        match self.cadence.tick(now_us, false) {
            Tick::Start { slot_us, missed } => Some(Due { slot_us, missed }),
            Tick::Idle { .. } | Tick::Skip { .. } => None,
        }
    }

    /// The night started by [`Scheduler::due`] ended at `now_us`, `over` (every pack has a
    /// result) or cut short.
    pub fn night_ended(&mut self, now_us: u64, over: bool) -> Ended {
        let skipped_us = match self.cadence.tick(now_us, true) {
            Tick::Skip { slot_us } => Some(slot_us),
            Tick::Idle { .. } | Tick::Start { .. } => None,
        };
        Ended {
            skipped_us,
            store_us: over.then(|| self.cadence.last_slot_us()),
        }
    }
}
