//! Retention on a real appliance with a short retention and a snapshot every few seconds:
//! receipts leave the ledger only once a compliance snapshot holds them, the snapshot and its
//! anchor are in the transparency log, evidence export names the snapshot for the pruned
//! part, and the log still proves every pruned receipt (checked by the independent C2SP
//! readers of tests/support/tlog.rs).

#[path = "support/server.rs"]
mod server;
#[path = "support/tlog.rs"]
mod tlog;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use server::Server;
use sha2::{Digest, Sha256};
use tf_ledger::{Ledger, PrunedRange, SqliteLedger};
use tlog::{C2spTiles, get, independently_verified};

/// Receipts older than two seconds go once sealed; a period ends every three seconds. The
/// tenant has no budget caps, so no budget window asks for a longer retention.
const CONFIG: &str = r#"
[server]
shards = 1

[log]
checkpoint_interval_ms = 100

[ledger]
retention = "2s"

[compliance]
schedule = "*/3 * * * * *"

[[tenants]]
id = "acme"
rate_per_sec = 100000
burst = 100000
"#;

fn pruned_ranges(state: &Path) -> Vec<PrunedRange> {
    let ledger = SqliteLedger::open(&state.join("ledger.sqlite")).expect("ledger");
    ledger.pruned_ranges().expect("pruned ranges")
}

