//! The shard's admission, fairness and batching, in virtual time.

mod common;

use common::{T0, capped, p2_job, settings, tenant};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_budgets::Window;
use tf_engine::Verdict;
use tf_engine::bls;
use tf_shard::{BatchKey, Job, Lane, Micros, Refusal, Shard, TenantSlot, TenantSpec};
use tf_wire::{DatasetClass, Statement, Submit};

fn bls_job(tenant: u32, request_id: u64, valid: bool) -> Job<u64> {
    let message = request_id.to_le_bytes().to_vec();
    let (signature, public_key) = bls::sign(&[7u8; 32], &message).expect("signs");
    // An invalid item carries a message other than the one signed.
    let mut message_sent = message;
    if !valid {
        message_sent.push(0);
    }
    p2_job(
        tenant,
        request_id,
        Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message: message_sent,
            signature: signature.to_bytes(),
        },
    )
}

#[test]
fn an_idle_shard_verifies_at_once_and_a_bad_item_fails_alone() {
    let mut shard: Shard<u64> = Shard::new(settings(), &[tenant("a", 1, 1000, 100)], Micros(0), T0);
    for (id, valid) in [(1, true), (2, false), (3, true)] {
        shard
            .admit(bls_job(0, id, valid), Micros(0), T0)
            .expect("admitted");
    }
    let batch = shard.next_batch(Micros(0)).expect("idle: no waiting");
    assert_eq!(batch.key, BatchKey::Bls);
    assert_eq!(batch.items.len(), 3);
    let verdicts = shard.verify(&batch, &mut ChaCha20Rng::seed_from_u64(1));
    assert_eq!(verdicts[0], Verdict::Valid);
    assert!(matches!(verdicts[1], Verdict::Invalid(_)));
    assert_eq!(verdicts[2], Verdict::Valid);
    let counters = shard.counters(TenantSlot(0));
    assert_eq!((counters.valid, counters.invalid), (2, 1));
}

#[test]
fn a_busy_key_waits_for_company_within_the_budget_and_an_idle_one_never_does() {
    let tenants = [tenant("a", 1, 1_000_000, 1_000_000)];
    let mut shard: Shard<u64> = Shard::new(settings(), &tenants, Micros(0), T0);
    // A request every millisecond for half a second; each batch "takes" 0.7 ms + 0.6 ms an item.
    let mut now = Micros(0);
    for id in 0..502 {
        now = Micros(id * 1_000);
        shard
            .admit(bls_job(0, id, true), now, T0)
            .expect("admitted");
        while let Some(batch) = shard.next_batch(now) {
            let took = 700 + 600 * batch.items.len() as u64;
            shard.record_service(&batch, Micros(took), now);
            shard.recycle(batch.items);
        }
    }
    // Batches of four (the settings' largest) fill by size; the requests after the last full
    // one wait for company, but never past the planned share of the 50 ms budget.
    let waiting = shard.pending();
    assert!((1..4).contains(&waiting), "{waiting} waiting");
    let deadline = shard.next_deadline().expect("a batch waits");
    let oldest = now.0 - (waiting as u64 - 1) * 1_000;
    // Closing then, one more request joining would still finish within the plan.
    let with_one_more = 700 + 600 * (waiting as u64 + 1);
    assert!(deadline > now, "{deadline:?}");
    assert!(
        deadline.0 + with_one_more <= oldest + 37_500,
        "{deadline:?}"
    );
    assert!(shard.next_batch(Micros(now.0 + 1_000)).is_none());
    assert_eq!(
        shard.next_batch(deadline).expect("due").items.len(),
        waiting
    );
    // A second of quiet: the next request is verified at once.
    let later = Micros(now.0 + 1_000_000);
    shard
        .admit(bls_job(0, 9_999, true), later, T0)
        .expect("admitted");
    assert_eq!(shard.next_batch(later).expect("at once").items.len(), 1);
}

