//! `[canary]`: the golden canary, which sends a signed set of known-answer requests through
//! the appliance's own QUIC listener as a tenant of its own, and judges what comes back.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::serve::is_valid_tenant_id;
use crate::{ConfigError, TenantConfig, in_range};

/// `[canary]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CanaryConfig {
    /// Whether the canary runs. It also needs its tenant listed (`[[tenants]]` or the bundle
    /// in force).
    pub enabled: bool,
    /// The tenant the canary connects as.
    pub tenant: String,
    /// How often it sends the golden set, milliseconds.
    pub interval_ms: u64,
    /// How long it waits for each answer, milliseconds.
    pub timeout_ms: u64,
    /// The golden set file (`appliance canary golden build`). Default `canary/golden.dsse.json`
    /// in the state directory, built from the built-in known answers at the first start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub golden: Option<PathBuf>,
    /// The canary's client certificate (PEM). Default: issued at start by the state
    /// directory's CA. Set together with `private_key` when `[tls] client_ca` is another CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<PathBuf>,
    /// The CA that issued the QUIC server's certificate (PEM), as partners trust it. Default:
    /// the state directory's CA, which issues the default server certificate. Set together
    /// with `server_name` when `[tls] certificate` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// The name the server certificate carries, as partners connect to it. Default
    /// `localhost`, a name of the default server certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Runs in the current window the comparators judge.
    pub current_runs: usize,
    /// Runs before the current window that make the baseline (runs that failed a comparator
    /// stay out of it).
    pub baseline_runs: usize,
    /// Runs in a row a non-critical comparator must fail before the canary fails.
    pub consecutive_failures: u32,
}

impl Default for CanaryConfig {
    fn default() -> Self {
        CanaryConfig {
            enabled: true,
            tenant: CANARY_TENANT.into(),
            interval_ms: 10_000,
            timeout_ms: 5_000,
            golden: None,
            certificate: None,
            private_key: None,
            ca: None,
            server_name: None,
            current_runs: 6,
            baseline_runs: 30,
            consecutive_failures: 3,
        }
    }
}

/// The canary's tenant id unless `[canary] tenant` says otherwise.
pub const CANARY_TENANT: &str = "canary";

impl CanaryConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key, value: String, allowed| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            value,
            allowed,
        };
        if !is_valid_tenant_id(&self.tenant) {
            return Err(invalid(
                "canary.tenant",
                format!("{:?}", self.tenant),
                "1 to 64 characters of a-z, 0-9, - and _",
            ));
        }
        in_range(
            path,
            "canary.interval_ms",
            self.interval_ms as usize,
            1_000,
            3_600_000,
            "1000 to 3600000",
        )?;
        in_range(
            path,
            "canary.timeout_ms",
            self.timeout_ms as usize,
            100,
            60_000,
            "100 to 60000",
        )?;
        in_range(
            path,
            "canary.current_runs",
            self.current_runs,
            1,
            100,
            "1 to 100",
        )?;
        in_range(
            path,
            "canary.baseline_runs",
            self.baseline_runs,
            1,
            1_000,
            "1 to 1000",
        )?;
        in_range(
            path,
            "canary.consecutive_failures",
            self.consecutive_failures as usize,
            1,
            100,
            "1 to 100",
        )?;
        if self.certificate.is_some() != self.private_key.is_some() {
            return Err(invalid(
                if self.certificate.is_some() {
                    "canary.private_key"
                } else {
                    "canary.certificate"
                },
                "(missing)".into(),
                "canary.certificate and canary.private_key are set together",
            ));
        }
        Ok(())
    }

    /// Checks the canary's tenant entry, when listed: the canary is exempt from budgets, so
    /// its tenant carries no caps (they would run out and fail the canary).
    pub(crate) fn validate_tenant(
        &self,
        tenants: &[TenantConfig],
        path: &Path,
    ) -> Result<(), ConfigError> {
        match tenants.iter().find(|t| t.id == self.tenant) {
            Some(tenant) if self.enabled && !tenant.caps.is_empty() => Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "tenants.caps",
                value: format!(
                    "{} caps on the canary's tenant {:?}",
                    tenant.caps.len(),
                    tenant.id
                ),
                allowed: "none: the canary is exempt from budgets; remove the [[tenants.caps]] \
                          of its tenant (or set [canary] tenant to another)",
            }),
            _ => Ok(()),
        }
    }
}

impl TenantConfig {
    /// The canary's tenant as the defaults list it: a small weight, a modest quota, no caps,
    /// and room for the golden set's keys.
    pub fn canary() -> Self {
        TenantConfig {
            id: CANARY_TENANT.into(),
            weight: 1,
            rate_per_sec: 100,
            burst: 50,
            keys: Vec::new(),
            caps: Vec::new(),
            max_registered_keys: 8,
        }
    }
}
