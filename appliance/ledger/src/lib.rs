//! The appliance's durable ledger: every receipt as issued, with its budget charge, under a
//! gapless sequence number; the timeline of policy bundle switches; and the cursors of the
//! workers that follow the receipts.
//!
//! [`Ledger`] is everything the appliance needs from storage, and callers hold a
//! `Box<dyn Ledger>` (or `&dyn Ledger`), never a backend; [`SqliteLedger`] implements it over
//! an embedded SQLite file in WAL mode that SREs and auditors can open with the `sqlite3` tool.
//! A PostgreSQL backend for a fleet of appliances can implement the same trait later.
//!
//! One connection, on the ledger thread, appends batches of receipts in one transaction each
//! (group commit), and nothing is acknowledged to a partner before its transaction is durable.
//! Other threads open their own connection to the same file: they read committed receipts
//! (whole batches, never part of one), record bundle switches and save their cursors.
//!
//! Receipts are stored compactly (schema 4: names once in dictionary tables, digests and the
//! signature as bytes) and their envelopes rebuilt byte for byte on read; old receipts can be
//! pruned once a compliance snapshot holds them, and the ledger keeps which ranges were.
//!
//! [`WebhookOutbox`] is the auditor webhooks' state in the same file: endpoints, who changed
//! them, and the messages each is owed.

mod backup;
mod bundles;
mod compact;
mod control_events;
mod cursors;
mod dictionary;
mod disk;
mod error;
mod fault;
mod first_steps;
mod invites;
mod migrate_v4;
mod os_error;
mod outbox;
mod outlook;
mod prune;
mod read;
mod schema;
mod search;
mod signed;
mod sqlite;
mod sqlite_outbox;
mod stats;
mod store;
mod terms;

use tf_receipts::{Envelope, Receipt};

pub use backup::snapshot_database;
pub use control_events::ControlEvent;
pub use disk::free_bytes;
pub use error::LedgerError;
pub use fault::{RESUME_HEADROOM_BYTES, StorageFault};
pub use first_steps::FirstReceipts;
pub use invites::{
    INVITE_CREATED, INVITE_REVOKED, INVITE_USED, InviteRefusal, InviteRow, InviteState, Invites,
    NewInvite, Redeem, allows as invite_allows, refusal as invite_refusal,
};
pub use outbox::{
    Change, ChangeRow, Cursors, EndpointRow, EndpointState, FailedAttempt, MessageRow, NewEndpoint,
    NewMessage, WebhookOutbox,
};
pub use outlook::{DAY_US, Outlook, Sample};
pub use prune::PruneBounds;
pub use schema::{MIGRATIONS, Migration, RustStep, SCHEMA_VERSION};
pub use signed::sign_and_append;
pub use sqlite::{BUSY_WAIT, SqliteLedger};
pub use terms::{
    NewTermsRequest, TERMS_DECLINED, TERMS_GRANTED, TERMS_REQUESTED, TermsRefusal, TermsRequestRow,
    TermsRequests, TermsState,
};

/// What the appliance needs from durable storage.
///
/// `Send` so that a ledger can be opened on one thread and moved to the thread that owns it.
/// Every method that returns `Ok` from a write has made it durable. Partner invites
/// ([`Invites`]) are part of it: the control plane redeems them as it promotes bundles.
pub trait Ledger: Send + Invites + TermsRequests {
    /// The sequence number the next appended entry must carry (1 for an empty ledger), as this
    /// connection knows it: exact on the one connection that appends.
    fn next_seq(&self) -> u64;

