//! Partners' failed steps seen on the data plane (a verifying key refused, a sandbox
//! submission refused or not valid), on their way to the partner desk, which records each as a
//! `partner.step_failed` event for whoever supports partners.
//!
//! A shard reports without waiting: the report joins a bounded list the desk takes every so
//! often. The same failure reported again while it waits is counted on the waiting report
//! rather than added, so a partner retrying a bad key a thousand times is one event with its
//! count, and the list cannot grow past [`MAX_WAITING_REPORTS`]; past it a report is dropped
//! and counted as dropped.

use std::sync::{Arc, Mutex};

/// Distinct reports waiting for the desk at most.
pub const MAX_WAITING_REPORTS: usize = 64;

/// One failed step: whose, which, and what the partner was told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    /// The tenant, from its client certificate.
    pub tenant: String,
    /// The step: `keys` or `sandbox`.
    pub step: &'static str,
    /// The error, one word (`key-quota`, `bad-key`, `unknown-key`, `invalid`...).
    pub error: &'static str,
    /// What the partner was told.
    pub detail: String,
}

/// Reports taken off the line: each with how many times it happened, and how many were
/// dropped because the list was full.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TakenReports {
    /// Each distinct report and its count.
    pub reports: Vec<(StepReport, u64)>,
    /// Reports dropped since the last take.
    pub dropped: u64,
}

/// The shards' line to the desk for failed steps (clones share one list).
#[derive(Clone, Debug, Default)]
pub struct SupportLine(Arc<Mutex<TakenReports>>);

impl SupportLine {
    /// Reports a failed step; never waits on the desk.
    pub fn report(&self, report: StepReport) {
        let mut waiting = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, count)) = waiting.reports.iter_mut().find(|(r, _)| *r == report) {
            *count += 1;
        } else if waiting.reports.len() < MAX_WAITING_REPORTS {
            waiting.reports.push((report, 1));
        } else {
            waiting.dropped += 1;
        }
    }

    /// Everything reported since the last take.
    pub fn take(&self) -> TakenReports {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(tenant: &str, error: &'static str) -> StepReport {
        StepReport {
            tenant: tenant.into(),
            step: "keys",
            error,
            detail: "told".into(),
        }
    }

    #[test]
    fn repeats_are_counted_on_one_report_and_the_list_is_bounded() {
        let line = SupportLine::default();
        let shard = line.clone();
        for _ in 0..3 {
            shard.report(report("initech", "bad-key"));
        }
        shard.report(report("initech", "key-quota"));
        for n in 0..MAX_WAITING_REPORTS + 5 {
            shard.report(report(&format!("t{n}"), "bad-key"));
        }
        let taken = line.take();
        assert_eq!(taken.reports.len(), MAX_WAITING_REPORTS);
        assert_eq!(taken.reports[0], (report("initech", "bad-key"), 3));
        assert_eq!(taken.reports[1], (report("initech", "key-quota"), 1));
        // 2 initech reports + 62 others fit; 7 others did not.
        assert_eq!(taken.dropped, 7);
        assert_eq!(line.take(), TakenReports::default());
    }
}
