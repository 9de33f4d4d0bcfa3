//! `kill -9` under load, twenty times at points a seed picks (printed; `TF_CRASH_SEED`
//! replays it): the only errors partners see are lost connections, every answer a partner
//! received is in the ledger as issued, the sequence has no gap, nothing is counted twice,
//! and the cap is spent exactly across restarts.

#[path = "support/server.rs"]
mod server;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use rusqlite::Connection;
use server::Server;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerError, Statement, Submission};

/// acme's P0 requests for purpose "capped" may spend 120 a day (P0 is charged on every
/// attempt); purpose "free" has no cap, so load keeps flowing after the cap is spent.
const CONFIG: &str = r#"
[server]
shards = 2

[[tenants]]
id = "acme"
[[tenants.caps]]
purpose = "capped"
class = "P0"
limit = 120
window = "rolling 86400s"
"#;
const CAP: i64 = 120;
const ROUNDS: u64 = 20;
/// Connections loading the appliance at once.
const LOADERS: u64 = 4;
/// Receipts acknowledged in a round before its kill point.
const WARM: u64 = 10;

fn statement(n: u64) -> Statement {
    let message = n.to_le_bytes().to_vec();
    let (signature, public_key) = bls::sign(&[5; 32], &message).expect("signs");
    Statement::BlsSingle {
        public_key: public_key.to_bytes(),
        message,
        signature: signature.to_bytes(),
    }
}

/// What one loader saw before its connection died.
#[derive(Default)]
struct Seen {
    /// Ledger sequence number -> receipt payload, for every verdict received.
    acknowledged: HashMap<u64, Vec<u8>>,
    /// How the loader's requests failed, by kind: only a lost connection is allowed.
    errors: BTreeMap<&'static str, u64>,
}

/// The kind of a failed request, as the crash test counts it. The kill takes the appliance
/// away mid-request: its partners see the connection lost, or no answer within their
/// timeout (a killed process sends no close), and nothing else.
fn kind(error: &PartnerError) -> &'static str {
    match error {
        PartnerError::ConnectionLost { .. } | PartnerError::Timeout { .. } => "connection lost",
        PartnerError::Connect { .. } => "could not connect",
        PartnerError::Internal => "internal",
        PartnerError::Unavailable { .. } => "unavailable",
        PartnerError::Busy { .. } => "busy",
        PartnerError::ShuttingDown => "shutting down",
        _ => "other",
    }
}

/// Submits one request after another until the connection fails, counting each receipt in
/// `progress`.
async fn load(config: tf_partner::PartnerConfig, first: u64, progress: Arc<AtomicU64>) -> Seen {
    let mut seen = Seen::default();
    let partner = match Partner::connect(&config).await {
        Ok(partner) => partner,
        Err(error) => {
            *seen.errors.entry(kind(&error)).or_default() += 1;
            return seen;
        }
    };
    for n in first.. {
        let purpose = if n % 3 == 0 { "free" } else { "capped" };
        let submission = Submission {
            purpose: purpose.into(),
            dataset_class: DatasetClass::P0,
            statement: statement(n),
        };
        match partner.submit(submission).await {
            Ok(reply) => {
                let receipt: tf_receipts::Receipt =
                    serde_json::from_slice(&reply.receipt.payload).expect("receipt");
                let previous = seen
                    .acknowledged
                    .insert(receipt.ledger_seq, reply.receipt.payload.clone());
                assert!(
                    previous.is_none(),
                    "sequence number {} given twice",
                    receipt.ledger_seq
                );
                progress.fetch_add(1, Ordering::Relaxed);
            }
            Err(PartnerError::OverBudget(_)) => {}
            Err(error) => {
                *seen.errors.entry(kind(&error)).or_default() += 1;
                break;
            }
        }
    }
    seen
}

