//! The batch former driven in virtual time: a simulated verifier that takes exactly what the
//! learned cost says, arrivals from a script or from proptest, and the runtime's loop (take a
//! due batch when the verifier is free, else sleep until the next deadline or arrival).

use proptest::prelude::*;
use tf_batcher::policy::{LONGEST_BATCH_SHARE, PLANNED_SHARE, size_limit};
use tf_batcher::{Arrival, Batch, BatchFormer, FormerSettings, Lane, Line};
use tf_fairness::Micros;

const BUDGET: Micros = Micros(50_000);

fn former(max_size: usize) -> BatchFormer<&'static str, u32> {
    BatchFormer::new(FormerSettings {
        max_size,
        max_open: 4,
        latency_budget: BUDGET,
    })
}

fn at(us: u64) -> Arrival {
    Arrival {
        at: Micros(us),
        units: 1,
        handed_over: Micros(us),
        lane: Lane::Share,
    }
}

fn surplus_at(us: u64) -> Arrival {
    Arrival {
        lane: Lane::Surplus,
        ..at(us)
    }
}

/// Teaches the former that `key` costs `line` (batches of 1 to 16, as if measured).
fn teach(f: &mut BatchFormer<&'static str, u32>, key: &'static str, line: Line) {
    for round in 0..64 {
        let n = 1 + round % 16;
        let elapsed = line.batch_us(n) as u64;
        f.observe(&key, n, n as u64, Micros(elapsed));
    }
}

const BLS: Line = Line {
    fixed_us: 700.0,
    per_item_us: 600.0,
};

#[test]
fn an_idle_appliance_verifies_at_once() {
    let mut f = former(64);
    assert_eq!(f.add("bls", 1, at(1_000)), None);
    assert_eq!(
        f.take_due(Micros(1_000)),
        Some(Batch {
            key: "bls",
            lane: Lane::Share,
            items: vec![1]
        })
    );
    // Sparse traffic (one request a second): still never waits.
    for i in 2..10 {
        let t = i * 1_000_000;
        f.add("bls", i as u32, at(t));
        assert!(f.take_due(Micros(t)).is_some(), "request {i} waited");
    }
}

/// Closes every open batch at its deadline, as a shard with nothing else to do would.
fn drain(f: &mut BatchFormer<&'static str, u32>) {
    while let Some(deadline) = f.next_deadline() {
        let batch = f.take_due(deadline).expect("due at its deadline");
        f.recycle(batch.items);
    }
}

#[test]
fn a_busy_key_waits_for_company_and_closes_in_time() {
    let mut f = former(64);
    teach(&mut f, "bls", BLS);
    // A request every 2 ms for a second: the rate is known.
    let mut t = 0;
    for i in 0..500 {
        t = i * 2_000;
        f.add("bls", i as u32, at(t));
        if let Some(batch) = f.take_due(Micros(t)) {
            f.recycle(batch.items);
        }
    }
    // Drain what is open, each batch at its deadline, then after a quiet second one more
    // request opens a batch.
    drain(&mut f);
    let t = t + 1_000_001;
    f.add("bls", 9_999, at(t));
    // The quiet second above lowered the rate: waiting is no longer worth it.
    assert!(f.take_due(Micros(t)).is_some());
    // A fresh stream at 2 ms.
    let start = t + 10;
    for i in 0..100 {
        f.add("bls", i, at(start + i as u64 * 2_000));
        if let Some(batch) = f.take_due(Micros(start + i as u64 * 2_000)) {
            f.recycle(batch.items);
        }
    }
    drain(&mut f);
    let now = Micros(start + 100 * 2_000);
    f.add("bls", 100, at(now.0));
    assert_eq!(f.take_due(now), None, "worth waiting at 500 requests/s");
    let deadline = f.next_deadline().expect("open");
    assert!(deadline > now);
    let planned_end = now.0 as f64 + BUDGET.0 as f64 * PLANNED_SHARE;
    assert!((deadline.0 as f64) + BLS.batch_us(2) < planned_end);
    let batch = f.take_due(deadline).expect("closes at its deadline");
    assert_eq!(batch.items, vec![100]);
}

