//! A bundle's files in memory, read from a directory or a gzipped tar within size and count
//! limits checked before anything is kept, and written back as a reproducible archive.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::problem::Problem;

/// Most files in a bundle.
pub const MAX_FILES: usize = 256;
/// Largest single file, bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Largest bundle, all files together, bytes (also bounds the decompressed archive).
pub const MAX_TOTAL_BYTES: u64 = 8 << 20;
/// Deepest path (`keys/x.json` is 2).
const MAX_DEPTH: usize = 3;

/// A bundle's files by relative path (`/`-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleFiles {
    files: BTreeMap<String, Vec<u8>>,
}

impl BundleFiles {
    /// Reads a bundle directory, or a gzipped tar when `path` is a file.
    pub fn read(path: &Path) -> Result<Self, Problem> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Problem::Unreadable(format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            return Self::from_dir(path);
        }
        if meta.len() > MAX_TOTAL_BYTES {
            return Err(too_large("the archive", MAX_TOTAL_BYTES));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Problem::Unreadable(format!("{}: {e}", path.display())))?;
        Self::from_tar_gz(&bytes)
    }

    /// Reads every file under `dir`; links and special files are refused.
    pub fn from_dir(dir: &Path) -> Result<Self, Problem> {
        let mut files = BundleFiles::default();
        let mut total = 0u64;
        walk(dir, dir, 0, &mut files, &mut total)?;
        Ok(files)
    }

    /// Reads a gzipped tar, checking each entry's path, type and size before reading it.
    pub fn from_tar_gz(bytes: &[u8]) -> Result<Self, Problem> {
        let unreadable = |e: std::io::Error| Problem::Unreadable(format!("not a gzipped tar: {e}"));
        // The decompressed stream is bounded too: a small archive may inflate enormously.
        let limited = GzDecoder::new(bytes).take(MAX_TOTAL_BYTES + 64 * 1024 * (MAX_FILES as u64));
        let mut archive = tar::Archive::new(limited);
        let mut files = BundleFiles::default();
        let mut total = 0u64;
        for entry in archive.entries().map_err(unreadable)? {
            let mut entry = entry.map_err(unreadable)?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                continue;
            }
            if !kind.is_file() {
                return Err(Problem::UnsafePath(raw));
            }
            let name = normalise(Path::new(&raw)).ok_or(Problem::UnsafePath(raw))?;
            let size = entry.header().size().map_err(unreadable)?;
            let mut data = Vec::new();
            if size > MAX_FILE_BYTES {
                return Err(too_large(&name, MAX_FILE_BYTES));
            }
            entry
                .by_ref()
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut data)
                .map_err(unreadable)?;
            files.add(name, data, &mut total)?;
        }
        Ok(files)
    }

    /// A reproducible gzipped tar: sorted paths, fixed owner, mode and time, so the same
    /// files always give the same bytes.
    pub fn to_tar_gz(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
        for (name, data) in &self.files {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            // In-memory writes of checked, short, relative paths cannot fail.
            builder
                .append_data(&mut header, name, data.as_slice())
                .expect("writing a tar entry to memory");
        }
        builder
            .into_inner()
            .and_then(|gz| gz.finish())
            .expect("finishing an in-memory archive")
    }

    /// Writes the files under `dir` (created if needed).
    pub fn write_dir(&self, dir: &Path) -> std::io::Result<()> {
        for (name, data) in &self.files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, data)?;
        }
        Ok(())
    }

    /// A file's bytes.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    /// Adds or replaces a file (used when building).
    pub fn insert(&mut self, name: &str, data: Vec<u8>) {
        self.files.insert(name.to_owned(), data);
    }

    /// Removes a file.
    pub fn remove(&mut self, name: &str) -> Option<Vec<u8>> {
        self.files.remove(name)
    }

    /// Every file, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(n, d)| (n.as_str(), d.as_slice()))
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    fn add(&mut self, name: String, data: Vec<u8>, total: &mut u64) -> Result<(), Problem> {
        if data.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large(&name, MAX_FILE_BYTES));
        }
        *total += data.len() as u64;
        if *total > MAX_TOTAL_BYTES {
            return Err(too_large("the bundle's files together", MAX_TOTAL_BYTES));
        }
        if self.files.len() >= MAX_FILES {
            return Err(Problem::TooLarge {
                what: "the number of files".into(),
                limit: MAX_FILES as u64,
            });
        }
        if self.files.insert(name.clone(), data).is_some() {
            return Err(Problem::Unreadable(format!("{name} appears twice")));
        }
        Ok(())
    }
}

