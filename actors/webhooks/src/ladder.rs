//! The retry ladder: when to try a failed delivery again, and when to stop.
//!
//! Two goals shape it. Auditors must see events fast (acknowledgement p95 within 2 minutes
//! even when a fifth of attempts fail at random), so the first six retries come quickly and all
//! land inside 2 minutes even at the top of the jitter band. And a receiver that is down for a
//! weekend must still get its events, so the ladder then backs off to hours and keeps trying
//! every 8 hours until 3 days after the first attempt; after that the caller gives up and
//! disables the endpoint, as the spec recommends.
//!
//! Each delay is scaled by a jitter factor in [0.8, 1.2) so endpoints that failed together do
//! not retry together. The random number comes from the caller: this module reads no clock and
//! no generator, so a schedule is reproducible in tests.
//!
//! | attempt | delay before it | since the first (nominal)           |
//! |--------:|----------------:|------------------------------------:|
//! | 1       | immediately     | 0 s                                 |
//! | 2       | 1 s             | 1 s                                 |
//! | 3       | 3 s             | 4 s                                 |
//! | 4       | 7 s             | 11 s                                |
//! | 5       | 15 s            | 26 s                                |
//! | 6       | 30 s            | 56 s                                |
//! | 7       | 40 s            | 1 min 36 s                          |
//! | 8       | 2 min           | 3 min 36 s                          |
//! | 9       | 5 min           | 8 min 36 s                          |
//! | 10      | 10 min          | 18 min 36 s                         |
//! | 11      | 30 min          | 48 min 36 s                         |
//! | 12      | 1 h             | 1 h 48 min 36 s                     |
//! | 13      | 2 h             | 3 h 48 min 36 s                     |
//! | 14      | 4 h             | 7 h 48 min 36 s                     |
//! | 15 … 22 | 8 h each        | 15 h 48 min 36 s … 71 h 48 min 36 s |
//! | (none)  | give up         | beyond 72 h                         |
//!
//! That is 22 attempts nominally (20 to 24 with jitter). The sixth rung, before attempt 7, is
//! 40 s rather than the 60 s first proposed: with every delay at 1.2x, the 56 s of earlier
//! rungs leave 120 / 1.2 - 56 = 44 s for it if attempt 7 is still to land inside 2 minutes.
//! Attempts take time too (up to the request timeout), which the caller's clock adds.

use std::time::Duration;

/// Delays in seconds before attempts 2, 3, … (the first attempt is immediate).
pub const RUNGS_S: &[u64] = &[1, 3, 7, 15, 30, 40, 120, 300, 600, 1800, 3600, 7200, 14_400];
/// Delay after the last rung, repeated until the horizon.
pub const TAIL_INTERVAL_S: u64 = 8 * 3600;
/// No attempt is scheduled later than this after the first one.
pub const GIVE_UP_AFTER_S: u64 = 72 * 3600;
/// Longest a `Retry-After` can hold an attempt back, so a hostile or confused receiver cannot
/// park a delivery until the horizon passes.
pub const RETRY_AFTER_CAP_S: u64 = 3600;

const MICROS_PER_S: u64 = 1_000_000;

/// The schedule of retries for one message to one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryLadder {
    rungs_s: &'static [u64],
    tail_interval_s: u64,
    give_up_after_s: u64,
    retry_after_cap_s: u64,
}

/// One row of the nominal (unjittered) schedule, for documentation and operator views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rung {
    /// The attempt this row schedules, counting the first (immediate) attempt as 1.
    pub attempt: u32,
    /// Delay after the previous attempt.
    pub delay: Duration,
    /// Time since the first attempt, assuming attempts take no time.
    pub since_first: Duration,
}

impl Default for RetryLadder {
    fn default() -> Self {
        Self::STANDARD
    }
}

impl RetryLadder {
    /// The appliance's ladder (see the module docs).
    pub const STANDARD: Self = Self {
        rungs_s: RUNGS_S,
        tail_interval_s: TAIL_INTERVAL_S,
        give_up_after_s: GIVE_UP_AFTER_S,
        retry_after_cap_s: RETRY_AFTER_CAP_S,
    };

    /// When to make the next attempt, in unix microseconds, or `None` to give up.
    ///
    /// `attempts_made` counts attempts already made (0: the first attempt, due `now_us`).
    /// `retry_after_us` is the absolute time a `Retry-After` asked for; it is honoured up to
    /// [`RETRY_AFTER_CAP_S`] from `now_us`, and never brings an attempt forward. `random` picks
    /// the jitter. `None` once the attempt would fall later than [`GIVE_UP_AFTER_S`] after
    /// `first_attempt_us`.
    pub fn next_attempt_at(
        &self,
        attempts_made: u32,
        first_attempt_us: u64,
        now_us: u64,
        retry_after_us: Option<u64>,
        random: u32,
    ) -> Option<u64> {
        if attempts_made == 0 {
            return Some(now_us);
        }
        let delay_us = jitter(self.nominal_delay_s(attempts_made) * MICROS_PER_S, random);
        let mut at = now_us.saturating_add(delay_us);
        if let Some(requested) = retry_after_us {
            let cap = now_us.saturating_add(self.retry_after_cap_s * MICROS_PER_S);
            at = at.max(requested.min(cap));
        }
        let horizon = first_attempt_us.saturating_add(self.give_up_after_s * MICROS_PER_S);
        (at <= horizon).then_some(at)
    }

    /// The unjittered delay in seconds before the attempt after `attempts_made` (at least 1).
    pub fn nominal_delay_s(&self, attempts_made: u32) -> u64 {
        let index = attempts_made.saturating_sub(1) as usize;
        self.rungs_s
            .get(index)
            .copied()
            .unwrap_or(self.tail_interval_s)
    }

    /// Delays in seconds before attempts 2, 3, …, before the repeating tail.
    pub fn rungs_s(&self) -> &'static [u64] {
        self.rungs_s
    }

    /// The repeating delay after the last rung.
    pub fn tail_interval(&self) -> Duration {
        Duration::from_secs(self.tail_interval_s)
    }

    /// How long after the first attempt the ladder gives up.
    pub fn give_up_after(&self) -> Duration {
        Duration::from_secs(self.give_up_after_s)
    }

    /// The longest a `Retry-After` may delay an attempt.
    pub fn retry_after_cap(&self) -> Duration {
        Duration::from_secs(self.retry_after_cap_s)
    }

    /// Every attempt of the nominal schedule (no jitter, attempts taking no time), first
    /// attempt included, up to the horizon: the table the docs print.
    pub fn nominal_schedule(&self) -> impl Iterator<Item = Rung> + '_ {
        let first = Rung {
            attempt: 1,
            delay: Duration::ZERO,
            since_first: Duration::ZERO,
        };
        std::iter::successors(Some(first), move |previous| {
            let delay = Duration::from_secs(self.nominal_delay_s(previous.attempt));
            let since_first = previous.since_first + delay;
            (since_first <= self.give_up_after()).then_some(Rung {
                attempt: previous.attempt + 1,
                delay,
                since_first,
            })
        })
    }
}

/// `delay_us` scaled by a factor in [0.8, 1.2) chosen by `random`: `0.8 + 0.4 * random / 2^32`.
fn jitter(delay_us: u64, random: u32) -> u64 {
    let scaled = u128::from(delay_us) * ((4u128 << 32) + 2 * u128::from(random)) / (5u128 << 32);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
