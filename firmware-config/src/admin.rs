//! `[admin]`: the operators' HTTP server (metrics, admin API, console) and who may use it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The roles a token can hold.
pub const ROLES: [&str; 4] = ["sre", "policy-author", "auditor", "viewer"];

/// `[admin]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Where the admin server listens (HTTP): `/metrics` for Prometheus, `/healthz`, the admin
    /// API and the console. Keep it on loopback or a management network. Default
    /// `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Whether to run it. Default true.
    pub enabled: bool,
    /// Bearer tokens and their roles (`[[admin.tokens]]`). Empty (the default): one
    /// development token with every role, in the state directory's `admin.token`.
    pub tokens: Vec<AdminToken>,
}

/// One `[[admin.tokens]]` entry. Only the token's SHA-256 is configured, never the token.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// Who holds it, as the timeline records them: 1 to 64 characters of a-z, 0-9, `-`, `_`,
    /// `.` and `@`.
    pub name: String,
    /// What it may do: `sre`, `policy-author`, `auditor`, `viewer`.
    pub roles: Vec<String>,
    /// Hex SHA-256 of the token (`appliance ctl token new` prints both).
    pub sha256: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            enabled: true,
            tokens: Vec::new(),
        }
    }
}

impl AdminConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, value: String, allowed: &'static str| {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                key,
                value,
                allowed,
            })
        };
        let mut names = HashSet::new();
        for token in &self.tokens {
            let name_ok = (1..=64).contains(&token.name.len())
                && token
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.@".contains(&b));
            if !name_ok || !names.insert(token.name.as_str()) {
                return invalid(
                    "admin.tokens.name",
                    format!("{:?}", token.name),
                    "1 to 64 characters of a-z, 0-9, -, _, . and @, each name once",
                );
            }
            if token.roles.is_empty() || token.roles.iter().any(|r| !ROLES.contains(&r.as_str())) {
                return invalid(
                    "admin.tokens.roles",
                    format!("{:?}", token.roles),
                    "one or more of \"sre\", \"policy-author\", \"auditor\", \"viewer\"",
                );
            }
            let mut digest = [0u8; 32];
            if hex::decode_to_slice(&token.sha256, &mut digest).is_err() {
                return invalid(
                    "admin.tokens.sha256",
                    format!("{:?}", token.sha256),
                    "64 hex digits: the SHA-256 of the token, never the token itself",
                );
            }
        }
        Ok(())
    }
}
