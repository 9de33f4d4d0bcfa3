//! Compliance snapshots: `GET /api/v1/compliance/snapshots` (where the snapshot worker stands,
//! and every packet), `POST /api/v1/compliance/snapshots` (seal everything decided up to now)
//! and `GET /api/v1/compliance/snapshots/{name}/archive` (one packet as a gzipped tar).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{IndexSha256, SnapshotName, TenantId};

/// The reply of `GET /api/v1/compliance/snapshots`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotsReply {
    /// Where the snapshot worker stands.
    pub worker: ComplianceWorker,
    /// Every complete packet, oldest period first.
    pub snapshots: Vec<SnapshotEntry>,
}

/// The snapshot worker's state, as it last refreshed it (about once a second).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplianceWorker {
    /// The folder the packets are in, on the appliance's host (`[compliance] dir`).
    pub dir: String,
    /// When the next period of `[compliance] schedule` ends, Unix microseconds; `null` if the
    /// schedule never fires again.
    #[schema(required = true)]
    pub next_scheduled_unix_us: Option<u64>,
    /// The same, RFC 3339 UTC to the second.
    #[schema(required = true)]
    pub next_scheduled: Option<String>,
    /// The end of the period an operator asked to seal, Unix microseconds, until its packet
    /// is made; `null` when nothing is asked.
    #[schema(required = true)]
    pub asked_to_unix_us: Option<u64>,
    /// The same, RFC 3339 UTC to the second.
    #[schema(required = true)]
    pub asked_to: Option<String>,
    /// What the worker waits for before it can make the next packet (the transparency log to
    /// checkpoint past the period); `null` when nothing.
    #[schema(required = true)]
    pub waiting: Option<String>,
    /// The last failure to make or anchor a packet, cleared by the next packet made; `null`
    /// when none.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// Why pruning the ledger's sealed receipts is stopped (a receipt no packet holds, a
    /// failing ledger), cleared when pruning goes on; `null` when it is not.
    #[schema(required = true)]
    pub pruning_stopped: Option<String>,
    /// The ledger sequence number of the oldest receipt the ledger still holds; `null` when
    /// it holds none.
    #[schema(required = true)]
    pub oldest_retained_seq: Option<u64>,
}

/// One complete packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotEntry {
    /// Its name, which is also its folder's and its archive's.
    pub name: SnapshotName,
    /// Where it stands: damaged, not anchored yet, or whether the ledger still holds its
    /// receipts.
    pub status: SnapshotStatus,
    /// For `damaged`: why its index does not open with this appliance's key. Absent for every
    /// other status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
    /// What its signed index says; `null` for a damaged packet.
    #[schema(required = true)]
    pub summary: Option<PacketSummary>,
    /// The SHA-256 of its `index.dsse.json`.
    pub index_sha256: IndexSha256,
    /// Bytes of all its files.
    pub bytes: u64,
    /// The ledger sequence number of the receipt that anchors its index digest in the
    /// transparency log; `null` until it is anchored.
    #[schema(required = true)]
    pub anchor_seq: Option<u64>,
    /// Its folder on the appliance's host.
    pub path: String,
}

/// What a packet's signed index says of the period it seals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PacketSummary {
    /// Start of the period (inclusive), Unix microseconds.
    pub from_unix_us: u64,
    /// The same, RFC 3339 UTC to the second.
    pub from: String,
    /// End of the period (exclusive), Unix microseconds.
    pub to_unix_us: u64,
    /// The same, RFC 3339 UTC to the second.
    pub to: String,
    /// When the packet was made, Unix microseconds.
    pub made_at_unix_us: u64,
    /// The same, RFC 3339 UTC to the second.
    pub made_at: String,
    /// Receipts of the period in all.
    pub receipts: u64,
    /// Budget units charged in all.
    pub charged: u64,
    /// Each tenant with receipts in the period, sorted by name.
    pub tenants: Vec<SnapshotTenant>,
    /// The size of the transparency log's tree at the checkpoint the packet holds.
    pub tree_size: u64,
    /// The first of its receipts' ledger sequence numbers; `null` when it has none.
    #[schema(required = true)]
    pub first_seq: Option<u64>,
    /// The last of its receipts' ledger sequence numbers; `null` when it has none.
    #[schema(required = true)]
    pub last_seq: Option<u64>,
}

