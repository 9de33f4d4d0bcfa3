//! Reading input files: a size cap before reading, and JSON-or-binary detection.

use std::io::Read;
use std::path::Path;

use crate::cli::Format;

/// No input file the verifier reads is legitimately larger (a 4096-input key is ~200 KiB JSON).
const MAX_INPUT_BYTES: u64 = 16 << 20;

/// An input file's bytes and whether they are JSON.
pub struct InputFile {
    pub bytes: Vec<u8>,
    pub is_json: bool,
}

impl InputFile {
    /// The file as UTF-8 text (JSON files only).
    pub fn text(&self, path: &Path) -> Result<&str, String> {
        std::str::from_utf8(&self.bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))
    }
}

/// Reads a file of at most 16 MiB and decides its format.
pub fn read(path: &Path, format: Format) -> Result<InputFile, String> {
    let bytes = read_capped(path, MAX_INPUT_BYTES, "a key, proof or inputs file")?;
    let is_json = match format {
        Format::Snarkjs => true,
        Format::Arkworks => false,
        // Binary files may begin with any byte; as a whole they are not UTF-8 text in practice.
        Format::Auto => {
            matches!(
                bytes.iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'{' | b'[')
            ) && std::str::from_utf8(&bytes).is_ok()
        }
    };
    Ok(InputFile { bytes, is_json })
}

/// Reads at most `max` bytes; a larger file is refused before it is read whole, with what it
/// was expected to be.
pub fn read_capped(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "{}: larger than {} KiB; not {what}",
            path.display(),
            max >> 10
        ));
    }
    Ok(bytes)
}
