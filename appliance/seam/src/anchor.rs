//! Anchors: digests the control plane asks the ledger thread to append to the ledger, and so
//! to the transparency log, in the receipts' sequence (a compliance snapshot's index is one).
//!
//! The ledger thread is the only writer of sequence numbers, so an anchor goes to it: the
//! control plane hands a request over a bounded channel (a full channel is refused, never
//! waited on), the ledger thread picks requests up between group commits, stores each as a
//! signed system receipt and answers with its sequence number and envelope.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

/// Requests that may wait for the ledger thread.
pub const ANCHOR_QUEUE: usize = 8;

/// The tenant name anchors are stored under: not a valid tenant id (`:` is not allowed), so
/// no partner's receipts, budgets or evidence ever include one.
pub const ANCHOR_TENANT: &str = "appliance:anchor";

/// One digest to anchor.
#[derive(Debug)]
pub struct AnchorRequest {
    /// The digest (the receipt's statement digest).
    pub digest: [u8; 32],
    /// What it is, such as `compliance-snapshot snapshot-20261202T000000Z` (the receipt's
    /// reason).
    pub label: String,
    /// Where the answer goes.
    pub reply: SyncSender<Result<Anchored, String>>,
}

/// An anchor stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchored {
    /// Its ledger sequence number: its index in the transparency log.
    pub seq: u64,
    /// Its signed DSSE envelope (a receipt), canonical JSON.
    pub envelope_json: String,
}

/// Why an anchor was not stored.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// Too many anchors are waiting: try again later.
    #[error("the ledger thread has {ANCHOR_QUEUE} anchors waiting already; try again later")]
    Busy,
    /// The ledger thread is not running (the appliance is stopping).
    #[error("the ledger thread is not running")]
    Stopped,
    /// No answer in time.
    #[error("the ledger thread did not store the anchor within {0:?}")]
    TimedOut(Duration),
    /// The ledger could not store it.
    #[error("storing the anchor failed: {0}")]
    Storage(String),
}

/// The control plane's side.
#[derive(Clone, Debug)]
pub struct AnchorSender(SyncSender<AnchorRequest>);

/// The ledger thread's side.
#[derive(Debug)]
pub struct AnchorInbox(Receiver<AnchorRequest>);

/// A bounded anchor channel.
pub fn anchor_channel() -> (AnchorSender, AnchorInbox) {
    let (sender, receiver) = sync_channel(ANCHOR_QUEUE);
    (AnchorSender(sender), AnchorInbox(receiver))
}

impl AnchorSender {
    /// Asks the ledger thread to store `digest` and waits up to `timeout` for its sequence
    /// number. Blocks the calling thread: call it from a worker's own thread.
    pub fn anchor(
        &self,
        digest: [u8; 32],
        label: &str,
        timeout: Duration,
    ) -> Result<Anchored, AnchorError> {
        let (reply, answer) = sync_channel(1);
        let request = AnchorRequest {
            digest,
            label: label.to_owned(),
            reply,
        };
        match self.0.try_send(request) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(AnchorError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(AnchorError::Stopped),
        }
        match answer.recv_timeout(timeout) {
            Ok(stored) => stored.map_err(AnchorError::Storage),
            Err(RecvTimeoutError::Timeout) => Err(AnchorError::TimedOut(timeout)),
            Err(RecvTimeoutError::Disconnected) => Err(AnchorError::Stopped),
        }
    }
}

impl AnchorInbox {
    /// The next waiting request, if any (never blocks).
    pub fn try_take(&self) -> Option<AnchorRequest> {
        self.0.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_is_refused_and_answers_come_back() {
        let (sender, inbox) = anchor_channel();
        let answering = std::thread::spawn(move || {
            let request = loop {
                if let Some(request) = inbox.try_take() {
                    break request;
                }
                std::thread::yield_now();
            };
            let seq = u64::from(request.digest[0]);
            request
                .reply
                .send(Ok(Anchored {
                    seq,
                    envelope_json: request.label.clone(),
                }))
                .expect("the asker waits");
            inbox
        });
        let stored = sender
            .anchor([7; 32], "snapshot", Duration::from_secs(10))
            .expect("answered");
        assert_eq!(stored.seq, 7);
        let inbox = answering.join().expect("answered");
        // Nobody takes requests now: the queue fills, then refuses.
        let (full_sender, _kept) = (sender.clone(), &inbox);
        let mut refused = None;
        for _ in 0..=ANCHOR_QUEUE {
            match full_sender.anchor([1; 32], "x", Duration::from_millis(1)) {
                Err(AnchorError::TimedOut(_)) => {}
                other => {
                    refused = Some(other);
                    break;
                }
            }
        }
        assert_eq!(refused, Some(Err(AnchorError::Busy)));
        drop(inbox);
        assert_eq!(
            sender.anchor([1; 32], "x", Duration::from_millis(1)),
            Err(AnchorError::Stopped)
        );
    }
}
