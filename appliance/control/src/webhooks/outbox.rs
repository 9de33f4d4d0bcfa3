//! The outbox: one actor, on an arbiter of its own, that owes each endpoint the messages the
//! ledger's records make, stores them before their first attempt, and delivers them.
//!
//! Every turn, for each active endpoint, it tops the endpoint's stored messages up from what
//! the ledger committed after the endpoint's cursors (composed and stored with the cursors'
//! move in one transaction), then starts the attempts that are due, in order, up to the
//! endpoint's window and rate. Attempts run as futures on this arbiter: a slow or dead
//! endpoint holds only its own window, never another endpoint's, and never the ledger
//! thread. Each result is stored before anything else happens to the message: an
//! acknowledgement ends it, a failure schedules the next attempt on the retry ladder, and the
//! ladder's end (or a `410`) disables the endpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use tf_ledger::{
    Change, Cursors, EndpointRow, EndpointState, FailedAttempt, Ledger, MessageRow, NewMessage,
    WebhookOutbox,
};
use tf_seam::Board;
use tf_seam::clock::unix_micros;
use tf_webhook_client::{Answer, Destination, Failure, PostLimits, Session};
use tf_webhooks::{EndpointSettings, Outcome, RetryLadder, Scheme};

use crate::webhooks::compose::{Composed, compose_events, compose_receipts, compose_timeline};
use crate::webhooks::pacing::TokenBucket;
use crate::webhooks::secrets::SecretStore;
use crate::webhooks::status::{EndpointStatus, WebhooksHandle};

/// What the outbox reads and writes: the ledger's records and the outbox's tables, through
/// one connection of its own.
pub trait OutboxLedger: Ledger + WebhookOutbox {}
impl<T: Ledger + WebhookOutbox> OutboxLedger for T {}

/// How often the outbox looks for work.
const TURN: Duration = Duration::from_millis(20);
/// How long a message that cannot be signed waits before it is tried again.
const UNSIGNABLE_WAIT_US: u64 = 60_000_000;
/// How often the bundle timeline is read for new promotions and rollbacks.
const TIMELINE_EVERY_US: u64 = 1_000_000;
/// Alarms composed for an endpoint per slow turn (a backlog drains over the next turns).
const ALARMS_PER_TURN: usize = 64;
/// How long committed receipts wait for a full batch before a partial one is made: fewer,
/// fuller messages (each costs signatures, a request and two ledger writes) for at most this
/// much more latency.
const PARTIAL_BATCH_AFTER_US: u64 = 250_000;

/// What the outbox needs.
pub struct OutboxPlan {
    /// Its own ledger connection.
    pub ledger: Box<dyn OutboxLedger>,
    /// The committed watermark.
    pub board: Arc<Board>,
    /// The endpoints' `whsec_` secrets.
    pub secrets: SecretStore,
    /// The appliance's webhook key (`v1a`).
    pub key: Arc<SigningKey>,
    /// TLS settings for `https` endpoints.
    pub tls: Arc<rustls::ClientConfig>,
    /// Each attempt's deadline and answer size.
    pub limits: PostLimits,
    /// Messages in flight per endpoint.
    pub window: usize,
    /// Where the figures go.
    pub status: WebhooksHandle,
}

/// One endpoint as the outbox runs it.
pub(crate) struct Run {
    pub(crate) row: EndpointRow,
    pub(crate) settings: EndpointSettings,
    destination: Destination,
    /// Connections kept alive between attempts, up to the window.
    idle: Vec<Session>,
    in_flight: BTreeSet<u64>,
    bucket: TokenBucket,
    /// Its stored messages still owed, in order (a copy of the ledger's).
    owed: Vec<MessageRow>,
    /// When receipts were last composed into its messages.
    composed_us: u64,
}

/// The outbox actor.
pub struct Outbox {
    pub(crate) plan: OutboxPlan,
    pub(crate) runs: BTreeMap<u64, Run>,
    last_timeline_us: u64,
    ladder: RetryLadder,
}

