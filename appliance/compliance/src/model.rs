//! The packet's JSON files as types: what the writer serialises is what the verifier parses,
//! strictly (unknown fields are refused).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::error::SnapshotError;

/// `period.json`: what the packet covers, when it was made, and the appliance it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodFile {
    /// The packet's name (`snapshot-20261202T000000Z`).
    pub snapshot: String,
    /// Start of the period, Unix microseconds (inclusive).
    pub from_unix_us: u64,
    /// End of the period, Unix microseconds (exclusive).
    pub to_unix_us: u64,
    /// The period's start as UTC, for people (`2026-12-01T00:00:00Z`).
    pub from_utc: String,
    /// The period's end as UTC, for people.
    pub to_utc: String,
    /// When the packet was made, Unix microseconds.
    pub made_at_unix_us: u64,
    /// The appliance key that signed the receipts and the index.
    pub appliance_key_id: String,
    /// What the caller knew of the appliance when the packet was made.
    pub context: SnapshotContext,
}

/// What the maker of a snapshot knows of the appliance and passes in: it is recorded in
/// `period.json` as given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotContext {
    /// The appliance's version (`CARGO_PKG_VERSION` of the binary, and its build if known).
    pub appliance_version: String,
    /// The policy bundle in force when the packet was made; `None` before the first promotion.
    pub active_bundle: Option<ActiveBundle>,
    /// SHA-256 of the effective configuration file's bytes.
    pub config_sha256: Sha256Digest,
    /// The host preflight's result when the packet was made.
    pub preflight: PreflightResult,
}

/// A policy bundle revision and the hash of its signed manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveBundle {
    /// The bundle revision.
    pub revision: u64,
    /// Hex SHA-256 of its signed manifest, as the ledger's bundle store names it.
    pub hash: String,
}

/// The preflight's verdict: the worst of its checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreflightResult {
    /// The worst status among the checks.
    pub status: CheckStatus,
    /// Each check, as the preflight printed it.
    pub checks: Vec<PreflightCheck>,
}

/// One preflight check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreflightCheck {
    /// What was checked.
    pub name: String,
    /// Its verdict.
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
}

/// A preflight check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CheckStatus {
    /// Fine.
    Pass,
    /// Runs, but slower or less safely than it should.
    Warn,
    /// The appliance refuses to serve.
    Fail,
}

/// `timeline.json`: the promotions and rollbacks of the period, and the one in force at its
/// start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineFile {
    /// Start of the period, Unix microseconds.
    pub from_unix_us: u64,
    /// End of the period, Unix microseconds (exclusive).
    pub to_unix_us: u64,
    /// The last event before the period: the policy in force at its start (`None`: nothing
    /// was promoted yet).
    pub in_force_at_start: Option<PolicyEvent>,
    /// Every event of the period, in the timeline's order.
    pub events: Vec<PolicyEvent>,
}

/// One promotion or rollback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyEvent {
    /// Its place in the ledger's timeline.
    pub seq: u64,
    /// When, Unix microseconds.
    pub at_unix_us: u64,
    /// `promote` or `rollback`.
    pub action: String,
    /// Who: the admin token's name.
    pub actor: String,
    /// Why: the bundle's change note, or the rollback's reason.
    pub reason: String,
    /// Ticket links.
    pub links: Vec<String>,
    /// The revision in force before (0: none).
    pub from_revision: u64,
    /// The revision put in force.
    pub to_revision: u64,
    /// The hash of the bundle put in force.
    pub bundle_hash: String,
}

impl From<&tf_ledger::TimelineEvent> for PolicyEvent {
    fn from(event: &tf_ledger::TimelineEvent) -> Self {
        PolicyEvent {
            seq: event.seq,
            at_unix_us: event.at_us,
            action: event.action.clone(),
            actor: event.actor.clone(),
            reason: event.reason.clone(),
            links: event.links.clone(),
            from_revision: event.from_revision,
            to_revision: event.to_revision,
            bundle_hash: event.bundle_hash.clone(),
        }
    }
}

/// One line of `budgets/<tenant>.charges.jsonl`: a receipt that charged the budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeLine<'a> {
    /// The receipt's ledger sequence number.
    pub seq: u64,
    /// When it was decided, Unix microseconds.
    pub decided_unix_us: u64,
    /// The purpose.
    #[serde(borrow)]
    pub purpose: Cow<'a, str>,
    /// The dataset class.
    #[serde(borrow)]
    pub dataset_class: Cow<'a, str>,
    /// The verdict (`valid`, `invalid`, `rejected`).
    #[serde(borrow)]
    pub verdict: Cow<'a, str>,
    /// Budget units charged.
    pub charged: u64,
}

/// First and last ledger sequence numbers of a run of receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeqRange {
    /// The first.
    pub first: u64,
    /// The last (inclusive).
    pub last: u64,
}

impl SeqRange {
    /// Widens the range to hold `seq` (a range of one to begin with).
    pub(crate) fn hold(range: &mut Option<SeqRange>, seq: u64) {
        match range {
            Some(range) => {
                range.first = range.first.min(seq);
                range.last = range.last.max(seq);
            }
            None => {
                *range = Some(SeqRange {
                    first: seq,
                    last: seq,
                })
            }
        }
    }

