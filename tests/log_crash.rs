//! `kill -9` while the log signs checkpoints under load, several times: every receipt a
//! partner saved is in the final tree at its ledger sequence number, every checkpoint ever
//! served is a prefix of the final one, and no served checkpoint ever went back.

#[path = "support/server.rs"]
mod server;
#[path = "support/tlog.rs"]
mod tlog;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use server::Server;
use tf_partner::{Partner, PartnerConfig};
use tf_tlog::{Hash, NoteVerifier};
use tlog::{C2spTiles, Saved};

/// A checkpoint signed at most every 20 ms while receipts arrive.
const CONFIG: &str = r#"
[server]
shards = 2

[log]
checkpoint_interval_ms = 20

[[tenants]]
id = "acme"
rate_per_sec = 100000
burst = 100000
"#;
const ROUNDS: u64 = 3;
const LOADERS: u64 = 3;
/// Checkpoints served in a round before its kill: the kill lands while they are signed.
const CHECKPOINTS_BEFORE_KILL: usize = 3;

/// Submits one request after another until the connection fails, saving every receipt.
async fn load(config: PartnerConfig, first: u64, acknowledged: Arc<AtomicU64>) -> Vec<Saved> {
    let mut saved = Vec::new();
    let Ok(partner) = Partner::connect(&config).await else {
        return saved;
    };
    for n in first.. {
        match partner.submit(tlog::submission(n)).await {
            Ok(reply) => {
                saved.push(Saved::from_reply(&reply));
                acknowledged.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => break,
        }
    }
    saved
}

/// Polls `/checkpoint` until told to stop; returns every distinct note, in the order served.
fn watch(
    admin: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<AtomicU64>,
) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut notes: Vec<String> = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            // Refused while the appliance is down: keep polling until stopped.
            if let Ok(response) = tlog::try_get(admin, "/checkpoint")
                && response.status == 200
            {
                let note = response.text();
                if notes.last() != Some(&note) {
                    notes.push(note);
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        notes
    })
}

/// A served checkpoint, verified with the log key.
struct Seen {
    note: String,
    size: u64,
    root: Hash,
}

