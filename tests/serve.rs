//! `appliance serve` end to end: real QUIC on loopback against the real binary, partners
//! through the SDK.

#[path = "support/server.rs"]
mod server;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::Value;
use server::{Server, fixture_text, wait_for_async};
use tf_engine::bls;
use tf_partner::{
    DatasetClass, Identity, Partner, PartnerError, Statement, Submission, VerdictCode,
    VerdictReply, formats,
};
use tf_wire::{ErrorCode, HEADER_BYTES, MAGIC, Message, PROTOCOL_VERSION, Submit};

fn bls_statement(seed: u8, message: &[u8], valid: bool) -> Statement {
    let (signature, public_key) = bls::sign(&[seed; 32], message).expect("signs");
    let mut sent = message.to_vec();
    if !valid {
        sent.push(b'!');
    }
    Statement::BlsSingle {
        public_key: public_key.to_bytes(),
        message: sent,
        signature: signature.to_bytes(),
    }
}

fn submission(statement: Statement) -> Submission {
    Submission {
        purpose: "test".into(),
        dataset_class: DatasetClass::P1,
        statement,
    }
}

/// The receipt checked the way an auditor without our code would: DSSE's pre-authentication
/// encoding rebuilt by hand and an Ed25519 check over it.
fn independently_verified_payload(reply: &VerdictReply, key: &VerifyingKey) -> Value {
    let receipt = &reply.receipt;
    let mut pae = format!(
        "DSSEv1 {} {} {} ",
        receipt.payload_type.len(),
        receipt.payload_type,
        receipt.payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(&receipt.payload);
    assert_eq!(receipt.signatures.len(), 1);
    let signature =
        Signature::from_slice(&receipt.signatures[0].signature).expect("64-byte signature");
    key.verify(&pae, &signature)
        .expect("the receipt signature verifies");
    serde_json::from_slice(&receipt.payload).expect("payload is JSON")
}

fn receipt_key(server: &Server) -> VerifyingKey {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["keys", "show", "--json", "--state-dir"])
        .arg(&server.state)
        .output()
        .expect("keys show runs");
    let shown: Value = serde_json::from_slice(&out.stdout).expect("json");
    let bytes: [u8; 32] = hex::decode(shown["public_key_hex"].as_str().expect("hex"))
        .expect("hex")
        .try_into()
        .expect("32 bytes");
    VerifyingKey::from_bytes(&bytes).expect("key")
}

#[tokio::test]
async fn the_demo_identity_gets_verdicts_with_receipts_that_verify_independently() {
    let server = Server::start("", &[], &[]);
    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects with the demo identity from partner.toml");
    let key = receipt_key(&server);

    let valid = partner
        .submit(submission(bls_statement(1, b"pay 10", true)))
        .await
        .expect("answered");
    let invalid = partner
        .submit(submission(bls_statement(1, b"pay 10", false)))
        .await
        .expect("answered");
    assert_eq!(valid.verdict, VerdictCode::Valid);
    assert_eq!(invalid.verdict, VerdictCode::Invalid);

    let (curve, vk) =
        formats::verifying_key_json(&fixture_text("bn128", "verification_key.json")).expect("key");
    let key_id = partner.register_key(curve, vk).await.expect("registered");
    let proof = fixture_text("bn128", "proof_0.json");
    let good = formats::groth16_json(key_id.0, &proof, &fixture_text("bn128", "public_0.json"))
        .expect("statement");
    let wrong = formats::groth16_json(key_id.0, &proof, &fixture_text("bn128", "public_1.json"))
        .expect("statement");
    let groth_valid = partner.submit(submission(good)).await.expect("answered");
    let groth_invalid = partner.submit(submission(wrong)).await.expect("answered");
    assert_eq!(groth_valid.verdict, VerdictCode::Valid);
    assert_eq!(groth_invalid.verdict, VerdictCode::Invalid);

    for (reply, verdict, kind) in [
        (&valid, "valid", "bls-single"),
        (&invalid, "invalid", "bls-single"),
        (&groth_valid, "valid", "groth16-bn254"),
        (&groth_invalid, "invalid", "groth16-bn254"),
    ] {
        let payload = independently_verified_payload(reply, &key);
        assert_eq!(payload["tenant"], "demo");
        assert_eq!(payload["request_id"], reply.request_id);
        assert_eq!(payload["verdict"], verdict);
        assert_eq!(payload["kind"], kind);
        assert_eq!(
            payload["statement_digest"],
            hex::encode(reply.statement_digest)
        );
        assert!(payload["decided_at_unix_us"].as_u64() >= payload["received_at_unix_us"].as_u64());
        assert_eq!(
            reply.receipt.payload_type,
            "application/vnd.trust-fabric.receipt.v1+json"
        );
    }

    // A proof under a key this tenant never registered is refused, typed.
    let unknown = formats::groth16_json([7; 32], &proof, &fixture_text("bn128", "public_0.json"))
        .expect("statement");
    match partner.submit(submission(unknown)).await {
        Err(PartnerError::UnknownKey { key_id }) => assert_eq!(key_id.0, [7; 32]),
        other => panic!("expected unknown key, got {other:?}"),
    }
    partner.close().await;
}

