//! The outbox against a real ledger file and a real HTTP receiver on loopback: receipts
//! committed after an endpoint is added arrive once each, in order, signed both ways; a
//! receiver that fails is retried on the ladder until it acknowledges; pausing holds
//! deliveries; every acknowledgement is stored with the answer's digest.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr};
use ed25519_dalek::SigningKey;
use tf_ledger::{SqliteLedger, WebhookOutbox};
use tf_seam::Board;
use tf_webhook_client::PostLimits;
use tf_webhooks::{
    DEFAULT_TOLERANCE_S, EndpointSettings, EventType, Scheme, VerifierKey, WebhookHeaders,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::follow::append;
use crate::webhooks::{
    AddEndpoint, Asker, ChangeEndpoint, EndpointAction, Outbox, OutboxPlan, SecretStore,
    WebhooksHandle,
};

/// One request as the receiver got it.
#[derive(Clone, Debug)]
struct Received {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A receiver on loopback that records each request and answers `status(request number)`.
async fn receiver(status: fn(usize) -> u16) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let record = Arc::clone(&got);
    actix::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            let record = Arc::clone(&record);
            let count = Arc::clone(&count);
            actix::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    let mut headers = BTreeMap::new();
                    loop {
                        let mut line = String::new();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.trim_end().split_once(": ") {
                            headers.insert(name.to_ascii_lowercase(), value.to_owned());
                        }
                    }
                    let length = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await.expect("body");
                    let number = count.fetch_add(1, Ordering::SeqCst);
                    record
                        .lock()
                        .expect("lock")
                        .push(Received { headers, body });
                    let answer = format!(
                        "HTTP/1.1 {} X\r\ncontent-length: 2\r\n\r\nok",
                        status(number)
                    );
                    stream
                        .get_mut()
                        .write_all(answer.as_bytes())
                        .await
                        .expect("answer");
                }
            });
        }
    });
    (port, got)
}

fn settings() -> EndpointSettings {
    EndpointSettings {
        events: vec![EventType::ReceiptIssued],
        tenants: None,
        schemes: vec![Scheme::V1, Scheme::V1a],
        rate_per_s: 100,
        batch_max: 4,
        local: true,
        description: "test receiver".into(),
    }
}

fn asker() -> Asker {
    Asker {
        actor: "auditor".into(),
        reason: "test".into(),
    }
}

struct Setup {
    dir: tempfile::TempDir,
    board: Arc<Board>,
    key: Arc<SigningKey>,
}

impl Setup {
    fn new() -> Self {
        Setup {
            dir: tempfile::tempdir().expect("tempdir"),
            board: Arc::new(Board::new(1)),
            key: Arc::new(SigningKey::from_bytes(&[9; 32])),
        }
    }

    fn ledger_path(&self) -> std::path::PathBuf {
        self.dir.path().join("ledger.sqlite")
    }

    fn outbox(&self) -> Addr<Outbox> {
        Outbox::new(OutboxPlan {
            ledger: Box::new(SqliteLedger::open(&self.ledger_path()).expect("outbox ledger")),
            board: Arc::clone(&self.board),
            secrets: SecretStore::at(&self.dir.path().join("webhooks")),
            key: Arc::clone(&self.key),
            tls: tf_webhook_client::client_config(None).expect("roots"),
            limits: PostLimits {
                timeout: Duration::from_secs(5),
                max_answer_bytes: 1024,
            },
            window: 2,
            status: WebhooksHandle::default(),
        })
        .start()
    }
}

/// Waits until `check` holds, polling.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..1_000 {
        if check() {
            return;
        }
        actix::clock::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen");
}

/// The receipts' sequence numbers a delivery carries, after checking its signatures both
/// ways.
fn checked_seqs(received: &Received, keys: &[VerifierKey]) -> Vec<u64> {
    let headers = WebhookHeaders {
        id: received.headers.get("webhook-id").map(String::as_str),
        timestamp: received
            .headers
            .get("webhook-timestamp")
            .map(String::as_str),
        signature: received
            .headers
            .get("webhook-signature")
            .map(String::as_str),
    };
    let now_s = tf_seam::clock::unix_micros() / 1_000_000;
    for key in keys {
        tf_webhooks::verify(
            &headers,
            &received.body,
            std::slice::from_ref(key),
            now_s,
            DEFAULT_TOLERANCE_S,
        )
        .expect("signed under each key");
    }
    let body: serde_json::Value = serde_json::from_slice(&received.body).expect("JSON");
    assert_eq!(body["type"], "receipt.issued");
    body["data"]["receipts"]
        .as_array()
        .expect("receipts")
        .iter()
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect()
}

