//! `GET /api/v1/status`: the policy in force, what a rollback would republish, and each shard's
//! revision.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{BundleHash, Revision, TenantId};

/// The reply of `GET /api/v1/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusReply {
    /// The revision in force (0: nothing promoted, the configuration file's tenants).
    pub revision: Revision,
    /// Its hash (zeros for revision 0).
    pub bundle_hash: BundleHash,
    /// The bundle in force; `null` for revision 0.
    #[schema(required = true)]
    pub bundle: Option<ActiveBundle>,
    /// The revision a rollback without `to` republishes; `null` when there is none.
    #[schema(required = true)]
    pub rollback_to: Option<Revision>,
    /// Every shard, by index.
    pub shards: Vec<ShardStatus>,
}

/// The bundle in force, from its signed manifest and contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActiveBundle {
    /// Who made the change.
    pub author: String,
    /// Why.
    pub note: String,
    /// Links to tickets or reviews.
    pub tickets: Vec<String>,
    /// When it was built, RFC 3339 UTC.
    pub created: String,
    /// For a rollback, the revision whose content it republishes; else `null`.
    #[schema(required = true)]
    pub republishes: Option<Revision>,
    /// The tenants it serves.
    pub tenants: Vec<TenantId>,
    /// Its Cedar policies' ids.
    pub policies: Vec<String>,
}

/// One shard as it last reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShardStatus {
    /// The shard's index (as receipts name it in `shard`).
    pub shard: u16,
    /// The revision it admits under.
    pub policy_revision: Revision,
    /// Open connections.
    pub connections: u64,
    /// Answers delivered since start.
    pub answered: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::assert_same_json;

    fn shards() -> (Vec<ShardStatus>, Value) {
        let pulses: [(u64, u64, u64); 2] = [(3, 2, 1_000), (3, 0, 17)];
        let typed = pulses
            .iter()
            .enumerate()
            .map(|(i, &(revision, connections, answered))| ShardStatus {
                shard: i as u16,
                policy_revision: Revision(revision),
                connections,
                answered,
            })
            .collect();
        // api.rs `status_value`: `summary["shards"] = ...`, appended after the rest.
        let value = pulses
            .iter()
            .enumerate()
            .map(|(i, (revision, connections, answered))| {
                json!({
                    "shard": i,
                    "policy_revision": revision,
                    "connections": connections,
                    "answered": answered,
                })
            })
            .collect();
        (typed, value)
    }

    #[test]
    fn status_with_a_bundle_in_force() {
        let (shards, shards_value) = shards();
        let typed = StatusReply {
            revision: Revision(3),
            bundle_hash: BundleHash("ab".repeat(32)),
            bundle: Some(ActiveBundle {
                author: "oncall".into(),
                note: "revision 2 broke acme".into(),
                tickets: vec!["https://tickets.example/42".into()],
                created: "2026-01-02T03:04:05Z".into(),
                republishes: Some(Revision(1)),
                tenants: vec!["demo".into(), "acme".into()],
                policies: vec!["bls-on-p1-and-p2".into(), "demo-everything".into()],
            }),
            rollback_to: Some(Revision(2)),
            shards,
        };
        let mut expected = json!({
            "revision": 3,
            "bundle_hash": "ab".repeat(32),
            "bundle": json!({
                "author": "oncall",
                "note": "revision 2 broke acme",
                "tickets": ["https://tickets.example/42"],
                "created": "2026-01-02T03:04:05Z",
                "republishes": Some(1),
                "tenants": ["demo", "acme"],
                "policies": ["bls-on-p1-and-p2", "demo-everything"],
            }),
            "rollback_to": Some(2),
        });
        expected["shards"] = shards_value;
        assert_same_json(&typed, expected);
    }

    #[test]
    fn status_before_any_promotion_has_nulls_not_gaps() {
        let (shards, shards_value) = shards();
        let typed = StatusReply {
            revision: Revision(0),
            bundle_hash: BundleHash("0".repeat(64)),
            bundle: None,
            rollback_to: None,
            shards,
        };
        let none: Option<u64> = None;
        let mut expected = json!({
            "revision": 0,
            "bundle_hash": "0".repeat(64),
            "bundle": Option::<Value>::None,
            "rollback_to": none,
        });
        expected["shards"] = shards_value;
        assert_same_json(&typed, expected);

        // A bundle that republishes nothing says so with null.
        let fresh = ActiveBundle {
            author: "policy team".into(),
            note: "first".into(),
            tickets: vec![],
            created: "2026-01-02T03:04:05Z".into(),
            republishes: None,
            tenants: vec![],
            policies: vec![],
        };
        assert_same_json(
            &fresh,
            json!({
                "author": "policy team",
                "note": "first",
                "tickets": Vec::<String>::new(),
                "created": "2026-01-02T03:04:05Z",
                "republishes": none,
                "tenants": Vec::<String>::new(),
                "policies": Vec::<String>::new(),
            }),
        );
    }
}