#[tokio::test]
async fn clients_without_a_valid_tenant_certificate_are_refused() {
    let server = Server::start("[[tenants]]\nid = \"demo\"\n", &["ghost"], &[]);
    let demo = server.partner("demo");

    // No client certificate at all.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in &demo.identity.ca {
        roots.add(ca.clone()).expect("ca");
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![tf_wire::ALPN.to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(Arc::new(tls)).expect("quic");
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().expect("addr")).expect("ep");
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
    let outcome = match endpoint
        .connect(server.address, "localhost")
        .expect("connect")
        .await
    {
        Err(error) => error,
        Ok(connection) => connection.closed().await,
    };
    // Client certificates are optional in the handshake (the onboarding protocol needs
    // none), so the main protocol closes the connection before it reads any request.
    match &outcome {
        quinn::ConnectionError::ApplicationClosed(close) => {
            assert_eq!(
                u64::from(close.error_code),
                u64::from(tf_wire::close_code::NO_TENANT_IDENTITY),
                "{close}"
            );
            let reason = String::from_utf8_lossy(&close.reason);
            assert!(reason.contains("no certificate was presented"), "{reason}");
        }
        other => panic!("expected the connection closed for want of a tenant, got {other}"),
    }

    // A certificate naming the demo tenant, issued by another CA.
    let other_ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other_ca = ca_params.self_signed(&other_ca_key).expect("ca");
    let client_key = rcgen::KeyPair::generate().expect("key");
    let mut client_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    client_params.subject_alt_names = vec![rcgen::SanType::URI(
        "urn:trust-fabric:tenant:demo".try_into().expect("uri"),
    )];
    let client = client_params
        .signed_by(&client_key, &other_ca, &other_ca_key)
        .expect("client");
    let forged = tf_partner::PartnerConfig {
        identity: Identity {
            ca: demo.identity.ca.clone(),
            certificate: vec![client.der().clone()],
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(client_key.serialize_der().into()),
        },
        ..server.partner("demo")
    };
    assert!(matches!(
        refused(&forged).await,
        PartnerError::CertificateRefused { .. }
    ));

    // A certificate from the right CA for a tenant this appliance does not serve.
    match refused(&server.partner("ghost")).await {
        PartnerError::CertificateRefused { reason } => {
            assert!(reason.contains("\"ghost\" is not configured"), "{reason}")
        }
        other => panic!("expected refusal, got {other}"),
    }

    // The refusals cost the real tenant nothing.
    let partner = Partner::connect(&demo).await.expect("demo connects");
    let reply = partner
        .submit(submission(bls_statement(2, b"still here", true)))
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
}

/// Connects and tries one request; returns how the appliance refused.
async fn refused(config: &tf_partner::PartnerConfig) -> PartnerError {
    let partner = match Partner::connect(config).await {
        Err(error) => return error,
        Ok(partner) => partner,
    };
    match partner
        .submit(submission(bls_statement(3, b"let me in", true)))
        .await
    {
        Err(error) => error,
        Ok(reply) => panic!("a refused identity got a verdict: {reply:?}"),
    }
}

