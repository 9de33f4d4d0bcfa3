//! `[ledger]`: how long receipts are kept.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ConfigError;
use crate::span::parse_span_us;

/// The shortest retention accepted.
const MIN_RETENTION_US: u64 = 1_000_000;
/// The longest retention accepted: ten years.
const MAX_RETENTION_US: u64 = 3_650 * 86_400_000_000;

/// `[ledger]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    /// How long a receipt stays in the ledger (`30d`, `12h`, `90s`). Older receipts are pruned
    /// once a compliance snapshot has sealed them (their hashes stay in the transparency log
    /// and the snapshot holds them), and never before the longest budget window in force has
    /// passed over them (the compliance worker takes the longer of the two).
    pub retention: String,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            retention: "30d".into(),
        }
    }
}

impl LedgerConfig {
    /// The retention in microseconds (validated when the file was loaded; the default's if
    /// it does not parse).
    pub fn retention_us(&self) -> u64 {
        parse_span_us(&self.retention).unwrap_or(30 * 86_400_000_000)
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        match parse_span_us(&self.retention) {
            Some(us) if (MIN_RETENTION_US..=MAX_RETENTION_US).contains(&us) => Ok(()),
            _ => Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "ledger.retention",
                value: format!("{:?}", self.retention),
                allowed: "a whole number of seconds, minutes, hours or days from 1s to 3650d, \
                          such as \"30d\" or \"12h\"",
            }),
        }
    }
}
