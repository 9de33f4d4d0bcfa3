//! TLS on the admin port (`[admin] tls`): rustls with ring, TLS 1.3, no client certificates
//! (callers prove who they are with tokens). By default the appliance's own server
//! certificate: `[tls] certificate` and `private_key`, else the state directory's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tf_config::{AdminTlsMode, TlsConfig};
use tf_state::{State, layout};

/// Why the admin port's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{path} (admin.tls): {problem}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// rustls refused the certificate and key (a key that is not the certificate's, say).
    #[error("admin.tls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server configuration `mode` asks for; `None` for plain HTTP.
pub fn server_config(
    mode: &AdminTlsMode,
    material: &TlsConfig,
    state: &State,
) -> Result<Option<rustls::ServerConfig>, TlsError> {
    let (cert, key) = match mode {
        AdminTlsMode::Files(files) => (files.cert.clone(), files.key.clone()),
        AdminTlsMode::ServerCertificate => (
            material
                .certificate
                .clone()
                .unwrap_or_else(|| state.path(layout::SERVER_CERT)),
            material
                .private_key
                .clone()
                .unwrap_or_else(|| state.path(layout::SERVER_KEY)),
        ),
        _ => return Ok(None),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certificates(&cert)?, private_key(&key)?)?;
    Ok(Some(config))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem(path, e))?;
    if certs.is_empty() {
        return Err(pem(path, "no certificate in the file"));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem(path, e))
}

fn pem(path: &Path, problem: impl std::fmt::Display) -> TlsError {
    TlsError::Pem {
        path: path.to_owned(),
        problem: problem.to_string(),
    }
}
