//! Onboarding end to end, as an operator and a partner run it against the real binary over
//! QUIC on loopback: an invite made with `appliance ctl`, redeemed with `partner onboard` (the
//! key made on the partner's side, the appliance pinned by the invite), the tenant in force as
//! a bundle revision named on the timeline, and the identity written ready for every other
//! `partner` command. Reused, revoked and forged invites are refused with nothing created; the
//! onboarding protocol takes nothing but one `Onboard`; a flood of bad invites from one address
//! is rate limited and partners on the main protocol are served meanwhile.

#[path = "support/partners.rs"]
mod partners;
#[path = "support/server.rs"]
mod server;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use partners::onboard;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use server::{ROLE_TOKENS as TOKENS, Server, run_partner_in, with_admin_tokens};
use tf_partner::{DatasetClass, Partner, VerdictCode};
use tf_wire::{
    AboutQuery, ChecklistQuery, InviteCode, Message, TermsCap, TermsRequest, close_code,
};

const BASE: &str = "[[tenants]]\nid = \"demo\"\n";

/// A server with the example bundle in force (onboarding adds tenants to the bundle in force).
fn server_with_bundle() -> Server {
    let server = Server::start(&with_admin_tokens(BASE, &TOKENS), &[], &[]);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let bundle = server.build_bundle(&example, 1, "in force", None);
    let (code, out, err) = server.ctl(
        "author-token",
        &["promote", bundle.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{out}{err}");
    server
}

/// An invite for `tenant` (a name or a prefix): kyc on P1, a daily P1 cap of 100000.
fn invite(server: &Server, tenant: &str) -> String {
    partners::invite(
        server,
        tenant,
        &[
            "--max-keys",
            "4",
            "--cap",
            "P1:day:100000",
            "--reason",
            "pilot",
        ],
    )
}

fn error_kind(out: &str) -> String {
    let value: Value = serde_json::from_str(out).unwrap_or_else(|_| panic!("JSON: {out}"));
    value["error"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn timeline_len(server: &Server) -> usize {
    let (code, out, err) = server.ctl("viewer-token", &["timeline", "--json"]);
    assert_eq!(code, 0, "{err}");
    let value: Value = serde_json::from_str(&out).expect("JSON");
    value["timeline"].as_array().expect("timeline").len()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/groth16/bn128")
}

#[test]
fn a_partner_onboards_with_an_invite_and_is_served_under_the_templates_terms() {
    let server = server_with_bundle();
    let text = invite(&server, "pilot-*");
    let id = text.parse::<InviteCode>().expect("an invite").id;
    let home = server.dir.path().join("initech");

    let (code, out, err) = onboard(&server, &text, "pilot-initech", &home);
    assert_eq!(code, 0, "{out}{err}");
    let answer: Value = serde_json::from_str(&out).expect("only JSON on stdout");
    assert_eq!(answer["tenant"], "pilot-initech");
    assert_eq!(answer["revision"], 2);
    // The private key was made here, and only the owner may read it.
    let mode = std::fs::metadata(home.join("client.key"))
        .expect("the key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    // The CA the partner received is the appliance's.
    let ca = CertificateDer::from_pem_file(home.join("ca.pem")).expect("ca.pem");
    let theirs = CertificateDer::from_pem_file(server.state.join("ca.pem")).expect("ca");
    assert_eq!(ca, theirs);

    // In force as a bundle revision under the invite's authority, on the timeline.
    let (code, out, err) = server.ctl("viewer-token", &["timeline", "--json"]);
    assert_eq!(code, 0, "{err}");
    let timeline: Value = serde_json::from_str(&out).expect("JSON");
    let last = timeline["timeline"]
        .as_array()
        .and_then(|t| t.last())
        .expect("an entry")
        .clone();
    assert_eq!(last["action"], "onboard");
    assert_eq!(last["actor"], format!("invite {id}"));
    assert!(
        last["reason"]
            .as_str()
            .is_some_and(|r| r.contains("pilot-initech")),
        "{last}"
    );
    let (_, out, _) = server.ctl("viewer-token", &["invites", "list", "--json"]);
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(listed["invites"][0]["status"], "used");
    assert_eq!(listed["invites"][0]["closed_by"], "pilot-initech");

    // Every other command works from the written folder: a key registered, a proof verified
    // for the template's purpose and class, the template's cap in the budgets.
    let state = home.to_str().expect("utf-8");
    let key = fixtures().join("verification_key.json");
    let (code, out, err) = run_partner_in(
        &home,
        &[
            "--state-dir",
            state,
            "--json",
            "keys",
            "register",
            key.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let registered: Value = serde_json::from_str(&out).expect("JSON");
    let key_id = registered["key_id"].as_str().expect("a key id").to_owned();
    let submit = |purpose: &str| {
        run_partner_in(
            &home,
            &[
                "--state-dir",
                state,
                "--json",
                "submit",
                "groth16",
                "--key-id",
                &key_id,
                "--proof",
                fixtures().join("proof_0.json").to_str().expect("utf-8"),
                "--public",
                fixtures().join("public_0.json").to_str().expect("utf-8"),
                "--purpose",
                purpose,
                "--class",
                "P1",
            ],
        )
    };
    let (code, out, err) = submit("kyc");
    assert_eq!(code, 0, "valid: {out}{err}");
    // A purpose the template does not allow is denied by the permit onboarding added.
    let (code, out, err) = submit("marketing");
    assert_eq!(code, 3, "denied: {out}{err}");
    let (code, out, err) = run_partner_in(&home, &["--state-dir", state, "--json", "budgets"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("100000"), "{out}");

    // Terms: within the template they apply at once (a revision), above it they wait.
    let config = tf_partner::PartnerConfig::from_state_dir(&home).expect("partner.toml");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ask = |rate: u32, limit: u64| {
        Message::TermsRequest(TermsRequest {
            request_id: 1,
            rate_per_sec: rate,
            burst: 50,
            max_registered_keys: 4,
            caps: vec![TermsCap {
                dataset_class: DatasetClass::P1,
                window: "day".into(),
                limit,
            }],
        })
    };
    let (within, above) = runtime.block_on(async {
        let partner = Partner::connect(&config).await.expect("connects");
        let within = partner.request(&ask(50, 70_000)).await.expect("answered");
        let above = partner.request(&ask(50, 500_000)).await.expect("answered");
        partner.close().await;
        (within, above)
    });
    let Message::TermsReply(within) = within else {
        panic!("a terms reply: {within:?}");
    };
    assert_eq!(within.revision, 3, "{}", within.detail);
    let Message::TermsReply(above) = above else {
        panic!("a terms reply: {above:?}");
    };
    assert_eq!(above.revision, 0, "waiting: {}", above.detail);
    assert!(
        above
            .detail
            .contains("cap P1 day 500000 above the template's 100000"),
        "{}",
        above.detail
    );
    let (code, out, err) = run_partner_in(&home, &["--state-dir", state, "--json", "budgets"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("70000"), "the granted cap: {out}");
    let (_, out, _) = server.ctl("viewer-token", &["timeline", "--json"]);
    assert!(out.contains("\"terms\""), "{out}");

    // The evidence preview: a sandbox submission is verified and receipted from the sandbox
    // allowance, never the budget; then the checklist, complete, comes signed.
    let receipt_key = ed25519_dalek::VerifyingKey::from_bytes(
        &hex::decode(
            answer["receipt_public_key"]
                .as_str()
                .expect("the receipt key"),
        )
        .expect("hex")
        .try_into()
        .expect("32 bytes"),
    )
    .expect("a key");
    let key_bytes: [u8; 32] = hex::decode(&key_id).expect("hex").try_into().expect("32");
    let statement = tf_partner::formats::groth16_statement(
        key_bytes,
        &fixtures().join("proof_0.json"),
        &fixtures().join("public_0.json"),
    )
    .expect("a statement");
    let (seqs, budgets, checklist) = runtime.block_on(async {
        let partner = Partner::connect(&config).await.expect("connects");
        let mut seqs = Vec::new();
        for purpose in [tf_budgets::SANDBOX_PURPOSE, "kyc"] {
            let reply = partner
                .submit(tf_partner::Submission {
                    purpose: purpose.into(),
                    dataset_class: DatasetClass::P1,
                    statement: statement.clone(),
                })
                .await
                .expect("answered");
            assert_eq!(reply.verdict, VerdictCode::Valid, "{purpose}");
            let envelope = tf_partner::receipt_envelope(&reply);
            let receipt = tf_receipts::verify(&envelope, &receipt_key).expect("genuine");
            seqs.push(receipt.ledger_seq);
        }
        let budgets = partner.budgets().await.expect("budgets");
        let checklist = partner
            .request(&Message::ChecklistQuery(ChecklistQuery {
                request_id: 9,
                sandbox_receipt: seqs[0],
                first_receipt: seqs[1],
            }))
            .await
            .expect("answered");
        partner.close().await;
        (seqs, budgets, checklist)
    });
    let sandbox_cap = budgets
        .iter()
        .find(|c| c.purpose == tf_budgets::SANDBOX_PURPOSE && c.dataset_class == DatasetClass::P1)
        .expect("a sandbox allowance");
    // One proof's cost (the example bundle's costs): the sandbox allowance paid for it.
    let one_proof = sandbox_cap.used;
    assert!(one_proof > 0, "{sandbox_cap:?}");
    let class_cap = budgets
        .iter()
        .find(|c| c.purpose.is_empty() && c.dataset_class == DatasetClass::P1)
        .expect("the P1 cap");
    // The kyc proofs submitted with the CLI and here, and not the sandbox one.
    assert_eq!(class_cap.used, 2 * one_proof, "{budgets:?}");
    let Message::Checklist(checklist) = checklist else {
        panic!("a checklist: {checklist:?}");
    };
    assert!(
        checklist.steps.iter().all(|s| s.done),
        "{:?} (receipts {seqs:?})",
        checklist.steps
    );
    let envelope = tf_receipts::Envelope::from_json(&checklist.envelope).expect("DSSE");
    assert_eq!(envelope.payload_type, tf_control::checklist::PAYLOAD_TYPE);
    tf_receipts::verify_signature(&envelope, &receipt_key).expect("signed by the appliance");
    let signed: Value = serde_json::from_slice(&envelope.payload).expect("JSON");
    assert_eq!(signed["tenant"], "pilot-initech");
    assert_eq!(signed["steps"].as_array().map(Vec::len), Some(5));

    // The same steps with the partner command.
    let receipt_file = |name: &str| home.join(name).to_str().expect("utf-8").to_owned();
    for (purpose, file) in [("sandbox", "sandbox.json"), ("kyc", "first.json")] {
        let (code, out, err) = run_partner_in(
            &home,
            &[
                "--state-dir",
                state,
                "submit",
                "groth16",
                "--key-id",
                &key_id,
                "--proof",
                fixtures().join("proof_0.json").to_str().expect("utf-8"),
                "--public",
                fixtures().join("public_0.json").to_str().expect("utf-8"),
                "--purpose",
                purpose,
                "--class",
                "P1",
                "--receipt",
                &receipt_file(file),
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = run_partner_in(
        &home,
        &[
            "--state-dir",
            state,
            "--json",
            "checklist",
            "--sandbox-receipt",
            &receipt_file("sandbox.json"),
            "--first-receipt",
            &receipt_file("first.json"),
            "--out",
            &receipt_file("checklist.json"),
        ],
    );
    assert_eq!(code, 0, "complete: {out}{err}");
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(listed["complete"], true, "{listed}");
    let signed = std::fs::read_to_string(home.join("checklist.json")).expect("saved");
    let facts = tf_partner::sdk::verify_checklist(
        &signed,
        answer["receipt_public_key"].as_str().expect("key"),
    )
    .expect("a genuine checklist");
    assert_eq!(facts["tenant"], "pilot-initech");

    // The evidence preview: the bundle an auditor would get over the sandbox receipt, made and
    // signed by the appliance, checked before it is written, and again offline by the
    // partner's command and the operator's.
    let preview = |out_dir: &str, receipt: &str| {
        run_partner_in(
            &home,
            &[
                "--state-dir",
                state,
                "--json",
                "evidence",
                "preview",
                "--receipt",
                &receipt_file(receipt),
                "--out",
                &receipt_file(out_dir),
            ],
        )
    };
    // Proofs come once the log has checkpointed the receipt (within its interval).
    let mut attempt = 0;
    let summary = loop {
        attempt += 1;
        let (code, out, err) = preview(&format!("preview-{attempt}"), "sandbox.json");
        assert_eq!(code, 0, "{out}{err}");
        let summary: Value = serde_json::from_str(&out).expect("only JSON on stdout");
        if summary["not_yet_logged"]
            .as_array()
            .is_some_and(Vec::is_empty)
            || attempt == 40
        {
            break summary;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let bundle = receipt_file(&format!("preview-{attempt}"));
    assert_eq!(summary["preview"], true, "{summary}");
    assert_eq!(summary["tenant"], "pilot-initech");
    assert_eq!(summary["receipts"].as_array().map(Vec::len), Some(1));
    assert!(
        summary["charged"].as_u64().is_some_and(|c| c > 0),
        "{summary}"
    );
    assert!(summary["log_tree_size"].as_u64().is_some(), "{summary}");
    assert_eq!(
        summary["not_yet_logged"],
        serde_json::json!([]),
        "{summary}"
    );
    let (code, out, err) = run_partner_in(
        &home,
        &["--state-dir", state, "evidence", "verify", &bundle],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = server::run_appliance(&[
        "evidence",
        "verify",
        &bundle,
        "--public-key",
        answer["receipt_public_key"].as_str().expect("key"),
    ]);
    assert_eq!(code, 0, "the operator's check: {out}{err}");
    let budgets = Path::new(&bundle).join("budgets.json");
    let altered = std::fs::read_to_string(&budgets)
        .expect("budget statements")
        .replace("sandbox", "sandbot");
    std::fs::write(&budgets, altered).expect("altered");
    let (code, out, err) = run_partner_in(
        &home,
        &[
            "--state-dir",
            state,
            "--json",
            "evidence",
            "verify",
            &bundle,
        ],
    );
    assert_eq!(code, 1, "altered: {out}{err}");
    assert!(out.contains("budgets.json"), "{out}");
    // Only sandbox receipts: a real one is refused, and nothing is written.
    let (code, out, err) = preview("preview-first", "first.json");
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("sandbox"), "{out}");
    assert!(!home.join("preview-first").exists());
    let (code, out, err) = run_partner_in(
        &home,
        &[
            "--state-dir",
            state,
            "--json",
            "terms",
            "request",
            "--rate",
            "60",
            "--burst",
            "50",
            "--max-keys",
            "4",
            "--cap",
            "P1:day:80000",
        ],
    );
    assert_eq!(code, 0, "within the template: {out}{err}");
    let granted: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(granted["waiting"], false, "{granted}");
    let (code, out, _) = run_partner_in(
        &home,
        &[
            "--state-dir",
            state,
            "--json",
            "terms",
            "request",
            "--rate",
            "60",
            "--burst",
            "50",
            "--max-keys",
            "4",
        ],
    );
    assert_eq!(code, 4, "a cap left out waits for an operator: {out}");

    // Used: the same invite again gets nothing, and creates nothing.
    let before = timeline_len(&server);
    let (code, out, err) = onboard(&server, &text, "pilot-hooli", &server.dir.path().join("x"));
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(error_kind(&out), "onboarding-refused", "{out}");
    assert!(out.contains("already used"), "{out}");
    assert!(
        !server.dir.path().join("x/client.key").exists(),
        "the key is not left behind"
    );
    assert_eq!(timeline_len(&server), before);
    // The failed step is counted, and on the timeline for whoever supports partners.
    let (status, metrics) = server::get(server.admin_address(), "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics
            .contains("trust_fabric_partner_steps_failed_total{step=\"onboard\",error=\"used\"} 1"),
        "{metrics}"
    );
    let failed = failed_steps(&server, "onboard");
    assert!(
        failed
            .iter()
            .any(|s| s.contains("pilot-hooli") && s.contains("used")),
        "{failed:?}"
    );
    // The preview asked over a real receipt is one too.
    let failed = failed_steps(&server, "evidence-preview");
    assert!(failed[0].contains("not one of your sandbox"), "{failed:?}");
}

/// The failed steps with `step` on the timeline, by their summaries.
fn failed_steps(server: &Server, step: &str) -> Vec<String> {
    let (_, out, _) = server.ctl("viewer-token", &["timeline", "--json"]);
    let timeline: Value = serde_json::from_str(&out).expect("JSON");
    timeline["events"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|e| e["kind"] == "partner.step_failed")
        .filter_map(|e| e["summary"].as_str())
        .filter(|s| s.starts_with(&format!("partner step {step} ")))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_refused_key_and_a_failed_sandbox_submission_reach_whoever_supports_partners() {
    let server = server_with_bundle();
    let text = invite(&server, "pilot-*");
    let home = server.dir.path().join("initech");
    let (code, out, err) = onboard(&server, &text, "pilot-initech", &home);
    assert_eq!(code, 0, "{out}{err}");
    let config = tf_partner::PartnerConfig::from_state_dir(&home).expect("partner.toml");
    let key_json = std::fs::read_to_string(fixtures().join("verification_key.json")).expect("key");
    let statement = |public: &str| {
        tf_partner::formats::groth16_statement(
            [7; 32],
            &fixtures().join("proof_0.json"),
            &fixtures().join(public),
        )
        .expect("a statement")
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let partner = Partner::connect(&config).await.expect("connects");
        // A sandbox submission under a key not registered yet, three times: one event.
        for _ in 0..3 {
            let refused = partner
                .submit(tf_partner::Submission {
                    purpose: tf_budgets::SANDBOX_PURPOSE.into(),
                    dataset_class: DatasetClass::P1,
                    statement: statement("public_0.json"),
                })
                .await;
            assert!(
                matches!(refused, Err(tf_partner::PartnerError::UnknownKey { .. })),
                "{refused:?}"
            );
        }
        // A verifying key whose first point is not on the curve.
        let (curve, mut bytes) =
            tf_partner::formats::verifying_key_json(&key_json).expect("the key");
        bytes[40] ^= 0x5a;
        let refused = partner.register_key(curve, bytes).await;
        assert!(
            matches!(refused, Err(tf_partner::PartnerError::KeyRefused { .. })),
            "{refused:?}"
        );
        // The real key, then a proof with public inputs that are not its own: invalid.
        let id = partner
            .register_key_json(&key_json)
            .await
            .expect("registered");
        let mut wrong = statement("public_1.json");
        if let tf_wire::Statement::Groth16 { key_id, .. } = &mut wrong {
            *key_id = id.0;
        }
        let reply = partner
            .submit(tf_partner::Submission {
                purpose: tf_budgets::SANDBOX_PURPOSE.into(),
                dataset_class: DatasetClass::P1,
                statement: wrong,
            })
            .await
            .expect("answered");
        assert_eq!(reply.verdict, VerdictCode::Invalid);
        partner.close().await;
    });
    // The desk records what the shards report within a second or so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (keys, sandbox) = loop {
        let (keys, sandbox) = (
            failed_steps(&server, "keys"),
            failed_steps(&server, "sandbox"),
        );
        if (keys.len(), sandbox.len()) == (1, 2) || std::time::Instant::now() > deadline {
            break (keys, sandbox);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].contains("pilot-initech") && keys[0].contains("bad-key"),
        "{keys:?}"
    );
    assert_eq!(sandbox.len(), 2, "{sandbox:?}");
    assert!(
        sandbox
            .iter()
            .any(|s| s.contains("unknown-key, 3 times") && s.contains("not registered")),
        "{sandbox:?}"
    );
    assert!(
        sandbox
            .iter()
            .any(|s| s.contains("(invalid)") && s.contains("public inputs")),
        "{sandbox:?}"
    );
    let (_, metrics) = server::get(server.admin_address(), "/metrics");
    for line in [
        "trust_fabric_partner_steps_failed_total{step=\"keys\",error=\"bad-key\"} 1",
        "trust_fabric_partner_steps_failed_total{step=\"sandbox\",error=\"unknown-key\"} 3",
        "trust_fabric_partner_steps_failed_total{step=\"sandbox\",error=\"invalid\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

#[test]
fn revoked_forged_and_foreign_invites_are_refused_with_nothing_created() {
    let server = server_with_bundle();
    let revoked = invite(&server, "initech");
    let id = revoked
        .parse::<InviteCode>()
        .expect("invite")
        .id
        .to_string();
    let (code, _, err) = server.ctl(
        "sre-token",
        &[
            "invites",
            "revoke",
            &id,
            "--reason",
            "sent to the wrong address",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let before = timeline_len(&server);
    let out_dir = server.dir.path().join("out");

    let (code, out, _) = onboard(&server, &revoked, "initech", &out_dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("revoked"), "{out}");

    // The right number and CA with another secret: the same answer as no such invite.
    let open = invite(&server, "initech");
    let mut forged: InviteCode = open.parse().expect("invite");
    forged.secret[0] ^= 1;
    let (code, out, _) = onboard(&server, &forged.to_string(), "initech", &out_dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no such invite"), "{out}");

    // A name outside the invite's.
    let (code, out, _) = onboard(&server, &open, "hooli", &out_dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("for tenant initech, not hooli"), "{out}");

    // An invite naming another CA: the partner refuses the appliance before sending anything.
    let mut foreign: InviteCode = open.parse().expect("invite");
    foreign.ca_fingerprint = [7; 16];
    let (code, out, _) = onboard(&server, &foreign.to_string(), "initech", &out_dir);
    assert_eq!(code, 3, "{out}");
    assert_eq!(error_kind(&out), "server-not-trusted", "{out}");

    assert_eq!(timeline_len(&server), before, "nothing created");
    assert!(!out_dir.join("client.key").exists());
    // The open invite is still open: none of that used it.
    let (code, out, err) = onboard(&server, &open, "initech", &out_dir);
    assert_eq!(code, 0, "{out}{err}");
}

/// A QUIC connection on the onboarding protocol, trusting the appliance's CA.
async fn onboarding_connection(
    server: &Server,
) -> Result<quinn::Connection, quinn::ConnectionError> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(server.state.join("ca.pem")).expect("ca"))
        .expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![tf_wire::ONBOARDING_ALPN.to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(Arc::new(tls)).expect("quic");
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().expect("addr")).expect("ep");
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
    endpoint
        .connect(server.address, "localhost")
        .expect("connect")
        .await
}

fn closed_with(error: &quinn::ConnectionError) -> Option<(u32, String)> {
    match error {
        quinn::ConnectionError::ApplicationClosed(close) => Some((
            u64::from(close.error_code) as u32,
            String::from_utf8_lossy(&close.reason).into_owned(),
        )),
        _ => None,
    }
}

#[tokio::test]
async fn the_onboarding_protocol_takes_nothing_else_and_a_flood_is_limited_while_partners_are_served()
 {
    let server = server_with_bundle();
    let demo = Partner::connect(&server.partner("demo"))
        .await
        .expect("demo connects");

    // Any other request closes the connection.
    let connection = onboarding_connection(&server).await.expect("handshake");
    let (mut send, _recv) = connection.open_bi().await.expect("stream");
    let mut frame = Vec::new();
    tf_wire::encode(
        &Message::AboutQuery(AboutQuery { request_id: 1 }),
        &mut frame,
    )
    .expect("encodes");
    send.write_all(&frame).await.expect("written");
    send.finish().expect("finished");
    let closed = connection.closed().await;
    assert_eq!(
        closed_with(&closed).map(|(code, _)| code),
        Some(close_code::WRONG_PROTOCOL),
        "{closed}"
    );

    // A flood of forged invites from one address: a burst is answered, then connections are
    // closed as rate limited, saying when to retry; demo is served all along.
    let text = invite(&server, "initech");
    let mut forged: InviteCode = text.parse().expect("invite");
    forged.secret = [0; 16];
    let mut limited = None;
    for attempt in 0..12u64 {
        let (code, out, _) = onboard(
            &server,
            &forged.to_string(),
            "initech",
            &server.dir.path().join(format!("flood-{attempt}")),
        );
        if error_kind(&out) == "rate-limited" {
            assert_eq!(code, 3, "{out}");
            limited = Some((attempt, out));
            break;
        }
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("no such invite"), "{out}");
        let reply = demo
            .submit(server::signed(
                attempt as u8 + 1,
                attempt,
                "demo",
                DatasetClass::P2,
            ))
            .await
            .expect("demo is served");
        assert_eq!(reply.verdict, VerdictCode::Valid);
    }
    let (attempt, out) = limited.expect("the flood was limited");
    // Five onboarding connections per address: the one refused above, then four attempts.
    assert_eq!(attempt, 4, "five connections, then limited: {out}");
    assert!(out.contains("retry in"), "{out}");
    // Rate limited at the handshake: the partner library says so, typed.
    let refused = onboarding_connection(&server).await;
    match refused {
        Ok(connection) => {
            let closed = connection.closed().await;
            let (code, reason) = closed_with(&closed).expect("closed by the appliance");
            assert_eq!(code, close_code::ONBOARDING_RATE_LIMITED, "{reason}");
        }
        Err(error) => assert_eq!(
            closed_with(&error).map(|(code, _)| code),
            Some(close_code::ONBOARDING_RATE_LIMITED),
            "{error}"
        ),
    }
    let reply = demo
        .submit(server::signed(99, 99, "demo", DatasetClass::P2))
        .await
        .expect("demo is served after the flood");
    assert_eq!(reply.verdict, VerdictCode::Valid);
    demo.close().await;
}
