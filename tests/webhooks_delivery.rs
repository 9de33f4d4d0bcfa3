//! Auditor webhooks end to end, as a user runs them: endpoints added with `appliance ctl
//! webhooks add`, receipts made by a partner over QUIC, and what arrives at real HTTP
//! receivers checked against what the partner got.
//!
//! - Signatures verify with independent code (the Standard Webhooks Python library and
//!   `cryptography`, and Node's own `crypto`), and stop verifying when one body byte changes;
//!   each body carries the receipts exactly as the partner got them, seqs contiguous.
//! - With a receiver that fails, throttles or hangs on a share of requests, that is down for a
//!   while, or with the appliance killed (`kill -9`) while receipts are owed, every receipt
//!   issued is recorded exactly once by the reference receiver, and `ctl webhooks deliveries`
//!   shows every message acknowledged.
//! - A dead endpoint does not hold a healthy one back.
//! - Destinations the appliance must not post to unless an SRE marks the endpoint local are
//!   refused when added, and an auditor cannot mark one local.
//!
//! The Python checker runs in the venv tests/run sets up (target/test-venv/webhooks).

#[path = "support/server.rs"]
mod server;
#[path = "support/tlog.rs"]
mod tlog;
#[path = "support/webhook_checks.rs"]
mod webhook_checks;
#[path = "support/webhooks.rs"]
mod webhooks;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use server::{Server, free_port};
use tf_partner::{Partner, PartnerConfig};
use tlog::Saved;
use webhook_checks::{Capture, checker_input, node_checker, python_checker, venv_python};
use webhooks::{Receiver, assert_exactly_once, wait_for};

/// One shard, one tenant admitted as fast as the tests submit; compliance snapshots only on
/// 1 January, so the ledger holds nothing but the tenant's receipts.
const CONFIG: &str = r#"
[server]
shards = 1

[compliance]
schedule = "0 0 1 1 *"

[[tenants]]
id = "acme"
rate_per_sec = 100000
burst = 100000
"#;
/// A held request is given up on after half a second.
const SHORT_TIMEOUT: &str = "\n[webhooks]\ntimeout_ms = 500\n";
/// Receipts per message: small, so a few hundred receipts make many messages.
const BATCH_MAX: &str = "5";
/// How long anything may take to arrive: never a measure, only a bound for a hung test. A
/// message the throttling receiver refuses six times in a row (0.3^6: one run in 70 has such
/// a message) waits for its 7th attempt 96 s after its first, its 8th 3 min 36 s after.
const DEADLINE: Duration = Duration::from_secs(300);

