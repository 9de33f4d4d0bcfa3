//! Pruning: only the oldest receipts inside both bounds go, at most as many as asked, the
//! ranges and their snapshots are recorded, sequence numbers are never reused, a worker
//! following the ledger keeps a gapless run while pruning runs beside it, and the file stops
//! growing when pruning keeps pace.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::Connection;
use tf_ledger::{
    Ledger, LedgerError, LedgerRecord, PruneBounds, Pruned, PrunedRange, SqliteLedger,
};

use common::fill;

/// Sets its flag when dropped, so the other threads stop even if this one panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn seqs(records: &[LedgerRecord]) -> Vec<u64> {
    records.iter().map(LedgerRecord::seq).collect()
}

#[test]
fn pruning_takes_the_oldest_receipts_inside_both_bounds_at_most_max_rows_and_records_the_ranges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    // Receipt n decided at n ms, except 9, decided late (a shard's clock ahead).
    fill(
        &mut ledger,
        (1..=12).map(|n| if n == 9 { 50_000 } else { n * 1_000 }),
    );

    // The decision bound: receipts decided before 6 ms, three per step.
    assert_eq!(
        ledger
            .prune(PruneBounds::up_to(100, 6_000, 3), "snap-1", 70,)
            .expect("prune"),
        Pruned {
            deleted: 3,
            last_seq: Some(3)
        }
    );
    assert_eq!(
        ledger
            .prune(PruneBounds::up_to(100, 6_000, 3), "snap-1", 71,)
            .expect("prune"),
        Pruned {
            deleted: 2,
            last_seq: Some(5)
        }
    );
    assert_eq!(
        ledger
            .prune(PruneBounds::up_to(100, 6_000, 3), "snap-1", 72,)
            .expect("prune"),
        Pruned::default(),
        "receipt 6 was decided at 6 ms, not before"
    );
    // The sequence bound, under another snapshot.
    assert_eq!(
        ledger
            .prune(PruneBounds::up_to(7, u64::MAX, 100), "snap-2", 80,)
            .expect("prune"),
        Pruned {
            deleted: 2,
            last_seq: Some(7)
        }
    );
    // Receipt 9 is too new: pruning stops at it, not past it, so no gap opens.
    assert_eq!(
        ledger
            .prune(PruneBounds::up_to(100, 20_000, 100), "snap-2", 90,)
            .expect("prune"),
        Pruned {
            deleted: 1,
            last_seq: Some(8)
        }
    );
    assert_eq!(
        ledger
            .prune(PruneBounds::up_to(100, 20_000, 0), "snap-2", 91,)
            .expect("prune"),
        Pruned::default(),
        "max_rows 0 deletes nothing"
    );

    assert_eq!(
        ledger.pruned_ranges().expect("ranges"),
        [
            PrunedRange {
                from_seq: 1,
                to_seq: 5,
                decided_from_us: 1_000,
                decided_to_us: 5_000,
                sealed_by: "snap-1".into(),
                at_us: 71,
            },
            PrunedRange {
                from_seq: 6,
                to_seq: 8,
                decided_from_us: 6_000,
                decided_to_us: 8_000,
                sealed_by: "snap-2".into(),
                at_us: 90,
            },
        ]
    );
    assert_eq!(ledger.oldest_retained().expect("oldest"), Some((9, 50_000)));
    assert_eq!(ledger.receipt(8).expect("read"), None);
    assert!(ledger.receipt(9).expect("read").is_some());
    assert_eq!(
        seqs(&ledger.receipts_after(0, 100).expect("read")),
        [9, 10, 11, 12]
    );
    assert_eq!(ledger.storage().expect("stats").receipts, 4);

    // Pruned to empty, the sequence still continues after reopening.
    ledger
        .prune(PruneBounds::up_to(u64::MAX, u64::MAX, 100), "snap-3", 100)
        .expect("prune");
    assert_eq!(ledger.oldest_retained().expect("oldest"), None);
    assert_eq!(ledger.storage().expect("stats").receipts, 0);
    drop(ledger);
    let mut ledger = SqliteLedger::open(&path).expect("reopen");
    assert_eq!(ledger.next_seq(), 13, "numbers are never reused");
    fill(&mut ledger, [60_000]);
    assert_eq!(seqs(&ledger.receipts_after(0, 10).expect("read")), [13]);

    let reader = SqliteLedger::open_read_only(&path).expect("open");
    assert_eq!(reader.pruned_ranges().expect("ranges").len(), 3);
    let mut reader: Box<dyn Ledger> = Box::new(reader);
    let err = reader
        .prune(PruneBounds::up_to(u64::MAX, u64::MAX, 1), "snap", 1)
        .expect_err("read-only");
    assert!(matches!(err, LedgerError::ReadOnly { .. }), "{err}");
    let err = Connection::open(&path)
        .expect("sqlite")
        .execute("DELETE FROM pruned_ranges", [])
        .expect_err("kept");
    assert!(err.to_string().contains("kept"), "{err}");
}

