//! Every way of tampering with a packet is named with its file: a byte flipped anywhere, a
//! file removed or added, and (under an index re-signed with the appliance key, so every digest
//! matches) budgets, charges, receipts or log tiles that are not what they should be.

mod common;

use std::fs;

use common::{
    FROM_US, TO_US, copy_packet, files, filled, gzipped_lines, replace_first_line, resign,
    write_gzipped_lines,
};
use tf_compliance::{INDEX_FILE, LOG_CHECKPOINT_FILE, Problem, verify_packet};
use tf_evidence::BudgetStatements;

const ALTERED: &str = "its SHA-256 differs from the index's (altered)";

#[test]
fn a_byte_flipped_in_any_file_is_named_as_that_file_altered() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let key = appliance.signer.public_key();
    for name in files(&snapshot.path) {
        let copy = tempfile::tempdir().expect("tempdir");
        copy_packet(&snapshot.path, copy.path());
        let path = copy.path().join(&name);
        let mut bytes = fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        fs::write(&path, bytes).expect("write");
        let problems = verify_packet(copy.path(), &key, None).expect_err(&name);
        if name == INDEX_FILE {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].file, INDEX_FILE);
        } else {
            assert_eq!(problems, [Problem::new(&name, ALTERED)], "{name}");
        }
    }
}

#[test]
fn a_removed_and_an_added_file_are_named() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_packet(&snapshot.path, copy.path());
    fs::remove_file(copy.path().join("receipts/beta.jsonl.gz")).expect("remove");
    fs::write(copy.path().join("receipts/extra.jsonl.gz"), b"\"{}\"\n").expect("add");
    fs::write(copy.path().join("log/notes.txt"), b"hello").expect("add");
    let problems =
        verify_packet(copy.path(), &appliance.signer.public_key(), None).expect_err("tampered");
    assert_eq!(
        problems,
        [
            Problem::new(
                "receipts/beta.jsonl.gz",
                "listed in the index but missing (removed)"
            ),
            Problem::new("log/notes.txt", "not listed in the index (added)"),
            Problem::new("receipts/extra.jsonl.gz", "not listed in the index (added)"),
        ]
    );
}

#[test]
fn budgets_that_do_not_add_up_are_named_even_under_a_resigned_index() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_packet(&snapshot.path, copy.path());
    let path = copy.path().join("budgets/acme.json");
    let mut budgets: BudgetStatements =
        serde_json::from_slice(&fs::read(&path).expect("read")).expect("statements");
    budgets.lines[1].charged -= 2;
    fs::write(
        &path,
        serde_json::to_vec_pretty(&budgets).expect("serialises"),
    )
    .expect("write");
    resign(copy.path(), &mut appliance.signer);
    let problems =
        verify_packet(copy.path(), &appliance.signer.public_key(), None).expect_err("tampered");
    assert_eq!(
        problems,
        [Problem::new(
            "budgets/acme.json",
            "the statements do not add up to the receipts: purpose \"kyc\" class P1: the file \
             states 4 request(s), 3 valid, 1 invalid, 0 rejected, 1 charged, the receipts add \
             up to 4 request(s), 3 valid, 1 invalid, 0 rejected, 3 charged"
        )]
    );
}

#[test]
fn a_genuine_receipt_from_outside_the_period_is_named_even_under_a_resigned_index() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let before = appliance.envelopes("acme", 0, FROM_US);
    let copy = tempfile::tempdir().expect("tempdir");
    copy_packet(&snapshot.path, copy.path());
    replace_first_line(&copy.path().join("receipts/acme.jsonl.gz"), &before[0]);
    resign(copy.path(), &mut appliance.signer);
    let problems =
        verify_packet(copy.path(), &appliance.signer.public_key(), None).expect_err("tampered");
    assert!(
        problems.contains(&Problem::new(
            "receipts/acme.jsonl.gz",
            "line 1: receipt 1 was decided at 900000, outside the period [1000000, 2000000)"
        )),
        "{problems:?}"
    );
}

