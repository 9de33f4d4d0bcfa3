//! Changing the policy in force: `POST /api/v1/bundles/validate` (check a bundle as a promotion
//! would), `POST /api/v1/bundles/promote` (put it in force) and `POST /api/v1/bundles/rollback`
//! (republish an earlier revision's content). Validate and promote take the bundle's gzipped
//! tar archive as the request body, as built by `appliance bundle build`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{BundleHash, Revision};

/// The query of `POST /api/v1/bundles/validate`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams,
)]
#[into_params(parameter_in = Query)]
pub struct ValidateQuery {
    /// Accept caps below what tenants already spent in the current window (those tenants are
    /// refused until it resets). Default false.
    #[serde(default)]
    #[param(default = false)]
    pub allow_cap_below_spent: bool,
    /// Accept a bundle without the terms files of partners in the bundle in force (their
    /// tenants are dropped). Default false.
    #[serde(default)]
    #[param(default = false)]
    pub allow_partners_dropped: bool,
}

impl ValidateQuery {
    /// The query as a URL's query string (without `?`); empty when every field is default.
    pub fn to_query_string(&self) -> String {
        crate::receipt_search::query_string(&allowances(
            self.allow_cap_below_spent,
            self.allow_partners_dropped,
        ))
    }
}

/// The query of `POST /api/v1/bundles/promote`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PromoteQuery {
    /// Accept caps below what tenants already spent in the current window (those tenants are
    /// refused until it resets). Default false.
    #[serde(default)]
    #[param(default = false)]
    pub allow_cap_below_spent: bool,
    /// Accept a bundle without the terms files of partners in the bundle in force (their
    /// tenants are dropped). Default false.
    #[serde(default)]
    #[param(default = false)]
    pub allow_partners_dropped: bool,
    /// An approver letting the bundle through although the drift guard did not pass it (with
    /// `reason`); recorded in the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_by: Option<String>,
    /// Why (with `override_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PromoteQuery {
    /// The query as a URL's query string (without `?`); empty when every field is default.
    pub fn to_query_string(&self) -> String {
        let mut pairs = allowances(self.allow_cap_below_spent, self.allow_partners_dropped);
        if let Some(by) = &self.override_by {
            pairs.push(("override_by", by.clone()));
        }
        if let Some(reason) = &self.reason {
            pairs.push(("reason", reason.clone()));
        }
        crate::receipt_search::query_string(&pairs)
    }
}

/// The query pairs of the allowances validate and promote share, those set only.
fn allowances(cap_below_spent: bool, partners_dropped: bool) -> Vec<(&'static str, String)> {
    [
        ("allow_cap_below_spent", cap_below_spent),
        ("allow_partners_dropped", partners_dropped),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| (name, "true".to_owned()))
    .collect()
}

/// The reply of `POST /api/v1/bundles/validate` for a bundle a promotion would accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidateReply {
    /// Always true: a bundle that is not valid is answered with a `refused` error.
    pub valid: bool,
    /// The bundle's revision.
    pub revision: Revision,
    /// Its hash.
    pub hash: BundleHash,
    /// Who made it.
    pub author: String,
    /// Why.
    pub note: String,
}

/// A completed switch: the reply of `POST /api/v1/bundles/promote`,
/// `POST /api/v1/bundles/rollback` and `POST /api/v1/terms-requests/{id}/grant`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Switched {
    /// A promotion, a rollback, or a partner's terms granted.
    pub action: SwitchAction,
    /// The revision in force before.
    pub from_revision: Revision,
    /// The revision in force now.
    pub to_revision: Revision,
    /// Its hash.
    pub bundle_hash: BundleHash,
    /// For a rollback, the revision whose content was republished; absent for a promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub republishes: Option<Revision>,
    /// From staging the bundle's terms to every shard having prepared them (past charges for
    /// new caps read), milliseconds: the switch begins after it.
    pub prepared_ms: f64,
    /// From publishing to every shard reporting the new revision, milliseconds; `null` if some
    /// shard had not reported within the wait (5 s).
    #[schema(required = true)]
    pub all_shards_ms: Option<f64>,
    /// The timeline entry that records it.
    pub timeline_seq: u64,
    /// In fleet mode, which appliances of the fleet serve under the new revision once the
    /// promotion or rollback has waited for them; absent outside fleet mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetReach>,
}

