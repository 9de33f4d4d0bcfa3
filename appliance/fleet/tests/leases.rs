//! Budget leases against a real PostgreSQL server (a throwaway cluster per test): the schema
//! migrates once and refuses a newer one; nodes racing for one cap from their own connections
//! never spend more than it, and between them spend all of it; a lease not returned is taken
//! back after its grace period with its unreported units in doubt, its node is told and
//! settles it; a node cannot touch another's lease.

#[path = "support/cluster.rs"]
mod cluster;

use cluster::Cluster;
use tf_fleet::{FleetError, LeaseStore, Leases, PoolKey, PoolState, migrate};

const SECOND: u64 = 1_000_000;

fn pool() -> PoolKey {
    PoolKey {
        tenant: "initech".into(),
        purpose: String::new(),
        class: "P1".into(),
        window: "day".into(),
        window_start_us: 1_764_892_800 * SECOND,
    }
}

#[test]
fn the_schema_migrates_once_and_a_newer_one_is_refused() {
    let cluster = Cluster::start();
    let mut client = cluster.client();
    assert_eq!(migrate(&mut client).expect("migrates"), 0);
    assert_eq!(
        migrate(&mut client).expect("again"),
        tf_fleet::FLEET_SCHEMA_VERSION,
        "nothing left to do"
    );
    // A database an earlier appliance left at version 1 gets the timeline (1 -> 2) and the
    // nodes' keys (2 -> 3).
    client
        .batch_execute(
            "DROP TABLE fleet_timeline; ALTER TABLE fleet_nodes DROP COLUMN receipt_key;
             DROP INDEX fleet_leases_in_doubt; UPDATE fleet_schema SET version = 1",
        )
        .expect("as version 1 left it");
    assert_eq!(migrate(&mut client).expect("migrates"), 1);
    client
        .batch_execute("SELECT revision FROM fleet_timeline; SELECT receipt_key FROM fleet_nodes")
        .expect("the timeline and the nodes' keys are there");
    client
        .batch_execute("UPDATE fleet_schema SET version = 99")
        .expect("a newer appliance was here");
    let error = migrate(&mut client).expect_err("newer");
    assert!(
        matches!(error, FleetError::NewerSchema { found: 99, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("upgrade this appliance"),
        "{error}"
    );
}

#[test]
fn nodes_racing_for_one_cap_spend_all_of_it_and_never_more() {
    const CAP: u64 = 5_000;
    let cluster = Cluster::start();
    drop(cluster.migrated());
    let nodes: Vec<std::thread::JoinHandle<(u64, u64)>> = (0..3u64)
        .map(|n| {
            let mut client = cluster.client();
            std::thread::spawn(move || {
                let node = format!("node-{n}");
                let mut leases = Leases::new(&mut client, &node);
                let (mut spent, mut taken) = (0, 0);
                let mut round = 0u64;
                // Take, spend some or all (as partners' requests would), report, return.
                while let Some(lease) = leases
                    .take(&pool(), CAP, 7 + n * 5, 10 * SECOND, round)
                    .expect("takes")
                {
                    taken += 1;
                    let used = lease.units.min(1 + (round * 7 + n) % 11);
                    leases.report(lease.token, used / 2).expect("reports");
                    let back = leases.close(lease.token, used, round).expect("returns");
                    assert_eq!(back, lease.units - used);
                    spent += used;
                    round += 1;
                }
                (spent, taken)
            })
        })
        .collect();
    let results: Vec<(u64, u64)> = nodes
        .into_iter()
        .map(|node| node.join().expect("no panic"))
        .collect();
    let spent: u64 = results.iter().map(|(spent, _)| spent).sum();
    assert_eq!(spent, CAP, "{results:?}");
    assert!(
        results.iter().all(|(_, taken)| *taken > 10),
        "all raced: {results:?}"
    );
    let mut client = cluster.client();
    let state = Leases::new(&mut client, "observer")
        .pool(&pool())
        .expect("reads")
        .expect("a pool");
    assert_eq!(
        state,
        PoolState {
            cap: CAP,
            spent: CAP,
            leased: 0,
            in_doubt: 0
        }
    );
}

#[test]
fn a_lease_not_returned_is_taken_back_in_doubt_until_its_node_settles_it() {
    let cluster = Cluster::start();
    let mut a = cluster.migrated();
    let mut b = cluster.client();
    let mut a = Leases::new(&mut a, "a");
    let mut b = Leases::new(&mut b, "b");
    let lease = a
        .take(&pool(), 100, 50, 10 * SECOND, 0)
        .expect("takes")
        .expect("granted");
    assert_eq!(lease.units, 50);
    a.report(lease.token, 10).expect("reports");
    // Another node cannot report on it, nor return it.
    let foreign = b.report(lease.token, 20).expect_err("not b's");
    assert!(foreign.to_string().contains("node a's"), "{foreign}");
    assert!(b.close(lease.token, 10, 0).is_err());
    // What is left: 100 - 10 spent - 40 leased; b asks for more and gets that.
    let rest = b
        .take(&pool(), 100, 80, 10 * SECOND, 0)
        .expect("takes")
        .expect("granted");
    assert_eq!(rest.units, 50);
    assert_eq!(
        b.take(&pool(), 100, 1, 10 * SECOND, 0).expect("takes"),
        None
    );
    b.close(rest.token, 0, 1).expect("b returns it all");
    // a stops answering. Within its grace period nothing is taken back; after it, its
    // unreported 40 units are in doubt: never handed out again while a may have spent them.
    assert_eq!(
        b.reclaim_expired(5 * SECOND, 14 * SECOND).expect("sweeps"),
        []
    );
    let reclaimed = b.reclaim_expired(5 * SECOND, 16 * SECOND).expect("sweeps");
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(
        (reclaimed[0].node.as_str(), reclaimed[0].in_doubt),
        ("a", 40)
    );
    let state = b.pool(&pool()).expect("reads").expect("a pool");
    assert_eq!((state.spent, state.leased, state.in_doubt), (10, 0, 40));
    let most = b
        .take(&pool(), 100, 100, 10 * SECOND, 16 * SECOND)
        .expect("takes")
        .expect("granted");
    assert_eq!(most.units, 50, "100 - 10 spent - 40 in doubt");
    // a is told, and settles from its own ledger: it spent 25; 15 come back.
    let lost = a.report(lease.token, 30).expect_err("taken back");
    assert!(lost.to_string().contains("settle it"), "{lost}");
    assert!(a.renew(lease.token, 0, 100, SECOND, 17 * SECOND).is_err());
    assert!(
        a.settle(lease.token, 9, 17 * SECOND).is_err(),
        "below what it reported"
    );
    assert_eq!(a.settle(lease.token, 25, 17 * SECOND).expect("settles"), 25);
    let state = b.pool(&pool()).expect("reads").expect("a pool");
    assert_eq!((state.spent, state.leased, state.in_doubt), (25, 50, 0));
    assert!(
        a.settle(lease.token, 25, 18 * SECOND).is_err(),
        "settled once"
    );
    let back = b
        .take(&pool(), 100, 100, 10 * SECOND, 18 * SECOND)
        .expect("takes")
        .expect("granted");
    assert_eq!(back.units, 25, "the 25 a did not spend");
}

#[test]
fn a_lease_taken_back_in_a_window_that_ended_is_settled_as_spent_in_full() {
    let cluster = Cluster::start();
    let mut a = cluster.migrated();
    let mut b = cluster.client();
    let mut a = Leases::new(&mut a, "a");
    let mut b = Leases::new(&mut b, "b");
    let yesterday = pool();
    let today = PoolKey {
        window_start_us: yesterday.window_start_us + 86_400 * SECOND,
        ..pool()
    };
    let lease = a
        .take(&yesterday, 100, 30, SECOND, 0)
        .expect("takes")
        .expect("granted");
    a.report(lease.token, 12).expect("reports");
    b.reclaim_expired(0, 2 * SECOND).expect("sweeps");
    // While its window lasts, the 18 unreported units stay in doubt: a may come back.
    assert_eq!(b.settle_ended().expect("settles"), 0);
    let state = b.pool(&yesterday).expect("reads").expect("a pool");
    assert_eq!((state.spent, state.in_doubt), (12, 18));
    // Once the cap's next window has a pool, they count as spent.
    b.take(&today, 100, 5, SECOND, 86_400 * SECOND)
        .expect("takes")
        .expect("granted");
    assert_eq!(b.settle_ended().expect("settles"), 1);
    let state = b.pool(&yesterday).expect("reads").expect("a pool");
    assert_eq!((state.spent, state.leased, state.in_doubt), (30, 0, 0));
    assert_eq!(b.settle_ended().expect("nothing left"), 0);
    let late = a.settle(lease.token, 20, 86_401 * SECOND);
    assert!(
        matches!(late, Err(FleetError::LeaseLost { .. })),
        "settled already: {late:?}"
    );
    let today_state = b.pool(&today).expect("reads").expect("a pool");
    assert_eq!((today_state.spent, today_state.leased), (0, 5), "untouched");
}

#[test]
fn a_renewal_extends_a_lease_and_adds_units_only_within_the_cap() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let mut node = Leases::new(&mut client, "a");
    let lease = node
        .take(&pool(), 30, 20, 10 * SECOND, 0)
        .expect("takes")
        .expect("granted");
    node.report(lease.token, 15).expect("reports");
    let renewed = node
        .renew(lease.token, 25, 30, 10 * SECOND, 8 * SECOND)
        .expect("renews");
    assert_eq!(
        (renewed.units, renewed.spent),
        (30, 15),
        "10 more: all that was left"
    );
    assert_eq!(renewed.expires_us, 18 * SECOND);
    assert!(node.report(lease.token, 31).is_err(), "beyond its units");
    // Renewed, it is not taken back at the old expiry.
    assert_eq!(node.reclaim_expired(0, 12 * SECOND).expect("sweeps"), []);
    assert_eq!(
        node.close(lease.token, 30, 13 * SECOND).expect("returns"),
        0
    );
}