    /// Appends entries, numbered `next_seq()` onwards without gaps, in one transaction that is
    /// durable (fsync) when this returns `Ok`. On error nothing of the batch is stored.
    fn append(&mut self, entries: &[Entry<'_>]) -> Result<(), LedgerError>;

    /// A tenant's charges decided at or after `since_us`, summed per purpose, class and group
    /// of `group_us` microseconds (aligned to multiples of it).
    fn charges_since(
        &self,
        tenant: &str,
        since_us: u64,
        group_us: u64,
    ) -> Result<Vec<ChargeGroup>, LedgerError>;

    /// A tenant's receipts decided in `[from_us, to_us)`, in sequence order, handed to `each`.
    fn receipts_between(
        &self,
        tenant: &str,
        from_us: u64,
        to_us: u64,
        each: &mut dyn FnMut(StoredReceipt) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError>;

    /// Every tenant the ledger has stored a receipt for, sorted by name: those whose receipts
    /// were all pruned since are named too (compliance snapshots walk the tenants, then read
    /// each one's receipts with [`Ledger::receipts_between`]).
    fn tenants(&self) -> Result<Vec<String>, LedgerError>;

    /// The receipt with this sequence number, with its tenant (receipt lookup by auditors);
    /// `None` if no receipt has it.
    fn receipt(&self, seq: u64) -> Result<Option<(String, StoredReceipt)>, LedgerError>;

    /// Up to `limit` committed receipts with a sequence number above `after_seq`, in sequence
    /// order. What one call returns is a gapless run from `after_seq + 1` (or from the oldest
    /// receipt kept, if pruning deleted that one) taken from one committed state: a worker
    /// follows the ledger by passing the last number it handled.
    fn receipts_after(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, LedgerError>;

    /// Records a promotion or rollback and, if its revision is not stored yet, the bundle it
    /// puts in force (`archive`, kept as first stored), in one durable transaction. Returns
    /// the event's number in the timeline; `event.seq` is ignored.
    fn record_switch(&mut self, event: &TimelineEvent, archive: &[u8]) -> Result<u64, LedgerError>;

    /// Records a control-plane alarm at `at_us`: `kind` is the webhook event type it is told
    /// as, `body` its data (JSON). Returns its number.
    fn record_control_event(
        &mut self,
        at_us: u64,
        kind: &str,
        body: &str,
    ) -> Result<u64, LedgerError>;

    /// Up to `limit` alarms after number `after_seq`, in order.
    fn control_events_after(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<ControlEvent>, LedgerError>;

    /// The newest `limit` alarms of the given kinds (webhook event types), oldest first.
    fn latest_control_events(
        &self,
        kinds: &[&str],
        limit: usize,
    ) -> Result<Vec<ControlEvent>, LedgerError>;

    /// The last alarm's number, 0 for none.
    fn last_control_event(&self) -> Result<u64, LedgerError>;

    /// Every promotion and rollback, oldest first.
    fn timeline(&self) -> Result<Vec<TimelineEvent>, LedgerError>;

    /// The revision in force: the last event's, `None` before the first promotion.
    fn active_revision(&self) -> Result<Option<u64>, LedgerError>;

    /// A promoted bundle's archive as it was promoted, `None` if the revision was never stored.
    fn archive(&self, revision: u64) -> Result<Option<Vec<u8>>, LedgerError>;

    /// The highest revision ever stored, 0 for none (rollbacks republish above it).
    fn highest_revision(&self) -> Result<u64, LedgerError>;

    /// The last sequence number `worker` saved as handled, 0 if it never saved one.
    fn cursor(&self, worker: &str) -> Result<u64, LedgerError>;

    /// The last sequence number every webhook endpoint (not removed) is done with: below its
    /// cursor and below the first receipt of any message it is still owed. `None` without
    /// endpoints. Pruning stops there, so a paused or failing endpoint loses nothing.
    fn webhook_hold(&self) -> Result<Option<u64>, LedgerError>;

    /// Every `receipt.issued` webhook message (of every endpoint, removed ones too) carrying a
    /// receipt in `first..=last`, by endpoint then number, handed to `each` with its
    /// endpoint's URL, without its body:
    /// what compliance snapshots record of the period's deliveries to auditors.
    fn webhook_messages_over(
        &self,
        first: u64,
        last: u64,
        each: &mut dyn FnMut(String, MessageRow) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError>;

    /// Deletes webhook messages done with (acknowledged or given up) whose receipts all come
    /// before `below_seq` (pruned from the ledger, so no replay can compose them), keeping
    /// each endpoint's last message so its numbering goes on. Returns how many were deleted.
    fn prune_webhook_messages(&mut self, below_seq: u64) -> Result<usize, LedgerError>;

    /// Saves `seq` as the last sequence number `worker` handled, durably when this returns.
    /// Saving the stored number again is accepted; a lower one is refused with
    /// [`LedgerError::CursorBehind`] and the stored one is kept.
    fn save_cursor(&mut self, worker: &str, seq: u64) -> Result<(), LedgerError>;

    /// Deletes the oldest receipts, in sequence order, while they are within `bounds`, in one
    /// short transaction, and records the range deleted as sealed by `sealed_by` (the
    /// compliance snapshot that holds those receipts) at `at_us`.
    ///
    /// Only a prefix is ever deleted: pruning stops at the first receipt outside the bounds,
    /// even if later ones are inside them, so what remains is a gapless run that
    /// [`Ledger::receipts_after`] keeps following. Call it repeatedly with a small `max_rows`
    /// (about 1,000) until it deletes nothing: each call holds the write lock, which the
    /// ledger thread's commits wait for, only for a few milliseconds. Sequence numbers are
    /// never reused, and the bundle timeline and bundles are never pruned.
    fn prune(
        &mut self,
        bounds: PruneBounds,
        sealed_by: &str,
        at_us: u64,
    ) -> Result<Pruned, LedgerError>;

    /// Every pruned range, oldest first: which receipts were deleted and which snapshot holds
    /// them (evidence export names them for a period).
    fn pruned_ranges(&self) -> Result<Vec<PrunedRange>, LedgerError>;

    /// The sequence number and decision time of the oldest receipt still stored, `None` if none
    /// is.
    fn oldest_retained(&self) -> Result<Option<(u64, u64)>, LedgerError>;

    /// How much room the ledger takes and how much of it is free for reuse (preflight checks,
    /// `/metrics`).
    fn storage(&self) -> Result<StorageStats, LedgerError>;

    /// Commits a transaction that writes and syncs the file (its header rewritten as it is),
    /// changing nothing: after a storage fault, it succeeds once the ledger can commit again.
    fn probe(&mut self) -> Result<(), LedgerError>;

    /// About how many stored receipts were decided at or after `since_us` (growth estimates:
    /// the sequence follows decision order to within a group commit).
    fn decided_since(&self, since_us: u64) -> Result<u64, LedgerError>;

    /// Up to `search.limit` stored receipts that match every filter of `search`, newest first
    /// (by decision time, then sequence number), each with its tenant. Every filter is served
    /// by an index: a page reads about as many receipts as it returns (a search by request
    /// id, or by tenant and a verdict other than `valid`, reads those that match one filter).
    fn search_receipts(&self, search: &ReceiptSearch) -> Result<Vec<LedgerRecord>, LedgerError>;
}

/// One receipt to store: the receipt (its fields are stored for queries) and the DSSE envelope
/// the partner receives, which the ledger gives back byte for byte.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// The receipt; its `ledger_seq` is the entry's sequence number.
    pub receipt: &'a Receipt,
    /// The signed DSSE envelope over it.
    pub envelope: &'a Envelope,
}

/// Charges of one purpose and class within one group of time, read back at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeGroup {
    /// The purpose.
    pub purpose: String,
    /// The dataset class (`P0`, `P1`, `P2`).
    pub dataset_class: String,
    /// Start of the group, Unix microseconds.
    pub from_us: u64,
    /// Last microsecond of the group.
    pub to_us: u64,
    /// Sum of the charges.
    pub charged: u64,
}

/// A stored receipt, for evidence bundles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReceipt {
    /// Ledger sequence number.
    pub seq: u64,
    /// The partner's id for the request (a counter per connection: ids repeat).
    pub request_id: u64,
    /// The purpose.
    pub purpose: String,
    /// The dataset class.
    pub dataset_class: String,
    /// The verdict (`valid`, `invalid`, `rejected`).
    pub verdict: String,
    /// Budget units charged.
    pub charged: u64,
    /// When it was decided, Unix microseconds.
    pub decided_us: u64,
    /// The DSSE envelope as issued, JSON, byte for byte (rebuilt from what the ledger keeps).
    pub envelope_json: String,
}

/// A committed receipt with the tenant it was issued to, as a worker following the ledger
/// reads it ([`Ledger::receipts_after`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRecord {
    /// The tenant the receipt was issued to.
    pub tenant: String,
    /// The receipt as stored; `receipt.seq` is the record's place in the ledger.
    pub receipt: StoredReceipt,
}

impl LedgerRecord {
    /// The record's ledger sequence number: what a worker saves as its cursor once handled.
    pub fn seq(&self) -> u64 {
        self.receipt.seq
    }
}

/// What [`Ledger::search_receipts`] looks for: every filter given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptSearch {
    /// Only this tenant's receipts.
    pub tenant: Option<String>,
    /// Only receipts decided at or after this time, Unix microseconds.
    pub from_us: Option<u64>,
    /// Only receipts decided before this time, Unix microseconds.
    pub to_us: Option<u64>,
    /// Only receipts answering this partner request id.
    pub request_id: Option<u64>,
    /// Only receipts with this verdict (`valid`, `invalid`, `rejected`).
    pub verdict: Option<String>,
    /// Only receipts after this place in the order (the last one of the previous page).
    pub after: Option<Place>,
    /// The most receipts returned.
    pub limit: usize,
}

/// A receipt's place in the order of a search, newest first: its decision time, then its
/// sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// When it was decided, Unix microseconds.
    pub decided_us: u64,
    /// Its ledger sequence number.
    pub seq: u64,
}