#[test]
fn signatures_verify_independently_and_bodies_carry_the_receipts_as_issued() {
    let python = venv_python();
    let server = Server::start(CONFIG, &["acme"], &[]);
    let capture = Capture::start();
    let (id, secret) = add_endpoint(
        &server,
        &capture.url(),
        &["--scheme", "v1", "--scheme", "v1a", "--local"],
    );
    let keys = run_ok(
        Command::new(env!("CARGO_BIN_EXE_appliance"))
            .args(["keys", "show", "--json", "--state-dir"])
            .arg(&server.state),
    );
    let public_key = keys["webhook_public_key"]
        .as_str()
        .expect("keys show prints webhook_public_key")
        .to_owned();
    assert!(public_key.starts_with("whpk_"), "{public_key}");
    assert_eq!(
        ctl_json(&server, None, &["webhooks", "list"])["public_key"].as_str(),
        Some(public_key.as_str()),
        "ctl webhooks list names the key keys show prints"
    );

    let saved: BTreeMap<u64, Saved> = submit(&server, 0, 40)
        .into_iter()
        .map(|s| (s.seq, s))
        .collect();
    let expected: BTreeSet<u64> = saved.keys().copied().collect();
    assert_contiguous(&expected);
    wait_for(
        "the capturing receiver to get every receipt",
        DEADLINE,
        || {
            let got: BTreeSet<u64> = capture.unique().iter().flat_map(|d| d.seqs()).collect();
            expected.is_subset(&got)
        },
        || format!("{} requests\n{}", capture.all().len(), server.log()),
    );
    assert_all_acknowledged(&server, id, &expected);

    // Each message: the id names its endpoint and receipts, the body carries each receipt's
    // envelope byte for byte as the partner got it, in order, at most batch_max of them.
    let unique = capture.unique();
    let mut carried = Vec::new();
    for delivery in &unique {
        let body: Value = serde_json::from_slice(&delivery.body).expect("the body is JSON");
        assert_eq!(body["type"], "receipt.issued", "{body}");
        assert!(
            body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{body}"
        );
        let receipts = body["data"]["receipts"].as_array().expect("data.receipts");
        assert!(
            (1..=5).contains(&receipts.len()),
            "batch_max {BATCH_MAX}: {}",
            receipts.len()
        );
        let seqs = delivery.seqs();
        assert_eq!(
            delivery.header("webhook-id"),
            Some(format!("msg_receipts_{id}_{}_{}", seqs[0], seqs[seqs.len() - 1]).as_str())
        );
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "a message's receipts are consecutive: {seqs:?}"
        );
        for entry in receipts {
            let seq = entry["seq"].as_u64().expect("seq");
            assert_eq!(
                entry["log_index"].as_u64(),
                Some(seq),
                "the log index is the seq"
            );
            let issued = saved
                .get(&seq)
                .unwrap_or_else(|| panic!("seq {seq} was not issued to the partner"));
            assert_eq!(
                entry["envelope"].as_str(),
                Some(issued.json.as_str()),
                "seq {seq}: the envelope exactly as the partner got it"
            );
        }
        let signature = delivery.header("webhook-signature").unwrap_or_default();
        assert!(
            signature.split(' ').any(|s| s.starts_with("v1,"))
                && signature.split(' ').any(|s| s.starts_with("v1a,")),
            "both schemes sign: {signature}"
        );
        carried.extend(seqs);
    }
    assert_exactly_once(&carried, &expected, "the captured messages");

    // Every delivery as received, through both independent checkers, each scheme with its
    // key; then with one byte of one body changed, which both must refuse, on both schemes.
    let deliveries = capture.all();
    let keys = ["--secret", &secret, "--public-key", &public_key];
    let n = deliveries.len();
    // Both checkers on the same input: (checker, exit code, what it printed).
    let check = |input: &[u8]| {
        [
            ("check_signatures.py", python_checker(&python, &keys, input)),
            ("verify.mjs", node_checker(&keys, input)),
        ]
        .map(|(name, run)| (name, run.status.code(), text(&run)))
    };
    for (name, code, output) in check(&checker_input(&deliveries)) {
        assert!(
            code == Some(0) && output.contains(&format!("{n} of {n} verified")),
            "{name} refused genuine deliveries:\n{output}"
        );
    }
    let mut tampered = deliveries.clone();
    let changed = &mut tampered[n / 2];
    let middle = changed.body.len() / 2;
    changed.body[middle] ^= 0x01;
    let changed_id = changed.header("webhook-id").expect("an id").to_owned();
    for (name, code, output) in check(&checker_input(&tampered)) {
        let refused = output
            .lines()
            .find(|l| l.starts_with(&format!("{changed_id}: NOT")));
        assert!(
            code == Some(1)
                && output.contains(&format!("{} of {n} verified", n - 1))
                && refused.is_some_and(|l| l.contains("v1:") && l.contains("v1a:")),
            "{name} must refuse {changed_id}, its body changed after signing, on both \
             schemes:\n{output}"
        );
    }
}

