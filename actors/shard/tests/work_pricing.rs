//! Requests are priced by the work they carry: admission reserves the budget cost of the
//! statement (a base by kind plus its keys, pairings and inputs), and scheduling charges the
//! fair-share scheduler in proportion to verification work.

mod common;

use common::{T0, capped, p2_job, settings};
use tf_budgets::shapes::{aggregate, fast, single};
use tf_shard::{Job, Micros, Refusal, Shard, TenantSlot};
use tf_wire::Statement;

fn shard(limit: u64) -> Shard<u64> {
    Shard::new(settings(), &[capped(limit)], Micros(0), T0)
}

fn job(request_id: u64, statement: Statement) -> Job<u64> {
    p2_job(0, request_id, statement)
}

#[test]
fn admission_reserves_what_the_statement_costs_not_one_per_request() {
    let mut shard = shard(100);
    shard
        .admit(job(1, single()), Micros(0), T0)
        .expect("1 of 100");
    shard
        .admit(job(2, fast(1024)), Micros(0), T0)
        .expect("65 more");
    let status = shard.budget_status(TenantSlot(0), T0);
    assert_eq!((status[0].reserved, status[0].remaining), (1 + 65, 34));
    let refused = shard
        .admit(job(3, aggregate(1024, 1024)), Micros(0), T0)
        .map_err(|(refusal, _)| refusal);
    let Err(Refusal::OverBudget(over)) = refused else {
        panic!("expected over budget, got {refused:?}");
    };
    assert_eq!((over.requested, over.remaining), (1 + 64 + 341, 34));
    let batch = shard.next_batch(Micros(0)).expect("due");
    let reserved: Vec<u64> = batch.items.iter().map(|j| j.reservation.cost).collect();
    assert_eq!(
        reserved,
        vec![1, 65],
        "the receipt charges what was reserved"
    );
}

#[test]
fn scheduling_cost_follows_verification_work() {
    assert_eq!(job(1, single()).cost(), 1);
    assert_eq!(job(1, fast(16)).cost(), 2);
    assert_eq!(job(1, fast(1024)).cost(), 63);
    assert_eq!(job(1, aggregate(1024, 1024)).cost(), 415);
}