#[test]
fn a_flooding_tenant_gets_busy_and_others_keep_their_share() {
    let tenants = [
        tenant("flood", 1, 1_000_000, 1_000_000),
        tenant("fair", 1, 1000, 100),
    ];
    let mut shard: Shard<u64> = Shard::new(settings(), &tenants, Micros(0), T0);
    let mut busy = 0;
    for id in 0..100 {
        match shard.admit(bls_job(0, id, true), Micros(0), T0) {
            Ok(()) => {}
            Err((Refusal::MailboxFull { retry_after_ms }, _)) => {
                assert!(retry_after_ms >= 1);
                busy += 1;
            }
            Err((other, _)) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(busy, 92, "the flooder's mailbox holds 8");
    for id in 1000..1004 {
        shard
            .admit(bls_job(1, id, true), Micros(0), T0)
            .expect("the fair tenant is admitted");
    }
    // Round robin: the fair tenant's four requests are all in the first two batches (eight
    // requests), though the flooder queued first.
    let mut served_fair = 0;
    for _ in 0..2 {
        let batch = shard.next_batch(Micros(0)).expect("work");
        served_fair += batch
            .items
            .iter()
            .filter(|j| j.tenant == TenantSlot(1))
            .count();
    }
    assert_eq!(served_fair, 4);
}

#[test]
fn under_a_flood_a_quiet_tenants_rare_key_does_not_wait_for_the_flood_to_fill_its_batch() {
    let tenants = [
        tenant("flood", 1, 1_000_000, 1_000_000),
        tenant("quiet", 1, 1000, 100),
    ];
    let mut shard: Shard<u64> = Shard::new(settings(), &tenants, Micros(0), T0);
    let aggregate = p2_job(
        1,
        1,
        Statement::BlsAggregate {
            public_keys: vec![[0; 48]; 2],
            messages: vec![vec![1], vec![2]],
            signature: [0; 96],
        },
    );
    shard.admit(aggregate, Micros(0), T0).expect("admitted");
    // The flooder keeps its mailbox full of BLS signatures; the simulated verifier takes
    // 0.7 ms + 0.6 ms an item per batch. Nobody else sends an aggregate, so its batch never
    // fills: it must close once it has stood open for the longest time a batch may take.
    let mut now = Micros(0);
    let mut id = 100;
    let mut quiet_at = None;
    let mut flood_verified = Vec::new();
    for _ in 0..100 {
        while shard.admit(bls_job(0, id, true), now, T0).is_ok() {
            id += 1;
        }
        let batch = shard
            .next_batch(now)
            .expect("a flood always has a batch due");
        let took = 700 + 600 * batch.items.len() as u64;
        if batch.key == BatchKey::BlsAggregate {
            quiet_at = Some(now);
            break;
        }
        flood_verified.extend(batch.items.iter().map(|job| job.route));
        shard.record_service(&batch, Micros(took), now);
        shard.recycle(batch.items);
        now = Micros(now.0 + took);
    }
    let quiet_at = quiet_at.expect("the quiet tenant's batch closed");
    // Standing open: 0.35 x 50 ms; then the batch in verification when it came due.
    let longest = 17_500;
    assert!(quiet_at.0 >= longest, "{quiet_at:?}");
    assert!(quiet_at.0 <= longest + 700 + 600 * 4, "{quiet_at:?}");
    // The full batch it went before is the next one, and nothing of the flood is lost or out
    // of order: every request admitted is verified once, in the order it was admitted.
    let queued = shard.pending();
    let held_back = shard.next_batch(now).expect("the full batch follows");
    assert_eq!(held_back.key, BatchKey::Bls);
    assert_eq!(held_back.items.len(), 4);
    assert_eq!(shard.pending(), queued - 4);
    flood_verified.extend(held_back.items.iter().map(|job| job.route));
    while let Some(batch) = shard.next_batch(Micros(now.0 + 1_000_000)) {
        flood_verified.extend(batch.items.iter().map(|job| job.route));
    }
    assert_eq!(flood_verified, (100..id).collect::<Vec<u64>>());
}

/// One request of a tenant's, as the simulated verifier saw it.
struct Served {
    tenant: u32,
    id: u64,
    lane: Lane,
    admitted: u64,
    verified: u64,
}

/// What a flood run left: every request served, how often a share batch went between surplus
/// steps, the order requests were handed out, and how many were admitted and still wait.
struct FloodRun {
    served: Vec<Served>,
    gave_way: usize,
    handed: Vec<(u32, u64)>,
    admitted: usize,
    waiting: usize,
}

/// Until `FLOOD_UNTIL`, "flood" keeps its mailbox full (about 1,000 requests a second get in)
/// and "quiet" sends one request every 4 ms; then "flood" sends like "quiet". The simulated
/// verifier takes 0.7 ms + 0.6 ms an item per batch and goes a step (1 ms) at a time: the
/// shard is busy, and the flood is beyond its share.
const FLOOD_UNTIL: u64 = 1_500_000;

fn flood_beside_a_quiet_tenant(settings: tf_shard::ShardSettings) -> FloodRun {
    let tenants = [
        tenant("flood", 1, 1_000_000, 1_000_000),
        tenant("quiet", 1, 1_000_000, 1_000_000),
    ];
    let mut shard: Shard<u64> = Shard::new(settings, &tenants, Micros(0), T0);
    let statement = bls_job(0, 0, true).submit.statement;
    let mut admitted_at = std::collections::HashMap::new();
    let mut served = Vec::new();
    let mut next_id = 0u64;
    // The batch being verified: its items, lane, and the steps left.
    let mut in_hand: Option<(Vec<Job<u64>>, Lane, u64)> = None;
    let mut gave_way = 0;
    // (tenant, request) in the order handed out for verification.
    let mut handed = Vec::new();
    let mut hand_out = |batch: &tf_shard::Batch<BatchKey, Job<u64>>| {
        handed.extend(batch.items.iter().map(|job| (job.tenant.0, job.route)));
    };
    for t in (0..2_500_000u64).step_by(1_000) {
        let now = Micros(t);
        let flooding = t < FLOOD_UNTIL;
        for tenant in [0, 1] {
            let sends = match tenant {
                0 if flooding => 4,
                _ if t.is_multiple_of(4_000) => 1,
                _ => 0,
            };
            for _ in 0..sends {
                let job = p2_job(tenant, next_id, statement.clone());
                let job = Job {
                    admitted: now,
                    ..job
                };
                if shard.admit(job, now, T0).is_ok() {
                    admitted_at.insert(next_id, t);
                }
                next_id += 1;
            }
        }
        let verify = |batch: tf_shard::Batch<BatchKey, Job<u64>>,
                      end: u64,
                      shard: &mut Shard<u64>,
                      served: &mut Vec<Served>| {
            let took = 700 + 600 * batch.items.len() as u64;
            shard.record_service(&batch, Micros(took), Micros(end));
            for job in &batch.items {
                served.push(Served {
                    tenant: job.tenant.0,
                    id: job.route,
                    lane: batch.lane,
                    admitted: admitted_at[&job.route],
                    verified: end,
                });
            }
        };
        // Between the steps of a surplus batch, a due share-lane batch goes first (verified
        // within this millisecond's step, as the runtime does between steps).
        if let Some((_, Lane::Surplus, _)) = &in_hand
            && let Some(share) = shard.next_share_batch(now)
        {
            assert_eq!(share.lane, Lane::Share);
            hand_out(&share);
            gave_way += 1;
            verify(share, t + 1_000, &mut shard, &mut served);
            continue;
        }
        match in_hand.take() {
            Some((items, lane, steps)) if steps > 1 => in_hand = Some((items, lane, steps - 1)),
            Some((items, lane, _)) => {
                let batch = tf_shard::Batch {
                    key: BatchKey::Bls,
                    lane,
                    items,
                };
                verify(batch, t, &mut shard, &mut served);
            }
            None => {}
        }
        if in_hand.is_none()
            && let Some(batch) = shard.next_batch(now)
        {
            hand_out(&batch);
            let steps = (700 + 600 * batch.items.len() as u64).div_ceil(1_000);
            in_hand = Some((batch.items, batch.lane, steps));
        }
    }
    let waiting = shard.pending() + in_hand.map_or(0, |(items, _, _)| items.len());
    FloodRun {
        served,
        gave_way,
        handed,
        admitted: admitted_at.len(),
        waiting,
    }
}

/// Once the rates are measured (a quarter second), until the flood stops.
fn measured(s: &&Served) -> bool {
    s.admitted >= 500_000 && s.admitted < FLOOD_UNTIL
}

/// The longest the quiet tenant waited, from admission to verdict, while the flood went on.
fn quiet_worst(run: &FloodRun) -> u64 {
    run.served
        .iter()
        .filter(measured)
        .filter(|s| s.tenant == 1)
        .map(|s| s.verified - s.admitted)
        .max()
        .expect("the quiet tenant was served")
}

#[test]
fn a_flood_beyond_its_share_is_batched_apart_and_gives_way_between_steps() {
    let run = flood_beside_a_quiet_tenant(settings());
    let served = &run.served;
    // The flood and the quiet tenant never share a batch: the flood travels in the surplus
    // lane, the quiet tenant in the share lane.
    for s in served.iter().filter(measured) {
        let expected = if s.tenant == 0 {
            Lane::Surplus
        } else {
            Lane::Share
        };
        assert_eq!(s.lane, expected, "request {} of tenant {}", s.id, s.tenant);
    }
    assert!(
        run.gave_way > 10,
        "share batches went between surplus steps {} times",
        run.gave_way
    );
    // The quiet tenant's requests are verified within the planned share of the budget (32.5
    // ms), plus the step in progress.
    let quiet_worst = quiet_worst(&run);
    assert!(quiet_worst <= 33_500, "{quiet_worst} us");
    // The flood stopped: a second later the lanes are one again.
    assert!(
        served
            .iter()
            .filter(|s| s.admitted >= FLOOD_UNTIL + 1_000_000)
            .all(|s| s.lane == Lane::Share)
    );
    // Every request admitted is verified once, and each tenant's are handed out for
    // verification in the order admitted, across its moves between the lanes.
    let mut ids: Vec<u64> = served.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), served.len());
    assert_eq!(served.len() + run.waiting, run.admitted);
    for tenant in [0, 1] {
        let order: Vec<u64> = run
            .handed
            .iter()
            .filter(|h| h.0 == tenant)
            .map(|h| h.1)
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "tenant {tenant}");
    }
}

