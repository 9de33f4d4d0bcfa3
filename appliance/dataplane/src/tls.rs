//! TLS for the QUIC endpoint: TLS 1.3 only, the protocol's ALPN, and client certificates
//! verified against the appliance's CA (the tenant is the certificate's identity).
//!
//! With onboarding on, the endpoint also speaks the onboarding ALPN, which needs no client
//! certificate: client certificates become optional in the handshake, and the driver closes a
//! connection on the main ALPN that presented none before it reads any request. The CA
//! certificate is sent after the server's, so a partner who has only an invite's fingerprint
//! of it can find and pin it.

use std::path::Path;
use std::sync::Arc;

use quinn_proto::crypto::rustls::QuicServerConfig;
use quinn_proto::{IdleTimeout, ServerConfig, TransportConfig, VarInt};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tf_config::{ServerConfig as ServerSettings, TlsConfig};
use tf_state::{State, layout};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{path}: {problem}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built.
    #[error("client certificate verifier: {0}")]
    Verifier(String),
    /// quinn refused the TLS configuration.
    #[error("QUIC TLS configuration: {0}")]
    Quic(String),
}

/// The QUIC server configuration: TLS material from `[tls]` (default: the state directory's),
/// limits from the config, and the onboarding ALPN when `onboarding` (only with the state
/// directory's own PKI, whose CA signs partners' certificates).
pub fn server_config(
    state: &State,
    settings: &ServerSettings,
    material: &TlsConfig,
    onboarding: bool,
) -> Result<Arc<ServerConfig>, TlsError> {
    let or_state = |configured: &Option<std::path::PathBuf>, file: &str| {
        configured.clone().unwrap_or_else(|| state.path(file))
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for ca in certificates(&or_state(&material.client_ca, layout::CA_CERT))? {
        roots.add(ca)?;
    }
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let mut chain = certificates(&or_state(&material.certificate, layout::SERVER_CERT))?;
    let mut alpn = vec![tf_wire::ALPN.to_vec()];
    if onboarding {
        verifier = verifier.allow_unauthenticated();
        chain.extend(certificates(&state.path(layout::CA_CERT))?);
        alpn.push(tf_wire::ONBOARDING_ALPN.to_vec());
    }
    let verifier = verifier
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            chain,
            private_key(&or_state(&material.private_key, layout::SERVER_KEY))?,
        )?;
    tls.alpn_protocols = alpn;
    // 0-RTT stays off (rustls' default): replayable requests would spend budgets twice.
    let crypto =
        QuicServerConfig::try_from(Arc::new(tls)).map_err(|e| TlsError::Quic(e.to_string()))?;
    let mut config = ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(Arc::new(transport(settings)));
    // Connection migration stays off: a connection's packets always reach the shard (socket)
    // that accepted it.
    config.migration(false);
    Ok(Arc::new(config))
}

/// Stream and flow-control limits: one request per bidirectional stream, no unidirectional
/// streams, and receive windows that bound what one connection can make the shard buffer.
fn transport(settings: &ServerSettings) -> TransportConfig {
    let frame = (tf_wire::WireLimits::DEFAULT.max_frame_bytes + tf_wire::HEADER_BYTES) as u32;
    let streams = settings.max_streams_per_connection as u32;
    let mut transport = TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(streams))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .stream_receive_window(VarInt::from_u32(frame))
        .receive_window(VarInt::from_u32(frame.saturating_mul(4)))
        .max_idle_timeout(Some(IdleTimeout::from(VarInt::from_u32(
            settings.idle_timeout_ms as u32,
        ))))
        .keep_alive_interval(None);
    transport
}

/// Every certificate in a PEM file.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem(path, e))?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: path.display().to_string(),
            problem: "no certificate in the file".into(),
        });
    }
    Ok(certs)
}

/// The private key in a PEM file.
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem(path, e))
}

fn pem(path: &Path, error: impl std::fmt::Display) -> TlsError {
    TlsError::Pem {
        path: path.display().to_string(),
        problem: error.to_string(),
    }
}
