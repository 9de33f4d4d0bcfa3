//! Fleet mode: a request refused for want of this appliance's share of a cap is demand its
//! next lease should cover, counted where the shard reports the cap; one the tenant's rate
//! would have refused anyway is not.

mod common;

use common::{T0, capped, p2_job, settings, tenant};
use tf_budgets::FleetGrant;
use tf_budgets::shapes::single;
use tf_shard::{Job, Micros, Refusal, Shard, TenantSlot, TenantSpec};

fn job(request_id: u64) -> Job<u64> {
    p2_job(0, request_id, single())
}

/// One tenant with a day cap of 1,000, leased, granted `units` of today's window, admitting
/// `burst` requests at once.
fn leased_shard(units: u64, burst: u64) -> Shard<u64> {
    let caps = capped(1_000).caps;
    let cap = caps[0].clone();
    let spec = TenantSpec {
        caps,
        ..tenant("a", 1, 1, burst)
    };
    let mut shard = Shard::new(settings(), &[spec], Micros(0), T0);
    shard.lease_caps();
    let today = cap.window.span(T0).expect("a calendar window").start;
    shard.grant(
        TenantSlot(0),
        &cap,
        FleetGrant {
            window_start_us: today,
            units,
            fleet_spent: 0,
        },
    );
    shard
}

fn refused_by_grant(shard: &mut Shard<u64>) -> u64 {
    shard.budget_status(TenantSlot(0), T0)[0].refused_by_grant
}

#[test]
fn a_refusal_for_want_of_a_lease_counts_as_demand_unless_the_rate_refuses_it_too() {
    // Room in the rate for 10 at once, a grant of 2: the 8 others are demand.
    let mut shard = leased_shard(2, 10);
    let mut refused = 0;
    for n in 0..10 {
        match shard.admit(job(n), Micros(0), T0) {
            Ok(_) => {}
            Err((Refusal::OverBudget(over), _)) => {
                assert!(over.by_grant, "{over:?}");
                refused += 1;
            }
            Err((other, _)) => panic!("unexpected refusal: {other:?}"),
        }
    }
    assert_eq!(refused, 8);
    assert_eq!(refused_by_grant(&mut shard), 8 * single_cost());

    // Room in the rate for 2 only: once the rate is spent, what the grant refuses is not
    // counted, as the rate would have refused it.
    let mut shard = leased_shard(2, 2);
    for n in 0..2 {
        shard
            .admit(job(n), Micros(0), T0)
            .expect("within grant and rate");
    }
    for n in 2..6 {
        let refused = shard.admit(job(n), Micros(0), T0);
        assert!(matches!(refused, Err((Refusal::OverBudget(_), _))));
    }
    assert_eq!(refused_by_grant(&mut shard), 0);
}

/// What one single BLS signature costs in budget units.
fn single_cost() -> u64 {
    let mut shard = Shard::new(settings(), &[capped(1_000)], Micros(0), T0);
    shard.admit(job(0), Micros(0), T0).expect("admitted");
    shard.budget_status(TenantSlot(0), T0)[0].reserved
}
