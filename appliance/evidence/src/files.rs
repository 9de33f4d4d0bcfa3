//! Where a bundle's files are read from: a folder on disk, or bytes already in memory.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest file read from a folder: receipts and manifests are far smaller.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// An evidence bundle's files in memory, by `/`-separated path inside the bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvidenceFiles {
    files: BTreeMap<String, Vec<u8>>,
}

impl EvidenceFiles {
    /// Adds a file, returning the bytes it replaces if the path was already there.
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) -> Option<Vec<u8>> {
        self.files.insert(path.into(), bytes)
    }

    /// Removes a file, returning its bytes.
    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        self.files.remove(path)
    }

    /// A file's bytes.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Every file, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }
}

impl FromIterator<(String, Vec<u8>)> for EvidenceFiles {
    fn from_iter<I: IntoIterator<Item = (String, Vec<u8>)>>(files: I) -> Self {
        EvidenceFiles {
            files: files.into_iter().collect(),
        }
    }
}

/// Why a file could not be read.
pub(crate) struct Unread {
    /// It is not there at all.
    pub(crate) missing: bool,
    /// What went wrong, in words.
    pub(crate) problem: String,
}

/// A bundle's files, read one at a time as the check asks for them.
pub(crate) trait Source {
    /// A file's bytes by `/`-separated path inside the bundle.
    fn read(&self, path: &str) -> Result<Cow<'_, [u8]>, Unread>;
    /// Every file the bundle holds, as `/`-separated paths.
    fn paths(&self) -> Vec<String>;
}

impl Source for EvidenceFiles {
    fn read(&self, path: &str) -> Result<Cow<'_, [u8]>, Unread> {
        self.get(path).map(Cow::Borrowed).ok_or_else(|| Unread {
            missing: true,
            problem: "not in the bundle".to_owned(),
        })
    }

    fn paths(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }
}

/// A bundle in a folder: only the manifest and the files it lists are read.
pub(crate) struct Folder<'a> {
    pub(crate) dir: &'a Path,
}

impl Source for Folder<'_> {
    fn read(&self, path: &str) -> Result<Cow<'_, [u8]>, Unread> {
        let full = self.dir.join(path);
        read(&full).map(Cow::Owned).map_err(|problem| Unread {
            missing: !full.exists(),
            problem,
        })
    }

    /// Every regular file under the folder and one level of sub-folders.
    fn paths(&self) -> Vec<String> {
        let mut found = Vec::new();
        let Ok(top) = std::fs::read_dir(self.dir) else {
            return found;
        };
        for entry in top.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                if let Ok(inner) = std::fs::read_dir(entry.path()) {
                    for file in inner.flatten() {
                        found.push(format!("{name}/{}", file.file_name().to_string_lossy()));
                    }
                }
            } else {
                found.push(name);
            }
        }
        found
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}
