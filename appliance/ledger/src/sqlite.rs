//! The ledger in an embedded SQLite file (WAL mode, fsync at every commit): connections, and
//! the trait's methods over the modules that do the work (the compact receipts, pruning, the
//! bundle timeline, the worker cursors).

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::compact::Scratch;
use crate::cursors::{self, Saved};
use crate::dictionary::Dictionaries;
use crate::error::storage_error;
use crate::schema::{SCHEMA_VERSION, checked_version, migrate};
use crate::{
    ChargeGroup, ControlEvent, Entry, Ledger, LedgerError, LedgerRecord, MessageRow, PruneBounds,
    Pruned, PrunedRange, ReceiptSearch, StorageStats, StoredReceipt, TimelineEvent, bundles,
    control_events, prune, read, stats, store,
};

/// How long a connection waits for another's write transaction before failing: the ledger
/// thread's group commits and the other threads' tiny transactions (bundle switches, cursors)
/// take turns instead of failing each other.
pub const BUSY_WAIT: Duration = Duration::from_secs(5);

/// Page cache per connection, in KiB. SQLite as built here (with memory management) keeps one
/// page cache for the whole process, as large as its connections' sizes added up, and the
/// busiest connection (the ledger thread's) takes pages from the others' share: a running
/// appliance holds nine connections (six to the ledger, three to the decision log), so its
/// SQLite pages fill to about nine times this, slowly, as the ledger grows. Appending touches
/// the right edge of each B-tree, and followers read each new page once, so a small cache
/// loses little (a page not cached is read back from the operating system's cache); at 512 KiB
/// the pages kept filling for 17 minutes, and resident memory crept by 5 MiB with them
/// (docs/bench-rig.md, "The 60-minute soak").
pub(crate) const PAGE_CACHE_KIB: i64 = 64;

/// One connection to a ledger file, owned by one thread. The ledger thread appends receipts
/// through its own; other threads (the control thread, workers following the receipts) open
/// their own connections to the same file and read, record bundle switches and save cursors.
pub struct SqliteLedger {
    connection: Connection,
    path: PathBuf,
    next_seq: u64,
    read_only: bool,
    /// Dictionary ids and bundle hashes read so far, so appends look names up in memory.
    dictionaries: Dictionaries,
    /// Buffers for checking each appended payload rebuilds exactly.
    scratch: Scratch,
}

impl std::fmt::Debug for SqliteLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLedger")
            .field("path", &self.path)
            .field("next_seq", &self.next_seq)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl SqliteLedger {
    /// Opens (creating if needed) the ledger at `path` for reading and writing, and runs any
    /// pending migrations. Every thread that writes opens its own.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let storage = storage_error(path);
        create_private(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = Connection::open_with_flags(path, flags).map_err(&storage)?;
        // Connections on other threads write the same file (bundle switches, cursors, the
        // ledger thread's commits): wait for their (tiny) transactions rather than fail.
        connection.busy_timeout(BUSY_WAIT).map_err(&storage)?;
        // WAL lets auditors and workers read while the appliance writes; FULL syncs the WAL
        // at every commit, so a committed receipt survives power loss, not only a crash.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(&storage)?;
        connection
            .pragma_update(None, "synchronous", synchronous())
            .map_err(&storage)?;
        // Checked before migrating so that an up-to-date file takes no write lock here.
        if checked_version(&connection, path)? < SCHEMA_VERSION {
            migrate(&mut connection, path)?;
        }
        Self::over(connection, path, false)
    }

    /// Opens an existing ledger read-only (evidence export, audits), alongside a running
    /// appliance. Its writes are refused with [`LedgerError::ReadOnly`]; a file an older
    /// appliance wrote is refused with [`LedgerError::TooOld`] (opening it for writing
    /// migrates it).
    pub fn open_read_only(path: &Path) -> Result<Self, LedgerError> {
        let storage = storage_error(path);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(&storage)?;
        connection.busy_timeout(BUSY_WAIT).map_err(&storage)?;
        let version = checked_version(&connection, path)?;
        if version < SCHEMA_VERSION {
            return Err(LedgerError::TooOld {
                path: path.display().to_string(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Self::over(connection, path, true)
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn over(connection: Connection, path: &Path, read_only: bool) -> Result<Self, LedgerError> {
        connection
            .pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
            .map_err(storage_error(path))?;
        // Pruned numbers count too: a ledger pruned empty continues its sequence, never
        // reusing a number a receipt (now in a snapshot) carried.
        let last: i64 = connection
            .query_row(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM receipts), 0), \
                 COALESCE((SELECT MAX(to_seq) FROM pruned_ranges), 0))",
                [],
                |row| row.get(0),
            )
            .map_err(storage_error(path))?;
        Ok(SqliteLedger {
            connection,
            path: path.to_owned(),
            next_seq: last as u64 + 1,
            read_only,
            dictionaries: Dictionaries::default(),
            scratch: Scratch::new(),
        })
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// A SQLite failure of this ledger, with the errno behind an I/O failure (which tells a
    /// read-only file system or a full one from a failing disk).
    pub(crate) fn failed(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError::Storage {
            path: self.path.display().to_string(),
            source: crate::os_error::with_system_errno(&self.connection, source),
        }
    }

    /// Refuses a write before SQLite would, with an error that names the caller's mistake.
    pub(crate) fn writable(&self) -> Result<(), LedgerError> {
        match self.read_only {
            true => Err(LedgerError::ReadOnly {
                path: self.path.display().to_string(),
            }),
            false => Ok(()),
        }
    }
}

/// `FULL`: every commit syncs the write-ahead log before the partner is answered. A test build
/// (`fault-injection`) turns it `OFF` with `TF_FAULT_LEDGER_SYNC=off`, so the power-cut test
/// can show that it would notice (tests/power_cut.rs).
fn synchronous() -> &'static str {
    #[cfg(feature = "fault-injection")]
    if std::env::var("TF_FAULT_LEDGER_SYNC").as_deref() == Ok("off") {
        eprintln!("TEST BUILD: TF_FAULT_LEDGER_SYNC=off: the ledger syncs nothing");
        return "OFF";
    }
    "FULL"
}

/// Creates the ledger file owner-only (0600) if it does not exist, before SQLite would create
/// it with what the umask leaves of 0644: its receipts name tenants, purposes and charges. SQLite gives the `-wal` and `-shm`
/// files it creates later the database file's permissions, so they are owner-only too. An
/// existing file is left as it is (the state directory's check refuses one others can read).
fn create_private(path: &Path) -> Result<(), LedgerError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(LedgerError::Storage {
            path: path.display().to_string(),
            source: Box::new(source),
        }),
    }
}

