//! The log's directory: tile files and the checkpoint file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use tf_tlog::{StoreError, TileId, TileLevel, TileStore};

/// The signed checkpoint's file name under the log directory (C2SP: `/checkpoint`).
pub const CHECKPOINT_FILE: &str = "checkpoint";
/// The log's verifier key file under the log directory.
pub const VKEY_FILE: &str = "vkey";

/// Why the log's files could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogStorageError {
    /// A file or directory could not be read, written or synced.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The checkpoint file is not UTF-8 text.
    #[error("{path}: the checkpoint is not UTF-8 text; restore the log directory from a backup")]
    NotText {
        /// The file.
        path: String,
    },
}

/// The log's directory.
#[derive(Clone, Debug)]
pub struct LogDir {
    root: PathBuf,
}

impl LogDir {
    /// The log directory at `root`, created owner-only if absent.
    pub fn open(root: &Path) -> Result<Self, LogStorageError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(|e| io(root, e))?;
        Ok(LogDir {
            root: root.to_owned(),
        })
    }

    /// A log directory to read only (it is not created).
    pub fn at(root: &Path) -> Self {
        LogDir {
            root: root.to_owned(),
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The latest signed checkpoint (a signed note), `None` before the first.
    pub fn checkpoint(&self) -> Result<Option<String>, LogStorageError> {
        let path = self.root.join(CHECKPOINT_FILE);
        match fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| LogStorageError::NotText {
                    path: path.display().to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// Replaces the checkpoint, durably. Call it only once the tiles it covers are written.
    pub fn save_checkpoint(&self, note: &str) -> Result<(), LogStorageError> {
        let path = self.root.join(CHECKPOINT_FILE);
        replace(&path, note.as_bytes())?;
        sync_dir(&self.root)
    }

    /// The log's verifier key (C2SP signed-note `vkey`), as the log worker published it.
    pub fn vkey(&self) -> Result<Option<String>, LogStorageError> {
        let path = self.root.join(VKEY_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// Publishes the log's verifier key beside its checkpoints (unchanged files are left).
    pub fn save_vkey(&self, vkey: &str) -> Result<(), LogStorageError> {
        if self.vkey()?.as_deref() == Some(vkey) {
            return Ok(());
        }
        replace(&self.root.join(VKEY_FILE), format!("{vkey}\n").as_bytes())?;
        sync_dir(&self.root)
    }

    /// Writes tiles durably (each replaced atomically, then their directories synced).
    pub fn write_tiles(&self, tiles: &[(TileId, Vec<u8>)]) -> Result<(), LogStorageError> {
        let mut directories: Vec<PathBuf> = Vec::new();
        for (tile, bytes) in tiles {
            let path = self.tile_path(tile.level, tile.index);
            let parent = path.parent().unwrap_or(&self.root).to_owned();
            if !directories.contains(&parent) {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&parent)
                    .map_err(|e| io(&parent, e))?;
                directories.push(parent);
            }
            replace(&path, bytes)?;
        }
        for directory in &directories {
            sync_dir(directory)?;
        }
        Ok(())
    }

    /// Where the tile at this position is stored: its full tile's C2SP path.
    fn tile_path(&self, level: TileLevel, index: u64) -> PathBuf {
        self.root.join(TileId::full(level, index).path())
    }
}

impl TileStore for LogDir {
    fn read_tile(&self, level: TileLevel, index: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.tile_path(level, index);
        fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::Missing {
                path: path.display().to_string(),
            },
            _ => StoreError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            },
        })
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it into place.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), LogStorageError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    let temporary = path.with_file_name(name);
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .map_err(|e| io(&temporary, e));
    written?;
    fs::rename(&temporary, path).map_err(|e| io(path, e))
}

fn sync_dir(directory: &Path) -> Result<(), LogStorageError> {
    File::open(directory)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(directory, e))
}

fn io(path: &Path, source: std::io::Error) -> LogStorageError {
    LogStorageError::Io {
        path: path.display().to_string(),
        source,
    }
}
