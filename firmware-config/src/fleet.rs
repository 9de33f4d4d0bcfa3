//! `[fleet]`: several appliances on one PostgreSQL, spending each tenant's calendar caps from
//! leases so no cap is overspent across them. The password is never in the URL: it comes from
//! `password_file` or the environment, so the settings can be read and logged without it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{ConfigError, TenantConfig, in_range};

/// The environment variable the PostgreSQL password is read from when `password_file` is not
/// given.
pub const FLEET_PASSWORD_ENV: &str = "TRUST_FABRIC_FLEET_PASSWORD";

/// `[fleet]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// The PostgreSQL database the fleet shares, as a URL without a password:
    /// `postgres://USER@HOST:PORT/DATABASE`, with `?sslmode=require` for TLS (the server's
    /// certificate and host name are always verified, against `ca_file` or the host's CA
    /// certificates).
    pub postgres: String,
    /// This appliance's name in the fleet, unique among its appliances: 1 to 64 of a-z, 0-9,
    /// `-`, `_` and `.`.
    pub node: String,
    /// A file holding the PostgreSQL password (its first line). Default: the environment's
    /// `TRUST_FABRIC_FLEET_PASSWORD`, else none (trust or certificate authentication).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// CA certificates (PEM) that issued PostgreSQL's server certificate, for TLS. Default: the
    /// host's CA certificates.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// How long a budget lease lasts unless renewed, milliseconds. Default 10000; 1000 to
    /// 600000.
    #[serde(default = "default_lease_ms")]
    pub lease_ms: u64,
    /// How long after a lease expires its units are taken back from a node that did not
    /// return them, milliseconds. Default 5000; 0 to 600000.
    #[serde(default = "default_grace_ms")]
    pub grace_ms: u64,
}

fn default_lease_ms() -> u64 {
    10_000
}

fn default_grace_ms() -> u64 {
    5_000
}

/// Whether `name` is a valid node name.
pub fn is_valid_node_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// In fleet mode every cap is leased from the fleet by its calendar window; a rolling window
/// has no window to lease (each charge ages out at its own time), so it is refused.
pub fn validate_leasable(tenants: &[TenantConfig], path: &Path) -> Result<(), ConfigError> {
    for tenant in tenants {
        if let Some(cap) = tenant.caps.iter().find(|c| c.window.starts_with("rolling")) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "tenants.caps.window",
                value: format!("{:?} (tenant {})", cap.window, tenant.id),
                allowed: "\"hour\", \"day\", \"week\" or \"month\" in fleet mode: the fleet \
                          leases a cap by its calendar window, and a rolling window has none",
            });
        }
    }
    Ok(())
}

/// An appliance of the fleet is live while its last heartbeat is at most this many lease
/// periods old: by then its leases have expired unless it renewed them, so one shown live is
/// taking part.
const LIVE_LEASE_PERIODS: u64 = 3;

impl FleetConfig {
    /// How recent a heartbeat must be for its appliance to count as live, microseconds.
    pub fn live_within_us(&self) -> u64 {
        LIVE_LEASE_PERIODS
            .saturating_mul(self.lease_ms)
            .saturating_mul(1_000)
    }

    /// Checks the settings as read from the file at `path`.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key, value: &str, allowed| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            value: format!("{value:?}"),
            allowed,
        };
        let Some(rest) = (self.postgres.strip_prefix("postgres://"))
            .or_else(|| self.postgres.strip_prefix("postgresql://"))
        else {
            return Err(invalid(
                "fleet.postgres",
                &self.postgres,
                "a URL such as postgres://trust_fabric@db.example.com:5432/trust_fabric",
            ));
        };
        // A password in the URL would be logged with the configuration.
        let userinfo = rest.split(['/', '?']).next().unwrap_or("");
        if userinfo
            .rsplit_once('@')
            .is_some_and(|(user, _)| user.contains(':'))
        {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "fleet.postgres",
                value: "a URL with a password".to_owned(),
                allowed: "a URL without a password: put the password in fleet.password_file \
                          or the environment's TRUST_FABRIC_FLEET_PASSWORD",
            });
        }
        let sslmode = rest
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or("")
            .split('&')
            .find_map(|pair| pair.strip_prefix("sslmode="));
        if let Some(mode) = sslmode
            && !["disable", "prefer", "require"].contains(&mode)
        {
            return Err(invalid(
                "fleet.postgres",
                &format!("sslmode={mode}"),
                "sslmode=require for TLS (it verifies the server's certificate and host name, \
                 against fleet.ca_file or the host's CA certificates), or disable",
            ));
        }
        if !is_valid_node_name(&self.node) {
            return Err(invalid(
                "fleet.node",
                &self.node,
                "1 to 64 of a-z, 0-9, `-`, `_` and `.`, unique in the fleet",
            ));
        }
        in_range(
            path,
            "fleet.lease_ms",
            usize::try_from(self.lease_ms).unwrap_or(usize::MAX),
            1_000,
            600_000,
            "1000 to 600000",
        )?;
        in_range(
            path,
            "fleet.grace_ms",
            usize::try_from(self.grace_ms).unwrap_or(usize::MAX),
            0,
            600_000,
            "0 to 600000",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(postgres: &str, node: &str) -> FleetConfig {
        FleetConfig {
            postgres: postgres.into(),
            node: node.into(),
            password_file: None,
            ca_file: None,
            lease_ms: default_lease_ms(),
            grace_ms: default_grace_ms(),
        }
    }

    #[test]
    fn a_url_with_a_password_or_a_bad_node_name_is_refused_saying_what_to_do() {
        let path = Path::new("appliance.toml");
        assert!(
            fleet("postgres://tf@db:5432/tf?sslmode=require", "node-1")
                .validate(path)
                .is_ok()
        );
        let error = fleet("postgres://tf:secret@db/tf", "node-1")
            .validate(path)
            .expect_err("a password");
        let text = error.to_string();
        assert!(text.contains("password_file"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(fleet("mysql://db/tf", "node-1").validate(path).is_err());
        let error = fleet("postgres://tf@db/tf?sslmode=verify-full", "node-1")
            .validate(path)
            .expect_err("a mode the client does not take");
        assert!(error.to_string().contains("sslmode=require"), "{error}");
        assert!(fleet("postgres://db/tf", "Node 1").validate(path).is_err());
        assert!(fleet("postgres://db/tf", "").validate(path).is_err());
    }
}