#[test]
fn receipts_that_are_not_gzipped_are_named_even_under_a_resigned_index() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_packet(&snapshot.path, copy.path());
    let receipts = copy.path().join("receipts/acme.jsonl.gz");
    let plain = gzipped_lines(&receipts).join("\n") + "\n";
    fs::write(&receipts, plain).expect("write");
    resign(copy.path(), &mut appliance.signer);
    let problems =
        verify_packet(copy.path(), &appliance.signer.public_key(), None).expect_err("tampered");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].file, "receipts/acme.jsonl.gz");
    assert_eq!(
        problems[0].what,
        "line 1: cannot be read as gzipped lines: invalid gzip header"
    );
}

#[test]
fn a_genuine_receipt_the_log_does_not_hold_is_named() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let inside = appliance.envelopes("acme", FROM_US, TO_US);
    // Signed by the appliance key with the number and period of the first line, but another
    // request: not what the ledger stored and the log holds at that number.
    let envelope = tf_receipts::Envelope::from_json(&inside[0]).expect("envelope");
    let mut receipt: tf_receipts::Receipt =
        serde_json::from_slice(&envelope.payload).expect("receipt");
    receipt.request_id += 1;
    let forged = appliance.signer.sign(receipt).to_json();
    let copy = tempfile::tempdir().expect("tempdir");
    copy_packet(&snapshot.path, copy.path());
    replace_first_line(&copy.path().join("receipts/acme.jsonl.gz"), &forged);
    resign(copy.path(), &mut appliance.signer);
    let problems =
        verify_packet(copy.path(), &appliance.signer.public_key(), None).expect_err("tampered");
    assert_eq!(
        problems,
        [Problem::new(
            "receipts/acme.jsonl.gz",
            "line 1: receipt 3 is not the log's entry 3 (its leaf hash differs)"
        )]
    );
}

#[test]
fn tiles_changed_under_a_resigned_index_are_not_the_logs() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let key = appliance.signer.public_key();
    for (tile, problem) in [
        (
            "log/tile/0/000",
            Problem::new(
                "log/tile/0/000",
                "its hashes do not hash to the one log/tile/1/000 holds for it",
            ),
        ),
        (
            "log/tile/0/001.p/54",
            Problem::new(
                LOG_CHECKPOINT_FILE,
                "the root of the tree from the packet's tiles is not the checkpoint's: the \
                 tiles are not this log's",
            ),
        ),
    ] {
        let copy = tempfile::tempdir().expect("tempdir");
        copy_packet(&snapshot.path, copy.path());
        let path = copy.path().join(tile);
        let mut bytes = fs::read(&path).expect("read");
        bytes[40] ^= 0x80;
        fs::write(&path, bytes).expect("write");
        resign(copy.path(), &mut appliance.signer);
        let problems = verify_packet(copy.path(), &key, None).expect_err(tile);
        assert_eq!(problems, [problem]);
    }
}

#[test]
fn charges_that_are_not_the_charged_receipts_are_named_even_under_a_resigned_index() {
    let mut appliance = filled();
    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let key = appliance.signer.public_key();
    let charges = "budgets/acme.charges.jsonl.gz";
    let original = gzipped_lines(&snapshot.path.join(charges));
    let changed = original[1].replace("\"charged\":2", "\"charged\":1");
    for (edited, problem) in [
        (
            vec![
                original[0].clone(),
                changed,
                original[2].clone(),
                original[3].clone(),
            ],
            "the charge of receipt 5 is ChargeLine { seq: 5, decided_unix_us: 1300000, \
             purpose: \"aml\", dataset_class: \"P0\", verdict: \"invalid\", charged: 1 }, the \
             receipt says ChargeLine { seq: 5, decided_unix_us: 1300000, purpose: \"aml\", \
             dataset_class: \"P0\", verdict: \"invalid\", charged: 2 }",
        ),
        (
            original[..3].to_vec(),
            "at receipt 308: ends before the charge of every charged receipt",
        ),
        (
            [original.clone(), vec![original[3].clone()]].concat(),
            "more charges than the receipts made",
        ),
    ] {
        let copy = tempfile::tempdir().expect("tempdir");
        copy_packet(&snapshot.path, copy.path());
        write_gzipped_lines(&copy.path().join(charges), &edited);
        resign(copy.path(), &mut appliance.signer);
        let problems = verify_packet(copy.path(), &key, None).expect_err("tampered");
        assert_eq!(problems, [Problem::new(charges, problem)]);
    }
}
