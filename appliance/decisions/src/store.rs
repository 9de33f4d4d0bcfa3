//! The decision log's file: blocks indexed by time, with the runs they belong to.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, params};
use tf_drift::Event;
use tf_drift::block::{Block, BlockError, decode_block};

/// The schema version this build writes.
const SCHEMA_VERSION: u32 = 2;

/// Page cache per connection, in KiB: records are appended and read back in ranges, so a small
/// cache loses little. SQLite as built here shares one page cache among all the process's
/// connections, the ledger's included, as large as their sizes added up (see the ledger's
/// `PAGE_CACHE_KIB`), so every connection's size adds to what the busiest one fills.
const PAGE_CACHE_KIB: i64 = 64;

const SCHEMA: &str = "
    CREATE TABLE runs (
        run        INTEGER PRIMARY KEY,   -- the appliance run: its start, Unix microseconds
        shards     INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE blocks (
        id           INTEGER PRIMARY KEY,  -- in the order written
        run          INTEGER NOT NULL REFERENCES runs (run),
        shard        INTEGER NOT NULL,
        first_us     INTEGER NOT NULL,     -- the earliest decision in it, Unix microseconds
        last_us      INTEGER NOT NULL,     -- the latest
        decisions    INTEGER NOT NULL,
        not_recorded INTEGER NOT NULL,     -- the shard's decisions lost just before it
        data         BLOB    NOT NULL      -- the encoded decisions
    ) STRICT;
    CREATE INDEX blocks_by_last ON blocks (last_us);
";

/// 1 -> 2: the scenario scheduler's runs (kept 90 days) and the last slot it acted on.
const SCENARIOS: &str = "
    CREATE TABLE scenario_runs (
        id          INTEGER PRIMARY KEY,
        pack        TEXT    NOT NULL,
        slot_us     INTEGER NOT NULL,     -- the schedule's slot it ran for (0: by hand)
        started_us  INTEGER NOT NULL,
        finished_us INTEGER NOT NULL,
        passed      INTEGER NOT NULL,     -- 1: every expectation held
        decisions   INTEGER NOT NULL,
        flips       INTEGER NOT NULL,
        upper_bound REAL    NOT NULL,     -- the drift's upper bound, a fraction
        result      TEXT    NOT NULL      -- the whole result (JSON), or why it did not run
    ) STRICT;
    CREATE INDEX scenario_runs_by_pack ON scenario_runs (pack, started_us);
    CREATE TABLE scenario_slots (
        schedule TEXT    PRIMARY KEY NOT NULL,
        slot_us  INTEGER NOT NULL
    ) STRICT;
";

/// The drift guard's judgements of candidate bundles (the newest few, one per bundle). Added
/// without a new schema version: older appliances read the file as before and ignore the
/// table, so a rollback keeps the decision log; readers find it missing in a file only an
/// older appliance wrote.
const JUDGEMENTS: &str = "
    CREATE TABLE IF NOT EXISTS drift_judgements (
        bundle_hash TEXT    PRIMARY KEY NOT NULL,
        judged_us   INTEGER NOT NULL,
        judgement   TEXT    NOT NULL      -- the judgement, JSON
    ) STRICT;
";

/// Why the decision log could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// SQLite failed.
    #[error("the decision log {path}: {source}")]
    Storage {
        /// The file.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file could not be created, or what was read from it could not be written on.
    #[error("the decision log {path}: {source}")]
    Create {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A newer appliance wrote it.
    #[error(
        "the decision log {path} is schema {found}; this appliance reads up to {supported} \
         (run the newer appliance, or move the file aside to start a new log)"
    )]
    TooNew {
        /// The file.
        path: String,
        /// Its version.
        found: u32,
        /// This build's.
        supported: u32,
    },
    /// A block could not be read.
    #[error("the decision log {path}: {source}")]
    Block {
        /// The file.
        path: String,
        /// Why.
        source: BlockError,
    },
    /// There is no log where it was looked for.
    #[error(
        "no decision log at {0}: the appliance records one while it serves (see [decisions] in \
         the configuration); pass --state for another state directory, or --sample for an \
         exported sample"
    )]
    Missing(String),
    /// An older appliance wrote it, and reading it needs the tables a newer one adds.
    #[error(
        "the decision log {path} is schema {found}, older than this appliance's {current}: \
         start the appliance once (it brings the file up to date), then ask again"
    )]
    TooOld {
        /// The file.
        path: String,
        /// Its version.
        found: u32,
        /// This build's.
        current: u32,
    },
}

/// A window of events read back.
#[derive(Debug, Default)]
pub struct Window {
    /// The events, block by block in the order written.
    pub events: Vec<Event>,
    /// Decisions the shards could not hand over in the blocks' period.
    pub not_recorded: u64,
}

/// What the log holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Blocks.
    pub blocks: u64,
    /// Decisions.
    pub decisions: u64,
    /// Bytes of encoded decisions.
    pub bytes: u64,
    /// The earliest decision, Unix microseconds (0: none).
    pub first_us: u64,
    /// The latest.
    pub last_us: u64,
}

