//! The packet as a set of files: which the index lists with which digest, which are on disk,
//! and reading them with their digests checked.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::digest::{HashingReader, Sha256Digest};
use crate::index::Statement;
use crate::layout::INDEX_FILE;
use crate::problem::Problem;

/// The packet's files as the index lists them and as the folder holds them.
pub(crate) struct Packet<'a> {
    dir: &'a Path,
    subjects: HashMap<&'a str, Sha256Digest>,
    present: BTreeSet<String>,
}

/// A gzipped subject being read as a stream: its lines as they decompress, its bytes on disk
/// hashed as they are read.
/// (The decoder reads the file through a buffer of its own.)
pub(crate) type SubjectStream = BufReader<GzDecoder<HashingReader<File>>>;

impl<'a> Packet<'a> {
    /// Lists the folder and compares it with the index: every subject missing (removed) and
    /// every file that is not a subject (added) is a problem.
    pub(crate) fn open(dir: &'a Path, index: &'a Statement, problems: &mut Vec<Problem>) -> Self {
        let mut subjects = HashMap::with_capacity(index.subject.len());
        for subject in &index.subject {
            if subjects
                .insert(subject.name.as_str(), subject.digest.sha256)
                .is_some()
            {
                problems.push(Problem::new(
                    INDEX_FILE,
                    format!("lists {} twice", subject.name),
                ));
            }
        }
        let present = list_files(dir, problems);
        for subject in &index.subject {
            if !present.contains(&subject.name) {
                problems.push(Problem::new(
                    &subject.name,
                    "listed in the index but missing (removed)",
                ));
            }
        }
        for name in &present {
            if name != INDEX_FILE && !subjects.contains_key(name.as_str()) {
                problems.push(Problem::new(name, "not listed in the index (added)"));
            }
        }
        Packet {
            dir,
            subjects,
            present,
        }
    }

    /// Whether the index lists `name`.
    pub(crate) fn is_subject(&self, name: &str) -> bool {
        self.subjects.contains_key(name)
    }

    /// Every subject's name.
    pub(crate) fn subject_names(&self) -> impl Iterator<Item = &str> {
        self.subjects.keys().copied()
    }

    /// Whether `name` is a subject and on disk: a file whose absence was not already reported.
    fn usable(&self, name: &str) -> bool {
        self.subjects.contains_key(name) && self.present.contains(name)
    }

    /// A whole subject of at most `max` bytes, its digest checked; `None` with the problem
    /// recorded if it is altered or unreadable (or missing, which is already recorded).
    pub(crate) fn read(
        &self,
        name: &str,
        max: u64,
        problems: &mut Vec<Problem>,
    ) -> Option<Vec<u8>> {
        if !self.usable(name) {
            return None;
        }
        match self.read_checked(name, max) {
            Ok(bytes) => Some(bytes),
            Err(what) => {
                problems.push(Problem::new(name, what));
                None
            }
        }
    }

    /// A whole subject of at most `max` bytes with its digest checked, or why not.
    pub(crate) fn read_checked(&self, name: &str, max: u64) -> Result<Vec<u8>, String> {
        let Some(expected) = self.subjects.get(name) else {
            return Err("not listed in the index".to_owned());
        };
        let path = self.dir.join(name);
        let file = File::open(&path).map_err(|e| format!("cannot be read: {e}"))?;
        let mut bytes = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot be read: {e}"))?;
        if bytes.len() as u64 > max {
            return Err(format!("larger than the {max} bytes such a file may hold"));
        }
        if Sha256Digest::of(&bytes) != *expected {
            return Err(ALTERED.to_owned());
        }
        Ok(bytes)
    }

    /// A gzipped subject to read as a stream of its decompressed text; its digest is checked
    /// by [`Packet::settle`] once read.
    pub(crate) fn stream(&self, name: &str, problems: &mut Vec<Problem>) -> Option<SubjectStream> {
        if !self.usable(name) {
            return None;
        }
        match File::open(self.dir.join(name)) {
            Ok(file) => Some(BufReader::with_capacity(
                256 * 1024,
                GzDecoder::new(HashingReader::new(file)),
            )),
            Err(e) => {
                problems.push(Problem::new(name, format!("cannot be read: {e}")));
                None
            }
        }
    }

    /// Reads the rest of a stream and whether its digest is the index's: `Err` with the
    /// problem if not. An altered file is named as such even when it no longer decompresses;
    /// a file the index vouches for that does not decompress is named with the reason.
    pub(crate) fn settle(&self, name: &str, mut stream: SubjectStream) -> Result<(), Problem> {
        let decompressed = io::copy(&mut stream, &mut io::sink());
        let mut on_disk = stream.into_inner().into_inner();
        // Whatever follows the gzip member, or the point it failed at, is hashed too.
        io::copy(&mut on_disk, &mut io::sink())
            .map_err(|e| Problem::new(name, format!("cannot be read: {e}")))?;
        match self.subjects.get(name) {
            Some(expected) if *expected == on_disk.digest() => {}
            _ => return Err(Problem::new(name, ALTERED)),
        }
        decompressed
            .map(drop)
            .map_err(|e| Problem::new(name, format!("{NOT_GZIPPED_LINES}: {e}")))
    }
}

/// What a stream that does not decompress, or cannot be read, is called.
pub(crate) const NOT_GZIPPED_LINES: &str = "cannot be read as gzipped lines";

/// What a file whose digest differs from the index's is called.
pub(crate) const ALTERED: &str = "its SHA-256 differs from the index's (altered)";

/// Every file under `dir`, as `/`-separated paths; anything that is not a plain file or folder
/// is a problem (a packet holds no links).
fn list_files(dir: &Path, problems: &mut Vec<Problem>) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    // Folders still to list, as (path on disk, path in the packet); a stack, not recursion,
    // so a deep folder tree cannot exhaust the call stack.
    let mut folders = vec![(dir.to_owned(), String::new())];
    while let Some((folder, prefix)) = folders.pop() {
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(Problem::new(
                    display(&prefix),
                    format!("cannot be listed: {e}"),
                ));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    problems.push(Problem::new(
                        display(&prefix),
                        format!("cannot be listed: {e}"),
                    ));
                    continue;
                }
            };
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                problems.push(Problem::new(
                    format!("{prefix}{}", entry.file_name().to_string_lossy()),
                    "its name is not UTF-8 (added)",
                ));
                continue;
            };
            let inside = format!("{prefix}{name}");
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => folders.push((entry.path(), format!("{inside}/"))),
                Ok(kind) if kind.is_file() => {
                    files.insert(inside);
                }
                _ => problems.push(Problem::new(inside, "not a plain file or folder (added)")),
            }
        }
    }
    files
}

fn display(prefix: &str) -> String {
    match prefix.strip_suffix('/') {
        Some(folder) => folder.to_owned(),
        None => ".".to_owned(),
    }
}