impl Ledger for SqliteLedger {
    fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn append(&mut self, entries: &[Entry<'_>]) -> Result<(), LedgerError> {
        self.writable()?;
        let mut expected = self.next_seq;
        for entry in entries {
            if entry.receipt.ledger_seq != expected {
                return Err(LedgerError::OutOfSequence {
                    expected,
                    got: entry.receipt.ledger_seq,
                });
            }
            expected += 1;
        }
        // IMMEDIATE: the write lock from the start. A transaction that began by reading (a
        // dictionary or bundle lookup) could not take it after another connection's commit
        // (a cursor, a bundle switch) and would fail at once instead of waiting its turn.
        let (connection, dictionaries, scratch) = (
            &mut self.connection,
            &mut self.dictionaries,
            &mut self.scratch,
        );
        let stored = (|| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            store::append(&transaction, dictionaries, scratch, entries)?;
            transaction.commit()
        })();
        if let Err(source) = stored {
            // Ids the rolled-back transaction added are gone: look them up afresh.
            self.dictionaries.forget_ids();
            return Err(self.failed(source));
        }
        self.next_seq = expected;
        Ok(())
    }

    fn charges_since(
        &self,
        tenant: &str,
        since_us: u64,
        group_us: u64,
    ) -> Result<Vec<ChargeGroup>, LedgerError> {
        read::charges_since(&self.connection, tenant, since_us, group_us)
            .map_err(|e| self.failed(e))
    }

    fn receipts_between(
        &self,
        tenant: &str,
        from_us: u64,
        to_us: u64,
        each: &mut dyn FnMut(StoredReceipt) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        read::between(&self.connection, &self.path, tenant, [from_us, to_us], each)
    }

    fn tenants(&self) -> Result<Vec<String>, LedgerError> {
        read::tenants(&self.connection).map_err(|e| self.failed(e))
    }

    fn receipt(&self, seq: u64) -> Result<Option<(String, StoredReceipt)>, LedgerError> {
        let record = read::by_seq(&self.connection, &self.path, seq)?;
        Ok(record.map(|record| (record.tenant, record.receipt)))
    }

    fn receipts_after(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, LedgerError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        read::after(&self.connection, &self.path, after_seq, limit)
    }

    fn record_switch(&mut self, event: &TimelineEvent, archive: &[u8]) -> Result<u64, LedgerError> {
        self.writable()?;
        for value in [event.from_revision, event.to_revision] {
            if i64::try_from(value).is_err() {
                return Err(LedgerError::OutOfRange {
                    what: "bundle revision",
                    value,
                    max: i64::MAX,
                });
            }
        }
        bundles::record(&mut self.connection, event, archive).map_err(|e| self.failed(e))
    }

