//! Attempts against real loopback receivers (plain and TLS): answers and their digests,
//! Retry-After, kept-alive connections, deadlines, and the destination check.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tf_webhook_client::{Destination, PostLimits, Session, client_config};
use tf_webhooks::TransportFailure;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const LIMITS: PostLimits = PostLimits {
    timeout: Duration::from_secs(2),
    max_answer_bytes: 64,
};

/// What a test receiver answers: the whole HTTP response to write, or nothing (hang).
type Script = Arc<dyn Fn(usize, &str) -> Option<String> + Send + Sync>;

/// Serves connections on loopback, answering each request by `script(request number, head)`;
/// returns the port and the count of connections accepted.
async fn receiver(
    script: Script,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::clone(&connections);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            accepted.fetch_add(1, Ordering::SeqCst);
            let script = Arc::clone(&script);
            let requests = Arc::clone(&requests);
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        let Ok(secured) = acceptor.accept(stream).await else {
                            return;
                        };
                        serve(secured, script, requests).await;
                    }
                    None => serve(stream, script, requests).await,
                }
            });
        }
    });
    (port, connections)
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    script: Script,
    requests: Arc<AtomicUsize>,
) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.expect("body");
        let number = requests.fetch_add(1, Ordering::SeqCst);
        match script(number, &head) {
            Some(answer) => {
                stream
                    .get_mut()
                    .write_all(answer.as_bytes())
                    .await
                    .expect("answer");
                stream.get_mut().flush().await.expect("flush");
            }
            None => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return;
            }
        }
    }
}

fn answer(status: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

fn digest(status: u16, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(format!("{status:03}\n"));
    hasher.update(body);
    hasher.finalize().into()
}

fn headers() -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", "msg_receipts_1_5_9".to_owned()),
        ("webhook-timestamp", "1700000000".to_owned()),
        ("webhook-signature", "v1,abc".to_owned()),
    ]
}

fn local_session(port: u16) -> Session {
    let destination =
        Destination::parse(&format!("http://127.0.0.1:{port}/hooks"), true).expect("url");
    Session::new(
        destination,
        true,
        client_config(None).expect("roots"),
        LIMITS,
    )
}

#[tokio::test(flavor = "current_thread")]
async fn answers_are_read_and_hashed_and_the_connection_is_kept() {
    let seen: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let heads = Arc::clone(&seen);
    let script: Script = Arc::new(move |number, head| {
        heads.lock().expect("lock").push(head.to_owned());
        Some(match number {
            0 => answer("200 OK", "", "thanks"),
            1 => answer("429 Too Many Requests", "retry-after: 7\r\n", ""),
            _ => answer("204 No Content", "", ""),
        })
    });
    let (port, connections) = receiver(script, None).await;
    let mut session = local_session(port);
    let first = session
        .post(&headers(), Bytes::from_static(b"{\"a\":1}"))
        .await
        .expect("answer");
    assert_eq!(first.status, 200);
    assert_eq!(first.sha256, digest(200, b"thanks"));
    let second = session
        .post(&headers(), Bytes::from_static(b"{}"))
        .await
        .expect("answer");
    assert_eq!(
        (second.status, second.retry_after.as_deref()),
        (429, Some("7"))
    );
    let third = session
        .post(&headers(), Bytes::from_static(b"{}"))
        .await
        .expect("answer");
    assert_eq!(third.status, 204);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );
    let heads = seen.lock().expect("lock");
    assert!(
        heads[0].starts_with("POST /hooks HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    for expected in [
        "webhook-id: msg_receipts_1_5_9",
        "webhook-signature: v1,abc",
        "content-type: application/json",
        &format!("host: 127.0.0.1:{port}"),
    ] {
        assert!(
            heads[0]
                .to_ascii_lowercase()
                .contains(&expected.to_ascii_lowercase()),
            "{expected} in {}",
            heads[0]
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_long_answer_is_hashed_as_far_as_read_and_redirects_are_answers() {
    let long = "x".repeat(1000);
    let body = long.clone();
    let script: Script = Arc::new(move |number, _| {
        Some(match number {
            0 => answer("200 OK", "", &body),
            _ => answer(
                "301 Moved Permanently",
                "location: http://169.254.169.254/\r\n",
                "",
            ),
        })
    });
    let (port, connections) = receiver(script, None).await;
    let mut session = local_session(port);
    let first = session
        .post(&headers(), Bytes::new())
        .await
        .expect("answer");
    assert_eq!(first.sha256, digest(200, &long.as_bytes()[..64]));
    let second = session
        .post(&headers(), Bytes::new())
        .await
        .expect("answer");
    assert_eq!(second.status, 301, "not followed");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "the unread answer's connection was dropped"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_hanging_receiver_times_out_and_a_closed_port_fails_to_connect() {
    let (port, _) = receiver(Arc::new(|_, _| None), None).await;
    let mut session = local_session(port);
    let failure = session
        .post(&headers(), Bytes::new())
        .await
        .expect_err("hangs");
    assert_eq!(failure.kind, TransportFailure::Timeout);

    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let failure = local_session(port)
        .post(&headers(), Bytes::new())
        .await
        .expect_err("closed");
    assert_eq!(failure.kind, TransportFailure::Connect);
}

#[tokio::test(flavor = "current_thread")]
async fn loopback_is_refused_unless_the_endpoint_is_local() {
    let script: Script = Arc::new(|_, _| Some(answer("200 OK", "", "")));
    let (port, connections) = receiver(script, None).await;
    // `https` because a non-local endpoint may only be https; the check comes first.
    let destination =
        Destination::parse(&format!("https://localhost:{port}/"), false).expect("url");
    let mut session = Session::new(
        destination,
        false,
        client_config(None).expect("roots"),
        LIMITS,
    );
    let failure = session
        .post(&headers(), Bytes::new())
        .await
        .expect_err("refused");
    assert_eq!(failure.kind, TransportFailure::Destination, "{failure}");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "never connected");
}

#[tokio::test(flavor = "current_thread")]
async fn tls_is_checked_against_the_added_ca() {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf");
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(leaf.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    )
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let script: Script = Arc::new(|_, _| Some(answer("200 OK", "", "ok")));
    let (port, _) = receiver(script, Some(acceptor)).await;
    let url = format!("https://localhost:{port}/hooks");

    let trusted = client_config(Some(ca.pem().as_bytes())).expect("with the CA");
    let mut session = Session::new(
        Destination::parse(&url, true).expect("url"),
        true,
        trusted,
        LIMITS,
    );
    let answer = session
        .post(&headers(), Bytes::new())
        .await
        .expect("over TLS");
    assert_eq!(answer.status, 200);

    let untrusted = client_config(None).expect("system roots only");
    let mut session = Session::new(
        Destination::parse(&url, true).expect("url"),
        true,
        untrusted,
        LIMITS,
    );
    let failure = session
        .post(&headers(), Bytes::new())
        .await
        .expect_err("unknown CA");
    assert_eq!(failure.kind, TransportFailure::Tls, "{failure}");
}
