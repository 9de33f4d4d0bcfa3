//! Caps, reservations and settlement, in virtual time.

use proptest::prelude::*;
use tf_budgets::{
    CapSpec, ChargeJournal, ChargePolicies, ChargePolicy, FleetGrant, OverBudget, PastCharge,
    TenantBudget, Window, days_from_civil, restore_from,
};
use tf_wire::DatasetClass;

const HOUR: u64 = 3_600_000_000;
const DAY: u64 = 24 * HOUR;

fn cap(purpose: Option<&str>, class: DatasetClass, limit: u64, window: Window) -> CapSpec {
    CapSpec {
        purpose: purpose.map(str::to_owned),
        class,
        limit,
        window,
    }
}

/// 2026-11-24 10:00 UTC.
fn morning() -> u64 {
    days_from_civil(2026, 11, 24) * DAY + 10 * HOUR
}

#[test]
fn sandbox_requests_burn_only_the_sandbox_allowance_of_a_tenant_that_has_one() {
    let now = morning();
    let sandbox = tf_budgets::SANDBOX_PURPOSE;
    let mut partner = TenantBudget::new(
        vec![
            cap(Some(sandbox), DatasetClass::P1, 2, Window::Day),
            cap(None, DatasetClass::P1, 8, Window::Day),
        ],
        ChargePolicies::default(),
        now,
    );
    for _ in 0..2 {
        partner
            .reserve(sandbox, DatasetClass::P1, 1, now)
            .expect("within the allowance");
        partner.settle(sandbox, DatasetClass::P1, 1, true, now);
    }
    let over = partner
        .reserve(sandbox, DatasetClass::P1, 1, now)
        .expect_err("the allowance is spent");
    assert_eq!(over.cap.purpose.as_deref(), Some(sandbox));
    // The privacy budget (the class-wide cap) was not touched.
    let class_cap = partner
        .status(now)
        .into_iter()
        .find(|s| s.cap.purpose.is_none())
        .expect("the class cap");
    assert_eq!((class_cap.used, class_cap.remaining), (0, 8));
    // Without an allowance of its own, a tenant's sandbox requests are like any other's.
    let mut other = TenantBudget::new(
        vec![cap(None, DatasetClass::P1, 1, Window::Day)],
        ChargePolicies::default(),
        now,
    );
    other
        .reserve(sandbox, DatasetClass::P1, 1, now)
        .expect("within the class cap");
    other.settle(sandbox, DatasetClass::P1, 1, true, now);
    assert!(other.reserve(sandbox, DatasetClass::P1, 1, now).is_err());
}

#[test]
fn a_purpose_cap_and_a_class_cap_must_both_hold() {
    let now = morning();
    let mut budget = TenantBudget::new(
        vec![
            cap(Some("kyc"), DatasetClass::P1, 5, Window::Day),
            cap(None, DatasetClass::P1, 8, Window::Day),
        ],
        ChargePolicies::default(),
        now,
    );
    for _ in 0..5 {
        budget
            .reserve("kyc", DatasetClass::P1, 1, now)
            .expect("within both");
        budget.settle("kyc", DatasetClass::P1, 1, true, now);
    }
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect_err("the purpose cap is spent");
    assert_eq!(over.cap.purpose.as_deref(), Some("kyc"));
    assert_eq!((over.requested, over.remaining, over.short_by()), (1, 0, 1));
    // Another purpose still has the class cap's 3 left, then hits it.
    for _ in 0..3 {
        budget
            .reserve("aml", DatasetClass::P1, 1, now)
            .expect("class cap left");
        budget.settle("aml", DatasetClass::P1, 1, true, now);
    }
    let over = budget
        .reserve("aml", DatasetClass::P1, 1, now)
        .expect_err("the class cap is spent");
    assert_eq!(over.cap.purpose, None);
    // Other classes are not capped here.
    budget
        .reserve("kyc", DatasetClass::P2, 100, now)
        .expect("no P2 cap");
}