/// Which appliances of a fleet serve under a revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FleetReach {
    /// Live appliances serving under it.
    pub switched: Vec<String>,
    /// Live appliances that had not switched when the wait ended, with the revision each
    /// served under: they follow the fleet's timeline and switch when they can (see their
    /// log).
    pub behind: Vec<NodeRevision>,
    /// Appliances not seen lately (no heartbeat within three lease periods): they switch when
    /// they return.
    pub down: Vec<String>,
}

/// An appliance of a fleet and the revision it serves under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeRevision {
    /// Its `[fleet] node` name.
    pub node: String,
    /// The revision it serves under.
    pub revision: Revision,
}

/// The body of `POST /api/v1/bundles/rollback`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RollbackRequest {
    /// Why, 1 to 2000 characters (kept in the timeline).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// The revision whose content to republish: one that was in force before and is not now.
    /// Absent or `null`: the one in force before the active one.
    #[serde(default)]
    pub to: Option<Revision>,
    /// Republish it even if it lacks the terms files of partners in force (onboarded after it):
    /// their tenants are dropped. Default false: such a rollback is refused, naming them.
    #[serde(default)]
    pub allow_partners_dropped: bool,
}

/// What a switch did. Serialised lowercase, as the timeline records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SwitchAction {
    /// A new bundle put in force.
    Promote,
    /// An earlier revision's content republished as a new revision.
    Rollback,
    /// A tenant added to the bundle in force under a partner's invite (`partner onboard`).
    Onboard,
    /// A partner's terms rewritten in the bundle in force: a terms request granted, by its
    /// invite's template or by an operator.
    Terms,
}

impl RollbackRequest {
    /// The longest reason accepted, bytes.
    pub const MAX_REASON_LEN: usize = 2000;
}

impl SwitchAction {
    /// The action as the reply and the timeline spell it.
    pub fn name(self) -> &'static str {
        match self {
            SwitchAction::Promote => "promote",
            SwitchAction::Rollback => "rollback",
            SwitchAction::Onboard => "onboard",
            SwitchAction::Terms => "terms",
        }
    }

    /// The action a timeline entry records, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "promote" => Some(SwitchAction::Promote),
            "rollback" => Some(SwitchAction::Rollback),
            "onboard" => Some(SwitchAction::Onboard),
            "terms" => Some(SwitchAction::Terms),
            _ => None,
        }
    }
}

