//! Writing state files: owner-only permissions, atomic replacement, no partial files.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::StateError;

/// Creates a directory (and parents) readable only by its owner.
pub fn create_private_dir(path: &Path) -> Result<(), StateError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| io(path, e))
}

/// Makes an empty directory owner-only (0700), as if it had been created here: one made
/// beforehand (`mkdir`, a temporary directory) is usually 0755. A directory with anything in
/// it is left alone, and then refused if others can read it.
pub fn restrict_if_empty(path: &Path) -> Result<(), StateError> {
    let empty = fs::read_dir(path)
        .map_err(|e| io(path, e))?
        .next()
        .is_none();
    if empty {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(|e| io(path, e))?;
    }
    Ok(())
}

/// Writes a file with mode 0600: to a temporary name of this writer's own, synced, renamed
/// into place, and the directory synced, so a crash never leaves a truncated key behind and
/// concurrent writers of the same file never mix their bytes.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), StateError> {
    write(path, contents, 0o600)
}

/// Writes a public file (certificates) with mode 0644, atomically.
pub fn write_public(path: &Path, contents: &[u8]) -> Result<(), StateError> {
    write(path, contents, 0o644)
}

/// Reads a text file.
pub fn read_to_string(path: &Path) -> Result<String, StateError> {
    fs::read_to_string(path).map_err(|e| io(path, e))
}

fn write(path: &Path, contents: &[u8], mode: u32) -> Result<(), StateError> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        create_private_dir(parent)?;
    }
    let temporary = temporary_name(path);
    let written = write_new(&temporary, contents, mode)
        .and_then(|()| fs::rename(&temporary, path).map_err(|e| io(path, e)));
    if let Err(error) = written {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    // The rename is durable only once the directory holding the new entry is synced.
    let directory = parent.unwrap_or(Path::new("."));
    File::open(directory)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(directory, e))
}

/// A temporary name beside `path`, unique to this writer: the full file name (so
/// `<id>.bn254` and `<id>.bls12-381` never share one), the process id (two appliances on
/// one directory) and a counter (two threads of this one saving the same file).
fn temporary_name(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let writer = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.{writer}.partial", std::process::id()));
    path.with_file_name(name)
}

fn write_new(temporary: &Path, contents: &[u8], mode: u32) -> Result<(), StateError> {
    // create_new: a leftover of a crashed writer with the same name is never reused.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(temporary)
        .map_err(|e| io(temporary, e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(temporary, e))
}

fn io(path: &Path, source: std::io::Error) -> StateError {
    StateError::Io {
        path: path.display().to_string(),
        source,
    }
}
