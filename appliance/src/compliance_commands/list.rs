//! `appliance compliance list`: every snapshot in a table that fits 100 columns, then what the
//! worker is doing; or the admin API's reply as JSON.

use tf_admin_api::{Operation, SnapshotEntry, SnapshotsReply};

use super::{AdminApi, Failure};
use crate::output;

/// Lists the snapshots.
pub(super) fn run(api: &AdminApi, json: bool) -> Result<(), Failure> {
    let reply: SnapshotsReply =
        api.call(Operation::Snapshots, Operation::Snapshots.route().path)?;
    if json {
        let text =
            serde_json::to_string_pretty(&reply).map_err(|e| Failure::Usage(e.to_string()))?;
        output::line(text);
        return Ok(());
    }
    for line in table(&reply) {
        output::line(line);
    }
    Ok(())
}

/// The listing as lines: a header and a row per snapshot (a damaged one's reason under it),
/// then the worker's state.
pub(super) fn table(reply: &SnapshotsReply) -> Vec<String> {
    let mut lines = Vec::new();
    if reply.snapshots.is_empty() {
        lines.push("no snapshot yet".to_owned());
    } else {
        lines.push(format!(
            "{:<25}  {:<20}  {:>8}  {:>8}  {:>9}  STATUS",
            "NAME", "FROM (UTC)", "RECEIPTS", "CHARGED", "SIZE"
        ));
        for entry in &reply.snapshots {
            lines.push(row(entry));
            if let Some(why) = &entry.damaged {
                lines.push(format!("  damaged: {why}"));
            }
        }
    }
    let worker = &reply.worker;
    lines.push(format!("packets in {}", worker.dir));
    if let Some(next) = &worker.next_scheduled {
        lines.push(format!("next scheduled snapshot: {next}"));
    }
    if let Some(asked) = &worker.asked_to {
        lines.push(format!("being made: everything decided before {asked}"));
    }
    if let Some(waiting) = &worker.waiting {
        lines.push(format!("waiting: {waiting}"));
    }
    if let Some(error) = &worker.last_error {
        lines.push(format!("last failure: {error}"));
    }
    if let Some(why) = &worker.pruning_stopped {
        lines.push(format!("pruning stopped: {why}"));
    }
    lines
}

fn row(entry: &SnapshotEntry) -> String {
    let (from, receipts, charged) = match &entry.summary {
        Some(summary) => (
            summary.from.clone(),
            summary.receipts.to_string(),
            summary.charged.to_string(),
        ),
        None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
    };
    format!(
        "{:<25}  {from:<20}  {receipts:>8}  {charged:>8}  {:>9}  {}",
        entry.name.0,
        entry.size_text(),
        entry.status
    )
}

#[cfg(test)]
mod tests {
    use tf_admin_api::{
        ComplianceWorker, IndexSha256, PacketSummary, SnapshotName, SnapshotStatus,
    };

    use super::*;

    fn entry(name: &str, status: SnapshotStatus, receipts: u64) -> SnapshotEntry {
        let damaged = status == SnapshotStatus::Damaged;
        SnapshotEntry {
            name: SnapshotName(name.into()),
            status,
            damaged: damaged.then(|| "index.dsse.json: not signed by this key".into()),
            summary: (!damaged).then(|| PacketSummary {
                from_unix_us: 0,
                from: "1970-01-01T00:00:00Z".into(),
                to_unix_us: 1_767_323_045_000_000,
                to: "2026-01-02T03:04:05Z".into(),
                made_at_unix_us: 1_767_323_049_000_000,
                made_at: "2026-01-02T03:04:09Z".into(),
                receipts,
                charged: receipts * 3,
                tenants: Vec::new(),
                tree_size: receipts + 1,
                first_seq: Some(1),
                last_seq: Some(receipts),
            }),
            index_sha256: IndexSha256("ab".repeat(32)),
            bytes: 5 << 30,
            anchor_seq: Some(9),
            path: format!("/var/lib/trust-fabric/compliance/{name}"),
        }
    }

    #[test]
    fn the_table_fits_100_columns_even_with_large_numbers() {
        let reply = SnapshotsReply {
            worker: ComplianceWorker {
                dir: "/var/lib/trust-fabric/compliance".into(),
                next_scheduled_unix_us: Some(1_767_398_400_000_000),
                next_scheduled: Some("2026-01-03T00:00:00Z".into()),
                asked_to_unix_us: None,
                asked_to: None,
                waiting: None,
                last_error: None,
                pruning_stopped: None,
                oldest_retained_seq: Some(1),
            },
            snapshots: vec![
                entry(
                    "snapshot-20260101T000000Z",
                    SnapshotStatus::ReceiptsPruned,
                    99_999_999,
                ),
                entry("snapshot-20260102T000000Z", SnapshotStatus::Damaged, 0),
                entry("snapshot-20260102T030405Z", SnapshotStatus::NotAnchored, 12),
            ],
        };
        let lines = table(&reply);
        for line in &lines {
            assert!(
                line.chars().count() <= 100,
                "{} columns: {line}",
                line.len()
            );
        }
        assert!(lines[0].starts_with("NAME"), "{lines:?}");
        assert!(
            lines[1].starts_with("snapshot-20260101T000000Z  1970-01-01T00:00:00Z")
                && lines[1].ends_with("5.0 GiB  receipts-pruned"),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with("damaged"), "{}", lines[2]);
        assert!(lines[3].contains("not signed"), "{}", lines[3]);
        assert!(lines[4].ends_with("not-anchored"), "{}", lines[4]);
        assert!(
            lines.contains(&"next scheduled snapshot: 2026-01-03T00:00:00Z".to_owned()),
            "{lines:?}"
        );
    }
}
