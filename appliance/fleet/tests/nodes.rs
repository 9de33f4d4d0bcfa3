//! Heartbeats and the fleet's status against a real PostgreSQL server (a throwaway cluster per
//! test): a heartbeat replaces the node's last one; nodes are live or not by their last
//! heartbeat; shipping lags are the ledger's committed receipts less those shipped; lease
//! holdings, leases taken back and the pools of the current windows are what the leases made
//! them.

#[path = "support/cluster.rs"]
mod cluster;

use cluster::Cluster;
use rand_core::SeedableRng;
use tf_fleet::{
    Beat, FleetError, LeaseStore, Leases, NodeLeases, PoolKey, PoolState, Seen, Shipping,
    heartbeat, ship, status,
};
use tf_ledger::{SqliteLedger, sign_and_append};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

const SECOND: u64 = 1_000_000;
/// 2025-12-05T00:00:00Z, the start of a day.
const DAY: u64 = 1_764_892_800 * SECOND;
const NOW: u64 = DAY + 3_600 * SECOND;
const LIVE_WITHIN: u64 = 30 * SECOND;
/// Node A's receipt key, and another appliance's.
const KEY_A: &str = "aa00000000000000000000000000000000000000000000000000000000000000";
const KEY_B: &str = "bb00000000000000000000000000000000000000000000000000000000000000";

fn beat(node: &str, now_us: u64, committed_seq: u64) -> Beat {
    Beat {
        node: node.into(),
        started_us: DAY,
        now_us,
        revision: 4,
        committed_seq,
        version: "0.1.0".into(),
        receipt_key: KEY_A.into(),
    }
}

fn pool(purpose: &str, window_start_us: u64) -> PoolKey {
    PoolKey {
        tenant: "initech".into(),
        purpose: purpose.into(),
        class: "P1".into(),
        window: "day".into(),
        window_start_us,
    }
}

#[test]
fn a_heartbeat_replaces_the_nodes_last_one() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    heartbeat(&mut client, &beat("node-a", NOW - 10 * SECOND, 7)).expect("beats");
    let restarted = Beat {
        started_us: NOW - SECOND,
        revision: 5,
        version: "0.2.0".into(),
        ..beat("node-a", NOW, 9)
    };
    heartbeat(&mut client, &restarted).expect("beats again");
    let rows: i64 = client
        .query_one("SELECT COUNT(*) FROM fleet_nodes", &[])
        .expect("counts")
        .get(0);
    assert_eq!(rows, 1, "one row per node");
    let fleet = status(&mut client, NOW, LIVE_WITHIN).expect("status");
    assert_eq!(fleet.nodes.len(), 1, "{fleet:?}");
    assert_eq!(
        fleet.nodes[0].seen,
        Some(Seen {
            started_us: NOW - SECOND,
            last_seen_us: NOW,
            revision: 5,
            committed_seq: 9,
            version: "0.2.0".into(),
            receipt_key: KEY_A.into(),
        })
    );
    // The latest call wins even when the node's clock went back: it is not left looking dead.
    heartbeat(&mut client, &beat("node-a", NOW - 60 * SECOND, 10)).expect("beats");
    let fleet = status(&mut client, NOW - 60 * SECOND, LIVE_WITHIN).expect("status");
    let seen = fleet.nodes[0].seen.as_ref().expect("seen");
    assert_eq!(
        (seen.last_seen_us, seen.committed_seq),
        (NOW - 60 * SECOND, 10)
    );
    assert!(fleet.nodes[0].live);
}

#[test]
fn nodes_are_live_while_their_last_heartbeat_is_recent_enough() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    heartbeat(&mut client, &beat("node-a", NOW - 5 * SECOND, 1)).expect("beats");
    heartbeat(&mut client, &beat("node-b", NOW - LIVE_WITHIN, 1)).expect("beats");
    heartbeat(&mut client, &beat("node-c", NOW - LIVE_WITHIN - 1, 1)).expect("beats");
    // A node that shipped but never sent a heartbeat is known, and not live.
    client
        .execute(
            "INSERT INTO fleet_shipping (node, shipped_seq, shipped_us) VALUES ('node-d', 3, $1)",
            &[&((NOW - SECOND) as i64)],
        )
        .expect("a cursor");
    let fleet = status(&mut client, NOW, LIVE_WITHIN).expect("status");
    let live: Vec<(&str, bool)> = fleet
        .nodes
        .iter()
        .map(|node| (node.node.as_str(), node.live))
        .collect();
    assert_eq!(
        live,
        [
            ("node-a", true),
            ("node-b", true),
            ("node-c", false),
            ("node-d", false)
        ]
    );
    let d = &fleet.nodes[3];
    assert_eq!((d.seen.as_ref(), d.lag_receipts), (None, None), "{d:?}");
    // Under a longer threshold, node-c is live too.
    let fleet = status(&mut client, NOW, 2 * LIVE_WITHIN).expect("status");
    assert!(fleet.nodes[2].live, "{:?}", fleet.nodes[2]);
}

