//! A packet made from a real ledger and log verifies and holds the period exactly; periods the
//! log does not cover yet are refused, and empty periods make empty packets.

mod common;

use std::fs;

use tf_ledger::{Ledger, PruneBounds};

use common::{Decided, FROM_US, TO_US, bundle_hash, context, files, filled, gzipped_lines};
use tf_compliance::{
    ChargeLine, INDEX_FILE, LOG_CHECKPOINT_FILE, LOG_RANGE_FILE, PeriodFile, SnapshotError,
    TimelineFile, verify_packet,
};
use tf_evidence::{BudgetLine, BudgetStatements};
use tf_receipts::VerdictLabel::Valid;

#[test]
fn an_intact_packet_verifies_and_holds_the_period_exactly() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    assert_eq!(snapshot.name, "snapshot-19700101T000002Z");
    let packet = &snapshot.path;
    let mut expected = vec![
        "auditors.json",
        "budgets/acme.charges.jsonl.gz",
        "budgets/acme.json",
        "budgets/beta.charges.jsonl.gz",
        "budgets/beta.json",
        "index.dsse.json",
        "log/checkpoint",
        "log/consistency.json",
        "log/range.json",
        // 310 entries: tile 0 is full, tile 1 holds 54; level 1 holds one hash.
        "log/tile/0/000",
        "log/tile/0/001.p/54",
        "log/tile/1/000.p/1",
        "period.json",
        "receipts/acme.jsonl.gz",
        "receipts/beta.jsonl.gz",
        "timeline.json",
    ];
    expected.sort_unstable();
    assert_eq!(files(packet), expected);

    // Receipts exactly as the ledger gives them, in sequence order, one per line.
    let acme = appliance.envelopes("acme", FROM_US, TO_US);
    assert_eq!(acme.len(), 5);
    let stored: Vec<String> = gzipped_lines(&packet.join("receipts/acme.jsonl.gz"))
        .iter()
        .map(|line| serde_json::from_str(line).expect("a JSON string"))
        .collect();
    assert_eq!(stored, acme);

    let budgets: BudgetStatements =
        serde_json::from_slice(&fs::read(packet.join("budgets/acme.json")).expect("read"))
            .expect("statements");
    let line = |purpose: &str, class: &str, counts: [u64; 5]| BudgetLine {
        purpose: purpose.into(),
        dataset_class: class.into(),
        requests: counts[0],
        valid: counts[1],
        invalid: counts[2],
        rejected: counts[3],
        charged: counts[4],
    };
    assert_eq!(
        budgets.lines,
        [
            line("aml", "P0", [1, 0, 1, 0, 2]),
            line("kyc", "P1", [4, 3, 1, 0, 3])
        ]
    );
    let charges = gzipped_lines(&packet.join("budgets/acme.charges.jsonl.gz"));
    let charges: Vec<(u64, u64)> = charges
        .iter()
        .map(|l| serde_json::from_str::<ChargeLine<'_>>(l).expect("charge"))
        .map(|c| (c.decided_unix_us, c.charged))
        .collect();
    assert_eq!(
        charges,
        [
            (1_200_000, 1),
            (1_300_000, 2),
            (1_450_000, 1),
            (TO_US - 1, 1)
        ]
    );

    let timeline: TimelineFile =
        serde_json::from_slice(&fs::read(packet.join("timeline.json")).expect("read"))
            .expect("timeline");
    let in_force = timeline
        .in_force_at_start
        .expect("promoted before the period");
    assert_eq!(
        (in_force.action.as_str(), in_force.to_revision),
        ("promote", 1)
    );
    let events: Vec<(&str, u64, &str)> = timeline
        .events
        .iter()
        .map(|e| (e.action.as_str(), e.to_revision, e.bundle_hash.as_str()))
        .collect();
    assert_eq!(
        events,
        [
            ("promote", 2, bundle_hash(2).as_str()),
            ("rollback", 3, bundle_hash(3).as_str())
        ]
    );
    let period: PeriodFile =
        serde_json::from_slice(&fs::read(packet.join("period.json")).expect("read"))
            .expect("period");
    assert_eq!(period.context, context());

    let summary = &snapshot.summary;
    assert_eq!((summary.receipts, summary.charged), (306, 158));
    let tenants: Vec<(&str, u64, u64)> = summary
        .tenants
        .iter()
        .map(|t| (t.tenant.as_str(), t.receipts, t.charged))
        .collect();
    assert_eq!(tenants, [("acme", 5, 5), ("beta", 301, 153)]);
    let range = summary.log.receipts.expect("receipts");
    assert_eq!(
        (range.first, range.last, summary.log.tree_size),
        (3, 308, 310)
    );

    let key = appliance.signer.public_key();
    let verified = verify_packet(packet, &key, None).expect("intact");
    assert_eq!(&verified.summary, summary);
    assert_eq!(verified.index_sha256, snapshot.index_sha256);
    assert_eq!(
        verified.index_sha256,
        tf_compliance::Sha256Digest::of(&fs::read(packet.join(INDEX_FILE)).expect("read"))
    );
    assert_eq!(verified.checkpoint.size, 310);
    assert_eq!(verified.previous, None);
    let vkey = appliance.log_signer.vkey();
    verify_packet(packet, &key, Some(&vkey)).expect("with the log key given");
}