#[test]
fn receipts_arrive_once_each_in_order_signed_both_ways_and_acknowledged() {
    let setup = Setup::new();
    let mut ledger = SqliteLedger::open(&setup.ledger_path()).expect("ledger");
    append(&mut ledger, &setup.board, 3);
    let system = actix::System::new();
    let (secret, got, id) = system.block_on(async {
        let (port, got) = receiver(|_| 200).await;
        let outbox = setup.outbox();
        let (id, secret) = outbox
            .send(AddEndpoint {
                url: format!("http://127.0.0.1:{port}/hooks"),
                settings: settings(),
                asker: asker(),
            })
            .await
            .expect("answers")
            .expect("added");
        // Owed only what is committed after it was added: 4 to 13.
        append(&mut ledger, &setup.board, 10);
        let seen = Arc::clone(&got);
        eventually("13 acknowledged", || {
            seen.lock()
                .expect("lock")
                .iter()
                .flat_map(|r| checked_seqs(r, &[]))
                .max()
                == Some(13)
        })
        .await;
        (secret, got, id)
    });
    let got = got.lock().expect("lock").clone();
    let keys = [
        VerifierKey::from(secret),
        VerifierKey::from(tf_webhooks::WebhookPublicKey::from(
            setup.key.verifying_key(),
        )),
    ];
    let seqs: Vec<u64> = got.iter().flat_map(|r| checked_seqs(r, &keys)).collect();
    assert_eq!(seqs, (4..=13).collect::<Vec<_>>(), "once each, in order");
    assert!(
        got.iter().all(|r| checked_seqs(r, &[]).len() <= 4),
        "batches of at most 4"
    );
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    assert_eq!(ids[0], format!("msg_receipts_{id}_4_7"));

    let ledger = SqliteLedger::open(&setup.ledger_path()).expect("ledger");
    let stored = ledger.messages(id, None, 100).expect("messages");
    assert_eq!(stored.len(), got.len());
    assert!(
        stored
            .iter()
            .all(|m| m.acked_us.is_some() && m.body.is_none())
    );
    let expected_digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"200\nok").into();
    assert!(stored.iter().all(|m| m.ack_sha256 == Some(expected_digest)));
}

#[test]
fn a_failing_receiver_is_retried_with_the_same_id_until_it_acknowledges() {
    let setup = Setup::new();
    let mut ledger = SqliteLedger::open(&setup.ledger_path()).expect("ledger");
    let system = actix::System::new();
    let got = system.block_on(async {
        // 503, 500, then 200: two retries on the ladder's first rungs (1 s, 3 s, jittered).
        let (port, got) = receiver(|n| match n {
            0 => 503,
            1 => 500,
            _ => 200,
        })
        .await;
        let outbox = setup.outbox();
        outbox
            .send(AddEndpoint {
                url: format!("http://127.0.0.1:{port}/"),
                settings: EndpointSettings {
                    batch_max: 100,
                    ..settings()
                },
                asker: asker(),
            })
            .await
            .expect("answers")
            .expect("added");
        append(&mut ledger, &setup.board, 5);
        let seen = Arc::clone(&got);
        eventually("the third attempt", || {
            seen.lock().expect("lock").len() >= 3
        })
        .await;
        actix::clock::sleep(Duration::from_millis(100)).await;
        got
    });
    let got = got.lock().expect("lock").clone();
    assert_eq!(
        got.len(),
        3,
        "acknowledged on the third attempt, then nothing more"
    );
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body each time"
    );
    let stored = SqliteLedger::open(&setup.ledger_path())
        .expect("ledger")
        .messages(1, None, 10)
        .expect("messages");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].attempts, 3);
    assert_eq!(stored[0].last_failure.as_deref(), Some("status 500"));
    assert!(stored[0].acked_us.is_some());
}

#[test]
fn a_paused_endpoint_gets_nothing_until_resumed() {
    let setup = Setup::new();
    let mut ledger = SqliteLedger::open(&setup.ledger_path()).expect("ledger");
    let system = actix::System::new();
    system.block_on(async {
        let (port, got) = receiver(|_| 200).await;
        let outbox = setup.outbox();
        let (id, _) = outbox
            .send(AddEndpoint {
                url: format!("http://127.0.0.1:{port}/"),
                settings: settings(),
                asker: asker(),
            })
            .await
            .expect("answers")
            .expect("added");
        let change = |action| ChangeEndpoint {
            id,
            action,
            asker: asker(),
        };
        outbox
            .send(change(EndpointAction::Pause))
            .await
            .expect("answers")
            .expect("paused");
        append(&mut ledger, &setup.board, 3);
        actix::clock::sleep(Duration::from_millis(300)).await;
        assert!(got.lock().expect("lock").is_empty(), "nothing while paused");
        outbox
            .send(change(EndpointAction::Resume))
            .await
            .expect("answers")
            .expect("resumed");
        let seen = Arc::clone(&got);
        eventually("delivered after resuming", || {
            !seen.lock().expect("lock").is_empty()
        })
        .await;
        let refused = outbox
            .send(change(EndpointAction::Resume))
            .await
            .expect("answers");
        assert!(refused.is_err(), "resuming an active endpoint is refused");
    });
}

#[test]
fn alarms_go_to_endpoints_without_a_tenant_list_and_only_as_alarm_types() {
    let alarm = |seq: u64, kind: &str| tf_ledger::ControlEvent {
        seq,
        at_us: 1_700_000_000_000_000,
        kind: kind.to_owned(),
        body: r#"{"pack":"drop-globex","failed":[{"what":"globex never denied"}]}"#.to_owned(),
    };
    let alarms = [alarm(1, "scenario.failed"), alarm(2, "bundle.promoted")];
    let everyone = EndpointSettings {
        events: vec![EventType::ScenarioFailed, EventType::BundlePromoted],
        ..settings()
    };
    let composed = crate::webhooks::compose_events(7, &everyone, &alarms);
    // The alarm, with its id naming the control event; the other kind is not an alarm's.
    assert_eq!(composed.len(), 1);
    assert_eq!(composed[0].id, "msg_scenario_7_1");
    assert_eq!(composed[0].event, EventType::ScenarioFailed);
    let body: serde_json::Value = serde_json::from_slice(&composed[0].body).expect("JSON");
    assert_eq!(body["type"], "scenario.failed");
    assert_eq!(body["data"]["pack"], "drop-globex");
    // An endpoint that sees only acme's receipts does not see alarms naming other tenants.
    let acme_only = EndpointSettings {
        tenants: Some(vec!["acme".into()]),
        ..everyone
    };
    assert!(crate::webhooks::compose_events(7, &acme_only, &alarms).is_empty());
}