/// The decision log's file.
pub struct DecisionLog {
    connection: Connection,
    path: PathBuf,
}

impl DecisionLog {
    /// Opens (creating and migrating) the log for writing. A new file is created owner-only
    /// before SQLite opens it (its -wal and -shm files take its mode).
    pub fn open(path: &Path) -> Result<Self, LogError> {
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|source| LogError::Create {
                    path: path.display().to_string(),
                    source,
                })?;
        }
        let connection = Connection::open(path).map_err(storage(path))?;
        let log = DecisionLog {
            connection,
            path: path.to_owned(),
        };
        log.connection
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA cache_size = -{PAGE_CACHE_KIB};"
            ))
            .map_err(storage(path))?;
        let version: u32 = log
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(storage(path))?;
        if version > SCHEMA_VERSION {
            return Err(LogError::TooNew {
                path: path.display().to_string(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            let steps = if version == 0 {
                format!("{SCHEMA} {SCENARIOS}")
            } else {
                SCENARIOS.to_owned()
            };
            log.connection
                .execute_batch(&format!(
                    "BEGIN IMMEDIATE; {steps} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(storage(path))?;
        }
        log.connection
            .execute_batch(JUDGEMENTS)
            .map_err(storage(path))?;
        Ok(log)
    }

    /// Opens an existing log to read (a running appliance may be writing it).
    pub fn open_read(path: &Path) -> Result<Self, LogError> {
        if !path.exists() {
            return Err(LogError::Missing(path.display().to_string()));
        }
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(storage(path))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(storage(path))?;
        connection
            .pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
            .map_err(storage(path))?;
        // Read-only, so it cannot migrate: an older file lacks tables a query would name.
        let version: u32 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(storage(path))?;
        let path_text = || path.display().to_string();
        if version > SCHEMA_VERSION {
            return Err(LogError::TooNew {
                path: path_text(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            return Err(LogError::TooOld {
                path: path_text(),
                found: version,
                current: SCHEMA_VERSION,
            });
        }
        Ok(DecisionLog {
            connection,
            path: path.to_owned(),
        })
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    pub(crate) fn storage(&self) -> impl Fn(rusqlite::Error) -> LogError + '_ {
        storage(&self.path)
    }

    /// Notes a new run of the appliance with `shards` shards.
    pub fn begin_run(&self, run: u64, shards: usize) -> Result<(), LogError> {
        self.connection
            .execute(
                "INSERT OR IGNORE INTO runs (run, shards) VALUES (?1, ?2)",
                params![run as i64, shards as i64],
            )
            .map_err(storage(&self.path))?;
        Ok(())
    }

    /// Appends blocks in one transaction: `(shard, block, not recorded before it)`.
    pub fn append(&mut self, run: u64, blocks: &[(u16, Block, u64)]) -> Result<(), LogError> {
        let path = self.path.clone();
        let transaction = self.connection.transaction().map_err(storage(&path))?;
        {
            let mut insert = transaction
                .prepare_cached(
                    "INSERT INTO blocks (run, shard, first_us, last_us, decisions, not_recorded, \
                     data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(storage(&path))?;
            for (shard, block, not_recorded) in blocks {
                insert
                    .execute(params![
                        run as i64,
                        shard,
                        block.first_us as i64,
                        block.last_us as i64,
                        block.count as i64,
                        *not_recorded as i64,
                        block.data,
                    ])
                    .map_err(storage(&path))?;
            }
        }
        transaction.commit().map_err(storage(&path))
    }

    /// Deletes blocks wholly older than `cutoff_us`, then the oldest until the rest hold at
    /// most `max_bytes`. Returns the blocks deleted.
    pub fn prune(&mut self, cutoff_us: u64, max_bytes: u64) -> Result<u64, LogError> {
        let path = self.path.clone();
        let mut deleted = self
            .connection
            .execute(
                "DELETE FROM blocks WHERE last_us < ?1",
                params![cutoff_us.min(i64::MAX as u64) as i64],
            )
            .map_err(storage(&path))? as u64;
        let stats = self.stats()?;
        if stats.bytes > max_bytes {
            // Oldest first, until what is left fits.
            let mut excess = stats.bytes - max_bytes;
            let mut ids = Vec::new();
            {
                let mut oldest = self
                    .connection
                    .prepare("SELECT id, length(data) FROM blocks ORDER BY id")
                    .map_err(storage(&path))?;
                let mut rows = oldest.query([]).map_err(storage(&path))?;
                while let Some(row) = rows.next().map_err(storage(&path))? {
                    let id: i64 = row.get(0).map_err(storage(&path))?;
                    let len: i64 = row.get(1).map_err(storage(&path))?;
                    ids.push(id);
                    excess = excess.saturating_sub(len as u64);
                    if excess == 0 {
                        break;
                    }
                }
            }
            if let Some(last) = ids.last() {
                deleted += self
                    .connection
                    .execute("DELETE FROM blocks WHERE id <= ?1", params![last])
                    .map_err(storage(&path))? as u64;
            }
        }
        self.connection
            .execute(
                "DELETE FROM runs WHERE run NOT IN (SELECT DISTINCT run FROM blocks) \
                 AND run < (SELECT max(run) FROM runs)",
                [],
            )
            .map_err(storage(&path))?;
        Ok(deleted)
    }

    /// What the log holds.
    pub fn stats(&self) -> Result<LogStats, LogError> {
        self.connection
            .query_row(
                "SELECT count(*), coalesce(sum(decisions), 0), coalesce(sum(length(data)), 0), \
                 coalesce(min(first_us), 0), coalesce(max(last_us), 0) FROM blocks",
                [],
                |row| {
                    Ok(LogStats {
                        blocks: row.get::<_, i64>(0)? as u64,
                        decisions: row.get::<_, i64>(1)? as u64,
                        bytes: row.get::<_, i64>(2)? as u64,
                        first_us: row.get::<_, i64>(3)? as u64,
                        last_us: row.get::<_, i64>(4)? as u64,
                    })
                },
            )
            .map_err(storage(&self.path))
    }

    /// Decisions the shards could not hand over, in the blocks that reach into
    /// `from_us..=to_us`.
    pub fn not_recorded(&self, from_us: u64, to_us: u64) -> Result<u64, LogError> {
        self.connection
            .query_row(
                "SELECT coalesce(sum(not_recorded), 0) FROM blocks \
                 WHERE last_us >= ?1 AND first_us <= ?2",
                params![clamp(from_us), clamp(to_us)],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(storage(&self.path))
    }

    /// Hands `each` the blocks that reach into `from_us..=to_us`, in the order written: run,
    /// shard, events held, encoded events; stops when it returns `Ok(false)`.
    pub fn blocks(
        &self,
        from_us: u64,
        to_us: u64,
        mut each: impl FnMut(u64, u16, usize, &[u8]) -> std::io::Result<bool>,
    ) -> Result<(), LogError> {
        let path = &self.path;
        let mut select = self
            .connection
            .prepare(
                "SELECT run, shard, decisions, data FROM blocks \
                 WHERE last_us >= ?1 AND first_us <= ?2 ORDER BY id",
            )
            .map_err(storage(path))?;
        let mut rows = select
            .query(params![clamp(from_us), clamp(to_us)])
            .map_err(storage(path))?;
        while let Some(row) = rows.next().map_err(storage(path))? {
            let run: i64 = row.get(0).map_err(storage(path))?;
            let shard: i64 = row.get(1).map_err(storage(path))?;
            let count: i64 = row.get(2).map_err(storage(path))?;
            let data = row.get_ref(3).map_err(storage(path))?;
            let data = data.as_blob().map_err(|e| LogError::Storage {
                path: path.display().to_string(),
                source: e.into(),
            })?;
            let go_on = each(run as u64, shard as u16, count as usize, data).map_err(|source| {
                LogError::Create {
                    path: path.display().to_string(),
                    source,
                }
            })?;
            if !go_on {
                break;
            }
        }
        Ok(())
    }

    /// Hands `each` the events from `from_us` to `to_us` (inclusive), block by block in the
    /// order written (each shard's in its order), one block in memory at a time.
    pub fn scan(
        &self,
        from_us: u64,
        to_us: u64,
        mut each: impl FnMut(Event),
    ) -> Result<(), LogError> {
        self.scan_while(from_us, to_us, |event| {
            each(event);
            true
        })
    }

    /// [`DecisionLog::scan`], stopping (at the end of a block) once `each` returns `false`.
    pub fn scan_while(
        &self,
        from_us: u64,
        to_us: u64,
        mut each: impl FnMut(Event) -> bool,
    ) -> Result<(), LogError> {
        let mut damaged = None;
        self.blocks(from_us, to_us, |run, shard, _, data| {
            let mut go_on = true;
            match decode_block(run, shard, data) {
                Ok(events) => {
                    for event in events {
                        if (from_us..=to_us).contains(&event.at_us()) {
                            go_on &= each(event);
                        }
                    }
                }
                Err(error) => {
                    damaged.get_or_insert(error);
                    go_on = false;
                }
            }
            Ok(go_on)
        })?;
        match damaged {
            Some(source) => Err(LogError::Block {
                path: self.path.display().to_string(),
                source,
            }),
            None => Ok(()),
        }
    }

    /// Every event from `from_us` to `to_us`, gathered (for tests and small windows; the
    /// drift guard streams with [`DecisionLog::scan`]).
    pub fn read(&self, from_us: u64, to_us: u64) -> Result<Window, LogError> {
        let mut events = Vec::new();
        self.scan(from_us, to_us, |event| events.push(event))?;
        Ok(Window {
            events,
            not_recorded: self.not_recorded(from_us, to_us)?,
        })
    }
}

fn clamp(us: u64) -> i64 {
    us.min(i64::MAX as u64) as i64
}

fn storage(path: &Path) -> impl Fn(rusqlite::Error) -> LogError + '_ {
    move |source| LogError::Storage {
        path: path.display().to_string(),
        source,
    }
}
