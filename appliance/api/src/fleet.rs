//! `GET /api/v1/fleet`: in fleet mode, the fleet as its PostgreSQL shows it: each appliance
//! live or down by its heartbeat, the revision it serves under, how far its shipping lags and
//! what it holds in budget leases; and every budget pool of the current windows.
//! `appliance fleet status --json` prints the same body, read from the database itself.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{Revision, TenantId};

/// The reply of `GET /api/v1/fleet`. Times are Unix microseconds, durations microseconds; what
/// an appliance never reported (no heartbeat, nothing shipped) is `null`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FleetReply {
    /// The fleet's database, `[fleet] postgres` (a URL that never holds a password).
    pub database: String,
    /// When the database was read.
    pub now_unix_us: u64,
    /// How recent an appliance's last heartbeat must be for it to count as live (three
    /// `[fleet] lease_ms`).
    pub live_within_us: u64,
    /// Every appliance the database knows (by a heartbeat, shipping or a lease), by name.
    pub nodes: Vec<FleetNode>,
    /// Every budget pool of the current windows: each cap's latest window, and an older one a
    /// lease is still open on; by tenant, purpose, class, window and start.
    pub pools: Vec<FleetPool>,
}

/// One appliance of the fleet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FleetNode {
    /// Its `[fleet] node` name.
    pub node: String,
    /// Whether its last heartbeat is within `live_within_us`; a down appliance's leases are
    /// taken back once they expire and `grace_ms` passes.
    pub live: bool,
    /// When its process started (a change tells of a restart); `null` without a heartbeat.
    #[schema(required = true)]
    pub started_unix_us: Option<u64>,
    /// When it last sent a heartbeat; `null` without one.
    #[schema(required = true)]
    pub last_seen_unix_us: Option<u64>,
    /// The policy bundle revision it served under at its last heartbeat: appliances apart for
    /// long are a promotion that did not reach every one. `null` without a heartbeat.
    #[schema(required = true)]
    pub revision: Option<Revision>,
    /// Its ledger's highest committed sequence number at its last heartbeat; `null` without
    /// one.
    #[schema(required = true)]
    pub committed_seq: Option<u64>,
    /// Its release; `null` without a heartbeat.
    #[schema(required = true)]
    pub version: Option<String>,
    /// Its receipt public key (Ed25519, 64 hex digits), which its name belongs to: the key its
    /// receipts verify under. `null` without a heartbeat, or from a release that did not say.
    #[schema(required = true)]
    pub receipt_key: Option<String>,
    /// Every receipt of its up to this sequence number is in the fleet's database; `null` when
    /// it never shipped one.
    #[schema(required = true)]
    pub shipped_seq: Option<u64>,
    /// When it last shipped a batch; `null` when it never shipped one.
    #[schema(required = true)]
    pub shipped_unix_us: Option<u64>,
    /// Receipts committed to its ledger and not shipped yet (as of its last heartbeat); `null`
    /// without a heartbeat.
    #[schema(required = true)]
    pub lag_receipts: Option<u64>,
    /// How long ago it last shipped a batch: with a lag, how long shipping has made no
    /// progress. `null` when it never shipped one.
    #[schema(required = true)]
    pub since_shipped_us: Option<u64>,
    /// Its open budget leases.
    pub open_leases: u64,
    /// Their units not reported spent: what it may still spend without asking.
    pub units_held: u64,
    /// Its leases taken back after they expired and not settled yet (it settles them from its
    /// ledger when it is back).
    pub taken_back: u64,
    /// Their units not reported spent, counted in doubt (possibly spent) in their pools.
    pub in_doubt: u64,
}

