//! Reading policy bundles: `GET /api/v1/bundles` (the timeline of promotions and rollbacks) and
//! `GET /api/v1/bundles/{revision}/diff` (what one stored revision changes against another).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::drift::TimelineDrift;
use crate::ids::{BundleHash, Revision};
use crate::switch::SwitchAction;

/// The reply of `GET /api/v1/bundles`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineReply {
    /// Every promotion and rollback, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// The control plane's latest events (at most 50), oldest first: its alarms (scenario
    /// packs that failed or did not run, the golden canary's alarms raised and over),
    /// partner invites made, revoked and used, and partners' terms requests made, granted and
    /// declined. Absent from appliances older than it.
    #[serde(default)]
    pub events: Vec<ControlEvent>,
}

/// An event of the control plane, as the timeline shows it beside the switches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ControlEvent {
    /// Its number among the control plane's events (its own order, not the timeline's).
    pub seq: u64,
    /// When, RFC 3339 UTC to the second.
    pub at: String,
    /// When, Unix microseconds.
    pub at_unix_us: u64,
    /// `scenario.failed`, `canary.alarm` or `canary.recovered` (alarms, and the webhook event
    /// types they are sent as), `invite.created`, `invite.revoked`, `invite.used`,
    /// `terms.requested`, `terms.granted`, `terms.declined` or `partner.step_failed` (also a
    /// webhook event type).
    pub kind: String,
    /// What happened, in words.
    pub summary: String,
}

/// One promotion or rollback, as the ledger's timeline recorded it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// Its place in the timeline.
    pub seq: u64,
    /// When, RFC 3339 UTC to the second.
    pub at: String,
    /// When, Unix microseconds.
    pub at_unix_us: u64,
    /// A promotion, a rollback, an onboarding or a partner's terms granted.
    pub action: SwitchAction,
    /// Who: the admin token's name.
    pub actor: String,
    /// Why: the bundle's note, or the rollback's reason.
    pub reason: String,
    /// The revision in force before (0: none).
    pub from_revision: Revision,
    /// The revision put in force.
    pub to_revision: Revision,
    /// That bundle's hash.
    pub bundle_hash: BundleHash,
    /// Ticket links.
    pub links: Vec<String>,
    /// For a promotion: what the drift guard said of the bundle and who overrode it. Absent
    /// when it was not judged on this appliance and nobody overrode it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<TimelineDrift>,
    /// What the golden canary saw in its runs after the switch against its runs before.
    /// Absent until it has judged (a window of runs after the switch), and when it does not
    /// run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<TimelineCanary>,
}

/// The golden canary's runs after a switch judged against its runs before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineCanary {
    /// `pass`, `marginal` (something lacked data or was marginal) or `fail`.
    pub overall: String,
    /// What it saw, in words.
    pub summary: String,
    /// When it judged, RFC 3339 UTC to the second.
    pub judged: String,
}

impl TimelineCanary {
    /// In words, as `appliance ctl timeline` and the console show it.
    pub fn text(&self) -> String {
        format!("canary after it: {}, {}", self.overall, self.summary)
    }
}

/// The path of `GET /api/v1/bundles/{revision}/diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DiffPath {
    /// The stored revision to compare (the newer side).
    pub revision: Revision,
}

/// The query of `GET /api/v1/bundles/{revision}/diff`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams,
)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The stored revision to compare against (the older side); default the one in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against: Option<Revision>,
}

/// The reply of `GET /api/v1/bundles/{revision}/diff`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiffReply {
    /// The revision compared against (`against`, or the one in force).
    pub old: RevisionRef,
    /// The revision in the path.
    pub new: RevisionRef,
    /// Every difference from `old` to `new`, section by section.
    pub changes: Vec<DiffLine>,
}

/// A stored revision and its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevisionRef {
    /// The revision.
    pub revision: Revision,
    /// Its hash.
    pub hash: BundleHash,
}

/// One difference between two bundles, in the terms an operator reviews. A typed mirror of
/// `tf_bundles::DiffLine`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiffLine {
    /// `tenants`, `budgets`, `policies` or `keys`.
    pub section: String,
    /// How it changed.
    pub change: DiffChange,
    /// What changed: a tenant id, a cap, a policy id, a key name.
    pub subject: String,
    /// Before, where there was one (absent for `added`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// After, where there is one (absent for `removed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// How a thing changed between two bundles. Serialised lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DiffChange {
    /// Only in the newer bundle.
    Added,
    /// Only in the older bundle.
    Removed,
    /// In both, different.
    Changed,
}

impl DiffChange {
    /// The change as the reply spells it.
    pub fn name(self) -> &'static str {
        match self {
            DiffChange::Added => "added",
            DiffChange::Removed => "removed",
            DiffChange::Changed => "changed",
        }
    }
}

