//! A power cut under load: the appliance runs with tests/powercut/powercut.c preloaded, which
//! keeps beside the ledger the image a disk would hold after losing power (only what an fsync
//! made durable). The test kills the appliance mid-load, puts those images in place of the
//! ledger's files, and checks that every acknowledged receipt and charge survived. A SIGKILL
//! alone cannot tell: the kernel keeps what a killed process wrote. The control run shows the
//! test can fail: with the ledger's syncs turned off, acknowledged receipts are lost.

#[path = "support/preload.rs"]
mod preload;
#[path = "support/server.rs"]
mod server;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use server::{Server, fault_build, signed};
use tf_ledger::Ledger as _;
use tf_partner::{DatasetClass, Partner, PartnerError, Submission};

/// Every P0 attempt of acme's "capped" purpose is charged 1, far below the cap.
const CONFIG: &str = r#"
[server]
shards = 2

[[tenants]]
id = "acme"
rate_per_sec = 100000
burst = 100000
[[tenants.caps]]
purpose = "capped"
class = "P0"
limit = 10000000
window = "rolling 86400s"
"#;

/// The ledger's files, as the preloaded library watches them.
const LEDGER_FILES: &str = "ledger.sqlite";
const LOADERS: u64 = 4;
/// Receipts acknowledged before the cut.
const BEFORE_CUT: u64 = 300;

fn submission(n: u64) -> Submission {
    signed(11, n, "capped", DatasetClass::P0)
}

/// Submits until the connection is lost, keeping every receipt.
async fn load(
    config: tf_partner::PartnerConfig,
    first: u64,
    progress: Arc<AtomicU64>,
) -> HashMap<u64, Vec<u8>> {
    let mut acknowledged = HashMap::new();
    let Ok(partner) = Partner::connect(&config).await else {
        return acknowledged;
    };
    for n in first.. {
        match partner.submit(submission(n)).await {
            Ok(reply) => {
                let receipt: tf_receipts::Receipt =
                    serde_json::from_slice(&reply.receipt.payload).expect("receipt");
                acknowledged.insert(receipt.ledger_seq, reply.receipt.payload.clone());
                progress.fetch_add(1, Ordering::Relaxed);
            }
            Err(PartnerError::ConnectionLost { .. } | PartnerError::Timeout { .. }) => break,
            Err(other) => panic!("only verdicts until the cut, got: {other}"),
        }
    }
    acknowledged
}

/// Loads the appliance, then cuts its power: a SIGKILL mid-load, and the ledger's files
/// replaced by what was synced. Returns the receipts acknowledged before the cut.
async fn cut_under_load(server: &mut Server, images: &Path) -> HashMap<u64, Vec<u8>> {
    let progress = Arc::new(AtomicU64::new(0));
    let loaders: Vec<_> = (0..LOADERS)
        .map(|i| {
            let mut config = server.partner("acme");
            config.request_timeout = Duration::from_secs(2);
            tokio::spawn(load(config, i * 1_000_000, progress.clone()))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while progress.load(Ordering::Relaxed) < BEFORE_CUT {
        assert!(
            Instant::now() < deadline,
            "no load reached the appliance: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.signal("KILL");
    server.wait_exit();
    let mut acknowledged = HashMap::new();
    for loader in loaders {
        acknowledged.extend(loader.await.expect("loader"));
    }
    // The power cut: each ledger file becomes its synced image; one never synced is gone, and
    // the shared-memory index is rebuilt by SQLite.
    for name in [LEDGER_FILES, "ledger.sqlite-wal", "ledger.sqlite-shm"] {
        let file = server.state_path(name);
        let image = images.join(name);
        if name.ends_with("-shm") || !image.exists() {
            let _ = std::fs::remove_file(&file);
        } else {
            std::fs::copy(&image, &file).expect("image put in place");
        }
    }
    acknowledged
}

/// How many of `acknowledged` the ledger at `path` does not hold as issued (all of them when
/// there is no ledger left).
fn lost(path: &Path, acknowledged: &HashMap<u64, Vec<u8>>) -> usize {
    if !path.exists() {
        return acknowledged.len();
    }
    let ledger = tf_ledger::SqliteLedger::open(path).expect("the ledger opens after the cut");
    acknowledged
        .iter()
        .filter(
            |(seq, payload)| match ledger.receipt(**seq).expect("readable") {
                Some((_, stored)) => {
                    let envelope =
                        tf_receipts::Envelope::from_json(&stored.envelope_json).expect("DSSE JSON");
                    &envelope.payload != *payload
                }
                None => true,
            },
        )
        .count()
}

fn start(images: &Path, library: &Path, extra_env: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("LD_PRELOAD", library.to_str().expect("utf-8 path")),
        ("TF_POWERCUT_PREFIX", LEDGER_FILES),
        ("TF_POWERCUT_SHADOW", images.to_str().expect("utf-8 path")),
    ];
    env.extend_from_slice(extra_env);
    Server::start_with_env(CONFIG, &["acme"], &[], &env)
}

#[tokio::test]
async fn every_acknowledged_receipt_and_charge_survives_a_power_cut() {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = preload::build("powercut", dir.path());
    let images = dir.path().join("images");
    std::fs::create_dir(&images).expect("images dir");
    let mut server = start(&images, &library, &[]);
    let acknowledged = cut_under_load(&mut server, &images).await;
    let ledger = server.state_path(LEDGER_FILES);
    assert_eq!(
        lost(&ledger, &acknowledged),
        0,
        "acknowledged receipts lost in a power cut"
    );

    // Started on what survived, the appliance counts every surviving charge: the cap's use is
    // what the ledger holds, which is at least what partners were told.
    server.start_again();
    let db =
        rusqlite::Connection::open_with_flags(&ledger, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("ledger opens");
    let (stored, charged, last): (i64, i64, i64) = db
        .query_row(
            "SELECT COUNT(*), SUM(charged), MAX(seq) FROM receipts_readable \
             WHERE purpose = 'capped'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("sums");
    assert_eq!(stored, last, "no gap in the sequence after the cut");
    assert!(stored as usize >= acknowledged.len());
    let partner = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects");
    let caps = partner.budgets().await.expect("budgets");
    assert_eq!(
        caps[0].used as i64, charged,
        "every surviving charge counts after the cut"
    );
    let reply = partner
        .submit(submission(1 << 40))
        .await
        .expect("a verdict after the cut");
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("receipt");
    assert_eq!(receipt.ledger_seq as i64, last + 1, "numbering goes on");
    partner.close().await;
    eprintln!(
        "power cut under load: {} receipts acknowledged, lost: 0; {stored} stored (answers \
         the cut kept from their partners included), charges {charged}",
        acknowledged.len()
    );
}

#[tokio::test]
async fn the_power_cut_loses_acknowledged_receipts_when_the_ledger_does_not_sync() {
    fault_build();
    let dir = tempfile::tempdir().expect("temp dir");
    let library = preload::build("powercut", dir.path());
    let images = dir.path().join("images");
    std::fs::create_dir(&images).expect("images dir");
    let mut server = start(&images, &library, &[("TF_FAULT_LEDGER_SYNC", "off")]);
    let acknowledged = cut_under_load(&mut server, &images).await;
    let lost = lost(&server.state_path(LEDGER_FILES), &acknowledged);
    eprintln!(
        "control, ledger unsynced: {lost} of {} acknowledged receipts lost in the cut",
        acknowledged.len()
    );
    assert!(
        lost > 0,
        "the cut kept unsynced commits: it would not notice a ledger that does not sync"
    );
}
