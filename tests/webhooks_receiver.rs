//! `appliance webhooks receive` as an auditor's endpoint, over real HTTP to a second process:
//! a genuine batch is answered 200 and recorded with its receipts' envelopes as sent; the same
//! id again is answered 200 and not recorded twice, also after a restart; a bad or stale
//! signature is 401, a tampered or misnumbered receipt 422 (kept in rejected/), a malformed
//! body 400, an oversized one 413, none of them recorded; the fault options answer 500, 429
//! with Retry-After, or hold then 500, recording nothing; SIGTERM exits 0 even while a
//! request is held.

#[path = "support/receipts.rs"]
mod receipts;
#[path = "support/server.rs"]
mod server;
#[path = "support/webhooks.rs"]
mod webhooks;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use receipts::sample_receipt;
use serde_json::Value;
use tf_receipts::ReceiptSigner;
use tf_webhooks::{
    EventType, ReceiptEntry, WebhookPublicKey, WebhookSecret, event_body, receipt_issued_body,
    sign_v1, sign_v1a, signature_header, webhook_id,
};
use webhooks::Receiver;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[test]
fn genuine_messages_are_recorded_once_even_across_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let mut receipts = ReceiptSigner::from_secret(&[5; 32]);
    let webhook_key = SigningKey::from_bytes(&[9; 32]);
    let public_key = WebhookPublicKey::from(webhook_key.verifying_key()).to_string();
    let args = [
        "--secret",
        SECRET,
        "--public-key",
        &public_key,
        "--receipt-key",
        &receipt_key(&receipts),
    ];
    let mut receiver = Receiver::start(0, &out, &args);

    let envelopes = [envelope(&mut receipts, 41), envelope(&mut receipts, 42)];
    let id = webhook_id(1, 41, 42);
    let body = batch(&[(41, &envelopes[0]), (42, &envelopes[1])]);
    let (status, text) = receiver.post(&id, &body, Signer::V1(SECRET), now_s());
    assert_eq!(status, 200, "{text}\n{}", receiver.log());
    assert_eq!(receiver.settled_lines("messages.jsonl").len(), 1);
    let message = &receiver.settled_lines("messages.jsonl")[0];
    assert_eq!(message["id"], id.as_str());
    assert_eq!(message["type"], "receipt.issued");
    assert_eq!(message["receipts"], 2);
    assert_eq!(
        (message["first_seq"].as_u64(), message["last_seq"].as_u64()),
        (Some(41), Some(42))
    );
    assert!(
        message["received_at_unix_us"]
            .as_u64()
            .is_some_and(|t| t > 0)
    );
    assert!(
        message["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let recorded = receiver.settled_lines("receipts.jsonl");
    assert_eq!(recorded.len(), 2);
    for (line, (seq, envelope)) in recorded
        .iter()
        .zip([(41, &envelopes[0]), (42, &envelopes[1])])
    {
        assert_eq!(line["seq"], seq);
        assert_eq!(line["log_index"], seq + 1000);
        assert_eq!(
            line["envelope"].as_str(),
            Some(envelope.as_str()),
            "the text exactly as sent"
        );
    }

    // A retry (a later attempt, so a new timestamp and signature) is not recorded again.
    let (status, text) = receiver.post(&id, &body, Signer::V1(SECRET), now_s() + 1);
    assert_eq!((status, text.trim()), (200, "duplicate"));
    assert_eq!(receiver.settled_lines("messages.jsonl").len(), 1);
    assert_eq!(receiver.settled_lines("receipts.jsonl").len(), 2);

    // Another event, signed with Ed25519 (v1a): its body kept byte for byte.
    let event_id = "msg_promoted_1_7";
    let event = event_body(
        EventType::BundlePromoted,
        1_700_000_000_000_000,
        &serde_json::json!({"revision": 7}),
    )
    .expect("serialises");
    let (status, text) = receiver.post(event_id, &event, Signer::V1a(&webhook_key), now_s());
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        std::fs::read(out.join("events").join("msg_promoted_1_7.json")).expect("event file"),
        event
    );
    let messages = receiver.settled_lines("messages.jsonl");
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (
            messages[1]["type"].as_str(),
            messages[1]["receipts"].as_u64()
        ),
        (Some("bundle.promoted"), Some(0))
    );
    assert!(messages[1]["first_seq"].is_null());

    // SIGTERM exits 0; a new receiver on the same --out still knows both ids.
    let status = receiver.terminate();
    assert!(status.success(), "{status}: {}", receiver.log());
    let mut receiver = Receiver::start(0, &out, &args);
    for (id, body, signer) in [
        (id.as_str(), &body, Signer::V1(SECRET)),
        (event_id, &event, Signer::V1a(&webhook_key)),
    ] {
        let (status, text) = receiver.post(id, body, signer, now_s());
        assert_eq!(
            (status, text.trim()),
            (200, "duplicate"),
            "{}",
            receiver.log()
        );
    }
    assert_eq!(receiver.settled_lines("messages.jsonl").len(), 2);
    assert_eq!(receiver.settled_lines("receipts.jsonl").len(), 2);
    let next = envelope(&mut receipts, 43);
    let (status, _) = receiver.post(
        &webhook_id(1, 43, 43),
        &batch(&[(43, &next)]),
        Signer::V1(SECRET),
        now_s(),
    );
    assert_eq!(status, 200);
    assert_eq!(receiver.settled_lines("receipts.jsonl").len(), 3);
    assert!(receiver.terminate().success());
    assert!(
        receiver
            .log()
            .contains("type=receipt.issued receipts=1 status=200 verdict=recorded"),
        "{}",
        receiver.log()
    );
}

