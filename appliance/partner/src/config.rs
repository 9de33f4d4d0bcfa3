//! Where the appliance is and who this partner is: read from the `partner.toml` that
//! `appliance serve` writes into its state directory, or given piece by piece.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use crate::{ApplianceAddress, PartnerError};

/// A tenant identity: the appliance's CA and this tenant's client certificate and key.
#[derive(Debug)]
pub struct Identity {
    /// CA certificates that issued the appliance's server certificate.
    pub ca: Vec<CertificateDer<'static>>,
    /// The client certificate chain (the tenant is its URI SAN).
    pub certificate: Vec<CertificateDer<'static>>,
    /// The client certificate's private key.
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            ca: self.ca.clone(),
            certificate: self.certificate.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl Identity {
    /// Reads an identity from PEM files.
    pub fn from_files(ca: &Path, certificate: &Path, key: &Path) -> Result<Self, PartnerError> {
        Ok(Identity {
            ca: certificates(ca)?,
            certificate: certificates(certificate)?,
            key: PrivateKeyDer::from_pem_file(key).map_err(|e| local(key, e))?,
        })
    }
}

/// How to reach an appliance.
#[derive(Clone, Debug)]
pub struct PartnerConfig {
    /// The appliance's QUIC address: a DNS name or an IP address, and a port.
    pub address: ApplianceAddress,
    /// The name its server certificate must carry (checked in the TLS handshake): usually
    /// the address's host.
    pub server_name: String,
    /// Who this partner is.
    pub identity: Identity,
    /// The appliance's receipt public key, when known (to check receipts).
    pub receipt_public_key: Option<[u8; 32]>,
    /// How long to wait for an answer.
    pub request_timeout: Duration,
}

/// The name of the file `appliance serve` writes into its state directory.
pub const PARTNER_FILE: &str = "partner.toml";

/// `partner.toml`: where the appliance is, this partner's identity files (paths relative to
/// the file's folder, or absolute), and the appliance's public keys. The appliance writes one
/// into its state directory for its demo tenant; `partner onboard` writes one beside the
/// identity it receives.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerFile {
    /// The appliance's QUIC address.
    pub address: ApplianceAddress,
    /// The name its server certificate carries.
    pub server_name: String,
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// This tenant's client certificate (PEM).
    pub certificate: PathBuf,
    /// This tenant's private key (PEM).
    pub key: PathBuf,
    /// The receipt public key, 64 hex digits; absent when not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_public_key: Option<String>,
    /// The transparency log's verifier key (C2SP signed-note `vkey`); absent in files written
    /// before the appliance kept a transparency log, or for an appliance that keeps none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_key: Option<String>,
}

impl PartnerFile {
    /// The file's text; fails only for a path that is not UTF-8.
    pub fn to_toml(&self) -> Result<String, PartnerError> {
        toml::to_string(self).map_err(|e| PartnerError::Local {
            path: PARTNER_FILE.into(),
            problem: e.to_string(),
        })
    }
}

impl PartnerConfig {
    /// Settings from the appliance's address and PEM files for its CA and this tenant's
    /// certificate and key; the server name is the address's host, the timeout 30 s.
    pub fn from_files(
        address: ApplianceAddress,
        ca: &Path,
        certificate: &Path,
        key: &Path,
    ) -> Result<Self, PartnerError> {
        Ok(PartnerConfig {
            server_name: address.host(),
            address,
            identity: Identity::from_files(ca, certificate, key)?,
            receipt_public_key: None,
            request_timeout: Duration::from_secs(30),
        })
    }

    /// Reads `partner.toml` from an appliance's state directory (paths in it are relative to
    /// that directory).
    pub fn from_state_dir(dir: &Path) -> Result<Self, PartnerError> {
        let (path, file) = read_partner_file(dir)?;
        let receipt_public_key = file
            .receipt_public_key
            .as_deref()
            .map(|hex_key| parse_public_key(hex_key).map_err(|problem| local(&path, problem)))
            .transpose()?;
        Ok(PartnerConfig {
            address: file.address,
            server_name: file.server_name,
            identity: Identity::from_files(
                &dir.join(file.ca),
                &dir.join(file.certificate),
                &dir.join(file.key),
            )?,
            receipt_public_key,
            request_timeout: Duration::from_secs(30),
        })
    }

    /// The transparency log's verifier key (C2SP signed-note `vkey`) from the `partner.toml`
    /// in an appliance's state directory, checked to be one; `None` when the file has none.
    /// Not a field of [`PartnerConfig`]: callers build that struct field by field, and only
    /// proof checks need the key.
    pub fn log_key_from_state_dir(dir: &Path) -> Result<Option<String>, PartnerError> {
        let (path, file) = read_partner_file(dir)?;
        let Some(vkey) = file.log_key else {
            return Ok(None);
        };
        tf_tlog::NoteVerifier::from_vkey(vkey.trim())
            .map_err(|e| local(&path, format!("log_key: {e}")))?;
        Ok(Some(vkey.trim().to_owned()))
    }
}

/// Reads and parses `partner.toml` in `dir`; returns its path too, for errors.
fn read_partner_file(dir: &Path) -> Result<(PathBuf, PartnerFile), PartnerError> {
    let path = dir.join(PARTNER_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| PartnerError::Local {
        path: path.display().to_string(),
        problem: format!(
            "{e}; start the appliance with `appliance serve` in this folder, or pass \
             --state-dir (or --connect, --ca, --cert and --key)"
        ),
    })?;
    let file = toml::from_str(&text).map_err(|e| local(&path, e))?;
    Ok((path, file))
}

/// Parses a 64-hex-digit Ed25519 public key.
pub fn parse_public_key(text: &str) -> Result<[u8; 32], String> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut key)
        .map_err(|_| "expected 64 hex digits (an Ed25519 public key)".to_owned())?;
    Ok(key)
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PartnerError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| local(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| local(path, e))?;
    if certs.is_empty() {
        return Err(local(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// A local file's problem as a partner error.
pub(crate) fn local(path: &Path, problem: impl std::fmt::Display) -> PartnerError {
    PartnerError::Local {
        path: path.display().to_string(),
        problem: problem.to_string(),
    }
}
