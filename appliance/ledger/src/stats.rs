//! How much room the ledger takes: pages in use and free, the write-ahead log, receipts kept.
//!
//! Pages freed by pruning stay in the file and are reused by later appends before it grows, so
//! a ledger pruned as fast as it fills keeps its size. The file is never shrunk in place:
//! `PRAGMA incremental_vacuum` needs `auto_vacuum = INCREMENTAL`, which an existing file only
//! gets from a full `VACUUM` (a rewrite of the whole file under the write lock, with as much
//! free disk again), and it would only hand back room the next appends take again. An
//! operator who wants the room back after shrinking retention runs `VACUUM` offline.

use std::path::Path;

use rusqlite::Connection;

use crate::StorageStats;

/// The ledger's size as this connection sees it.
pub(crate) fn storage(connection: &Connection, path: &Path) -> rusqlite::Result<StorageStats> {
    let pragma = |name: &str| -> rusqlite::Result<u64> {
        connection
            .pragma_query_value(None, name, |row| row.get::<_, i64>(0))
            .map(|value| value as u64)
    };
    let page_size = pragma("page_size")?;
    let pages = pragma("page_count")?;
    let free_pages = pragma("freelist_count")?;
    // Receipts are a gapless run (appends have no gaps, pruning removes only a prefix), so two
    // lookups at the ends of the primary key count them; COUNT(*) would read every row.
    let (oldest, newest): (Option<i64>, Option<i64>) =
        connection.query_row("SELECT MIN(seq), MAX(seq) FROM receipts", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    let receipts = match (oldest, newest) {
        (Some(oldest), Some(newest)) => newest.abs_diff(oldest) + 1,
        _ => 0,
    };
    Ok(StorageStats {
        file_bytes: pages * page_size,
        wal_bytes: wal_bytes(path),
        page_size,
        free_pages,
        receipts,
    })
}

/// The size of the write-ahead log beside the file, 0 if there is none (or it cannot be seen,
/// which the database itself would report first).
fn wal_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |metadata| metadata.len())
}

/// About how many receipts were decided at or after `since_us`: the ledger's sequence follows
/// decision order to within a group commit, so a bisection over the primary key finds the
/// first one in O(log n) lookups, where counting by time would read every row. For growth
/// estimates, not for accounting.
pub(crate) fn decided_since(connection: &Connection, since_us: u64) -> rusqlite::Result<u64> {
    let (oldest, newest): (Option<i64>, Option<i64>) =
        connection.query_row("SELECT MIN(seq), MAX(seq) FROM receipts", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    let (Some(mut low), Some(newest)) = (oldest, newest) else {
        return Ok(0);
    };
    let since = i64::try_from(since_us).unwrap_or(i64::MAX);
    let mut decided =
        connection.prepare_cached("SELECT decided_us FROM receipts WHERE seq = ?1")?;
    let mut at = |seq: i64| decided.query_row([seq], |row| row.get::<_, i64>(0));
    if at(newest)? < since {
        return Ok(0);
    }
    // The first seq in [low, newest] decided at or after `since`.
    let mut high = newest;
    while low < high {
        let middle = low + (high - low) / 2;
        if at(middle)? < since {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    Ok(newest.abs_diff(low) + 1)
}
