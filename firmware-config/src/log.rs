//! `[log]`: the transparency log every stored receipt is appended to.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{ConfigError, in_range};

/// `[log]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// The log's origin: the first line of its checkpoints and the name its key signs under,
    /// unique to this appliance (C2SP recommends a schema-less URL). Empty (the default):
    /// `trust-fabric.invalid/log/` followed by the first 16 hex digits of the log key's id.
    pub origin: String,
    /// How often, at most, a new checkpoint is signed while entries arrive, milliseconds.
    pub checkpoint_interval_ms: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            origin: String::new(),
            checkpoint_interval_ms: 1000,
        }
    }
}

impl LogConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "log.checkpoint_interval_ms",
            usize::try_from(self.checkpoint_interval_ms).unwrap_or(usize::MAX),
            10,
            60_000,
            "10 to 60000",
        )?;
        // The origin is a signed-note key name too: no whitespace, no `+`, printable ASCII.
        let valid_origin = self.origin.len() <= 200
            && self
                .origin
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'+');
        if !valid_origin {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "log.origin",
                value: format!("{:?}", self.origin),
                allowed: "up to 200 printable ASCII characters without spaces or `+`, such as \
                          `verify.example.com/log` (empty: derived from the log key)",
            });
        }
        Ok(())
    }
}
