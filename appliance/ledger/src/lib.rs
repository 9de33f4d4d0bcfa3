//! The appliance's durable ledger: every receipt as issued, with its budget charge, under a
//! gapless sequence number.
//!
//! [`Ledger`] is what the appliance needs from storage; [`SqliteLedger`] implements it over an
//! embedded SQLite file in WAL mode that SREs and auditors can open with the `sqlite3` tool. A
//! PostgreSQL backend for a fleet of appliances can implement the same trait later.
//!
//! One thread owns a ledger: it appends batches of receipts in one transaction each (group
//! commit) and nothing is acknowledged to a partner before its transaction is durable.

mod bundles;
mod schema;
mod sqlite;

use tf_receipts::Receipt;

pub use bundles::{BUSY_WAIT, BundleStore, TimelineEvent};
pub use schema::{MIGRATIONS, SCHEMA_VERSION};
pub use sqlite::SqliteLedger;

/// One receipt to store: the payload fields (queried by the appliance and auditors) and the
/// DSSE envelope exactly as the partner receives it.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// The receipt; its `ledger_seq` is the entry's sequence number.
    pub receipt: &'a Receipt,
    /// The signed DSSE envelope, as JSON.
    pub envelope_json: &'a str,
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
    /// The DSSE envelope as issued, JSON.
    pub envelope_json: String,
}

/// Why the ledger failed. The appliance answers affected requests with an internal error and
/// never acknowledges what was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The database could not be opened, read or written.
    #[error("ledger {path}: {source}; check the disk and the state directory's permissions")]
    Storage {
        /// The ledger file.
        path: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer appliance.
    #[error(
        "ledger {path}: schema version {found} is newer than this appliance's {supported}; run the newer appliance or restore a backup"
    )]
    TooNew {
        /// The ledger file.
        path: String,
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A sequence number out of order: a bug in the writer, refused rather than stored.
    #[error("ledger: entry {got} is out of sequence (expected {expected})")]
    OutOfSequence {
        /// The next number the ledger expected.
        expected: u64,
        /// The number given.
        got: u64,
    },
}

/// What the appliance needs from durable storage.
pub trait Ledger {
    /// The sequence number the next appended entry must carry (1 for an empty ledger).
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
}