#[test]
fn shipping_lags_are_the_receipts_committed_and_not_shipped() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let dir = tempfile::tempdir().expect("a folder");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("a ledger");
    let mut signer = ReceiptSigner::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(5));
    let mut receipts: Vec<Receipt> = (1..=40).map(receipt).collect();
    let (_, stored) = sign_and_append(&mut ledger, &mut signer, receipts.iter_mut());
    stored.expect("stored");
    let shipped_at = NOW - 12 * SECOND;
    let batch = ship(&mut client, "node-a", &ledger, 7, shipped_at).expect("ships");
    assert_eq!(batch.through_seq, 7);
    heartbeat(&mut client, &beat("node-a", NOW, 40)).expect("beats");
    // node-b never shipped: everything it committed lags. node-c's heartbeat is older than
    // its cursor: no lag, not a negative one.
    heartbeat(&mut client, &beat("node-b", NOW, 25)).expect("beats");
    heartbeat(&mut client, &beat("node-c", NOW, 2)).expect("beats");
    client
        .execute(
            "INSERT INTO fleet_shipping (node, shipped_seq, shipped_us) VALUES ('node-c', 3, $1)",
            &[&(NOW as i64)],
        )
        .expect("a cursor");

    let fleet = status(&mut client, NOW, LIVE_WITHIN).expect("status");
    let a = &fleet.nodes[0];
    assert_eq!(a.lag_receipts, Some(33), "{a:?}");
    assert_eq!(
        a.shipping,
        Some(Shipping {
            shipped_seq: 7,
            shipped_us: shipped_at,
            age_us: 12 * SECOND,
        })
    );
    let b = &fleet.nodes[1];
    assert_eq!((b.lag_receipts, b.shipping), (Some(25), None), "{b:?}");
    let c = &fleet.nodes[2];
    assert_eq!(c.lag_receipts, Some(0), "{c:?}");

    // Shipping the rest closes the lag.
    while ship(&mut client, "node-a", &ledger, 100, NOW)
        .expect("ships")
        .count
        > 0
    {}
    let fleet = status(&mut client, NOW + SECOND, LIVE_WITHIN).expect("status");
    let a = &fleet.nodes[0];
    assert_eq!(a.lag_receipts, Some(0), "{a:?}");
    assert_eq!(a.shipping.map(|s| s.age_us), Some(SECOND));
}

