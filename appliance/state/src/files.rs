//! Writing state files: owner-only permissions, atomic replacement, no partial files.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::StateError;

/// Creates a directory (and parents) readable only by its owner.
pub fn create_private_dir(path: &Path) -> Result<(), StateError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| io(path, e))
}

/// Writes a file with mode 0600: to a temporary name, synced, then renamed into place, so a
/// crash never leaves a truncated key behind.
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
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    let temporary = path.with_extension("partial");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temporary)
        .map_err(|e| io(&temporary, e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(&temporary, e))?;
    fs::rename(&temporary, path).map_err(|e| io(path, e))
}

fn io(path: &Path, source: std::io::Error) -> StateError {
    StateError::Io {
        path: path.display().to_string(),
        source,
    }
}
