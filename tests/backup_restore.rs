//! `appliance backup` while the appliance serves under load, and `appliance restore` onto a new
//! state directory: started on it, the appliance holds every receipt acknowledged before the
//! backup as issued, budgets as they were, the bundle in force, and the same receipt key. A
//! tampered backup and a directory holding anything are refused.

#[path = "support/server.rs"]
mod server;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use server::{ROLE_TOKENS, Server, run_appliance, signed, with_admin_tokens};
use tf_ledger::Ledger as _;
use tf_partner::{DatasetClass, Partner, Submission};

type Acknowledged = Arc<Mutex<HashMap<u64, Vec<u8>>>>;

fn submission(n: u64) -> Submission {
    signed(9, n, "kyc", DatasetClass::P1)
}

fn receipt(payload: &[u8]) -> tf_receipts::Receipt {
    serde_json::from_slice(payload).expect("receipt payload")
}

/// Submits one request after another until `stop`, keeping every receipt.
async fn load(partner: Arc<Partner>, acknowledged: Acknowledged, stop: Arc<AtomicBool>) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let reply = partner.submit(submission(n)).await.expect("a verdict");
        let seq = receipt(&reply.receipt.payload).ledger_seq;
        acknowledged
            .lock()
            .expect("lock")
            .insert(seq, reply.receipt.payload.clone());
        n += 1;
    }
}

