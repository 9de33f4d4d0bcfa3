//! The worker pattern over a real ledger file: a follower sees every committed record once, in
//! order, across a failure (supervised restart) and a restart of the whole control thread.

use std::sync::{Arc, Mutex};

use tf_ledger::{Ledger, LedgerRecord, SqliteLedger};
use tf_seam::Board;

use super::follow::{append, follow_until};
use crate::worker::{FollowError, Follower};

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
