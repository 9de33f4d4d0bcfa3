//! TLS for deliveries: rustls (the appliance's one TLS stack, ring), TLS 1.2 and 1.3, server
//! certificates checked against the host's CA certificates plus any the SRE adds (a private
//! CA for an internal audit system).

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// Why TLS for deliveries cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// The added CA file holds no certificate, or a malformed one.
    #[error("the webhook CA file holds no usable PEM certificate: {0}")]
    ExtraCa(String),
    /// No CA certificate at all: every https endpoint would fail.
    #[error(
        "no CA certificates found for webhook TLS; install Debian's ca-certificates or set [webhooks] ca_file"
    )]
    NoRoots,
    /// rustls refused the settings (a build without the ring provider's protocols).
    #[error("webhook TLS settings refused: {0}")]
    Settings(String),
}

/// The client settings every delivery uses: the host's CA certificates and `extra_ca_pem`.
pub fn client_config(extra_ca_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped, as every TLS client does; none at all is
    // refused below.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(pem) = extra_ca_pem {
        let extra = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsSetupError::ExtraCa(e.to_string()))?;
        if extra.is_empty() {
            return Err(TlsSetupError::ExtraCa("no certificate in it".into()));
        }
        let (added, ignored) = roots.add_parsable_certificates(extra);
        if added == 0 || ignored > 0 {
            return Err(TlsSetupError::ExtraCa(format!(
                "{ignored} certificate(s) could not be read"
            )));
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Settings(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
