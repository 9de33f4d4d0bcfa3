//! The golden canary as an SRE meets it. `appliance canary golden build|show`: a set built
//! from the fixtures, signed with the state directory's receipt key, listed back; never
//! overwritten; refused once altered or when another appliance's key is asked to check it.
//! The live canary: a real appliance sends its built-in set through its own QUIC listener,
//! passes, shows it in the admin API, `ctl` and `/metrics`, runs on demand, and fails (with
//! an alarm in the ledger) once a bundle denies its traffic.

#[path = "support/server.rs"]
mod server;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use server::{ROLE_TOKENS as TOKENS, Server, get, http, run_appliance, with_admin_tokens};
use tf_bundles::BundleFiles;
use tf_ledger::Ledger;

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

/// A canary judging quickly: a run a second, windows of three runs (30 samples each).
const FAST_CANARY: &str = "[server]\nshards = 1\n\n[canary]\ninterval_ms = 1000\n\
                           current_runs = 3\nbaseline_runs = 3\n";

fn canary(server: &Server) -> Value {
    let (status, body) = http(
        server.admin_address(),
        "GET",
        "/api/v1/canary",
        &[("Authorization", "Bearer viewer-token")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

fn ctl(server: &Server, token: &str, args: &[&str]) -> (i32, String, String) {
    let admin = format!("http://{}", server.admin_address());
    let file = server.dir.path().join(format!("{token}.token"));
    std::fs::write(&file, format!("{token}\n")).expect("token file");
    let file = file.display().to_string();
    let mut all = vec!["ctl", "--admin", &admin, "--token-file", &file];
    all.extend_from_slice(args);
    run_appliance(&all)
}

#[test]
fn the_live_canary_passes_on_a_healthy_appliance_and_fails_when_a_bundle_denies_it() {
    let server = Server::start(&with_admin_tokens(FAST_CANARY, &TOKENS), &[], &[]);
    // The first runs lack a baseline (no data, never a pass); once both windows have filled,
    // a healthy appliance passes.
    let deadline = Instant::now() + Duration::from_secs(120);
    let passed = loop {
        let reply = canary(&server);
        assert_eq!(reply["enabled"], true, "{reply}");
        if reply["overall"] == "pass" {
            break reply;
        }
        assert!(
            Instant::now() < deadline,
            "no passing run in time: {reply}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let latest = &passed["latest"];
    assert_eq!(latest["sent"], 10, "{passed}");
    assert_eq!(latest["answered"], 10, "{passed}");
    let comparators: Vec<(&str, &str)> = latest["comparators"]
        .as_array()
        .expect("comparators")
        .iter()
        .map(|c| {
            (
                c["comparator"].as_str().expect("name"),
                c["score"].as_str().expect("score"),
            )
        })
        .collect();
    assert_eq!(
        comparators,
        [
            ("verdict", "pass"),
            ("receipt", "pass"),
            ("latency", "pass"),
            ("error-rate", "pass")
        ],
        "{passed}"
    );
    assert_eq!(passed["baseline"]["runs"], 3, "{passed}");
    assert!(
        passed["current"]["samples"].as_u64() >= Some(30),
        "{passed}"
    );
    // Runs before the windows filled said so rather than passing.
    let first = &passed["recent"][0];
    assert_eq!(first["overall"], "marginal", "{passed}");
    assert!(
        first["scores"]
            .as_array()
            .expect("scores")
            .contains(&Value::from("no-data")),
        "{passed}"
    );

    let (_, metrics) = get(server.admin_address(), "/metrics");
    for line in [
        "trust_fabric_canary_enabled 1",
        "trust_fabric_canary_comparator{comparator=\"verdict\",score=\"pass\"} 1",
        "trust_fabric_canary_failing 0",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }

    // On demand, for SREs; a viewer may look but not run it.
    let (code, out, err) = ctl(&server, "sre-token", &["canary", "run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(demand)") && out.contains("verdict"), "{out}");
    let (code, _, err) = ctl(&server, "viewer-token", &["canary", "run"]);
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = ctl(&server, "viewer-token", &["canary", "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("canary as tenant canary: 10 requests every 1 s"),
        "{out}"
    );

    // A bundle that lists the canary's tenant but forbids its traffic: nothing it sends is
    // answered, a critical failure at once, and an alarm for webhook endpoints.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let mut files = BundleFiles::from_dir(&example).expect("example bundle");
    let policies =
        String::from_utf8(files.get("policies.cedar").expect("policies").to_vec()).expect("utf-8");
    files.insert(
        "policies.cedar",
        format!(
            "{policies}\n@id(\"no-canary\")\nforbid (principal == \
             TrustFabric::Tenant::\"canary\", action, resource);\n"
        )
        .into_bytes(),
    );
    let source = server.dir.path().join("denying");
    files.write_dir(&source).expect("source written");
    let archive = server.build_bundle(&source, 1, "forbids the canary", None);
    let archive = archive.display().to_string();
    let (code, out, err) = ctl(&server, "author-token", &["promote", &archive]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = ctl(&server, "sre-token", &["canary", "run"]);
    assert_eq!(code, 1, "the canary fails: {out}{err}");
    assert!(
        out.contains("FAIL") && out.contains("none answered"),
        "{out}"
    );
    assert!(
        out.contains("denied"),
        "the problems name the refusal: {out}"
    );
    let failed = canary(&server);
    assert!(failed["alarm_since"].is_string(), "{failed}");
    let ledger =
        tf_ledger::SqliteLedger::open(&server.state_path("ledger.sqlite")).expect("ledger");
    let alarms = ledger.control_events_after(0, 10).expect("events");
    let alarm = alarms
        .iter()
        .find(|e| e.kind == "canary.alarm")
        .unwrap_or_else(|| panic!("no canary alarm in {alarms:?}"));
    let body: Value = serde_json::from_str(&alarm.body).expect("JSON");
    assert_eq!(body["tenant"], "canary");
    assert_eq!(body["failed"][0]["comparator"], "verdict", "{body}");
    let (_, metrics) = get(server.admin_address(), "/metrics");
    assert!(
        metrics.contains("trust_fabric_canary_failing 1"),
        "{metrics}"
    );
}

#[test]
fn a_canary_without_its_tenant_says_why_it_does_not_run() {
    let config = with_admin_tokens(
        "[canary]\nenabled = true\n\n[[tenants]]\nid = \"demo\"\n",
        &TOKENS,
    );
    let server = Server::start(&config, &[], &[]);
    let reply = canary(&server);
    assert_eq!(reply["enabled"], false, "{reply}");
    assert!(
        reply["problem"]
            .as_str()
            .is_some_and(|p| p.contains("\"canary\" is not listed")),
        "{reply}"
    );
    let (code, _, err) = ctl(&server, "sre-token", &["canary", "run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not run"), "{err}");
    let (_, metrics) = get(server.admin_address(), "/metrics");
    assert!(
        metrics.contains("trust_fabric_canary_enabled 0"),
        "{metrics}"
    );
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