#[test]
fn failing_throttling_and_hanging_receivers_record_every_receipt_exactly_once() {
    let server = Server::start(&format!("{CONFIG}{SHORT_TIMEOUT}"), &["acme"], &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    // Each misbehaviour at its own endpoint and receiver, all delivering the same receipts at
    // once; each class is what that receiver's fault makes the appliance count.
    let faults: [(&str, &[&str], &str); 3] = [
        ("fail", &["--fail-percent", "20"], "status_5xx"),
        (
            "throttle",
            &["--throttle-percent", "30", "--retry-after", "1"],
            "rate_limited",
        ),
        (
            "hang",
            &["--hang-percent", "20", "--hang-s", "3"],
            "timeout",
        ),
    ];
    let endpoints: Vec<(u64, Receiver, &str)> = faults
        .iter()
        .map(|(name, args, class)| {
            let (id, receiver) = receiver_endpoint(&server, &dir.path().join(name), &[], args);
            (id, receiver, *class)
        })
        .collect();

    // 20 messages to each: enough for faults, few enough that the retry ladder's tail (see
    // DEADLINE) is rare.
    let expected = seqs(&submit(&server, 0, 100));
    assert_contiguous(&expected);
    let mut injected = 0;
    for (id, receiver, class) in &endpoints {
        receiver.wait_for_all(&expected, DEADLINE, &server);
        assert_exactly_once(&receiver.recorded(), &expected, receiver.out().display());
        assert_all_acknowledged(&server, *id, &expected);
        // Every fault the receiver says it answered with, the appliance counted as a failure of
        // its class (a held request is logged when it is let go, after the appliance gave up).
        let faults = receiver.log().matches("verdict=fault").count() as u64;
        let failures = failures(&server, *id);
        let counted = failures.get(*class).copied().unwrap_or(0);
        eprintln!(
            "{}: {faults} faults, failures {failures:?}",
            receiver.out().display()
        );
        assert!(
            counted >= faults,
            "endpoint {id}: {faults} faults injected, {class} failures counted: {failures:?}"
        );
        injected += faults;
    }
    assert!(injected > 0, "the receivers injected faults");
}

#[test]
fn a_receiver_down_for_a_while_and_an_appliance_killed_mid_delivery_lose_nothing() {
    let mut server = Server::start(CONFIG, &["acme"], &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    // Five messages a second at most, so receipts are owed while the partner makes them.
    let (id, mut receiver) = receiver_endpoint(&server, &out, &["--rate-per-s", "5"], &[]);
    let mut saved = submit(&server, 0, 40);
    receiver.wait_for_all(&seqs(&saved), DEADLINE, &server);

    // The receiver is killed; receipts made meanwhile fail to connect, and wait.
    receiver.kill();
    let while_down = submit(&server, 1_000, 40);
    saved.extend(while_down.iter().cloned());
    wait_for(
        "attempts at the stopped receiver to fail",
        DEADLINE,
        || failures(&server, id).get("connect").is_some_and(|n| *n > 0),
        || server.log(),
    );
    let owed: Vec<Value> = deliveries(&server, id)
        .into_iter()
        .filter(|m| m["status"] == "owed")
        .collect();
    assert!(
        owed.iter()
            .any(|m| m["attempts"].as_u64() > Some(0) && m["last_failure"].is_string()),
        "messages owed with a failed attempt: {owed:?}"
    );
    // Back on the same port with the same record.
    let receiver = receiver.restart();
    receiver.wait_for_all(&seqs(&saved), DEADLINE, &server);

    // kill -9 while a partner keeps making receipts and deliveries are under way.
    let before_kill = receiver.recorded().len();
    let loader = {
        let mut config = server.partner("acme");
        // A killed appliance never answers: the loader gives up on its request after this.
        config.request_timeout = Duration::from_secs(1);
        std::thread::spawn(move || runtime().block_on(load(config, 2_000)))
    };
    wait_for(
        "deliveries of the new receipts to be under way",
        DEADLINE,
        || receiver.recorded().len() >= before_kill + 10,
        || receiver.log(),
    );
    let recorded_at_kill = receiver.recorded().len();
    server.kill_and_restart();
    let loaded = loader.join().expect("loader");
    let made_before_kill = loaded.len();
    saved.extend(loaded);
    saved.extend(submit(&server, 3_000, 20));

    // Every receipt in the ledger since the endpoint was added: the partner's, and those
    // committed while the kill cut their answers.
    let last = saved.iter().map(|s| s.seq).max().expect("receipts");
    let first = saved.iter().map(|s| s.seq).min().expect("receipts");
    let expected: BTreeSet<u64> = (first..=last).collect();
    assert_eq!(
        seqs(&saved).len(),
        saved.len(),
        "no seq given to two receipts"
    );
    assert!(
        recorded_at_kill + 10 <= 80 + made_before_kill,
        "receipts were owed at the kill: {recorded_at_kill} recorded of {} made",
        80 + made_before_kill
    );
    eprintln!(
        "killed with {recorded_at_kill} of {} receipts recorded; {} in all",
        80 + made_before_kill,
        expected.len()
    );
    receiver.wait_for_all(&expected, DEADLINE, &server);
    assert_exactly_once(
        &receiver.recorded(),
        &expected,
        "after the receiver's dedup",
    );
    assert_all_acknowledged(&server, id, &expected);

    // Messages sent again on purpose keep their ids, and the receiver records none twice.
    let duplicates = || receiver.log().matches("verdict=duplicate").count();
    let before_replay = duplicates();
    let id_arg = id.to_string();
    let replayed = ctl_json(
        &server,
        None,
        &[
            "webhooks", "replay", &id_arg, "--from", "1", "--to", "5", "--reason", "test",
        ],
    );
    assert_eq!(replayed["queued"], 5, "{replayed}");
    wait_for(
        "the replayed messages to arrive",
        DEADLINE,
        || duplicates() >= before_replay + 5,
        || receiver.log(),
    );
    assert_exactly_once(&receiver.recorded(), &expected, "after a replay");
    eprintln!(
        "the receiver answered {} messages as duplicates, {before_replay} before the replay",
        duplicates()
    );
}

#[test]
fn a_dead_endpoint_does_not_delay_a_healthy_one() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let dead_url = format!("http://127.0.0.1:{}/hooks", free_port());
    let (dead, _) = add_endpoint(&server, &dead_url, &["--local"]);
    let (healthy, receiver) = receiver_endpoint(&server, &dir.path().join("out"), &[], &[]);

    let expected = seqs(&submit(&server, 0, 100));
    receiver.wait_for_all(&expected, DEADLINE, &server);
    assert_exactly_once(&receiver.recorded(), &expected, "the healthy endpoint");
    let acknowledged = assert_all_acknowledged(&server, healthy, &expected);

    // Meanwhile the dead one has had nothing acknowledged, only connection failures.
    let listed = endpoint(&server, dead);
    assert!(
        listed["delivery"]["owed_messages"].as_u64() > Some(0),
        "the dead endpoint is owed messages: {listed}"
    );
    assert_eq!(listed["delivery"]["acknowledged"], 0, "{listed}");
    wait_for(
        "a failed attempt at the dead endpoint",
        DEADLINE,
        || {
            failures(&server, dead)
                .get("connect")
                .is_some_and(|n| *n > 0)
        },
        || server.log(),
    );
    let messages = deliveries(&server, dead);
    assert!(
        !messages.is_empty(),
        "the dead endpoint's messages are stored"
    );
    assert!(
        messages.iter().all(|m| m["status"] == "owed"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m["attempts"].as_u64() > Some(0) && m["last_failure"].is_string()),
        "{messages:?}"
    );
    let page = server::get(server.admin_address(), "/metrics").1;
    let dead_label = dead.to_string();
    let healthy_label = healthy.to_string();
    let sample = |name: &str, labels: &[(&str, &str)]| metric(&page, name, labels);
    assert!(
        sample(
            "trust_fabric_webhook_failures_total",
            &[("endpoint", &dead_label), ("class", "connect")]
        )
        .is_some_and(|v| v > 0.0),
        "{page}"
    );
    assert_eq!(
        sample(
            "trust_fabric_webhook_acknowledged_total",
            &[("endpoint", &dead_label)]
        ),
        Some(0.0),
        "{page}"
    );
    assert!(
        sample(
            "trust_fabric_webhook_acknowledged_total",
            &[("endpoint", &healthy_label)]
        )
        .is_some_and(|v| v >= acknowledged as f64),
        "{page}"
    );
}

#[test]
fn destinations_inside_the_network_need_local_and_only_an_sre_may_set_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let made = run(Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["ctl", "token", "new", "--name", "aud", "--role", "auditor"]));
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    let auditor_token = String::from_utf8_lossy(&made.stdout)
        .lines()
        .find_map(|l| {
            l.split_once("it is shown once): ")
                .map(|(_, t)| t.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("ctl token prints the token: {}", text(&made)));
    let (sre_token, sre_name, sre_role) = server::ROLE_TOKENS[0];
    assert_eq!(sre_role, "sre");
    let config = server::with_admin_tokens(
        CONFIG,
        &[
            (sre_token, sre_name, sre_role),
            (&auditor_token, "aud", "auditor"),
        ],
    );
    let server = Server::start(&config, &["acme"], &[]);
    let sre = write_token(dir.path(), "sre", sre_token);
    let auditor = write_token(dir.path(), "auditor", &auditor_token);
    let add = |token: &Path, url: &str, local: bool| {
        let extra: &[&str] = if local { &["--local"] } else { &[] };
        let args = add_args(url, "destination checks", extra);
        ctl(&server, Some(token), &[&args[..], &["--json"]].concat())
    };

    // Refused for an SRE too, unless marked local: every one is checked before asserting, so
    // a failure lists them all.
    let mut wrong = Vec::new();
    for url in [
        "http://127.0.0.1:9/x",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "https://169.254.169.254/",
        "http://example.com/x",
    ] {
        let output = add(&sre, url, false);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // An address the appliance refuses to post to is an unusable argument: exit 2.
        if output.status.code() != Some(2) || !stderr.contains("local") {
            wrong.push(format!(
                "{url} without --local: expected exit 2 naming `local`, got {}",
                outcome(&output)
            ));
        }
    }
    // An auditor may not mark an endpoint local at all.
    for url in ["http://127.0.0.1:9/x", "https://10.1.2.3/x"] {
        let output = add(&auditor, url, true);
        if output.status.code() != Some(1)
            || !String::from_utf8_lossy(&output.stderr).contains("403")
        {
            wrong.push(format!(
                "{url} --local by an auditor: expected exit 1 (403), got {}",
                outcome(&output)
            ));
        }
    }
    // What is allowed is accepted: a public https endpoint by the auditor, a local one by the
    // SRE.
    let accepted = [
        (
            &auditor,
            "https://audit.example.com/hooks/trust-fabric",
            false,
        ),
        (&sre, "http://127.0.0.1:9/x", true),
    ];
    let mut added = Vec::new();
    for (token, url, local) in accepted {
        let output = add(token, url, local);
        if output.status.code() == Some(0) {
            let reply: Value = serde_json::from_slice(&output.stdout).expect("JSON");
            assert_eq!(reply["endpoint"]["url"], url, "{reply}");
            assert_eq!(reply["endpoint"]["settings"]["local"], local, "{reply}");
            added.push(url.to_owned());
        } else {
            wrong.push(format!(
                "{url} (local {local}): expected exit 0, got {}",
                outcome(&output)
            ));
        }
    }
    let listed: Vec<String> = ctl_json(&server, Some(&auditor), &["webhooks", "list"])["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| e["url"].as_str().expect("url").to_owned())
        .collect();
    if listed != added {
        wrong.push(format!(
            "only the accepted endpoints are kept: listed {listed:?}, accepted {added:?}"
        ));
    }
    // For people: a row per endpoint under a header, then the v1a key.
    let table = ctl(&server, Some(&auditor), &["webhooks", "list"]);
    let text = String::from_utf8_lossy(&table.stdout);
    let rows: Vec<&str> = text.lines().collect();
    if !(table.status.success()
        && rows
            .first()
            .is_some_and(|h| h.split_whitespace().take(2).eq(["ID", "STATE"]))
        && added.iter().all(|url| {
            rows.iter()
                .any(|r| r.contains("active") && r.ends_with(url))
        })
        && rows
            .last()
            .is_some_and(|l| l.starts_with("v1a public key: whpk_")))
    {
        wrong.push(format!("webhooks list as a table: {}", outcome(&table)));
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------------
// The appliance, as a user drives it.

/// `appliance ctl --admin <admin> (--token-file FILE | --state-dir STATE) ARGS`.
fn ctl(server: &Server, token: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appliance"));
    command
        .arg("ctl")
        .arg("--admin")
        .arg(format!("http://{}", server.admin_address()));
    match token {
        Some(file) => command.arg("--token-file").arg(file),
        // The state directory's development token, which has every role.
        None => command.arg("--state-dir").arg(&server.state),
    };
    run(command.args(args).env_remove("TF_ADMIN_TOKEN"))
}

/// [`ctl`], which must succeed; its JSON output.
fn ctl_json(server: &Server, token: Option<&Path>, args: &[&str]) -> Value {
    let output = ctl(server, token, &[args, &["--json"]].concat());
    assert_eq!(
        output.status.code(),
        Some(0),
        "ctl {args:?}: {}\n{}",
        text(&output),
        server.log()
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("ctl {args:?} prints JSON ({e}): {}", text(&output)))
}

/// Adds a `receipt.issued` endpoint with small batches; its id and `whsec_` secret.
fn add_endpoint(server: &Server, url: &str, extra: &[&str]) -> (u64, String) {
    let extra = [&["--batch-max", BATCH_MAX], extra].concat();
    let added = ctl_json(server, None, &add_args(url, "end-to-end test", &extra));
    let id = added["endpoint"]["id"].as_u64().expect("endpoint.id");
    let secret = added["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{added}");
    (id, secret)
}

/// `webhooks add URL --event receipt.issued --reason REASON`, then `extra`.
fn add_args<'a>(url: &'a str, reason: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "webhooks",
        "add",
        url,
        "--event",
        "receipt.issued",
        "--reason",
        reason,
    ];
    args.extend_from_slice(extra);
    args
}

/// A local endpoint on a free port, and the reference receiver started there with its secret
/// (the secret exists only once the endpoint is added, and no receipt is owed before).
fn receiver_endpoint(
    server: &Server,
    out: &Path,
    settings: &[&str],
    faults: &[&str],
) -> (u64, Receiver) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hooks");
    let (id, secret) = add_endpoint(server, &url, &[&["--local"], settings].concat());
    let receiver = Receiver::for_endpoint(port, out, &secret, &server.state, faults);
    (id, receiver)
}

/// Endpoint `id` as `ctl webhooks list` shows it.
fn endpoint(server: &Server, id: u64) -> Value {
    let list = ctl_json(server, None, &["webhooks", "list"]);
    list["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .find(|e| e["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("endpoint {id} listed: {list}"))
}

/// Endpoint `id`'s failed attempts by class, as `ctl webhooks list` shows them.
fn failures(server: &Server, id: u64) -> BTreeMap<String, u64> {
    endpoint(server, id)["delivery"]["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| {
            (
                f["class"].as_str().expect("class").to_owned(),
                f["count"].as_u64().expect("count"),
            )
        })
        .collect()
}

