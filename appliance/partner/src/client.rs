//! The QUIC client: one connection per `Partner`, one bidirectional stream per request.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quinn::crypto::rustls::QuicClientConfig;
use rustls::pki_types::CertificateDer;
use tf_engine::KeyId;
use tf_wire::{
    About, AboutQuery, BudgetQuery, CapState, Curve, DatasetClass, ErrorCode, FrameDecoder,
    LogProofQuery, Message, RegisterKey, Statement, Submit, VerdictReply, WireLimits,
};

use crate::{ApplianceAddress, LogProofAnswer, PartnerConfig, PartnerError, formats};

/// How often an otherwise quiet connection pings the appliance: well inside the appliance's
/// idle timeout (`server.idle_timeout_ms`, 30 s by default).
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// How long each further address of a name waits after the one before it starts connecting.
const STAGGER: Duration = Duration::from_millis(250);

/// Largest answer accepted (a verdict with its receipt is about 1 KiB).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A connection to an appliance as one tenant.
#[derive(Debug)]
pub struct Partner {
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    next_request_id: AtomicU64,
    timeout: Duration,
}

/// What to verify and under which purpose and dataset class.
#[derive(Clone, Debug)]
pub struct Submission {
    /// Why the data is processed (budgets are per purpose).
    pub purpose: String,
    /// The data's sensitivity class.
    pub dataset_class: DatasetClass,
    /// The statement.
    pub statement: Statement,
}

impl Partner {
    /// Connects and completes the TLS handshake with the tenant's client certificate. A name
    /// that resolves to several addresses (`localhost`: `::1` and `127.0.0.1`) is tried at
    /// each, a quarter second apart and racing (as browsers do, RFC 8305): an address where
    /// nothing listens stays silent over QUIC, and must not hold up one that answers.
    pub async fn connect(config: &PartnerConfig) -> Result<Self, PartnerError> {
        let client_config = client_config(config)?;
        Self::connect_with(
            &config.address,
            &config.server_name,
            config.request_timeout,
            client_config,
        )
        .await
    }

    /// [`Partner::connect`] with the QUIC and TLS settings given (onboarding pins a CA and
    /// presents no certificate); `timeout` bounds the handshake and each answer.
    pub(crate) async fn connect_with(
        address: &ApplianceAddress,
        server_name: &str,
        timeout: Duration,
        client_config: quinn::ClientConfig,
    ) -> Result<Self, PartnerError> {
        let addresses = address.resolve().await?;
        let mut attempts = tokio::task::JoinSet::new();
        for (nth, socket) in addresses.into_iter().enumerate() {
            let (server_name, client_config) = (server_name.to_owned(), client_config.clone());
            attempts.spawn(async move {
                tokio::time::sleep(STAGGER * nth as u32).await;
                Self::connect_to(socket, &server_name, timeout, client_config).await
            });
        }
        let mut failed: Option<PartnerError> = None;
        while let Some(attempt) = attempts.join_next().await {
            match attempt {
                Ok(Ok(partner)) => return Ok(partner),
                // Nothing answered there: another address may.
                Ok(Err(error @ PartnerError::Connect { .. })) => failed = Some(error),
                // The appliance answered (a refused certificate, one not trusted here).
                Ok(Err(error)) => return Err(error),
                Err(join) => {
                    failed = Some(PartnerError::Connect {
                        address: address.to_string(),
                        reason: join.to_string(),
                    })
                }
            }
        }
        Err(failed.unwrap_or_else(|| PartnerError::Connect {
            address: address.to_string(),
            reason: "no address".into(),
        }))
    }

