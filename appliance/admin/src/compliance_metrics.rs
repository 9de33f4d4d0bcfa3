//! `/metrics` lines for compliance snapshots and retention, read from the compliance worker's
//! status (refreshed by the worker about once a second; a scrape touches no file).

use tf_control::compliance::ComplianceHandle;

use crate::storage_metrics::gauge;

/// Appends the compliance metrics to a scrape.
pub fn render(handle: &ComplianceHandle, out: &mut String) {
    let status = handle.status();
    gauge(
        out,
        "trust_fabric_compliance_snapshots",
        "Compliance snapshots kept in [compliance] dir.",
        status.packets.len() as f64,
    );
    let newest_end = status
        .packets
        .iter()
        .filter_map(|packet| packet.summary.as_ref().ok())
        .map(|summary| summary.to_unix_us)
        .max();
    if let Some(end_us) = newest_end {
        gauge(
            out,
            "trust_fabric_compliance_last_period_end_seconds",
            "End of the newest compliance snapshot's period, Unix seconds.",
            end_us as f64 / 1e6,
        );
    }
    gauge(
        out,
        "trust_fabric_compliance_snapshot_failing",
        "1 while the last attempt to make or anchor a compliance snapshot failed.",
        u8::from(status.last_error.is_some()) as f64,
    );
    gauge(
        out,
        "trust_fabric_compliance_pruning_stopped",
        "1 while pruning sealed receipts is stopped (a receipt no snapshot holds, a failing ledger).",
        u8::from(status.pruning_stopped.is_some()) as f64,
    );
    if let Some((_, decided_us)) = status.oldest_retained {
        gauge(
            out,
            "trust_fabric_ledger_oldest_receipt_seconds",
            "Decision time of the oldest receipt the ledger still holds, Unix seconds.",
            decided_us as f64 / 1e6,
        );
    }
}