/// Every message of endpoint `id`, newest first, page after page of `ctl webhooks deliveries`.
fn deliveries(server: &Server, id: u64) -> Vec<Value> {
    let id = id.to_string();
    let mut messages: Vec<Value> = Vec::new();
    loop {
        let before = messages
            .last()
            .map(|m| m["number"].as_u64().expect("number").to_string());
        let mut args = vec!["webhooks", "deliveries", &id, "--limit", "500"];
        if let Some(before) = &before {
            args.extend(["--before", before]);
        }
        let page = ctl_json(server, None, &args)["messages"]
            .as_array()
            .expect("messages")
            .clone();
        if page.is_empty() {
            return messages;
        }
        messages.extend(page);
    }
}

/// Waits until `ctl webhooks deliveries` shows every message of endpoint `id` acknowledged,
/// their receipts exactly `expected`, none twice; returns how many messages.
fn assert_all_acknowledged(server: &Server, id: u64, expected: &BTreeSet<u64>) -> usize {
    let covered = |messages: &[Value]| -> Vec<u64> {
        messages
            .iter()
            .flat_map(|m| {
                let first = m["first_seq"].as_u64().expect("first_seq");
                let last = m["last_seq"].as_u64().expect("last_seq");
                first..=last
            })
            .collect()
    };
    let mut messages = Vec::new();
    wait_for(
        &format!("endpoint {id}'s messages to be acknowledged"),
        DEADLINE,
        || {
            messages = deliveries(server, id);
            messages.iter().all(|m| m["status"] == "acknowledged")
                && covered(&messages).len() >= expected.len()
        },
        || format!("{:#?}", deliveries(server, id)),
    );
    for message in &messages {
        assert_eq!(message["event"], "receipt.issued", "{message}");
        assert!(
            message["acknowledged_unix_us"].as_u64().is_some()
                && message["answer_sha256"].is_string(),
            "{message}"
        );
    }
    assert_exactly_once(
        &covered(&messages),
        expected,
        format!("endpoint {id}'s acknowledged messages"),
    );
    messages.len()
}