impl Outbox {
    /// The outbox, with the endpoints the ledger holds.
    pub fn new(plan: OutboxPlan) -> Self {
        Outbox {
            plan,
            runs: BTreeMap::new(),
            last_timeline_us: 0,
            ladder: RetryLadder::STANDARD,
        }
    }

    /// Reloads every endpoint from the ledger (at start, and after an operator's change).
    pub(crate) fn reload(&mut self, now_us: u64) {
        let rows = match self.plan.ledger.endpoints() {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!("webhooks: cannot read the endpoints: {error}");
                return;
            }
        };
        let mut runs = BTreeMap::new();
        for row in rows {
            if row.state == EndpointState::Removed {
                continue;
            }
            let Some(run) = self.run_of(row, now_us) else {
                continue;
            };
            runs.insert(run.row.id, run);
        }
        // Attempts in flight keep their place: their results are matched by number.
        for (id, run) in &mut runs {
            if let Some(old) = self.runs.remove(id)
                && old.destination == run.destination
            {
                run.in_flight = old.in_flight;
                run.idle = old.idle;
                run.bucket = old.bucket;
                run.composed_us = old.composed_us;
            }
        }
        self.runs = runs;
        self.publish();
    }

    fn run_of(&self, row: EndpointRow, now_us: u64) -> Option<Run> {
        let settings: EndpointSettings = match serde_json::from_str(&row.settings_json) {
            Ok(settings) => settings,
            Err(error) => {
                tracing::warn!(
                    endpoint = row.id,
                    "webhooks: unreadable settings, skipped: {error}"
                );
                return None;
            }
        };
        let destination = match Destination::parse(&row.url, settings.local) {
            Ok(destination) => destination,
            Err(error) => {
                tracing::warn!(
                    endpoint = row.id,
                    "webhooks: unusable URL, skipped: {error}"
                );
                return None;
            }
        };
        let owed = self.plan.ledger.pending(row.id).unwrap_or_else(|error| {
            tracing::warn!(
                endpoint = row.id,
                "webhooks: cannot read the outbox: {error}"
            );
            Vec::new()
        });
        Some(Run {
            bucket: TokenBucket::new(settings.rate_per_s, now_us),
            row,
            settings,
            destination,
            idle: Vec::new(),
            in_flight: BTreeSet::new(),
            owed,
            composed_us: 0,
        })
    }

    /// One turn: top up, then start what is due.
    fn turn(&mut self, ctx: &mut Context<Self>, now_us: u64) {
        let active = self
            .runs
            .values()
            .any(|run| run.row.state == EndpointState::Active);
        let read_timeline =
            active && now_us.saturating_sub(self.last_timeline_us) >= TIMELINE_EVERY_US;
        let timeline = match read_timeline {
            true => {
                self.last_timeline_us = now_us;
                self.plan.ledger.timeline().ok()
            }
            false => None,
        };
        let ids: Vec<u64> = self.runs.keys().copied().collect();
        for id in ids {
            if self.runs[&id].row.state != EndpointState::Active {
                continue;
            }
            self.top_up(id, timeline.as_deref(), now_us);
            self.start_due(ctx, id, now_us);
        }
        self.publish();
    }

    /// Stores the messages the ledger's newly committed records owe endpoint `id`, while
    /// fewer than two windows of messages are owed.
    fn top_up(&mut self, id: u64, timeline: Option<&[tf_ledger::TimelineEvent]>, now_us: u64) {
        let committed = self.plan.board.committed();
        let window = self.plan.window;
        let Some(run) = self.runs.get(&id) else {
            return;
        };
        if run.owed.len() >= 2 * window {
            return;
        }
        let mut composed: Vec<Composed> = Vec::new();
        let mut receipts_after = run.row.receipts_after;
        let waiting = committed.saturating_sub(receipts_after);
        let full_batch = waiting >= u64::from(run.settings.batch_max);
        let waited = now_us.saturating_sub(run.composed_us) >= PARTIAL_BATCH_AFTER_US;
        if waiting > 0 && (full_batch || waited) {
            let batch = u64::from(run.settings.batch_max);
            // Full batches only, unless a partial one has waited long enough.
            let batches = match waited {
                true => window as u64,
                false => (waiting / batch).min(window as u64),
            };
            let want = (batch * batches) as usize;
            match self.plan.ledger.receipts_after(receipts_after, want) {
                Ok(records) => {
                    let records: Vec<_> = records
                        .into_iter()
                        .take_while(|r| r.seq() <= committed)
                        .collect();
                    if let Some(last) = records.last() {
                        receipts_after = last.seq();
                    }
                    composed.extend(compose_receipts(id, &run.settings, &records));
                }
                Err(error) => {
                    tracing::warn!(endpoint = id, "webhooks: cannot read receipts: {error}")
                }
            }
        }
        let mut timeline_after = run.row.timeline_after;
        let mut events_after = run.row.events_after;
        // The bundle timeline and the control plane's alarms are read on the slow turn.
        if let Some(events) = timeline {
            let new: Vec<_> = events
                .iter()
                .filter(|e| e.seq > timeline_after)
                .cloned()
                .collect();
            if let Some(last) = new.last() {
                timeline_after = last.seq;
            }
            composed.extend(compose_timeline(id, &run.settings, &new));
            match self
                .plan
                .ledger
                .control_events_after(events_after, ALARMS_PER_TURN)
            {
                Ok(alarms) => {
                    if let Some(last) = alarms.last() {
                        events_after = last.seq;
                    }
                    composed.extend(compose_events(id, &run.settings, &alarms));
                }
                Err(error) => {
                    tracing::warn!(endpoint = id, "webhooks: cannot read alarms: {error}")
                }
            }
        }
        let cursors = Cursors {
            receipts_after,
            timeline_after,
            events_after,
        };
        if cursors == run.row.cursors() {
            return;
        }
        let messages: Vec<NewMessage<'_>> = composed.iter().map(Composed::to_store).collect();
        let stored = self
            .plan
            .ledger
            .enqueue(id, &messages, cursors, now_us)
            .and_then(|()| self.plan.ledger.pending(id));
        match stored {
            Ok(owed) => {
                if let Some(run) = self.runs.get_mut(&id) {
                    if receipts_after != run.row.receipts_after {
                        run.composed_us = now_us;
                    }
                    run.row.receipts_after = receipts_after;
                    run.row.timeline_after = timeline_after;
                    run.row.events_after = events_after;
                    run.owed = owed;
                }
            }
            // Nothing was stored: the same records are composed again next turn.
            Err(error) => tracing::warn!(endpoint = id, "webhooks: cannot store messages: {error}"),
        }
    }

    /// Starts endpoint `id`'s due attempts, in order, within its window and rate.
    fn start_due(&mut self, ctx: &mut Context<Self>, id: u64, now_us: u64) {
        let window = self.plan.window;
        loop {
            let Some(run) = self.runs.get_mut(&id) else {
                return;
            };
            if run.in_flight.len() >= window {
                return;
            }
            let Some(message) = run
                .owed
                .iter()
                .find(|m| !run.in_flight.contains(&m.number) && m.next_attempt_us <= now_us)
                .cloned()
            else {
                return;
            };
            if !run.bucket.take(now_us) {
                return;
            }
            run.in_flight.insert(message.number);
            let session = run.idle.pop().unwrap_or_else(|| {
                Session::new(
                    run.destination.clone(),
                    run.settings.local,
                    Arc::clone(&self.plan.tls),
                    self.plan.limits,
                )
            });
            let headers = match self.signed_headers(id, &message, now_us) {
                Ok(headers) => headers,
                Err(why) => {
                    // Nothing was sent: the message waits a minute (in memory only) before
                    // the next try, so a missing secret is logged once a minute, not each turn.
                    tracing::warn!(endpoint = id, "webhooks: cannot sign, not sent: {why}");
                    if let Some(run) = self.runs.get_mut(&id) {
                        run.in_flight.remove(&message.number);
                        run.idle.push(session);
                        if let Some(owed) = run.owed.iter_mut().find(|m| m.number == message.number)
                        {
                            owed.next_attempt_us = now_us + UNSIGNABLE_WAIT_US;
                        }
                    }
                    return;
                }
            };
            self.plan.status.update(|status| {
                if let Some(endpoint) = status.endpoints.get_mut(&id) {
                    endpoint.attempts += 1;
                }
            });
            let body = Bytes::from(message.body.clone().unwrap_or_default());
            let number = message.number;
            let attempt = async move {
                let mut session = session;
                let result = session.post(&headers, body).await;
                (session, result)
            };
            ctx.spawn(
                attempt
                    .into_actor(self)
                    .map(move |(session, result), outbox, _| {
                        outbox.settle(id, number, now_us, session, result);
                    }),
            );
        }
    }

    /// The webhook headers of an attempt at `now_us`: id, timestamp, and the signatures the
    /// endpoint's schemes ask for (every signing secret during a rotation).
    fn signed_headers(
        &self,
        id: u64,
        message: &MessageRow,
        now_us: u64,
    ) -> Result<Vec<(&'static str, String)>, String> {
        let settings = &self.runs[&id].settings;
        let body = message.body.as_deref().unwrap_or_default();
        let timestamp = now_us / 1_000_000;
        let mut signatures = Vec::new();
        if settings.signs_with(Scheme::V1) {
            let secrets = self
                .plan
                .secrets
                .signing(id, now_us)
                .map_err(|e| e.to_string())?;
            if secrets.is_empty() {
                return Err("the endpoint has no signing secret; rotate its secret".into());
            }
            for secret in &secrets {
                signatures.push(tf_webhooks::sign_v1(secret, &message.id, timestamp, body));
            }
        }
        if settings.signs_with(Scheme::V1a) {
            signatures.push(tf_webhooks::sign_v1a(
                &self.plan.key,
                &message.id,
                timestamp,
                body,
            ));
        }
        Ok(vec![
            (tf_webhooks::HEADER_ID, message.id.clone()),
            (tf_webhooks::HEADER_TIMESTAMP, timestamp.to_string()),
            (
                tf_webhooks::HEADER_SIGNATURE,
                tf_webhooks::signature_header(&signatures),
            ),
        ])
    }

    /// Stores what became of an attempt, and what follows from it.
    fn settle(
        &mut self,
        id: u64,
        number: u64,
        attempted_us: u64,
        session: Session,
        result: Result<Answer, Failure>,
    ) {
        let now_us = unix_micros();
        let Some(run) = self.runs.get_mut(&id) else {
            return;
        };
        run.in_flight.remove(&number);
        if run.idle.len() < self.plan.window {
            run.idle.push(session);
        }
        let Some(at) = run.owed.iter().position(|m| m.number == number) else {
            return;
        };
        let (outcome, detail, answer_sha256) = match &result {
            Ok(answer) => (
                Outcome::from_status(answer.status, answer.retry_after.as_deref(), now_us),
                format!("status {}", answer.status),
                Some(answer.sha256),
            ),
            Err(failure) => (
                Outcome::from_transport(failure.kind),
                failure.detail.clone(),
                None,
            ),
        };
        let message = run.owed[at].clone();
        if let (Outcome::Acknowledged, Some(sha256)) = (outcome, answer_sha256) {
            match self
                .plan
                .ledger
                .acknowledge(id, number, attempted_us, now_us, sha256)
            {
                Ok(()) => {
                    run.owed.remove(at);
                    self.plan.status.update(|status| {
                        if let Some(endpoint) = status.endpoints.get_mut(&id) {
                            endpoint.acknowledged_after(now_us.saturating_sub(message.occurred_us));
                        }
                    });
                }
                // Sent again later: at least once, the receiver deduplicates by id.
                Err(error) => tracing::warn!(
                    endpoint = id,
                    "webhooks: cannot store an acknowledgement: {error}"
                ),
            }
            return;
        }
        if let Some(class) = outcome.failure_class() {
            self.plan.status.update(|status| {
                if let Some(endpoint) = status.endpoints.get_mut(&id) {
                    *endpoint.failures.entry(class).or_default() += 1;
                }
            });
        }
        let attempts = message.attempts + 1;
        let first_us = message.first_attempt_us.unwrap_or(attempted_us);
        let next = match outcome {
            Outcome::Gone => None,
            _ => self.ladder.next_attempt_at(
                attempts,
                first_us,
                now_us,
                outcome.retry_after_us(),
                OsRng.next_u32(),
            ),
        };
        let recorded = self.plan.ledger.record_failure(
            id,
            number,
            &FailedAttempt {
                at_us: attempted_us,
                failure: &detail,
                next_attempt_us: next,
            },
        );
        if let Err(error) = recorded {
            tracing::warn!(
                endpoint = id,
                "webhooks: cannot store a failed attempt: {error}"
            );
            return;
        }
        let Some(run) = self.runs.get_mut(&id) else {
            return;
        };
        match next {
            Some(next_us) => {
                let owed = &mut run.owed[at];
                owed.attempts = attempts;
                owed.first_attempt_us = Some(first_us);
                owed.next_attempt_us = next_us;
                owed.last_failure = Some(detail);
            }
            None => {
                run.owed.remove(at);
                self.plan.status.update(|status| {
                    if let Some(endpoint) = status.endpoints.get_mut(&id) {
                        endpoint.given_up += 1;
                    }
                });
                let reason = match outcome {
                    Outcome::Gone => "the receiver answered 410 Gone".to_owned(),
                    _ => format!(
                        "gave up on {} after {attempts} attempts over {} hours: {detail}",
                        message.id,
                        tf_webhooks::GIVE_UP_AFTER_S / 3_600
                    ),
                };
                self.disable(id, &reason, now_us);
            }
        }
    }

    /// Disables endpoint `id` (the appliance's decision, recorded as such).
    fn disable(&mut self, id: u64, reason: &str, now_us: u64) {
        tracing::warn!(endpoint = id, "webhooks: endpoint disabled: {reason}");
        let change = Change {
            at_us: now_us,
            action: "disable",
            actor: "appliance",
            reason,
        };
        if let Err(error) =
            self.plan
                .ledger
                .change_endpoint(id, Some(EndpointState::Disabled), None, &change)
        {
            tracing::warn!(
                endpoint = id,
                "webhooks: cannot store the endpoint's disabling: {error}"
            );
        }
        self.reload(now_us);
    }

    /// Refreshes the figures the admin server reads.
    fn publish(&self) {
        let committed = self.plan.board.committed();
        self.plan.status.update(|status| {
            status.endpoints.retain(|id, _| self.runs.contains_key(id));
            for (id, run) in &self.runs {
                let endpoint = status.endpoints.entry(*id).or_insert_with(|| {
                    EndpointStatus::new(&run.row.url, run.row.state, &run.row.state_reason)
                });
                endpoint.url.clone_from(&run.row.url);
                endpoint.state = run.row.state;
                endpoint.state_reason.clone_from(&run.row.state_reason);
                endpoint.owed_messages = run.owed.len() as u64;
                endpoint.receipts_behind = committed.saturating_sub(run.row.receipts_after);
                endpoint.oldest_owed_us = run.owed.iter().map(|m| m.occurred_us).min();
            }
        });
    }
}

impl Actor for Outbox {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(crate::worker::MAILBOX);
        self.reload(unix_micros());
        ctx.run_interval(TURN, |outbox, ctx| outbox.turn(ctx, unix_micros()));
    }
}
