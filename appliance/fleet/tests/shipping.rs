//! Shipping against a real PostgreSQL server and a real SQLite ledger: every committed receipt
//! arrives once, byte for byte, in order, in batches; shipping again adds nothing, and a
//! cursor set back (a batch whose commit the node never learned of) adds no duplicate.

#[path = "support/cluster.rs"]
mod cluster;

use cluster::Cluster;
use rand_core::SeedableRng;
use tf_fleet::{Shipped, ship};
use tf_ledger::{Ledger, SqliteLedger, sign_and_append};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

fn receipt(n: u64) -> Receipt {
    Receipt {
        tenant: if n.is_multiple_of(2) {
            "initech"
        } else {
            "hooli"
        }
        .into(),
        request_id: u64::MAX - n,
        statement_digest: format!("{n:064x}"),
        kind: "bls-single".into(),
        verdict: if n.is_multiple_of(5) {
            VerdictLabel::Invalid
        } else {
            VerdictLabel::Valid
        },
        reason: n.is_multiple_of(5).then(|| "pairing check failed".into()),
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: n % 3,
        budget_remaining: None,
        ledger_seq: 0,
        shard: 0,
        received_at_unix_us: 1_000 + n,
        decided_at_unix_us: 2_000 + n,
        appliance_key_id: String::new(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}

#[test]
fn every_committed_receipt_arrives_once_byte_for_byte() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let dir = tempfile::tempdir().expect("a folder");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("a ledger");
    let mut signer = ReceiptSigner::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
    let mut receipts: Vec<Receipt> = (1..=40).map(receipt).collect();
    let (_, stored) = sign_and_append(&mut ledger, &mut signer, receipts.iter_mut());
    stored.expect("stored");

    let mut shipped = Vec::new();
    loop {
        let batch = ship(&mut client, "node-a", &ledger, 7, 10).expect("ships");
        if batch.count == 0 {
            break;
        }
        shipped.push(batch);
    }
    assert_eq!(shipped.len(), 6, "40 in batches of 7: {shipped:?}");
    assert_eq!(
        shipped.last(),
        Some(&Shipped {
            count: 5,
            through_seq: 40,
            oldest_decided_us: Some(2_036),
        })
    );
    // A batch shipped again (the cursor set back) adds nothing twice.
    client
        .execute(
            "UPDATE fleet_shipping SET shipped_seq = 30 WHERE node = 'node-a'",
            &[],
        )
        .expect("set back");
    let again = ship(&mut client, "node-a", &ledger, 100, 11).expect("ships");
    assert_eq!(
        again,
        Shipped {
            count: 10,
            through_seq: 40,
            oldest_decided_us: Some(2_031),
        }
    );
    let rows = client
        .query(
            "SELECT seq, tenant, request_id, verdict, charged, envelope FROM fleet_receipts
             WHERE node = 'node-a' ORDER BY seq",
            &[],
        )
        .expect("reads");
    assert_eq!(rows.len(), 40);
    for (n, row) in (1u64..).zip(&rows) {
        let (_, stored) = ledger.receipt(n).expect("reads").expect("stored");
        assert_eq!(row.get::<_, i64>(0) as u64, n);
        assert_eq!(row.get::<_, String>(1), receipt(n).tenant);
        assert_eq!(row.get::<_, String>(2), (u64::MAX - n).to_string());
        assert_eq!(row.get::<_, String>(3), stored.verdict);
        assert_eq!(row.get::<_, i64>(4) as u64, n % 3);
        assert_eq!(
            row.get::<_, String>(5),
            stored.envelope_json,
            "byte for byte"
        );
    }
    // Another node's receipts with the same numbers are its own rows.
    let dir_b = tempfile::tempdir().expect("a folder");
    let mut ledger_b = SqliteLedger::open(&dir_b.path().join("ledger.sqlite")).expect("a ledger");
    let mut more: Vec<Receipt> = (1..=3).map(receipt).collect();
    sign_and_append(&mut ledger_b, &mut signer, more.iter_mut())
        .1
        .expect("stored");
    let b = ship(&mut client, "node-b", &ledger_b, 100, 12).expect("ships");
    assert_eq!(
        b,
        Shipped {
            count: 3,
            through_seq: 3,
            oldest_decided_us: Some(2_001),
        }
    );
    let total: i64 = client
        .query_one("SELECT count(*) FROM fleet_receipts", &[])
        .expect("counts")
        .get(0);
    assert_eq!(total, 43);
}

/// Pruning deletes a node's shipped receipts decided before the cutoff, oldest first and at
/// most the limit at a time; the cursor and the other nodes' receipts stay as they are.
#[test]
fn pruning_deletes_a_nodes_old_receipts_oldest_first() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let dir = tempfile::tempdir().expect("a folder");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("a ledger");
    let mut signer = ReceiptSigner::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(4));
    let mut receipts: Vec<Receipt> = (1..=20).map(receipt).collect();
    let (_, stored) = sign_and_append(&mut ledger, &mut signer, receipts.iter_mut());
    stored.expect("stored");
    for node in ["node-a", "node-b"] {
        ship(&mut client, node, &ledger, 100, 10).expect("ships");
    }
    let left = |client: &mut postgres::Client, node: &str| -> Vec<i64> {
        client
            .query(
                "SELECT seq FROM fleet_receipts WHERE node = $1 ORDER BY seq",
                &[&node],
            )
            .expect("reads")
            .iter()
            .map(|row| row.get(0))
            .collect()
    };
    // Receipts 1 to 11 were decided before 2,012: at most 4 go at a time, oldest first.
    assert_eq!(
        tf_fleet::prune_shipped(&mut client, "node-a", 2_012, 4).expect("prunes"),
        4
    );
    assert_eq!(left(&mut client, "node-a").first(), Some(&5));
    while tf_fleet::prune_shipped(&mut client, "node-a", 2_012, 4).expect("prunes") > 0 {}
    assert_eq!(left(&mut client, "node-a"), (12..=20).collect::<Vec<i64>>());
    assert_eq!(
        left(&mut client, "node-b").len(),
        20,
        "another node's are its own"
    );
    // Shipping goes on from the cursor: nothing pruned comes back.
    let again = ship(&mut client, "node-a", &ledger, 100, 11).expect("ships");
    assert_eq!((again.count, again.through_seq), (0, 20));
}
