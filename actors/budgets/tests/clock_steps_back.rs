//! A wall clock that steps back (an NTP correction, an operator's `date`) never reopens a
//! calendar window that was already spent.

use proptest::prelude::*;
use tf_budgets::{CapSpec, ChargePolicies, TenantBudget, Window, days_from_civil};
use tf_wire::DatasetClass;

const SEC: u64 = 1_000_000;
const HOUR: u64 = 3_600 * SEC;
const DAY: u64 = 24 * HOUR;

fn hourly(limit: u64) -> CapSpec {
    CapSpec {
        purpose: None,
        class: DatasetClass::P1,
        limit,
        window: Window::Hour,
    }
}

/// 2026-11-24 11:00 UTC, the edge between the 10:00 and 11:00 windows.
fn edge() -> u64 {
    days_from_civil(2026, 11, 24) * DAY + 11 * HOUR
}

fn spend(budget: &mut TenantBudget, cost: u64, now: u64) {
    budget
        .reserve("kyc", DatasetClass::P1, cost, now)
        .expect("within the cap");
    budget.settle("kyc", DatasetClass::P1, cost, true, now);
}

#[test]
fn stepping_the_clock_back_across_a_window_edge_does_not_reset_the_cap() {
    let mut budget = TenantBudget::new(vec![hourly(3)], ChargePolicies::default(), edge());
    spend(&mut budget, 3, edge() + 10 * SEC);

    // The clock steps back 20 s, into the previous hour.
    let stepped = edge() - 10 * SEC;
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, stepped)
        .expect_err("the 11:00 window is spent, whatever the clock says");
    assert_eq!(over.used, 3);
    assert_eq!(
        over.resets_at_us,
        Some(edge() + HOUR),
        "the window that resets is the latest one seen"
    );
    let status = &budget.status(stepped)[0];
    assert_eq!((status.used, status.remaining), (3, 0));

    // Back past the edge, still the same window; at its end the count starts afresh.
    assert!(
        budget
            .reserve("kyc", DatasetClass::P1, 1, edge() + 20 * SEC)
            .is_err()
    );
    assert!(
        budget
            .reserve("kyc", DatasetClass::P1, 1, edge() + HOUR)
            .is_ok()
    );
}

#[test]
fn charges_made_while_the_clock_is_behind_count_in_the_latest_window() {
    let mut budget = TenantBudget::new(vec![hourly(3)], ChargePolicies::default(), edge());
    spend(&mut budget, 1, edge() + 10 * SEC);
    spend(&mut budget, 2, edge() - 10 * SEC);
    assert!(
        budget
            .reserve("kyc", DatasetClass::P1, 1, edge() + 30 * SEC)
            .is_err(),
        "the charge made at 10:59:50 counts in the 11:00 window it was made in"
    );
}

#[test]
fn restoring_charges_later_than_a_stepped_back_clock_keeps_their_window() {
    // A restart while the clock is behind: the ledger holds charges stamped after `now`.
    let now = edge() - 10 * SEC;
    let mut budget = TenantBudget::new(vec![hourly(3)], ChargePolicies::default(), now);
    budget.restore(
        "kyc",
        DatasetClass::P1,
        2,
        edge() - 50 * SEC,
        edge() - 40 * SEC,
        now,
    );
    budget.restore(
        "kyc",
        DatasetClass::P1,
        3,
        edge() + 5 * SEC,
        edge() + 9 * SEC,
        now,
    );
    let status = &budget.status(now)[0];
    assert_eq!(status.used, 3, "only the 11:00 window's charges count");
    assert_eq!(status.resets_at_us, Some(edge() + HOUR));
    assert!(budget.reserve("kyc", DatasetClass::P1, 1, now).is_err());
}

proptest! {
    /// However the clock jumps back and forth, what is charged while a window is the latest
    /// one seen never exceeds the cap.
    #[test]
    fn no_clock_jumps_overspend_the_latest_window(
        steps in prop::collection::vec((1u64..4, -5_400i64..5_400, any::<bool>()), 1..200)
    ) {
        let limit = 5;
        let mut now = edge();
        let mut budget = TenantBudget::new(vec![hourly(limit)], ChargePolicies::default(), now);
        let mut latest_window = now / HOUR;
        let mut spent_in_latest = 0;
        for (cost, jump_s, valid) in steps {
            now = now.saturating_add_signed(jump_s * SEC as i64);
            if now / HOUR > latest_window {
                latest_window = now / HOUR;
                spent_in_latest = 0;
            }
            if budget.reserve("kyc", DatasetClass::P1, cost, now).is_ok() {
                spent_in_latest += budget
                    .settle("kyc", DatasetClass::P1, cost, valid, now)
                    .charged;
            }
            prop_assert!(spent_in_latest <= limit, "{spent_in_latest} > {limit}");
        }
    }
}
