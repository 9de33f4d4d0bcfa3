//! `[webhooks]`: how the outbox delivers to auditors' endpoints. The endpoints themselves are
//! added at run time (admin API, `appliance ctl webhooks`, console) and kept in the ledger.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{ConfigError, in_range};

/// `[webhooks]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// One attempt's deadline (connect, TLS, request and answer), milliseconds.
    pub timeout_ms: u64,
    /// Messages in flight per endpoint: first attempts go out in ledger order, a retried
    /// one may arrive after later ones (each carries its sequence numbers).
    pub window: usize,
    /// A CA (PEM) trusted besides the host's roots, for receivers with a private CA.
    pub ca_file: Option<PathBuf>,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            timeout_ms: 10_000,
            window: 4,
            ca_file: None,
        }
    }
}

impl WebhooksConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "webhooks.timeout_ms",
            usize::try_from(self.timeout_ms).unwrap_or(usize::MAX),
            100,
            120_000,
            "100 to 120000",
        )?;
        in_range(path, "webhooks.window", self.window, 1, 64, "1 to 64")
    }
}