#[tokio::test]
async fn tenants_are_served_on_their_home_shard_whichever_shard_they_reach() {
    let tenants = ["demo", "acme", "globex", "initech"];
    let config: String = tenants
        .iter()
        .map(|t| format!("[[tenants]]\nid = \"{t}\"\n"))
        .collect();
    let server = Server::start(&config, &tenants[1..], &["--shards", "2"]);
    let mut tasks = tokio::task::JoinSet::new();
    for tenant in tenants {
        for connection in 0..3u8 {
            let config = server.partner(tenant);
            tasks.spawn(async move {
                let partner = Arc::new(Partner::connect(&config).await.expect("connects"));
                let mut requests = tokio::task::JoinSet::new();
                for i in 0..12u8 {
                    let partner = partner.clone();
                    // One bad signature among twelve concurrent requests.
                    let valid = i != 5;
                    requests.spawn(async move {
                        let statement = bls_statement(connection + 10, &[i; 8], valid);
                        let reply = partner
                            .submit(submission(statement))
                            .await
                            .expect("answered");
                        (valid, reply)
                    });
                }
                let replies = requests.join_all().await;
                (tenant, replies)
            });
        }
    }
    let mut shards_by_tenant: HashMap<&str, HashSet<u64>> = HashMap::new();
    for (tenant, replies) in tasks.join_all().await {
        for (valid, reply) in replies {
            let expected = if valid {
                VerdictCode::Valid
            } else {
                VerdictCode::Invalid
            };
            assert_eq!(reply.verdict, expected, "tenant {tenant}");
            let payload: Value = serde_json::from_slice(&reply.receipt.payload).expect("json");
            assert_eq!(payload["tenant"], tenant);
            shards_by_tenant
                .entry(tenant)
                .or_default()
                .insert(payload["shard"].as_u64().expect("shard"));
        }
    }
    // Three connections per tenant reach the two shards as the kernel hashes them, yet each
    // tenant's requests are all decided on one shard: its home.
    for (tenant, shards) in &shards_by_tenant {
        assert_eq!(shards.len(), 1, "tenant {tenant} was decided on {shards:?}");
    }
    let homes: HashSet<u64> = shards_by_tenant.values().flatten().copied().collect();
    assert_eq!(homes.len(), 2, "four tenants are homed on both shards");
}

