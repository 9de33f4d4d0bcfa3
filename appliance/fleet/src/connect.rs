//! The connection to the fleet's PostgreSQL from `[fleet]`: the URL's settings, the password
//! from `password_file` or `TRUST_FABRIC_FLEET_PASSWORD`, and TLS through rustls with the CA
//! certificates of `ca_file` (else the host's) when the URL's `sslmode` asks for it.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use rustls::pki_types::pem::PemObject;
use tf_config::{FLEET_PASSWORD_ENV, FleetConfig};

use crate::FleetError;

/// Opens a connection as `[fleet]` says.
pub fn connect(fleet: &FleetConfig) -> Result<postgres::Client, FleetError> {
    let mut config = postgres::Config::from_str(&fleet.postgres)
        .map_err(|e| FleetError::Settings(format!("postgres: {e}")))?;
    if let Some(password) = password(fleet)? {
        config.password(password);
    }
    config.application_name(&format!("trust-fabric {}", fleet.node));
    // A database that does not answer is found out in seconds: the worker retries, and the
    // node meanwhile spends only what its leases hold.
    config.connect_timeout(Duration::from_secs(5));
    config.keepalives_idle(Duration::from_secs(5));
    // A server that stops answering mid-statement (a host gone, a partition) is given up
    // on after this, rather than after the kernel's retransmissions (about 15 minutes).
    config.tcp_user_timeout(Duration::from_secs(10));
    if config.get_ssl_mode() == SslMode::Disable {
        return Ok(config.connect(postgres::NoTls)?);
    }
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(fleet)?);
    Ok(config.connect(tls)?)
}

/// The password: the first line of `password_file`, else the environment's, else none.
fn password(fleet: &FleetConfig) -> Result<Option<String>, FleetError> {
    if let Some(path) = &fleet.password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| FleetError::Settings(format!("password_file {}: {e}", path.display())))?;
        let line = text.lines().next().unwrap_or("").to_owned();
        if line.is_empty() {
            return Err(FleetError::Settings(format!(
                "password_file {}: the first line is empty; write the password there",
                path.display()
            )));
        }
        return Ok(Some(line));
    }
    Ok(std::env::var(FLEET_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty()))
}

/// Roots from `ca_file`, else the host's CA certificates.
fn client_config(fleet: &FleetConfig) -> Result<rustls::ClientConfig, FleetError> {
    let mut roots = rustls::RootCertStore::empty();
    match &fleet.ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| FleetError::Settings(format!("ca_file {}: {e}", path.display())))?;
            let certificates: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<_, _>>()
                .map_err(|e| FleetError::Settings(format!("ca_file {}: {e}", path.display())))?;
            if certificates.is_empty() {
                return Err(FleetError::Settings(format!(
                    "ca_file {}: no PEM certificate in it",
                    path.display()
                )));
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|e| {
                    FleetError::Settings(format!("ca_file {}: {e}", path.display()))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for certificate in found.certs {
                // A host certificate rustls cannot use is skipped, as every client does.
                let _ = roots.add(certificate);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FleetError::Settings(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
