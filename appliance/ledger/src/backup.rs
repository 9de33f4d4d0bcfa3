//! A consistent copy of a SQLite database while the appliance writes it, for backups.
//!
//! `VACUUM INTO` reads the database in one read transaction (the write-ahead log lets writers
//! go on meanwhile) and writes a compact, self-contained file with no log beside it: the state
//! of one commit, never half of one.

use std::fs::File;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::LedgerError;
use crate::error::storage_error;

/// Copies the database at `source` (the ledger, the decision log) to `dest`, which must not
/// exist, as of one commit, in rollback-journal mode (one file); `dest` is synced before this
/// returns.
pub fn snapshot_database(source: &Path, dest: &Path) -> Result<(), LedgerError> {
    let storage = storage_error(source);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(source, flags).map_err(&storage)?;
    connection
        .busy_timeout(crate::BUSY_WAIT)
        .map_err(&storage)?;
    // The copy reads every page once: a larger cache would only widen, while it runs, the
    // process's shared page cache, which the ledger's writer fills (see PAGE_CACHE_KIB).
    connection
        .pragma_update(None, "cache_size", -crate::sqlite::PAGE_CACHE_KIB)
        .map_err(&storage)?;
    let target = dest.to_str().ok_or_else(|| LedgerError::Storage {
        path: dest.display().to_string(),
        source: "the backup's path is not UTF-8: choose another directory".into(),
    })?;
    connection
        .execute("VACUUM INTO ?1", [target])
        .map_err(storage_error(dest))?;
    // A file of its own, with no write-ahead log to carry: it is copied and checked as one
    // file, and the appliance puts it back in WAL mode when it opens it.
    let copy = Connection::open(dest).map_err(storage_error(dest))?;
    let mode: String = copy
        .pragma_update_and_check(None, "journal_mode", "DELETE", |row| row.get(0))
        .map_err(storage_error(dest))?;
    drop(copy);
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(LedgerError::Storage {
            path: dest.display().to_string(),
            source: format!("the copy stays in {mode} journal mode").into(),
        });
    }
    File::open(dest)
        .and_then(|file| file.sync_all())
        .map_err(|source| LedgerError::Storage {
            path: dest.display().to_string(),
            source: Box::new(source),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_holds_what_was_committed_and_stands_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("source.sqlite");
        let writer = Connection::open(&source).expect("opens");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2);",
            )
            .expect("written");
        let copy = dir.path().join("copy.sqlite");
        snapshot_database(&source, &copy).expect("snapshot");
        assert!(!dir.path().join("copy.sqlite-wal").exists());
        assert!(!dir.path().join("copy.sqlite-shm").exists());
        let read = Connection::open(&copy).expect("copy opens");
        let sum: i64 = read
            .query_row("SELECT SUM(n) FROM t", [], |row| row.get(0))
            .expect("reads");
        assert_eq!(sum, 3);
        let again = snapshot_database(&source, &copy);
        assert!(again.is_err(), "an existing file is never overwritten");
    }
}
