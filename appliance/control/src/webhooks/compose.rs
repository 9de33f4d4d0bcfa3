//! The messages an endpoint is owed for what the ledger committed: its tenants' receipts in
//! `receipt.issued` batches, a `budget.exhausted` when a charge leaves a budget at zero, a
//! `snapshot.sealed` for each compliance snapshot anchored, the bundle timeline's promotions
//! and rollbacks, and the control plane's alarms (`scenario.failed`). Order is kept: a batch is
//! closed before any other event.

use serde::Serialize;
use tf_ledger::{ControlEvent, LedgerRecord, TimelineEvent};
use tf_receipts::{Envelope, Receipt};
use tf_seam::ANCHOR_TENANT;
use tf_webhooks::{
    EndpointSettings, EventType, ReceiptEntry, event_body, event_webhook_id, receipt_issued_body,
    webhook_id,
};

/// A message ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    /// Its `webhook-id`.
    pub id: String,
    /// Its event.
    pub event: EventType,
    /// The first and last receipt it carries, if any.
    pub receipts: Option<(u64, u64)>,
    /// When what it tells of happened, Unix microseconds.
    pub occurred_us: u64,
    /// The body.
    pub body: Vec<u8>,
}

impl Composed {
    /// The message as the ledger stores it.
    pub fn to_store(&self) -> tf_ledger::NewMessage<'_> {
        tf_ledger::NewMessage {
            id: &self.id,
            event: self.event.as_str(),
            receipts: self.receipts,
            occurred_us: self.occurred_us,
            body: &self.body,
        }
    }
}

/// The messages `records` (in sequence order) owe endpoint `endpoint`.
pub fn compose_receipts(
    endpoint: u64,
    settings: &EndpointSettings,
    records: &[LedgerRecord],
) -> Vec<Composed> {
    let mut composed = Vec::new();
    let mut batch: Vec<&LedgerRecord> = Vec::new();
    let batch_max = settings.batch_max.max(1) as usize;
    for record in records {
        if record.tenant == ANCHOR_TENANT {
            if settings.wants(EventType::SnapshotSealed)
                && let Some(sealed) = snapshot_sealed(endpoint, record)
            {
                close_batch(endpoint, &mut batch, &mut composed);
                composed.push(sealed);
            }
            continue;
        }
        if !settings.covers(&record.tenant) {
            continue;
        }
        if settings.wants(EventType::ReceiptIssued) {
            batch.push(record);
            if batch.len() == batch_max {
                close_batch(endpoint, &mut batch, &mut composed);
            }
        }
        if settings.wants(EventType::BudgetExhausted)
            && let Some(exhausted) = budget_exhausted(endpoint, record)
        {
            close_batch(endpoint, &mut batch, &mut composed);
            composed.push(exhausted);
        }
    }
    close_batch(endpoint, &mut batch, &mut composed);
    composed
}

/// The messages the bundle timeline's `events` owe endpoint `endpoint`.
pub fn compose_timeline(
    endpoint: u64,
    settings: &EndpointSettings,
    events: &[TimelineEvent],
) -> Vec<Composed> {
    events
        .iter()
        .filter_map(|event| {
            let kind = match event.action.as_str() {
                "promote" => EventType::BundlePromoted,
                "rollback" => EventType::BundleRolledBack,
                _ => return None,
            };
            settings.wants(kind).then(|| {
                single(
                    endpoint,
                    kind,
                    (event.seq, None),
                    event.at_us,
                    &BundleSwitch::of(event),
                )
            })
        })
        .collect()
}

/// The event types a control event may be sent as (alarms, and partners' failed steps).
pub const ALARMS: [EventType; 3] = [
    EventType::ScenarioFailed,
    EventType::CanaryAlarm,
    EventType::PartnerStepFailed,
];

/// The messages the control plane's alarms `events` owe endpoint `endpoint`: each alarm is
/// sent as the event type it was recorded as, with its data as recorded. An alarm of a type
/// that is not an alarm's is skipped. An endpoint with a tenant list gets none: an alarm's
/// details name any tenant.
pub fn compose_events(
    endpoint: u64,
    settings: &EndpointSettings,
    events: &[ControlEvent],
) -> Vec<Composed> {
    if settings.tenants.is_some() {
        return Vec::new();
    }
    events
        .iter()
        .filter_map(|event| {
            let kind = EventType::parse(&event.kind)
                .ok()
                .filter(|kind| ALARMS.contains(kind))?;
            let data: serde_json::Value = serde_json::from_str(&event.body).ok()?;
            settings
                .wants(kind)
                .then(|| single(endpoint, kind, (event.seq, None), event.at_us, &data))
        })
        .collect()
}

