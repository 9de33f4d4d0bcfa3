//! Why the ledger failed, in terms of no backend: a caller never sees a SQLite (or
//! PostgreSQL) type, only what happened and what to do about it.

use std::path::Path;

/// Why the ledger failed. The appliance answers affected requests with an internal error and
/// never acknowledges what was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The database could not be opened, read or written.
    #[error("ledger {path}: {source}; check the disk and the state directory's permissions")]
    Storage {
        /// The ledger file (or database).
        path: String,
        /// What the backend reported (its message, and its own source chain).
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
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
    /// A read-only open of a file an older appliance wrote: it must be migrated first, which
    /// takes a writable open.
    #[error(
        "ledger {path}: schema version {found} is older than this appliance's {supported}; start the appliance once (it migrates the file), then open it read-only"
    )]
    TooOld {
        /// The ledger file.
        path: String,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A stored receipt cannot be read back (its row was changed by hand or the file is
    /// damaged).
    #[error("ledger {path}: receipt {seq} cannot be read back: {what}; restore a backup")]
    Malformed {
        /// The ledger file.
        path: String,
        /// The receipt's sequence number.
        seq: u64,
        /// What is wrong with it.
        what: String,
    },
    /// A receipt of an older file cannot be moved to the current schema; the file is left as
    /// it was.
    #[error(
        "ledger {path}: receipt {seq} cannot be migrated to schema version {version}: {what}; nothing was changed, the file stays at version {from}"
    )]
    Unmigratable {
        /// The ledger file.
        path: String,
        /// The receipt's sequence number.
        seq: u64,
        /// What is wrong with it.
        what: String,
        /// The version the file stays at.
        from: u32,
        /// The version it could not move to.
        version: u32,
    },
    /// A sequence number out of order: a bug in the writer, refused rather than stored.
    #[error("ledger: entry {got} is out of sequence (expected {expected})")]
    OutOfSequence {
        /// The next number the ledger expected.
        expected: u64,
        /// The number given.
        got: u64,
    },
    /// A worker saved a cursor below the one stored: a bug in the worker (it would handle
    /// receipts twice after a restart), refused rather than stored.
    #[error(
        "ledger: worker {worker} saved cursor {got} below its stored {stored}; a cursor only moves forward"
    )]
    CursorBehind {
        /// The worker's name.
        worker: String,
        /// The cursor stored, kept.
        stored: u64,
        /// The cursor refused.
        got: u64,
    },
    /// A number the ledger's signed 64-bit integers cannot hold: refused rather than stored
    /// negative.
    #[error(
        "ledger: {what} {value} is above {max}, the largest the ledger stores; nothing was written"
    )]
    OutOfRange {
        /// What the number is (`bundle revision`).
        what: &'static str,
        /// The number refused.
        value: u64,
        /// The largest number stored.
        max: i64,
    },
    /// A webhook endpoint that does not exist or was removed.
    #[error("ledger: webhook endpoint {id} does not exist or was removed; list the endpoints")]
    NoSuchEndpoint {
        /// The endpoint's id.
        id: u64,
    },
    /// A webhook message that does not exist or is no longer owed (acknowledged or given up).
    #[error("ledger: webhook message {number} of endpoint {endpoint} is not owed")]
    NoSuchMessage {
        /// The endpoint's id.
        endpoint: u64,
        /// The message's number.
        number: u64,
    },
    /// A write through a ledger opened read-only: a bug in the caller, refused.
    #[error("ledger {path}: opened read-only; write through a ledger opened for writing")]
    ReadOnly {
        /// The ledger file.
        path: String,
    },
}

/// Wraps a SQLite error as a [`LedgerError::Storage`] of the file at `path`.
pub(crate) fn storage_error(path: &Path) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |source| LedgerError::Storage {
        path: path.display().to_string(),
        source: Box::new(source),
    }
}
