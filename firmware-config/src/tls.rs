//! `[tls]`: the QUIC server's certificate and the CA partners' client certificates must chain
//! to. By default both come from the state directory's development PKI.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// `[tls]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM). Default: `server.pem` in the state directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<PathBuf>,
    /// The server certificate's private key (PEM). Default: `server.key` in the state
    /// directory. Set together with `certificate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<PathBuf>,
    /// The CA(s) that issue partners' client certificates (PEM). Default: `ca.pem` in the state
    /// directory (the development CA that `appliance tenants issue` uses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
}

impl TlsConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if self.certificate.is_some() != self.private_key.is_some() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: if self.certificate.is_some() {
                    "tls.private_key"
                } else {
                    "tls.certificate"
                },
                value: "(missing)".into(),
                allowed: "tls.certificate and tls.private_key are set together (a certificate \
                          without its key cannot serve)",
            });
        }
        Ok(())
    }
}