fn close_batch(endpoint: u64, batch: &mut Vec<&LedgerRecord>, composed: &mut Vec<Composed>) {
    let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
        return;
    };
    let (first, last) = (first.seq(), last.seq());
    let occurred_us = batch
        .iter()
        .map(|r| r.receipt.decided_us)
        .max()
        .unwrap_or_default();
    let entries: Vec<ReceiptEntry<'_>> = batch
        .iter()
        .map(|record| ReceiptEntry {
            seq: record.seq(),
            // The log's entry for a receipt is its sequence number.
            log_index: Some(record.seq()),
            envelope: &record.receipt.envelope_json,
        })
        .collect();
    composed.push(Composed {
        id: webhook_id(endpoint, first, last),
        event: EventType::ReceiptIssued,
        receipts: Some((first, last)),
        occurred_us,
        body: receipt_issued_body(occurred_us, &entries),
    });
    batch.clear();
}

/// The receipt inside a stored envelope; `None` if it does not read (the ledger checked it
/// when storing it, so that is damage the log and snapshots report, not ours to).
fn receipt_of(record: &LedgerRecord) -> Option<Receipt> {
    let envelope = Envelope::from_json(&record.receipt.envelope_json).ok()?;
    serde_json::from_slice(&envelope.payload).ok()
}

fn budget_exhausted(endpoint: u64, record: &LedgerRecord) -> Option<Composed> {
    if record.receipt.charged == 0 {
        return None;
    }
    let receipt = receipt_of(record)?;
    if receipt.budget_remaining != Some(0) {
        return None;
    }
    let data = BudgetExhausted {
        tenant: &record.tenant,
        purpose: &receipt.purpose,
        dataset_class: &receipt.dataset_class,
        seq: record.seq(),
        charged: receipt.budget_charged,
    };
    Some(single(
        endpoint,
        EventType::BudgetExhausted,
        (record.seq(), Some(record.seq())),
        record.receipt.decided_us,
        &data,
    ))
}

fn snapshot_sealed(endpoint: u64, record: &LedgerRecord) -> Option<Composed> {
    let receipt = receipt_of(record)?;
    let data = SnapshotSealed {
        snapshot: receipt
            .reason
            .as_deref()
            .and_then(|reason| reason.split_whitespace().nth(1))
            .unwrap_or_default(),
        index_sha256: &receipt.statement_digest,
        seq: record.seq(),
        log_index: record.seq(),
        envelope: &record.receipt.envelope_json,
    };
    Some(single(
        endpoint,
        EventType::SnapshotSealed,
        (record.seq(), Some(record.seq())),
        record.receipt.decided_us,
        &data,
    ))
}

/// One event's message; `key` is what its id is unique by, and the receipt it tells of if it
/// comes from one (so a replay knows where to compose it from again).
fn single<D: Serialize>(
    endpoint: u64,
    event: EventType,
    (key, receipt): (u64, Option<u64>),
    occurred_us: u64,
    data: &D,
) -> Composed {
    Composed {
        id: event_webhook_id(endpoint, event, key),
        event,
        receipts: receipt.map(|seq| (seq, seq)),
        occurred_us,
        body: event_body(event, occurred_us, data)
            .expect("plain structs of strings and numbers serialise"),
    }
}

/// `budget.exhausted`: a charge left one of the tenant's budgets at zero.
#[derive(Serialize)]
struct BudgetExhausted<'a> {
    tenant: &'a str,
    purpose: &'a str,
    dataset_class: &'a str,
    /// The receipt whose charge used the last of it.
    seq: u64,
    charged: u64,
}

/// `snapshot.sealed`: a compliance snapshot's index was anchored in the log.
#[derive(Serialize)]
struct SnapshotSealed<'a> {
    snapshot: &'a str,
    index_sha256: &'a str,
    /// The anchor receipt's sequence number (its log index).
    seq: u64,
    log_index: u64,
    /// The anchor receipt exactly as issued.
    envelope: &'a str,
}

/// `bundle.promoted` and `bundle.rolled_back`.
#[derive(Serialize)]
struct BundleSwitch<'a> {
    timeline_seq: u64,
    from_revision: u64,
    to_revision: u64,
    bundle_hash: &'a str,
    actor: &'a str,
    reason: &'a str,
    links: &'a [String],
    /// What the drift guard said of a promoted bundle, and who overrode it.
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<&'a tf_ledger::DriftNote>,
}

impl<'a> BundleSwitch<'a> {
    fn of(event: &'a TimelineEvent) -> Self {
        BundleSwitch {
            timeline_seq: event.seq,
            from_revision: event.from_revision,
            to_revision: event.to_revision,
            bundle_hash: &event.bundle_hash,
            actor: &event.actor,
            reason: &event.reason,
            links: &event.links,
            drift: event.drift.as_ref(),
        }
    }
}