#[test]
fn a_batch_closes_at_its_size() {
    let mut f = former(3);
    teach(&mut f, "bn254", BLS);
    assert_eq!(f.add("bn254", 1, at(0)), None);
    assert_eq!(f.add("bn254", 2, at(1)), None);
    assert_eq!(
        f.add("bn254", 3, at(2)),
        Some(Batch {
            key: "bn254",
            lane: Lane::Share,
            items: vec![1, 2, 3]
        })
    );
    assert_eq!(f.pending(), 0);
}

#[test]
fn under_backlog_a_batch_stops_at_its_share_of_the_budget() {
    // A backlog arrives at once: the batch fills, but only to the size whose verification
    // takes LONGEST_BATCH_SHARE of the budget, so what queues behind it waits no longer.
    let mut f = former(64);
    teach(&mut f, "bls", BLS);
    // (The learned line is BLS's, give or take the prior's pull.)
    let learned = f.cost_of(&"bls").expect("taught");
    let limit = size_limit(&learned, 64, BUDGET);
    assert!(limit > 20 && limit < 64, "{limit}");
    let mut closed = None;
    for i in 0..64u32 {
        if let Some(batch) = f.add("bls", i, at(u64::from(i))) {
            closed = Some(batch);
            break;
        }
    }
    let batch = closed.expect("a backlog fills a batch");
    assert_eq!(batch.items.len(), limit);
    assert!(learned.batch_us(limit) <= BUDGET.0 as f64 * LONGEST_BATCH_SHARE);
    assert!(learned.batch_us(limit + 1) > BUDGET.0 as f64 * LONGEST_BATCH_SHARE);
}

#[test]
fn under_backlog_a_rare_keys_batch_stands_open_no_longer_than_a_batch_may_take() {
    // A flood of "bls" with a quiet tenant's "rare" request among it: batches of "bls" fill
    // and close, and the "rare" batch, which the flood never fills, closes once it has stood
    // open for the longest time a batch may take.
    let mut f = former(64);
    teach(&mut f, "bls", BLS);
    teach(&mut f, "rare", BLS);
    let longest = (BUDGET.0 as f64 * LONGEST_BATCH_SHARE) as u64;
    assert_eq!(f.add("rare", 1_000, at(0)), None);
    let mut now = 0;
    let mut closed_rare = None;
    for i in 0..10_000u32 {
        now = u64::from(i) * 100;
        if let Some(batch) = f.take_standing(Micros(now)) {
            closed_rare = Some((now, batch));
            break;
        }
        if let Some(full) = f.add("bls", i, at(now)) {
            assert_eq!(full.key, "bls");
        }
    }
    let (closed_at, batch) = closed_rare.expect("the rare batch closes");
    assert_eq!(batch.key, "rare");
    assert_eq!(batch.items, vec![1_000]);
    assert!(
        closed_at >= longest && closed_at < longest + 100,
        "{closed_at}"
    );
    // The flood's own batch, opened at its last close, has not stood that long: it keeps
    // filling, and so does a batch that has just opened.
    assert_eq!(f.add("rare", 1_001, at(now)), None);
    assert_eq!(f.take_standing(Micros(now)), None);
}

#[test]
fn keys_never_mix_and_the_oldest_due_closes_first() {
    let mut f = former(64);
    f.add("a", 1, at(0));
    f.add("b", 10, at(1));
    f.add("a", 2, at(2));
    let far = Micros(10_000_000);
    assert_eq!(
        f.take_due(far),
        Some(Batch {
            key: "a",
            lane: Lane::Share,
            items: vec![1, 2]
        })
    );
    assert_eq!(
        f.take_due(far),
        Some(Batch {
            key: "b",
            lane: Lane::Share,
            items: vec![10]
        })
    );
    assert_eq!(f.take_due(far), None);
    assert_eq!(f.next_deadline(), None);
}

#[test]
fn lanes_never_mix_and_the_share_lane_goes_first() {
    let mut f = former(64);
    f.add("a", 1, surplus_at(0));
    f.add("a", 2, at(1));
    f.add("a", 3, surplus_at(2));
    let far = Micros(10_000_000);
    // Only a surplus batch may not go before one being verified.
    let share = f
        .take_due_share(far)
        .expect("the share lane's batch is due");
    assert_eq!((share.lane, share.items), (Lane::Share, vec![2]));
    assert_eq!(f.take_due_share(far), None);
    // The surplus batch, older, goes after the share lane's batch.
    f.add("a", 4, at(3));
    let first = f.take_due(far).expect("due");
    assert_eq!((first.lane, first.items), (Lane::Share, vec![4]));
    let second = f.take_due(far).expect("due");
    assert_eq!((second.lane, second.items), (Lane::Surplus, vec![1, 3]));
    assert_eq!(f.pending(), 0);
}

