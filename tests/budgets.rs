//! Budgets and the ledger end to end: the real binary over QUIC, the ledger read back with
//! SQLite, evidence bundles checked with the real CLI.

#[path = "support/server.rs"]
mod server;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use server::Server;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerError, Statement, Submission, VerdictCode};

/// Two shards; acme's P1 requests for purpose "race" are capped at 25 a day (rolling, so the
/// test never straddles midnight); demo keeps its built-in demonstration cap.
const CONFIG: &str = r#"
[server]
shards = 2

[[tenants]]
id = "demo"

[[tenants]]
id = "acme"
[[tenants.caps]]
purpose = "race"
class = "P1"
limit = 25
window = "rolling 86400s"
[[tenants.caps]]
class = "P1"
limit = 1000
window = "month"
"#;

fn valid_bls(n: u64) -> Statement {
    let message = n.to_le_bytes().to_vec();
    let (signature, public_key) = bls::sign(&[9; 32], &message).expect("signs");
    Statement::BlsSingle {
        public_key: public_key.to_bytes(),
        message,
        signature: signature.to_bytes(),
    }
}

fn race(n: u64) -> Submission {
    Submission {
        purpose: "race".into(),
        dataset_class: DatasetClass::P1,
        statement: valid_bls(n),
    }
}

fn ledger(server: &Server) -> Connection {
    Connection::open_with_flags(
        server.state_path("ledger.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the ledger opens with plain SQLite")
}

fn charged(db: &Connection, tenant: &str, purpose: &str) -> i64 {
    db.query_row(
        "SELECT COALESCE(SUM(charged), 0) FROM receipts_readable WHERE tenant = ?1 AND purpose = ?2",
        [tenant, purpose],
        |row| row.get(0),
    )
    .expect("query")
}

/// Sends `count` requests over `connections` connections at once; returns the ledger sequence
/// numbers of the accepted ones (with their receipts' bytes) and the number refused as over
/// budget. Any other answer fails the test.
async fn spend(
    server: &Server,
    connections: usize,
    count: u64,
    first: u64,
) -> (Vec<(u64, Vec<u8>)>, usize) {
    let mut partners = Vec::new();
    for _ in 0..connections {
        partners.push(Arc::new(
            Partner::connect(&server.partner("acme"))
                .await
                .expect("connects"),
        ));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..count {
        let partner = partners[n as usize % connections].clone();
        tasks.spawn(async move { partner.submit(race(first + n)).await });
    }
    let mut accepted = Vec::new();
    let mut refused = 0;
    for result in tasks.join_all().await {
        match result {
            Ok(reply) => {
                assert_eq!(reply.verdict, VerdictCode::Valid);
                let receipt: tf_receipts::Receipt =
                    serde_json::from_slice(&reply.receipt.payload).expect("receipt");
                assert_eq!(receipt.purpose, "race");
                assert_eq!(receipt.budget_charged, 1);
                accepted.push((receipt.ledger_seq, reply.receipt.payload.clone()));
            }
            Err(PartnerError::OverBudget(over)) => {
                assert_eq!(over.cap.purpose, "race");
                assert_eq!(over.cap.limit, 25);
                assert_eq!(over.requested, 1);
                // A lone appliance: the cap itself ran out, and all of it was this one's.
                assert_eq!(over.reason, tf_wire::OverBudgetReason::Cap);
                assert_eq!(over.cap.granted, 25);
                refused += 1;
            }
            Err(other) => panic!("unexpected answer: {other}"),
        }
    }
    for partner in partners {
        if let Ok(partner) = Arc::try_unwrap(partner) {
            partner.close().await;
        }
    }
    (accepted, refused)
}

#[tokio::test]
async fn concurrent_clients_on_several_connections_get_exactly_the_cap() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let (accepted, refused) = spend(&server, 4, 80, 0).await;
    assert_eq!(accepted.len(), 25, "exactly the cap is accepted");
    assert_eq!(refused, 55, "every other request is told it is over budget");

    // Every accepted receipt is in the ledger under the sequence number it names, as issued.
    let db = ledger(&server);
    assert_eq!(charged(&db, "acme", "race"), 25);
    let seqs: HashSet<u64> = accepted.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs.len(), 25, "sequence numbers are distinct");
    // Stored compactly: the ledger's own reader rebuilds the envelope.
    let reader = tf_ledger::SqliteLedger::open_read_only(&server.state_path("ledger.sqlite"))
        .expect("the ledger opens");
    for (seq, payload) in &accepted {
        let (_, envelope) = tf_ledger::Ledger::receipt(&reader, *seq)
            .expect("readable")
            .expect("the receipt is stored under its sequence number");
        let stored = tf_receipts::Envelope::from_json(&envelope.envelope_json).expect("DSSE JSON");
        assert_eq!(
            &stored.payload, payload,
            "the ledger holds the receipt as issued"
        );
    }
}

#[tokio::test]
async fn charges_are_restored_after_a_restart() {
    let mut server = Server::start(CONFIG, &["acme"], &[]);
    let (accepted, _) = spend(&server, 2, 20, 0).await;
    assert_eq!(accepted.len(), 20);
    server.restart();
    // 5 left of 25 after the restart, not 25.
    let (accepted, refused) = spend(&server, 2, 10, 100).await;
    assert_eq!((accepted.len(), refused), (5, 5), "{}", server.log());
    let partner = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects");
    let caps = partner.budgets().await.expect("budgets");
    let race = caps
        .iter()
        .find(|c| c.purpose == "race")
        .expect("the race cap");
    assert_eq!((race.used, race.remaining, race.reserved), (25, 0, 0));
    assert_eq!(
        race.granted, race.limit,
        "outside a fleet the whole cap is granted"
    );
    let month = caps
        .iter()
        .find(|c| c.purpose.is_empty())
        .expect("the class cap");
    assert_eq!((month.used, month.remaining), (25, 975));
    partner.close().await;
}

