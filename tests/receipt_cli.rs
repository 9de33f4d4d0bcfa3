//! `appliance receipt verify` as an auditor runs it: receipts signed with the appliance's key
//! verify; altered ones, ones from another key, and garbage do not.

#[path = "support/receipts.rs"]
mod receipts;
mod support;

use receipts::sample_receipt;
use support::{appliance, write};
use tf_receipts::{Envelope, Receipt, ReceiptSigner};

fn receipt(signer: &ReceiptSigner) -> Receipt {
    sample_receipt(signer, 42)
}

#[test]
fn genuine_altered_foreign_and_garbage_receipts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let state_arg = state.to_str().expect("utf-8");
    assert!(
        appliance(&["init", "--state-dir", state_arg])
            .status
            .success()
    );
    let secret_hex = std::fs::read_to_string(state.join("receipt.key")).expect("key");
    let mut secret = [0u8; 32];
    hex::decode_to_slice(secret_hex.trim(), &mut secret).expect("hex");
    let mut signer = ReceiptSigner::from_secret(&secret);

    let envelope = signer.sign(receipt(&signer));
    let genuine = write(dir.path(), "genuine.json", envelope.to_json());
    let out = appliance(&[
        "receipt",
        "verify",
        genuine.to_str().expect("utf-8"),
        "--state-dir",
        state_arg,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("genuine receipt"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"request_id\": 42"));

    // The same check with the public key an auditor was given.
    let public = hex::encode(signer.public_key().as_bytes());
    let out = appliance(&[
        "receipt",
        "verify",
        genuine.to_str().expect("utf-8"),
        "--public-key",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(0));

    // Altered: the verdict flipped after signing.
    let mut altered: Envelope = envelope.clone();
    altered.payload = String::from_utf8(altered.payload)
        .expect("json")
        .replace("\"valid\"", "\"invalid\"")
        .into_bytes();
    let altered = write(dir.path(), "altered.json", altered.to_json());
    let out = appliance(&[
        "receipt",
        "verify",
        altered.to_str().expect("utf-8"),
        "--public-key",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("altered"));

    // Signed by some other key.
    let mut other = ReceiptSigner::from_secret(&[7u8; 32]);
    let foreign = write(
        dir.path(),
        "foreign.json",
        other.sign(receipt(&other)).to_json(),
    );
    let out = appliance(&[
        "receipt",
        "verify",
        foreign.to_str().expect("utf-8"),
        "--public-key",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(1));

    let garbage = write(dir.path(), "garbage.json", "not json");
    let out = appliance(&[
        "receipt",
        "verify",
        garbage.to_str().expect("utf-8"),
        "--public-key",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = appliance(&[
        "receipt",
        "verify",
        genuine.to_str().expect("utf-8"),
        "--public-key",
        "abc",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
}
