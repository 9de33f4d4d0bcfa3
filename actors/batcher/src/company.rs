//! The company a waiting batch finds: how often requests of its key and lane joined batches
//! that stood open, per microsecond they stood open.
//!
//! The arrival rate alone overstates it for a partner that sends one request at a time: its
//! next request comes only after the answer to the last, so it never joins a batch its own
//! request waits in, and a batch waiting for it waits for nothing (a sequential partner on an
//! idle appliance was held 15 ms a request this way). Requests that come whatever the answers
//! do join waiting batches at their arrival rate; a partner waiting on its answers, never.
//!
//! Only waiting shows which it is, so the arrival rate decides until batches of the key have
//! stood open long enough to tell ([`MIN_EVIDENCE_US`]); then what they found decides. The
//! evidence fades over seconds, so a key that stopped waiting tries again now and then (one
//! request held within its budget every few seconds) and notices when company starts coming.

use tf_fairness::Micros;

use crate::lane::Lane;
use crate::rate::ArrivalRate;

/// Time constant of what is learned: a few seconds, much longer than one wait, so that one
/// wait that found no company stops waiting for seconds.
const EVIDENCE_TAU_US: f64 = 2_000_000.0;
/// Open time (decayed) needed before the company found is trusted over the arrival rate:
/// about a third of the longest wait the default budget allows.
pub const MIN_EVIDENCE_US: f64 = 10_000.0;

/// What is known of one key's company, per lane.
#[derive(Clone, Copy, Debug)]
pub struct Company {
    /// Requests that joined an open batch, decayed.
    joined: [ArrivalRate; Lane::ALL.len()],
    /// Microseconds batches stood open, decayed the same way.
    open_us: [ArrivalRate; Lane::ALL.len()],
}

impl Company {
    pub fn new() -> Self {
        let fresh = ArrivalRate::remembering(EVIDENCE_TAU_US);
        Company {
            joined: [fresh; Lane::ALL.len()],
            open_us: [fresh; Lane::ALL.len()],
        }
    }

    /// A request joined an open batch in `lane` at `now`.
    pub fn joined(&mut self, lane: Lane, now: Micros) {
        self.joined[lane.index()].arrival(now);
    }

    /// A batch in `lane` that opened at `opened` closed at `now`.
    pub fn closed(&mut self, lane: Lane, opened: Micros, now: Micros) {
        let stood_us = now.0.saturating_sub(opened.0) as f64;
        self.open_us[lane.index()].add(now, stood_us);
    }

    /// Requests per microsecond that joined open batches in `lane`, as of `now`; `None` until
    /// batches have stood open long enough to tell.
    pub fn rate_at(&self, lane: Lane, now: Micros) -> Option<f64> {
        let open = &self.open_us[lane.index()];
        if open.decayed_total(now) < MIN_EVIDENCE_US {
            return None;
        }
        Some(self.joined[lane.index()].rate_at(now) / open.rate_at(now))
    }
}

impl Default for Company {
    fn default() -> Self {
        Company::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_is_counted_per_microsecond_open() {
        // Batches that stand open 20 ms and gather 4 requests besides their first: 1 per 5 ms.
        let mut company = Company::new();
        let mut t = 0;
        for _ in 0..200 {
            for joins in 1..=4 {
                company.joined(Lane::Share, Micros(t + joins * 5_000));
            }
            company.closed(Lane::Share, Micros(t), Micros(t + 20_000));
            t += 25_000;
        }
        let per_ms = company.rate_at(Lane::Share, Micros(t)).expect("known") * 1_000.0;
        assert!((per_ms - 0.2).abs() < 0.01, "{per_ms} per ms open");
        assert_eq!(company.rate_at(Lane::Surplus, Micros(t)), None);
    }

    #[test]
    fn a_wait_that_found_no_one_is_remembered_for_seconds_then_tried_again() {
        let mut company = Company::new();
        assert_eq!(company.rate_at(Lane::Share, Micros(0)), None);
        company.closed(Lane::Share, Micros(1_000_000), Micros(1_028_000));
        assert_eq!(company.rate_at(Lane::Share, Micros(1_028_000)), Some(0.0));
        assert_eq!(company.rate_at(Lane::Share, Micros(2_500_000)), Some(0.0));
        assert_eq!(company.rate_at(Lane::Share, Micros(4_000_000)), None);
    }

    #[test]
    fn batches_that_close_at_once_tell_nothing() {
        let mut company = Company::new();
        for i in 0..1_000u64 {
            company.closed(Lane::Share, Micros(i * 1_000), Micros(i * 1_000));
        }
        assert_eq!(company.rate_at(Lane::Share, Micros(1_000_000)), None);
    }
}
