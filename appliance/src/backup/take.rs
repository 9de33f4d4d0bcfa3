//! Taking a backup while the appliance serves: the state directory's files first (the
//! transparency log among them), then each SQLite database as of one commit, the ledger last.
//! The log only covers receipts the ledger had committed, so a log copied before the ledger is
//! never ahead of it (docs/runbook.md, "Back up and restore").

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tf_ledger::Ledger as _;

use super::manifest::{FORMAT, FileEntry, MANIFEST, Manifest, STATE, digest};
use crate::exit::Failure;

/// What the copy leaves out: SQLite's sidecar files (each database is copied whole, as of one
/// commit), and files and folders half-written by an atomic replacement.
fn left_out(name: &str) -> bool {
    ["-wal", "-shm", "-journal", ".partial"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// Takes a backup of the state directory `state` into `out` (absent or empty).
pub fn take(state: &Path, out: &Path) -> Result<Manifest, Failure> {
    let ledger = state.join(tf_state::layout::LEDGER);
    if !ledger.is_file() {
        return Err(Failure::Usage(format!(
            "{} holds no ledger: name the appliance's state directory with --state-dir",
            state.display()
        )));
    }
    let receipt_key_id = tf_state::State::open_existing(state)
        .and_then(|s| s.receipt_signer())
        .map_err(|e| Failure::Failed(e.to_string()))?
        .key_id()
        .to_string();
    empty_private_dir(out)?;
    let copy_root = out.join(STATE);
    let mut files = Vec::new();
    let mut databases = Vec::new();
    walk(state, &mut files, &mut databases)?;
    // The ledger last: everything copied before it (the log) is never ahead of it.
    databases.sort_by_key(|path| path == &ledger);
    let mut entries = Vec::new();
    for path in &files {
        entries.push(copy_file(state, path, &copy_root)?);
    }
    for path in &databases {
        entries.push(copy_database(state, path, &copy_root)?);
    }
    let copied_ledger = copy_root.join(tf_state::layout::LEDGER);
    let opened = tf_ledger::SqliteLedger::open_read_only(&copied_ledger)
        .map_err(|e| Failure::Failed(format!("the ledger's copy does not open: {e}")))?;
    let bundle_revision = opened
        .active_revision()
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        taken_at: jiff::Timestamp::now().to_string(),
        appliance_version: env!("CARGO_PKG_VERSION").to_owned(),
        source: state.display().to_string(),
        last_seq: opened.next_seq() - 1,
        bundle_revision,
        receipt_key_id,
        files: entries,
    };
    let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    tf_state::write_private_file(&out.join(MANIFEST), &text)
        .map_err(|e| Failure::Failed(e.to_string()))?;
    Ok(manifest)
}

/// Creates `dir` owner-only, or takes it if it exists and is empty; never writes into a
/// directory holding anything (an earlier backup).
pub(super) fn empty_private_dir(dir: &Path) -> Result<(), Failure> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Failure::Failed(format!(
                    "{} is not empty: name a new directory (nothing is ever overwritten)",
                    dir.display()
                )));
            }
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| io_failure(dir, e))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io_failure(dir, e)),
        Err(error) => Err(io_failure(dir, error)),
    }
}

/// Every file under `dir`, sorted, the databases apart.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, databases: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| io_failure(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io_failure(dir, e))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(|e| io_failure(&path, e))?;
        if kind.is_dir() {
            // A folder being made (a compliance packet) is taken once it is whole.
            if !left_out(&name) {
                walk(&path, files, databases)?;
            }
        } else if kind.is_file() {
            if left_out(&name) {
                continue;
            }
            if name.ends_with(".sqlite") {
                databases.push(path);
            } else {
                files.push(path);
            }
        } else {
            return Err(Failure::Failed(format!(
                "{} is neither a file nor a directory (a link?): the state directory holds only \
                 files; move it out and back up again",
                path.display()
            )));
        }
    }
    Ok(())
}

fn relative(state: &Path, path: &Path) -> String {
    path.strip_prefix(state)
        .expect("walked under the state directory")
        .to_string_lossy()
        .into_owned()
}

/// Copies one file, hashing it on the way, with its permission bits; synced.
fn copy_file(state: &Path, path: &Path, copy_root: &Path) -> Result<FileEntry, Failure> {
    let relative = relative(state, path);
    let target = copy_root.join(&relative);
    let mode = fs::metadata(path)
        .map_err(|e| io_failure(path, e))?
        .permissions()
        .mode()
        & 0o777;
    let mut source = File::open(path).map_err(|e| io_failure(path, e))?;
    let mut sink = create(&target, mode)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = source.read(&mut buffer).map_err(|e| io_failure(path, e))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        sink.write_all(&buffer[..read])
            .map_err(|e| io_failure(&target, e))?;
        bytes += read as u64;
    }
    sink.sync_all().map_err(|e| io_failure(&target, e))?;
    Ok(FileEntry {
        path: relative,
        bytes,
        sha256: hex::encode(hasher.finalize()),
        mode,
    })
}

/// Copies one database as of one commit.
fn copy_database(state: &Path, path: &Path, copy_root: &Path) -> Result<FileEntry, Failure> {
    let relative = relative(state, path);
    let target = copy_root.join(&relative);
    if let Some(parent) = target.parent() {
        private_dirs(parent)?;
    }
    tf_ledger::snapshot_database(path, &target).map_err(|e| Failure::Failed(e.to_string()))?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600))
        .map_err(|e| io_failure(&target, e))?;
    let (bytes, sha256) = digest(&target).map_err(|e| io_failure(&target, e))?;
    Ok(FileEntry {
        path: relative,
        bytes,
        sha256,
        mode: 0o600,
    })
}

/// Creates a new file with `mode` (and its owner-only parents).
pub(super) fn create(path: &Path, mode: u32) -> Result<File, Failure> {
    if let Some(parent) = path.parent() {
        private_dirs(parent)?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| io_failure(path, e))
}

fn private_dirs(dir: &Path) -> Result<(), Failure> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_failure(dir, e))
}

pub(super) fn io_failure(path: &Path, error: std::io::Error) -> Failure {
    Failure::Failed(format!("{}: {error}", path.display()))
}