#[test]
fn lease_holdings_and_the_pools_of_the_current_windows_are_what_the_leases_made_them() {
    let cluster = Cluster::start();
    let mut a = cluster.migrated();
    let mut b = cluster.client();
    let mut a_leases = Leases::new(&mut a, "node-a");
    let mut b_leases = Leases::new(&mut b, "node-b");
    let yesterday = DAY - 86_400 * SECOND;
    let ttl = 10 * SECOND;

    // Yesterday's pool of "kyc": its lease returned, so today's pool replaces it.
    let old = a_leases
        .take(&pool("kyc", yesterday), 100, 40, ttl, yesterday)
        .expect("takes")
        .expect("granted");
    a_leases.close(old.token, 40, yesterday).expect("returns");
    // Yesterday's pool of "aml" keeps an open lease (its node has not returned it yet), so
    // it is shown beside today's.
    let late = a_leases
        .take(&pool("aml", yesterday), 50, 5, ttl, NOW)
        .expect("takes")
        .expect("granted");
    a_leases.report(late.token, 2).expect("reports");

    // Today: node-a holds two leases of "kyc", one partly spent; node-b held one and
    // stopped, so it was taken back with its unreported units in doubt.
    let first = a_leases
        .take(&pool("kyc", DAY), 100, 30, ttl, NOW)
        .expect("takes")
        .expect("granted");
    a_leases.report(first.token, 10).expect("reports");
    a_leases
        .take(&pool("kyc", DAY), 100, 25, ttl, NOW)
        .expect("takes")
        .expect("granted");
    let lost = b_leases
        .take(&pool("kyc", DAY), 100, 20, ttl, NOW - 60 * SECOND)
        .expect("takes")
        .expect("granted");
    b_leases.report(lost.token, 6).expect("reports");
    let reclaimed = a_leases.reclaim_expired(5 * SECOND, NOW).expect("sweeps");
    assert_eq!(reclaimed.len(), 1, "{reclaimed:?}");
    // A returned lease of today's "aml" holds nothing.
    let returned = b_leases
        .take(&pool("aml", DAY), 50, 8, ttl, NOW)
        .expect("takes")
        .expect("granted");
    b_leases.close(returned.token, 3, NOW).expect("returns");

    let fleet = status(&mut a, NOW, LIVE_WITHIN).expect("status");
    let holdings: Vec<(&str, NodeLeases)> = fleet
        .nodes
        .iter()
        .map(|node| (node.node.as_str(), node.leases))
        .collect();
    assert_eq!(
        holdings,
        [
            (
                "node-a",
                NodeLeases {
                    open: 3,
                    units_held: (5 - 2) + (30 - 10) + 25,
                    taken_back: 0,
                    in_doubt: 0,
                }
            ),
            (
                "node-b",
                NodeLeases {
                    open: 0,
                    units_held: 0,
                    taken_back: 1,
                    in_doubt: 20 - 6,
                }
            ),
        ]
    );
    assert!(
        fleet
            .nodes
            .iter()
            .all(|node| !node.live && node.seen.is_none()),
        "no heartbeat yet: {fleet:?}"
    );

    let pools: Vec<(PoolKey, PoolState, u64)> = fleet
        .pools
        .iter()
        .map(|p| (p.key.clone(), p.state, p.unused()))
        .collect();
    assert_eq!(
        pools,
        [
            (
                pool("aml", yesterday),
                PoolState {
                    cap: 50,
                    spent: 2,
                    leased: 3,
                    in_doubt: 0
                },
                45
            ),
            (
                pool("aml", DAY),
                PoolState {
                    cap: 50,
                    spent: 3,
                    leased: 0,
                    in_doubt: 0
                },
                47
            ),
            (
                pool("kyc", DAY),
                PoolState {
                    cap: 100,
                    spent: 10 + 6,
                    leased: 20 + 25,
                    in_doubt: 14
                },
                100 - 16 - 45 - 14
            ),
        ],
        "yesterday's kyc pool, all of its leases closed, is not a current window"
    );
}

#[test]
fn a_database_a_newer_appliance_migrated_is_refused() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    client
        .batch_execute("UPDATE fleet_schema SET version = 99")
        .expect("a newer appliance was here");
    let error = status(&mut client, NOW, LIVE_WITHIN).expect_err("newer");
    assert!(
        matches!(error, FleetError::NewerSchema { found: 99, .. }),
        "{error}"
    );
}

fn receipt(n: u64) -> Receipt {
    Receipt {
        tenant: "initech".into(),
        request_id: n,
        statement_digest: format!("{n:064x}"),
        kind: "bls-single".into(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: 1,
        budget_remaining: None,
        ledger_seq: 0,
        shard: 0,
        received_at_unix_us: NOW - 100 * SECOND + n,
        decided_at_unix_us: NOW - 90 * SECOND + n,
        appliance_key_id: String::new(),
        bundle_revision: 4,
        bundle_hash: String::new(),
    }
}

#[test]
fn a_name_belongs_to_the_appliance_that_first_beat_under_it() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    heartbeat(&mut client, &beat("node-a", NOW - 5 * SECOND, 3)).expect("beats");
    let other = Beat {
        receipt_key: KEY_B.into(),
        ..beat("node-a", NOW, 9)
    };
    match heartbeat(&mut client, &other) {
        Err(FleetError::NameTaken {
            node,
            holder_key,
            seen_ago_s,
        }) => assert_eq!(
            (node.as_str(), holder_key.as_str(), seen_ago_s),
            ("node-a", KEY_A, 5)
        ),
        other => panic!("another appliance took the name: {other:?}"),
    }
    let fleet = status(&mut client, NOW, LIVE_WITHIN).expect("status");
    let seen = fleet.nodes[0].seen.as_ref().expect("seen");
    assert_eq!((seen.committed_seq, seen.receipt_key.as_str()), (3, KEY_A));
    // The appliance itself, restarted, keeps its name.
    let restarted = Beat {
        started_us: NOW,
        ..beat("node-a", NOW, 4)
    };
    heartbeat(&mut client, &restarted).expect("the same appliance beats again");
    // A row from before names were claimed is claimed by the next heartbeat.
    client
        .execute("UPDATE fleet_nodes SET receipt_key = NULL", &[])
        .expect("an unclaimed row");
    heartbeat(&mut client, &other).expect("claims the unclaimed name");
    assert!(matches!(
        heartbeat(&mut client, &restarted),
        Err(FleetError::NameTaken { .. })
    ));
}