#[test]
fn new_caps_count_past_charges_and_requests_in_verification_and_held_caps_keep_theirs() {
    let now = morning();
    let kyc_day = cap(Some("kyc"), DatasetClass::P1, 10, Window::Day);
    let mut budget = TenantBudget::new(vec![kyc_day.clone()], ChargePolicies::default(), now);
    for _ in 0..3 {
        budget
            .reserve("kyc", DatasetClass::P1, 1, now)
            .expect("within the cap");
    }
    budget.settle("kyc", DatasetClass::P1, 1, true, now);
    budget.settle("kyc", DatasetClass::P1, 1, true, now);
    // One request is still being verified. The ledger holds 2 units from before the
    // journal started (one of them yesterday) and the journal 2 more for "aml".
    let mut journal = ChargeJournal::default();
    journal.record("aml", DatasetClass::P1, 2, now + 1);
    let mut history = vec![
        PastCharge {
            purpose: "kyc".into(),
            class: DatasetClass::P1,
            amount: 1,
            first_at: now - 10,
            last_at: now - 5,
        },
        PastCharge {
            purpose: "kyc".into(),
            class: DatasetClass::P1,
            amount: 1,
            first_at: now - DAY,
            last_at: now - DAY,
        },
    ];
    history.extend(journal.into_charges());
    let p1_day = cap(None, DatasetClass::P1, 6, Window::Day);
    assert_eq!(
        budget.history_needed(&[kyc_day.clone(), p1_day.clone()], now),
        Some(now - 10 * HOUR),
        "only the new cap needs history, from the start of its day"
    );
    assert_eq!(
        budget.history_needed(std::slice::from_ref(&kyc_day), now),
        None
    );
    let on_attempt = ChargePolicies {
        p1: ChargePolicy::OnAttempt,
        ..ChargePolicies::default()
    };
    budget.reconfigure(vec![kyc_day, p1_day], on_attempt, &history, now);
    let status = budget.status(now);
    assert_eq!((status[0].used, status[0].reserved), (2, 1), "kept");
    assert_eq!(
        (status[1].used, status[1].reserved, status[1].remaining),
        (3, 1, 2),
        "today's ledger charge, the journal's two, and the request in verification"
    );
    // The request in verification settles under the policy it was admitted with.
    let settled = budget.settle_under(
        "kyc",
        DatasetClass::P1,
        1,
        ChargePolicy::OnValid,
        false,
        now,
    );
    assert_eq!(settled.charged, 0);
    let status = budget.status(now);
    assert_eq!((status[1].used, status[1].reserved), (3, 0));
    // New requests are charged under the new policy.
    budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect("within both caps");
    assert_eq!(
        budget
            .settle("kyc", DatasetClass::P1, 1, false, now)
            .charged,
        1
    );
    budget.reconfigure(Vec::new(), ChargePolicies::default(), &[], now);
    assert!(!budget.is_capped());
}

#[test]
fn the_error_names_when_the_window_resets() {
    let now = morning();
    let mut budget = TenantBudget::new(
        vec![cap(Some("kyc"), DatasetClass::P0, 2, Window::Day)],
        ChargePolicies::default(),
        now,
    );
    budget
        .reserve("kyc", DatasetClass::P0, 2, now)
        .expect("fits");
    budget.settle("kyc", DatasetClass::P0, 2, true, now);
    let over = budget
        .reserve("kyc", DatasetClass::P0, 1, now)
        .expect_err("spent");
    assert_eq!(over.resets_at_us, Some(days_from_civil(2026, 11, 25) * DAY));
    // At midnight UTC the window starts afresh.
    let tomorrow = days_from_civil(2026, 11, 25) * DAY;
    budget
        .reserve("kyc", DatasetClass::P0, 2, tomorrow)
        .expect("new day");
}

