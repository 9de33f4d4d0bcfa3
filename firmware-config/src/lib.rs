//! Typed configuration for the appliance: TOML with documented defaults, unknown keys refused,
//! and validation that names the file, the key and what is allowed.
//!
//! Sections: `[verify]` (engine limits), `[server]` (listener, shards, QUIC limits),
//! `[scheduling]` (mailboxes, fairness quantum, batching), `[budgets]` (costs and charge
//! policies), `[logging]` (level and format), `[admin]` (metrics server), `[bundles]` (trusted bundle authors), `[tls]` (certificate
//! and client CA), `[ledger]` (retention), `[log]` (the transparency log), `[compliance]` (snapshots), `[webhooks]` (auditor webhooks' delivery), `[decisions]` (the decision log), `[scenarios]` (nightly what-if packs) and `[[tenants]]` (weights, admission rates, verifying keys, budget caps). Every field has a documented default;
//! an empty file is a valid configuration that runs the appliance for the demo tenant.
//! `default_file` writes them all out.

mod admin;
mod budgets;
mod bundles;
mod canary;
mod compliance;
mod decisions;
mod default_file;
mod fleet;
mod ledger;
mod log;
mod logging;
mod scenarios;
mod serve;
mod span;
mod tls;
mod webhooks;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tf_engine::Limits;