impl StoredReceipt {
    /// Its place in the order of a search.
    pub fn place(&self) -> Place {
        Place {
            decided_us: self.decided_us,
            seq: self.seq,
        }
    }
}

/// What one [`Ledger::prune`] call deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// How many receipts were deleted.
    pub deleted: u64,
    /// The highest sequence number deleted, `None` if nothing was.
    pub last_seq: Option<u64>,
}

/// A run of receipts that was pruned, and the snapshot that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunedRange {
    /// The first sequence number deleted.
    pub from_seq: u64,
    /// The last sequence number deleted.
    pub to_seq: u64,
    /// The earliest decision time among them, Unix microseconds.
    pub decided_from_us: u64,
    /// The latest decision time among them, Unix microseconds.
    pub decided_to_us: u64,
    /// The compliance snapshot that holds them, as the pruning caller named it.
    pub sealed_by: String,
    /// When the range was last extended, Unix microseconds.
    pub at_us: u64,
}

/// The ledger's size, for preflight checks and `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageStats {
    /// The database's pages (page count × page size), as of this connection's view.
    pub file_bytes: u64,
    /// The write-ahead log file beside it (0 if there is none).
    pub wal_bytes: u64,
    /// The size of one page.
    pub page_size: u64,
    /// Pages freed (by pruning) and not yet reused: later appends fill them before the file
    /// grows.
    pub free_pages: u64,
    /// Receipts stored (not pruned).
    pub receipts: u64,
}