/// Makes `count` receipts for tenant acme (requests `first..first + count`, over four
/// connections); the partner's saved receipts.
fn submit(server: &Server, first: u64, count: u64) -> Vec<Saved> {
    assert_eq!(count % 4, 0, "four connections, the same number each");
    runtime().block_on(tlog::submit_concurrently(
        &server.partner("acme"),
        first,
        4,
        count / 4,
    ))
}

/// Submits one request after another until the connection fails (the appliance is killed),
/// saving every receipt answered.
async fn load(config: PartnerConfig, first: u64) -> Vec<Saved> {
    let mut saved = Vec::new();
    let Ok(partner) = Partner::connect(&config).await else {
        return saved;
    };
    for n in first.. {
        match partner.submit(tlog::submission(n)).await {
            Ok(reply) => saved.push(Saved::from_reply(&reply)),
            Err(_) => break,
        }
    }
    saved
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn seqs(saved: &[Saved]) -> BTreeSet<u64> {
    saved.iter().map(|s| s.seq).collect()
}

/// One number from a `/metrics` page: the sample of `name` with every label of `labels`.
fn metric(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    page.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix('{')?;
        let (inside, value) = rest.split_once("} ")?;
        labels
            .iter()
            .all(|(k, v)| inside.split(',').any(|pair| pair == format!("{k}=\"{v}\"")))
            .then(|| value.trim().parse().ok())?
    })
}

