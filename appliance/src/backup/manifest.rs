//! The backup's manifest: every file it holds with its size, SHA-256 and mode, and what the
//! backup is of (the ledger's last receipt, the bundle in force, the receipt key), so a restore
//! checks every byte before writing one and an operator can tell backups apart.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's file name in a backup directory.
pub const MANIFEST: &str = "MANIFEST.json";
/// The folder of a backup directory holding the state directory's copy.
pub const STATE: &str = "state";
/// This format.
pub const FORMAT: &str = "trust-fabric-backup/1";

/// What a backup holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// When the backup was taken, RFC 3339 UTC.
    pub taken_at: String,
    /// The appliance version that took it.
    pub appliance_version: String,
    /// The state directory it was taken from.
    pub source: String,
    /// The ledger's highest sequence number in the backup (receipts, anchors, pruned ranges).
    pub last_seq: u64,
    /// The policy bundle revision in force, if one was promoted.
    pub bundle_revision: Option<u64>,
    /// The receipt key's id: receipts signed after a restore carry it.
    pub receipt_key_id: String,
    /// Every file, in the order written, relative to the state directory.
    pub files: Vec<FileEntry>,
}

/// One file of a backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the state directory, `/`-separated.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// SHA-256 of its content, hex.
    pub sha256: String,
    /// Its permission bits (0600 for secrets, 0644 for certificates).
    pub mode: u32,
}

impl FileEntry {
    /// Where the file goes under `root`, `None` if its path could leave it (absolute, `..`,
    /// empty): a manifest is input, and a restore never writes outside its target.
    pub fn under(&self, root: &Path) -> Option<PathBuf> {
        let relative = Path::new(&self.path);
        let plain = relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
        (plain && !self.path.is_empty()).then(|| root.join(relative))
    }
}

/// The size and SHA-256 of the file at `path`, read in pieces.
pub fn digest(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        bytes += read as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> FileEntry {
        FileEntry {
            path: path.to_owned(),
            bytes: 0,
            sha256: String::new(),
            mode: 0o600,
        }
    }

    #[test]
    fn a_path_that_could_leave_the_target_is_refused() {
        let root = Path::new("/restore/here");
        assert_eq!(
            entry("log/tile/0/000").under(root),
            Some(PathBuf::from("/restore/here/log/tile/0/000"))
        );
        for bad in ["../etc/passwd", "/etc/passwd", "log/../../x", "", "./x"] {
            assert_eq!(entry(bad).under(root), None, "{bad}");
        }
    }
}
