//! `[compliance]`: when compliance snapshots are made, how many are kept, and where.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConfigError, in_range};

/// `[compliance]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ComplianceConfig {
    /// When each period ends and its snapshot is made: a cron expression in UTC (five fields,
    /// or six with seconds first).
    pub schedule: String,
    /// Snapshots kept in `dir`; older ones are removed, never one whose receipts the ledger
    /// still holds.
    pub keep: usize,
    /// Where snapshots are written. Default: `compliance/` in the state directory.
    pub dir: Option<PathBuf>,
}

impl Default for ComplianceConfig {
    fn default() -> Self {
        ComplianceConfig {
            schedule: "0 0 * * *".into(),
            keep: 400,
            dir: None,
        }
    }
}

impl ComplianceConfig {
    /// The schedule (validated when the file was loaded).
    pub fn schedule(&self) -> Result<Schedule, String> {
        self.schedule.parse()
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "compliance.keep",
            self.keep,
            1,
            100_000,
            "1 to 100000",
        )?;
        if self.schedule().is_err() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "compliance.schedule",
                value: format!("{:?}", self.schedule),
                allowed: "a cron expression in UTC: minute hour day-of-month month day-of-week \
                          (\"0 0 * * *\" is daily at midnight), optionally with seconds first",
            });
        }
        Ok(())
    }
}

/// A cron schedule in UTC, read in Unix microseconds.
#[derive(Clone, Debug)]
pub struct Schedule {
    cron: croner::Cron,
    text: String,
}

impl FromStr for Schedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let cron = croner::Cron::from_str(text).map_err(|e| format!("{text:?}: {e}"))?;
        let schedule = Schedule {
            cron,
            text: text.trim().to_owned(),
        };
        // An expression that never fires (February 30th) is refused here, not found at run time.
        match schedule.next_after(0) {
            Some(_) => Ok(schedule),
            None => Err(format!("{text:?} never fires")),
        }
    }
}

impl Schedule {
    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The last time it fires at or before `at_us`, whole seconds; `None` if never.
    pub fn last_at_or_before(&self, at_us: u64) -> Option<u64> {
        let at = utc(at_us)?;
        let found = self.cron.find_previous_occurrence(&at, true).ok()?;
        micros(found)
    }

    /// The first time it fires after `at_us`, whole seconds; `None` if never.
    pub fn next_after(&self, at_us: u64) -> Option<u64> {
        let at = utc(at_us)?;
        let found = self.cron.find_next_occurrence(&at, false).ok()?;
        micros(found)
    }
}

fn utc(us: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(i64::try_from(us).ok()?)
}

fn micros(at: DateTime<Utc>) -> Option<u64> {
    u64::try_from(at.timestamp_micros()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_US: u64 = 86_400_000_000;

    #[test]
    fn a_daily_schedule_fires_at_midnight_utc() {
        let daily: Schedule = "0 0 * * *".parse().expect("parse");
        // 2026-12-02T12:34:56Z.
        let now = 1_796_215_696_000_000;
        let midnight = now - now % DAY_US;
        assert_eq!(daily.last_at_or_before(now), Some(midnight));
        assert_eq!(daily.last_at_or_before(midnight), Some(midnight));
        assert_eq!(daily.next_after(midnight), Some(midnight + DAY_US));
        assert_eq!(daily.next_after(now), Some(midnight + DAY_US));
    }

    #[test]
    fn seconds_are_allowed_and_nonsense_is_refused() {
        let every_ten: Schedule = "*/10 * * * * *".parse().expect("parse");
        assert_eq!(every_ten.next_after(1_000_000), Some(10_000_000));
        assert_eq!(every_ten.last_at_or_before(19_999_999), Some(10_000_000));
        for bad in ["", "every day", "61 * * * *", "0 0 30 2 *"] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad:?}");
        }
    }
}