impl std::fmt::Display for DiffChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::assert_same_json;

    #[test]
    fn the_timeline_reads_as_the_server_wrote_it() {
        // tf_ledger::TimelineEvent fields: (seq, at_us, action, actor, reason, from, to, links,
        // hash).
        let events = [
            (
                1u64,
                1_767_323_045_000_123u64,
                "promote",
                "policy-team",
                "first",
                0u64,
                1u64,
                vec!["https://tickets.example/1"],
                "aa",
            ),
            (
                2,
                1_767_409_445_500_000,
                "rollback",
                "oncall",
                "revision 2 broke acme",
                1,
                2,
                vec![],
                "bb",
            ),
        ];
        let at = ["2026-01-02T03:04:05Z", "2026-01-03T03:04:05Z"];
        let typed = TimelineReply {
            timeline: events
                .iter()
                .zip(at)
                .map(
                    |((seq, at_us, action, actor, reason, from, to, links, hash), at)| {
                        TimelineEntry {
                            seq: *seq,
                            at: at.into(),
                            at_unix_us: *at_us,
                            action: if *action == "promote" {
                                SwitchAction::Promote
                            } else {
                                SwitchAction::Rollback
                            },
                            actor: (*actor).into(),
                            reason: (*reason).into(),
                            from_revision: Revision(*from),
                            to_revision: Revision(*to),
                            bundle_hash: BundleHash((*hash).into()),
                            links: links.iter().map(|l| (*l).into()).collect(),
                            drift: None,
                            canary: None,
                        }
                    },
                )
                .collect(),
            events: vec![ControlEvent {
                seq: 3,
                at: "2026-01-04T02:30:01Z".into(),
                at_unix_us: 1_767_493_801_000_000,
                kind: "scenario.failed".into(),
                summary: "scenario pack quiet-hour failed: drift at most 1 % (bound 100.000 %)"
                    .into(),
            }],
        };
        // api.rs `timeline_value` (`at` is tf_budgets::format_utc(at_us / 1_000_000)).
        let expected = json!({
            "timeline": events.iter().zip(at).map(|((seq, at_us, action, actor, reason, from, to, links, hash), at)| json!({
                "seq": seq,
                "at": at,
                "at_unix_us": at_us,
                "action": action,
                "actor": actor,
                "reason": reason,
                "from_revision": from,
                "to_revision": to,
                "bundle_hash": hash,
                "links": links,
            })).collect::<Vec<Value>>(),
            "events": [{
                "seq": 3,
                "at": "2026-01-04T02:30:01Z",
                "at_unix_us": 1_767_493_801_000_000u64,
                "kind": "scenario.failed",
                "summary": "scenario pack quiet-hour failed: drift at most 1 % (bound 100.000 %)",
            }],
        });
        assert_same_json(&typed, expected);
    }

    #[test]
    fn a_diff_reads_as_the_server_wrote_it() {
        let typed = DiffReply {
            old: RevisionRef {
                revision: Revision(2),
                hash: BundleHash("aa".repeat(32)),
            },
            new: RevisionRef {
                revision: Revision(1),
                hash: BundleHash("bb".repeat(32)),
            },
            changes: vec![
                DiffLine {
                    section: "tenants".into(),
                    change: DiffChange::Added,
                    subject: "globex".into(),
                    before: None,
                    after: Some("weight 1, 1000 requests/s, burst 500".into()),
                },
                DiffLine {
                    section: "budgets".into(),
                    change: DiffChange::Changed,
                    subject: "cap of acme for every purpose, P1 per day".into(),
                    before: Some("300".into()),
                    after: Some("303".into()),
                },
                DiffLine {
                    section: "policies".into(),
                    change: DiffChange::Removed,
                    subject: "bls-on-p1-and-p2".into(),
                    before: Some("permit (principal, action, resource);".into()),
                    after: None,
                },
            ],
        };
        // api.rs `diff_value`; `changes` is tf_bundles::DiffLine's derived Serialize (lowercase
        // change, missing sides skipped).
        let expected = json!({
            "old": { "revision": 2u64, "hash": "aa".repeat(32) },
            "new": { "revision": 1u64, "hash": "bb".repeat(32) },
            "changes": [
                {
                    "section": "tenants",
                    "change": "added",
                    "subject": "globex",
                    "after": "weight 1, 1000 requests/s, burst 500",
                },
                {
                    "section": "budgets",
                    "change": "changed",
                    "subject": "cap of acme for every purpose, P1 per day",
                    "before": "300",
                    "after": "303",
                },
                {
                    "section": "policies",
                    "change": "removed",
                    "subject": "bls-on-p1-and-p2",
                    "before": "permit (principal, action, resource);",
                },
            ],
        });
        assert_same_json(&typed, expected);
    }

    #[test]
    fn changes_are_named_as_serialised() {
        for change in [DiffChange::Added, DiffChange::Removed, DiffChange::Changed] {
            assert_eq!(json!(change), json!(change.name()));
            assert_eq!(change.to_string(), change.name());
        }
    }

    #[test]
    fn the_diff_query_and_path_parse_as_the_server_parsed_them() {
        let query: DiffQuery = serde_json::from_value(json!({})).expect("no against");
        assert_eq!(query.against, None);
        let query: DiffQuery = serde_json::from_value(json!({ "against": 3 })).expect("against");
        assert_eq!(query.against, Some(Revision(3)));
        let path: DiffPath = serde_json::from_value(json!({ "revision": 4 })).expect("path");
        assert_eq!(path.revision, Revision(4));
    }
}
