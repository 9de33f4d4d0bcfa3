//! The ledger thread: takes decided requests from every shard, numbers and signs their
//! receipts, stores them with their budget charges in one transaction per group (fsync at each
//! commit), and only then sends the answers to the shards whose connections asked.
//!
//! It is a glommio executor of its own so it speaks the shards' channels; the SQLite calls
//! block it, which is the point: while one group commits, the next gathers in the channels.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::channels::shared_channel::{ConnectedSender, SharedReceiver, SharedSender};
use tf_ledger::Ledger;
use tf_metrics::{COMMIT_SECONDS, Histogram, LedgerSnapshot, MetricsHub};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};
use tf_seam::{ANCHOR_TENANT, AnchorInbox, AnchorRequest, Anchored};
use tf_wire::ErrorCode;

use super::replies;
use super::routes::{Decided, FromLedger, HistoryQuery, Reply, ToLedger};
use super::wakeup::Wakeup;

/// Most decided requests gathered before the receivers stop pulling from the shards (whose
/// channels then fill, and whose verifiers then wait: overload turns into "busy" at admission).
const MAX_GATHERED: usize = 8192;

/// Everything the ledger thread needs, built on the main thread.
pub struct LedgerPlan {
    /// The opened, migrated ledger.
    pub ledger: Box<dyn Ledger>,
    /// The receipt signing key.
    pub receipt_secret: [u8; 32],
    /// Decided requests (and history queries) from each shard.
    pub from_shards: Vec<SharedReceiver<ToLedger>>,
    /// Answers to each shard.
    pub to_shards: Vec<SharedSender<FromLedger>>,
    /// Where scrapes read the commit latency.
    pub metrics: Arc<MetricsHub>,
    /// Shared with the main thread (the ledger's idle tick; it is executor `from_shards.len()`)
    /// and the control plane (the committed watermark).
    pub board: Arc<tf_seam::Board>,
    /// Digests the control plane asks to append (compliance snapshots' indexes).
    pub anchors: Option<AnchorInbox>,
}

/// How often the ledger thread looks for anchors (they are rare and never urgent).
const ANCHORS_EVERY: Duration = Duration::from_millis(20);

/// How often the ledger publishes its metrics while it is never idle (otherwise it publishes
/// whenever it runs out of work).
const PUBLISH_EVERY: Duration = Duration::from_millis(500);

/// Charges are read back summed per minute, as at start.
const HISTORY_GROUP_US: u64 = 60_000_000;

/// What the receivers queue for the committer, in each shard's order.
// Nearly every item is a decided request: boxing them would cost an allocation per receipt
// to shrink the rare history question.
#[allow(clippy::large_enum_variant)]
enum Item {
    Decided(Decided),
    /// A history query from shard `.0`.
    History(usize, HistoryQuery),
    /// A digest the control plane asks to append.
    Anchor(AnchorRequest),
}

struct Gathered {
    queue: RefCell<VecDeque<Item>>,
    /// The committer's wakeup: something arrived, or a shard closed.
    arrived: Wakeup,
    /// One per receiver (a wakeup has one waiter): the queue has room again.
    room: Vec<Wakeup>,
    open_shards: RefCell<usize>,
}

