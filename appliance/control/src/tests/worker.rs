//! The worker pattern over a real ledger file: a follower sees every committed record once, in
//! order, across a failure (supervised restart) and a restart of the whole control thread.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tf_ledger::{Ledger, LedgerRecord, SqliteLedger};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};
use tf_seam::Board;

use crate::worker::{Ask, FollowError, Follower, Pace, Worker};

/// Records what it is handed; fails once on `fail_at`.
struct Recorder {
    seen: Arc<Mutex<Vec<u64>>>,
    fail_at: Option<u64>,
}

impl Follower for Recorder {
    fn name(&self) -> &'static str {
        "test-recorder"
    }

    fn handle(&mut self, record: &LedgerRecord) -> Result<(), FollowError> {
        if self.fail_at == Some(record.seq()) {
            self.fail_at = None;
            return Err(FollowError(format!("refusing {} once", record.seq())));
        }
        self.seen.lock().expect("not poisoned").push(record.seq());
        Ok(())
    }
}

fn receipt(seq: u64) -> Receipt {
    Receipt {
        tenant: "acme".into(),
        request_id: seq,
        statement_digest: "ab".repeat(32),
        kind: "bls-single".into(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: 1,
        budget_remaining: None,
        ledger_seq: seq,
        shard: 0,
        received_at_unix_us: 1_000 + seq,
        decided_at_unix_us: 2_000 + seq,
        appliance_key_id: String::new(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}

/// Appends `count` receipts after the last one and announces them committed on the board.
fn append(ledger: &mut SqliteLedger, board: &Board, count: u64) {
    let first = ledger.next_seq();
    let mut signer = ReceiptSigner::from_secret(&[3; 32]);
    let mut receipts: Vec<Receipt> = (first..first + count).map(receipt).collect();
    let (_, stored) = tf_ledger::sign_and_append(ledger, &mut signer, receipts.iter_mut());
    stored.expect("append");
    board.publish_committed(ledger.next_seq() - 1);
}

/// Runs a worker on its own System until it has handled up to `until`; where it stands a few
/// turns later.
fn follow_until(path: &Path, board: Arc<Board>, recorder: Recorder, until: u64) -> u64 {
    let system = actix::System::new();
    let arbiter = actix::Arbiter::new();
    let handle = arbiter.handle();
    let reached = system.block_on(async move {
        let ledger = Box::new(SqliteLedger::open(path).expect("the worker's connection"));
        let pace = Pace {
            tick: Duration::from_millis(2),
            batch: 7,
            backoff: Duration::from_millis(5),
        };
        let worker = Worker::new(recorder, ledger, board, pace).start_supervised(&handle);
        for _ in 0..5_000 {
            actix::clock::sleep(Duration::from_millis(2)).await;
            let progress = worker.send(Ask).await.expect("the worker answers");
            if progress.cursor >= until {
                // A few more turns, to see that it does not go past what was announced.
                actix::clock::sleep(Duration::from_millis(20)).await;
                return worker.send(Ask).await.expect("the worker answers").cursor;
            }
        }
        panic!("the worker did not reach {until}");
    });
    arbiter.stop();
    arbiter.join().expect("the worker's thread ends");
    reached
}

#[test]
fn a_worker_follows_the_ledger_across_a_failure_and_a_restart_without_skips_or_repeats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("the ledger thread's connection");
    let board = Arc::new(Board::new(1));
    let seen = Arc::new(Mutex::new(Vec::new()));
    append(&mut ledger, &board, 30);

    // First run: fails once on record 12 (mid-batch), is restarted by its supervisor, and goes
    // on to everything committed.
    let reached = follow_until(
        &path,
        board.clone(),
        Recorder {
            seen: seen.clone(),
            fail_at: Some(12),
        },
        30,
    );
    assert_eq!(reached, 30);

    // More is committed while no worker runs; a new worker (a restarted appliance) resumes
    // from the durable cursor.
    append(&mut ledger, &board, 25);
    let reached = follow_until(
        &path,
        board.clone(),
        Recorder {
            seen: seen.clone(),
            fail_at: None,
        },
        55,
    );
    assert_eq!(reached, 55);
    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(
        seen,
        (1..=55).collect::<Vec<u64>>(),
        "every record once, in order"
    );
    let stored = SqliteLedger::open(&path)
        .expect("reopen")
        .cursor("test-recorder")
        .expect("the cursor reads");
    assert_eq!(stored, 55, "the cursor is durable");
}

#[test]
fn a_worker_reads_only_what_the_ledger_thread_announced_committed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("the ledger thread's connection");
    let board = Arc::new(Board::new(1));
    append(&mut ledger, &board, 10);
    // Stored but not announced: the worker must not run ahead of the watermark.
    let quiet = Board::new(1);
    append(&mut ledger, &quiet, 5);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reached = follow_until(
        &path,
        board,
        Recorder {
            seen: seen.clone(),
            fail_at: None,
        },
        10,
    );
    assert_eq!(reached, 10);
    assert_eq!(
        seen.lock().expect("not poisoned").clone(),
        (1..=10).collect::<Vec<u64>>()
    );
}
