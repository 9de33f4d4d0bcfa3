//! Storage faults: the ledger failures that belong to the disk under it (full, failing,
//! read-only, unreachable) rather than to the appliance, which pass once the operator acts; and
//! the probe that tells when the ledger can commit again.

use crate::LedgerError;

/// Room the ledger's file system must have free before a probe declares the ledger usable
/// again: a probe writes one page, a group of receipts takes up to a few hundred KiB of the
/// write-ahead log, and resuming on the last few pages would fail again at once.
pub const RESUME_HEADROOM_BYTES: u64 = 4 << 20;

/// What is wrong with the storage under the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageFault {
    /// No room left on the file system (or the ledger's own size limit).
    DiskFull,
    /// The device failed a read, a write or a sync.
    Io,
    /// The file system or the file became read-only.
    ReadOnly,
    /// The file or its directory cannot be opened (removed, permissions changed).
    CannotOpen,
    /// Another process holds the ledger's write lock beyond the busy timeout.
    Locked,
}

impl StorageFault {
    /// Every fault, for metrics that list each one.
    pub const ALL: [StorageFault; 5] = [
        StorageFault::DiskFull,
        StorageFault::Io,
        StorageFault::ReadOnly,
        StorageFault::CannotOpen,
        StorageFault::Locked,
    ];

    /// Its name in metrics, logs and answers.
    pub fn name(self) -> &'static str {
        match self {
            StorageFault::DiskFull => "disk-full",
            StorageFault::Io => "io-error",
            StorageFault::ReadOnly => "read-only",
            StorageFault::CannotOpen => "cannot-open",
            StorageFault::Locked => "locked",
        }
    }

    /// What the operator does about it.
    pub fn what_to_do(self) -> &'static str {
        match self {
            StorageFault::DiskFull => {
                "free space on the state directory's file system (the ledger resumes by itself)"
            }
            StorageFault::Io => {
                "check the disk (dmesg, SMART); move the state directory off a failing device by restoring a backup"
            }
            StorageFault::ReadOnly => {
                "remount the state directory's file system read-write (check dmesg: the kernel remounts a failing file system read-only)"
            }
            StorageFault::CannotOpen => {
                "restore the ledger file and the state directory's ownership and permissions"
            }
            StorageFault::Locked => {
                "stop the other process writing the ledger (only the appliance writes it; readers take no lock)"
            }
        }
    }
}

impl LedgerError {
    /// The storage fault behind this error, `None` when it is not the storage's (a refused
    /// write, a bug): those are not retried.
    pub fn storage_fault(&self) -> Option<StorageFault> {
        let LedgerError::Storage { source, .. } = self else {
            return None;
        };
        // The errno first: SQLite names a write refused by a read-only file system, or a
        // sync without room, an I/O error like any other.
        if let Some(failure) = source.downcast_ref::<crate::os_error::OsFailure>() {
            return Some(io_fault(&failure.os));
        }
        if let Some(sqlite) = source.downcast_ref::<rusqlite::Error>() {
            return match sqlite.sqlite_error_code()? {
                rusqlite::ErrorCode::DiskFull => Some(StorageFault::DiskFull),
                rusqlite::ErrorCode::SystemIoFailure => Some(StorageFault::Io),
                rusqlite::ErrorCode::ReadOnly => Some(StorageFault::ReadOnly),
                rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied => {
                    Some(StorageFault::CannotOpen)
                }
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    Some(StorageFault::Locked)
                }
                _ => None,
            };
        }
        source.downcast_ref::<std::io::Error>().map(io_fault)
    }
}

/// What an operating system error says of the storage.
fn io_fault(error: &std::io::Error) -> StorageFault {
    match error.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            StorageFault::DiskFull
        }
        std::io::ErrorKind::ReadOnlyFilesystem => StorageFault::ReadOnly,
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            StorageFault::CannotOpen
        }
        _ => StorageFault::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> LedgerError {
        LedgerError::Storage {
            path: "ledger.sqlite".into(),
            source: Box::new(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            )),
        }
    }

    #[test]
    fn sqlite_codes_name_their_fault() {
        assert_eq!(
            sqlite(rusqlite::ffi::SQLITE_FULL).storage_fault(),
            Some(StorageFault::DiskFull)
        );
        assert_eq!(
            sqlite(rusqlite::ffi::SQLITE_IOERR_FSYNC).storage_fault(),
            Some(StorageFault::Io)
        );
        assert_eq!(
            sqlite(rusqlite::ffi::SQLITE_READONLY).storage_fault(),
            Some(StorageFault::ReadOnly)
        );
        assert_eq!(
            sqlite(rusqlite::ffi::SQLITE_BUSY).storage_fault(),
            Some(StorageFault::Locked)
        );
        assert_eq!(
            sqlite(rusqlite::ffi::SQLITE_CONSTRAINT).storage_fault(),
            None
        );
    }

    #[test]
    fn the_appliances_own_mistakes_are_no_storage_fault() {
        let error = LedgerError::OutOfSequence {
            expected: 2,
            got: 3,
        };
        assert_eq!(error.storage_fault(), None);
    }

    #[test]
    fn the_errno_behind_a_sqlite_io_failure_names_its_fault() {
        let failed = |errno| LedgerError::Storage {
            path: "ledger.sqlite".into(),
            source: Box::new(crate::os_error::OsFailure {
                os: std::io::Error::from_raw_os_error(errno),
                sqlite: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR_WRITE),
                    None,
                ),
            }),
        };
        assert_eq!(
            failed(libc::EROFS).storage_fault(),
            Some(StorageFault::ReadOnly)
        );
        assert_eq!(
            failed(libc::ENOSPC).storage_fault(),
            Some(StorageFault::DiskFull)
        );
        assert_eq!(failed(libc::EIO).storage_fault(), Some(StorageFault::Io));
    }

    #[test]
    fn io_errors_name_their_fault() {
        let error = LedgerError::Storage {
            path: "ledger.sqlite".into(),
            source: Box::new(std::io::Error::from(std::io::ErrorKind::StorageFull)),
        };
        assert_eq!(error.storage_fault(), Some(StorageFault::DiskFull));
    }
}