async fn wait_for(acknowledged: &Acknowledged, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().expect("lock").len() < count {
        assert!(
            Instant::now() < deadline,
            "the load did not reach {count} receipts"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn keys_show(state: &Path) -> serde_json::Value {
    let (code, out, err) = run_appliance(&[
        "keys",
        "show",
        "--json",
        "--state-dir",
        &state.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("json")
}

/// The acme P1 cap's use, as the appliance tells its partner.
async fn p1_used(partner: &Partner) -> u64 {
    let caps = partner.budgets().await.expect("budgets");
    caps.iter()
        .find(|c| c.dataset_class == DatasetClass::P1)
        .expect("acme's P1 cap")
        .used
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_receipts_budgets_bundle_and_key() {
    let config = with_admin_tokens("[[tenants]]\nid = \"acme\"\n", &ROLE_TOKENS);
    let mut server = Server::start(&config, &["acme"], &[]);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let bundle = server.build_bundle(&example, 1, "in force", None);
    let admin = format!("http://{}", server.admin_address());
    let token = server.dir.path().join("author.token");
    std::fs::write(&token, "author-token\n").expect("token file");
    let (code, out, err) = run_appliance(&[
        "ctl",
        "--admin",
        &admin,
        "--token-file",
        &token.display().to_string(),
        "promote",
        &bundle.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let key_before = keys_show(&server.state);

    let partner = Arc::new(
        Partner::connect(&server.partner("acme"))
            .await
            .expect("connects"),
    );
    let acknowledged: Acknowledged = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let loader = tokio::spawn(load(partner.clone(), acknowledged.clone(), stop.clone()));
    wait_for(&acknowledged, 50).await;

    // The backup, taken while the load goes on.
    let before: HashMap<u64, Vec<u8>> = acknowledged.lock().expect("lock").clone();
    let backup = server.dir.path().join("backup");
    let args = [
        "backup".to_owned(),
        "--state-dir".to_owned(),
        server.state.display().to_string(),
        "--out".to_owned(),
        backup.display().to_string(),
    ];
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run_appliance(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .expect("backup runs");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("bundle in force: revision 1"), "{out}");
    let taken = acknowledged.lock().expect("lock").len();
    wait_for(&acknowledged, taken + 20).await;
    stop.store(true, Ordering::Relaxed);
    loader.await.expect("loader");
    drop(partner);
    assert!(server.terminate().success(), "{}", server.log());

    // Nothing is ever written over: not a backup directory, not a state directory.
    let (code, _, err) = run_appliance(&[
        "backup",
        "--state-dir",
        &server.state.display().to_string(),
        "--out",
        &backup.display().to_string(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not empty"), "{err}");
    let (code, _, err) = run_appliance(&[
        "restore",
        &backup.display().to_string(),
        "--state-dir",
        &server.state.display().to_string(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("never overwrites a state directory"), "{err}");

    // A backup with one byte changed does not verify, and restores nothing.
    let tampered = server.dir.path().join("tampered");
    let copied = std::process::Command::new("cp")
        .args(["-a"])
        .arg(&backup)
        .arg(&tampered)
        .status()
        .expect("cp runs");
    assert!(copied.success());
    let key_file = tampered.join("state/receipt.key");
    let mut bytes = std::fs::read(&key_file).expect("key copy");
    bytes[0] ^= 1;
    std::fs::write(&key_file, bytes).expect("tampered");
    let elsewhere = server.dir.path().join("elsewhere");
    let (code, _, err) = run_appliance(&[
        "restore",
        &tampered.display().to_string(),
        "--state-dir",
        &elsewhere.display().to_string(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("does not verify") && err.contains("receipt.key: differs"),
        "{err}"
    );
    assert!(
        !elsewhere.exists(),
        "nothing restored from a tampered backup"
    );

    // The restore onto a new state directory (the old one moved aside, as on a new host).
    std::fs::rename(&server.state, server.dir.path().join("state-lost")).expect("moved aside");
    let (code, out, err) = run_appliance(&[
        "restore",
        &backup.display().to_string(),
        "--state-dir",
        &server.state.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let ledger_path = server.state_path("ledger.sqlite");
    let (last_seq, charged) = {
        let ledger = tf_ledger::SqliteLedger::open_read_only(&ledger_path).expect("opens");
        assert_eq!(ledger.active_revision().expect("reads"), Some(1));
        for (seq, payload) in &before {
            let (_, stored) = ledger.receipt(*seq).expect("readable").unwrap_or_else(|| {
                panic!("receipt {seq}, acknowledged before the backup, is lost")
            });
            let envelope =
                tf_receipts::Envelope::from_json(&stored.envelope_json).expect("DSSE JSON");
            assert_eq!(&envelope.payload, payload, "receipt {seq} as issued");
        }
        let db = rusqlite::Connection::open_with_flags(
            &ledger_path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("opens");
        // What acme's P1 cap (a calendar day, UTC) counts: today's charges.
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_micros() as i64;
        let day_us = 86_400_000_000i64;
        let charged: i64 = db
            .query_row(
                "SELECT COALESCE(SUM(charged), 0) FROM receipts_readable \
                 WHERE tenant = 'acme' AND dataset_class = 'P1' AND decided_us >= ?1",
                [now_us - now_us % day_us],
                |row| row.get(0),
            )
            .expect("sums");
        (ledger.next_seq() - 1, charged as u64)
    };
    assert!(
        out.contains(&format!("ledger up to sequence {last_seq}")),
        "{out}"
    );
    let after_backup = acknowledged
        .lock()
        .expect("lock")
        .keys()
        .filter(|seq| **seq > last_seq)
        .count();
    eprintln!(
        "backup under load: {} receipts acknowledged before it, ledger up to {last_seq} in it, \
         {after_backup} acknowledged after it (not in it, as a backup is a point in time)",
        before.len()
    );

    server.start_again();
    assert_eq!(
        keys_show(&server.state),
        key_before,
        "the receipt key is the same"
    );
    let partner = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects after the restore");
    assert_eq!(
        p1_used(&partner).await,
        charged,
        "budgets as the backup's ledger left them"
    );
    assert!(charged > 0, "the load was charged");
    let reply = partner
        .submit(submission(1 << 40))
        .await
        .expect("a verdict after the restore");
    let fresh = receipt(&reply.receipt.payload);
    let old = receipt(before.values().next().expect("receipts"));
    assert_eq!(
        fresh.bundle_revision, 1,
        "the bundle in force is the backup's"
    );
    assert_eq!(fresh.appliance_key_id, old.appliance_key_id);
    assert_eq!(
        fresh.ledger_seq,
        last_seq + 1,
        "numbering goes on from the backup"
    );
    partner.close().await;
}