#[test]
fn a_request_larger_than_the_cap_never_fits() {
    let now = morning();
    let mut budget = TenantBudget::new(
        vec![cap(None, DatasetClass::P2, 3, Window::Hour)],
        ChargePolicies::default(),
        now,
    );
    let over = budget
        .reserve("x", DatasetClass::P2, 4, now)
        .expect_err("too big");
    assert_eq!(over.resets_at_us, None);
    assert_eq!(over.short_by(), 1);
}

#[test]
fn reservations_count_until_settled_and_on_valid_releases_invalid_ones() {
    let now = morning();
    let mut budget = TenantBudget::new(
        vec![cap(None, DatasetClass::P1, 3, Window::Hour)],
        ChargePolicies::default(),
        now,
    );
    for _ in 0..3 {
        budget
            .reserve("kyc", DatasetClass::P1, 1, now)
            .expect("fits");
    }
    let over: OverBudget = budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect_err("three in flight hold the whole cap");
    assert_eq!((over.remaining, over.reserved), (0, 3));
    let settled = budget.settle("kyc", DatasetClass::P1, 1, false, now);
    assert_eq!(settled.charged, 0, "P1 is charged only when valid");
    assert_eq!(settled.remaining, Some(1));
    let settled = budget.settle("kyc", DatasetClass::P1, 1, true, now);
    assert_eq!((settled.charged, settled.remaining), (1, Some(1)));
    let status = budget.status(now);
    assert_eq!(
        (status[0].used, status[0].reserved, status[0].remaining),
        (1, 1, 1)
    );
}

#[test]
fn on_attempt_classes_are_charged_for_invalid_verdicts() {
    let now = morning();
    let mut budget = TenantBudget::new(
        vec![cap(None, DatasetClass::P0, 2, Window::Week)],
        ChargePolicies::default(),
        now,
    );
    assert_eq!(budget.policy(DatasetClass::P0), ChargePolicy::OnAttempt);
    budget
        .reserve("kyc", DatasetClass::P0, 1, now)
        .expect("fits");
    let settled = budget.settle("kyc", DatasetClass::P0, 1, false, now);
    assert_eq!((settled.charged, settled.remaining), (1, Some(1)));
}

#[test]
fn release_returns_the_reservation_without_charging() {
    let now = morning();
    let mut budget = TenantBudget::new(
        vec![cap(None, DatasetClass::P0, 1, Window::Month)],
        ChargePolicies::default(),
        now,
    );
    budget
        .reserve("kyc", DatasetClass::P0, 1, now)
        .expect("fits");
    budget.release("kyc", DatasetClass::P0, 1);
    budget
        .reserve("kyc", DatasetClass::P0, 1, now)
        .expect("released");
}

#[test]
fn a_rolling_window_frees_charges_as_they_age_out() {
    let now = morning();
    let window = Window::Rolling { secs: 600 };
    let mut budget = TenantBudget::new(
        vec![cap(None, DatasetClass::P2, 2, window)],
        ChargePolicies::default(),
        now,
    );
    budget
        .reserve("kyc", DatasetClass::P2, 1, now)
        .expect("fits");
    budget.settle("kyc", DatasetClass::P2, 1, true, now);
    let later = now + 300_000_000;
    budget
        .reserve("kyc", DatasetClass::P2, 1, later)
        .expect("fits");
    budget.settle("kyc", DatasetClass::P2, 1, true, later);
    let over = budget
        .reserve("kyc", DatasetClass::P2, 1, later)
        .expect_err("two charges in the last ten minutes");
    let frees = over.resets_at_us.expect("the first charge ages out");
    assert!(
        frees >= now + 600_000_000,
        "never before the window has passed"
    );
    assert!(
        frees <= now + 600_000_000 + 3_000_000,
        "within one bucket of it"
    );
    budget
        .reserve("kyc", DatasetClass::P2, 1, frees)
        .expect("aged out");
}