/// The seed of the kill points: `TF_CRASH_SEED` replays a failure, otherwise the clock.
fn seed() -> u64 {
    match std::env::var("TF_CRASH_SEED") {
        Ok(text) => text.parse().expect("TF_CRASH_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos() as u64,
    }
}

#[tokio::test]
async fn sigkill_under_load_loses_no_acknowledged_receipt_and_never_overspends() {
    let seed = seed();
    eprintln!("seed {seed} (TF_CRASH_SEED={seed} replays these kill points)");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut server = Server::start(CONFIG, &["acme"], &[]);
    let mut acknowledged: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut errors: BTreeMap<&'static str, u64> = BTreeMap::new();
    for round in 0..ROUNDS {
        let progress = Arc::new(AtomicU64::new(0));
        let loaders: Vec<_> = (0..LOADERS)
            .map(|i| {
                let mut config = server.partner("acme");
                config.request_timeout = Duration::from_secs(2);
                tokio::spawn(load(
                    config,
                    (round * LOADERS + i) * 1_000_000,
                    progress.clone(),
                ))
            })
            .collect();
        // Under load first (receipts flowing, whatever the host's speed), then a kill at a
        // point the seed picks.
        let deadline = Instant::now() + Duration::from_secs(60);
        while progress.load(Ordering::Relaxed) < WARM {
            assert!(
                Instant::now() < deadline,
                "seed {seed}: round {round}: no load reached the appliance: {}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let pause = rng.next_u64() % 400;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill_and_restart();
        let before = acknowledged.len();
        for loader in loaders {
            let seen = loader.await.expect("loader");
            for (seq, payload) in seen.acknowledged {
                assert!(
                    acknowledged.insert(seq, payload).is_none(),
                    "seed {seed}: sequence number {seq} given to two answers"
                );
            }
            for (kind, count) in seen.errors {
                *errors.entry(kind).or_default() += count;
            }
        }
        eprintln!(
            "round {round}: killed {pause} ms after {WARM} receipts, {} answers received",
            acknowledged.len() - before
        );
    }
    eprintln!("errors by kind over {ROUNDS} rounds: {errors:?}");
    assert_eq!(
        errors.keys().copied().collect::<Vec<_>>(),
        vec!["connection lost"],
        "seed {seed}: a kill may only lose connections: {errors:?}"
    );
    // One last round without a kill, long enough to reach the cap however slow the host.
    let config = server.partner("acme");
    let finish = tokio::spawn(async move {
        let partner = Partner::connect(&config).await.expect("connects");
        let mut refused = 0;
        for n in 0..(CAP as u64 + 10) {
            let submission = Submission {
                purpose: "capped".into(),
                dataset_class: DatasetClass::P0,
                statement: statement(90_000_000 + n),
            };
            match partner.submit(submission).await {
                Ok(reply) => {
                    let receipt: tf_receipts::Receipt =
                        serde_json::from_slice(&reply.receipt.payload).expect("receipt");
                    assert!(receipt.budget_remaining.is_some());
                }
                Err(PartnerError::OverBudget(_)) => refused += 1,
                Err(other) => panic!("unexpected: {other}"),
            }
        }
        partner.close().await;
        refused
    });
    let refused_at_end = finish.await.expect("last round");
    assert!(server.terminate().success(), "{}", server.log());

    let db = Connection::open_with_flags(
        server.state_path("ledger.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("ledger opens");
    // Envelopes are stored compactly and rebuilt by the ledger's own reader.
    let ledger = tf_ledger::SqliteLedger::open_read_only(&server.state_path("ledger.sqlite"))
        .expect("ledger opens");
    for (seq, payload) in &acknowledged {
        let (_, envelope) = tf_ledger::Ledger::receipt(&ledger, *seq)
            .expect("readable")
            .unwrap_or_else(|| {
                panic!("seed {seed}: acknowledged receipt {seq} is not in the ledger")
            });
        let stored = tf_receipts::Envelope::from_json(&envelope.envelope_json).expect("DSSE JSON");
        assert_eq!(
            &stored.payload, payload,
            "seed {seed}: receipt {seq} differs from what the partner got"
        );
    }
    let (rows, max_seq): (i64, i64) = db
        .query_row("SELECT COUNT(*), MAX(seq) FROM receipts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("count");
    assert_eq!(rows, max_seq, "seed {seed}: sequence numbers have no gaps");
    let (capped_rows, capped_charged): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), SUM(charged) FROM receipts_readable WHERE purpose = 'capped'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("sum");
    assert_eq!(
        capped_charged, CAP,
        "seed {seed}: the cap was spent exactly, across {ROUNDS} kills"
    );
    assert_eq!(
        capped_rows, capped_charged,
        "seed {seed}: every P0 attempt charged once"
    );
    assert!(
        refused_at_end >= 10,
        "seed {seed}: the restored counters refuse past the cap"
    );
    eprintln!(
        "{ROUNDS} kills, {} receipts acknowledged, lost: 0; cap spent exactly ({CAP})",
        acknowledged.len()
    );
}
