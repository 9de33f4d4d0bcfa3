//! When an open batch closes: the latency-budgeted rule.
//!
//! A batch may wait for one more request while two things hold:
//! - waiting still pays: one more item lowers the cost per item by at least [`MIN_GAIN`] of it
//!   (with a learned `fixed + per_item * n`, the saving is `fixed / (n (n + 1))`, which shrinks
//!   as the batch grows, so a batch stops growing where batching stops paying);
//! - the budget allows it: if the next request arrives when it is expected (the mean gap at
//!   its key's arrival rate, or at the rate requests joined waiting batches when that is
//!   clearly lower: see the former's `Company`), the batch with it, verified after the work
//!   ahead of it, still finishes within the planned share of its oldest request's budget.
//!
//! Otherwise it closes at once. So an idle appliance never waits (no arrival is expected soon
//! enough), and as load rises batches grow smoothly, up to where the budget or the gain stops
//! them; under backlog they fill at once.

use tf_fairness::Micros;

use crate::cost::Line;

/// The least saving per item, as a share of the cost per item, that one more item must bring
/// for a batch to wait for it.
pub const MIN_GAIN: f64 = 0.002;
/// The share of a request's latency budget the batcher plans verification to finish within;
/// the rest is for the receipt, the ledger's commit, the answer's way back and estimates that
/// fell short.
pub const PLANNED_SHARE: f64 = 0.65;

/// The most verification one batch may hold, as a share of a request's latency budget. Under
/// backlog batches fill at once, and a batch of the largest size takes tens of milliseconds:
/// everything behind it, a quiet tenant's request included, waits that long. Past a few dozen
/// items a bigger batch saves little (the fixed part is already spread thin), so batches stop
/// where their verification would take this share.
pub const LONGEST_BATCH_SHARE: f64 = 0.35;

/// The largest batch of a key: `max_size`, or fewer where verifying that many would take more
/// than [`LONGEST_BATCH_SHARE`] of the budget (never fewer than 2, so batching still pays on a
/// slow host). A zero budget (never wait) caps nothing.
pub fn size_limit(cost: &Line, max_size: usize, budget: Micros) -> usize {
    if budget.0 == 0 {
        return max_size;
    }
    let room_us = budget.0 as f64 * LONGEST_BATCH_SHARE - cost.fixed_us;
    let fits = (room_us / cost.per_item_us).floor();
    if !fits.is_finite() {
        return max_size;
    }
    // (A negative count saturates to 0, then the floor of 2 applies.)
    (fits as usize).max(2).min(max_size)
}

/// Whether a batch opened at `opened` has stood open too long to keep filling under backlog:
/// for the longest time a batch may take to verify ([`LONGEST_BATCH_SHARE`] of the budget).
/// Past that, the requests in it have waited a whole batch for company that comes too slowly,
/// and closing it costs the backlog only a smaller batch of a rare key. A zero budget (never
/// wait) bounds nothing here either: batches close as they fill.
pub fn standing_too_long(opened: Micros, now: Micros, budget: Micros) -> bool {
    if budget.0 == 0 {
        return false;
    }
    let longest_us = budget.0 as f64 * LONGEST_BATCH_SHARE;
    now.0.saturating_sub(opened.0) as f64 >= longest_us
}

/// What an open batch should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Close it and verify it now.
    Close,
    /// Keep it open; unless another request joins first, close it at this time.
    WaitUntil(Micros),
}

/// Everything the rule looks at for one open batch.
#[derive(Clone, Copy, Debug)]
pub struct Situation {
    /// Items in the batch.
    pub items: usize,
    /// The largest batch allowed for its key (see [`size_limit`]).
    pub max_size: usize,
    /// When its oldest request arrived.
    pub oldest: Micros,
    /// Now.
    pub now: Micros,
    /// Predicted verification time of the work that will run before this batch, microseconds.
    pub ahead_us: f64,
    /// The batch key's learned cost.
    pub cost: Line,
    /// The expected wait for the key's next request, microseconds.
    pub gap_us: f64,
    /// The latency budget of a request.
    pub budget: Micros,
}

impl Situation {
    /// When the batch's verification must be done by: the planned share of the oldest
    /// request's budget.
    pub fn due(&self) -> f64 {
        self.oldest.0 as f64 + self.budget.0 as f64 * PLANNED_SHARE
    }

    /// When the batch would finish if closed now.
    pub fn finish_if_closed_now(&self) -> f64 {
        self.now.0 as f64 + self.ahead_us + self.cost.batch_us(self.items)
    }
}

