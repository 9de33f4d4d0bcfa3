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
//! stood open long enough that, at that rate, several requests should have joined them
//! ([`MIN_EXPECTED_JOINS`]); then, if clearly fewer did ([`LITTLE_COMPANY`]), the rate they
//! joined at decides. The evidence fades over seconds, so a key that stopped waiting tries
//! again now and then (a request held within its budget every second or few) and notices when
//! company starts coming.

use tf_fairness::Micros;

use crate::lane::Lane;
use crate::rate::ArrivalRate;

/// Time constant of what is learned: a few seconds, much longer than one wait, so that a wait
/// that found no company stops waiting for a second or more.
const EVIDENCE_TAU_US: f64 = 2_000_000.0;
/// Requests that should have joined (decayed), at the arrival rate, before a shortfall counts:
/// with fewer, requests that do come could miss it by chance (with 6 expected, fewer than 3
/// join about 6 % of the time), and a key that stops waiting on a chance shortfall batches
/// less until the evidence fades.
pub const MIN_EXPECTED_JOINS: f64 = 6.0;
/// Below this share of what the arrival rate promised, the company found is what is expected.
/// Near it, the arrival rate stands: evenly spaced arrivals join a batch that waits from one
/// arrival to a deadline a little less often than they arrive (by half a gap per wait), and
/// both measures are noisy, so taking the lower one would shorten waits for requests that do
/// come.
pub const LITTLE_COMPANY: f64 = 0.5;

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

    /// Requests per microsecond that joined open batches in `lane`, as of `now`, when that is
    /// clearly short of `arriving` (requests per microsecond) over enough open time to tell;
    /// `None` otherwise.
    pub fn shortfall(&self, lane: Lane, now: Micros, arriving: f64) -> Option<f64> {
        let open_us = self.open_us[lane.index()].decayed_total(now);
        let expected = arriving * open_us;
        if expected < MIN_EXPECTED_JOINS {
            return None;
        }
        let joined = self.joined[lane.index()].decayed_total(now);
        (joined < LITTLE_COMPANY * expected).then(|| joined / open_us)
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

    /// Requests per microsecond, from requests per millisecond.
    fn per_ms(rate: f64) -> f64 {
        rate / 1_000.0
    }

    #[test]
    fn a_shortfall_is_counted_per_microsecond_open() {
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
        let now = Micros(t);
        // Arriving at 1 per 4 ms: about what joined, so the arrival rate stands.
        assert_eq!(company.shortfall(Lane::Share, now, per_ms(0.25)), None);
        // Arriving at 1 per ms, four times what joined.
        let joining = company
            .shortfall(Lane::Share, now, per_ms(1.0))
            .expect("short");
        assert!((joining * 1_000.0 - 0.2).abs() < 0.01, "{joining}");
        // Nothing is known of the other lane.
        assert_eq!(company.shortfall(Lane::Surplus, now, per_ms(1.0)), None);
    }

    #[test]
    fn a_wait_that_found_no_one_is_remembered_for_a_while_then_tried_again() {
        // Arriving one per 2.3 ms, a 28 ms wait should have gathered 12.
        let arriving = per_ms(1.0 / 2.3);
        let mut company = Company::new();
        assert_eq!(company.shortfall(Lane::Share, Micros(0), arriving), None);
        company.closed(Lane::Share, Micros(1_000_000), Micros(1_028_000));
        assert_eq!(
            company.shortfall(Lane::Share, Micros(1_028_000), arriving),
            Some(0.0)
        );
        assert_eq!(
            company.shortfall(Lane::Share, Micros(2_000_000), arriving),
            Some(0.0)
        );
        assert_eq!(
            company.shortfall(Lane::Share, Micros(4_000_000), arriving),
            None
        );
    }

    #[test]
    fn a_short_wait_tells_too_little() {
        // 5 ms at one per 2.3 ms: about 2 should have joined, too few to call a shortfall.
        let mut company = Company::new();
        company.closed(Lane::Share, Micros(0), Micros(5_000));
        assert_eq!(
            company.shortfall(Lane::Share, Micros(5_000), per_ms(1.0 / 2.3)),
            None
        );
    }
}
