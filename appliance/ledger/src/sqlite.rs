//! The ledger in an embedded SQLite file (WAL mode, fsync at every commit): connections and
//! receipts. The bundle timeline and the worker cursors are queried in their own modules.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use crate::cursors::{self, Saved};
use crate::error::storage_error;
use crate::schema::{SCHEMA_VERSION, checked_version, migrate};
use crate::{
    ChargeGroup, Entry, Ledger, LedgerError, LedgerRecord, StoredReceipt, TimelineEvent, bundles,
};

/// How long a connection waits for another's write transaction before failing: the ledger
/// thread's group commits and the other threads' tiny transactions (bundle switches, cursors)
/// take turns instead of failing each other.
pub const BUSY_WAIT: Duration = Duration::from_secs(5);

/// One connection to a ledger file, owned by one thread. The ledger thread appends receipts
/// through its own; other threads (the control thread, workers following the receipts) open
/// their own connections to the same file and read, record bundle switches and save cursors.
pub struct SqliteLedger {
    connection: Connection,
    path: PathBuf,
    next_seq: u64,
    read_only: bool,
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
            .pragma_update(None, "synchronous", "FULL")
            .map_err(&storage)?;
        // Checked before migrating so that an up-to-date file takes no write lock here.
        if checked_version(&connection, path)? < SCHEMA_VERSION {
            migrate(&mut connection, path)?;
        }
        Self::over(connection, path, false)
    }

    /// Opens an existing ledger read-only (evidence export, audits), alongside a running
    /// appliance. Its writes are refused with [`LedgerError::ReadOnly`].
    pub fn open_read_only(path: &Path) -> Result<Self, LedgerError> {
        let storage = storage_error(path);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(&storage)?;
        connection.busy_timeout(BUSY_WAIT).map_err(&storage)?;
        checked_version(&connection, path)?;
        Self::over(connection, path, true)
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn over(connection: Connection, path: &Path, read_only: bool) -> Result<Self, LedgerError> {
        let last: Option<i64> = connection
            .query_row("SELECT MAX(seq) FROM receipts", [], |row| row.get(0))
            .map_err(storage_error(path))?;
        Ok(SqliteLedger {
            connection,
            path: path.to_owned(),
            next_seq: last.map_or(1, |seq| seq as u64 + 1),
            read_only,
        })
    }

    fn storage(&self, source: rusqlite::Error) -> LedgerError {
        storage_error(&self.path)(source)
    }

    /// Refuses a write before SQLite would, with an error that names the caller's mistake.
    fn writable(&self) -> Result<(), LedgerError> {
        match self.read_only {
            true => Err(LedgerError::ReadOnly {
                path: self.path.display().to_string(),
            }),
            false => Ok(()),
        }
    }
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

/// Reads a receipt selected as `seq, purpose, dataset_class, verdict, charged, decided_us,
/// envelope` (the queries below select the tenant after them).
fn stored_receipt(row: &Row<'_>) -> rusqlite::Result<StoredReceipt> {
    Ok(StoredReceipt {
        seq: row.get::<_, i64>(0)? as u64,
        purpose: row.get(1)?,
        dataset_class: row.get(2)?,
        verdict: row.get(3)?,
        charged: row.get::<_, i64>(4)? as u64,
        decided_us: row.get::<_, i64>(5)? as u64,
        envelope_json: row.get(6)?,
    })
}

/// A sequence number as SQLite stores it; numbers past `i64::MAX` are never stored, so
/// clamping keeps every comparison right.
fn sql_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
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
        let storage = storage_error(&self.path);
        let transaction = self.connection.transaction().map_err(&storage)?;
        {
            let mut insert = transaction
                .prepare_cached(
                    "INSERT INTO receipts (seq, tenant, request_id, statement_digest, kind, verdict, \
                     reason, purpose, dataset_class, charged, budget_remaining, shard, received_us, \
                     decided_us, envelope, bundle_revision, bundle_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
                     ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                )
                .map_err(&storage)?;
            for entry in entries {
                let r = entry.receipt;
                insert
                    .execute(params![
                        r.ledger_seq as i64,
                        r.tenant,
                        r.request_id.to_string(),
                        r.statement_digest,
                        r.kind,
                        r.verdict.as_str(),
                        r.reason,
                        r.purpose,
                        r.dataset_class,
                        r.budget_charged as i64,
                        r.budget_remaining.map(|v| v as i64),
                        i64::from(r.shard),
                        r.received_at_unix_us as i64,
                        r.decided_at_unix_us as i64,
                        entry.envelope_json,
                        r.bundle_revision as i64,
                        r.bundle_hash,
                    ])
                    .map_err(&storage)?;
            }
        }
        transaction.commit().map_err(&storage)?;
        self.next_seq = expected;
        Ok(())
    }

    fn charges_since(
        &self,
        tenant: &str,
        since_us: u64,
        group_us: u64,
    ) -> Result<Vec<ChargeGroup>, LedgerError> {
        let group = group_us.max(1) as i64;
        let mut query = self
            .connection
            .prepare_cached(
                "SELECT purpose, dataset_class, decided_us / ?3 AS g, SUM(charged) FROM receipts \
                 WHERE tenant = ?1 AND decided_us >= ?2 AND charged > 0 \
                 GROUP BY purpose, dataset_class, g ORDER BY g",
            )
            .map_err(|e| self.storage(e))?;
        let rows = query
            .query_map(params![tenant, since_us as i64, group], |row| {
                let g: i64 = row.get(2)?;
                let charged: i64 = row.get(3)?;
                Ok(ChargeGroup {
                    purpose: row.get(0)?,
                    dataset_class: row.get(1)?,
                    from_us: (g * group) as u64,
                    to_us: (g * group + group - 1) as u64,
                    charged: charged as u64,
                })
            })
            .map_err(|e| self.storage(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.storage(e))
    }

    fn receipts_between(
        &self,
        tenant: &str,
        from_us: u64,
        to_us: u64,
        each: &mut dyn FnMut(StoredReceipt) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        let mut query = self
            .connection
            .prepare_cached(
                "SELECT seq, purpose, dataset_class, verdict, charged, decided_us, envelope \
                 FROM receipts WHERE tenant = ?1 AND decided_us >= ?2 AND decided_us < ?3 \
                 ORDER BY seq",
            )
            .map_err(|e| self.storage(e))?;
        let mut rows = query
            .query(params![
                tenant,
                from_us as i64,
                to_us.min(i64::MAX as u64) as i64
            ])
            .map_err(|e| self.storage(e))?;
        while let Some(row) = rows.next().map_err(|e| self.storage(e))? {
            let stored = stored_receipt(row).map_err(|e| self.storage(e))?;
            each(stored)?;
        }
        Ok(())
    }

    fn receipt(&self, seq: u64) -> Result<Option<(String, StoredReceipt)>, LedgerError> {
        self.connection
            .prepare_cached(
                "SELECT seq, purpose, dataset_class, verdict, charged, decided_us, envelope, \
                 tenant FROM receipts WHERE seq = ?1",
            )
            .and_then(|mut query| {
                query
                    .query_row([sql_seq(seq)], |row| {
                        Ok((row.get(7)?, stored_receipt(row)?))
                    })
                    .optional()
            })
            .map_err(|e| self.storage(e))
    }

    fn receipts_after(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, LedgerError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // One statement is one read transaction: it sees whole committed batches only, and
        // the ledger's numbers have no gaps, so the rows are a gapless run from after_seq + 1.
        let mut query = self
            .connection
            .prepare_cached(
                "SELECT seq, purpose, dataset_class, verdict, charged, decided_us, envelope, \
                 tenant FROM receipts WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(|e| self.storage(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = query
            .query_map(params![sql_seq(after_seq), limit], |row| {
                Ok(LedgerRecord {
                    tenant: row.get(7)?,
                    receipt: stored_receipt(row)?,
                })
            })
            .map_err(|e| self.storage(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.storage(e))
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
        bundles::record(&mut self.connection, event, archive).map_err(|e| self.storage(e))
    }

    fn timeline(&self) -> Result<Vec<TimelineEvent>, LedgerError> {
        bundles::timeline(&self.connection).map_err(|e| self.storage(e))
    }

    fn active_revision(&self) -> Result<Option<u64>, LedgerError> {
        bundles::active_revision(&self.connection).map_err(|e| self.storage(e))
    }

    fn archive(&self, revision: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        bundles::archive(&self.connection, revision).map_err(|e| self.storage(e))
    }

    fn highest_revision(&self) -> Result<u64, LedgerError> {
        bundles::highest_revision(&self.connection).map_err(|e| self.storage(e))
    }

    fn cursor(&self, worker: &str) -> Result<u64, LedgerError> {
        cursors::cursor(&self.connection, worker).map_err(|e| self.storage(e))
    }

    fn save_cursor(&mut self, worker: &str, seq: u64) -> Result<(), LedgerError> {
        self.writable()?;
        match cursors::save(&self.connection, worker, seq).map_err(|e| self.storage(e))? {
            Saved::Moved => Ok(()),
            Saved::Behind { stored } => Err(LedgerError::CursorBehind {
                worker: worker.to_owned(),
                stored,
                got: seq,
            }),
        }
    }
}
