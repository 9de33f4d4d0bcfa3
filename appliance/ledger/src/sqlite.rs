//! The ledger in an embedded SQLite file (WAL mode, fsync at every commit).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, params};

use crate::schema::{MIGRATIONS, SCHEMA_VERSION};
use crate::{ChargeGroup, Entry, Ledger, LedgerError, StoredReceipt};

/// A ledger file, owned by one thread.
pub struct SqliteLedger {
    connection: Connection,
    path: PathBuf,
    next_seq: u64,
}

impl std::fmt::Debug for SqliteLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLedger")
            .field("path", &self.path)
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

impl SqliteLedger {
    /// Opens (creating if needed) the ledger at `path` and runs any pending migrations.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let storage = storage_error(path);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = Connection::open_with_flags(path, flags).map_err(&storage)?;
        // WAL lets auditors read while the appliance writes; FULL syncs the WAL at every
        // commit, so a committed receipt survives power loss, not only a process crash.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(&storage)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(&storage)?;
        // The control thread records promotions through its own connection; wait for its
        // (tiny) transaction rather than fail a commit of receipts.
        connection
            .busy_timeout(crate::BUSY_WAIT)
            .map_err(&storage)?;
        let version = checked_version(&connection, path)?;
        migrate(&mut connection, version, path)?;
        Self::over(connection, path)
    }

    /// Opens an existing ledger read-only (evidence export, audits), alongside a running
    /// appliance.
    pub fn open_read_only(path: &Path) -> Result<Self, LedgerError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(storage_error(path))?;
        checked_version(&connection, path)?;
        Self::over(connection, path)
    }

    fn over(connection: Connection, path: &Path) -> Result<Self, LedgerError> {
        let last: Option<i64> = connection
            .query_row("SELECT MAX(seq) FROM receipts", [], |row| row.get(0))
            .map_err(storage_error(path))?;
        Ok(SqliteLedger {
            connection,
            path: path.to_owned(),
            next_seq: last.map_or(1, |seq| seq as u64 + 1),
        })
    }

    /// The receipt with this sequence number, with its tenant (receipt lookup by auditors).
    pub fn receipt(&self, seq: u64) -> Result<Option<(String, StoredReceipt)>, LedgerError> {
        use rusqlite::OptionalExtension;
        self.connection
            .query_row(
                "SELECT seq, purpose, dataset_class, verdict, charged, decided_us, envelope, \
                 tenant FROM receipts WHERE seq = ?1",
                [seq.min(i64::MAX as u64) as i64],
                |row| {
                    Ok((
                        row.get::<_, String>(7)?,
                        StoredReceipt {
                            seq: row.get::<_, i64>(0)? as u64,
                            purpose: row.get(1)?,
                            dataset_class: row.get(2)?,
                            verdict: row.get(3)?,
                            charged: row.get::<_, i64>(4)? as u64,
                            decided_us: row.get::<_, i64>(5)? as u64,
                            envelope_json: row.get(6)?,
                        },
                    ))
                },
            )
            .optional()
            .map_err(|e| self.storage(e))
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn storage(&self, source: rusqlite::Error) -> LedgerError {
        storage_error(&self.path)(source)
    }
}

fn storage_error(path: &Path) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |source| LedgerError::Storage {
        path: path.display().to_string(),
        source,
    }
}

/// The file's schema version, refused if a newer appliance wrote it.
fn checked_version(connection: &Connection, path: &Path) -> Result<u32, LedgerError> {
    let version: u32 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage_error(path))?;
    if version > SCHEMA_VERSION {
        return Err(LedgerError::TooNew {
            path: path.display().to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}

fn migrate(connection: &mut Connection, version: u32, path: &Path) -> Result<(), LedgerError> {
    let storage = storage_error(path);
    for (from, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let transaction = connection.transaction().map_err(&storage)?;
        transaction.execute_batch(migration).map_err(&storage)?;
        transaction
            .pragma_update(None, "user_version", from as u32 + 1)
            .map_err(&storage)?;
        transaction.commit().map_err(&storage)?;
    }
    Ok(())
}

impl Ledger for SqliteLedger {
    fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn append(&mut self, entries: &[Entry<'_>]) -> Result<(), LedgerError> {
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
            let read = || -> rusqlite::Result<StoredReceipt> {
                Ok(StoredReceipt {
                    seq: row.get::<_, i64>(0)? as u64,
                    purpose: row.get(1)?,
                    dataset_class: row.get(2)?,
                    verdict: row.get(3)?,
                    charged: row.get::<_, i64>(4)? as u64,
                    decided_us: row.get::<_, i64>(5)? as u64,
                    envelope_json: row.get(6)?,
                })
            };
            let stored = read().map_err(|e| self.storage(e))?;
            each(stored)?;
        }
        Ok(())
    }
}
