//! Restoring a backup into a new state directory: every file checked against the manifest
//! (size and SHA-256, paths that stay inside the target) before one byte is written, then
//! copied with its permission bits and synced. A directory holding anything is refused: a
//! restore never overwrites state, a running appliance's least of all.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;

use super::manifest::{FORMAT, MANIFEST, Manifest, STATE, digest};
use super::take::{create, empty_private_dir, io_failure};
use crate::exit::Failure;

/// Reads and checks the backup in `backup` without writing anything: its manifest, and every
/// file it names as named.
pub fn check(backup: &Path) -> Result<Manifest, Failure> {
    let path = backup.join(MANIFEST);
    let text = fs::read(&path).map_err(|e| {
        Failure::Usage(format!(
            "{}: {e}; name a directory `appliance backup` wrote",
            path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| Failure::Failed(format!("{}: not a backup manifest: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(Failure::Failed(format!(
            "{}: format {:?}, this appliance restores {FORMAT:?}",
            path.display(),
            manifest.format
        )));
    }
    let root = backup.join(STATE);
    let mut problems = Vec::new();
    for entry in &manifest.files {
        let Some(file) = entry.under(&root) else {
            problems.push(format!(
                "{:?}: a path outside the state directory",
                entry.path
            ));
            continue;
        };
        match digest(&file) {
            Ok((bytes, sha256)) if bytes == entry.bytes && sha256 == entry.sha256 => {}
            Ok(_) => problems.push(format!("{}: differs from the manifest", entry.path)),
            Err(error) => problems.push(format!("{}: {error}", entry.path)),
        }
    }
    if !manifest
        .files
        .iter()
        .any(|f| f.path == tf_state::layout::LEDGER)
    {
        problems.push(format!("{}: not in the backup", tf_state::layout::LEDGER));
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(Failure::Failed(format!(
            "the backup in {} does not verify, nothing was restored: {}",
            backup.display(),
            problems.join("; ")
        )))
    }
}

/// Restores the checked backup in `backup` into `target` (absent or empty).
pub fn restore(backup: &Path, target: &Path) -> Result<Manifest, Failure> {
    let manifest = check(backup)?;
    if target.exists()
        && fs::read_dir(target)
            .map_err(|e| io_failure(target, e))?
            .next()
            .is_some()
    {
        return Err(Failure::Failed(format!(
            "{} is not empty: a restore never overwrites a state directory; stop the appliance, \
             move it aside, and restore into the empty path",
            target.display()
        )));
    }
    empty_private_dir(target)?;
    let root = backup.join(STATE);
    for entry in &manifest.files {
        let from = entry.under(&root).expect("checked");
        let to = entry.under(target).expect("checked");
        // Never more open than a certificate: a tampered mode cannot expose a key.
        let mode = entry.mode & 0o644;
        copy(&from, &to, mode)?;
    }
    // The names are durable once their directories are.
    sync_dirs(target)?;
    Ok(manifest)
}

fn copy(from: &Path, to: &Path, mode: u32) -> Result<(), Failure> {
    let mut source = File::open(from).map_err(|e| io_failure(from, e))?;
    let mut sink = create(to, mode)?;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = source.read(&mut buffer).map_err(|e| io_failure(from, e))?;
        if read == 0 {
            break;
        }
        sink.write_all(&buffer[..read])
            .map_err(|e| io_failure(to, e))?;
    }
    sink.sync_all().map_err(|e| io_failure(to, e))
}

fn sync_dirs(dir: &Path) -> Result<(), Failure> {
    for entry in fs::read_dir(dir).map_err(|e| io_failure(dir, e))? {
        let entry = entry.map_err(|e| io_failure(dir, e))?;
        if entry.file_type().map_err(|e| io_failure(dir, e))?.is_dir() {
            sync_dirs(&entry.path())?;
        }
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_failure(dir, e))
}