/// One budget pool: a cap of a tenant in one window, as the fleet counts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FleetPool {
    /// The tenant.
    pub tenant: TenantId,
    /// The purpose it limits; `null` for a cap across every purpose of the class.
    #[schema(required = true)]
    pub purpose: Option<String>,
    /// The dataset class: `P0`, `P1` or `P2`.
    pub class: String,
    /// `hour`, `day`, `week` or `month` (UTC): only calendar windows are leased.
    pub window: String,
    /// When the window started.
    pub window_start_unix_us: u64,
    /// Budget units in the window, for the whole fleet.
    pub cap: u64,
    /// Reported spent by the appliances.
    pub spent: u64,
    /// Held in open leases, not reported spent yet.
    pub leased: u64,
    /// Of leases taken back, the units not reported spent: never leased again until their
    /// appliance settles them.
    pub in_doubt: u64,
    /// Left to lease: the cap less what is spent, leased and in doubt (0 under a cap lowered
    /// below them).
    pub unused: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::assert_same_json;

    const NOW: u64 = 1_795_514_400_000_000;
    const SECOND: u64 = 1_000_000;

    /// What `appliance fleet status --json` printed before this type (`fleet_commands.rs`'s
    /// `json!`): the same keys in the same order, and the same `null`s.
    #[test]
    fn the_reply_reads_as_fleet_status_json_wrote_it() {
        let typed = FleetReply {
            database: "postgres://fleet@db:5432/fleet".into(),
            now_unix_us: NOW,
            live_within_us: 30 * SECOND,
            nodes: vec![
                FleetNode {
                    node: "node-a".into(),
                    live: true,
                    started_unix_us: Some(NOW - 3_600 * SECOND),
                    last_seen_unix_us: Some(NOW - 2 * SECOND),
                    revision: Some(Revision(7)),
                    committed_seq: Some(1_250),
                    version: Some("0.1.0".into()),
                    receipt_key: Some("ab".repeat(32)),
                    shipped_seq: Some(1_200),
                    shipped_unix_us: Some(NOW - 12 * SECOND),
                    lag_receipts: Some(50),
                    since_shipped_us: Some(12 * SECOND),
                    open_leases: 2,
                    units_held: 4_500,
                    taken_back: 0,
                    in_doubt: 0,
                },
                FleetNode {
                    node: "node-b".into(),
                    live: false,
                    started_unix_us: None,
                    last_seen_unix_us: None,
                    revision: None,
                    committed_seq: None,
                    version: None,
                    receipt_key: None,
                    shipped_seq: None,
                    shipped_unix_us: None,
                    lag_receipts: None,
                    since_shipped_us: None,
                    open_leases: 0,
                    units_held: 0,
                    taken_back: 1,
                    in_doubt: 14,
                },
            ],
            pools: vec![FleetPool {
                tenant: "acme".into(),
                purpose: None,
                class: "P1".into(),
                window: "day".into(),
                window_start_unix_us: 1_795_478_400 * SECOND,
                cap: 100_000,
                spent: 16,
                leased: 4_500,
                in_doubt: 14,
                unused: 95_470,
            }],
        };
        let none = Value::Null;
        let expected = json!({
            "database": "postgres://fleet@db:5432/fleet",
            "now_unix_us": NOW,
            "live_within_us": 30 * SECOND,
            "nodes": [
                {
                    "node": "node-a",
                    "live": true,
                    "started_unix_us": NOW - 3_600 * SECOND,
                    "last_seen_unix_us": NOW - 2 * SECOND,
                    "revision": 7,
                    "committed_seq": 1_250,
                    "version": "0.1.0",
                    "receipt_key": "ab".repeat(32),
                    "shipped_seq": 1_200,
                    "shipped_unix_us": NOW - 12 * SECOND,
                    "lag_receipts": 50,
                    "since_shipped_us": 12 * SECOND,
                    "open_leases": 2,
                    "units_held": 4_500,
                    "taken_back": 0,
                    "in_doubt": 0,
                },
                {
                    "node": "node-b",
                    "live": false,
                    "started_unix_us": none,
                    "last_seen_unix_us": none,
                    "revision": none,
                    "committed_seq": none,
                    "version": none,
                    "receipt_key": none,
                    "shipped_seq": none,
                    "shipped_unix_us": none,
                    "lag_receipts": none,
                    "since_shipped_us": none,
                    "open_leases": 0,
                    "units_held": 0,
                    "taken_back": 1,
                    "in_doubt": 14,
                },
            ],
            "pools": [{
                "tenant": "acme",
                "purpose": none,
                "class": "P1",
                "window": "day",
                "window_start_unix_us": 1_795_478_400 * SECOND,
                "cap": 100_000,
                "spent": 16,
                "leased": 4_500,
                "in_doubt": 14,
                "unused": 95_470,
            }],
        });
        assert_same_json(&typed, expected);
    }
}