    async fn connect_to(
        address: SocketAddr,
        server_name: &str,
        timeout: Duration,
        client_config: quinn::ClientConfig,
    ) -> Result<Self, PartnerError> {
        let bind: SocketAddr = if address.is_ipv6() {
            "[::]:0".parse().expect("literal address")
        } else {
            "0.0.0.0:0".parse().expect("literal address")
        };
        let connect_error = |reason: String| PartnerError::Connect {
            address: address.to_string(),
            reason,
        };
        let mut endpoint =
            quinn::Endpoint::client(bind).map_err(|e| connect_error(e.to_string()))?;
        endpoint.set_default_client_config(client_config);
        let connecting = endpoint
            .connect(address, server_name)
            .map_err(|e| connect_error(e.to_string()))?;
        let connection = match tokio::time::timeout(timeout, connecting).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => {
                return Err(match PartnerError::from_connection(&error) {
                    PartnerError::ConnectionLost { reason } => connect_error(reason),
                    other => other,
                });
            }
            Err(_) => return Err(connect_error("no answer to the handshake".into())),
        };
        Ok(Partner {
            endpoint,
            connection,
            next_request_id: AtomicU64::new(1),
            timeout,
        })
    }

    /// The certificates the appliance presented in the handshake, its own first.
    pub(crate) fn peer_certificates(&self) -> Vec<CertificateDer<'static>> {
        self.connection
            .peer_identity()
            .and_then(|identity| identity.downcast::<Vec<CertificateDer<'static>>>().ok())
            .map(|certificates| *certificates)
            .unwrap_or_default()
    }

    /// Whether the connection is still open (neither side closed it, it did not time out).
    pub fn is_open(&self) -> bool {
        self.connection.close_reason().is_none()
    }

    /// A fresh request id for this connection.
    pub fn next_request_id(&self) -> u64 {
        self.next_request_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Submits a statement and waits for its verdict and receipt. Refusals (busy, unknown key,
    /// over budget, ...) are errors that say what to do.
    pub async fn submit(&self, submission: Submission) -> Result<VerdictReply, PartnerError> {
        let request_id = self.next_request_id();
        self.submit_with_id(request_id, submission).await
    }

    /// [`Partner::submit`] with a request id chosen by the caller.
    pub async fn submit_with_id(
        &self,
        request_id: u64,
        submission: Submission,
    ) -> Result<VerdictReply, PartnerError> {
        let message = Message::Submit(Submit {
            request_id,
            purpose: submission.purpose,
            dataset_class: submission.dataset_class,
            statement: submission.statement,
        });
        match self.request(&message).await? {
            Message::Verdict(reply) if reply.request_id == request_id => Ok(reply),
            other => Err(unexpected(other)),
        }
    }

    /// Registers a Groth16 verifying key (canonical compressed bytes); returns its key id.
    pub async fn register_key(&self, curve: Curve, key: Vec<u8>) -> Result<KeyId, PartnerError> {
        let request_id = self.next_request_id();
        let message = Message::RegisterKey(RegisterKey {
            request_id,
            curve,
            key,
        });
        match self.request(&message).await? {
            Message::KeyRegistered(done) if done.request_id == request_id => Ok(KeyId(done.key_id)),
            other => Err(unexpected(other)),
        }
    }

    /// The tenant's budget caps and where they stand (empty when it has none).
    pub async fn budgets(&self) -> Result<Vec<CapState>, PartnerError> {
        let request_id = self.next_request_id();
        let message = Message::BudgetQuery(BudgetQuery { request_id });
        match self.request(&message).await? {
            Message::BudgetStatus(status) if status.request_id == request_id => Ok(status.caps),
            other => Err(unexpected(other)),
        }
    }

    /// The inclusion proof of log entry `index` (a receipt's `ledger_seq`) under the log's
    /// latest checkpoint, unchecked: check it with [`crate::verify_inclusion`]. An entry beyond
    /// that checkpoint is [`PartnerError::NotInLogYet`], with when to ask again.
    pub async fn log_proof(&self, index: u64) -> Result<LogProofAnswer, PartnerError> {
        let request_id = self.next_request_id();
        let message = Message::LogProofQuery(LogProofQuery { request_id, index });
        match self.request(&message).await? {
            Message::LogProof(proof) if proof.request_id == request_id && proof.index == index => {
                Ok(LogProofAnswer::from(proof))
            }
            other => Err(unexpected(other)),
        }
    }

    /// The tenant this connection is authenticated as and the appliance's public keys (the
    /// receipt key, the log's verifier key): what checks receipts and log proofs when only the
    /// CA and this tenant's certificate are at hand. The TLS handshake vouches for the answer.
    pub async fn about(&self) -> Result<About, PartnerError> {
        let request_id = self.next_request_id();
        let message = Message::AboutQuery(AboutQuery { request_id });
        match self.request(&message).await? {
            Message::About(about) if about.request_id == request_id => Ok(about),
            other => Err(unexpected(other)),
        }
    }

    /// Registers a verifying key from a file (snarkjs `verification_key.json` or arkworks
    /// canonical bytes with `curve`).
    pub async fn register_key_file(&self, path: &Path) -> Result<KeyId, PartnerError> {
        let (curve, bytes) = formats::verifying_key_file(path, None)?;
        self.register_key(curve, bytes).await
    }

    /// Registers a verifying key given as snarkjs `verification_key.json` text.
    pub async fn register_key_json(&self, json: &str) -> Result<KeyId, PartnerError> {
        let (curve, bytes) =
            formats::verifying_key_json(json).map_err(|problem| PartnerError::Local {
                path: "verifying key JSON".into(),
                problem,
            })?;
        self.register_key(curve, bytes).await
    }

    /// Sends one message and returns the appliance's answer, turning error answers into
    /// [`PartnerError`]s.
    pub async fn request(&self, message: &Message) -> Result<Message, PartnerError> {
        let mut frame = Vec::new();
        tf_wire::encode(message, &mut frame).map_err(|e| PartnerError::Local {
            path: "request".into(),
            problem: e.to_string(),
        })?;
        match self.exchange(&frame).await? {
            Message::Error(error) => Err(from_code(error.code)),
            other => Ok(other),
        }
    }

    /// Sends raw bytes as one request and decodes the answer as it is, error answers included
    /// (for conformance tests and debugging).
    pub async fn exchange(&self, frame: &[u8]) -> Result<Message, PartnerError> {
        let work = async {
            let (mut send, mut recv) = self.connection.open_bi().await.map_err(|e| lost(&e))?;
            match send.write_all(frame).await {
                Ok(()) => {
                    let _ = send.finish();
                }
                // The appliance refused the frame from its header and stopped reading; its
                // answer says why.
                Err(quinn::WriteError::Stopped(_)) => {}
                Err(error) => return Err(write_error(error)),
            }
            let answer = recv
                .read_to_end(MAX_ANSWER_BYTES)
                .await
                .map_err(read_error)?;
            let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
            decoder
                .decode(&answer)
                .map(tf_wire::to_owned)
                .map_err(|e| PartnerError::Protocol {
                    detail: format!("the answer does not decode: {e}"),
                })
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(PartnerError::Timeout {
                seconds: self.timeout.as_secs(),
            }),
        }
    }

    /// Opens a bare request stream, for conformance tests that send a request in pieces (or
    /// never finish it) and read the answer themselves.
    pub async fn open_request_stream(
        &self,
    ) -> Result<(quinn::SendStream, quinn::RecvStream), PartnerError> {
        self.connection.open_bi().await.map_err(|e| lost(&e))
    }

    /// Closes the connection and waits until the appliance has been told.
    pub async fn close(self) {
        self.close_shared().await;
    }

    /// [`Partner::close`] for a connection others may still hold (a language binding's):
    /// their requests then fail as a lost connection.
    pub(crate) async fn close_shared(&self) {
        self.connection.close(0u32.into(), b"done");
        self.endpoint.wait_idle().await;
    }

    /// Waits until the connection ends and says why (for tests of refusals and shutdown).
    pub async fn closed(&self) -> PartnerError {
        PartnerError::from_connection(&self.connection.closed().await)
    }
}

fn client_config(config: &PartnerConfig) -> Result<quinn::ClientConfig, PartnerError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in &config.identity.ca {
        roots.add(ca.clone()).map_err(tls_error)?;
    }
    let tls = tls13()?
        .with_root_certificates(roots)
        .with_client_auth_cert(
            config.identity.certificate.clone(),
            config.identity.key.clone_key(),
        )
        .map_err(tls_error)?;
    quic_client_config(tls, tf_wire::ALPN)
}

