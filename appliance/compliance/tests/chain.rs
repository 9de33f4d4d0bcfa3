//! Consecutive packets chain: the second's consistency proof starts from the first's
//! checkpoint and its index names the first's; a previous checkpoint from a forked log is
//! refused when making, and named when verifying.

mod common;

use std::fs;

use common::{Appliance, Decided, FROM_US, ORIGIN, TO_US, copy_packet, resign};
use tf_compliance::{
    LOG_CONSISTENCY_FILE, PreviousSnapshot, SnapshotError, TreeHead, verify_chain, verify_packet,
};
use tf_log::ConsistencyProofFile;
use tf_receipts::VerdictLabel::Valid;
use tf_tlog::{Checkpoint, NoteSigner, Tree};

const NEXT_US: u64 = 3_000_000;

/// Two periods of receipts, each logged before its packet is made; the first packet made.
fn two_periods() -> (Appliance, tf_compliance::Snapshot) {
    let mut appliance = Appliance::new();
    appliance.append(&[
        Decided("acme", "kyc", "P1", Valid, 1, FROM_US + 10),
        Decided("beta", "kyc", "P1", Valid, 1, FROM_US + 20),
    ]);
    appliance.checkpoint();
    let first = appliance.snapshot(FROM_US, TO_US, None).expect("first");
    appliance.append(&[
        Decided("acme", "kyc", "P1", Valid, 1, TO_US + 10),
        Decided("acme", "aml", "P1", Valid, 1, TO_US + 20),
    ]);
    appliance.checkpoint();
    (appliance, first)
}

/// A checkpoint of the same size as `size`, signed by the same log key, over other entries.
fn forked_checkpoint(size: u64) -> (String, Checkpoint) {
    let mut tree = Tree::empty();
    tree.append(&[0x47; 32]);
    while tree.size() < size {
        tree.append(&[0xf0; 32]);
    }
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root(),
    };
    let signer = NoteSigner::new(ORIGIN, &[7; 32]).expect("name");
    (signer.sign(&checkpoint.to_text()), checkpoint)
}

#[test]
fn the_second_packet_proves_the_log_extends_the_first_and_names_its_index() {
    let (mut appliance, first) = two_periods();
    let previous = PreviousSnapshot::from_packet(&first.path).expect("read");
    assert_eq!(previous, first.as_previous());
    let second = appliance
        .snapshot(TO_US, NEXT_US, Some(previous))
        .expect("second");
    assert_eq!(
        second.summary.previous_index_sha256,
        Some(first.index_sha256)
    );
    assert_eq!(second.summary.log.previous_tree_size, Some(3));

    let key = appliance.signer.public_key();
    let first = verify_packet(&first.path, &key, None).expect("first intact");
    let second = verify_packet(&second.path, &key, None).expect("second intact");
    assert_eq!(
        second.previous,
        Some(TreeHead {
            size: first.checkpoint.size,
            root: first.checkpoint.root
        })
    );
    verify_chain(&first, &second).expect("the second follows the first");
    let backwards = verify_chain(&second, &first).expect_err("not in that order");
    assert_eq!(backwards.len(), 3, "{backwards:?}");
}

#[test]
fn a_gap_between_two_periods_is_named() {
    let (mut appliance, first) = two_periods();
    let second = appliance
        .snapshot(TO_US + 5, NEXT_US, Some(first.as_previous()))
        .expect("second");
    let key = appliance.signer.public_key();
    let first = verify_packet(&first.path, &key, None).expect("first intact");
    let second = verify_packet(&second.path, &key, None).expect("second intact");
    let gap = verify_chain(&first, &second).expect_err("a gap");
    assert_eq!(gap.len(), 1, "{gap:?}");
    assert!(gap[0].to_string().contains("in neither packet"), "{gap:?}");
}

#[test]
fn a_previous_checkpoint_from_a_forked_log_is_refused() {
    let (mut appliance, first) = two_periods();
    let (note, _) = forked_checkpoint(3);
    let refused = appliance
        .snapshot(
            TO_US,
            NEXT_US,
            Some(PreviousSnapshot {
                checkpoint: note,
                index_sha256: Some(first.index_sha256),
            }),
        )
        .expect_err("forked");
    assert!(
        matches!(
            refused,
            SnapshotError::LogForked {
                old_size: 3,
                new_size: 5,
                ..
            }
        ),
        "{refused}"
    );
    let other_log = NoteSigner::new(ORIGIN, &[9; 32]).expect("name");
    let refused = appliance
        .snapshot(
            TO_US,
            NEXT_US,
            Some(PreviousSnapshot {
                checkpoint: other_log.sign(&forked_checkpoint(3).1.to_text()),
                index_sha256: None,
            }),
        )
        .expect_err("another log");
    assert!(
        matches!(refused, SnapshotError::PreviousCheckpoint { .. }),
        "{refused}"
    );
}

#[test]
fn a_consistency_proof_from_a_forked_checkpoint_is_named() {
    let (mut appliance, first) = two_periods();
    let second = appliance
        .snapshot(TO_US, NEXT_US, Some(first.as_previous()))
        .expect("second");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_packet(&second.path, copy.path());
    let path = copy.path().join(LOG_CONSISTENCY_FILE);
    let mut proof: ConsistencyProofFile =
        serde_json::from_slice(&fs::read(&path).expect("read")).expect("proof");
    let (_, forked) = forked_checkpoint(3);
    proof.old_root = forked.root.to_base64();
    fs::write(
        &path,
        serde_json::to_vec_pretty(&Some(proof)).expect("serialises"),
    )
    .expect("write");
    resign(copy.path(), &mut appliance.signer);
    let problems =
        verify_packet(copy.path(), &appliance.signer.public_key(), None).expect_err("forked");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].file, LOG_CONSISTENCY_FILE);
    assert!(
        problems[0].what.contains("the log was rewritten or forked"),
        "{problems:?}"
    );
}