/// One tenant's part of a packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotTenant {
    /// The tenant.
    pub tenant: TenantId,
    /// Its receipts in the period.
    pub receipts: u64,
    /// Budget units charged.
    pub charged: u64,
}

/// Where a packet stands. Serialised as kebab-case (`receipts-held`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SnapshotStatus {
    /// Its index does not open with this appliance's key (altered, truncated, or made by
    /// another appliance): `damaged` says why. Nothing is pruned past it.
    Damaged,
    /// Complete, but its index digest is not anchored in the transparency log yet (the worker
    /// anchors it at its next turn).
    NotAnchored,
    /// Anchored, and the ledger still holds its receipts (or it has none).
    ReceiptsHeld,
    /// Anchored, and the ledger pruned its receipts: the packet is their only copy. Keep it
    /// backed up.
    ReceiptsPruned,
}

/// The reply of `POST /api/v1/compliance/snapshots` (202): what will be sealed. The worker
/// makes the packet once the period has settled (a few seconds); it is then listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotAsked {
    /// The name the packet will have.
    pub name: SnapshotName,
    /// The end of the period it seals (exclusive), Unix microseconds: now, to the second.
    pub to_unix_us: u64,
    /// The same, RFC 3339 UTC to the second.
    pub to: String,
}

/// The path of `GET /api/v1/compliance/snapshots/{name}/archive`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SnapshotPath {
    /// The packet's name, as `GET /api/v1/compliance/snapshots` lists it.
    pub name: SnapshotName,
}

impl SnapshotEntry {
    /// Its size for people, in binary units with one decimal (`1.5 KiB`, `5.0 GiB`), as the
    /// console and `appliance compliance list` show it.
    pub fn size_text(&self) -> String {
        const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
        let mut value = self.bytes as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        match unit {
            0 => format!("{} B", self.bytes),
            _ => format!("{value:.1} {}", UNITS[unit]),
        }
    }
}

impl SnapshotStatus {
    /// Every status.
    pub const ALL: [SnapshotStatus; 4] = [
        SnapshotStatus::Damaged,
        SnapshotStatus::NotAnchored,
        SnapshotStatus::ReceiptsHeld,
        SnapshotStatus::ReceiptsPruned,
    ];

    /// The status as the reply spells it.
    pub fn name(self) -> &'static str {
        match self {
            SnapshotStatus::Damaged => "damaged",
            SnapshotStatus::NotAnchored => "not-anchored",
            SnapshotStatus::ReceiptsHeld => "receipts-held",
            SnapshotStatus::ReceiptsPruned => "receipts-pruned",
        }
    }
}

