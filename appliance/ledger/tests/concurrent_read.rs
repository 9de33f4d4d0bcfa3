//! Following the ledger from another thread on its own connection while the ledger thread
//! appends: the follower sees whole committed batches, in order, with no gap and no repeat.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tf_ledger::{Ledger, SqliteLedger, sign_and_append};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

/// Batches the writer commits; their sizes run 1..=7 so that reads of `LIMIT` records end
/// both inside and at the end of batches.
const BATCHES: u64 = 120;
/// Records the follower asks for per read.
const LIMIT: usize = 5;
const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

fn batch_len(batch: u64) -> u64 {
    batch % 7 + 1
}

fn tenant_of(seq: u64) -> &'static str {
    TENANTS[(seq % 3) as usize]
}

fn receipt(seq: u64) -> Receipt {
    Receipt {
        tenant: tenant_of(seq).into(),
        request_id: seq,
        statement_digest: "ab".repeat(32),
        kind: "bls-single".into(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: 1,
        budget_remaining: Some(10),
        ledger_seq: seq,
        shard: 0,
        received_at_unix_us: seq * 1_000,
        decided_at_unix_us: seq * 1_000 + 10,
        appliance_key_id: String::new(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}

/// Sets its flag when dropped, so the other thread stops waiting even if this one panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn a_follower_on_its_own_connection_sees_a_gapless_committed_prefix_while_the_writer_appends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    let mut writer = SqliteLedger::open(&path).expect("open");
    let mut follower: Box<dyn Ledger> = Box::new(SqliteLedger::open(&path).expect("open again"));

    // The last sequence number of each batch: a read that stops short of LIMIT saw one
    // committed state, so it must end on one of these.
    let mut ends = BTreeSet::from([0]);
    let mut total = 0;
    for batch in 0..BATCHES {
        total += batch_len(batch);
        ends.insert(total);
    }

    // The last number of the batch being committed (stored before its commit starts) and of
    // the last batch whose commit returned.
    let committing = AtomicU64::new(0);
    let committed = AtomicU64::new(0);
    let follower_at = AtomicU64::new(0);
    let writer_done = AtomicBool::new(false);
    let follower_gone = AtomicBool::new(false);

    std::thread::scope(|scope| {
        let writing = scope.spawn(|| {
            let _done = SetOnDrop(&writer_done);
            let mut signer = ReceiptSigner::from_secret(&[3; 32]);
            for batch in 0..BATCHES {
                let first = writer.next_seq();
                let mut receipts: Vec<Receipt> =
                    (first..first + batch_len(batch)).map(receipt).collect();
                let last = first + batch_len(batch) - 1;
                committing.store(last, Ordering::Release);
                let (_, stored) = sign_and_append(&mut writer, &mut signer, receipts.iter_mut());
                stored.expect("append");
                committed.store(last, Ordering::Release);
                // Halfway, wait for the follower to have read something, so that it surely
                // reads while there is more to write.
                if batch == BATCHES / 2 {
                    while follower_at.load(Ordering::Acquire) == 0
                        && !follower_gone.load(Ordering::Acquire)
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
        });

        let following = scope.spawn(|| {
            let _gone = SetOnDrop(&follower_gone);
            let mut cursor = follower.cursor("follower").expect("cursor");
            assert_eq!(cursor, 0);
            let mut reads_while_writing = 0;
            loop {
                let finished = writer_done.load(Ordering::Acquire);
                let visible_before = committed.load(Ordering::Acquire);
                let records = follower.receipts_after(cursor, LIMIT).expect("read");
                let bound = committing.load(Ordering::Acquire);
                assert!(records.len() <= LIMIT, "{} records", records.len());
                for record in &records {
                    assert_eq!(record.seq(), cursor + 1, "a gap or a repeat after {cursor}");
                    assert!(
                        record.seq() <= bound,
                        "seq {} before the writer committed it (last {bound})",
                        record.seq()
                    );
                    assert_eq!(record.tenant, tenant_of(record.seq()));
                    assert!(
                        record.receipt.envelope_json.contains("\"payloadType\""),
                        "{}",
                        record.receipt.envelope_json
                    );
                    cursor = record.seq();
                }
                if records.len() < LIMIT {
                    assert!(
                        ends.contains(&cursor),
                        "part of a batch seen: ends at {cursor}"
                    );
                    assert!(
                        cursor >= visible_before,
                        "committed {visible_before} not visible: read up to {cursor}"
                    );
                }
                if records.is_empty() {
                    if finished {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
                if !finished {
                    reads_while_writing += 1;
                }
                // Saved through this connection while the writer commits through its own:
                // each waits for the other's transaction.
                follower
                    .save_cursor("follower", cursor)
                    .expect("save cursor");
                follower_at.store(cursor, Ordering::Release);
            }
            (cursor, reads_while_writing)
        });

        writing.join().expect("writer");
        let (cursor, reads_while_writing) = following.join().expect("follower");
        assert_eq!(cursor, total, "the follower saw everything written");
        assert!(
            reads_while_writing > 0,
            "the follower read while the writer wrote"
        );
    });

    assert_eq!(writer.next_seq(), total + 1);
    let reopened = SqliteLedger::open(&path).expect("reopen");
    assert_eq!(reopened.cursor("follower").expect("cursor"), total);
    assert_eq!(
        reopened.receipts_after(total, LIMIT).expect("read"),
        [],
        "nothing past the last committed receipt"
    );
}
