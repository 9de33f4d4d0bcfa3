//! `[admin]`: the operators' HTTP server (metrics now, the admin API as it grows).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// `[admin]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Where the admin server listens (HTTP): `/metrics` for Prometheus, `/healthz`. Keep it on
    /// loopback or a management network. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Whether to run it. Default true.
    pub enabled: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            enabled: true,
        }
    }
}