#[test]
fn closing_all_hands_out_what_waits_oldest_first() {
    let mut f = former(64);
    f.add("b", 1, at(5));
    f.add("a", 2, surplus_at(0));
    f.add("a", 3, at(7));
    let closed = f.close_all(Lane::Share, Micros(10));
    let keys: Vec<(&str, Lane, Vec<u32>)> = closed
        .into_iter()
        .map(|b| (b.key, b.lane, b.items))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("a", Lane::Share, vec![2]),
            ("b", Lane::Share, vec![1]),
            ("a", Lane::Share, vec![3])
        ]
    );
    assert_eq!((f.pending(), f.next_deadline()), (0, None));
    // What joins after opens new batches.
    f.add("a", 4, surplus_at(8));
    assert_eq!(f.pending(), 1);
}

#[test]
fn a_new_key_beyond_the_open_limit_closes_the_oldest() {
    let mut f = BatchFormer::new(FormerSettings {
        max_size: 64,
        max_open: 2,
        latency_budget: BUDGET,
    });
    f.add("a", 1, at(0));
    f.add("b", 2, at(1));
    assert_eq!(
        f.add("c", 3, at(2)),
        Some(Batch {
            key: "a",
            lane: Lane::Share,
            items: vec![1]
        })
    );
    assert_eq!(f.pending(), 2);
}

#[test]
fn size_one_batches_close_at_once() {
    let mut f = former(1);
    assert_eq!(
        f.add("a", 1, at(0)),
        Some(Batch {
            key: "a",
            lane: Lane::Share,
            items: vec![1]
        })
    );
    assert_eq!(f.pending(), 0);
}

#[test]
fn a_zero_budget_never_waits() {
    let mut f = BatchFormer::new(FormerSettings {
        max_size: 64,
        max_open: 4,
        latency_budget: Micros(0),
    });
    teach(&mut f, "bls", BLS);
    for i in 0..200u32 {
        let t = u64::from(i) * 100;
        f.add("bls", i, at(t));
        assert!(f.take_due(Micros(t)).is_some());
    }
}

#[test]
fn recycled_buffers_keep_their_capacity() {
    let mut f = former(8);
    for i in 0..7 {
        f.add("k", i, at(0));
    }
    let batch = f.add("k", 7, at(0)).expect("full");
    let pointer = batch.items.as_ptr();
    f.recycle(batch.items);
    f.add("k", 0, at(1));
    let again = f.take_due(Micros(10_000_000)).expect("open");
    assert_eq!(
        again.items.as_ptr(),
        pointer,
        "the buffer was reused, not reallocated"
    );
}

#[test]
fn a_partner_sending_one_at_a_time_is_kept_waiting_only_to_check_now_and_then() {
    // Its next request comes only once the last is answered, so a batch waiting for it waits
    // for nothing, however often its requests arrive. Only a wait shows that; waits that found
    // no company are remembered for a second or more. (In its first second the arrival rate
    // is still rising, so the waits are short and tell little: more of them are needed.)
    let mut f = former(64);
    teach(&mut f, "bls", BLS);
    let start = 1_000;
    let mut t = start;
    let mut waits = Vec::new();
    for i in 0..5_000 {
        f.add("bls", i, at(t));
        let (batch, closed_at) = match f.take_due(Micros(t)) {
            Some(batch) => (batch, t),
            None => {
                let deadline = f.next_deadline().expect("open").0;
                waits.push((t, deadline - t));
                (f.take_due(Micros(deadline)).expect("due"), deadline)
            }
        };
        assert_eq!(batch.items, vec![i]);
        let verified = closed_at + BLS.batch_us(1) as u64;
        f.observe(&"bls", 1, 1, Micros(BLS.batch_us(1) as u64));
        f.recycle(batch.items);
        // The answer's way back, and the partner's next request.
        t = verified + 1_000;
    }
    let seconds = (t - start) as f64 / 1e6;
    let held: u64 = waits.iter().map(|(_, held)| held).sum();
    assert!(
        (held as f64) / 1e6 < 0.05 * seconds,
        "held {held} us in {seconds:.1} s: {waits:?}"
    );
    let later = waits
        .iter()
        .filter(|(at, _)| at - start > 2_000_000)
        .count();
    assert!(
        later as f64 <= (seconds - 2.0) / 1.5 + 1.0,
        "{later} waits after the first 2 s of {seconds:.1} s: {waits:?}"
    );
}

