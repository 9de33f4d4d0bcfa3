//! `[logging]`: how much the appliance logs and in which form.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// `[logging]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `"error"`, `"warn"`, `"info"`, `"debug"` or `"trace"`. Default `"info"`: one line per
    /// connection event and per error, never one per successful request. SIGHUP reloads it.
    pub level: String,
    /// `"text"` (human-readable lines on stderr), `"json"` (one JSON object per line on
    /// stderr) or `"journald"` (native journal fields, straight to the journal). Default
    /// `"text"`.
    pub format: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

/// The allowed levels.
pub const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];
/// The allowed formats.
pub const FORMATS: [&str; 3] = ["text", "json", "journald"];

impl LoggingConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if !LEVELS.contains(&self.level.as_str()) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "logging.level",
                value: format!("{:?}", self.level),
                allowed: "\"error\", \"warn\", \"info\", \"debug\" or \"trace\"",
            });
        }
        if !FORMATS.contains(&self.format.as_str()) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "logging.format",
                value: format!("{:?}", self.format),
                allowed: "\"text\", \"json\" or \"journald\"",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Config;

    #[test]
    fn level_and_format_are_checked() {
        let config = Config::parse(
            "[logging]\nlevel = \"debug\"\nformat = \"json\"\n",
            Path::new("a.toml"),
        )
        .expect("valid");
        assert_eq!(config.logging.level, "debug");
        let err = Config::parse("[logging]\nlevel = \"loud\"\n", Path::new("a.toml"))
            .expect_err("bad level");
        assert_eq!(
            err.to_string(),
            "a.toml: logging.level = \"loud\" is not allowed: \"error\", \"warn\", \"info\", \
             \"debug\" or \"trace\""
        );
        let err = Config::parse("[logging]\nformat = \"xml\"\n", Path::new("a.toml"))
            .expect_err("bad format");
        assert!(
            err.to_string().contains("logging.format = \"xml\""),
            "{err}"
        );
    }
}