#[tokio::test]
async fn receipts_are_pruned_only_once_a_snapshot_holds_them_and_stay_provable() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let admin = server.admin_address();
    let started_s = tf_seam::clock::unix_micros() / 1_000_000;
    let saved = tlog::submit(server.partner("acme"), 0, 40).await;
    let last = saved.iter().map(|s| s.seq).max().expect("receipts");

    // Wait until every saved receipt has left the ledger.
    let deadline = Instant::now() + Duration::from_secs(90);
    let ranges = loop {
        let ranges = pruned_ranges(&server.state);
        if ranges.last().is_some_and(|r| r.to_seq >= last) {
            break ranges;
        }
        assert!(
            Instant::now() < deadline,
            "receipts through {last} were not pruned: {ranges:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let ledger = SqliteLedger::open(&server.state.join("ledger.sqlite")).expect("ledger");
    for receipt in &saved {
        assert_eq!(
            ledger.receipt(receipt.seq).expect("lookup"),
            None,
            "receipt {} is pruned",
            receipt.seq
        );
    }

    // Every pruned range is sealed by a packet made before it was pruned, which holds each of
    // its receipts, and nothing went before the retention.
    let signer = tf_state::State::open_existing(&server.state)
        .expect("state")
        .receipt_signer()
        .expect("key");
    let packets_dir = server.state.join("compliance");
    let packets = tf_compliance::list_packets(&packets_dir, &signer.public_key()).expect("list");
    let vkey = std::fs::read_to_string(server.state.join("log/vkey")).expect("vkey");
    let vkey = vkey.trim();
    let mut held = std::collections::BTreeSet::new();
    for range in &ranges {
        let packet = packets
            .iter()
            .find(|p| p.name == range.sealed_by)
            .unwrap_or_else(|| panic!("{} seals {range:?} and is kept", range.sealed_by));
        let summary = packet.summary.as_ref().expect("the index opens");
        let receipts = summary.log.receipts.expect("the packet has receipts");
        assert!(
            receipts.first <= range.from_seq && range.to_seq <= receipts.last,
            "{range:?} within {receipts:?}"
        );
        assert!(
            range.at_us >= summary.made_at_unix_us,
            "pruned after the packet was made"
        );
        assert!(
            range.at_us >= range.decided_to_us + 2_000_000,
            "nothing went before the retention: {range:?}"
        );
        tf_compliance::verify_packet(&packet.path, &signer.public_key(), Some(vkey))
            .unwrap_or_else(|problems| panic!("{}: {problems:?}", packet.name));
        // Read with the system's gzip: the packet's receipts are standard gzip files.
        let unzipped = Command::new("gzip")
            .arg("-dc")
            .arg(packet.path.join("receipts/acme.jsonl.gz"))
            .output()
            .expect("gzip runs");
        assert!(unzipped.status.success(), "{unzipped:?}");
        let lines = String::from_utf8(unzipped.stdout).expect("UTF-8 lines");
        for line in lines.lines() {
            held.insert(serde_json::from_str::<String>(line).expect("a JSON string"));
        }
    }
    for receipt in &saved {
        assert!(
            held.contains(&receipt.json),
            "receipt {} is in a packet, as issued",
            receipt.seq
        );
    }

    // The log still proves every pruned receipt, and each packet's anchor. The anchor may
    // have been appended after the last checkpoint was signed: wait for one that covers it.
    let covers_an_anchor = |size: u64| {
        packets
            .iter()
            .any(|p| p.anchor.as_ref().is_some_and(|a| a.seq < size))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let checkpoint = loop {
        let note = get(admin, "/checkpoint").text();
        let checkpoint = independently_verified(&note, vkey).unwrap_or_else(|e| panic!("{e}"));
        if covers_an_anchor(checkpoint.size()) {
            break checkpoint;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint covers an anchor: size {}\n{}",
            checkpoint.size(),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let tiles = C2spTiles::new(|path: &str| {
        let response = get(admin, &format!("/{path}"));
        (response.status == 200).then_some(response.body)
    });
    for receipt in &saved {
        tlog::check_included(
            &tiles,
            checkpoint.size(),
            *checkpoint.hash(),
            receipt.seq,
            &receipt.entry(),
        )
        .unwrap_or_else(|e| panic!("pruned receipt {} is in the log: {e}", receipt.seq));
    }
    let anchored = packets
        .iter()
        .filter_map(|p| p.anchor.as_ref().map(|a| (p, a)))
        .find(|(_, anchor)| anchor.seq < checkpoint.size())
        .expect("an anchored packet the checkpoint covers");
    let (packet, anchor) = anchored;
    let entry: [u8; 32] = Sha256::digest(anchor.envelope.as_bytes()).into();
    tlog::check_included(
        &tiles,
        checkpoint.size(),
        *checkpoint.hash(),
        anchor.seq,
        &entry,
    )
    .unwrap_or_else(|e| panic!("the anchor of {} is in the log: {e}", packet.name));
    let anchor_receipt = tf_receipts::Envelope::from_json(&anchor.envelope).expect("DSSE");
    let anchor_json: serde_json::Value =
        serde_json::from_slice(&anchor_receipt.payload).expect("receipt JSON");
    assert_eq!(
        anchor_json["reason"],
        format!("compliance-snapshot {}", packet.name),
        "{anchor_json}"
    );
    assert!(
        anchor_json
            .to_string()
            .contains(&packet.index_sha256.to_string()),
        "the anchor receipt carries the index digest: {anchor_json}"
    );

    // /metrics says so: packets kept, nothing failing, pruning going on.
    let scrape = get(admin, "/metrics").text();
    let metric = |name: &str| -> f64 {
        scrape
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {scrape}"))
    };
    assert!(metric("trust_fabric_compliance_snapshots") >= 1.0);
    assert_eq!(metric("trust_fabric_compliance_snapshot_failing"), 0.0);
    assert_eq!(metric("trust_fabric_compliance_pruning_stopped"), 0.0);
    assert!(
        metric("trust_fabric_compliance_last_period_end_seconds") * 1e6
            >= ranges.last().expect("a range").decided_to_us as f64
    );

    // Evidence export over the pruned period names the snapshot that holds it.
    let out = tempfile::tempdir().expect("tempdir");
    let export = Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["evidence", "export", "--tenant", "acme", "--from"])
        .arg(started_s.saturating_sub(1).to_string())
        .arg("--to")
        .arg((tf_seam::clock::unix_micros() / 1_000_000 + 1).to_string())
        .arg("--out")
        .arg(out.path().join("bundle"))
        .arg("--state-dir")
        .arg(&server.state)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&export.stdout);
    assert!(
        export.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "compliance snapshot {} holds them",
            ranges[0].sealed_by
        )),
        "{stdout}"
    );
}