#[test]
fn share_lane_requests_are_handed_over_between_surplus_steps_even_behind_closed_surplus_batches() {
    // Batches do not wait for company here (a zero budget) and the flood's batches are long
    // (16 items, 10.3 ms), so closed surplus batches queue behind the one being verified. The
    // quiet tenant's request must still go at the next step, not after them.
    let run = flood_beside_a_quiet_tenant(tf_shard::ShardSettings {
        mailbox_capacity: 64,
        batch_max: 16,
        latency_budget: Micros(0),
        ..settings()
    });
    let quiet_worst = quiet_worst(&run);
    assert!(quiet_worst <= 2_000, "{quiet_worst} us");
    assert!(
        run.served
            .iter()
            .filter(measured)
            .any(|s| s.lane == Lane::Surplus)
    );
}

#[test]
fn the_quota_bucket_answers_retry_after() {
    let mut shard: Shard<u64> = Shard::new(settings(), &[tenant("a", 1, 10, 2)], Micros(0), T0);
    shard
        .admit(bls_job(0, 1, true), Micros(0), T0)
        .expect("burst");
    shard
        .admit(bls_job(0, 2, true), Micros(0), T0)
        .expect("burst");
    match shard.admit(bls_job(0, 3, true), Micros(0), T0) {
        Err((Refusal::OverRate { retry_after_ms }, job)) => {
            assert_eq!(retry_after_ms, 100, "one token at 10/s");
            assert_eq!(
                job.submit.request_id, 3,
                "the job comes back to be answered"
            );
        }
        other => panic!("expected over rate, got {:?}", other.map_err(|e| e.0)),
    }
    shard
        .admit(bls_job(0, 3, true), Micros(100_000), T0)
        .expect("refilled");
}