#[test]
fn forgetting_a_node_settles_what_it_held_keeps_its_receipts_and_frees_its_name() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let dir = tempfile::tempdir().expect("a folder");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("a ledger");
    let mut signer = ReceiptSigner::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(6));
    let mut receipts: Vec<Receipt> = (1..=5).map(receipt).collect();
    let (_, stored) = sign_and_append(&mut ledger, &mut signer, receipts.iter_mut());
    stored.expect("stored");
    let last_seen = NOW - 60 * SECOND;
    ship(&mut client, "node-a", &ledger, 100, last_seen).expect("ships");
    heartbeat(&mut client, &beat("node-a", last_seen, 5)).expect("beats");
    let kyc = pool("kyc", DAY);
    let mut store = Leases::new(&mut client, "node-a");
    // One lease taken back after it expired (10 of its 20 units reported), one still open
    // (15 of 40 reported): 10 + 25 units the node never said it did not spend.
    let expired = store
        .take(&kyc, 1_000, 20, SECOND, last_seen - 30 * SECOND)
        .expect("takes")
        .expect("granted");
    store.report(expired.token, 10).expect("reports");
    let open = store
        .take(&kyc, 1_000, 40, 120 * SECOND, last_seen)
        .expect("takes")
        .expect("granted");
    store.report(open.token, 15).expect("reports");
    store.reclaim_expired(0, last_seen).expect("sweeps");
    assert_eq!(
        store.pool(&kyc).expect("reads"),
        Some(PoolState {
            cap: 1_000,
            spent: 25,
            leased: 25,
            in_doubt: 10,
        })
    );

    // Live, or unknown: refused, nothing changed.
    let refused = tf_fleet::forget(&mut client, "node-a", last_seen + SECOND, LIVE_WITHIN);
    assert!(matches!(refused, Err(FleetError::Forget(_))), "{refused:?}");
    let unknown = tf_fleet::forget(&mut client, "node-z", NOW, LIVE_WITHIN);
    assert!(matches!(unknown, Err(FleetError::Forget(_))), "{unknown:?}");

    let forgotten = tf_fleet::forget(&mut client, "node-a", NOW, LIVE_WITHIN).expect("forgets");
    let renamed = format!("node-a@forgotten-{}", NOW / SECOND);
    assert_eq!(
        forgotten,
        tf_fleet::Forgotten {
            renamed_to: renamed.clone(),
            leases_settled: 2,
            units_settled: 35,
            receipts_kept: 5,
        }
    );
    let mut store = Leases::new(&mut client, "node-a");
    assert_eq!(
        store.pool(&kyc).expect("reads"),
        Some(PoolState {
            cap: 1_000,
            spent: 60,
            leased: 0,
            in_doubt: 0,
        })
    );
    // Nothing of it is left to show: no heartbeat, cursor or lease open or in doubt.
    let fleet = status(&mut client, NOW, LIVE_WITHIN).expect("status");
    assert!(fleet.nodes.is_empty(), "{fleet:?}");

    // The name is free: a new appliance claims it and ships its own receipts from 1.
    let newcomer = Beat {
        receipt_key: KEY_B.into(),
        ..beat("node-a", NOW, 2)
    };
    heartbeat(&mut client, &newcomer).expect("claims the freed name");
    let other_dir = tempfile::tempdir().expect("a folder");
    let mut fresh = SqliteLedger::open(&other_dir.path().join("ledger.sqlite")).expect("a ledger");
    let mut receipts: Vec<Receipt> = (101..=102).map(receipt).collect();
    let (_, stored) = sign_and_append(&mut fresh, &mut signer, receipts.iter_mut());
    stored.expect("stored");
    let batch = ship(&mut client, "node-a", &fresh, 100, NOW).expect("ships");
    assert_eq!((batch.count, batch.through_seq), (2, 2));
    let kept: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM fleet_receipts WHERE node = $1",
            &[&renamed],
        )
        .expect("counts")
        .get(0);
    assert_eq!(kept, 5);
}
