//! `[ledger]`: how long receipts are kept.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{ConfigError, in_range};

/// `[ledger]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    /// Days a receipt stays in the ledger. Older receipts are pruned once a compliance
    /// snapshot has sealed them (their hashes stay in the transparency log and the snapshot).
    pub retention_days: u64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig { retention_days: 30 }
    }
}

impl LedgerConfig {
    /// The retention in microseconds.
    pub fn retention_us(&self) -> u64 {
        self.retention_days.saturating_mul(86_400_000_000)
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "ledger.retention_days",
            usize::try_from(self.retention_days).unwrap_or(usize::MAX),
            1,
            3650,
            "1 to 3650",
        )
    }
}