    /// Whether `seq` is inside.
    pub fn contains(&self, seq: u64) -> bool {
        (self.first..=self.last).contains(&seq)
    }
}

/// `log/range.json`: where the period's receipts are in the transparency log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRange {
    /// The log's verifier key (C2SP signed-note `vkey`) the checkpoint verifies with.
    pub vkey: String,
    /// The log's origin, as the checkpoint names it.
    pub origin: String,
    /// The size of the checkpoint's tree.
    pub tree_size: u64,
    /// First and last ledger sequence numbers (log indices) of the period's receipts; `None`
    /// when the period has none.
    pub receipts: Option<SeqRange>,
}

/// `auditors.json`: what auditors' webhook endpoints were sent of the period's receipts, and
/// what they acknowledged, as the appliance stored it when the packet was made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditorReferences {
    /// One per endpoint sent any of the period's receipts, by endpoint id.
    pub webhook_deliveries: Vec<WebhookDelivery>,
}

/// One endpoint's deliveries of the period's receipts (`receipt.issued` messages; a replayed
/// message counts again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDelivery {
    /// The endpoint's id (in its messages' `webhook-id`s).
    pub endpoint: u64,
    /// Where its messages go.
    pub url: String,
    /// The period's receipts its messages carried: first and last sequence number.
    pub receipts: SeqRange,
    /// Messages carrying any of them.
    pub messages: u64,
    /// Of those, acknowledged with a 2xx.
    pub acknowledged: u64,
    /// Still being retried when the packet was made (a message is sent within seconds, so the
    /// period's last ones often are).
    pub owed: u64,
    /// Given up on after the retry ladder.
    pub given_up: u64,
    /// When the last of them was acknowledged, Unix microseconds; `None` if none was.
    pub last_acknowledged_unix_us: Option<u64>,
    /// The auditor reference: hex SHA-256 of one line per acknowledged message in the
    /// endpoint's order, `{webhook-id} {hex SHA-256 of its answer}\n`, where an answer's
    /// SHA-256 is over its status as three digits, a newline, and its body. A receiver that
    /// kept what it answered reproduces it.
    pub acknowledgements_sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_lines_borrow_when_they_can_and_refuse_unknown_fields() {
        let line = ChargeLine {
            seq: 7,
            decided_unix_us: 1_000,
            purpose: Cow::Borrowed("kyc"),
            dataset_class: Cow::Borrowed("P0"),
            verdict: Cow::Borrowed("invalid"),
            charged: 2,
        };
        let json = serde_json::to_string(&line).expect("serialises");
        assert_eq!(
            json,
            r#"{"seq":7,"decided_unix_us":1000,"purpose":"kyc","dataset_class":"P0","verdict":"invalid","charged":2}"#
        );
        let parsed: ChargeLine<'_> = serde_json::from_str(&json).expect("parses");
        assert!(matches!(parsed.purpose, Cow::Borrowed(_)));
        assert_eq!(parsed, line);
        let extra = json.replace("}", r#","note":"x"}"#);
        assert!(serde_json::from_str::<ChargeLine<'_>>(&extra).is_err());
    }

    #[test]
    fn seq_ranges_widen_to_hold_each_number() {
        let mut range = None;
        for seq in [5, 3, 9] {
            SeqRange::hold(&mut range, seq);
        }
        let range = range.expect("three numbers held");
        assert_eq!(range, SeqRange { first: 3, last: 9 });
        assert!(range.contains(3) && range.contains(9) && !range.contains(10));
    }

    #[test]
    fn the_auditors_section_starts_empty_and_is_typed() {
        let json = serde_json::to_string(&AuditorReferences::default()).expect("serialises");
        assert_eq!(json, r#"{"webhook_deliveries":[]}"#);
        let delivery = r#"{"webhook_deliveries":[{"endpoint":1,"url":"https://a.example/",
            "receipts":{"first":1,"last":9},"messages":2,"acknowledged":1,"owed":1,
            "given_up":0,"last_acknowledged_unix_us":5,"acknowledgements_sha256":"00"}]}"#;
        let parsed: AuditorReferences = serde_json::from_str(delivery).expect("parses");
        assert_eq!(parsed.webhook_deliveries[0].acknowledged, 1);
        assert!(serde_json::from_str::<AuditorReferences>(r#"{"deliveries":[]}"#).is_err());
    }
}

/// A period of receipts, by the time they were decided: `[from, to)`, Unix microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    from_us: u64,
    to_us: u64,
}

impl Period {
    /// The period `[from_us, to_us)`; its end must be after its start.
    pub fn new(from_us: u64, to_us: u64) -> Result<Self, SnapshotError> {
        if to_us <= from_us {
            return Err(SnapshotError::EmptyPeriod { from_us, to_us });
        }
        Ok(Period { from_us, to_us })
    }

    /// Its start (inclusive).
    pub fn from_us(&self) -> u64 {
        self.from_us
    }

    /// Its end (exclusive).
    pub fn to_us(&self) -> u64 {
        self.to_us
    }
}