fn too_large(what: &str, limit: u64) -> Problem {
    Problem::TooLarge {
        what: format!("{what} (bytes)"),
        limit,
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    depth: usize,
    files: &mut BundleFiles,
    total: &mut u64,
) -> Result<(), Problem> {
    let unreadable =
        |path: &Path, e: std::io::Error| Problem::Unreadable(format!("{}: {e}", path.display()));
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| unreadable(dir, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let shown = relative.display().to_string();
        let kind = entry.file_type().map_err(|e| unreadable(&path, e))?;
        if kind.is_dir() {
            if depth + 1 >= MAX_DEPTH {
                return Err(Problem::UnsafePath(shown));
            }
            walk(root, &path, depth + 1, files, total)?;
        } else if kind.is_file() {
            let name = normalise(relative).ok_or(Problem::UnsafePath(shown))?;
            let size = entry.metadata().map_err(|e| unreadable(&path, e))?.len();
            if size > MAX_FILE_BYTES {
                return Err(too_large(&name, MAX_FILE_BYTES));
            }
            let data = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
            files.add(name, data, total)?;
        } else {
            return Err(Problem::UnsafePath(shown));
        }
    }
    Ok(())
}

/// A safe relative path as `a/b`: plain components of letters, digits, `.`, `-` and `_`, not
/// starting with a dot, at most [`MAX_DEPTH`] deep.
fn normalise(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => {
                let part = part.to_str()?;
                let plain = !part.is_empty()
                    && !part.starts_with('.')
                    && part.len() <= 128
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
                if !plain {
                    return None;
                }
                parts.push(part);
            }
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty() && parts.len() <= MAX_DEPTH).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_escape_or_hide_are_refused() {
        assert_eq!(
            normalise(Path::new("keys/a.json")).as_deref(),
            Some("keys/a.json")
        );
        assert_eq!(
            normalise(Path::new("./tenants.toml")).as_deref(),
            Some("tenants.toml")
        );
        for bad in [
            "../x",
            "/etc/passwd",
            "keys/../../x",
            ".hidden",
            "a b",
            "a/b/c/d",
            "",
        ] {
            assert_eq!(normalise(Path::new(bad)), None, "{bad}");
        }
    }

    #[test]
    fn archives_round_trip_byte_for_byte() {
        let mut files = BundleFiles::default();
        files.insert("tenants.toml", b"[[tenants]]\nid = \"a\"\n".to_vec());
        files.insert("keys/k.json", b"{}".to_vec());
        let archive = files.to_tar_gz();
        assert_eq!(archive, files.to_tar_gz(), "reproducible");
        assert_eq!(
            BundleFiles::from_tar_gz(&archive).expect("reads back"),
            files
        );
    }

    #[test]
    fn an_oversized_file_is_refused_before_it_is_kept() {
        let mut files = BundleFiles::default();
        files.insert("big", vec![b'x'; MAX_FILE_BYTES as usize + 1]);
        let err = BundleFiles::from_tar_gz(&files.to_tar_gz()).expect_err("too big");
        assert_eq!(err.code(), "too-large");
    }

    #[test]
    fn garbage_is_not_an_archive() {
        let err = BundleFiles::from_tar_gz(b"not gzip at all").expect_err("garbage");
        assert_eq!(err.code(), "unreadable");
    }
}
