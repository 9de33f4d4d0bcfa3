//! The `partner` binary's exit codes as scripts read them, against a running appliance:
//! `submit` 0 valid, 1 invalid, 2 rejected (by the appliance or before sending), 3 refused;
//! `keys register` 0 with the key id, 2 for a file that is no key; `receipt verify` 0 for a
//! receipt as issued, 1 once altered or under another key, 2 for an unreadable file.

#[path = "support/server.rs"]
mod server;

use std::path::Path;
use std::process::Command;

use server::{Server, partner_binary};
use tf_engine::bls;

fn partner(state: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(partner_binary())
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .output()
        .expect("partner runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn submit_keys_and_receipt_verify_exit_as_documented() {
    let server = Server::start("[[tenants]]\nid = \"demo\"\n", &[], &[]);
    let state = server.state.clone();
    let dir = server.dir.path();
    let (signature, public_key) = bls::sign(&[9; 32], b"pay 10").expect("signs");
    let (pubkey, sig) = (
        hex::encode(public_key.to_bytes()),
        hex::encode(signature.to_bytes()),
    );
    let receipt = dir.join("receipt.json");
    let receipt_path = receipt.to_str().expect("utf-8 path");
    let submit = |message: &str, signature: &str, receipt: Option<&str>| {
        let mut args = vec![
            "submit",
            "bls",
            "--pubkey",
            &pubkey,
            "--message",
            message,
            "--signature",
            signature,
        ];
        if let Some(path) = receipt {
            args.extend(["--receipt", path]);
        }
        partner(&state, &args)
    };

    let (code, out, err) = submit(&hex::encode(b"pay 10"), &sig, Some(receipt_path));
    assert_eq!(code, 0, "valid: {out}{err}");
    let (code, out, err) = submit(&hex::encode(b"pay 99"), &sig, None);
    assert_eq!(code, 1, "invalid: {out}{err}");
    // Not a curve point: the appliance rejects it as malformed.
    let (code, out, err) = submit(&hex::encode(b"pay 10"), &"bb".repeat(96), None);
    assert_eq!(code, 2, "rejected: {out}{err}");
    // Not even hex: rejected before anything is sent.
    let (code, _, err) = submit("zz", &sig, None);
    assert_eq!(code, 2, "{err}");
    // A proof under a key nobody registered: refused by the appliance.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/groth16/bn128");
    let (proof, public) = (
        fixtures.join("proof_0.json"),
        fixtures.join("public_0.json"),
    );
    let (code, out, err) = partner(
        &state,
        &[
            "submit",
            "groth16",
            "--key-id",
            &"ab".repeat(32),
            "--proof",
            proof.to_str().expect("utf-8"),
            "--public",
            public.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 3, "refused: {out}{err}");

    // Keys: registered with its id printed; a file that is no key is refused locally.
    let key = fixtures.join("verification_key.json");
    let (code, out, err) = partner(&state, &["keys", "register", key.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    let id = out
        .split_whitespace()
        .find(|w| w.len() == 64)
        .expect("a key id");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{out}");
    let (code, _, err) = partner(
        &state,
        &["keys", "register", proof.to_str().expect("utf-8")],
    );
    assert_eq!(code, 2, "{err}");

    // Receipts: as issued, then altered, then under another key, then unreadable.
    let (code, out, err) = partner(&state, &["receipt", "verify", receipt_path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("genuine: tenant demo"), "{out}");
    let text = std::fs::read_to_string(&receipt).expect("receipt");
    let mut envelope: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let signature = envelope["signatures"][0]["sig"]
        .as_str()
        .expect("a signature")
        .to_owned();
    // Flip one character of the signature's base64 (keeping it base64).
    let flipped: String = signature
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 10 {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    envelope["signatures"][0]["sig"] = serde_json::Value::String(flipped);
    let altered = dir.join("altered.json");
    std::fs::write(&altered, envelope.to_string()).expect("written");
    let (code, _, err) = partner(
        &state,
        &["receipt", "verify", altered.to_str().expect("utf-8")],
    );
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = partner(
        &state,
        &[
            "receipt",
            "verify",
            receipt_path,
            "--public-key",
            &"11".repeat(32),
        ],
    );
    assert_eq!(code, 1, "another key: {err}");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "not a receipt").expect("written");
    let (code, _, err) = partner(
        &state,
        &["receipt", "verify", garbage.to_str().expect("utf-8")],
    );
    assert_eq!(code, 2, "{err}");
}
