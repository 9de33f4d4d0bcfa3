//! `appliance init` and `appliance keys show` as an SRE runs them: the real binary, a real
//! directory.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::appliance;

#[test]
fn init_creates_once_and_keys_show_prints_the_same_key_every_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8");

    let first = appliance(&["init", "--state-dir", state]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("created state directory"));
    let again = appliance(&["init", "--state-dir", state]);
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("kept the existing state directory")
    );

    let show = || {
        let out = appliance(&["keys", "show", "--json", "--state-dir", state]);
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let (a, b) = (show(), show());
    assert_eq!(a, b);
    assert_eq!(a["algorithm"], "ed25519");
    assert_eq!(a["public_key_hex"].as_str().map(str::len), Some(64));
    assert!(
        first
            .stdout
            .windows(64)
            .any(|w| w == a["key_id"].as_str().expect("id").as_bytes())
    );

    let key = dir.path().join("state/receipt.key");
    let mode = std::fs::metadata(key).expect("exists").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn keys_show_without_a_state_directory_says_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let absent = dir.path().join("absent");
    let out = appliance(&[
        "keys",
        "show",
        "--state-dir",
        absent.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `appliance init`"));
}
