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

/// `partner` as a partner runs it with only its own files: the appliance by host name, the CA,
/// its certificate and key, no partner.toml.
fn partner_at(server: &Server, name: &str, args: &[&str]) -> (i32, String, String) {
    let state = &server.state;
    let connect = format!("{name}:{}", server.address.port());
    let files = [
        ("--ca", state.join("ca.pem")),
        ("--cert", state.join("tenants/demo/client.pem")),
        ("--key", state.join("tenants/demo/client.key")),
    ];
    let mut command = Command::new(partner_binary());
    command
        .args(["--state-dir", "no-such-directory", "--connect", &connect])
        .current_dir(server.dir.path());
    for (flag, path) in &files {
        command.arg(flag).arg(path);
    }
    let out = command.args(args).output().expect("partner runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The whole of stdout as one JSON document.
fn json_out(out: &str) -> serde_json::Value {
    serde_json::from_str(out)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {out}"))
}

#[test]
fn a_partner_connects_by_name_scripts_with_json_retries_busy_and_verifies_receipts() {
    let server = Server::start(
        "[[tenants]]\nid = \"demo\"\nrate_per_sec = 1\nburst = 1\n",
        &[],
        &[],
    );
    let (signature, public_key) = bls::sign(&[9; 32], b"pay 10").expect("signs");
    let (pubkey, sig) = (
        hex::encode(public_key.to_bytes()),
        hex::encode(signature.to_bytes()),
    );
    let message = hex::encode(b"pay 10");
    let submit = |retries: &str, receipt: Option<&str>| {
        let mut args = vec![
            "--json",
            "--retries",
            retries,
            "submit",
            "bls",
            "--pubkey",
            &pubkey,
            "--message",
            &message,
            "--signature",
            &sig,
        ];
        if let Some(path) = receipt {
            args.extend(["--receipt", path]);
        }
        partner_at(&server, "localhost", &args)
    };

    // By name, with the name on the certificate checked: valid, and only JSON on stdout.
    let (code, out, err) = submit("0", Some("receipt.json"));
    assert_eq!(code, 0, "{out}{err}");
    let reply = json_out(&out);
    assert_eq!(reply["verdict"], "valid", "{reply}");
    assert_eq!(reply["receipt_file"], "receipt.json");
    assert_eq!(reply["receipt"]["payloadType"], tf_receipts::PAYLOAD_TYPE);

    // At one request a second, the next ones are busy, saying when to come back...
    let busy = (0..20)
        .map(|_| submit("0", None))
        .find(|(code, _, _)| *code == 3)
        .unwrap_or_else(|| panic!("no busy answer at 1 request/s"));
    let error = json_out(&busy.1);
    assert_eq!(error["error"]["kind"], "busy", "{error}");
    assert!(
        error["error"]["retry_after_ms"].as_u64().expect("a wait") > 0,
        "{error}"
    );
    // ... and one that waits as told is served.
    let (code, out, err) = submit("4", None);
    assert_eq!(code, 0, "{out}{err}");

    // The receipt checked with only the CA and the partner's certificate: the appliance's key
    // comes from the appliance itself over the authenticated connection; times in RFC 3339.
    let (code, out, err) = partner_at(
        &server,
        "localhost",
        &["--json", "receipt", "verify", "receipt.json"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let shown = json_out(&out);
    assert_eq!(
        (shown["genuine"].clone(), shown["tenant"].clone()),
        (true.into(), "demo".into())
    );
    let decided = shown["decided_at"].as_str().expect("a time");
    let (date, time) = decided.split_once('T').expect("RFC 3339");
    assert!(
        date.len() == 10 && time.len() == 16 && time.ends_with('Z') && time.as_bytes()[8] == b'.',
        "{decided}"
    );
    let (code, out, err) = partner_at(&server, "127.0.0.1", &["receipt", "verify", "receipt.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("genuine: tenant demo") && out.contains(decided),
        "{out}"
    );

    // A name the certificate does not carry is not trusted, whatever answers there.
    let (code, out, err) = partner_at(
        &server,
        "localhost",
        &["--json", "--server-name", "appliance.example", "budgets"],
    );
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(
        json_out(&out)["error"]["kind"],
        "server-not-trusted",
        "{err}"
    );
    assert!(err.contains("--server-name"), "{err}");
    // Budgets as JSON; an address without a port refused before anything is sent.
    let (code, out, err) = partner_at(&server, "localhost", &["budgets", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(json_out(&out).is_array(), "{out}");
    let (code, _, err) = partner_at(&server, "localhost:", &["budgets"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("HOST:PORT"), "{err}");
}