/// Runs until every shard has closed its channel and everything it sent is stored and
/// answered.
pub async fn run(plan: LedgerPlan) {
    let LedgerPlan {
        mut ledger,
        receipt_secret,
        from_shards,
        to_shards,
        metrics,
        board,
        anchors,
    } = plan;
    super::priority::raise_ledger_thread();
    super::wakeup::keep_polling(board.clone(), from_shards.len());
    board.publish_committed(ledger.next_seq() - 1);
    let gathered = Rc::new(Gathered {
        queue: RefCell::new(VecDeque::new()),
        arrived: Wakeup::default(),
        room: (0..from_shards.len()).map(|_| Wakeup::default()).collect(),
        open_shards: RefCell::new(from_shards.len()),
    });
    for (index, receiver) in from_shards.into_iter().enumerate() {
        let gathered = gathered.clone();
        glommio::spawn_local(async move {
            let receiver = receiver.connect().await;
            while let Some(message) = receiver.recv().await {
                match message {
                    ToLedger::Decided(batch) => gathered
                        .queue
                        .borrow_mut()
                        .extend(batch.into_iter().map(Item::Decided)),
                    ToLedger::History(query) => gathered
                        .queue
                        .borrow_mut()
                        .push_back(Item::History(index, query)),
                }
                gathered.arrived.notify();
                while gathered.queue.borrow().len() >= MAX_GATHERED {
                    gathered.room[index].wait().await;
                }
            }
            *gathered.open_shards.borrow_mut() -= 1;
            gathered.arrived.notify();
        })
        .detach();
    }

    if let Some(inbox) = anchors {
        let gathered = gathered.clone();
        glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(ANCHORS_EVERY).await;
                let mut arrived = false;
                while let Some(request) = inbox.try_take() {
                    gathered.queue.borrow_mut().push_back(Item::Anchor(request));
                    arrived = true;
                }
                if arrived {
                    gathered.arrived.notify();
                }
            }
        })
        .detach();
    }

    // Connected after the receivers are spawned: a shard connects its sending side first, and
    // both sides of a channel must connect before either proceeds.
    let mut senders = Vec::with_capacity(to_shards.len());
    for sender in to_shards {
        senders.push(sender.connect().await);
    }
    let mut signer = ReceiptSigner::from_secret(&receipt_secret);
    let mut group: Vec<Decided> = Vec::new();
    let mut commit_seconds = Histogram::new(COMMIT_SECONDS);
    let mut receipts = 0u64;
    let mut published = Instant::now();
    let mut unpublished = false;
    let publish = |commit_seconds: &Histogram, receipts: u64, next_seq: u64| {
        metrics.publish_ledger(LedgerSnapshot {
            commit_seconds: commit_seconds.clone(),
            receipts,
            next_seq,
        });
    };
    publish(&commit_seconds, receipts, ledger.next_seq());
    loop {
        // Up to the first history query or anchor: it is handled after what came before it is
        // stored.
        let mut query = None;
        let mut anchor = None;
        {
            let mut queue = gathered.queue.borrow_mut();
            while let Some(item) = queue.pop_front() {
                match item {
                    Item::Decided(decided) => group.push(decided),
                    Item::History(shard, asked) => {
                        query = Some((shard, asked));
                        break;
                    }
                    Item::Anchor(request) => {
                        anchor = Some(request);
                        break;
                    }
                }
            }
        }
        for room in &gathered.room {
            room.notify();
        }
        if group.is_empty() && query.is_none() && anchor.is_none() {
            if unpublished {
                // Idle: a cheap moment to bring the scrape up to date.
                publish(&commit_seconds, receipts, ledger.next_seq());
                published = Instant::now();
                unpublished = false;
            }
            if *gathered.open_shards.borrow() == 0 {
                break;
            }
            gathered.arrived.wait().await;
            continue;
        }
        if !group.is_empty() {
            let started = Instant::now();
            let seq_before = ledger.next_seq();
            let answers = commit(ledger.as_mut(), &mut signer, &mut group);
            // Workers following the ledger may read up to here (one store per commit).
            board.publish_committed(ledger.next_seq() - 1);
            commit_seconds.record(started.elapsed().as_secs_f64());
            receipts += ledger.next_seq() - seq_before;
            unpublished = true;
            if published.elapsed() >= PUBLISH_EVERY {
                publish(&commit_seconds, receipts, ledger.next_seq());
                published = Instant::now();
                unpublished = false;
            }
            send_answers(&senders, answers).await;
        }
        if let Some(request) = anchor {
            let stored = store_anchor(ledger.as_mut(), &mut signer, &request, &board);
            board.publish_committed(ledger.next_seq() - 1);
            // The asker may have given up waiting; the anchor is stored all the same.
            let _ = request.reply.send(stored);
        }
        if let Some((shard, query)) = query {
            let charges = ledger
                .charges_since(&query.tenant, query.since_us, HISTORY_GROUP_US)
                .map_err(|e| e.to_string());
            if senders[shard]
                .send(FromLedger::History { query, charges })
                .await
                .is_err()
            {
                tracing::debug!(shard, "a shard stopped before its history was delivered");
            }
        }
        // Let the receivers move what arrived during the commit into the queue.
        glommio::yield_if_needed().await;
    }
    tracing::debug!(next_seq = ledger.next_seq(), "ledger closed");
}