#[tokio::test]
async fn partner_demo_shows_a_budget_running_out() {
    let server = Server::start("", &[], &[]);
    let out = std::process::Command::new(server::partner_binary())
        .current_dir(server.dir.path())
        .args(["--state-dir"])
        .arg(&server.state)
        .args(["demo", "--out"])
        .arg(server.dir.path().join("receipts"))
        .output()
        .expect("partner demo runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("5 of 5 left"), "{text}");
    assert!(
        text.contains("Over budget, not verified and not charged: the cap for tenant \"demo\", purpose \"budget-demo\", class P0, window rolling 60s allows 5 per window; 5 used"),
        "{text}"
    );
    assert!(
        text.contains("To get more: ask the appliance operator"),
        "{text}"
    );
}

fn appliance(args: &[&str], state: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .output()
        .expect("appliance runs")
}

#[tokio::test]
async fn evidence_bundles_hold_every_receipt_and_name_what_was_tampered_with() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let (accepted, _) = spend(&server, 2, 30, 0).await;
    let out = server.dir.path().join("bundle");
    let out_arg = out.to_str().expect("utf-8");
    let export = appliance(
        &[
            "evidence",
            "export",
            "--tenant",
            "acme",
            "--from",
            "2020-01-01",
            "--to",
            "2100-01-01",
            "--out",
            out_arg,
        ],
        &server.state,
    );
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );

    // With no period given, the last 24 hours, said so; an auditor's relative and zoned
    // times are read; a tenant the ledger has never seen is bad usage, not an empty bundle.
    let recent = server.dir.path().join("recent");
    let export_recent = appliance(
        &[
            "evidence",
            "export",
            "--tenant",
            "acme",
            "--out",
            recent.to_str().expect("utf-8"),
        ],
        &server.state,
    );
    let said = String::from_utf8_lossy(&export_recent.stdout);
    assert!(export_recent.status.success(), "{said}");
    assert!(
        said.contains("(the last 24 hours; --from and --to choose another)"),
        "{said}"
    );
    let written = std::fs::read_dir(recent.join("receipts"))
        .expect("receipts")
        .count();
    assert_eq!(written, accepted.len(), "{said}");
    let zoned = server.dir.path().join("zoned");
    let export_zoned = appliance(
        &[
            "evidence",
            "export",
            "--tenant",
            "acme",
            "--from",
            "7d",
            "--to",
            "2100-01-01T01:00:00[Europe/Paris]",
            "--out",
            zoned.to_str().expect("utf-8"),
        ],
        &server.state,
    );
    let said = String::from_utf8_lossy(&export_zoned.stdout);
    assert!(export_zoned.status.success(), "{said}");
    assert!(said.contains(" to 2100-01-01T00:00:00Z"), "{said}");
    let unknown = appliance(
        &[
            "evidence",
            "export",
            "--tenant",
            "acmee",
            "--out",
            server.dir.path().join("typo").to_str().expect("utf-8"),
        ],
        &server.state,
    );
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "tenant \"acmee\" has no receipt in this ledger; tenants with receipts: acme"
        ),
        "{stderr}"
    );
    assert!(!server.dir.path().join("typo").exists(), "nothing written");

    // Every receipt the partner was given is in the bundle, byte for byte.
    for (seq, payload) in &accepted {
        let file = out.join(format!("receipts/{seq:012}.json"));
        let text = std::fs::read_to_string(&file).expect("the receipt's file exists");
        let envelope = tf_receipts::Envelope::from_json(&text).expect("DSSE JSON");
        assert_eq!(&envelope.payload, payload);
    }
    let budgets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("budgets.json")).expect("statements"))
            .expect("json");
    assert_eq!(budgets["lines"][0]["purpose"], "race");
    assert_eq!(budgets["lines"][0]["charged"], 25);
    assert_eq!(budgets["lines"][0]["requests"], 25);

    let verify = |dir: &Path| {
        appliance(
            &["evidence", "verify", dir.to_str().expect("utf-8")],
            &server.state,
        )
    };
    let intact = verify(&out);
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).contains("evidence intact: 25 receipt(s)"));

    // One byte altered in one receipt.
    let victim = out.join(format!("receipts/{:012}.json", accepted[3].0));
    let mut bytes = std::fs::read(&victim).expect("read");
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&victim, &bytes).expect("write");
    let altered = verify(&out);
    assert_eq!(altered.status.code(), Some(1));
    let text = String::from_utf8_lossy(&altered.stderr);
    assert!(
        text.contains(&format!(
            "receipts/{:012}.json: its SHA-256 differs from the manifest's (altered)",
            accepted[3].0
        )),
        "{text}"
    );
    bytes[last] ^= 0x01;
    std::fs::write(&victim, &bytes).expect("restore");

    // One receipt removed, one file added.
    let removed = out.join(format!("receipts/{:012}.json", accepted[5].0));
    std::fs::remove_file(&removed).expect("remove");
    std::fs::write(out.join("receipts/extra.json"), "{}").expect("add");
    let broken = verify(&out);
    assert_eq!(broken.status.code(), Some(1));
    let text = String::from_utf8_lossy(&broken.stderr);
    assert!(
        text.contains(&format!(
            "receipts/{:012}.json: listed in the manifest but missing (removed)",
            accepted[5].0
        )),
        "{text}"
    );
    assert!(
        text.contains("receipts/extra.json: not listed in the manifest (added)"),
        "{text}"
    );
}
