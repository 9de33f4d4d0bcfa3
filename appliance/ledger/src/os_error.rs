//! The operating system's error behind a SQLite I/O failure. SQLite reports a write that a
//! read-only file system refused, or a sync that found no room, as a plain I/O error; the
//! errno it kept tells them apart, and the operator's remedy differs.
#![allow(unsafe_code)] // sqlite3_system_errno through the connection's handle; see SAFETY

use rusqlite::Connection;

/// A SQLite I/O failure with the errno of the system call that failed.
#[derive(Debug)]
pub(crate) struct OsFailure {
    pub(crate) os: std::io::Error,
    pub(crate) sqlite: rusqlite::Error,
}

impl std::fmt::Display for OsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.sqlite, self.os)
    }
}

impl std::error::Error for OsFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.sqlite)
    }
}

/// `source` as the ledger's error source: with the errno when SQLite failed on I/O.
pub(crate) fn with_system_errno(
    connection: &Connection,
    source: rusqlite::Error,
) -> Box<dyn std::error::Error + Send + Sync> {
    if source.sqlite_error_code() != Some(rusqlite::ErrorCode::SystemIoFailure) {
        return Box::new(source);
    }
    // SAFETY: the handle is valid while `connection` is borrowed, and sqlite3_system_errno
    // only reads the errno SQLite kept of its last failed system call.
    let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(connection.handle()) };
    match errno {
        0 => Box::new(source),
        errno => Box::new(OsFailure {
            os: std::io::Error::from_raw_os_error(errno),
            sqlite: source,
        }),
    }
}
