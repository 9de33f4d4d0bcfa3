//! Log proofs end to end: a real appliance, receipts issued over QUIC, `partner receipt prove`
//! fetching and checking their inclusion proofs over QUIC, and the partner's and the
//! appliance's offline checks agreeing on the files it wrote.

#[path = "support/server.rs"]
mod server;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use server::Server;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerError, Statement, Submission, VerdictCode};

fn valid_bls(n: u64) -> Submission {
    let message = n.to_le_bytes().to_vec();
    let (signature, public_key) = bls::sign(&[7; 32], &message).expect("signs");
    Submission {
        purpose: "log-proofs".into(),
        dataset_class: DatasetClass::P2,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message,
            signature: signature.to_bytes(),
        },
    }
}

fn partner(server: &Server, args: &[&Path]) -> Output {
    Command::new(server::partner_binary())
        .arg("--state-dir")
        .arg(&server.state)
        .args(args)
        .output()
        .expect("partner runs")
}

fn appliance(server: &Server, args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(args)
        .arg("--state-dir")
        .arg(&server.state)
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

/// Waits until the log's latest checkpoint covers entry `seq`.
fn wait_for_checkpoint(server: &Server, seq: u64) {
    let dir = tf_log::LogDir::at(&server.state.join("log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while tf_log::checkpoint_size(&dir).ok().flatten().unwrap_or(0) <= seq {
        assert!(
            Instant::now() < deadline,
            "no checkpoint covered {seq}: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn partners_prove_receipts_in_the_log_and_both_offline_checks_agree() {
    let server = Server::start("[server]\nshards = 2\n", &[], &[]);
    let dir = server.dir.path();
    let sdk = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects");
    let mut receipts = Vec::new();
    let mut last_seq = 0;
    for n in 0..3 {
        let reply = sdk.submit(valid_bls(n)).await.expect("answered");
        assert_eq!(reply.verdict, VerdictCode::Valid);
        let envelope = tf_partner::receipt_envelope(&reply);
        let seq = serde_json::from_slice::<serde_json::Value>(&envelope.payload)
            .expect("receipt JSON")["ledger_seq"]
            .as_u64()
            .expect("ledger_seq");
        last_seq = last_seq.max(seq);
        let path = dir.join(format!("receipt-{n}.json"));
        std::fs::write(&path, envelope.to_json()).expect("receipt saved");
        receipts.push(path);
    }

    // Far beyond the log: the typed answer says how far the checkpoint reaches.
    match sdk.log_proof(u64::MAX).await {
        Err(PartnerError::NotInLogYet {
            index: u64::MAX,
            retry_after_ms,
            ..
        }) => assert!(retry_after_ms > 0),
        other => panic!("not in the log yet expected: {other:?}"),
    }
    wait_for_checkpoint(&server, last_seq);
    sdk.close().await;

    // `partner receipt prove` fetches, checks and saves the proof of each receipt.
    for receipt in &receipts {
        let prove = partner(
            &server,
            &[Path::new("receipt"), Path::new("prove"), receipt],
        );
        assert!(prove.status.success(), "{}", text(&prove));
        assert!(
            String::from_utf8_lossy(&prove.stdout).contains("in the transparency log: entry"),
            "{}",
            text(&prove)
        );
    }
    let proof = |n: usize| dir.join(format!("receipt-{n}.proof.json"));
    let checkpoint = |n: usize| dir.join(format!("receipt-{n}.proof.checkpoint"));
    for n in 0..3 {
        assert!(
            proof(n).is_file() && checkpoint(n).is_file(),
            "files of {n}"
        );
    }
    let verify = |tool: fn(&Server, &[&Path]) -> Output, receipt: &Path, n: usize| {
        let (checkpoint, proof) = (checkpoint(n), proof(n));
        tool(
            &server,
            &[
                Path::new("receipt"),
                Path::new("verify"),
                receipt,
                Path::new("--checkpoint"),
                &checkpoint,
                Path::new("--proof"),
                &proof,
            ],
        )
    };

    // Both offline checks accept the files, each with its own implementation.
    for tool in [partner as fn(&Server, &[&Path]) -> Output, appliance] {
        let ok = verify(tool, &receipts[1], 1);
        assert!(ok.status.success(), "{}", text(&ok));
        assert!(
            String::from_utf8_lossy(&ok.stdout).contains("in the transparency log: entry"),
            "{}",
            text(&ok)
        );
    }

    // Another receipt's proof does not prove this one.
    let swapped = verify(partner, &receipts[1], 2);
    assert_eq!(swapped.status.code(), Some(1), "{}", text(&swapped));
    let said = String::from_utf8_lossy(&swapped.stderr);
    assert!(
        said.contains("not in the log") && said.contains("the proof is for entry"),
        "{}",
        text(&swapped)
    );

    // A proof with one hash altered leads nowhere near the signed root; both checks say so.
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(proof(1)).expect("proof")).expect("JSON");
    let hashes = file["hashes"].as_array_mut().expect("hashes");
    assert!(!hashes.is_empty(), "a log of several entries has a path");
    hashes[0] = serde_json::Value::String(base64_of_zeros());
    std::fs::write(proof(1), file.to_string()).expect("proof altered");
    for tool in [partner as fn(&Server, &[&Path]) -> Output, appliance] {
        let refused = verify(tool, &receipts[1], 1);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("is not in the log at index"),
            "{}",
            text(&refused)
        );
    }

    // A receipt whose signed bytes were altered is refused before its proof is even read.
    let text_of = std::fs::read_to_string(&receipts[0]).expect("receipt");
    let mut envelope = tf_receipts::Envelope::from_json(&text_of).expect("DSSE JSON");
    let payload = String::from_utf8(envelope.payload).expect("JSON payload");
    let changed = payload.replace("\"valid\"", "\"invalid\"");
    assert_ne!(changed, payload, "the verdict is in the payload");
    envelope.payload = changed.into_bytes();
    let altered = dir.join("altered.json");
    std::fs::write(&altered, envelope.to_json()).expect("altered receipt");
    for tool in [partner as fn(&Server, &[&Path]) -> Output, appliance] {
        let refused = verify(tool, &altered, 0);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("the signature does not match"),
            "{}",
            text(&refused)
        );
    }
}

/// 32 zero bytes, base64.
fn base64_of_zeros() -> String {
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned()
}
