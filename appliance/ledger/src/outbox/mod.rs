//! The auditor webhooks' durable state in the ledger file: the endpoints, the append-only
//! record of who changed them, and the outbox of messages each endpoint is owed.
//!
//! A message is stored, body and `webhook-id` included, in the same transaction that moves
//! its endpoint's cursors past what it carries; so after any crash a message is either
//! stored (and is sent, with the same id, until acknowledged) or was never made (and is made
//! again from the same records). Nothing the appliance shows a receiver is lost or changes its
//! id. A body is dropped once acknowledged: the acknowledgement (when, and the SHA-256 of the
//! receiver's answer) is what compliance snapshots cite.
//!
//! Endpoint settings are stored as the control plane's JSON, opaque here, so adding one needs
//! no migration. Secrets are not stored here at all: the ledger file is meant to be opened by
//! auditors, and a `whsec_` secret in it would let them sign as the appliance.

pub(crate) mod sql;

use crate::LedgerError;

/// An endpoint's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndpointState {
    /// Delivering.
    Active,
    /// Paused by an operator: nothing is sent, its messages wait.
    Paused,
    /// Stopped by the appliance (a `410 Gone`, or retries exhausted) until resumed.
    Disabled,
    /// Removed by an operator; kept for the record (its id is never reused).
    Removed,
}

impl EndpointState {
    /// The stored (and shown) name.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointState::Active => "active",
            EndpointState::Paused => "paused",
            EndpointState::Disabled => "disabled",
            EndpointState::Removed => "removed",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            EndpointState::Active,
            EndpointState::Paused,
            EndpointState::Disabled,
            EndpointState::Removed,
        ]
        .into_iter()
        .find(|state| state.as_str() == name)
    }
}

/// Where an endpoint stands in each stream it follows: the last receipt, bundle timeline
/// event and control event already carried by one of its messages (or not owed to it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursors {
    /// The last receipt.
    pub receipts_after: u64,
    /// The last bundle timeline event.
    pub timeline_after: u64,
    /// The last control event.
    pub events_after: u64,
}

impl EndpointRow {
    /// Its cursors.
    pub fn cursors(&self) -> Cursors {
        Cursors {
            receipts_after: self.receipts_after,
            timeline_after: self.timeline_after,
            events_after: self.events_after,
        }
    }
}

/// An endpoint to add.
#[derive(Clone, Copy, Debug)]
pub struct NewEndpoint<'a> {
    /// Where messages are posted.
    pub url: &'a str,
    /// The control plane's settings (events, tenants, schemes, limits), JSON.
    pub settings_json: &'a str,
    /// The last receipt it is not owed: it starts after this one.
    pub receipts_after: u64,
    /// The last bundle timeline event it is not owed.
    pub timeline_after: u64,
    /// The last control event (alarm) it is not owed.
    pub events_after: u64,
}

/// An endpoint as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRow {
    /// Its number: in its messages' ids, never reused.
    pub id: u64,
    /// Where messages are posted.
    pub url: String,
    /// The control plane's settings, JSON.
    pub settings_json: String,
    /// Its state.
    pub state: EndpointState,
    /// Why it is in that state (an operator's reason, or what the appliance saw).
    pub state_reason: String,
    /// The last receipt already carried by one of its messages (or not owed to it).
    pub receipts_after: u64,
    /// The last bundle timeline event already carried by one of its messages.
    pub timeline_after: u64,
    /// The last control event (alarm) already carried by one of its messages.
    pub events_after: u64,
    /// When it was added, Unix microseconds.
    pub created_us: u64,
    /// When it was last changed, Unix microseconds.
    pub changed_us: u64,
}

/// Who changes an endpoint, when and why: recorded, never rewritten.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    /// When, Unix microseconds.
    pub at_us: u64,
    /// What: `add`, `pause`, `resume`, `rotate`, `change`, `remove`, `disable`.
    pub action: &'a str,
    /// Who: the admin token's name, or `appliance` for what the appliance decided.
    pub actor: &'a str,
    /// Why.
    pub reason: &'a str,
}

/// A recorded change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    /// Order of changes.
    pub seq: u64,
    /// The endpoint changed.
    pub endpoint: u64,
    /// When, Unix microseconds.
    pub at_us: u64,
    /// What.
    pub action: String,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// A message to store for an endpoint.
