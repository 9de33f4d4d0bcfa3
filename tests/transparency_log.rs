//! The transparency log served by a real appliance: its checkpoint and tiles read over HTTP
//! by the independent `signed_note` and `tlog_tiles` crates prove every receipt a partner
//! saved, and `appliance log` checks the same log as an auditor would.

#[path = "support/server.rs"]
mod server;
#[path = "support/tlog.rs"]
mod tlog;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use server::Server;
use tlog::{C2spTiles, Saved, get, independently_verified, index_path};

/// Checkpoints every 50 ms while receipts arrive; one tenant admitted fast enough for the load.
const CONFIG: &str = r#"
[server]
shards = 2

[log]
checkpoint_interval_ms = 50

[[tenants]]
id = "acme"
rate_per_sec = 100000
burst = 100000
"#;

/// The log's verifier key, as the appliance published it.
fn vkey(server: &Server) -> String {
    std::fs::read_to_string(server.state.join("log/vkey"))
        .expect("the log worker published its key")
        .trim()
        .to_owned()
}

/// Polls `/checkpoint` until it covers entry `seq`; returns the signed note.
fn checkpoint_covering(server: &Server, admin: SocketAddr, seq: u64, vkey: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = get(admin, "/checkpoint");
        if response.status == 200 {
            let note = response.text();
            let checkpoint = independently_verified(&note, vkey).unwrap_or_else(|e| panic!("{e}"));
            if checkpoint.size() > seq {
                return note;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint covered {seq}: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn appliance(args: &[&str], state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .output()
        .expect("appliance runs")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn served_tiles_are_c2sp_tiles_that_prove_every_saved_receipt() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let admin = server.admin_address();
    // 320 receipts: with the genesis entry, a full level-0 tile, a partial one, a partial
    // level-1 tile, a full entry bundle and a partial one.
    let saved = tlog::submit_concurrently(&server.partner("acme"), 0, 4, 80).await;
    let last = saved.iter().map(|s| s.seq).max().expect("receipts");
    assert!(last > 256, "the load filled a tile: {last}");
    let vkey = vkey(&server);
    let note = checkpoint_covering(&server, admin, last, &vkey);

    // The checkpoint: signed by the published key, named after its origin.
    let checkpoint = independently_verified(&note, &vkey).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        Some(checkpoint.origin()),
        vkey.split('+').next(),
        "the key signs under the log's origin"
    );
    let (size, root) = (checkpoint.size(), *checkpoint.hash());
    assert_eq!(
        size,
        last + 1,
        "entry 0 is the genesis entry, then one per receipt"
    );

    // Every receipt at its ledger sequence number, proved through tiles fetched over HTTP and
    // authenticated by tlog_tiles against the signed root.
    let tiles = C2spTiles::new(|path: &str| {
        let response = get(admin, &format!("/{path}"));
        (response.status == 200).then_some(response.body)
    });
    for receipt in &saved {
        tlog::check_included(&tiles, size, root, receipt.seq, &receipt.entry())
            .unwrap_or_else(|e| panic!("receipt {} is not in the served log: {e}", receipt.seq));
    }
    let partial = format!("tile/0/001.p/{}", size - 256);
    for path in ["tile/0/000", partial.as_str(), "tile/1/000.p/1"] {
        assert!(
            tiles.fetched().contains(path),
            "{path} read: {:?}",
            tiles.fetched()
        );
    }
    // The proofs would not check with a receipt altered by one byte.
    let mut altered: Saved = saved[0].clone();
    altered.json.push(' ');
    assert!(tlog::check_included(&tiles, size, root, altered.seq, &altered.entry()).is_err());

    // The entry bundles hold the entries themselves: the genesis entry, then each receipt's.
    let mut entries = Vec::new();
    for bundle in 0..size.div_ceil(256) {
        let width = (size - bundle * 256).min(256);
        let path = match width {
            256 => format!("/tile/entries/{}", index_path(bundle)),
            width => format!("/tile/entries/{}.p/{width}", index_path(bundle)),
        };
        let response = get(admin, &path);
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        let bundle = tlog::bundle_entries(&response.body);
        assert_eq!(bundle.len() as u64, width, "{path}");
        entries.extend(bundle);
    }
    assert_eq!(
        entries[0],
        tf_control::log::genesis_entry(&vkey),
        "entry 0 is the genesis entry"
    );
    for receipt in &saved {
        assert_eq!(
            entries[receipt.seq as usize],
            receipt.entry(),
            "entry {} is the SHA-256 of the receipt's envelope JSON",
            receipt.seq
        );
    }

    // A full tile never changes; a partial one does.
    for path in ["/tile/0/000", "/tile/entries/000"] {
        let response = get(admin, path);
        assert_eq!(response.status, 200, "{path}");
        assert!(
            response
                .header("cache-control")
                .is_some_and(|v| v.contains("immutable")),
            "{path}: {}",
            response.head
        );
    }
    let response = get(admin, &format!("/{partial}"));
    assert_eq!(response.status, 200);
    assert!(
        !response.head.contains("immutable"),
        "{partial}: {}",
        response.head
    );

    // Tiles beyond the checkpoint, and paths that are not C2SP tile paths, are not found.
    let next = size - 256 + 1;
    for path in [
        format!("/tile/0/001.p/{next}"),
        "/tile/0/002".into(),
        "/tile/1/000".into(),
        "/tile/2/000.p/1".into(),
        format!("/tile/entries/001.p/{next}"),
        "/tile/entries/002.p/1".into(),
    ] {
        let response = get(admin, &path);
        assert_eq!(response.status, 404, "{path} is beyond the checkpoint");
    }
    for path in [
        "/tile/0/1",
        "/tile/0/0000",
        "/tile/0/000.p/0",
        "/tile/0/000.p/256",
        "/tile/0/000.p/07",
        "/tile/x/000",
        "/tile/64/000",
        "/tile/data/000",
        "/tile/0/x000/000",
        "/tile/0/000/",
        "/tile/",
    ] {
        let response = get(admin, path);
        assert_eq!(response.status, 404, "{path} is not a tile path");
    }
}

#[tokio::test]
async fn appliance_log_checks_the_running_log() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let admin = server.admin_address();
    let url = format!("http://{admin}");
    let dir = server.dir.path();
    let state = server.state.as_path();
    let saved = tlog::submit(server.partner("acme"), 0, 12).await;
    let last = saved.iter().map(|s| s.seq).max().expect("receipts");
    let vkey = vkey(&server);
    checkpoint_covering(&server, admin, last, &vkey);

    let shown = appliance(&["log", "--url", &url, "checkpoint"], state);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown));
    let stdout = String::from_utf8_lossy(&shown.stdout);
    assert!(
        stdout.contains("signature verified") && stdout.contains(&vkey),
        "{}",
        text(&shown)
    );
    // Under a key that is not the log's, the checkpoint does not verify.
    let stranger = tf_tlog::NoteSigner::new("someone.example/log", &[1; 32])
        .expect("valid name")
        .vkey();
    let refused = appliance(
        &["log", "--url", &url, "--vkey", &stranger, "checkpoint"],
        state,
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));

    // A receipt's proof, written beside its checkpoint, verifies offline with the receipt and
    // no other.
    let (receipt, other) = (&saved[3], &saved[7]);
    let receipt_file = dir.join("receipt.json");
    std::fs::write(&receipt_file, &receipt.json).expect("receipt saved");
    let other_file = dir.join("other.json");
    std::fs::write(&other_file, &other.json).expect("receipt saved");
    let proof = dir.join("receipt.proof");
    let seq = receipt.seq.to_string();
    let proved = appliance(
        &[
            "log",
            "--url",
            &url,
            "prove",
            &seq,
            "--out",
            proof.to_str().expect("utf-8"),
        ],
        state,
    );
    assert_eq!(proved.status.code(), Some(0), "{}", text(&proved));
    let checkpoint_file = proof.with_extension("checkpoint");
    let verify = |file: &Path| {
        appliance(
            &[
                "receipt",
                "verify",
                file.to_str().expect("utf-8"),
                "--checkpoint",
                checkpoint_file.to_str().expect("utf-8"),
                "--proof",
                proof.to_str().expect("utf-8"),
                "--log-key",
                &vkey,
            ],
            state,
        )
    };
    let verified = verify(&receipt_file);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    assert!(
        String::from_utf8_lossy(&verified.stdout).contains("in the transparency log"),
        "{}",
        text(&verified)
    );
    let refused = verify(&other_file);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));

    // A consistency proof between two sizes of the signed tree.
    let size = last + 1;
    let consistent = appliance(
        &["log", "--url", &url, "consistency", "3", &size.to_string()],
        state,
    );
    assert_eq!(consistent.status.code(), Some(0), "{}", text(&consistent));
    let file: serde_json::Value =
        serde_json::from_slice(&consistent.stdout).expect("a JSON consistency proof");
    assert_eq!(
        (file["old_size"].as_u64(), file["new_size"].as_u64()),
        (Some(3), Some(size))
    );
    let beyond = appliance(
        &[
            "log",
            "--url",
            &url,
            "consistency",
            "3",
            &(size + 1000).to_string(),
        ],
        state,
    );
    assert_eq!(beyond.status.code(), Some(2), "{}", text(&beyond));

    // The monitor pins the key, then sees the log grow.
    let watch = dir.join("monitor");
    let monitor = |vkey: Option<&str>| {
        let mut args = vec![
            "log",
            "--url",
            &url,
            "monitor",
            "--state",
            watch.to_str().expect("utf-8"),
            "--once",
        ];
        if let Some(vkey) = vkey {
            args.extend(["--vkey", vkey]);
        }
        appliance(&args, state)
    };
    let first = monitor(Some(&vkey));
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let more = tlog::submit(server.partner("acme"), 1000, 5).await;
    let newest = more.iter().map(|s| s.seq).max().expect("receipts");
    checkpoint_covering(&server, admin, newest, &vkey);
    let second = monitor(None);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let said = String::from_utf8_lossy(&second.stdout);
    assert!(
        said.contains(&format!("at size {}", newest + 1)) && !said.contains("(+0)"),
        "{}",
        text(&second)
    );
}
