//! Work that finds an idle core, end to end: two tenants homed on the same shard of two, the
//! same requests sent to an appliance that lends every batch it can to the idle core and to one
//! that never lends. Verdicts, receipts (everything but times and sequence numbers), budgets
//! and policy revisions must be exactly alike, and the metrics must show the work moved.

#[path = "support/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use server::{Server, fixture_text, get};
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, Statement, Submission, VerdictCode, formats};

/// Two tenants that hash to the same home shard of two, so the other core has none.
fn tenants_sharing_a_home() -> (String, String, usize) {
    let names: Vec<String> = (0..64).map(|i| format!("tenant-{i}")).collect();
    for a in &names {
        for b in &names {
            if a < b && tf_seam::home_shard(a, 2) == tf_seam::home_shard(b, 2) {
                return (a.clone(), b.clone(), tf_seam::home_shard(a, 2));
            }
        }
    }
    unreachable!("64 names over two shards share one")
}

fn config(lending: &str, tenants: [&str; 2]) -> String {
    let mut config = format!("[server]\nshards = 2\n\n[scheduling]\nlending = \"{lending}\"\n");
    for tenant in tenants {
        config.push_str(&format!(
            "\n[[tenants]]\nid = \"{tenant}\"\n[[tenants.caps]]\nclass = \"P1\"\nlimit = 100000\n\
             window = \"month\"\n"
        ));
    }
    config
}

/// The requests one tenant sends, by request id: BLS signatures (every seventh does not
/// verify), and Groth16 proofs on both curves (valid ones, and one with the wrong inputs).
fn workload(seed: u8, bn254: [u8; 32], bls12_381: [u8; 32]) -> Vec<(u64, Statement)> {
    let mut statements = Vec::new();
    for i in 0..40u8 {
        let message = [seed, i];
        let (signature, public_key) = bls::sign(&[seed; 32], &message).expect("signs");
        let mut sent = message.to_vec();
        if i % 7 == 3 {
            sent.push(b'!');
        }
        statements.push(Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message: sent,
            signature: signature.to_bytes(),
        });
    }
    for round in 0..3 {
        for (circuit, key) in [("bn128", bn254), ("bls12381", bls12_381)] {
            for j in 0..4 {
                let inputs = if round == 1 && j == 2 { 3 } else { j };
                let statement = formats::groth16_json(
                    key,
                    &fixture_text(circuit, &format!("proof_{j}.json")),
                    &fixture_text(circuit, &format!("public_{inputs}.json")),
                )
                .expect("statement");
                statements.push(statement);
            }
        }
    }
    statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| (1_000 + i as u64, s))
        .collect()
}

/// What a receipt says, less what depends on when and in which order it was decided, and on
/// which appliance (each has its own receipt key).
fn decision(payload: &[u8]) -> Value {
    let mut receipt: Value = serde_json::from_slice(payload).expect("a JSON receipt");
    let object = receipt.as_object_mut().expect("an object");
    for field in [
        "ledger_seq",
        "received_at_unix_us",
        "decided_at_unix_us",
        "budget_remaining",
        "appliance_key_id",
    ] {
        object.remove(field);
    }
    receipt
}

/// Every tenant's decisions by request id, and its budgets as it reads them afterwards.
type Outcome = BTreeMap<(String, u64), (VerdictCode, Value)>;

async fn run(server: &Server, tenants: [&str; 2]) -> (Outcome, Vec<String>) {
    let mut tasks = tokio::task::JoinSet::new();
    for (seed, tenant) in tenants.into_iter().enumerate() {
        let partner = Arc::new(
            Partner::connect(&server.partner(tenant))
                .await
                .expect("connects"),
        );
        let mut ids = Vec::new();
        for circuit in ["bn128", "bls12381"] {
            let (curve, key) =
                formats::verifying_key_json(&fixture_text(circuit, "verification_key.json"))
                    .expect("key");
            ids.push(
                partner
                    .register_key(curve, key)
                    .await
                    .expect("registered")
                    .0,
            );
        }
        for (id, statement) in workload(seed as u8 + 1, ids[0], ids[1]) {
            let partner = partner.clone();
            let tenant = tenant.to_owned();
            tasks.spawn(async move {
                let submission = Submission {
                    purpose: "lending".into(),
                    dataset_class: DatasetClass::P1,
                    statement,
                };
                let reply = partner
                    .submit_with_id(id, submission)
                    .await
                    .expect("answered");
                (tenant, id, reply)
            });
        }
    }
    let mut outcome = Outcome::new();
    for (tenant, id, reply) in tasks.join_all().await {
        outcome.insert(
            (tenant, id),
            (reply.verdict, decision(&reply.receipt.payload)),
        );
    }
    let mut budgets = Vec::new();
    for tenant in tenants {
        let partner = Partner::connect(&server.partner(tenant))
            .await
            .expect("connects");
        for cap in partner.budgets().await.expect("budgets") {
            budgets.push(format!(
                "{} {} {:?} {} used {} of {}",
                cap.tenant, cap.purpose, cap.dataset_class, cap.window, cap.used, cap.limit
            ));
        }
        partner.close().await;
    }
    (outcome, budgets)
}

/// A per-shard counter from `/metrics`.
fn counter(server: &Server, name: &str, shard: usize) -> f64 {
    let (status, page) = get(server.admin_address(), "/metrics");
    assert_eq!(status, 200);
    let series = format!("{name}{{shard=\"{shard}\"}} ");
    page.lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} is not on the page"))
}

#[tokio::test]
async fn lent_batches_are_decided_exactly_as_if_verified_at_home() {
    let (a, b, home) = tenants_sharing_a_home();
    let tenants = [a.as_str(), b.as_str()];
    let other = 1 - home;

    let at_home = Server::start(&config("never", tenants), &tenants, &[]);
    let (expected, expected_budgets) = run(&at_home, tenants).await;
    assert_eq!(
        counter(&at_home, "trust_fabric_batches_lent_total", home),
        0.0
    );
    drop(at_home);

    let lending = Server::start(&config("always", tenants), &tenants, &[]);
    let (moved, moved_budgets) = run(&lending, tenants).await;
    // Shards publish their counters every half second: read until both sides have.
    let mut counts = (0.0, 0.0);
    for _ in 0..50 {
        counts = (
            counter(&lending, "trust_fabric_batches_lent_total", home),
            counter(&lending, "trust_fabric_batches_borrowed_total", other),
        );
        if counts.0 > 0.0 && counts.0 == counts.1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (lent, borrowed) = counts;
    assert!(lent > 0.0, "no batch was lent");
    assert_eq!(
        lent, borrowed,
        "every lent batch was verified by the idle core"
    );

    // Both kinds of verdict, on every kind of statement, were decided.
    let valid = expected
        .values()
        .filter(|(v, _)| *v == VerdictCode::Valid)
        .count();
    let invalid = expected
        .values()
        .filter(|(v, _)| *v == VerdictCode::Invalid)
        .count();
    assert!(valid > 0 && invalid > 0, "{valid} valid, {invalid} invalid");
    assert_eq!(expected.len(), moved.len());
    for (request, (verdict, receipt)) in &expected {
        let (moved_verdict, moved_receipt) = &moved[request];
        assert_eq!(verdict, moved_verdict, "{request:?}");
        assert_eq!(receipt, moved_receipt, "{request:?}");
        assert_eq!(receipt["shard"], home, "decided on the tenant's home shard");
    }
    assert_eq!(expected_budgets, moved_budgets);
    assert!(
        expected_budgets.iter().all(|b| !b.contains("used 0 ")),
        "{expected_budgets:?}"
    );
}