pub use admin::{
    AdminConfig, AdminTls, AdminTlsFiles, AdminTlsMode, AdminToken, ROLES, parse_host,
    reachable_from_here,
};
pub use budgets::{
    BudgetsConfig, CapConfig, ChargeConfig, CostConfig, is_valid_purpose, longest_window_us,
};
pub use bundles::BundlesConfig;
pub use canary::{CANARY_TENANT, CanaryConfig};
pub use compliance::{ComplianceConfig, Schedule};
pub use decisions::DecisionsConfig;
pub use default_file::default_file;
pub use fleet::{FLEET_PASSWORD_ENV, FleetConfig, is_valid_node_name, validate_leasable};
pub use ledger::LedgerConfig;
pub use log::LogConfig;
pub use logging::LoggingConfig;
pub use scenarios::ScenariosConfig;
pub use serve::{
    Lending, SchedulingConfig, ServerConfig, TenantConfig, is_valid_tenant_id, validate_tenants,
};
pub use span::{format_span_us, parse_span_us};
pub use tls::TlsConfig;
pub use webhooks::WebhooksConfig;

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[verify]`: limits on what the verification engine accepts.
    pub verify: VerifyConfig,
    /// `[server]`: the QUIC listener and the shards.
    pub server: ServerConfig,
    /// `[scheduling]`: tenant mailboxes, fairness and batching on each shard.
    pub scheduling: SchedulingConfig,
    /// `[budgets]`: what requests cost and when they are charged.
    pub budgets: BudgetsConfig,
    /// `[logging]`: level and format.
    pub logging: LoggingConfig,
    /// `[admin]`: the operators' HTTP server (metrics).
    pub admin: AdminConfig,
    /// `[bundles]`: whose policy bundles are accepted.
    pub bundles: BundlesConfig,
    /// `[tls]`: certificate, key and client CA (default: the state directory's).
    pub tls: TlsConfig,
    /// `[ledger]`: how long receipts are kept.
    pub ledger: LedgerConfig,
    /// `[log]`: the transparency log of receipts.
    pub log: LogConfig,
    /// `[compliance]`: compliance snapshots.
    pub compliance: ComplianceConfig,
    /// `[webhooks]`: delivery to auditors' endpoints.
    pub webhooks: WebhooksConfig,
    /// `[decisions]`: the decision log drift replay reads.
    pub decisions: DecisionsConfig,
    /// `[scenarios]`: the nightly scenario packs.
    pub scenarios: ScenariosConfig,
    /// `[canary]`: the golden canary.
    pub canary: CanaryConfig,
    /// `[[tenants]]`: who may connect, with what weight and admission rate. Default: the demo
    /// tenant and the canary's.
    pub tenants: Vec<TenantConfig>,
    /// `[fleet]`: several appliances on one PostgreSQL. Default: none, the appliance runs
    /// alone.
    pub fleet: Option<FleetConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            verify: VerifyConfig::default(),
            server: ServerConfig::default(),
            scheduling: SchedulingConfig::default(),
            budgets: BudgetsConfig::default(),
            logging: LoggingConfig::default(),
            admin: AdminConfig::default(),
            bundles: BundlesConfig::default(),
            tls: TlsConfig::default(),
            ledger: LedgerConfig::default(),
            decisions: DecisionsConfig::default(),
            scenarios: ScenariosConfig::default(),
            canary: CanaryConfig::default(),
            log: LogConfig::default(),
            compliance: ComplianceConfig::default(),
            webhooks: WebhooksConfig::default(),
            tenants: vec![TenantConfig::demo(), TenantConfig::canary()],
            fleet: None,
        }
    }
}

/// `[verify]`: limits checked before any curve work.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// Most public inputs a Groth16 statement may have. Default 64; 1 to 4096.
    pub max_public_inputs: usize,
    /// Longest BLS message in bytes. Default 4096; 1 to 1048576.
    pub max_message_bytes: usize,
    /// Most keys in one BLS aggregate. Default 1024; 1 to 65536.
    pub max_aggregate_keys: usize,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        let limits = Limits::DEFAULT;
        VerifyConfig {
            max_public_inputs: limits.max_public_inputs,
            max_message_bytes: limits.max_message_bytes,
            max_aggregate_keys: limits.max_aggregate_keys,
        }
    }
}

impl VerifyConfig {
    /// The engine limits these settings give.
    pub fn limits(&self) -> Limits {
        Limits {
            max_public_inputs: self.max_public_inputs,
            max_message_bytes: self.max_message_bytes,
            max_aggregate_keys: self.max_aggregate_keys,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read the configuration: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema (unknown key, wrong type, ...).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the key and line.
        message: String,
    },
    /// A value is out of its allowed range.
    #[error("{path}: {key} = {value} is not allowed: {allowed}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: &'static str,
        /// The value found.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
}

impl Config {
    /// Loads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Loads `path` if given, else the embedded defaults.
    pub fn load_or_default(path: Option<&Path>) -> Result<Config, ConfigError> {
        path.map_or_else(|| Ok(Config::default()), Config::load)
    }

    /// Parses and validates configuration text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let v = &self.verify;
        in_range(
            path,
            "verify.max_public_inputs",
            v.max_public_inputs,
            1,
            4096,
            "1 to 4096",
        )?;
        in_range(
            path,
            "verify.max_message_bytes",
            v.max_message_bytes,
            1,
            1 << 20,
            "1 to 1048576",
        )?;
        in_range(
            path,
            "verify.max_aggregate_keys",
            v.max_aggregate_keys,
            1,
            65536,
            "1 to 65536",
        )?;
        self.server.validate(path)?;
        self.scheduling.validate(path)?;
        self.budgets.validate(path)?;
        self.logging.validate(path)?;
        self.tls.validate(path)?;
        self.bundles.validate(path)?;
        self.admin.validate(path)?;
        self.ledger.validate(path)?;
        self.decisions.validate(path)?;
        self.scenarios.validate(path)?;
        self.canary.validate(path)?;
        self.canary.validate_tenant(&self.tenants, path)?;
        self.log.validate(path)?;
        self.compliance.validate(path)?;
        self.webhooks.validate(path)?;
        if let Some(fleet) = &self.fleet {
            fleet.validate(path)?;
            fleet::validate_leasable(&self.tenants, path)?;
        }
        serve::validate_tenants(&self.tenants, path)
    }
}

pub(crate) fn in_range(
    path: &Path,
    key: &'static str,
    value: usize,
    min: usize,
    max: usize,
    allowed: &'static str,
) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            path: path.to_owned(),
            key,
            value: value.to_string(),
            allowed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let config = Config::parse("", Path::new("a.toml")).expect("empty is valid");
        assert_eq!(config.verify.limits(), Limits::DEFAULT);
        assert_eq!(config.verify.max_public_inputs, 64);
    }

    #[test]
    fn values_override_and_are_range_checked() {
        let config =
            Config::parse("[verify]\nmax_public_inputs = 8\n", Path::new("a.toml")).expect("valid");
        assert_eq!(config.verify.limits().max_public_inputs, 8);
        let err = Config::parse("[verify]\nmax_public_inputs = 0\n", Path::new("a.toml"))
            .expect_err("zero inputs is not allowed");
        assert_eq!(
            err.to_string(),
            "a.toml: verify.max_public_inputs = 0 is not allowed: 1 to 4096"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_the_key_named() {
        let err = Config::parse("[verify]\nmax_inputs = 8\n", Path::new("a.toml"))
            .expect_err("unknown key");
        let text = err.to_string();
        assert!(text.starts_with("a.toml: "), "{text}");
        assert!(text.contains("max_inputs"), "{text}");
    }

    #[test]
    fn retention_is_a_span() {
        let config =
            Config::parse("[ledger]\nretention = \"12h\"\n", Path::new("a.toml")).expect("valid");
        assert_eq!(config.ledger.retention_us(), 12 * 3_600_000_000);
        let err = Config::parse("[ledger]\nretention = \"30\"\n", Path::new("a.toml"))
            .expect_err("no unit");
        assert!(err.to_string().contains("such as \"30d\""), "{err}");
    }
}
