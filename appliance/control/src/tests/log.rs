//! The transparency log worker over a real ledger file and a real log directory: checkpoints
//! that verify, inclusion of every receipt, consistency across restarts, a rebuild when the
//! tiles are lost, and no signature over a ledger that does not give the last checkpoint.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tf_ledger::{Ledger, SqliteLedger};
use tf_log::LogDir;
use tf_seam::Board;
use tf_tlog::{Checkpoint, NoteVerifier, consistency_proof, inclusion_proof, leaf_hash};

use super::follow::{append, follow_until};
use crate::log::{TransparencyLog, genesis_entry};

const ORIGIN: &str = "test.invalid/log";
const SECRET: [u8; 32] = [9; 32];

fn log(dir: &Path) -> TransparencyLog {
    let dir = LogDir::open(&dir.join("log")).expect("log dir");
    TransparencyLog::new(dir, ORIGIN, &SECRET, Duration::from_millis(5)).expect("log")
}

/// The stored checkpoint, verified with the log's key.
fn checkpoint(dir: &Path, vkey: &str) -> Checkpoint {
    let note = LogDir::at(&dir.join("log"))
        .checkpoint()
        .expect("readable")
        .expect("a checkpoint was signed");
    let verifier = NoteVerifier::from_vkey(vkey).expect("vkey");
    Checkpoint::parse(verifier.verify(&note).expect("the checkpoint verifies")).expect("parses")
}

/// Every receipt in the ledger is in the tree of `checkpoint`, at its sequence number.
fn assert_every_receipt_included(dir: &Path, ledger: &SqliteLedger, checkpoint: &Checkpoint) {
    let store = LogDir::at(&dir.join("log"));
    let records = ledger
        .receipts_after(0, usize::MAX)
        .expect("the ledger reads");
    assert_eq!(
        records.len() as u64 + 1,
        checkpoint.size,
        "genesis and every receipt"
    );
    for record in records {
        let leaf = leaf_hash(&Sha256::digest(record.receipt.envelope_json.as_bytes()));
        let proof = inclusion_proof(record.seq(), checkpoint.size, &store).expect("proof");
        tf_tlog::verify_inclusion(
            leaf,
            record.seq(),
            checkpoint.size,
            &proof,
            &checkpoint.root,
        )
        .unwrap_or_else(|e| panic!("receipt {} is not in the log: {e}", record.seq()));
    }
}

#[test]
fn every_receipt_is_in_a_signed_checkpoint_and_restarts_extend_it_consistently() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("ledger");
    let board = Arc::new(Board::new(1));
    let vkey = log(dir.path()).vkey();

    append(&mut ledger, &board, 300);
    assert_eq!(
        follow_until(&path, board.clone(), log(dir.path()), 300),
        300
    );
    let first = checkpoint(dir.path(), &vkey);
    assert_eq!(first.origin, ORIGIN);
    assert_eq!(first.size, 301);
    assert_every_receipt_included(dir.path(), &ledger, &first);
    // Entry 0 is the genesis entry.
    let store = LogDir::at(&dir.path().join("log"));
    let proof = inclusion_proof(0, first.size, &store).expect("proof");
    tf_tlog::verify_inclusion(
        leaf_hash(&genesis_entry(&vkey)),
        0,
        first.size,
        &proof,
        &first.root,
    )
    .expect("genesis is entry 0");

    // A restarted appliance resumes from the stored tiles; its next checkpoint extends the
    // first one.
    append(&mut ledger, &board, 211);
    assert_eq!(
        follow_until(&path, board.clone(), log(dir.path()), 511),
        511
    );
    let second = checkpoint(dir.path(), &vkey);
    assert_eq!(second.size, 512);
    let proof = consistency_proof(first.size, second.size, &store).expect("proof");
    tf_tlog::verify_consistency(first.size, &first.root, second.size, &second.root, &proof)
        .expect("the second checkpoint extends the first");
    assert_every_receipt_included(dir.path(), &ledger, &second);
}

#[test]
fn lost_tiles_are_rebuilt_from_the_ledger_up_to_the_last_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("ledger");
    let board = Arc::new(Board::new(1));
    let vkey = log(dir.path()).vkey();
    append(&mut ledger, &board, 700);
    follow_until(&path, board.clone(), log(dir.path()), 700);
    let before = checkpoint(dir.path(), &vkey);

    std::fs::remove_dir_all(dir.path().join("log/tile")).expect("tiles removed");
    append(&mut ledger, &board, 5);
    follow_until(&path, board.clone(), log(dir.path()), 705);
    let after = checkpoint(dir.path(), &vkey);
    assert_eq!(after.size, 706);
    let store = LogDir::at(&dir.path().join("log"));
    let proof = consistency_proof(before.size, after.size, &store).expect("proof");
    tf_tlog::verify_consistency(before.size, &before.root, after.size, &after.root, &proof)
        .expect("the rebuilt log extends the last checkpoint");
    assert_every_receipt_included(dir.path(), &ledger, &after);
}