impl std::fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::assert_same_json;

    fn entry(status: SnapshotStatus, summary: Option<PacketSummary>) -> SnapshotEntry {
        SnapshotEntry {
            name: "snapshot-20260102T030405Z".into(),
            status,
            damaged: (status == SnapshotStatus::Damaged).then(|| "not signed by this key".into()),
            summary,
            index_sha256: IndexSha256("ab".repeat(32)),
            bytes: 4096,
            anchor_seq: (status != SnapshotStatus::NotAnchored).then_some(9),
            path: "/state/compliance/snapshot-20260102T030405Z".into(),
        }
    }

    fn summary() -> PacketSummary {
        PacketSummary {
            from_unix_us: 0,
            from: "1970-01-01T00:00:00Z".into(),
            to_unix_us: 1_767_323_045_000_000,
            to: "2026-01-02T03:04:05Z".into(),
            made_at_unix_us: 1_767_323_049_500_000,
            made_at: "2026-01-02T03:04:09Z".into(),
            receipts: 3,
            charged: 2,
            tenants: vec![SnapshotTenant {
                tenant: "acme".into(),
                receipts: 3,
                charged: 2,
            }],
            tree_size: 5,
            first_seq: Some(1),
            last_seq: Some(3),
        }
    }

    #[test]
    fn a_listing_serialises_every_field_and_null_where_there_is_nothing() {
        let reply = SnapshotsReply {
            worker: ComplianceWorker {
                dir: "/state/compliance".into(),
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
                entry(SnapshotStatus::ReceiptsHeld, Some(summary())),
                entry(SnapshotStatus::Damaged, None),
            ],
        };
        let summary_json = json!({
            "from_unix_us": 0,
            "from": "1970-01-01T00:00:00Z",
            "to_unix_us": 1_767_323_045_000_000u64,
            "to": "2026-01-02T03:04:05Z",
            "made_at_unix_us": 1_767_323_049_500_000u64,
            "made_at": "2026-01-02T03:04:09Z",
            "receipts": 3,
            "charged": 2,
            "tenants": [{ "tenant": "acme", "receipts": 3, "charged": 2 }],
            "tree_size": 5,
            "first_seq": 1,
            "last_seq": 3,
        });
        let expected = json!({
            "worker": {
                "dir": "/state/compliance",
                "next_scheduled_unix_us": 1_767_398_400_000_000u64,
                "next_scheduled": "2026-01-03T00:00:00Z",
                "asked_to_unix_us": null,
                "asked_to": null,
                "waiting": null,
                "last_error": null,
                "pruning_stopped": null,
                "oldest_retained_seq": 1,
            },
            "snapshots": [
                {
                    "name": "snapshot-20260102T030405Z",
                    "status": "receipts-held",
                    "summary": summary_json,
                    "index_sha256": "ab".repeat(32),
                    "bytes": 4096,
                    "anchor_seq": 9,
                    "path": "/state/compliance/snapshot-20260102T030405Z",
                },
                {
                    "name": "snapshot-20260102T030405Z",
                    "status": "damaged",
                    "damaged": "not signed by this key",
                    "summary": null,
                    "index_sha256": "ab".repeat(32),
                    "bytes": 4096,
                    "anchor_seq": 9,
                    "path": "/state/compliance/snapshot-20260102T030405Z",
                },
            ],
        });
        assert_same_json(&reply, expected);
    }

    #[test]
    fn statuses_are_named_as_serialised() {
        for status in SnapshotStatus::ALL {
            assert_eq!(json!(status), json!(status.name()));
            assert_eq!(status.to_string(), status.name());
        }
        assert_eq!(
            serde_json::from_value::<SnapshotStatus>(json!("receipts-pruned")).ok(),
            Some(SnapshotStatus::ReceiptsPruned)
        );
    }

    #[test]
    fn an_asked_snapshot_names_its_packet_and_period_end() {
        let asked = SnapshotAsked {
            name: "snapshot-20260102T030405Z".into(),
            to_unix_us: 1_767_323_045_000_000,
            to: "2026-01-02T03:04:05Z".into(),
        };
        assert_same_json(
            &asked,
            json!({
                "name": "snapshot-20260102T030405Z",
                "to_unix_us": 1_767_323_045_000_000u64,
                "to": "2026-01-02T03:04:05Z",
            }),
        );
        let path: SnapshotPath =
            serde_json::from_value(json!({ "name": "snapshot-20260102T030405Z" })).expect("path");
        assert_eq!(path.name.0, "snapshot-20260102T030405Z");
    }

    #[test]
    fn sizes_read_in_binary_units() {
        let sized = |bytes| SnapshotEntry {
            bytes,
            ..entry(SnapshotStatus::ReceiptsHeld, None)
        };
        assert_eq!(sized(0).size_text(), "0 B");
        assert_eq!(sized(1023).size_text(), "1023 B");
        assert_eq!(sized(1536).size_text(), "1.5 KiB");
        assert_eq!(sized(5 << 30).size_text(), "5.0 GiB");
    }
}
