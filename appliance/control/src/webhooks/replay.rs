//! Replay: an endpoint's messages sent again, acknowledged or given up, for a receiver that
//! lost them or was down past the retry ladder. Bodies are not kept once a message is done,
//! so each is composed again from the ledger as it was first composed (its `webhook-id`
//! names exactly what it carries, so the same id gives the same body) and stored after the
//! messages owed, in the endpoint's order, without moving its cursors.

use actix::prelude::*;
use tf_ledger::{Change, NewMessage};
use tf_seam::clock::unix_micros;

use crate::webhooks::compose::{
    ALARMS, Composed, compose_events, compose_receipts, compose_timeline,
};
use crate::webhooks::outbox::Outbox;
use crate::webhooks::requests::{Asker, RequestError};

/// The most messages one replay sends again.
pub const MAX_REPLAY: u64 = 1_000;

/// Sends messages `from..=to` of endpoint `id` again.
#[derive(Debug, Message)]
#[rtype(result = "Result<Replayed, RequestError>")]
pub struct ReplayMessages {
    /// The endpoint.
    pub id: u64,
    /// The first message number.
    pub from: u64,
    /// The last.
    pub to: u64,
    /// Who asks and why.
    pub asker: Asker,
}

/// What a replay did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Messages stored again.
    pub queued: u64,
    /// Messages of the range still owed, left as they are.
    pub still_owed: u64,
    /// Messages that cannot be composed again: their receipts were pruned, or the endpoint's
    /// settings no longer select them.
    pub unavailable: u64,
}

impl Handler<ReplayMessages> for Outbox {
    type Result = Result<Replayed, RequestError>;

    fn handle(&mut self, ask: ReplayMessages, _: &mut Self::Context) -> Self::Result {
        if ask.from == 0 || ask.to < ask.from || ask.to - ask.from >= MAX_REPLAY {
            return Err(RequestError::Range(format!(
                "give message numbers from 1 with from <= to, at most {MAX_REPLAY} at once \
                 (got {} to {})",
                ask.from, ask.to
            )));
        }
        let id = ask.id;
        let run = self.runs.get(&id).ok_or(RequestError::NoSuchEndpoint(id))?;
        let (settings, cursors) = (run.settings.clone(), run.row.cursors());
        let count = usize::try_from(ask.to - ask.from + 1).unwrap_or(usize::MAX);
        let mut rows = self.plan.ledger.messages(id, Some(ask.to + 1), count)?;
        rows.retain(|row| row.number >= ask.from);
        rows.reverse();
        let mut replayed = Replayed::default();
        let mut timeline = None;
        let mut again: Vec<Composed> = Vec::new();
        for row in &rows {
            if row.is_pending() {
                replayed.still_owed += 1;
                continue;
            }
            let candidates = match row.receipts {
                Some((first, last)) => {
                    let records = self
                        .plan
                        .ledger
                        .receipts_after(first - 1, (last - first + 1) as usize)?;
                    // A pruned receipt leaves a gap: what is composed then has another id.
                    compose_receipts(id, &settings, &records)
                }
                // An alarm: composed again from its control event, named in its id.
                None if ALARMS.iter().any(|alarm| row.event == alarm.as_str()) => {
                    match alarm_seq(&row.id) {
                        Some(seq) => {
                            let alarms = self.plan.ledger.control_events_after(seq - 1, 1)?;
                            compose_events(id, &settings, &alarms)
                        }
                        None => Vec::new(),
                    }
                }
                None => {
                    let events = match &timeline {
                        Some(events) => events,
                        None => timeline.insert(self.plan.ledger.timeline()?),
                    };
                    compose_timeline(id, &settings, events)
                }
            };
            match candidates.into_iter().find(|c| c.id == row.id) {
                Some(composed) => again.push(composed),
                None => replayed.unavailable += 1,
            }
        }
        let now_us = unix_micros();
        let messages: Vec<NewMessage<'_>> = again.iter().map(Composed::to_store).collect();
        replayed.queued = messages.len() as u64;
        let reason = format!(
            "messages {} to {}: {} sent again; {}",
            ask.from, ask.to, replayed.queued, ask.asker.reason
        );
        if !messages.is_empty() {
            self.plan.ledger.enqueue(id, &messages, cursors, now_us)?;
        }
        self.plan.ledger.change_endpoint(
            id,
            None,
            None,
            &Change {
                at_us: now_us,
                action: "replay",
                actor: &ask.asker.actor,
                reason: &reason,
            },
        )?;
        self.reload(now_us);
        Ok(replayed)
    }
}

/// The control event an alarm's `webhook-id` (`msg_{kind}_{endpoint}_{seq}`) names.
fn alarm_seq(webhook_id: &str) -> Option<u64> {
    webhook_id
        .rsplit('_')
        .next()
        .and_then(|seq| seq.parse().ok())
        .filter(|seq| *seq > 0)
}
