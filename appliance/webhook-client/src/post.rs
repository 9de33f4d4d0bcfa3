//! One delivery attempt: a `POST` to the endpoint over a connection the session keeps alive
//! between messages, within one deadline for everything (resolving, connecting, TLS, the
//! request and reading the answer). Redirects are never followed: they are answers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{Builder, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, RETRY_AFTER, USER_AGENT};
use hyper::{Request, rt};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use sha2::{Digest, Sha256};
use tf_webhooks::TransportFailure;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::destination::{Destination, address_allowed};

/// The most of an answer's body read by default: enough for any acknowledgement a receiver
/// means to be kept as the auditor reference.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How attempts are made.
#[derive(Clone, Copy, Debug)]
pub struct PostLimits {
    /// The deadline for a whole attempt.
    pub timeout: Duration,
    /// The most of an answer's body read (and hashed); the rest is not read.
    pub max_answer_bytes: usize,
}

/// The receiver's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header, if sent.
    pub retry_after: Option<String>,
    /// SHA-256 of the status as three digits and a newline, then the body as read: what the
    /// appliance keeps as the receiver's reference for an acknowledgement.
    pub sha256: [u8; 32],
}

/// An attempt that produced no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Failure {
    /// What kind of failure, for the retry decision and metrics.
    pub kind: TransportFailure,
    /// What happened, for people.
    pub detail: String,
}

impl Failure {
    fn new(kind: TransportFailure, detail: impl Into<String>) -> Self {
        Failure {
            kind,
            detail: detail.into(),
        }
    }
}

/// One endpoint's deliveries: its destination, and the connection kept between attempts.
pub struct Session {
    destination: Destination,
    local: bool,
    tls: Arc<ClientConfig>,
    limits: PostLimits,
    connection: Option<SendRequest<Full<Bytes>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("destination", &self.destination)
            .field("local", &self.local)
            .field("connected", &self.connection.is_some())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session for `destination` (`local`: an SRE allowed private addresses).
    pub fn new(
        destination: Destination,
        local: bool,
        tls: Arc<ClientConfig>,
        limits: PostLimits,
    ) -> Self {
        Session {
            destination,
            local,
            tls,
            limits,
            connection: None,
        }
    }

    /// Posts `body` (JSON) with `headers` (the webhook's id, timestamp and signatures).
    pub async fn post(
        &mut self,
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> Result<Answer, Failure> {
        let attempt = attempt(
            &mut self.connection,
            &self.destination,
            self.local,
            &self.tls,
            self.limits.max_answer_bytes,
            headers,
            body,
        );
        match tokio::time::timeout(self.limits.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => {
                // Whatever the connection was doing, it is abandoned.
                self.connection = None;
                Err(Failure::new(
                    TransportFailure::Timeout,
                    format!("no answer within {:?}", self.limits.timeout),
                ))
            }
        }
    }
}

async fn attempt(
    connection: &mut Option<SendRequest<Full<Bytes>>>,
    destination: &Destination,
    local: bool,
    tls: &Arc<ClientConfig>,
    max_answer_bytes: usize,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<Answer, Failure> {
    let kept = match connection.take() {
        Some(mut kept) if !kept.is_closed() => kept.ready().await.is_ok().then_some(kept),
        _ => None,
    };
    let mut sender = match kept {
        Some(kept) => kept,
        None => connect(destination, local, tls).await?,
    };
    let mut request = Request::post(destination.path_and_query.as_str())
        .header(HOST, destination.authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .header(
            USER_AGENT,
            concat!("trust-fabric/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| Failure::new(TransportFailure::Connect, format!("request: {e}")))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| Failure::new(TransportFailure::Connect, format!("sending: {e}")))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut hasher = Sha256::new();
    hasher.update(format!("{status:03}\n"));
    let mut answer = response.into_body();
    let mut read = 0usize;
    let mut whole = true;
    while let Some(frame) = answer.frame().await {
        let frame =
            frame.map_err(|e| Failure::new(TransportFailure::Connect, format!("answer: {e}")))?;
        if let Some(data) = frame.data_ref() {
            let take = data.len().min(max_answer_bytes - read);
            hasher.update(&data[..take]);
            read += take;
            if take < data.len() || read == max_answer_bytes {
                whole = false;
                break;
            }
        }
    }
    // A connection is reused only after its answer was read to the end.
    if whole {
        *connection = Some(sender);
    }
    Ok(Answer {
        status,
        retry_after,
        sha256: hasher.finalize().into(),
    })
}

/// Resolves the host, keeps the addresses allowed, and connects to the first that answers.
async fn connect(
    destination: &Destination,
    local: bool,
    tls: &Arc<ClientConfig>,
) -> Result<SendRequest<Full<Bytes>>, Failure> {
    let host = destination.host.as_str();
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, destination.port))
        .await
        .map_err(|e| Failure::new(TransportFailure::Connect, format!("resolving {host}: {e}")))?
        .collect();
    let allowed: Vec<SocketAddr> = resolved
        .iter()
        .copied()
        .filter(|address| address_allowed(address.ip(), local))
        .collect();
    if allowed.is_empty() {
        return Err(Failure::new(
            TransportFailure::Destination,
            format!(
                "{host} resolves only to addresses that are not public ({resolved:?}); an SRE \
                 can mark the endpoint local"
            ),
        ));
    }
    let mut last_error = None;
    let mut stream = None;
    for address in &allowed {
        match TcpStream::connect(address).await {
            Ok(connected) => {
                stream = Some(connected);
                break;
            }
            Err(e) => last_error = Some(format!("{address}: {e}")),
        }
    }
    let Some(stream) = stream else {
        return Err(Failure::new(
            TransportFailure::Connect,
            format!("connecting to {host}: {}", last_error.unwrap_or_default()),
        ));
    };
    // Messages are small and each waits for its answer: send at once.
    let _ = stream.set_nodelay(true);
    if !destination.https {
        return handshake(TokioIo::new(stream)).await;
    }
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| Failure::new(TransportFailure::Tls, format!("{host}: {e}")))?;
    let secured = TlsConnector::from(Arc::clone(tls))
        .connect(name, stream)
        .await
        .map_err(|e| Failure::new(TransportFailure::Tls, format!("TLS with {host}: {e}")))?;
    handshake(TokioIo::new(secured)).await
}

async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, Failure>
where
    T: rt::Read + rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = Builder::new()
        .handshake(io)
        .await
        .map_err(|e| Failure::new(TransportFailure::Connect, format!("HTTP/1.1: {e}")))?;
    // The connection runs beside the session until either side closes it.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}