#[test]
fn restored_charges_count_only_inside_the_current_window() {
    let now = morning();
    let caps = vec![
        cap(None, DatasetClass::P1, 10, Window::Day),
        cap(None, DatasetClass::P1, 10, Window::Rolling { secs: 3600 }),
    ];
    assert_eq!(
        restore_from(&caps, now),
        Some(days_from_civil(2026, 11, 24) * DAY)
    );
    let mut budget = TenantBudget::new(caps, ChargePolicies::default(), now);
    // Yesterday's charges do not count; this morning's do in the day cap; only the last hour's
    // in the rolling cap.
    budget.restore(
        "kyc",
        DatasetClass::P1,
        4,
        now - DAY,
        now - DAY + 60_000_000,
        now,
    );
    budget.restore(
        "kyc",
        DatasetClass::P1,
        3,
        now - 2 * HOUR,
        now - 2 * HOUR + 60_000_000,
        now,
    );
    budget.restore("kyc", DatasetClass::P1, 2, now - 60_000_000, now - 1, now);
    let status = budget.status(now);
    assert_eq!(status[0].used, 5, "day: this morning's 3 and 2");
    assert_eq!(status[1].used, 2, "rolling hour: the last 2");
}

proptest! {
    /// However reservations, verdicts and time interleave, charges plus reservations never go
    /// past a cap within one window.
    #[test]
    fn no_sequence_of_requests_overspends(
        steps in prop::collection::vec((1u64..4, any::<bool>(), 0u64..600_000_000, any::<bool>()), 1..200)
    ) {
        let mut now = morning();
        let limit = 10;
        let mut budget = TenantBudget::new(
            vec![cap(None, DatasetClass::P1, limit, Window::Hour)],
            ChargePolicies::default(),
            now,
        );
        let mut in_flight: Vec<u64> = Vec::new();
        for (cost, valid, advance, settle_first) in steps {
            now += advance;
            if settle_first
                && let Some(c) = in_flight.pop() {
                    budget.settle("p", DatasetClass::P1, c, valid, now);
                }
            if budget.reserve("p", DatasetClass::P1, cost, now).is_ok() {
                in_flight.push(cost);
            }
            let status = &budget.status(now)[0];
            prop_assert_eq!(status.reserved, in_flight.iter().sum::<u64>());
            prop_assert!(status.used + status.reserved <= limit);
        }
    }
}

#[test]
fn a_refunded_charge_is_spendable_again_in_calendar_and_rolling_caps() {
    let now = morning();
    let mut budget = TenantBudget::new(
        vec![
            cap(Some("kyc"), DatasetClass::P1, 2, Window::Day),
            cap(None, DatasetClass::P1, 2, Window::Rolling { secs: 86_400 }),
        ],
        ChargePolicies::default(),
        now,
    );
    for _ in 0..2 {
        budget
            .reserve("kyc", DatasetClass::P1, 1, now)
            .expect("within both caps");
        budget.settle("kyc", DatasetClass::P1, 1, true, now);
    }
    budget
        .reserve("kyc", DatasetClass::P1, 1, now + 1)
        .expect_err("both caps are spent");
    // The ledger could not store one of the two: it is given back to both caps.
    budget.refund("kyc", DatasetClass::P1, 1, now);
    budget
        .reserve("kyc", DatasetClass::P1, 1, now + 1)
        .expect("one unit free again in both caps");
    budget.settle("kyc", DatasetClass::P1, 1, true, now + 1);
    // A refund of a charge from another day's period leaves today's count alone.
    budget.refund("kyc", DatasetClass::P1, 1, now - DAY);
    budget
        .reserve("kyc", DatasetClass::P1, 1, now + 2)
        .expect_err("still spent: the refund was for another period");
}