#[test]
fn the_wrong_keys_are_named() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let other_log = tf_tlog::NoteSigner::new(common::ORIGIN, &[8; 32]).expect("name");
    let problems = verify_packet(
        &snapshot.path,
        &appliance.signer.public_key(),
        Some(&other_log.vkey()),
    )
    .expect_err("another log's key");
    assert!(
        problems.iter().any(|p| p.file == LOG_RANGE_FILE),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.file == LOG_CHECKPOINT_FILE),
        "{problems:?}"
    );

    let other = tf_receipts::ReceiptSigner::from_secret(&[4; 32]).public_key();
    let problems = verify_packet(&snapshot.path, &other, None).expect_err("another appliance");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].file, INDEX_FILE);
    assert!(
        problems[0].what.contains("another appliance"),
        "{problems:?}"
    );
}

#[test]
fn a_period_the_log_does_not_cover_yet_is_refused_and_leaves_nothing() {
    let mut appliance = filled();
    appliance.append(&[Decided("acme", "kyc", "P1", Valid, 1, TO_US + 1_000_000)]);
    appliance.append(&[Decided("acme", "kyc", "P1", Valid, 1, TO_US + 1_500_000)]);
    let refused = appliance
        .snapshot(TO_US, TO_US + 2_000_000, None)
        .expect_err("not logged yet");
    assert!(
        matches!(
            refused,
            SnapshotError::NotYetLogged {
                seq: 310,
                tree_size: 310
            }
        ),
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains("retry after the log's next checkpoint")
    );
    let left: Vec<_> = fs::read_dir(appliance.packets())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, [".snapshot.lock"]);
    appliance.checkpoint();
    let snapshot = appliance
        .snapshot(TO_US, TO_US + 2_000_000, None)
        .expect("logged now");
    verify_packet(&snapshot.path, &appliance.signer.public_key(), None).expect("intact");
}

#[test]
fn a_period_without_receipts_makes_a_packet_without_tenants_or_tiles() {
    let mut appliance = filled();
    let snapshot = appliance
        .snapshot(10_000_000, 20_000_000, None)
        .expect("snapshot");
    assert!(snapshot.summary.tenants.is_empty());
    assert_eq!(snapshot.summary.log.receipts, None);
    assert!(
        files(&snapshot.path)
            .iter()
            .all(|f| !f.starts_with("log/tile") && !f.starts_with("receipts"))
    );
    verify_packet(&snapshot.path, &appliance.signer.public_key(), None).expect("intact");
    assert!(matches!(
        appliance.snapshot(10_000_000, 20_000_000, None),
        Err(SnapshotError::AlreadyExists { .. })
    ));
}

#[test]
fn a_period_whose_receipts_were_pruned_is_refused() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let last = snapshot.summary.log.receipts.expect("receipts").last;
    let pruned = appliance
        .ledger
        .prune(
            PruneBounds::up_to(last, TO_US, 1_000),
            &snapshot.name,
            TO_US + 10_000_000,
        )
        .expect("prune");
    assert_eq!(pruned.last_seq, Some(last));
    let refused = appliance
        .snapshot(FROM_US - 500_000, TO_US + 1_000_000, None)
        .expect_err("pruned");
    assert!(
        matches!(&refused, SnapshotError::Pruned { from_seq: 1, to_seq: 308, sealed_by }
            if *sealed_by == snapshot.name),
        "{refused}"
    );
    // The packet still verifies on its own: it is what holds those receipts now.
    verify_packet(&snapshot.path, &appliance.signer.public_key(), None).expect("intact");
}