#[test]
fn bad_signatures_forged_receipts_and_malformed_bodies_are_refused_and_not_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let mut receipts = ReceiptSigner::from_secret(&[5; 32]);
    let receiver = Receiver::start(
        0,
        &out,
        &[
            "--secret",
            SECRET,
            "--receipt-key",
            &receipt_key(&receipts),
            "--max-body-bytes",
            "8192",
        ],
    );
    let genuine = envelope(&mut receipts, 7);
    let body = batch(&[(7, &genuine)]);
    let id = webhook_id(1, 7, 7);

    let (status, text) = receiver.post(&id, &body, Signer::V1(OTHER_SECRET), now_s());
    assert_eq!(
        (status, text.trim()),
        (401, "no signature matches a trusted key")
    );
    let (status, text) = receiver.post(&id, &body, Signer::V1(SECRET), now_s() - 3600);
    assert_eq!(status, 401);
    assert!(text.contains("s old"), "{text}");
    let (status, text) = receiver.post(&id, &body, Signer::None, now_s());
    assert_eq!(
        (status, text.trim()),
        (401, "missing `webhook-signature` header")
    );
    // A body changed after signing.
    let changed = String::from_utf8(body.clone())
        .expect("utf-8")
        .replace("\"seq\":7", "\"seq\":8");
    let headers = signed(&id, &body, Signer::V1(SECRET), now_s());
    let (status, _) = receiver.post_with(&headers, changed.as_bytes());
    assert_eq!(status, 401);

    // Correctly signed webhooks carrying receipts that do not hold.
    let mut tampered = tf_receipts::Envelope::from_json(&genuine).expect("envelope");
    tampered.payload = String::from_utf8(tampered.payload)
        .expect("json")
        .replace("\"valid\"", "\"invalid\"")
        .into_bytes();
    let forged_id = webhook_id(1, 7, 8);
    let second = envelope(&mut receipts, 8);
    let forged = batch(&[(8, &second), (7, &tampered.to_json())]);
    let (status, text) = receiver.post(&forged_id, &forged, Signer::V1(SECRET), now_s());
    assert_eq!(status, 422, "{text}");
    assert!(text.starts_with("receipts[1] (seq 7)"), "{text}");
    let kept: Value = serde_json::from_slice(
        &std::fs::read(out.join("rejected").join(format!("{forged_id}.json"))).expect("kept aside"),
    )
    .expect("json");
    assert_eq!(kept["reason"].as_str(), Some(text.trim()));
    assert_eq!(kept["body"].as_str().map(str::as_bytes), Some(&forged[..]));
    let foreign = envelope(&mut ReceiptSigner::from_secret(&[6; 32]), 7);
    let (status, _) = receiver.post(&id, &batch(&[(7, &foreign)]), Signer::V1(SECRET), now_s());
    assert_eq!(status, 422);
    let (status, text) = receiver.post(&id, &batch(&[(9, &genuine)]), Signer::V1(SECRET), now_s());
    assert_eq!(status, 422);
    assert!(text.contains("listed as seq 9"), "{text}");

    let (status, _) = receiver.post(
        &id,
        b"{\"type\": \"receipt.issued\"",
        Signer::V1(SECRET),
        now_s(),
    );
    assert_eq!(status, 400);
    let big = vec![b' '; 9000];
    let (status, _) = receiver.post(&id, &big, Signer::V1(SECRET), now_s());
    assert_eq!(status, 413);

    assert_eq!(
        receiver.settled_lines("messages.jsonl").len(),
        0,
        "{}",
        receiver.log()
    );
    assert_eq!(receiver.settled_lines("receipts.jsonl").len(), 0);

    // Refusals do not poison the id: the genuine message is recorded after them.
    let (status, _) = receiver.post(&id, &body, Signer::V1(SECRET), now_s());
    assert_eq!(status, 200);
    assert_eq!(receiver.settled_lines("receipts.jsonl").len(), 1);
    assert!(
        receiver.log().contains("status=422 verdict=rejected"),
        "{}",
        receiver.log()
    );
}

