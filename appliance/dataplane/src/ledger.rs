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
use tf_ledger::{Ledger, LedgerError};
use tf_metrics::{COMMIT_SECONDS, Histogram, LedgerSnapshot, MetricsHub};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};
use tf_seam::{
    ANCHOR_TENANT, AnchorInbox, AnchorRequest, Anchored, STORAGE_RETRY_MS, StorageHealth,
    StorageReport,
};
use tf_wire::ErrorCode;

use super::replies;
use super::routes::{Decided, FromLedger, HistoryQuery, Reply, ToLedger, UnstoredCharge};
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
    /// A decided request from home shard `.0`.
    Decided(usize, Decided),
    /// A history query from shard `.0`.
    History(usize, HistoryQuery),
    /// A digest the control plane asks to append.
    Anchor(AnchorRequest),
    /// Time to try the ledger again (only while a storage fault is in force).
    Probe,
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
                        .extend(batch.into_iter().map(|d| Item::Decided(index, d))),
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

    {
        // While the ledger cannot commit, shards take no new work: nothing arrives that could
        // show it commits again, so the ledger is tried on a timer.
        let gathered = gathered.clone();
        let board = board.clone();
        glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(Duration::from_millis(u64::from(STORAGE_RETRY_MS))).await;
                if board.storage().faulted() {
                    gathered.queue.borrow_mut().push_back(Item::Probe);
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
    let mut group: Vec<(usize, Decided)> = Vec::new();
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
        let mut probe = false;
        {
            let mut queue = gathered.queue.borrow_mut();
            while let Some(item) = queue.pop_front() {
                match item {
                    Item::Decided(home, decided) => group.push((home, decided)),
                    Item::Probe => {
                        probe = true;
                        break;
                    }
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
        if group.is_empty() && query.is_none() && anchor.is_none() && !probe {
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
            let sent = commit(ledger.as_mut(), &mut signer, &mut group, board.storage());
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
            send_answers(&senders, sent).await;
        }
        if probe {
            try_again(ledger.as_mut(), board.storage());
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

/// What one group's commit sends the shards: answers for the connections' shards, and, when
/// nothing was stored, the charges each home shard takes back.
struct Sent {
    answers: Vec<Vec<Reply>>,
    unstored: Vec<Vec<UnstoredCharge>>,
}

/// Numbers, signs and stores one group (each request with its home shard). On a failure
/// nothing of the group was stored: every request in it is answered `Unavailable` (a storage
/// fault, put in force until the ledger commits again) or `Internal` (anything else), and its
/// charges are given back. No partner sees a receipt the ledger does not hold.
fn commit(
    ledger: &mut dyn Ledger,
    signer: &mut ReceiptSigner,
    group: &mut Vec<(usize, Decided)>,
    storage: &StorageHealth,
) -> Sent {
    let (envelopes, stored) = tf_ledger::sign_and_append(
        ledger,
        signer,
        group.iter_mut().map(|(_, decided)| &mut decided.receipt),
    );
    let refusal = stored
        .err()
        .map(|error| refusal(&error, group.len(), storage));
    let mut sent = Sent {
        answers: Vec::new(),
        unstored: Vec::new(),
    };
    for ((home, decided), envelope) in group.drain(..).zip(envelopes) {
        if refusal.is_some()
            && let Some(charge) = UnstoredCharge::of(&decided.receipt)
        {
            slot(&mut sent.unstored, home).push(charge);
        }
        let answer = match &refusal {
            None => Ok(envelope),
            Some(code) => Err(code.clone()),
        };
        slot(&mut sent.answers, decided.route.shard).push(reply(decided, answer));
    }
    sent
}

/// Shard `index`'s list, grown as needed.
fn slot<T>(lists: &mut Vec<Vec<T>>, index: usize) -> &mut Vec<T> {
    if lists.len() <= index {
        lists.resize_with(index + 1, Vec::new);
    }
    &mut lists[index]
}

/// What the partners of a group the ledger could not store are told. A storage fault is put
/// in force: shards answer new work the same until the ledger commits again.
fn refusal(error: &LedgerError, requests: usize, storage: &StorageHealth) -> ErrorCode {
    let Some(fault) = error.storage_fault() else {
        tracing::error!(%error, requests, "storing receipts failed; answering them with an internal error");
        return ErrorCode::Internal;
    };
    let began = !storage.faulted();
    storage.commit_failed(StorageReport {
        fault: fault.name(),
        what_to_do: fault.what_to_do(),
        error: error.to_string(),
        since_unix_us: tf_seam::clock::unix_micros(),
    });
    if began {
        tracing::error!(
            %error,
            fault = fault.name(),
            requests,
            what_to_do = fault.what_to_do(),
            "the ledger cannot commit: requests are answered Unavailable (nothing verified or charged) until it can; it is tried again every second"
        );
    } else {
        tracing::warn!(%error, fault = fault.name(), requests, "the ledger still cannot commit");
    }
    ErrorCode::Unavailable {
        retry_after_ms: STORAGE_RETRY_MS,
        detail: fault.name().to_owned(),
    }
}

/// Tries the ledger while a storage fault is in force; ends the fault once it commits.
fn try_again(ledger: &mut dyn Ledger, storage: &StorageHealth) {
    if !storage.faulted() {
        return;
    }
    match ledger.probe() {
        Ok(()) => {
            if let Some(ended) = storage.recovered() {
                let seconds =
                    tf_seam::clock::unix_micros().saturating_sub(ended.since_unix_us) as f64 / 1e6;
                tracing::info!(
                    fault = ended.fault,
                    seconds,
                    "the ledger commits again; requests are taken again"
                );
            }
        }
        Err(error) => tracing::debug!(%error, "the ledger cannot commit yet"),
    }
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

/// The answer to a decided request: its verdict with the signed receipt once stored, the
/// error its partner is told otherwise.
pub(super) fn reply(decided: Decided, stored: Result<tf_receipts::Envelope, ErrorCode>) -> Reply {
    let request_id = decided.receipt.request_id;
    let frame = match stored {
        Ok(envelope) => replies::verdict(
            request_id,
            &decided.verdict,
            decided.statement_digest,
            envelope,
        ),
        Err(code) => replies::error(request_id, code),
    };
    Reply {
        route: decided.route,
        frame,
    }
}

async fn send_answers(senders: &[ConnectedSender<FromLedger>], sent: Sent) {
    // Charges first: a partner told nothing was charged may ask for its budget at once.
    for (shard, charges) in sent.unstored.into_iter().enumerate() {
        if !charges.is_empty()
            && senders[shard]
                .send(FromLedger::Unstored(charges))
                .await
                .is_err()
        {
            tracing::debug!(shard, "a shard stopped before its charges were given back");
        }
    }
    for (shard, replies) in sent.answers.into_iter().enumerate() {
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
