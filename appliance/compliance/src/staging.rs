//! Writing a packet under a temporary name and renaming it into place once complete, so a
//! crash never leaves a half packet under a packet's name; each file hashed as it is written.

use std::collections::BTreeSet;
use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;

use crate::digest::{HashingWriter, Sha256Digest};
use crate::error::{SnapshotError, io};
use crate::index::{Subject, SubjectDigest};
use crate::layout::{INDEX_FILE, is_removing_name, is_staging_name, staging_name};

/// The lock file in the packets' folder: held while a packet is made.
pub(crate) const LOCK_FILE: &str = ".snapshot.lock";

/// Room for a receipt line or two between writes to the disk.
const WRITE_BUFFER: usize = 256 * 1024;

/// A packet being written.
pub(crate) struct Staging {
    packets_dir: PathBuf,
    temporary: PathBuf,
    target: PathBuf,
    /// Held until the packet is in place or abandoned; the lock goes with the handle.
    _lock: File,
    subjects: Vec<Subject>,
    /// Folders created inside the packet, synced before it is renamed into place.
    folders: BTreeSet<PathBuf>,
    committed: bool,
}

/// A file of the packet being written; its digest is recorded when it is closed.
pub(crate) struct PacketFile {
    name: String,
    path: PathBuf,
    writer: FileWriter,
}

/// How a packet file's bytes reach the disk. The digest is always of the bytes on disk, so
/// `sha256sum` over a packet's files gives the index's digests.
enum FileWriter {
    Plain(HashingWriter<BufWriter<File>>),
    /// Receipts and charges: JSON lines that gzip to about a sixth of their size.
    Gzip(Box<GzEncoder<HashingWriter<BufWriter<File>>>>),
}

impl Staging {
    /// Starts packet `name` in `packets_dir` (created owner-only if absent: packets hold every
    /// tenant's receipts). Refuses if the packet exists or another is being made; removes what
    /// an interrupted run left.
    pub(crate) fn begin(packets_dir: &Path, name: &str) -> Result<Self, SnapshotError> {
        private_dir(packets_dir)?;
        let lock_path = packets_dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(SnapshotError::Busy {
                    lock: lock_path.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let target = packets_dir.join(name);
        if fs::symlink_metadata(&target).is_ok() {
            return Err(SnapshotError::AlreadyExists {
                path: target.display().to_string(),
            });
        }
        // Under the lock no other packet is being written: every temporary folder is a
        // leftover of an interrupted run.
        remove_leftovers(packets_dir, |name| {
            is_staging_name(name) || is_removing_name(name)
        })?;
        let temporary = packets_dir.join(staging_name(name));
        DirBuilder::new()
            .mode(0o700)
            .create(&temporary)
            .map_err(io(&temporary))?;
        Ok(Staging {
            packets_dir: packets_dir.to_owned(),
            temporary,
            target,
            _lock: lock,
            subjects: Vec::new(),
            folders: BTreeSet::new(),
            committed: false,
        })
    }

    /// Creates file `name` (a `/`-separated path inside the packet).
    pub(crate) fn create(&mut self, name: &str) -> Result<PacketFile, SnapshotError> {
        let (path, file) = self.create_file(name)?;
        Ok(PacketFile {
            name: name.to_owned(),
            path,
            writer: FileWriter::Plain(file),
        })
    }

    /// Creates file `name` holding one gzip member of what is written to it. The fastest
    /// level: most of the gain, at about half the default level's time per byte.
    pub(crate) fn create_gzip(&mut self, name: &str) -> Result<PacketFile, SnapshotError> {
        let (path, file) = self.create_file(name)?;
        Ok(PacketFile {
            name: name.to_owned(),
            path,
            writer: FileWriter::Gzip(Box::new(GzEncoder::new(file, Compression::fast()))),
        })
    }

    fn create_file(
        &mut self,
        name: &str,
    ) -> Result<(PathBuf, HashingWriter<BufWriter<File>>), SnapshotError> {
        let path = self.temporary.join(name);
        if let Some(parent) = path.parent()
            && parent != self.temporary
            && !self.folders.contains(parent)
        {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(io(parent))?;
            for folder in parent.ancestors() {
                if folder == self.temporary {
                    break;
                }
                self.folders.insert(folder.to_owned());
            }
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io(&path))?;
        let writer = HashingWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file));
        Ok((path, writer))
    }