#[test]
fn faults_answer_as_asked_and_record_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut receipts = ReceiptSigner::from_secret(&[5; 32]);
    let key = receipt_key(&receipts);
    let body = batch(&[(1, &envelope(&mut receipts, 1))]);
    let id = webhook_id(1, 1, 1);
    let common = ["--secret", SECRET, "--receipt-key", &key];

    let failing = Receiver::start(
        0,
        &dir.path().join("fail"),
        &[&common[..], &["--fail-percent", "100"]].concat(),
    );
    for _ in 0..3 {
        let (status, _) = failing.post(&id, &body, Signer::V1(SECRET), now_s());
        assert_eq!(status, 500);
    }
    assert_eq!(failing.settled_lines("messages.jsonl").len(), 0);
    assert_eq!(failing.settled_lines("receipts.jsonl").len(), 0);

    let throttling = Receiver::start(
        0,
        &dir.path().join("throttle"),
        &[
            &common[..],
            &["--throttle-percent", "100", "--retry-after", "7"],
        ]
        .concat(),
    );
    let headers = signed(&id, &body, Signer::V1(SECRET), now_s());
    let (status, head, _) = throttling.post_with_head(&headers, &body);
    assert_eq!(status, 429);
    assert!(
        head.to_ascii_lowercase().contains("\r\nretry-after: 7"),
        "{head}"
    );
    assert_eq!(throttling.settled_lines("messages.jsonl").len(), 0);

    let hanging = Receiver::start(
        0,
        &dir.path().join("hang"),
        &[&common[..], &["--hang-percent", "100", "--hang-s", "1"]].concat(),
    );
    let (status, _) = hanging.post(&id, &body, Signer::V1(SECRET), now_s());
    assert_eq!(status, 500);
    assert_eq!(hanging.settled_lines("messages.jsonl").len(), 0);

    // SIGTERM while a request is held for a minute: the receiver still exits 0.
    let mut held = Receiver::start(
        0,
        &dir.path().join("held"),
        &[&common[..], &["--hang-percent", "100"]].concat(),
    );
    let address = held.address();
    let mut stream = TcpStream::connect(address).expect("receiver accepts");
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        .expect("request sent");
    let client = stream.local_addr().expect("local address");
    let request = std::thread::spawn(move || {
        // The connection is cut when the receiver stops; any answer, or none, will do.
        let _ = stream.read_to_end(&mut Vec::new());
    });
    server::wait_for(
        "the receiver to read the request it holds",
        Duration::from_secs(30),
        || read_by_peer(client, address),
        || held.log(),
    );
    let status = held.terminate();
    assert!(status.success(), "{status}: {}", held.log());
    request.join().expect("request thread ends");
}