/// Numbers, signs and stores one group; returns its answers per shard. On a storage failure
/// nothing of the group was stored, and every request in it is answered with an internal
/// error (its partner may retry): no partner sees a receipt the ledger does not hold.
fn commit(
    ledger: &mut dyn Ledger,
    signer: &mut ReceiptSigner,
    group: &mut Vec<Decided>,
) -> Vec<Vec<Reply>> {
    let (envelopes, stored) =
        tf_ledger::sign_and_append(ledger, signer, group.iter_mut().map(|d| &mut d.receipt));
    if let Err(error) = &stored {
        tracing::error!(%error, requests = group.len(), "storing receipts failed; answering them with an internal error");
    }
    let mut answers: Vec<Vec<Reply>> = Vec::new();
    for (decided, envelope) in group.drain(..).zip(envelopes) {
        let shard = decided.route.shard;
        if answers.len() <= shard {
            answers.resize_with(shard + 1, Vec::new);
        }
        answers[shard].push(reply(decided, envelope, stored.is_ok()));
    }
    answers
}

/// Stores an anchor as a system receipt: the control plane's digest as its statement digest,
/// charged nothing, under a tenant no partner can have, signed like every receipt.
fn store_anchor(
    ledger: &mut dyn Ledger,
    signer: &mut ReceiptSigner,
    request: &AnchorRequest,
    board: &tf_seam::Board,
) -> Result<Anchored, String> {
    let now = tf_seam::clock::unix_micros();
    let stamp = board.policy().stamp;
    let mut receipt = Receipt {
        tenant: ANCHOR_TENANT.to_owned(),
        request_id: 0,
        statement_digest: hex::encode(request.digest),
        kind: "anchor".to_owned(),
        verdict: VerdictLabel::Valid,
        reason: Some(request.label.clone()),
        purpose: "anchor".to_owned(),
        dataset_class: "P0".to_owned(),
        budget_charged: 0,
        budget_remaining: None,
        ledger_seq: 0,
        shard: 0,
        received_at_unix_us: now,
        decided_at_unix_us: now,
        appliance_key_id: String::new(),
        bundle_revision: stamp.revision,
        bundle_hash: hex::encode(stamp.hash),
    };
    let (envelopes, stored) =
        tf_ledger::sign_and_append(ledger, signer, std::iter::once(&mut receipt));
    stored.map_err(|e| e.to_string())?;
    let envelope = envelopes.first().ok_or("no envelope was signed")?;
    tracing::info!(seq = receipt.ledger_seq, label = %request.label, "anchor stored");
    Ok(Anchored {
        seq: receipt.ledger_seq,
        envelope_json: envelope.to_json(),
    })
}

/// The answer to a decided request: its verdict with the signed receipt once stored, an
/// internal error otherwise.
pub(super) fn reply(decided: Decided, envelope: tf_receipts::Envelope, stored: bool) -> Reply {
    let request_id = decided.receipt.request_id;
    let frame = if stored {
        replies::verdict(
            request_id,
            &decided.verdict,
            decided.statement_digest,
            envelope,
        )
    } else {
        replies::error(request_id, ErrorCode::Internal)
    };
    Reply {
        route: decided.route,
        frame,
    }
}

async fn send_answers(senders: &[ConnectedSender<FromLedger>], answers: Vec<Vec<Reply>>) {
    for (shard, replies) in answers.into_iter().enumerate() {
        if replies.is_empty() {
            continue;
        }
        if senders[shard]
            .send(FromLedger::Answers(replies))
            .await
            .is_err()
        {
            tracing::debug!(shard, "a shard stopped before its answers were delivered");
        }
    }
}
