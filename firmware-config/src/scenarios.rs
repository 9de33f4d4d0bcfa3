//! `[scenarios]`: the scenario scheduler: which packs run, when, and how much CPU they may use.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compliance::Schedule;
use crate::{ConfigError, in_range};

/// `[scenarios]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ScenariosConfig {
    /// Whether packs run on the schedule.
    pub enabled: bool,
    /// When: a cron expression in UTC.
    pub schedule: String,
    /// A folder of packs (`*.toml`); default the five example packs built in.
    pub dir: Option<PathBuf>,
    /// CPU seconds all packs of one night may use together; a pack past it stops and is
    /// recorded as not finished.
    pub cpu_seconds: u64,
}

impl Default for ScenariosConfig {
    fn default() -> Self {
        ScenariosConfig {
            enabled: true,
            schedule: "30 2 * * *".into(),
            dir: None,
            cpu_seconds: 900,
        }
    }
}

impl ScenariosConfig {
    /// The schedule (validated when the file was loaded).
    pub fn schedule(&self) -> Result<Schedule, String> {
        self.schedule.parse()
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "scenarios.cpu_seconds",
            self.cpu_seconds as usize,
            1,
            86_400,
            "1 to 86400",
        )?;
        if self.schedule().is_err() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "scenarios.schedule",
                value: format!("{:?}", self.schedule),
                allowed: "a cron expression in UTC: minute hour day-of-month month day-of-week \
                          (\"30 2 * * *\" is nightly at 02:30), optionally with seconds first",
            });
        }
        Ok(())
    }
}