/// Whether every byte `client` sent over its TCP connection to `peer` was acknowledged and
/// read by the process at `peer`: no byte unacknowledged on the client's socket, and none
/// unread on the peer's (the queues of both ends, in /proc/net/tcp).
fn read_by_peer(client: SocketAddr, peer: SocketAddr) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp readable");
    // Each line: slot, local and remote address as hex IP:port, state, tx_queue:rx_queue, ...
    let queues = |local: SocketAddr, remote: SocketAddr| {
        table.lines().skip(1).find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port = |field: &str| {
                field
                    .rsplit_once(':')
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            };
            let (tx, rx) = fields.get(4)?.split_once(':')?;
            let hex = |v: &str| u64::from_str_radix(v, 16).ok();
            let ends = (port(fields.get(1)?)?, port(fields.get(2)?)?);
            (ends == (local.port(), remote.port())).then(|| (hex(tx), hex(rx)))
        })
    };
    matches!(queues(client, peer), Some((Some(0), _)))
        && matches!(queues(peer, client), Some((_, Some(0))))
}

#[test]
fn refuses_to_start_without_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let out = out.to_str().expect("utf-8");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_appliance"))
            .args([
                "webhooks",
                "receive",
                "--listen",
                "127.0.0.1:0",
                "--out",
                out,
            ])
            .args(args)
            .output()
            .expect("appliance runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let key = receipt_key(&ReceiptSigner::from_secret(&[5; 32]));
    let (code, stderr) = run(&["--receipt-key", &key]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--secret") && stderr.contains("--public-key"),
        "{stderr}"
    );
    let (code, stderr) = run(&["--secret", "whpk_not-a-secret", "--receipt-key", &key]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("whsec_"), "{stderr}");
    let missing = dir.path().join("no-state");
    let (code, stderr) = run(&[
        "--secret",
        SECRET,
        "--state-dir",
        missing.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--receipt-key"), "{stderr}");
}

/// Posting a signed message to the receiver under test.
trait SignedPost {
    /// POSTs `body` as message `id`, signed by `signer` at `timestamp_s`; the status and the
    /// answer's body.
    fn post(&self, id: &str, body: &[u8], signer: Signer<'_>, timestamp_s: u64) -> (u16, String);
}

impl SignedPost for Receiver {
    fn post(&self, id: &str, body: &[u8], signer: Signer<'_>, timestamp_s: u64) -> (u16, String) {
        self.post_with(&signed(id, body, signer, timestamp_s), body)
    }
}

/// How a test message is signed.
#[derive(Clone, Copy)]
enum Signer<'a> {
    V1(&'a str),
    V1a(&'a SigningKey),
    /// No `webhook-signature` header at all.
    None,
}

fn signed(id: &str, body: &[u8], signer: Signer<'_>, timestamp_s: u64) -> Vec<(String, String)> {
    let mut headers = vec![
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp_s.to_string()),
    ];
    let signature = match signer {
        Signer::V1(secret) => {
            let secret = WebhookSecret::parse(secret).expect("a test secret");
            sign_v1(&secret, id, timestamp_s, body)
        }
        Signer::V1a(key) => sign_v1a(key, id, timestamp_s, body),
        Signer::None => return headers,
    };
    headers.push((
        "webhook-signature".to_owned(),
        signature_header(&[signature]),
    ));
    headers
}

/// A `receipt.issued` body, each receipt's log index 1000 past its sequence number.
fn batch(entries: &[(u64, &str)]) -> Vec<u8> {
    let entries: Vec<ReceiptEntry<'_>> = entries
        .iter()
        .map(|&(seq, envelope)| ReceiptEntry {
            seq,
            log_index: Some(seq + 1000),
            envelope,
        })
        .collect();
    receipt_issued_body(1_763_900_000_000_000, &entries)
}

/// A receipt for ledger sequence `seq`, as the appliance issues it (pretty DSSE JSON).
fn envelope(signer: &mut ReceiptSigner, seq: u64) -> String {
    let receipt = sample_receipt(signer, seq);
    signer.sign(receipt).to_json()
}

fn receipt_key(signer: &ReceiptSigner) -> String {
    hex::encode(signer.public_key().as_bytes())
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}