#[tokio::test]
async fn a_flooding_tenant_is_told_busy_while_others_keep_being_served_in_turn() {
    let config = "\
[server]
max_streams_per_connection = 1024

[scheduling]
mailbox_capacity = 256
batch_max = 16
latency_budget_ms = 0

[[tenants]]
id = \"flood\"
rate_per_sec = 1000000
burst = 1000000

[[tenants]]
id = \"fair\"
";
    // Batches do not wait for company here (a zero latency budget): the fair tenant sends one
    // request at a time, and a lone request may otherwise be held within its budget for
    // company that never comes, while the flood, in the surplus lane, takes that slack. What
    // is checked is the order the scheduler hands batches out in, not the batching rule.
    let server = Server::start(config, &["flood", "fair"], &["--shards", "1"]);
    let flood = Arc::new(
        Partner::connect(&server.partner("flood"))
            .await
            .expect("flood"),
    );
    let fair = Partner::connect(&server.partner("fair"))
        .await
        .expect("fair");

    let mut flood_tasks = tokio::task::JoinSet::new();
    let flood_refused = Arc::new(AtomicU32::new(0));
    for i in 0..600u32 {
        let flood = flood.clone();
        let flood_refused = flood_refused.clone();
        flood_tasks.spawn(async move {
            let statement = bls_statement(20, &i.to_le_bytes(), true);
            let outcome = flood.submit(submission(statement)).await;
            if matches!(outcome, Err(PartnerError::Busy { .. })) {
                flood_refused.fetch_add(1, Ordering::Release);
            }
            outcome
        });
    }
    // Once the flood has filled its mailbox (its first Busy), send at a fair pace, one at a
    // time.
    wait_for_async(
        "the flood to fill its mailbox (a Busy answer)",
        Duration::from_secs(60),
        || {
            let full = flood_refused.load(Ordering::Acquire) > 0;
            async move { full.then_some(()) }
        },
        || server.log(),
    )
    .await;
    let mut fair_receipts = Vec::new();
    for i in 0..20u32 {
        let statement = bls_statement(21, &i.to_le_bytes(), true);
        let reply = fair
            .submit(submission(statement))
            .await
            .expect("the fair tenant is served");
        assert_eq!(reply.verdict, VerdictCode::Valid);
        fair_receipts.push(serde_json::from_slice::<Value>(&reply.receipt.payload).expect("json"));
    }
    let mut flood_decided = Vec::new();
    let mut busy = 0;
    for outcome in flood_tasks.join_all().await {
        match outcome {
            Ok(reply) => {
                let payload: Value = serde_json::from_slice(&reply.receipt.payload).expect("json");
                flood_decided.push(payload["decided_at_unix_us"].as_u64().expect("time"));
            }
            Err(PartnerError::Busy { retry_after_ms }) => {
                assert!(retry_after_ms >= 1);
                busy += 1;
            }
            Err(other) => panic!("the flooder got {other}"),
        }
    }
    assert!(busy > 0, "600 at once overflow a mailbox of 256");
    // Round robin: while the flooder had up to 256 queued, each fair request waited behind
    // at most about one batch of the flooder's, never behind its whole queue.
    for receipt in &fair_receipts {
        let received = receipt["received_at_unix_us"].as_u64().expect("time");
        let decided = receipt["decided_at_unix_us"].as_u64().expect("time");
        let overtaken = flood_decided
            .iter()
            .filter(|t| **t > received && **t < decided)
            .count();
        assert!(overtaken <= 2 * 16, "{overtaken} flood requests went first");
    }
}

#[tokio::test]
async fn bad_input_gets_typed_errors_and_the_connection_keeps_serving() {
    let server = Server::start("", &[], &[]);
    let partner = Partner::connect(&server.partner("demo"))
        .await
        .expect("connects");

    let mut oversize = MAGIC.to_vec();
    oversize.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    oversize.extend_from_slice(&(64u32 << 20).to_le_bytes());
    oversize.extend_from_slice(&[0; 1000]);
    assert!(matches!(
        error_code(partner.exchange(&oversize).await),
        ErrorCode::Malformed { detail } if detail.contains("exceeds the limit")
    ));

    assert!(matches!(
        error_code(partner.exchange(b"GET / HTTP/1.1\r\n\r\n").await),
        ErrorCode::Malformed { detail } if detail.contains("bad magic")
    ));

    let mut newer = frame(&Message::Submit(Submit {
        request_id: 3,
        purpose: "test".into(),
        dataset_class: DatasetClass::P1,
        statement: bls_statement(4, b"x", true),
    }));
    newer[2..4].copy_from_slice(&(PROTOCOL_VERSION + 1).to_le_bytes());
    assert_eq!(
        error_code(partner.exchange(&newer).await),
        ErrorCode::UnsupportedVersion {
            supported: PROTOCOL_VERSION
        }
    );

    let mut garbage_body = frame(&Message::Submit(Submit {
        request_id: 4,
        purpose: "test".into(),
        dataset_class: DatasetClass::P1,
        statement: bls_statement(4, b"x", true),
    }));
    for byte in &mut garbage_body[HEADER_BYTES..] {
        *byte = 0xff;
    }
    assert!(matches!(
        error_code(partner.exchange(&garbage_body).await),
        ErrorCode::Malformed { .. }
    ));

    let too_many_inputs = Statement::Groth16 {
        curve: tf_wire::Curve::Bn254,
        key_id: [1; 32],
        proof: vec![0; 128],
        public_inputs: vec![[0; 32]; 65],
    };
    match partner.submit(submission(too_many_inputs)).await {
        Err(PartnerError::Malformed { detail }) => {
            assert!(detail.contains("public_inputs"), "{detail}")
        }
        other => panic!("expected malformed, got {other:?}"),
    }

    // Well-formed on the wire, but the key is not a curve point: verified as `rejected`,
    // with a receipt.
    let mut off_curve = [0u8; 48];
    off_curve[0] = 0x80 | 0x11;
    off_curve[47] = 0x05;
    let (signature, _) = bls::sign(&[5; 32], b"x").expect("signs");
    let reply = partner
        .submit(submission(Statement::BlsSingle {
            public_key: off_curve,
            message: b"x".to_vec(),
            signature: signature.to_bytes(),
        }))
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Rejected);
    assert!(reply.reason.contains("public_key"), "{}", reply.reason);

    // The same connection, and the shard, keep serving.
    let reply = partner
        .submit(submission(bls_statement(6, b"after all that", true)))
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
    let other = Partner::connect(&server.partner("demo"))
        .await
        .expect("connects");
    let reply = other
        .submit(submission(bls_statement(7, b"another connection", true)))
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
}