#[test]
fn a_groth16_key_must_be_the_tenants() {
    let mut shard: Shard<u64> = Shard::new(settings(), &[tenant("a", 1, 10, 2)], Micros(0), T0);
    let job = Job {
        tenant: TenantSlot(0),
        submit: Submit {
            request_id: 1,
            purpose: "test".into(),
            dataset_class: DatasetClass::P2,
            statement: Statement::Groth16 {
                curve: tf_wire::Curve::Bn254,
                key_id: [5; 32],
                proof: vec![0; 128],
                public_inputs: vec![],
            },
        },
        received_unix_us: 0,
        policy: Default::default(),
        reservation: Default::default(),
        admitted: Micros(0),
        decision_seq: 0,
        route: 1,
    };
    let refused = shard.admit(job, Micros(0), T0).map_err(|e| e.0);
    assert!(matches!(refused, Err(Refusal::UnknownKey(id)) if id.0 == [5; 32]));
    assert_eq!(shard.pending(), 0);
}

#[test]
fn a_request_over_budget_is_refused_before_it_is_queued_and_names_the_cap() {
    let mut shard: Shard<u64> = Shard::new(settings(), &[capped(2)], Micros(0), T0);
    shard
        .admit(bls_job(0, 1, true), Micros(0), T0)
        .expect("1 of 2");
    shard
        .admit(bls_job(0, 2, true), Micros(0), T0)
        .expect("2 of 2");
    let refused = shard
        .admit(bls_job(0, 3, true), Micros(0), T0)
        .map_err(|e| e.0);
    let Err(Refusal::OverBudget(over)) = refused else {
        panic!("expected over budget, got {refused:?}");
    };
    assert_eq!((over.requested, over.remaining, over.reserved), (1, 0, 2));
    assert_eq!(over.cap.window, Window::Day);
    assert_eq!(shard.pending(), 2, "the refused request was not queued");
    assert_eq!(shard.counters(TenantSlot(0)).over_budget, 1);
}