#[test]
fn a_worker_following_the_ledger_sees_a_gapless_run_while_pruning_runs_beside_it() {
    const BATCHES: u64 = 150;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    let mut writer = SqliteLedger::open(&path).expect("open");
    let mut follower = SqliteLedger::open(&path).expect("open");
    let mut pruner = SqliteLedger::open(&path).expect("open");
    let written = AtomicBool::new(false);
    let followed = AtomicBool::new(false);
    // The last receipt pruned so far, and whether the pruner stopped.
    let pruned = AtomicU64::new(0);
    let pruner_gone = AtomicBool::new(false);
    let mut total = 0;
    for batch in 0..BATCHES {
        total += batch % 5 + 1;
    }

    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _written = SetOnDrop(&written);
            let mut decided = 0;
            for batch in 0..BATCHES {
                let next = decided + batch % 5 + 1;
                fill(&mut writer, (decided + 1..=next).map(|n| n * 1_000));
                decided = next;
                // Halfway, wait for something to be pruned, so that pruning surely runs while
                // there is more to write and follow.
                if batch == BATCHES / 2 {
                    while pruned.load(Ordering::Acquire) == 0
                        && !pruner_gone.load(Ordering::Acquire)
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
        });
        // Prunes through what the worker has handled (its saved cursor), in small steps.
        scope.spawn(|| {
            let _gone = SetOnDrop(&pruner_gone);
            let mut at = 0;
            while !followed.load(Ordering::Acquire) {
                let handled = pruner.cursor("worker").expect("cursor");
                at += 1;
                let step = pruner
                    .prune(PruneBounds::up_to(handled, u64::MAX, 4), "snapshot", at)
                    .expect("prune");
                if let Some(last) = step.last_seq {
                    pruned.store(last, Ordering::Release);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        let _followed = SetOnDrop(&followed);
        let mut cursor = 0;
        let mut reads = 0;
        loop {
            let done = written.load(Ordering::Acquire);
            let records = follower.receipts_after(cursor, 6).expect("read");
            for record in &records {
                assert_eq!(record.seq(), cursor + 1, "a gap or a repeat after {cursor}");
                assert!(record.receipt.envelope_json.contains("\"payloadType\""));
                cursor = record.seq();
            }
            if records.is_empty() {
                if done {
                    break;
                }
                std::thread::sleep(Duration::from_micros(300));
                continue;
            }
            reads += 1;
            follower.save_cursor("worker", cursor).expect("save");
        }
        assert_eq!(cursor, total, "the worker saw every receipt");
        assert!(reads > 1);
    });

    let ranges = pruner.pruned_ranges().expect("ranges");
    assert!(
        ranges.len() <= 1,
        "steps sealed by one snapshot make one range: {ranges:?}"
    );
    let pruned_to = ranges.first().map_or(0, |range| range.to_seq);
    assert!(pruned_to > 0, "pruning ran while the worker followed");
    assert_eq!(pruned_to, pruned.load(Ordering::Acquire));
    assert!(ranges.iter().all(|range| range.from_seq == 1));
    assert_eq!(
        pruner
            .oldest_retained()
            .expect("oldest")
            .map(|(seq, _)| seq),
        (pruned_to < total).then_some(pruned_to + 1)
    );
    // A worker whose cursor is inside the pruned prefix resumes at the oldest receipt kept.
    let resumed = pruner.receipts_after(0, 3).expect("read");
    assert_eq!(
        resumed.first().map(LedgerRecord::seq),
        (pruned_to < total).then_some(pruned_to + 1)
    );
}

#[test]
fn the_file_grows_while_filling_and_stops_growing_when_pruning_keeps_pace() {
    const ROUND: u64 = 3_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    let empty = ledger.storage().expect("stats");
    assert_eq!(empty.receipts, 0);

    fill(&mut ledger, (1..=ROUND).map(|n| n * 1_000));
    let full = ledger.storage().expect("stats");
    assert_eq!(full.receipts, ROUND);
    assert!(
        full.file_bytes > empty.file_bytes + ROUND * 100,
        "{empty:?} -> {full:?}"
    );
    assert!(full.wal_bytes > 0, "{full:?}");
    assert_eq!(full.bytes_on_disk(), full.file_bytes + full.wal_bytes);

    while ledger
        .prune(PruneBounds::up_to(u64::MAX, u64::MAX, 1_000), "snap", 1)
        .expect("prune")
        .deleted
        > 0
    {}
    let pruned = ledger.storage().expect("stats");
    assert_eq!(pruned.receipts, 0);
    assert_eq!(pruned.file_bytes, full.file_bytes, "the file is not shrunk");
    assert!(
        pruned.free_bytes() > full.file_bytes / 2,
        "the receipts' pages are free: {pruned:?}"
    );

    fill(&mut ledger, (ROUND + 1..=2 * ROUND).map(|n| n * 1_000));
    let refilled = ledger.storage().expect("stats");
    assert_eq!(refilled.receipts, ROUND);
    let grown = refilled.file_bytes - full.file_bytes;
    assert!(
        grown < (full.file_bytes - empty.file_bytes) / 5,
        "refilling reused the freed pages: grew by {grown} bytes ({full:?} -> {refilled:?})"
    );
    assert!(refilled.free_pages < pruned.free_pages, "{refilled:?}");
}

#[test]
fn a_receipt_decided_before_the_sealing_period_stops_pruning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open");
    // Receipt 3 was decided at 1.5 ms but stored after a snapshot of [0, 2 ms) was made: the
    // snapshot of [2 ms, 10 ms) does not hold it either.
    fill(&mut ledger, [2_000, 3_000, 1_500, 4_000]);
    let sealing = PruneBounds {
        through_seq: 4,
        decided_from_us: 2_000,
        decided_before_us: 10_000,
        max_rows: 100,
    };
    assert_eq!(
        ledger.prune(sealing, "snap-2", 1).expect("prune"),
        Pruned {
            deleted: 2,
            last_seq: Some(2)
        }
    );
    assert_eq!(
        ledger.prune(sealing, "snap-2", 2).expect("prune"),
        Pruned::default()
    );
    assert_eq!(ledger.oldest_retained().expect("oldest"), Some((3, 1_500)));
}