fn frame(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    tf_wire::encode(message, &mut out).expect("encodes");
    out
}

fn error_code(answer: Result<Message, PartnerError>) -> ErrorCode {
    match answer {
        Ok(Message::Error(error)) => error.code,
        other => panic!("expected an error answer, got {other:?}"),
    }
}

#[tokio::test]
async fn sigterm_during_load_answers_everything_taken_and_exits_zero() {
    let mut server = Server::start("", &[], &[]);
    let config = server.partner("demo");
    let mut loops = tokio::task::JoinSet::new();
    let answered = Arc::new(AtomicU32::new(0));
    for worker in 0..4u8 {
        let partner = Partner::connect(&config).await.expect("connects");
        let answered = answered.clone();
        loops.spawn(async move {
            let mut verdicts = 0u32;
            for i in 0..u32::MAX {
                let statement = bls_statement(30 + worker, &i.to_le_bytes(), true);
                match partner.submit(submission(statement)).await {
                    Ok(reply) => {
                        assert_eq!(reply.verdict, VerdictCode::Valid);
                        verdicts += 1;
                        answered.fetch_add(1, Ordering::Release);
                    }
                    Err(PartnerError::ShuttingDown) => return verdicts,
                    Err(other) => panic!("a request ended without a verdict: {other}"),
                }
            }
            verdicts
        });
    }
    // SIGTERM once the load is under way (verdicts given), with requests still in flight.
    wait_for_async(
        "20 verdicts under load before SIGTERM",
        Duration::from_secs(60),
        || {
            let under_way = answered.load(Ordering::Acquire) >= 20;
            async move { under_way.then_some(()) }
        },
        || server.log(),
    )
    .await;
    let status = tokio::task::spawn_blocking(move || {
        let status = server.terminate();
        (status, server)
    })
    .await
    .expect("joined");
    let (status, server) = status;
    assert!(status.success(), "exit status {status}: {}", server.log());
    let verdicts: u32 = loops.join_all().await.into_iter().sum();
    assert!(verdicts > 0, "load was running when SIGTERM came");
    assert!(server.log().contains("shutting down"));
}

#[test]
fn a_second_appliance_on_the_same_port_refuses_to_start() {
    let server = Server::start("", &[], &[]);
    let other_state = server.dir.path().join("other-state");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args([
            "serve",
            "--listen",
            &server.address.to_string(),
            "--state-dir",
        ])
        .arg(&other_state)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another appliance"), "{stderr}");
}

/// The fixture BN254 key with its first input point replaced by the point at infinity's flag
/// and a non-zero x: bytes arkworks decodes, but not the canonical encoding of what it decodes.
fn non_canonical_bn254_key() -> Vec<u8> {
    let (_, mut key) =
        formats::verifying_key_json(&fixture_text("bn128", "verification_key.json")).expect("key");
    const G1: usize = 32;
    const POINTS: usize = 5; // four public inputs and the constant
    let at = key.len() - POINTS * G1;
    let mut point = [0u8; G1];
    point[G1 - 1] = 0x40; // arkworks' infinity flag, in the top bits of the last byte
    point[G1 / 2] = 1;
    key[at..at + G1].copy_from_slice(&point);
    key
}