    fn record_control_event(
        &mut self,
        at_us: u64,
        kind: &str,
        body: &str,
    ) -> Result<u64, LedgerError> {
        self.writable()?;
        control_events::record(&self.connection, at_us, kind, body).map_err(|e| self.failed(e))
    }

    fn control_events_after(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<ControlEvent>, LedgerError> {
        control_events::after(&self.connection, after_seq, limit).map_err(|e| self.failed(e))
    }

    fn latest_control_events(
        &self,
        kinds: &[&str],
        limit: usize,
    ) -> Result<Vec<ControlEvent>, LedgerError> {
        control_events::latest_of(&self.connection, kinds, limit).map_err(|e| self.failed(e))
    }

    fn last_control_event(&self) -> Result<u64, LedgerError> {
        control_events::last_seq(&self.connection).map_err(|e| self.failed(e))
    }

    fn timeline(&self) -> Result<Vec<TimelineEvent>, LedgerError> {
        bundles::timeline(&self.connection).map_err(|e| self.failed(e))
    }

    fn active_revision(&self) -> Result<Option<u64>, LedgerError> {
        bundles::active_revision(&self.connection).map_err(|e| self.failed(e))
    }

    fn archive(&self, revision: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        bundles::archive(&self.connection, revision).map_err(|e| self.failed(e))
    }

    fn highest_revision(&self) -> Result<u64, LedgerError> {
        bundles::highest_revision(&self.connection).map_err(|e| self.failed(e))
    }

    fn cursor(&self, worker: &str) -> Result<u64, LedgerError> {
        cursors::cursor(&self.connection, worker).map_err(|e| self.failed(e))
    }

    fn webhook_hold(&self) -> Result<Option<u64>, LedgerError> {
        crate::outbox::sql::hold(&self.connection).map_err(|e| self.failed(e))
    }

    fn webhook_messages_over(
        &self,
        first: u64,
        last: u64,
        each: &mut dyn FnMut(String, MessageRow) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        crate::outbox::sql::messages_over(&self.connection, &self.path, [first, last], each)
    }

    fn prune_webhook_messages(&mut self, below_seq: u64) -> Result<usize, LedgerError> {
        self.writable()?;
        crate::outbox::sql::prune_done(&self.connection, below_seq).map_err(|e| self.failed(e))
    }

    fn save_cursor(&mut self, worker: &str, seq: u64) -> Result<(), LedgerError> {
        self.writable()?;
        match cursors::save(&self.connection, worker, seq).map_err(|e| self.failed(e))? {
            Saved::Moved => Ok(()),
            Saved::Behind { stored } => Err(LedgerError::CursorBehind {
                worker: worker.to_owned(),
                stored,
                got: seq,
            }),
        }
    }

    fn prune(
        &mut self,
        bounds: PruneBounds,
        sealed_by: &str,
        at_us: u64,
    ) -> Result<Pruned, LedgerError> {
        self.writable()?;
        prune::prune(&mut self.connection, bounds, sealed_by, at_us).map_err(|e| self.failed(e))
    }

    fn pruned_ranges(&self) -> Result<Vec<PrunedRange>, LedgerError> {
        prune::ranges(&self.connection).map_err(|e| self.failed(e))
    }

    fn oldest_retained(&self) -> Result<Option<(u64, u64)>, LedgerError> {
        prune::oldest_retained(&self.connection).map_err(|e| self.failed(e))
    }

    fn probe(&mut self) -> Result<(), LedgerError> {
        self.writable()?;
        if let Some(free) = crate::free_bytes(&self.path)
            && free < crate::RESUME_HEADROOM_BYTES
        {
            return Err(LedgerError::Storage {
                path: self.path.display().to_string(),
                source: Box::new(std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    format!(
                        "{free} bytes free; the ledger resumes with {} free",
                        crate::RESUME_HEADROOM_BYTES
                    ),
                )),
            });
        }
        let connection = &mut self.connection;
        let rewritten = (|| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: u32 =
                transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
            transaction.pragma_update(None, "user_version", version)?;
            transaction.commit()
        })();
        rewritten.map_err(|e| self.failed(e))
    }

    fn storage(&self) -> Result<StorageStats, LedgerError> {
        stats::storage(&self.connection, &self.path).map_err(|e| self.failed(e))
    }

    fn decided_since(&self, since_us: u64) -> Result<u64, LedgerError> {
        stats::decided_since(&self.connection, since_us).map_err(|e| self.failed(e))
    }

    fn search_receipts(&self, search: &ReceiptSearch) -> Result<Vec<LedgerRecord>, LedgerError> {
        if search.limit == 0 {
            return Ok(Vec::new());
        }
        crate::search::run(&self.connection, &self.path, search)
    }
}