#[derive(Clone, Copy, Debug)]
pub struct NewMessage<'a> {
    /// Its `webhook-id`.
    pub id: &'a str,
    /// Its event type.
    pub event: &'a str,
    /// The first and last receipt it carries, if any.
    pub receipts: Option<(u64, u64)>,
    /// When what it tells of happened, Unix microseconds.
    pub occurred_us: u64,
    /// The body as it is sent on every attempt.
    pub body: &'a [u8],
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    /// The endpoint it is for.
    pub endpoint: u64,
    /// Its place in the endpoint's order, from 1.
    pub number: u64,
    /// Its `webhook-id`.
    pub id: String,
    /// Its event type.
    pub event: String,
    /// The first and last receipt it carries, if any.
    pub receipts: Option<(u64, u64)>,
    /// When what it tells of happened, Unix microseconds.
    pub occurred_us: u64,
    /// The body; `None` once acknowledged or given up (and in listings).
    pub body: Option<Vec<u8>>,
    /// When it was stored, Unix microseconds.
    pub created_us: u64,
    /// Attempts made.
    pub attempts: u32,
    /// When the first attempt was made.
    pub first_attempt_us: Option<u64>,
    /// When the next attempt is due.
    pub next_attempt_us: u64,
    /// What went wrong with the last failed attempt.
    pub last_failure: Option<String>,
    /// When the receiver acknowledged it.
    pub acked_us: Option<u64>,
    /// SHA-256 of the acknowledging answer (status line, then body): the auditor reference.
    pub ack_sha256: Option<[u8; 32]>,
    /// When the appliance stopped trying.
    pub given_up_us: Option<u64>,
}

impl MessageRow {
    /// Neither acknowledged nor given up.
    pub fn is_pending(&self) -> bool {
        self.acked_us.is_none() && self.given_up_us.is_none()
    }
}

/// What became of an attempt that was not acknowledged.
#[derive(Clone, Copy, Debug)]
pub struct FailedAttempt<'a> {
    /// When it was made, Unix microseconds.
    pub at_us: u64,
    /// What went wrong, for people.
    pub failure: &'a str,
    /// When to try again; `None` to give up.
    pub next_attempt_us: Option<u64>,
}

/// The webhooks' durable state. Every write is durable when it returns `Ok`.
pub trait WebhookOutbox: Send {
    /// Adds an endpoint, active, and records who added it; its id.
    fn add_endpoint(
        &mut self,
        endpoint: &NewEndpoint<'_>,
        change: &Change<'_>,
    ) -> Result<u64, LedgerError>;

    /// Every endpoint, removed ones included, by id.
    fn endpoints(&self) -> Result<Vec<EndpointRow>, LedgerError>;

    /// Moves an endpoint to `state` and/or new settings, and records the change. Refuses an
    /// unknown or removed endpoint with [`LedgerError::NoSuchEndpoint`].
    /// Moving it to `active` (a resume) starts its owed messages' retry ladder over, due at
    /// the change's time.
    fn change_endpoint(
        &mut self,
        id: u64,
        state: Option<EndpointState>,
        settings_json: Option<&str>,
        change: &Change<'_>,
    ) -> Result<(), LedgerError>;

    /// The recorded changes of one endpoint (or all), oldest first.
    fn endpoint_changes(&self, endpoint: Option<u64>) -> Result<Vec<ChangeRow>, LedgerError>;

    /// Stores `messages` for `endpoint` after its last, due at `due_us`, and moves its
    /// cursors to `cursors`, in one transaction. Cursors only move forward: a caller working
    /// from a stale view is refused with [`LedgerError::CursorBehind`] and nothing is stored.
    fn enqueue(
        &mut self,
        endpoint: u64,
        messages: &[NewMessage<'_>],
        cursors: Cursors,
        due_us: u64,
    ) -> Result<(), LedgerError>;

    /// An endpoint's messages still owed (neither acknowledged nor given up), bodies
    /// included, in order.
    fn pending(&self, endpoint: u64) -> Result<Vec<MessageRow>, LedgerError>;

    /// Records a failed attempt: the failure, the attempt count, and the next attempt, or
    /// that the appliance gave up (the body is then dropped).
    fn record_failure(
        &mut self,
        endpoint: u64,
        number: u64,
        attempt: &FailedAttempt<'_>,
    ) -> Result<(), LedgerError>;

    /// Records the acknowledgement of an attempt made at `attempted_us`; the body is dropped.
    fn acknowledge(
        &mut self,
        endpoint: u64,
        number: u64,
        attempted_us: u64,
        acked_us: u64,
        answer_sha256: [u8; 32],
    ) -> Result<(), LedgerError>;

    /// An endpoint's messages, newest first, without bodies: `limit` of them before number
    /// `before` (or the newest).
    fn messages(
        &self,
        endpoint: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<MessageRow>, LedgerError>;
}
