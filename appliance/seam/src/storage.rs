//! The ledger's storage health, as the ledger thread last found it. Shards read one flag at
//! each admission (new work that needs the ledger is refused while it is set); probes, metrics
//! and the admin API read the report.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// How long a partner is told to wait while the ledger cannot commit: how often the ledger
/// thread tries it again.
pub const STORAGE_RETRY_MS: u32 = 1000;

/// A storage fault in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageReport {
    /// The fault's name (`disk-full`, `io-error`, `read-only`, `cannot-open`, `locked`).
    pub fault: &'static str,
    /// What the operator does about it.
    pub what_to_do: &'static str,
    /// What the ledger last reported.
    pub error: String,
    /// Since when, Unix microseconds.
    pub since_unix_us: u64,
}

/// The ledger's storage health.
#[derive(Debug, Default)]
pub struct StorageHealth {
    faulted: AtomicBool,
    report: Mutex<Option<StorageReport>>,
    /// Commits that failed, by fault name.
    failed_commits: Mutex<BTreeMap<&'static str, u64>>,
}

impl StorageHealth {
    /// Whether the ledger cannot commit now (one atomic load, for admission).
    pub fn faulted(&self) -> bool {
        self.faulted.load(Ordering::Acquire)
    }

    /// The fault in force, if any.
    pub fn report(&self) -> Option<StorageReport> {
        self.report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A commit failed with `report.fault`: counted, and in force until [`Self::recovered`]
    /// (a fault already in force keeps its start time).
    pub fn commit_failed(&self, report: StorageReport) {
        *self
            .failed_commits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(report.fault)
            .or_default() += 1;
        let mut current = self.report.lock().unwrap_or_else(|e| e.into_inner());
        let since = match &*current {
            Some(previous) if previous.fault == report.fault => previous.since_unix_us,
            _ => report.since_unix_us,
        };
        *current = Some(StorageReport {
            since_unix_us: since,
            ..report
        });
        self.faulted.store(true, Ordering::Release);
    }

    /// The ledger commits again; returns the fault that ended.
    pub fn recovered(&self) -> Option<StorageReport> {
        let ended = self.report.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.faulted.store(false, Ordering::Release);
        ended
    }

    /// Failed commits so far for the fault named `fault`.
    pub fn failed_commits(&self, fault: &str) -> u64 {
        self.failed_commits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(fault)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(at: u64) -> StorageReport {
        StorageReport {
            fault: "disk-full",
            what_to_do: "free space",
            error: "database or disk is full".into(),
            since_unix_us: at,
        }
    }

    #[test]
    fn a_fault_holds_until_recovered_and_keeps_its_start() {
        let health = StorageHealth::default();
        assert!(!health.faulted());
        health.commit_failed(full(10));
        health.commit_failed(full(20));
        assert!(health.faulted());
        assert_eq!(health.report().map(|r| r.since_unix_us), Some(10));
        assert_eq!(health.failed_commits("disk-full"), 2);
        assert_eq!(health.recovered().map(|r| r.fault), Some("disk-full"));
        assert!(!health.faulted());
        assert_eq!(health.report(), None);
        assert_eq!(health.failed_commits("disk-full"), 2);
    }
}
