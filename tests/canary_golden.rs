//! `appliance canary golden build|show` as an SRE runs them: a set built from the fixtures,
//! signed with the state directory's receipt key, listed back; never overwritten; refused once
//! altered or when another appliance's key is asked to check it.

#[path = "support/server.rs"]
mod server;

use std::path::Path;

use server::run_appliance;

fn init(dir: &Path, name: &str) -> String {
    let state = dir.join(name).display().to_string();
    let (code, _, err) = run_appliance(&["init", "--state-dir", &state]);
    assert_eq!(code, 0, "{err}");
    state
}

#[test]
fn a_golden_set_is_built_signed_listed_and_refused_once_altered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = init(dir.path(), "state");
    let file = dir.path().join("golden.dsse.json");
    let path = file.display().to_string();
    let (code, out, err) = run_appliance(&[
        "canary",
        "golden",
        "build",
        "--state-dir",
        &state,
        "--out",
        &path,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10 requests, 2 Groth16 keys"), "{out}");

    let (code, out, err) = run_appliance(&[
        "canary",
        "golden",
        "show",
        &path,
        "--state-dir",
        &state,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let items = shown["items"].as_array().expect("items");
    let expect = |verdict: &str| items.iter().filter(|i| i["expect"] == verdict).count();
    assert_eq!(
        (expect("valid"), expect("invalid"), expect("rejected")),
        (6, 3, 1)
    );
    assert!(
        items
            .iter()
            .any(|i| i["label"] == "groth16-bls12-381 (wrong public input)"),
        "{out}"
    );

    // Never overwritten.
    let (code, _, err) = run_appliance(&[
        "canary",
        "golden",
        "build",
        "--state-dir",
        &state,
        "--out",
        &path,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("never overwritten"), "{err}");

    // Another appliance's key does not vouch for it.
    let other = init(dir.path(), "other");
    let (code, _, err) = run_appliance(&["canary", "golden", "show", &path, "--state-dir", &other]);
    assert_eq!(code, 2);
    assert!(err.contains("does not verify"), "{err}");

    // One expected verdict changed after signing.
    let text = std::fs::read_to_string(&file).expect("golden set");
    let mut envelope: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let payload = base64_decode(envelope["payload"].as_str().expect("payload"));
    let altered = String::from_utf8(payload).expect("utf-8").replacen(
        "\"expect\":\"invalid\"",
        "\"expect\":\"valid\"",
        1,
    );
    envelope["payload"] = serde_json::Value::String(base64_encode(altered.as_bytes()));
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, envelope.to_string()).expect("written");
    let (code, _, err) = run_appliance(&[
        "canary",
        "golden",
        "show",
        &tampered.display().to_string(),
        "--state-dir",
        &state,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("does not verify"), "{err}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