/// TLS 1.3 only, with ring: what every connection to an appliance starts from.
pub(crate) fn tls13()
-> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>, PartnerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_error)
}

/// QUIC settings over `tls`, speaking the protocol `alpn` names.
pub(crate) fn quic_client_config(
    mut tls: rustls::ClientConfig,
    alpn: &[u8],
) -> Result<quinn::ClientConfig, PartnerError> {
    tls.alpn_protocols = vec![alpn.to_vec()];
    let quic = QuicClientConfig::try_from(Arc::new(tls)).map_err(|e| PartnerError::Local {
        path: "TLS configuration".into(),
        problem: e.to_string(),
    })?;
    let mut client = quinn::ClientConfig::new(Arc::new(quic));
    // A request may wait long for its answer when the appliance is busy; with nothing else to
    // send, the connection would go quiet and both ends would close it as idle (30 s),
    // failing every request on it. Pings keep it open while answers are awaited.
    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(KEEP_ALIVE));
    client.transport_config(Arc::new(transport));
    Ok(client)
}

fn tls_error(error: rustls::Error) -> PartnerError {
    PartnerError::Local {
        path: "TLS configuration".into(),
        problem: error.to_string(),
    }
}

fn from_code(code: ErrorCode) -> PartnerError {
    match code {
        ErrorCode::Busy { retry_after_ms } => PartnerError::Busy { retry_after_ms },
        ErrorCode::OverBudget(over) => PartnerError::OverBudget(Box::new(over)),
        ErrorCode::Denied { reason } => PartnerError::Denied { reason },
        ErrorCode::DeniedByPolicy(denial) => PartnerError::DeniedByPolicy(Box::new(denial)),
        ErrorCode::UnknownKey { key_id } => PartnerError::UnknownKey {
            key_id: KeyId(key_id),
        },
        ErrorCode::Malformed { detail } => PartnerError::Malformed { detail },
        ErrorCode::UnsupportedVersion { supported } => {
            PartnerError::UnsupportedVersion { supported }
        }
        ErrorCode::ShuttingDown => PartnerError::ShuttingDown,
        ErrorCode::KeyRefused { detail } => PartnerError::KeyRefused { detail },
        ErrorCode::NotInLogYet {
            index,
            tree_size,
            retry_after_ms,
        } => PartnerError::NotInLogYet {
            index,
            tree_size,
            retry_after_ms,
        },
        ErrorCode::LogUnavailable { detail } => PartnerError::LogUnavailable { detail },
        ErrorCode::Unavailable {
            retry_after_ms,
            detail,
        } => PartnerError::Unavailable {
            retry_after_ms,
            detail,
        },
        ErrorCode::OnboardingRefused { reason, detail } => {
            PartnerError::OnboardingRefused { reason, detail }
        }
        _ => PartnerError::Internal,
    }
}

pub(crate) fn unexpected(message: Message) -> PartnerError {
    PartnerError::Protocol {
        detail: format!("{message:?}").chars().take(200).collect(),
    }
}

fn lost(error: &quinn::ConnectionError) -> PartnerError {
    PartnerError::from_connection(error)
}

fn write_error(error: quinn::WriteError) -> PartnerError {
    match error {
        quinn::WriteError::ConnectionLost(e) => lost(&e),
        other => PartnerError::ConnectionLost {
            reason: other.to_string(),
        },
    }
}

fn read_error(error: quinn::ReadToEndError) -> PartnerError {
    match error {
        quinn::ReadToEndError::Read(quinn::ReadError::ConnectionLost(e)) => lost(&e),
        other => PartnerError::Protocol {
            detail: other.to_string(),
        },
    }
}