#[test]
fn verdicts_settle_reservations_by_the_class_policy() {
    // P2 is charged only for valid verdicts: the invalid one's reservation is released.
    let mut shard: Shard<u64> = Shard::new(settings(), &[capped(2)], Micros(0), T0);
    shard
        .admit(bls_job(0, 1, true), Micros(0), T0)
        .expect("fits");
    shard
        .admit(bls_job(0, 2, false), Micros(0), T0)
        .expect("fits");
    let batch = shard.next_batch(Micros(0)).expect("due");
    let verdicts = shard.verify(&batch, &mut ChaCha20Rng::seed_from_u64(1));
    let settled: Vec<u64> = batch
        .items
        .iter()
        .zip(&verdicts)
        .map(|(job, verdict)| shard.settle(job, verdict, T0).charged)
        .collect();
    assert_eq!(settled, vec![1, 0]);
    let status = shard.budget_status(TenantSlot(0), T0);
    assert_eq!(
        (status[0].used, status[0].reserved, status[0].remaining),
        (1, 0, 1)
    );
    shard
        .admit(bls_job(0, 3, true), Micros(0), T0)
        .expect("the released unit is back");
}

#[test]
fn a_rate_refusal_takes_no_budget() {
    let mut shard: Shard<u64> = Shard::new(
        settings(),
        &[TenantSpec {
            rate_per_sec: 1,
            burst: 1,
            ..capped(5)
        }],
        Micros(0),
        T0,
    );
    shard
        .admit(bls_job(0, 1, true), Micros(0), T0)
        .expect("burst");
    let refused = shard
        .admit(bls_job(0, 2, true), Micros(0), T0)
        .map_err(|e| e.0);
    assert!(
        matches!(refused, Err(Refusal::OverRate { .. })),
        "{refused:?}"
    );
    let status = shard.budget_status(TenantSlot(0), T0);
    assert_eq!(
        status[0].reserved, 1,
        "only the admitted request holds budget"
    );
}

#[test]
fn a_live_quota_change_applies_to_the_next_admission() {
    let mut shard: Shard<u64> = Shard::new(settings(), &[tenant("a", 1, 1000, 100)], Micros(0), T0);
    shard.set_admission(TenantSlot(0), 1, 1, Micros(0));
    shard
        .admit(bls_job(0, 1, true), Micros(0), T0)
        .expect("one token left after the cut");
    let refused = shard
        .admit(bls_job(0, 2, true), Micros(0), T0)
        .map_err(|e| e.0);
    assert!(
        matches!(
            refused,
            Err(Refusal::OverRate {
                retry_after_ms: 1000
            })
        ),
        "{refused:?}"
    );
    shard.set_admission(TenantSlot(0), 1000, 100, Micros(10_000));
    // One millisecond at 1000/s refills a token.
    shard
        .admit(bls_job(0, 3, true), Micros(11_000), T0)
        .expect("raised again: refilled at the new rate");
}