/// A ledger of 40 receipts in `dir`, followed by the log until signed over: the log's key and
/// its checkpoint.
fn forty_receipts_logged(dir: &Path) -> (String, Checkpoint) {
    let path = dir.join("ledger.sqlite");
    let board = Arc::new(Board::new(1));
    let vkey = log(dir).vkey();
    append(&mut SqliteLedger::open(&path).expect("ledger"), &board, 40);
    follow_until(&path, board, log(dir), 40);
    let signed = checkpoint(dir, &vkey);
    (vkey, signed)
}

#[test]
fn a_ledger_that_does_not_give_the_last_checkpoint_is_never_signed_over() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let (vkey, signed) = forty_receipts_logged(dir.path());

    // Another ledger in its place (different receipts), and the tiles lost.
    std::fs::remove_dir_all(dir.path().join("log/tile")).expect("tiles removed");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut other = SqliteLedger::open(&path).expect("a new ledger");
    let board = Arc::new(Board::new(1));
    append(&mut other, &board, 3);
    other
        .save_cursor(crate::log::WORKER_NAME, 0)
        .expect("a fresh cursor");
    let mut forged = tf_receipts::ReceiptSigner::from_secret(&[4; 32]);
    let mut receipts: Vec<_> = (4..=60).map(super::follow::receipt).collect();
    tf_ledger::sign_and_append(&mut other, &mut forged, receipts.iter_mut())
        .1
        .expect("append");
    board.publish_committed(60);

    let reached = super::follow::run_for(&path, board, log(dir.path()), Duration::from_millis(300));
    assert_eq!(reached.cursor, 0, "nothing settled over the other ledger");
    assert!(
        reached.failures > 0,
        "the worker refuses, and keeps refusing"
    );
    assert_eq!(
        checkpoint(dir.path(), &vkey),
        signed,
        "the checkpoint is the one signed before"
    );
}

#[test]
fn a_ledger_restored_older_than_the_log_is_refused_not_skipped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let (vkey, signed) = forty_receipts_logged(dir.path());

    // The ledger from a backup of when it held 30 receipts (the log kept its 40), then 10
    // new receipts numbered 31 to 40, other than the log's.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut restored = SqliteLedger::open(&path).expect("a restored ledger");
    let board = Arc::new(Board::new(1));
    append(&mut restored, &board, 30);
    restored
        .save_cursor(crate::log::WORKER_NAME, 30)
        .expect("the backup's cursor");
    let mut receipts: Vec<_> = (31..=40)
        .map(|seq| tf_receipts::Receipt {
            request_id: 1_000 + seq,
            ..super::follow::receipt(seq)
        })
        .collect();
    let mut signer = tf_receipts::ReceiptSigner::from_secret(&[3; 32]);
    tf_ledger::sign_and_append(&mut restored, &mut signer, receipts.iter_mut())
        .1
        .expect("append");
    board.publish_committed(40);

    let reached = super::follow::run_for(&path, board, log(dir.path()), Duration::from_millis(300));
    assert!(
        reached.failures > 0,
        "the worker refuses, and keeps refusing"
    );
    assert_eq!(reached.cursor, 30, "nothing past the backup settled");
    assert_eq!(
        checkpoint(dir.path(), &vkey),
        signed,
        "nothing new was signed"
    );
}

#[test]
fn a_changed_origin_is_refused_instead_of_starting_a_second_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("ledger");
    let board = Arc::new(Board::new(1));
    append(&mut ledger, &board, 3);
    follow_until(&path, board.clone(), log(dir.path()), 3);
    let renamed = TransparencyLog::new(
        LogDir::open(&dir.path().join("log")).expect("log dir"),
        "elsewhere.invalid/log",
        &SECRET,
        Duration::from_millis(5),
    )
    .expect("log");
    append(&mut ledger, &board, 2);
    let reached = super::follow::run_for(&path, board, renamed, Duration::from_millis(200));
    assert_eq!(reached.cursor, 3, "nothing handled under the new origin");
    assert!(reached.failures > 0);
}
