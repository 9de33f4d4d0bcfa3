//! The golden canary as an SRE meets it. `appliance canary golden build|show`: a set built
//! from the fixtures, signed with the state directory's receipt key, listed back; never
//! overwritten; refused once altered or when another appliance's key is asked to check it.
//! The live canary: a real appliance sends its built-in set through its own QUIC listener,
//! passes, shows it in the admin API, `ctl` and `/metrics`, runs on demand, and fails (with
//! an alarm in the ledger) once a bundle denies its traffic.

#[path = "support/server.rs"]
mod server;
#[path = "support/webhooks.rs"]
mod webhooks;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use server::{
    ROLE_TOKENS as TOKENS, Server, free_port, get, http, run_appliance, with_admin_tokens,
};
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

#[test]
fn the_live_canary_passes_refuses_a_bundle_denying_it_and_alarms_once_per_episode() {
    fault_build();
    let dir = tempfile::tempdir().expect("temp dir");
    let switch = dir.path().join("wrong");
    let switch_text = switch.display().to_string();
    let server = Server::start_with_env(
        &with_admin_tokens(FAST_CANARY, &TOKENS),
        &[],
        &[],
        &[
            ("TF_FAULT_WRONG_VERDICT_EVERY", "7"),
            ("TF_FAULT_SWITCH", &switch_text),
        ],
    );
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
    // The canary's requests are counted under its own tenant, and kept out of the decision
    // latency partners' figures and alerts read (here it is the only traffic).
    let sum_of = |prefix: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(
        sum_of("trust_fabric_requests_total{tenant=\"canary\"") >= 30.0,
        "{metrics}"
    );
    assert_eq!(
        sum_of("trust_fabric_decision_latency_seconds_count"),
        0.0,
        "{metrics}"
    );

    // On demand, for SREs; a viewer may look but not run it.
    let (code, out, err) = server.ctl("sre-token", &["canary", "run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(demand)") && out.contains("verdict"), "{out}");
    let (code, _, err) = server.ctl("viewer-token", &["canary", "run"]);
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = server.ctl("viewer-token", &["canary", "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("canary as tenant canary: 10 requests every 1 s"),
        "{out}"
    );

    // Before promotion: a bundle that lists the canary's tenant but forbids its traffic is
    // refused, saying which of its requests would be denied; validation says the same.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let mut files = BundleFiles::from_dir(&example).expect("example bundle");
    let policies =
        String::from_utf8(files.get("policies.cedar").expect("policies").to_vec()).expect("utf-8");
    files.insert(
        "policies.cedar",
        format!(
            "{policies}\n@id(\"no-canary-bls\")\nforbid (principal == \
             TrustFabric::Tenant::\"canary\", action, resource == TrustFabric::Scheme::\"bls\");\n"
        )
        .into_bytes(),
    );
    let source = server.dir.path().join("denying");
    files.write_dir(&source).expect("source written");
    let denying = server
        .build_bundle(&source, 1, "forbids the canary's BLS", None)
        .display()
        .to_string();
    for command in ["validate", "promote"] {
        let (code, out, err) = server.ctl("author-token", &[command, &denying]);
        assert_eq!(code, 1, "{command}: {out}{err}");
        assert!(
            err.contains("could only fail") && err.contains("forbidden by no-canary-bls"),
            "{command}: {err}"
        );
        assert!(err.contains("bls-single"), "the request is named: {err}");
    }
    // So is one leaving the canary's tenant too few keys for the set's Groth16 items.
    let mut files = BundleFiles::from_dir(&example).expect("example bundle");
    let tenants =
        String::from_utf8(files.get("tenants.toml").expect("tenants").to_vec()).expect("utf-8");
    assert!(tenants.contains("max_registered_keys = 8"), "{tenants}");
    files.insert(
        "tenants.toml",
        tenants
            .replace("max_registered_keys = 8", "max_registered_keys = 1")
            .into_bytes(),
    );
    let source = server.dir.path().join("one-key");
    files.write_dir(&source).expect("source written");
    let one_key = server
        .build_bundle(&source, 1, "one key for the canary", None)
        .display()
        .to_string();
    let (code, out, err) = server.ctl("author-token", &["validate", &one_key]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("register 1 keys"), "{err}");
    let (code, out, err) = server.ctl("viewer-token", &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("revision 1"), "nothing was promoted: {out}");

    // An auditor's webhook endpoint for the canary's alarms.
    let port = free_port();
    let add = serde_json::json!({
        "url": format!("http://127.0.0.1:{port}/hooks"),
        "settings": { "events": ["canary.alarm"], "schemes": ["v1"], "local": true },
        "reason": "canary alarms",
    });
    let (status, body) = http(
        server.admin_address(),
        "POST",
        "/api/v1/webhooks",
        &[
            ("Authorization", "Bearer sre-token"),
            ("Content-Type", "application/json"),
        ],
        add.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let added: Value = serde_json::from_str(&body).expect("JSON");
    let secret = added["secret"].as_str().expect("a secret");
    let endpoint = added["endpoint"]["id"].as_u64().expect("an id").to_string();
    let received = server.dir.path().join("received");
    let receiver = webhooks::Receiver::for_endpoint(port, &received, secret, &server.state, &[]);

    // At run time: a build gone wrong (every 7th verdict turned around) fails the canary at
    // once, with an alarm in the ledger for webhook endpoints.
    std::fs::write(&switch, b"on").expect("switch on");
    let (code, out, err) = server.ctl("sre-token", &["canary", "run"]);
    assert_eq!(code, 1, "the canary fails: {out}{err}");
    assert!(out.contains("FAIL") && out.contains("expected"), "{out}");
    let failed = canary(&server);
    assert!(failed["alarm_since"].is_string(), "{failed}");
    let alarms = || {
        let ledger =
            tf_ledger::SqliteLedger::open(&server.state_path("ledger.sqlite")).expect("ledger");
        ledger
            .control_events_after(0, 100)
            .expect("events")
            .into_iter()
            .filter(|e| e.kind == "canary.alarm")
            .collect::<Vec<_>>()
    };
    let raised = alarms();
    assert_eq!(raised.len(), 1, "{raised:?}");
    let body: Value = serde_json::from_str(&raised[0].body).expect("JSON");
    assert_eq!(body["tenant"], "canary");
    assert_eq!(body["failed"][0]["comparator"], "verdict", "{body}");
    let (_, metrics) = get(server.admin_address(), "/metrics");
    assert!(
        metrics.contains("trust_fabric_canary_failing 1"),
        "{metrics}"
    );
    // The endpoint gets it as `canary.alarm`, signed; sent again on request, with its id.
    let alarm_messages = || {
        std::fs::read_dir(received.join("events"))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|f| f.file_name().to_string_lossy().starts_with("msg_canary_"))
                    .map(|f| f.path())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    webhooks::wait_for(
        "the canary.alarm message",
        Duration::from_secs(60),
        || !alarm_messages().is_empty(),
        || receiver.log(),
    );
    let message: Value =
        serde_json::from_str(&std::fs::read_to_string(&alarm_messages()[0]).expect("message body"))
            .expect("JSON");
    assert_eq!(message["type"], "canary.alarm", "{message}");
    assert_eq!(message["data"]["failed"][0]["comparator"], "verdict");
    let (code, out, err) = server.ctl(
        "sre-token",
        &[
            "webhooks", "replay", &endpoint, "--from", "1", "--to", "1", "--reason", "drill",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let replayed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        replayed["queued"], 1,
        "the alarm is composed again: {replayed}"
    );
    webhooks::wait_for(
        "the replayed alarm",
        Duration::from_secs(60),
        || receiver.log().contains("verdict=duplicate"),
        || receiver.log(),
    );
    assert_eq!(alarm_messages().len(), 1, "recorded once, by its id");

    // Failing on, run after run: still one alarm for the episode.
    let failed_in = failed["runs"].as_u64().expect("runs");
    canary_until(&server, 60, |reply| {
        reply["runs"].as_u64() >= Some(failed_in + 3)
    });
    assert_eq!(alarms().len(), 1, "one episode, one alarm");

    // Fixed: the alarm is over, and the timeline says so.
    std::fs::remove_file(&switch).expect("switch off");
    let recovered = canary_until(&server, 60, |reply| reply["alarm_since"].is_null());
    let kinds = timeline_kinds(&recovered);
    assert_eq!(kinds, ["canary.alarm", "canary.recovered"], "{recovered}");
    assert_eq!(alarms().len(), 1);
    let (_, metrics) = get(server.admin_address(), "/metrics");
    assert!(
        metrics.contains("trust_fabric_canary_failing 0"),
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
    let (code, _, err) = server.ctl("sre-token", &["canary", "run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not run"), "{err}");
    // Nor is there anything to silence.
    let (code, _, err) = silence(&server, "sre-token", "latency", &[], "1h", "x");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing to change"), "{err}");
    let (code, _, err) = server.ctl("sre-token", &["canary", "rebaseline", "--reason", "x"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not run"), "{err}");
    let (_, metrics) = get(server.admin_address(), "/metrics");
    assert!(
        metrics.contains("trust_fabric_canary_enabled 0"),
        "{metrics}"
    );
}

/// The kinds of the canary's timeline events in `reply`, oldest first.
fn timeline_kinds(reply: &Value) -> Vec<&str> {
    reply["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect()
}

/// `appliance ctl canary silence` as `token`: `comparator` (for `items`) for `span`, saying
/// `reason`.
fn silence(
    server: &Server,
    token: &str,
    comparator: &str,
    items: &[&str],
    span: &str,
    reason: &str,
) -> (i32, String, String) {
    let mut args = vec!["canary", "silence", "--comparator", comparator];
    for item in items {
        args.extend(["--item", item]);
    }
    args.extend(["--for", span, "--reason", reason]);
    server.ctl(token, &args)
}

/// The appliance's canary status once `done` holds, polled until `deadline_s`.
fn canary_until(server: &Server, deadline_s: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(deadline_s);
    loop {
        let reply = canary(server);
        if done(&reply) {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "not in time: {reply}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The number of the first run in the recent strip with this verdict.
fn first_run(reply: &Value, overall: &str) -> Option<u64> {
    reply["recent"]
        .as_array()
        .expect("recent runs")
        .iter()
        .find(|run| run["overall"] == overall)
        .and_then(|run| run["number"].as_u64())
}

fn fault_build() {
    #[cfg(not(feature = "fault-injection"))]
    panic!(
        "these tests need the appliance built with --features fault-injection (tests/run \
         builds it so)"
    );
}

#[test]
fn the_canary_catches_a_build_that_turns_one_verdict_in_twenty_around() {
    fault_build();
    let server = Server::start_with_env(
        &with_admin_tokens(FAST_CANARY, &TOKENS),
        &[],
        &[],
        &[("TF_FAULT_WRONG_VERDICT_EVERY", "20")],
    );
    assert!(
        server.log().contains("fault injection is on"),
        "{}",
        server.log()
    );
    // Ten requests a run: the 20th verdict is in the second run, and one wrong verdict fails
    // the canary at once.
    let failed = canary_until(&server, 60, |reply| reply["overall"] == "fail");
    let caught = first_run(&failed, "fail").expect("a failed run");
    assert!(caught <= 2, "caught in run {caught}: {failed}");
    let verdict = &failed["latest"]["comparators"][0];
    assert_eq!(verdict["comparator"], "verdict", "{failed}");
    assert_eq!(verdict["score"], "fail", "{failed}");
    assert!(
        failed["latest"]["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.contains("expected"))),
        "{failed}"
    );
}

#[test]
fn the_canary_catches_a_slowed_verification_within_five_runs_of_its_start() {
    fault_build();
    let dir = tempfile::tempdir().expect("temp dir");
    let switch = dir.path().join("slow");
    let switch_text = switch.display().to_string();
    let server = Server::start_with_env(
        &with_admin_tokens(FAST_CANARY, &TOKENS),
        &[],
        &[],
        &[
            ("TF_FAULT_VERIFY_DELAY_MS", "40"),
            ("TF_FAULT_SWITCH", &switch_text),
        ],
    );
    // The baseline first, at the appliance's own speed.
    let passing = canary_until(&server, 120, |reply| reply["overall"] == "pass");
    let before = passing["runs"].as_u64().expect("runs");
    std::fs::write(&switch, b"on").expect("switch on");
    let failed = canary_until(&server, 120, |reply| reply["overall"] == "fail");
    let caught = failed["latest"]["number"].as_u64().expect("number");
    // The run under way when the switch went on, then windows of three runs: slow runs are
    // two thirds of the window by the second, and the third failure in a row fails it.
    assert!(
        caught <= before + 5,
        "caught in run {caught}, the fault began after run {before}: {failed}"
    );
    let latency = &failed["latest"]["comparators"][2];
    assert_eq!(latency["comparator"], "latency", "{failed}");
    assert_eq!(latency["score"], "fail", "{failed}");
    // Verdicts were right all along: only latency failed.
    assert_eq!(
        failed["latest"]["comparators"][0]["score"], "pass",
        "{failed}"
    );
    // Slow runs never joined the baseline: its median is the appliance's own speed.
    let baseline_ms = failed["baseline"]["median_ms"].as_f64().expect("a median");
    assert!(baseline_ms < 40.0, "{failed}");

    // The slower appliance is the new normal (a deliberate change): an SRE resets the
    // baseline, with a reason; a viewer may not, and a reason is needed.
    let (code, _, err) = server.ctl("viewer-token", &["canary", "rebaseline", "--reason", "x"]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = server.ctl("sre-token", &["canary", "rebaseline", "--reason", " "]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("give a reason"), "{err}");
    let (code, out, err) = server.ctl(
        "sre-token",
        &[
            "canary",
            "rebaseline",
            "--reason",
            "slower disks on purpose (OPS-7)",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("baseline reset by oncall: slower disks on purpose (OPS-7)"),
        "{out}"
    );
    // The slow runs become the baseline, and the canary passes again with the delay still on.
    let reset_at = canary(&server)["runs"].as_u64().expect("runs");
    let recovered = canary_until(&server, 120, |reply| {
        reply["overall"] == "pass" && reply["alarm_since"].is_null()
    });
    assert!(recovered["runs"].as_u64() > Some(reset_at), "{recovered}");
    let baseline_ms = recovered["baseline"]["median_ms"]
        .as_f64()
        .expect("a median");
    assert!(
        baseline_ms >= 40.0,
        "the slow runs are the baseline now: {recovered}"
    );
    let kinds = timeline_kinds(&recovered);
    assert_eq!(
        kinds,
        ["canary.alarm", "canary.baseline.reset", "canary.recovered"],
        "{recovered}"
    );
}

#[test]
fn a_silence_quiets_what_it_covers_shows_it_as_silenced_and_stops_when_lifted() {
    fault_build();
    let server = Server::start_with_env(
        &with_admin_tokens(FAST_CANARY, &TOKENS),
        &[],
        &[],
        &[("TF_FAULT_WRONG_VERDICT_EVERY", "20")],
    );
    let (code, out, err) = silence(
        &server,
        "sre-token",
        "verdict",
        &[],
        "1h",
        "verdicts known wrong on this build (OPS-1)",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applies until"), "{out}");
    let id: u64 = out
        .trim_start_matches("silence #")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a silence number in {out}"));
    // Refused: a comparator that does not exist, a silence over a week, a viewer.
    let (code, _, err) = silence(&server, "sre-token", "speed", &[], "1h", "x");
    assert_eq!(code, 2, "a bad request: {err}");
    assert!(
        err.contains("verdict, receipt, latency, error-rate"),
        "{err}"
    );
    let (code, _, err) = silence(&server, "sre-token", "latency", &[], "8d", "x");
    assert_eq!(code, 2, "a bad request: {err}");
    assert!(err.contains("within a week"), "{err}");
    let (code, _, err) = silence(
        &server,
        "sre-token",
        "verdict",
        &["no-such-item"],
        "1h",
        "x",
    );
    assert_eq!(code, 2, "a bad request: {err}");
    assert!(
        err.contains("no item \"no-such-item\"") && err.contains("bls-single"),
        "{err}"
    );
    let (code, _, _) = silence(&server, "viewer-token", "latency", &[], "1h", "x");
    assert_eq!(code, 1);

    // A wrong verdict comes in the second run: silenced, the run is marginal, never a pass,
    // and no alarm is raised.
    let quiet = canary_until(&server, 60, |reply| {
        reply["recent"]
            .as_array()
            .is_some_and(|runs| runs.iter().any(|run| run["scores"][0] == "silenced"))
    });
    for run in quiet["recent"].as_array().expect("runs") {
        assert_ne!(run["overall"], "fail", "{quiet}");
        if run["scores"][0] == "silenced" {
            assert_eq!(run["overall"], "marginal", "{quiet}");
        }
    }
    assert!(quiet["alarm_since"].is_null(), "{quiet}");
    let (code, out, err) = server.ctl("viewer-token", &["canary", "silences"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("applies") && out.contains("OPS-1"), "{out}");
    assert!(
        out.contains(&format!("silence #{id} by oncall: verdict")),
        "{out}"
    );

    // Lifted, the next wrong verdict fails the canary, and the timeline shows both.
    let (code, out, err) = server.ctl("sre-token", &["canary", "lift", &id.to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ended"), "{out}");
    let failed = canary_until(&server, 60, |reply| reply["overall"] == "fail");
    let kinds = timeline_kinds(&failed);
    assert_eq!(
        kinds,
        ["canary.silence", "canary.silence.lifted", "canary.alarm"],
        "{failed}"
    );
    let (code, _, err) = server.ctl("sre-token", &["canary", "lift", &id.to_string()]);
    assert_eq!(code, 1, "a lifted silence cannot be lifted again: {err}");
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

/// The bundle timeline as `GET /api/v1/bundles` gives it.
fn bundle_timeline(server: &Server) -> Vec<Value> {
    let (status, body) = http(
        server.admin_address(),
        "GET",
        "/api/v1/bundles",
        &[("Authorization", "Bearer viewer-token")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).expect("JSON");
    reply["timeline"].as_array().expect("timeline").clone()
}

/// The timeline entry of revision `revision` once the canary has judged after it.
fn judged_after(server: &Server, revision: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let entry = bundle_timeline(server)
            .into_iter()
            .find(|e| e["to_revision"] == revision)
            .expect("the switch's entry");
        if !entry["canary"].is_null() {
            return entry;
        }
        assert!(
            Instant::now() < deadline,
            "no canary judgement after revision {revision}: {entry}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn after_a_promotion_the_canary_judges_the_runs_after_against_those_before_in_its_timeline_entry() {
    fault_build();
    let dir = tempfile::tempdir().expect("temp dir");
    let switch = dir.path().join("wrong");
    let server = Server::start_with_env(
        &with_admin_tokens(FAST_CANARY, &TOKENS),
        &[],
        &[],
        &[
            ("TF_FAULT_WRONG_VERDICT_EVERY", "7"),
            ("TF_FAULT_SWITCH", &switch.display().to_string()),
        ],
    );
    canary_until(&server, 120, |reply| reply["overall"] == "pass");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");

    // A healthy promotion: three runs after it against the three before, nothing wrong.
    let first = server.build_bundle(&example, 1, "in force", None);
    let (code, out, err) = server.ctl("author-token", &["promote", &first.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    let entry = judged_after(&server, 1);
    let judged = &entry["canary"];
    assert_ne!(judged["overall"], "fail", "{entry}");
    let summary = judged["summary"].as_str().expect("summary");
    assert!(
        summary.starts_with("3 runs after against 3 before"),
        "{summary}"
    );
    assert!(judged["judged"].is_string(), "{entry}");

    // A promotion after which verdicts go wrong: its entry says the canary failed after it,
    // naming what went wrong; `ctl timeline` shows it beside the reason.
    let second = server.build_bundle(&example, 2, "goes wrong", None);
    std::fs::write(&switch, b"on").expect("switch on");
    let (code, out, err) = server.ctl("author-token", &["promote", &second.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    let entry = judged_after(&server, 2);
    assert_eq!(entry["canary"]["overall"], "fail", "{entry}");
    let summary = entry["canary"]["summary"].as_str().expect("summary");
    assert!(summary.contains("verdict fail"), "{summary}");
    let (code, out, err) = server.ctl("viewer-token", &["timeline"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("canary after it: fail"), "{out}");
    // The canary's own timeline has both judgements.
    let events = canary(&server)["timeline"].clone();
    let after_switches = events
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "canary.after-switch")
        .count();
    assert_eq!(after_switches, 2, "{events}");
}