#[tokio::test]
async fn registered_keys_survive_a_restart_beside_an_unreadable_one_and_non_canonical_keys_are_refused()
 {
    let mut server = Server::start("", &[], &[]);
    let (curve, vk) =
        formats::verifying_key_json(&fixture_text("bls12381", "verification_key.json"))
            .expect("key");
    let key_id = {
        let partner = Partner::connect(&server.partner("demo"))
            .await
            .expect("connects");
        let refused = partner
            .register_key(tf_partner::Curve::Bn254, non_canonical_bn254_key())
            .await
            .expect_err("a non-canonical key is refused");
        assert!(
            refused
                .to_string()
                .contains("not the canonical compressed encoding"),
            "{refused}"
        );
        let id = partner.register_key(curve, vk).await.expect("registered");
        partner.close().await;
        id
    };
    // A key file whose bytes do not hash to its name (a bad disk, a bad restore, or a key
    // stored by an appliance that accepted non-canonical bytes).
    let planted = server
        .state
        .join("verifying-keys")
        .join(format!("{}.bn254", "ab".repeat(32)));
    std::fs::write(&planted, b"not a key").expect("planted");
    let server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .expect("restarted despite the unreadable key");
    let log = server.log();
    assert!(
        log.contains("a registered verifying key was skipped")
            && log.contains(&planted.display().to_string()),
        "{log}"
    );
    let partner = Partner::connect(&server.partner("demo"))
        .await
        .expect("connects again");
    let statement = formats::groth16_json(
        key_id.0,
        &fixture_text("bls12381", "proof_1.json"),
        &fixture_text("bls12381", "public_1.json"),
    )
    .expect("statement");
    let reply = partner
        .submit(submission(statement))
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid, "{}", server.log());
}

