//! Why a snapshot could not be made, each with what to do about it.

use std::path::Path;

use tf_ledger::LedgerError;

/// Why a snapshot could not be made. Nothing of it is left behind: a packet appears under its
/// name complete, or not at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The period is empty or reversed.
    #[error("the period [{from_us}, {to_us}) is empty; its end must be after its start")]
    EmptyPeriod {
        /// Its start, Unix microseconds.
        from_us: u64,
        /// Its end, Unix microseconds.
        to_us: u64,
    },
    /// The period has not ended: receipts may still be added to it.
    #[error(
        "the period ends at {to_us}, after now ({now_us}); snapshot a period only once it has ended"
    )]
    PeriodNotOver {
        /// Its end, Unix microseconds.
        to_us: u64,
        /// Now, Unix microseconds.
        now_us: u64,
    },
    /// Receipts of the period were pruned from the ledger: a packet made now would miss them.
    #[error(
        "receipts {from_seq} to {to_seq}, decided in this period, were pruned from the ledger; packet {sealed_by} holds them, and a packet made now would miss them"
    )]
    Pruned {
        /// The first receipt pruned.
        from_seq: u64,
        /// The last receipt pruned.
        to_seq: u64,
        /// The packet that sealed them.
        sealed_by: String,
    },
    /// A packet of this name exists already.
    #[error(
        "{path} exists already; a period is sealed once (remove that packet first to make it again)"
    )]
    AlreadyExists {
        /// The packet.
        path: String,
    },
    /// Another snapshot is being made in the same folder.
    #[error("{lock} is held: another snapshot is being made in this folder; retry when it is done")]
    Busy {
        /// The lock file.
        lock: String,
    },
    /// The ledger could not be read.
    #[error("reading the ledger: {0}")]
    Ledger(#[from] LedgerError),
    /// The transparency log has no checkpoint (or no key) yet.
    #[error(
        "the transparency log in {log_dir} has no {missing} yet; start the appliance (its log worker) and retry after its first checkpoint"
    )]
    NoLog {
        /// The log's directory.
        log_dir: String,
        /// What is missing (`checkpoint`, `vkey`).
        missing: &'static str,
    },
    /// The log's files could not be read, or its checkpoint does not verify.
    #[error("the transparency log in {log_dir}: {why}")]
    Log {
        /// The log's directory.
        log_dir: String,
        /// What is wrong.
        why: String,
    },
    /// A receipt of the period is not in the log's latest checkpoint yet.
    #[error(
        "receipt {seq} is in the period but the log's latest checkpoint covers entries below {tree_size} only; retry after the log's next checkpoint"
    )]
    NotYetLogged {
        /// The receipt's sequence number.
        seq: u64,
        /// The checkpoint's tree size.
        tree_size: u64,
    },
    /// The previous snapshot's checkpoint does not verify with the log's key.
    #[error(
        "the previous snapshot's checkpoint: {why}; pass the checkpoint from the previous packet's log/checkpoint"
    )]
    PreviousCheckpoint {
        /// What is wrong.
        why: String,
    },
    /// The log's latest checkpoint does not extend the previous snapshot's: the log was
    /// rewritten, or the previous checkpoint is from another log.
    #[error(
        "the log's checkpoint of {new_size} entries is not consistent with the previous snapshot's of {old_size}: {why}; the log was rewritten or forked: stop pruning and investigate"
    )]
    LogForked {
        /// The previous checkpoint's tree size.
        old_size: u64,
        /// The latest checkpoint's tree size.
        new_size: u64,
        /// Why.
        why: String,
    },
    /// A file or folder could not be read or written.
    #[error("{path}: {source}; check the disk and the folder's permissions")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// An I/O error on `path`.
pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.display().to_string(),
        source,
    }
}