#[test]
fn requests_that_come_whatever_the_answers_do_are_waited_for() {
    // One every 3 ms: a batch of one takes 1.3 ms, so only waiting makes batches bigger.
    let requests: Vec<Request> = (0..1_000)
        .map(|i| Request {
            tenant: (i % 3) as u8,
            key: "bls",
            arrives: i * 3_000,
            lane: Lane::Share,
        })
        .collect();
    let verified = simulate(&requests, &LINES);
    let later = &verified[verified.len() / 2..];
    let items: usize = later.iter().map(|v| v.items.len()).sum();
    let mean = items as f64 / later.len() as f64;
    assert!(mean >= 4.0, "batches of {mean:.1} on average");
}

#[test]
fn requests_arriving_at_random_are_waited_for_from_the_start() {
    // 80 a second at random (exponential gaps, a fixed seed) from three tenants: a few join
    // each wait, and a chance shortfall early on must not stop the waiting.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut t = 0.0;
    let requests: Vec<Request> = (0..2_400)
        .map(|i| {
            t += -12_500.0 * (1.0 - uniform()).ln();
            Request {
                tenant: (i % 3) as u8,
                key: "bls",
                arrives: t as u64,
                lane: Lane::Share,
            }
        })
        .collect();
    let verified = simulate(&requests, &LINES);
    let first_seconds: Vec<&Verified> = verified.iter().filter(|v| v.started < 3_000_000).collect();
    let mean = |batches: &[&Verified]| {
        batches.iter().map(|v| v.items.len()).sum::<usize>() as f64 / batches.len() as f64
    };
    let all: Vec<&Verified> = verified.iter().collect();
    assert!(mean(&all) >= 1.8, "batches of {:.2} on average", mean(&all));
    assert!(
        mean(&first_seconds) >= 1.6,
        "batches of {:.2} in the first 3 s",
        mean(&first_seconds)
    );
}

/// One simulated request: its tenant, key and arrival.
#[derive(Clone, Debug)]
struct Request {
    tenant: u8,
    key: &'static str,
    arrives: u64,
    lane: Lane,
}

/// What happened to each batch in a simulation.
struct Verified {
    /// (tenant, request index) per item, in batch order.
    items: Vec<(u8, u32)>,
    key: &'static str,
    lane: Lane,
    /// When the verifier started and finished it.
    started: u64,
    finished: u64,
    /// When its first and last items arrived.
    oldest: u64,
    newest: u64,
}

/// Runs arrivals through the former and a verifier that takes exactly `lines[key]`.
fn simulate(requests: &[Request], lines: &[(&'static str, Line)]) -> Vec<Verified> {
    let mut f: BatchFormer<&'static str, (u8, u32)> = BatchFormer::new(FormerSettings {
        max_size: 16,
        max_open: 4,
        latency_budget: BUDGET,
    });
    for (key, line) in lines {
        for round in 0..64 {
            let n = 1 + round % 16;
            f.observe(key, n, n as u64, Micros(line.batch_us(n) as u64));
        }
    }
    let cost = |key: &str, n: usize| {
        lines
            .iter()
            .find(|(k, _)| *k == key)
            .expect("a known key")
            .1
            .batch_us(n) as u64
    };
    let arrival = |i: usize| requests[i].arrives;
    let mut out = Vec::new();
    let mut next = 0;
    let mut now = 0u64;
    let mut free_at = 0u64;
    loop {
        // A full batch held back goes first, as on a shard; then arrivals up to now join (the
        // fair scheduler hands them over when the core is free).
        let mut closed = f.take_held_back();
        while closed.is_none() && next < requests.len() && arrival(next) <= now {
            let r = &requests[next];
            let added = f.add(
                r.key,
                (r.tenant, next as u32),
                Arrival {
                    at: Micros(r.arrives),
                    units: 1,
                    handed_over: Micros(now),
                    lane: r.lane,
                },
            );
            next += 1;
            closed = added;
        }
        let batch = closed.or_else(|| f.take_due(Micros(now)));
        if let Some(batch) = batch {
            let started = now;
            let finished = started + cost(batch.key, batch.items.len());
            let times: Vec<u64> = batch.items.iter().map(|i| arrival(i.1 as usize)).collect();
            out.push(Verified {
                items: batch.items.clone(),
                key: batch.key,
                lane: batch.lane,
                started,
                finished,
                oldest: *times.iter().min().expect("not empty"),
                newest: *times.iter().max().expect("not empty"),
            });
            f.recycle(batch.items);
            free_at = finished;
            now = finished;
            continue;
        }
        let wake = [
            f.next_deadline().map(|d| d.0),
            requests.get(next).map(|r| r.arrives),
        ]
        .into_iter()
        .flatten()
        .min();
        match wake {
            Some(t) => now = t.max(now + 1).max(free_at),
            None => break,
        }
    }
    out
}