#[test]
fn in_fleet_mode_a_cap_is_spent_only_from_this_appliances_grant_for_its_window() {
    let now = morning();
    let today = days_from_civil(2026, 11, 24) * DAY;
    let day_cap = cap(None, DatasetClass::P1, 100, Window::Day);
    let mut budget = TenantBudget::new(vec![day_cap.clone()], ChargePolicies::default(), now);
    budget.lease_caps();
    // Nothing granted yet: nothing may be spent, and the refusal says the grant ran out, not
    // the cap.
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect_err("no grant yet");
    assert!(over.by_grant, "{over:?}");
    assert!(budget.grant(
        &day_cap,
        FleetGrant {
            window_start_us: today,
            units: 10,
            fleet_spent: 0,
        }
    ));
    budget
        .reserve("kyc", DatasetClass::P1, 10, now)
        .expect("within the grant");
    budget.settle("kyc", DatasetClass::P1, 10, true, now);
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect_err("the grant is spent");
    assert!(over.by_grant && over.remaining == 0, "{over:?}");
    // More granted: spendable; a grant above the cap is the cap.
    budget.grant(
        &day_cap,
        FleetGrant {
            window_start_us: today,
            units: 1_000,
            fleet_spent: 0,
        },
    );
    budget
        .reserve("kyc", DatasetClass::P1, 90, now)
        .expect("up to the cap");
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect_err("the cap itself");
    assert!(!over.by_grant, "{over:?}");
    // Tomorrow the grant is yesterday's: nothing until the new window is granted.
    let tomorrow = now + DAY;
    budget.settle("kyc", DatasetClass::P1, 90, true, now);
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, tomorrow)
        .expect_err("not granted for this window");
    assert!(over.by_grant, "{over:?}");
    // A cap a promotion adds starts with nothing granted; a kept cap keeps its grant.
    let week_cap = cap(Some("kyc"), DatasetClass::P1, 50, Window::Week);
    budget.reconfigure(
        vec![day_cap.clone(), week_cap.clone()],
        ChargePolicies::default(),
        &[],
        tomorrow,
    );
    budget.grant(
        &day_cap,
        FleetGrant {
            window_start_us: today + DAY,
            units: 5,
            fleet_spent: 0,
        },
    );
    assert!(
        budget
            .reserve("kyc", DatasetClass::P1, 1, tomorrow)
            .is_err()
    );
    assert!(
        !budget.grant(
            &cap(None, DatasetClass::P2, 1, Window::Day),
            FleetGrant {
                window_start_us: today,
                units: 1,
                fleet_spent: 0,
            }
        ),
        "no such cap"
    );
    // Outside fleet mode nothing changes: the whole cap is this appliance's.
    let mut alone = TenantBudget::new(vec![day_cap], ChargePolicies::default(), now);
    alone
        .reserve("kyc", DatasetClass::P1, 100, now)
        .expect("the whole cap");
}

#[test]
fn in_fleet_mode_a_refusal_names_the_cap_once_the_fleet_has_spent_it() {
    let now = morning();
    let today = days_from_civil(2026, 11, 24) * DAY;
    let day_cap = cap(None, DatasetClass::P1, 100, Window::Day);
    let mut budget = TenantBudget::new(vec![day_cap.clone()], ChargePolicies::default(), now);
    budget.lease_caps();
    let granted = |fleet_spent| FleetGrant {
        window_start_us: today,
        units: 4,
        fleet_spent,
    };
    budget.grant(&day_cap, granted(60));
    budget
        .reserve("kyc", DatasetClass::P1, 4, now)
        .expect("within the grant");
    // This appliance's share is spent; other appliances have spent 60 of the cap: room left.
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect_err("the share is spent");
    assert!(over.by_grant, "{over:?}");
    // The fleet has spent all of it: the cap itself is what ran out.
    budget.grant(&day_cap, granted(100));
    let over = budget
        .reserve("kyc", DatasetClass::P1, 1, now)
        .expect_err("the cap is spent");
    assert!(!over.by_grant, "{over:?}");
}
