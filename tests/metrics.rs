//! `/metrics` as Prometheus reads it: scraped over HTTP from the real appliance while partners
//! submit, parsed with the Prometheus project's own Python parser, and checked against what was
//! sent.

#[path = "support/server.rs"]
mod server;

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use serde_json::Value;
use server::{Server, get, http_with_head, wait_for_async};
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerError, Statement, Submission, VerdictCode};

fn statement(seed: u8, valid: bool) -> Statement {
    let message = vec![seed; 16];
    let (signature, public_key) = bls::sign(&[seed + 1; 32], &message).expect("signs");
    let mut sent = message;
    if !valid {
        sent.push(0);
    }
    Statement::BlsSingle {
        public_key: public_key.to_bytes(),
        message: sent,
        signature: signature.to_bytes(),
    }
}

/// Parses the exposition with prometheus_client's parser (Debian's python3-prometheus-client,
/// installed by tests/run); returns `name{labels}` -> value, labels sorted.
fn parse_with_prometheus(text: &str) -> HashMap<String, f64> {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        # JSON has no infinity: +Inf (a gauge that never reaches its limit) travels as text.
        out[f"{s.name}{{{labels}}}"] = s.value if s.value != float("inf") else "+Inf"
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Debian's python3 runs (tests/run installs python3-prometheus-client)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("parser ran");
    assert!(
        out.status.success(),
        "the Prometheus parser refused the page: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: HashMap<String, Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    parsed
        .into_iter()
        .map(|(k, v)| {
            let value = match v.as_str() {
                Some("+Inf") => f64::INFINITY,
                _ => v.as_f64().expect("number"),
            };
            (k, value)
        })
        .collect()
}

#[tokio::test]
async fn metrics_scraped_under_load_parse_and_count_what_happened() {
    let server = Server::start("", &[], &[]);
    let admin = server.admin_address();
    // The probes, by GET and by HEAD (the same status, no body).
    for (path, answer) in [
        ("/healthz", "ok\n"),
        ("/readyz", "ok\n"),
        ("/livez", "alive\n"),
    ] {
        let (status, body) = get(admin, path);
        assert_eq!((status, body.as_str()), (200, answer), "{path}");
        let (status, head, body) = http_with_head(admin, "HEAD", path, &[], b"");
        assert_eq!((status, body.as_str()), (200, ""), "HEAD {path}: {head}");
    }
    let (status, head, body) = http_with_head(admin, "HEAD", "/metrics", &[], b"");
    assert_eq!((status, body.as_str()), (200, ""), "HEAD /metrics: {head}");

    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects");
    let submit = |seed: u8, valid: bool, purpose: &str, class: DatasetClass| Submission {
        purpose: purpose.into(),
        dataset_class: class,
        statement: statement(seed, valid),
    };
    // Load in the background while scraping.
    let loader = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("a second connection");
    let load = {
        let partner = loader;
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for seed in 0..30u8 {
                let valid = seed % 3 != 0;
                let reply = partner
                    .submit(submit(seed, valid, "load", DatasetClass::P2))
                    .await
                    .expect("answered");
                answers.push(reply.verdict);
            }
            answers
        })
    };
    for _ in 0..5 {
        let (status, page) = tokio::task::spawn_blocking(move || get(admin, "/metrics"))
            .await
            .expect("joined");
        assert_eq!(status, 200);
        parse_with_prometheus(&page);
    }
    let answers = load.await.expect("load ran");
    let valid = answers.iter().filter(|v| **v == VerdictCode::Valid).count();
    let invalid = answers
        .iter()
        .filter(|v| **v == VerdictCode::Invalid)
        .count();
    assert_eq!((valid, invalid), (20, 10));

    // The demo tenant's small cap: 5 units per rolling minute for purpose budget-demo, P0.
    let mut over_budget = 0;
    for seed in 100..106u8 {
        match partner
            .submit(submit(seed, true, "budget-demo", DatasetClass::P0))
            .await
        {
            Ok(reply) => assert_eq!(reply.verdict, VerdictCode::Valid),
            Err(PartnerError::OverBudget(_)) => over_budget += 1,
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(over_budget, 1);

    // Shards and the ledger publish their counters every half second: scrape until they count
    // every answer above (36 decided or refused, 35 receipts); the exact figures follow.
    let (page, samples) = wait_for_async(
        "the shards and the ledger to publish every answer in /metrics",
        Duration::from_secs(30),
        || async move {
            let scraped = tokio::task::spawn_blocking(move || {
                let (_, page) = get(admin, "/metrics");
                let samples = parse_with_prometheus(&page);
                (page, samples)
            })
            .await
            .expect("joined");
            let counted = |key: &str| scraped.1.get(key).copied().unwrap_or(0.0);
            let decided: f64 = ["valid", "invalid", "over_budget"]
                .iter()
                .map(|outcome| {
                    counted(&format!(
                        "trust_fabric_requests_total{{kind=bls-single,outcome={outcome},tenant=demo}}"
                    ))
                })
                .sum();
            let published = decided >= 36.0
                && counted("trust_fabric_decision_latency_seconds_count{kind=bls-single}") >= 35.0
                && counted("trust_fabric_ledger_receipts_total{}") >= 35.0;
            published.then_some(scraped)
        },
        || server.log(),
    )
    .await;
    let value = |key: &str| {
        *samples
            .get(key)
            .unwrap_or_else(|| panic!("no sample {key} in:\n{page}"))
    };
    let requests = |outcome: &str| {
        value(&format!(
            "trust_fabric_requests_total{{kind=bls-single,outcome={outcome},tenant=demo}}"
        ))
    };
    assert_eq!(requests("valid"), 25.0);
    assert_eq!(requests("invalid"), 10.0);
    assert_eq!(requests("over_budget"), 1.0);
    assert_eq!(
        value("trust_fabric_decision_latency_seconds_count{kind=bls-single}"),
        35.0
    );
    assert!(value("trust_fabric_batch_size_count{kind=bls-single}") >= 1.0);
    // One partner on a quiet appliance is within its share: nothing goes to the surplus lane.
    assert_eq!(
        value("trust_fabric_surplus_requests_total{tenant=demo}"),
        0.0
    );
    assert_eq!(value("trust_fabric_ledger_receipts_total{}"), 35.0);
    assert!(value("trust_fabric_ledger_commit_seconds_count{}") >= 1.0);
    let cap = "class=P0,purpose=budget-demo,tenant=demo,window=rolling 60s";
    assert_eq!(value(&format!("trust_fabric_budget_limit{{{cap}}}")), 5.0);
    assert_eq!(value(&format!("trust_fabric_budget_used{{{cap}}}")), 5.0);
    let shard_cpu: f64 = samples
        .iter()
        .filter(|(k, _)| k.starts_with("trust_fabric_shard_cpu_seconds_total"))
        .map(|(_, v)| v)
        .sum();
    assert!(shard_cpu > 0.0, "shard CPU is counted");
    // The disk the ledger and the log live on.
    assert_eq!(value("trust_fabric_ledger_outlook_errors{}"), 0.0);
    assert!(value("trust_fabric_ledger_size_bytes{}") > 0.0);
    assert!(value("trust_fabric_ledger_receipt_size_bytes{}") > 0.0);
    assert!(value("trust_fabric_ledger_disk_free_bytes{}") > 0.0);
    assert!(value("trust_fabric_ledger_disk_full_days{}") > 0.0);
    let logged = value("trust_fabric_log_checkpoint_entries{}");
    assert!(
        (1.0..=36.0).contains(&logged),
        "the genesis entry and at most the 35 receipts: {logged}"
    );
    // Compliance snapshots: none yet on a new appliance, and nothing failing.
    assert_eq!(value("trust_fabric_compliance_snapshots{}"), 0.0);
    assert_eq!(value("trust_fabric_compliance_snapshot_failing{}"), 0.0);
    assert_eq!(value("trust_fabric_compliance_pruning_stopped{}"), 0.0);
    assert!(value("process_cpu_seconds_total{}") >= shard_cpu);
    // File descriptors, against what the kernel lists for the process (connections and the
    // scrape itself come and go, so within a margin) and its own limit.
    let pid = server.pid();
    let listed = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fds")
        .count() as f64;
    let open = value("process_open_fds{}");
    assert!((open - listed).abs() <= 8.0, "{open} open, {listed} listed");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let soft: f64 = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a limit on open files");
    assert_eq!(value("process_max_fds{}"), soft);
    assert!(
        value("trust_fabric_connections{shard=0}") + value("trust_fabric_connections{shard=1}")
            >= 1.0
    );
}
