//! When a scheduled run starts: at each slot of a cron schedule (UTC). A slot that comes while
//! the previous run is still going is skipped, never queued; after downtime, one run catches up
//! on the latest missed slot, however many there were. A cadence without history adopts the
//! latest slot: a first start runs at the next slot, not for the past.

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
    /// adopts the latest slot at or before `now_us`, so nothing runs for the past.
    pub fn new(schedule: Schedule, last_slot_us: Option<u64>, now_us: u64) -> Self {
        let last_slot_us = last_slot_us
            .or_else(|| schedule.last_at_or_before(now_us))
            .unwrap_or(0);
        Cadence {
            schedule,
            last_slot_us,
        }
    }

    /// The last slot acted on: store it, and pass it to [`Cadence::new`] after a restart.
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