#[tokio::test]
async fn key_registrations_come_out_of_the_tenants_quota_and_a_known_key_is_granted_by_id() {
    let server = Server::start(
        "[[tenants]]\nid = \"demo\"\nrate_per_sec = 1\nburst = 2\n",
        &[],
        &[],
    );
    let (curve, vk) =
        formats::verifying_key_json(&fixture_text("bls12381", "verification_key.json"))
            .expect("key");
    let partner = Partner::connect(&server.partner("demo"))
        .await
        .expect("connects");
    let started = std::time::Instant::now();
    let (mut registered, mut busy) = (HashSet::new(), 0u64);
    for _ in 0..10 {
        match partner.register_key(curve, vk.clone()).await {
            Ok(id) => {
                registered.insert(id.0);
            }
            Err(PartnerError::Busy { retry_after_ms }) => {
                assert!(retry_after_ms > 0);
                busy += 1;
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    let allowed = 2 + started.elapsed().as_secs() + 1;
    assert_eq!(
        registered.len(),
        1,
        "the same key has the same id each time"
    );
    assert!(
        busy >= 10 - allowed,
        "{busy} refused of 10, {allowed} allowed"
    );
}

#[tokio::test]
async fn tls_material_named_in_the_config_is_used_instead_of_the_state_directorys() {
    let mut server = Server::start("", &[], &[]);
    let material = server.dir.path().join("pki");
    std::fs::create_dir(&material).expect("folder");
    for file in ["server.pem", "server.key", "ca.pem"] {
        std::fs::copy(server.state.join(file), material.join(file)).expect("copied");
    }
    // The state directory's own certificate is now unusable: serving proves the config's is used.
    std::fs::write(server.state.join("server.pem"), "not a certificate").expect("spoiled");
    let config = format!(
        "[tls]\ncertificate = \"{0}/server.pem\"\nprivate_key = \"{0}/server.key\"\n\
         client_ca = \"{0}/ca.pem\"\n",
        material.display()
    );
    std::fs::write(server.dir.path().join("appliance.toml"), config).expect("config");
    server.restart();
    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects with the configured certificate");
    let reply = partner
        .submit(submission(bls_statement(3, b"tls", true)))
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
}

#[tokio::test]
async fn a_quiet_partner_connection_outlives_the_idle_timeout() {
    // The SDK pings a quiet connection, so a partner waiting a long time for an answer (or
    // between requests) keeps its connection; without the pings the appliance would close it
    // as idle after 10 s.
    let server = Server::start("[server]\nidle_timeout_ms = 10000\n", &[], &[]);
    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects");
    // A wait on time itself: quiet for longer than the idle timeout.
    tokio::time::sleep(std::time::Duration::from_secs(15)).await;
    let reply = partner
        .submit(submission(bls_statement(1, b"still here", true)))
        .await
        .expect("the connection is still open");
    assert_eq!(reply.verdict, VerdictCode::Valid);
    assert!(
        !server.log().contains("reason=timed out"),
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn a_tenants_own_key_quota_bounds_its_registrations_and_another_tenant_is_unaffected() {
    let server = Server::start(
        "[[tenants]]\nid = \"demo\"\nmax_registered_keys = 1\n[[tenants]]\nid = \"acme\"\n",
        &["acme"],
        &[],
    );
    let key = |circuit: &str| {
        formats::verifying_key_json(&fixture_text(circuit, "verification_key.json")).expect("key")
    };
    let (bn254, bn254_key) = key("bn128");
    let (bls12, bls12_key) = key("bls12381");
    let demo = Partner::connect(&server.partner("demo"))
        .await
        .expect("demo connects");
    let first = demo
        .register_key(bn254, bn254_key.clone())
        .await
        .expect("within the quota");
    match demo.register_key(bls12, bls12_key.clone()).await {
        Err(PartnerError::KeyRefused { detail }) => {
            assert!(detail.contains("quota"), "{detail}")
        }
        other => panic!("expected the quota refusal, got {other:?}"),
    }
    // Registering a key it holds again is no new key.
    let again = demo
        .register_key(bn254, bn254_key.clone())
        .await
        .expect("already registered");
    assert_eq!(again, first);

    // Another tenant's quota is its own; the key demo holds is granted to it by id.
    let acme = Partner::connect(&server.partner("acme"))
        .await
        .expect("acme connects");
    acme.register_key(bls12, bls12_key)
        .await
        .expect("acme's own quota");
    assert_eq!(
        acme.register_key(bn254, bn254_key).await.expect("granted"),
        first
    );
}

#[tokio::test]
async fn a_lost_ledger_is_refused_at_start_until_an_empty_one_is_asked_for() {
    let mut server = Server::start("[[tenants]]\nid = \"demo\"\n", &[], &[]);
    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects");
    let (signature, public_key) = bls::sign(&[3; 32], b"kept").expect("signs");
    let reply = partner
        .submit(Submission {
            purpose: "demo".into(),
            dataset_class: DatasetClass::P2,
            statement: Statement::BlsSingle {
                public_key: public_key.to_bytes(),
                message: b"kept".to_vec(),
                signature: signature.to_bytes(),
            },
        })
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
    drop(partner);
    assert!(server.terminate().success(), "{}", server.log());

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(server.state_path(&format!("ledger.sqlite{suffix}")));
    }
    // Refused, with the reason and what to do, and an exit the unit does not restart.
    let (status, log) = server.serve_once(&[]);
    assert_eq!(status.code(), Some(78), "{log}");
    assert!(
        log.contains("is missing from a state directory that served before")
            && log.contains("--new-ledger"),
        "{log}"
    );
    assert!(
        !server.state_path("ledger.sqlite").exists(),
        "nothing created"
    );

    // Asked for explicitly, an empty ledger starts.
    server.start_again_with(&["--new-ledger"]);
    assert!(server.state_path("ledger.sqlite").exists());
    assert!(
        server
            .log()
            .contains("--new-ledger: starting an empty ledger")
    );
}