/// Requests of three tenants; in some runs one of them travels in the surplus lane.
fn requests() -> impl Strategy<Value = Vec<Request>> {
    let steps = prop::collection::vec((0u8..3, 0usize..3, 0u64..6_000), 1..400);
    (steps, prop::option::of(0u8..3)).prop_map(|(steps, surplus)| {
        let mut t = 0;
        steps
            .into_iter()
            .map(|(tenant, key, gap)| {
                t += gap;
                Request {
                    tenant,
                    key: ["bls", "bn254", "bls12-381"][key],
                    arrives: t,
                    lane: if surplus == Some(tenant) {
                        Lane::Surplus
                    } else {
                        Lane::Share
                    },
                }
            })
            .collect()
    })
}

const LINES: [(&str, Line); 3] = [
    ("bls", BLS),
    (
        "bn254",
        Line {
            fixed_us: 900.0,
            per_item_us: 450.0,
        },
    ),
    (
        "bls12-381",
        Line {
            fixed_us: 1_100.0,
            per_item_us: 700.0,
        },
    ),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_request_is_verified_once_in_its_tenants_order(requests in requests()) {
        let verified = simulate(&requests, &LINES);
        let mut seen: Vec<u32> = verified.iter().flat_map(|v| v.items.iter().map(|i| i.1)).collect();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..requests.len() as u32).collect::<Vec<_>>());
        for v in &verified {
            prop_assert!(v.items.len() <= 16);
            for item in &v.items {
                prop_assert_eq!(requests[item.1 as usize].key, v.key);
                prop_assert_eq!(requests[item.1 as usize].lane, v.lane);
            }
        }
        // Per tenant and key, requests are verified in the order they arrived.
        for tenant in 0..3u8 {
            for key in ["bls", "bn254", "bls12-381"] {
                let order: Vec<u32> = verified
                    .iter()
                    .filter(|v| v.key == key)
                    .flat_map(|v| v.items.iter().filter(|i| i.0 == tenant).map(|i| i.1))
                    .collect();
                prop_assert!(order.windows(2).all(|w| w[0] < w[1]), "{key} {tenant}: {order:?}");
            }
        }
    }

    #[test]
    fn waiting_never_makes_a_request_miss_its_budget(requests in requests()) {
        let verified = simulate(&requests, &LINES);
        let planned = (BUDGET.0 as f64 * PLANNED_SHARE) as u64;
        for v in &verified {
            // A batch that started after its newest item arrived waited for company (or for
            // the verifier); either way, waiting must not have pushed it past the plan, unless
            // the verifier was still busy when the plan ran out.
            let waited = v.started > v.newest;
            let late = v.finished > v.oldest + planned;
            if waited && late {
                // Only work ahead (other batches verified first) may make it late: it must have
                // been due by the time it could start.
                let other_work_before: u64 = verified
                    .iter()
                    .filter(|o| o.started >= v.oldest && o.finished <= v.started)
                    .map(|o| o.finished - o.started)
                    .sum();
                prop_assert!(
                    other_work_before > 0,
                    "batch of {} waited from {} to {} and finished at {}, past {}",
                    v.items.len(), v.newest, v.started, v.finished, v.oldest + planned
                );
            }
        }
    }
}