impl StorageStats {
    /// Bytes on disk: the database and its write-ahead log.
    pub fn bytes_on_disk(&self) -> u64 {
        self.file_bytes + self.wal_bytes
    }

    /// Bytes free for reuse inside the database file.
    pub fn free_bytes(&self) -> u64 {
        self.free_pages * self.page_size
    }
}

/// One promotion or rollback, as the timeline keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEvent {
    /// Order of events (assigned when recorded).
    pub seq: u64,
    /// When, Unix microseconds.
    pub at_us: u64,
    /// `promote` or `rollback`.
    pub action: String,
    /// Who: the admin token's name.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// The revision in force before (0: none).
    pub from_revision: u64,
    /// The revision put in force.
    pub to_revision: u64,
    /// Ticket links.
    pub links: Vec<String>,
    /// The hash of the bundle put in force.
    pub bundle_hash: String,
    /// What the drift guard said of the bundle, and who overrode it; `None` when it was not
    /// run on this appliance and nobody overrode it (and for rollbacks).
    pub drift: Option<DriftNote>,
    /// What the golden canary saw after the switch against before it; `None` until it has
    /// judged (and when it does not run). Recorded apart, as a control event, since it comes
    /// a window of runs after the entry; read back into it.
    pub canary: Option<CanaryAfterSwitch>,
}

/// The control event kind of a golden canary's judgement after a switch.
pub const CANARY_AFTER_SWITCH: &str = "canary.after-switch";

/// The golden canary's runs after a switch judged against its runs before (the body of a
/// [`CANARY_AFTER_SWITCH`] control event holds these fields, and more details).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CanaryAfterSwitch {
    /// The timeline entry of the switch.
    pub timeline_seq: u64,
    /// `pass`, `marginal` or `fail`.
    pub overall: String,
    /// What it saw, in words.
    pub summary: String,
    /// When it judged, Unix microseconds.
    pub judged_us: u64,
}

/// The drift guard's part of a promotion: the judgement made on this appliance, if one was,
/// and the approver who let the bundle through although it did not pass, if one did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DriftNote {
    /// The judgement made on this appliance's decision log; `None`: not made here (an
    /// override then stands on a judgement made elsewhere, such as CI on a sample).
    pub checked: Option<DriftChecked>,
    /// Who let it through although it did not pass, and why.
    pub overridden: Option<DriftOverride>,
}

/// A drift judgement, as the timeline keeps it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DriftChecked {
    /// `pass`, `block` or `too-few-decisions`.
    pub judgement: String,
    /// The drift's one-sided upper bound, a fraction of decisions.
    pub upper_bound: f64,
    /// The largest bound that passes.
    pub tolerance: f64,
    /// Decisions judged.
    pub decisions: u64,
    /// The window replayed, Unix microseconds.
    pub from_us: u64,
    /// Its end.
    pub to_us: u64,
    /// The revision the candidate was compared against.
    pub against_revision: u64,
}

/// An approver's override.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DriftOverride {
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
}
