//! The events auditors subscribe to, and the bodies that carry them.
//!
//! Bodies take the spec's recommended shape, `{"type", "timestamp", "data"}`, with the type a
//! full-stop delimited name of `[a-z_]` parts. Receipts are the evidence auditors keep, so a
//! `receipt.issued` body carries each DSSE envelope as a JSON string holding the exact text it
//! was issued as: the transparency log commits to the SHA-256 of those bytes, and any JSON
//! parser, in any language, gives them back (an envelope embedded as an object would come
//! back re-serialised). Compliance packets keep receipts the same way.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::civil::rfc3339_utc;

/// The spec's advice for the largest body worth sending; callers size receipt batches by it.
pub const RECOMMENDED_MAX_BODY_BYTES: usize = 20 * 1024;

/// An event type auditors can subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EventType {
    /// Receipts were issued (a batch of them).
    #[serde(rename = "receipt.issued")]
    ReceiptIssued,
    /// A policy bundle was promoted to active.
    #[serde(rename = "bundle.promoted")]
    BundlePromoted,
    /// A policy bundle was rolled back.
    #[serde(rename = "bundle.rolled_back")]
    BundleRolledBack,
    /// A privacy budget ran out.
    #[serde(rename = "budget.exhausted")]
    BudgetExhausted,
    /// A compliance snapshot was sealed.
    #[serde(rename = "snapshot.sealed")]
    SnapshotSealed,
    /// The golden canary raised an alarm.
    #[serde(rename = "canary.alarm")]
    CanaryAlarm,
    /// A nightly scenario pack failed its expectations, or did not run.
    #[serde(rename = "scenario.failed")]
    ScenarioFailed,
    /// A partner's onboarding step failed (an invite refused, terms refused): the step, the
    /// error and what to do, for whoever supports partners.
    #[serde(rename = "partner.step_failed")]
    PartnerStepFailed,
}

/// An event type name that is not one of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event type; expected one of receipt.issued, bundle.promoted, bundle.rolled_back, \
     budget.exhausted, snapshot.sealed, canary.alarm, scenario.failed, partner.step_failed"
)]
pub struct UnknownEventType;

impl EventType {
    /// Every event type, in documentation order.
    pub const ALL: [EventType; 8] = [
        Self::ReceiptIssued,
        Self::BundlePromoted,
        Self::BundleRolledBack,
        Self::BudgetExhausted,
        Self::SnapshotSealed,
        Self::CanaryAlarm,
        Self::ScenarioFailed,
        Self::PartnerStepFailed,
    ];

    /// The wire name, e.g. `receipt.issued`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReceiptIssued => "receipt.issued",
            Self::BundlePromoted => "bundle.promoted",
            Self::BundleRolledBack => "bundle.rolled_back",
            Self::BudgetExhausted => "budget.exhausted",
            Self::SnapshotSealed => "snapshot.sealed",
            Self::CanaryAlarm => "canary.alarm",
            Self::ScenarioFailed => "scenario.failed",
            Self::PartnerStepFailed => "partner.step_failed",
        }
    }

    /// Reads a wire name (exact, case-sensitive).
    pub fn parse(name: &str) -> Result<Self, UnknownEventType> {
        Self::ALL
            .into_iter()
            .find(|event| event.as_str() == name)
            .ok_or(UnknownEventType)
    }
}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of any event: `{"type": …, "timestamp": …, "data": …}`.
pub fn event_body<D: Serialize>(
    event: EventType,
    occurred_at_us: u64,
    data: &D,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Body {
        event,
        timestamp: rfc3339_utc(occurred_at_us),
        data,
    })
}

/// The body of a `receipt.issued` batch: `data: {"receipts": [{seq, log_index?, envelope}]}`.
pub fn receipt_issued_body(occurred_at_us: u64, receipts: &[ReceiptEntry<'_>]) -> Vec<u8> {
    event_body(
        EventType::ReceiptIssued,
        occurred_at_us,
        &Receipts { receipts },
    )
    .expect("integers and strings always serialise")
}

/// The `webhook-id` of a receipt batch to one endpoint: `msg_receipts_{endpoint}_{first}_{last}`.
///
/// Deterministic, so every retry (and a resend after a restart) carries the same idempotency
/// key; decimal digits and `_` only, so no `.` can blur the signed content's fields.
pub fn webhook_id(endpoint_id: u64, first_seq: u64, last_seq: u64) -> String {
    format!("msg_receipts_{endpoint_id}_{first_seq}_{last_seq}")
}

/// The `webhook-id` of a single event to one endpoint: `msg_{kind}_{endpoint}_{key}`, where
/// `key` is what the event is unique by (a receipt's sequence number, a timeline event's).
/// Deterministic like [`webhook_id`]; the kind keeps events of different types apart.
pub fn event_webhook_id(endpoint_id: u64, event: EventType, key: u64) -> String {
    let kind = match event {
        EventType::ReceiptIssued => "receipt",
        EventType::BundlePromoted => "promoted",
        EventType::BundleRolledBack => "rolledback",
        EventType::BudgetExhausted => "budget",
        EventType::SnapshotSealed => "snapshot",
        EventType::CanaryAlarm => "canary",
        EventType::ScenarioFailed => "scenario",
        EventType::PartnerStepFailed => "partnerstep",
    };
    format!("msg_{kind}_{endpoint_id}_{key}")
}

/// One receipt of a batch: its ledger sequence, its log index once the log has it, and its
/// DSSE envelope's exact text as a JSON string.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ReceiptEntry<'a> {
    /// The receipt's ledger sequence number.
    pub seq: u64,
    /// Its entry in the transparency log, absent until the log holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// The envelope exactly as issued.
    pub envelope: &'a str,
}

#[derive(Serialize)]
struct Body<'a, D> {
    #[serde(rename = "type")]
    event: EventType,
    timestamp: String,
    data: &'a D,
}

#[derive(Serialize)]
struct Receipts<'a, 'b> {
    receipts: &'a [ReceiptEntry<'b>],
}

#[cfg(test)]
mod tests;