impl std::fmt::Display for SwitchAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::assert_same_json;

    #[test]
    fn a_valid_bundle_reads_as_the_server_wrote_it() {
        let typed = ValidateReply {
            valid: true,
            revision: Revision(3),
            hash: BundleHash("cd".repeat(32)),
            author: "policy team".into(),
            note: "revision 3".into(),
        };
        // api.rs `validate`.
        assert_same_json(
            &typed,
            json!({
                "valid": true,
                "revision": 3u64,
                "hash": "cd".repeat(32),
                "author": "policy team",
                "note": "revision 3",
            }),
        );
    }

    /// promote.rs `Switched`'s derived Serialize, field for field.
    #[derive(Serialize)]
    struct ServerSwitched {
        action: &'static str,
        from_revision: u64,
        to_revision: u64,
        bundle_hash: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        republishes: Option<u64>,
        prepared_ms: f64,
        all_shards_ms: Option<f64>,
        timeline_seq: u64,
    }

    #[test]
    fn a_promotion_reads_as_the_server_wrote_it() {
        let typed = Switched {
            action: SwitchAction::Promote,
            from_revision: Revision(1),
            to_revision: Revision(2),
            bundle_hash: BundleHash("ef".repeat(32)),
            republishes: None,
            prepared_ms: 3.25,
            all_shards_ms: Some(0.5),
            timeline_seq: 2,
            fleet: None,
        };
        let server = ServerSwitched {
            action: "promote",
            from_revision: 1,
            to_revision: 2,
            bundle_hash: "ef".repeat(32),
            republishes: None,
            prepared_ms: 3.25,
            all_shards_ms: Some(0.5),
            timeline_seq: 2,
        };
        let expected = serde_json::to_value(&server).expect("serialises");
        assert!(expected.get("republishes").is_none());
        assert_same_json(&typed, expected);
    }

    #[test]
    fn a_rollback_names_what_it_republishes_and_a_late_shard_is_null() {
        let typed = Switched {
            action: SwitchAction::Rollback,
            from_revision: Revision(2),
            to_revision: Revision(3),
            bundle_hash: BundleHash("01".repeat(32)),
            republishes: Some(Revision(1)),
            prepared_ms: 12.0,
            all_shards_ms: None,
            timeline_seq: 3,
            fleet: None,
        };
        // api.rs `rollback_value`: `serde_json::to_value(switched)`.
        let server = ServerSwitched {
            action: "rollback",
            from_revision: 2,
            to_revision: 3,
            bundle_hash: "01".repeat(32),
            republishes: Some(1),
            prepared_ms: 12.0,
            all_shards_ms: None,
            timeline_seq: 3,
        };
        let expected = serde_json::to_value(&server).expect("serialises");
        assert_eq!(expected["all_shards_ms"], json!(null));
        assert_same_json(&typed, expected);
    }

    #[test]
    fn a_rollback_request_is_what_ctl_sends_and_the_server_accepts() {
        // ctl/mod.rs sends the reason, the revision and whether partners may be dropped.
        let to: Option<u64> = None;
        assert_same_json(
            &RollbackRequest {
                reason: "revision 2 broke acme".into(),
                to: None,
                allow_partners_dropped: false,
            },
            json!({ "reason": "revision 2 broke acme", "to": to, "allow_partners_dropped": false }),
        );
        assert_same_json(
            &RollbackRequest {
                reason: "x".into(),
                to: Some(Revision(1)),
                allow_partners_dropped: true,
            },
            json!({ "reason": "x", "to": 1, "allow_partners_dropped": true }),
        );
        // The tests and the console leave `to` out.
        let parsed: RollbackRequest =
            serde_json::from_str(r#"{"reason": "acme lost its signatures"}"#).expect("parses");
        assert_eq!(parsed.to, None);
        assert!(!parsed.allow_partners_dropped, "refused unless asked");
        assert!(serde_json::from_str::<RollbackRequest>(r#"{"to": 1}"#).is_err());
    }

    #[test]
    fn promote_query_defaults_to_refusing_caps_below_spent_and_partners_dropped() {
        let query: PromoteQuery = serde_json::from_value(json!({})).expect("parses");
        assert!(!query.allow_cap_below_spent && !query.allow_partners_dropped);
        assert_eq!(query.to_query_string(), "");
        let query: PromoteQuery =
            serde_json::from_value(json!({ "allow_cap_below_spent": true })).expect("parses");
        assert!(query.allow_cap_below_spent);
        let query: PromoteQuery =
            serde_json::from_value(json!({ "allow_partners_dropped": true })).expect("parses");
        assert!(query.allow_partners_dropped && !query.allow_cap_below_spent);
        assert_eq!(query.to_query_string(), "allow_partners_dropped=true");
        let query = ValidateQuery {
            allow_cap_below_spent: true,
            allow_partners_dropped: true,
        };
        assert_eq!(
            query.to_query_string(),
            "allow_cap_below_spent=true&allow_partners_dropped=true"
        );
        assert_eq!(ValidateQuery::default().to_query_string(), "");
    }

    #[test]
    fn actions_are_spelled_as_the_timeline_records_them() {
        for action in [
            SwitchAction::Promote,
            SwitchAction::Rollback,
            SwitchAction::Onboard,
            SwitchAction::Terms,
        ] {
            assert_eq!(json!(action), json!(action.name()));
            assert_eq!(SwitchAction::from_name(action.name()), Some(action));
        }
        assert_eq!(SwitchAction::from_name("reload"), None);
    }
}
