//! Durable cursors of the workers that follow the ledger (webhooks, transparency log, ...):
//! the last receipt each one handled, so that a restart resumes after it.

use rusqlite::{Connection, OptionalExtension, params};

/// What saving a cursor did.
pub(crate) enum Saved {
    /// Stored (or already there).
    Moved,
    /// Refused: the stored cursor is further on.
    Behind {
        /// The cursor stored, kept.
        stored: u64,
    },
}

/// The last sequence number `worker` saved, 0 if none.
pub(crate) fn cursor(connection: &Connection, worker: &str) -> rusqlite::Result<u64> {
    connection
        .prepare_cached("SELECT seq FROM worker_cursors WHERE name = ?1")?
        .query_row([worker], |row| row.get::<_, u64>(0))
        .optional()
        .map(Option::unwrap_or_default)
}

/// Saves `seq` for `worker` unless the stored cursor is further on; durable on return (one
/// autocommit statement on a connection that syncs FULL).
pub(crate) fn save(connection: &Connection, worker: &str, seq: u64) -> rusqlite::Result<Saved> {
    // One statement checks and moves the cursor, so a concurrent save cannot slip between
    // them. updated_us is for operators reading the file, never read back here, so SQLite's
    // clock is good enough.
    let changed = connection
        .prepare_cached(
            "INSERT INTO worker_cursors (name, seq, updated_us) \
             VALUES (?1, ?2, CAST(unixepoch('subsec') * 1000000 AS INTEGER)) \
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_us = excluded.updated_us \
             WHERE excluded.seq >= worker_cursors.seq",
        )?
        .execute(params![worker, seq])?;
    match changed {
        0 => Ok(Saved::Behind {
            stored: cursor(connection, worker)?,
        }),
        _ => Ok(Saved::Moved),
    }
}
