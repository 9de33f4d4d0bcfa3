//! `[decisions]`: the decision log, every admission decision kept compactly for drift replay.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::span::parse_span_us;
use crate::{ConfigError, in_range};

/// The shortest retention accepted.
const MIN_RETENTION_US: u64 = 60_000_000;
/// The longest: a year.
const MAX_RETENTION_US: u64 = 366 * 86_400_000_000;

/// `[decisions]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionsConfig {
    /// Whether decisions are recorded.
    pub record: bool,
    /// How long a decision is kept (`30d`, `12h`).
    pub retention: String,
    /// The most the log may hold, in MiB; the oldest decisions go first past it.
    pub max_mib: u64,
}

impl Default for DecisionsConfig {
    fn default() -> Self {
        DecisionsConfig {
            record: true,
            retention: "30d".into(),
            max_mib: 8192,
        }
    }
}

impl DecisionsConfig {
    /// The retention in microseconds (validated when the file was loaded).
    pub fn retention_us(&self) -> u64 {
        parse_span_us(&self.retention).unwrap_or(30 * 86_400_000_000)
    }

    /// The size bound in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_mib.saturating_mul(1 << 20)
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "decisions.max_mib",
            self.max_mib as usize,
            16,
            1 << 24,
            "16 to 16777216 (16 TiB)",
        )?;
        match parse_span_us(&self.retention) {
            Some(us) if (MIN_RETENTION_US..=MAX_RETENTION_US).contains(&us) => Ok(()),
            _ => Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "decisions.retention",
                value: format!("{:?}", self.retention),
                allowed: "a whole number of minutes, hours or days from 1m to 366d, such as \
                          \"30d\"",
            }),
        }
    }
}