    /// Finishes a file: written out, synced, and recorded as a subject of the index.
    pub(crate) fn close(&mut self, file: PacketFile) -> Result<Sha256Digest, SnapshotError> {
        let PacketFile { name, path, writer } = file;
        let hashing = match writer {
            FileWriter::Plain(hashing) => hashing,
            FileWriter::Gzip(encoder) => encoder.finish().map_err(io(&path))?,
        };
        let (buffered, digest, _) = hashing.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| io(&path)(e.into_error()))?;
        file.sync_all().map_err(io(&path))?;
        self.subjects.push(Subject {
            name,
            digest: SubjectDigest { sha256: digest },
        });
        Ok(digest)
    }

    /// Writes a whole file at once.
    pub(crate) fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), SnapshotError> {
        let mut file = self.create(name)?;
        file.write_all(bytes).map_err(io(&file.path))?;
        self.close(file).map(drop)
    }

    /// Writes a value as pretty JSON and a newline.
    pub(crate) fn write_json<T: Serialize>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<(), SnapshotError> {
        let mut bytes = serde_json::to_vec_pretty(value)
            .expect("the packet's files are plain structs of strings, numbers and lists");
        bytes.push(b'\n');
        self.write(name, &bytes)
    }

    /// The subjects recorded so far (every file but the index).
    pub(crate) fn take_subjects(&mut self) -> Vec<Subject> {
        std::mem::take(&mut self.subjects)
    }

    /// Writes the index, makes everything durable and renames the packet into place.
    pub(crate) fn commit(mut self, index: &[u8]) -> Result<PathBuf, SnapshotError> {
        let mut file = self.create(INDEX_FILE)?;
        file.write_all(index).map_err(io(&file.path))?;
        self.close(file)?;
        for folder in self.folders.iter().chain([&self.temporary]) {
            sync_dir(folder)?;
        }
        fs::rename(&self.temporary, &self.target).map_err(io(&self.target))?;
        self.committed = true;
        sync_dir(&self.packets_dir)?;
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a folder left behind has a temporary name, never a packet's, and
            // the next run removes it.
            let _ = fs::remove_dir_all(&self.temporary);
        }
    }
}

impl PacketFile {
    /// The file's path on disk, for error messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Write for PacketFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            FileWriter::Plain(writer) => writer.write(buf),
            FileWriter::Gzip(writer) => writer.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            FileWriter::Plain(writer) => writer.flush(),
            FileWriter::Gzip(writer) => writer.flush(),
        }
    }
}

/// Creates `dir` owner-only if it does not exist.
pub(crate) fn private_dir(dir: &Path) -> Result<(), SnapshotError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))
}

/// Removes the folders in `packets_dir` whose names `leftover` picks (temporary folders of
/// packets that were being written or removed).
pub(crate) fn remove_leftovers(
    packets_dir: &Path,
    leftover: impl Fn(&str) -> bool,
) -> Result<(), SnapshotError> {
    for entry in fs::read_dir(packets_dir).map_err(io(packets_dir))? {
        let entry = entry.map_err(io(packets_dir))?;
        let name = entry.file_name();
        if name.to_str().is_some_and(&leftover) {
            let path = entry.path();
            match fs::remove_dir_all(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
    }
    Ok(())
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), SnapshotError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_appears_only_when_committed_and_an_abandoned_one_leaves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut staging = Staging::begin(dir.path(), "snapshot-x").expect("begin");
        staging.write("a/b/c.json", b"{}\n").expect("write");
        assert!(!dir.path().join("snapshot-x").exists());
        drop(staging);
        assert_eq!(
            fs::read_dir(dir.path()).expect("list").count(),
            1,
            "only the lock file is left"
        );

        let mut staging = Staging::begin(dir.path(), "snapshot-x").expect("begin");
        staging.write("a/b/c.json", b"{}\n").expect("write");
        let subjects = staging.take_subjects();
        assert_eq!(subjects[0].name, "a/b/c.json");
        assert_eq!(subjects[0].digest.sha256, Sha256Digest::of(b"{}\n"));
        let packet = staging.commit(b"index").expect("commit");
        assert_eq!(fs::read(packet.join("a/b/c.json")).expect("read"), b"{}\n");
        assert_eq!(fs::read(packet.join(INDEX_FILE)).expect("read"), b"index");
        assert!(matches!(
            Staging::begin(dir.path(), "snapshot-x"),
            Err(SnapshotError::AlreadyExists { .. })
        ));
    }

    #[test]
    fn one_packet_is_made_at_a_time_and_leftovers_of_a_crash_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let leftover = dir.path().join(staging_name("snapshot-old"));
        fs::create_dir_all(leftover.join("receipts")).expect("mkdir");
        let staging = Staging::begin(dir.path(), "snapshot-new").expect("begin");
        assert!(!leftover.exists());
        assert!(matches!(
            Staging::begin(dir.path(), "snapshot-other"),
            Err(SnapshotError::Busy { .. })
        ));
        drop(staging);
        Staging::begin(dir.path(), "snapshot-other").expect("free again");
    }
}
