//! Driving a follower over a real ledger file: receipts appended as the ledger thread does,
//! and a worker run on its own System until it has handled up to a sequence number.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use tf_ledger::{Ledger, SqliteLedger};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};
use tf_seam::Board;

use crate::worker::{Ask, Follower, Pace, Progress, Worker};

pub(super) fn receipt(seq: u64) -> Receipt {
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
pub(super) fn append(ledger: &mut SqliteLedger, board: &Board, count: u64) {
    let first = ledger.next_seq();
    let mut signer = ReceiptSigner::from_secret(&[3; 32]);
    let mut receipts: Vec<Receipt> = (first..first + count).map(receipt).collect();
    let (_, stored) = tf_ledger::sign_and_append(ledger, &mut signer, receipts.iter_mut());
    stored.expect("append");
    board.publish_committed(ledger.next_seq() - 1);
}

/// Runs a worker on its own System until it has handled up to `until`; where it stands a few
/// turns later.
pub(super) fn follow_until<F: Follower>(
    path: &Path,
    board: Arc<Board>,
    follower: F,
    until: u64,
) -> u64 {
    with_worker(path, board, follower, async move |worker| {
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
    })
}

/// Runs a worker on its own System for `time`; where it stands then.
pub(super) fn run_for<F: Follower>(
    path: &Path,
    board: Arc<Board>,
    follower: F,
    time: Duration,
) -> Progress {
    with_worker(path, board, follower, async move |worker| {
        actix::clock::sleep(time).await;
        worker.send(Ask).await.expect("the worker answers")
    })
}

/// Starts a supervised worker (fast pace, small batches) on an arbiter of a new System, runs
/// `drive` against it, then stops the arbiter.
fn with_worker<F: Follower, R>(
    path: &Path,
    board: Arc<Board>,
    follower: F,
    drive: impl AsyncFnOnce(Addr<Worker<F>>) -> R,
) -> R {
    let system = actix::System::new();
    let arbiter = actix::Arbiter::new();
    let handle = arbiter.handle();
    let outcome = system.block_on(async move {
        let ledger = Box::new(SqliteLedger::open(path).expect("the worker's connection"));
        let pace = Pace {
            tick: Duration::from_millis(2),
            batch: 7,
            backoff: Duration::from_millis(5),
        };
        drive(Worker::new(follower, ledger, board, pace).start_supervised(&handle)).await
    });
    arbiter.stop();
    arbiter.join().expect("the worker's thread ends");
    outcome
}