#[tokio::test]
async fn sigkill_while_signing_checkpoints_keeps_every_receipt_and_every_checkpoint() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut server = Server::start(CONFIG, &["acme"], &[]);
    let mut saved: HashMap<u64, Saved> = HashMap::new();
    let mut notes: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let watcher = watch(server.admin_address(), stop.clone(), served.clone());
        let acknowledged = Arc::new(AtomicU64::new(0));
        let loaders: Vec<_> = (0..LOADERS)
            .map(|i| {
                let mut config = server.partner("acme");
                // A killed appliance never closes the connection: the loader gives up on its
                // request after this.
                config.request_timeout = Duration::from_secs(1);
                let first = (round * LOADERS + i) * 1_000_000;
                tokio::spawn(load(config, first, acknowledged.clone()))
            })
            .collect();
        // Kill once checkpoints are being signed under load, a random moment later.
        let deadline = Instant::now() + Duration::from_secs(60);
        while served.load(Ordering::Relaxed) < CHECKPOINTS_BEFORE_KILL as u64
            || acknowledged.load(Ordering::Relaxed) < 50
        {
            assert!(
                Instant::now() < deadline,
                "seed {seed}: round {round} saw no checkpoints under load: {}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let pause = rng.next_u64() % 100;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill_and_restart();
        stop.store(true, Ordering::Relaxed);
        let round_notes = watcher.join().expect("watcher");
        let before = saved.len();
        for loader in loaders {
            for receipt in loader.await.expect("loader") {
                let seq = receipt.seq;
                assert!(
                    saved.insert(seq, receipt).is_none(),
                    "seed {seed}: sequence number {seq} given to two receipts"
                );
            }
        }
        eprintln!(
            "round {round}: killed {pause} ms after {} checkpoints; {} receipts saved",
            round_notes.len(),
            saved.len() - before
        );
        assert!(round_notes.len() >= CHECKPOINTS_BEFORE_KILL);
        notes.extend(round_notes);
    }

    // A little more load on the restarted appliance, then a checkpoint covering everything.
    let vkey = std::fs::read_to_string(server.state.join("log/vkey"))
        .expect("the log key")
        .trim()
        .to_owned();
    for receipt in tlog::submit(server.partner("acme"), 90_000_000, 20).await {
        saved.insert(receipt.seq, receipt);
    }
    let last = *saved.keys().max().expect("receipts");
    let admin = server.admin_address();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = tlog::get(admin, "/checkpoint");
        let note = response.text();
        if notes.last() != Some(&note) {
            notes.push(note.clone());
        }
        let checkpoint = tlog::independently_verified(&note, &vkey)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        if checkpoint.size() > last {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "seed {seed}: no checkpoint covered {last}: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.terminate().success(), "{}", server.log());

    // Every checkpoint served was signed by the log key, and none went back.
    let verifier = NoteVerifier::from_vkey(&vkey).expect("the log key");
    let origin = vkey.split('+').next().expect("a key name");
    let seen: Vec<Seen> = notes
        .iter()
        .map(|note| {
            let checkpoint = verifier
                .verify_checkpoint(note, origin)
                .unwrap_or_else(|e| panic!("seed {seed}: a served checkpoint: {e}\n{note}"));
            tlog::independently_verified(note, &vkey)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            Seen {
                note: note.clone(),
                size: checkpoint.checkpoint().size,
                root: checkpoint.checkpoint().root,
            }
        })
        .collect();
    for pair in seen.windows(2) {
        assert!(
            pair[1].size >= pair[0].size,
            "seed {seed}: the log went back after a kill:\n{}\n{}",
            pair[0].note,
            pair[1].note
        );
    }

    // The final tree, as stored in the state directory.
    let dir = tf_log::LogDir::at(&server.state.join("log"));
    let note = dir.checkpoint().expect("readable").expect("a checkpoint");
    let last_seen = seen.last().expect("checkpoints were served");
    let final_checkpoint = verifier
        .verify_checkpoint(&note, origin)
        .unwrap_or_else(|e| panic!("seed {seed}: the final checkpoint: {e}"))
        .checkpoint()
        .clone();
    let (size, root) = (final_checkpoint.size, final_checkpoint.root);
    assert!(
        size > last,
        "seed {seed}: the final tree covers every receipt"
    );
    assert_eq!(
        size, last_seen.size,
        "seed {seed}: nothing arrived after the last served"
    );

    // (a) Every receipt a partner saved, at its ledger sequence number: proved from the stored
    // tiles with the log's own code, and again with tlog_tiles through the C2SP paths.
    let tiles = C2spTiles::new(|path: &str| tf_log::serve(&dir, path, size).ok().map(|s| s.bytes));
    let theirs = |hash: Hash| tlog_tiles::Hash(hash.0);
    for (seq, receipt) in &saved {
        let entry = receipt.entry();
        let proof = tf_tlog::inclusion_proof(*seq, size, &dir)
            .unwrap_or_else(|e| panic!("seed {seed}: proving {seq}: {e}"));
        tf_tlog::verify_inclusion(tf_tlog::leaf_hash(&entry), *seq, size, &proof, &root)
            .unwrap_or_else(|e| panic!("seed {seed}: saved receipt {seq} is not in the log: {e}"));
        tlog::check_included(&tiles, size, theirs(root), *seq, &entry)
            .unwrap_or_else(|e| panic!("seed {seed}: tlog_tiles: receipt {seq}: {e}"));
    }

    // (b) Every checkpoint served, before and after each kill, is a prefix of the final tree.
    for old in &seen {
        let proof = tf_tlog::consistency_proof(old.size, size, &dir)
            .unwrap_or_else(|e| panic!("seed {seed}: consistency from {}: {e}", old.size));
        tf_tlog::verify_consistency(old.size, &old.root, size, &root, &proof).unwrap_or_else(|e| {
            panic!(
                "seed {seed}: the final tree does not extend a served checkpoint ({e}):\n{}",
                old.note
            )
        });
        if old.size < size {
            tlog::check_extends(&tiles, size, theirs(root), old.size, theirs(old.root))
                .unwrap_or_else(|e| panic!("seed {seed}: tlog_tiles: {e}:\n{}", old.note));
        }
    }
    assert!(
        seen.len() as u64 > ROUNDS * CHECKPOINTS_BEFORE_KILL as u64,
        "seed {seed}: checkpoints were served across the kills"
    );
}