// ---------------------------------------------------------------------------------------
// Small things.

fn run(command: &mut Command) -> Output {
    command.output().expect("appliance runs")
}

/// A command that must succeed and print JSON.
fn run_ok(command: &mut Command) -> Value {
    let output = run(command);
    assert!(output.status.success(), "{}", text(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// How an `add` ended, briefly: the endpoint's id if it was added, else the exit and stderr.
fn outcome(output: &Output) -> String {
    let added = serde_json::from_slice::<Value>(&output.stdout)
        .ok()
        .and_then(|reply| reply["endpoint"]["id"].as_u64());
    match (output.status.code(), added) {
        (Some(0), Some(id)) => format!("exit 0: added as endpoint {id}"),
        _ => text(output),
    }
}

fn write_token(dir: &Path, name: &str, token: &str) -> PathBuf {
    let path = dir.join(format!("{name}.token"));
    std::fs::write(&path, token).expect("token written");
    path
}

fn assert_contiguous(seqs: &BTreeSet<u64>) {
    let (first, last) = (
        seqs.first().expect("receipts"),
        seqs.last().expect("receipts"),
    );
    assert_eq!(
        (last - first + 1) as usize,
        seqs.len(),
        "the receipts' seqs are contiguous: {seqs:?}"
    );
}
