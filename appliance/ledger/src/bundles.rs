//! Promoted policy bundles and the timeline of promotions and rollbacks, in the ledger file.
//!
//! The control thread writes here through its own connection: promotions are rare and their
//! transactions tiny, and SQLite serialises them with the ledger thread's commits (each side
//! waits on the other's lock for up to [`BUSY_WAIT`] instead of failing).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::LedgerError;

/// How long one writer waits for the other's transaction.
pub const BUSY_WAIT: Duration = Duration::from_secs(5);

/// One promotion or rollback, as the timeline keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

/// The bundle store and timeline of one ledger file.
pub struct BundleStore {
    connection: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for BundleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleStore")
            .field("path", &self.path)
            .finish()
    }
}

impl BundleStore {
    /// Opens the store in a ledger file already opened (and migrated) by [`crate::SqliteLedger`].
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let storage = storage_error(path);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(&storage)?;
        connection.busy_timeout(BUSY_WAIT).map_err(&storage)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(&storage)?;
        Ok(BundleStore {
            connection,
            path: path.to_owned(),
        })
    }

    /// Records an event and, if not stored yet, the bundle it puts in force, in one durable
    /// transaction. Returns the event's sequence number.
    pub fn record(&mut self, event: &TimelineEvent, archive: &[u8]) -> Result<u64, LedgerError> {
        let storage = storage_error(&self.path);
        let links = serde_json::to_string(&event.links).expect("a list of strings serialises");
        let transaction = self.connection.transaction().map_err(&storage)?;
        transaction
            .execute(
                "INSERT OR IGNORE INTO bundles (revision, hash, archive, stored_us) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    event.to_revision as i64,
                    event.bundle_hash,
                    archive,
                    event.at_us as i64
                ],
            )
            .map_err(&storage)?;
        transaction
            .execute(
                "INSERT INTO bundle_timeline (at_us, action, actor, reason, from_revision, \
                 to_revision, links) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    event.at_us as i64,
                    event.action,
                    event.actor,
                    event.reason,
                    event.from_revision as i64,
                    event.to_revision as i64,
                    links
                ],
            )
            .map_err(&storage)?;
        let seq = transaction.last_insert_rowid() as u64;
        transaction.commit().map_err(&storage)?;
        Ok(seq)
    }

    /// Every event, oldest first.
    pub fn timeline(&self) -> Result<Vec<TimelineEvent>, LedgerError> {
        let storage = storage_error(&self.path);
        let mut query = self
            .connection
            .prepare(
                "SELECT t.seq, t.at_us, t.action, t.actor, t.reason, t.from_revision, \
                 t.to_revision, t.links, b.hash FROM bundle_timeline t \
                 JOIN bundles b ON b.revision = t.to_revision ORDER BY t.seq",
            )
            .map_err(&storage)?;
        let rows = query
            .query_map([], |row| {
                let links: String = row.get(7)?;
                Ok(TimelineEvent {
                    seq: row.get::<_, i64>(0)? as u64,
                    at_us: row.get::<_, i64>(1)? as u64,
                    action: row.get(2)?,
                    actor: row.get(3)?,
                    reason: row.get(4)?,
                    from_revision: row.get::<_, i64>(5)? as u64,
                    to_revision: row.get::<_, i64>(6)? as u64,
                    links: serde_json::from_str(&links).unwrap_or_default(),
                    bundle_hash: row.get(8)?,
                })
            })
            .map_err(&storage)?;
        rows.collect::<Result<_, _>>().map_err(&storage)
    }

    /// The revision in force: the last event's.
    pub fn active_revision(&self) -> Result<Option<u64>, LedgerError> {
        self.connection
            .query_row(
                "SELECT to_revision FROM bundle_timeline ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map(|r| r.map(|v| v as u64))
            .map_err(storage_error(&self.path))
    }

    /// A promoted bundle's archive, as promoted.
    pub fn archive(&self, revision: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        self.connection
            .query_row(
                "SELECT archive FROM bundles WHERE revision = ?1",
                [revision as i64],
                |row| row.get(0),
            )
            .optional()
            .map_err(storage_error(&self.path))
    }

    /// The highest revision ever promoted (rollbacks republish above it).
    pub fn highest_revision(&self) -> Result<u64, LedgerError> {
        self.connection
            .query_row(
                "SELECT COALESCE(MAX(revision), 0) FROM bundles",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|v| v as u64)
            .map_err(storage_error(&self.path))
    }
}

fn storage_error(path: &Path) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |source| LedgerError::Storage {
        path: path.display().to_string(),
        source,
    }
}