/// Decides for one open batch.
pub fn plan(s: &Situation) -> Plan {
    let n = s.items;
    if n == 0 || n >= s.max_size || !s.gap_us.is_finite() {
        return Plan::Close;
    }
    let per_item = s.cost.per_item_at(n);
    let saving = per_item - s.cost.per_item_at(n + 1);
    if saving < MIN_GAIN * per_item {
        return Plan::Close;
    }
    // The latest moment one more item may join and the batch still finish in time.
    let latest_join = s.due() - s.ahead_us - s.cost.batch_us(n + 1);
    // Waiting is worth it while the next item is expected before then.
    let stop_waiting = latest_join - s.gap_us;
    let now = s.now.0 as f64;
    if stop_waiting <= now {
        return Plan::Close;
    }
    Plan::WaitUntil(Micros(stop_waiting as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLS: Line = Line {
        fixed_us: 700.0,
        per_item_us: 600.0,
    };

    fn situation(items: usize, gap_us: f64) -> Situation {
        Situation {
            items,
            max_size: 64,
            oldest: Micros(1_000_000),
            now: Micros(1_000_000),
            ahead_us: 0.0,
            cost: BLS,
            gap_us,
            budget: Micros(50_000),
        }
    }

    #[test]
    fn an_idle_key_closes_at_once() {
        assert_eq!(plan(&situation(1, f64::INFINITY)), Plan::Close);
        // One request every 100 ms: the next comes after the budget.
        assert_eq!(plan(&situation(1, 100_000.0)), Plan::Close);
    }

    #[test]
    fn a_busy_key_waits_for_company_but_not_past_the_budget() {
        let s = situation(1, 2_000.0);
        let Plan::WaitUntil(until) = plan(&s) else {
            panic!("a request every 2 ms is worth waiting for");
        };
        // Waiting until then, one more arriving a gap later still finishes in time.
        let finish = until.0 as f64 + s.gap_us + BLS.batch_us(2);
        assert!(finish <= s.due() + 1.0, "{finish} > {}", s.due());
        assert!(until.0 > s.now.0);
    }

    #[test]
    fn a_full_batch_closes() {
        let mut s = situation(4, 10.0);
        s.max_size = 4;
        assert_eq!(plan(&s), Plan::Close);
        s.items = 3;
        assert!(matches!(plan(&s), Plan::WaitUntil(_)));
    }

    #[test]
    fn waiting_stops_where_batching_stops_paying() {
        // With no fixed cost, batching saves nothing: never wait.
        let mut s = situation(1, 10.0);
        s.cost = Line {
            fixed_us: 0.0,
            per_item_us: 600.0,
        };
        assert_eq!(plan(&s), Plan::Close);
        // With BLS's costs, the saving from one more falls under MIN_GAIN past some size.
        let sizes: Vec<bool> = (1..64)
            .map(|n| {
                let mut s = situation(n, 1.0);
                s.budget = Micros(10_000_000);
                matches!(plan(&s), Plan::WaitUntil(_))
            })
            .collect();
        let first_close = sizes
            .iter()
            .position(|wait| !wait)
            .expect("stops somewhere");
        assert!(first_close > 4, "stopped at {first_close}");
        assert!(sizes[first_close..].iter().all(|wait| !wait));
    }

    #[test]
    fn a_batch_holds_at_most_a_share_of_the_budget() {
        // 0.35 x 50 ms = 17.5 ms: (17,500 - 700) / 600 = 28 BLS signatures.
        assert_eq!(size_limit(&BLS, 64, Micros(50_000)), 28);
        assert!(BLS.batch_us(28) <= 50_000.0 * LONGEST_BATCH_SHARE);
        assert!(BLS.batch_us(29) > 50_000.0 * LONGEST_BATCH_SHARE);
        // A larger budget lets batches reach the configured largest, never past it.
        assert_eq!(size_limit(&BLS, 64, Micros(1_000_000)), 64);
        // A slow host still batches.
        let slow = Line {
            fixed_us: 20_000.0,
            per_item_us: 5_000.0,
        };
        assert_eq!(size_limit(&slow, 64, Micros(50_000)), 2);
        assert_eq!(size_limit(&slow, 1, Micros(50_000)), 1);
        // No budget: no cap.
        assert_eq!(size_limit(&BLS, 64, Micros(0)), 64);
    }

    #[test]
    fn work_ahead_and_time_waited_shorten_the_wait() {
        let fresh = situation(2, 2_000.0);
        let Plan::WaitUntil(alone) = plan(&fresh) else {
            panic!("worth waiting");
        };
        let mut behind = fresh;
        behind.ahead_us = 10_000.0;
        let Plan::WaitUntil(later) = plan(&behind) else {
            panic!("still worth waiting");
        };
        assert_eq!(alone.0 - later.0, 10_000);
        let mut old = fresh;
        old.now = Micros(old.oldest.0 + 35_000);
        assert_eq!(plan(&old), Plan::Close);
    }
}
