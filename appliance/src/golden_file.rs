//! The golden set's file: the set of the built-in known answers, sealed with the receipt key
//! and written once, and read back within the size a golden set may take. Shared by
//! `appliance canary golden` and `appliance serve`, which builds the default set at the first
//! start.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use tf_canary::golden::{GoldenItem, GoldenSet};
use tf_engine::KeyId;
use tf_partner::fixtures::{BLS12_381_KEY, BN254_KEY};
use tf_partner::{DatasetClass, formats, golden};
use tf_wire::WireLimits;

/// The golden set of the built-in known answers, sent under `purpose`.
pub fn built_in_set(purpose: &str) -> Result<GoldenSet, String> {
    let mut keys = Vec::new();
    let mut ids = Vec::new();
    for json in [BN254_KEY, BLS12_381_KEY] {
        let (curve, bytes) = formats::verifying_key_json(json)?;
        ids.push(KeyId::of_canonical_bytes(&bytes));
        keys.push((curve, bytes));
    }
    let items = golden::known_answers(ids[0], ids[1])?
        .into_iter()
        .map(|answer| GoldenItem {
            label: answer.label.to_owned(),
            expect: answer.expect,
            purpose: purpose.to_owned(),
            dataset_class: DatasetClass::P2,
            statement: answer.statement,
        })
        .collect();
    Ok(GoldenSet {
        created_unix_s: tf_seam::clock::unix_micros() / 1_000_000,
        keys,
        items,
    })
}

/// Seals `set` with the receipt key and writes it to `out`, a new file; checked as the
/// canary will open it before it is written. Written whole or not at all: to a file beside
/// it first, then linked in place (which never replaces a file already there).
pub fn write_sealed(
    out: &Path,
    set: &GoldenSet,
    signer: &mut tf_receipts::ReceiptSigner,
    limits: &WireLimits,
) -> Result<(), String> {
    let sealed = set.seal(signer).map_err(|e| e.to_string())?;
    GoldenSet::open(&sealed, &signer.public_key(), limits).map_err(|e| e.to_string())?;
    let mut partial = out.as_os_str().to_owned();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = std::path::PathBuf::from(partial);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&partial)
        .and_then(|mut file| {
            file.write_all(sealed.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&partial, out));
    let _ = std::fs::remove_file(&partial);
    written.map_err(|e| format!("{}: {e}", out.display()))
}

/// The file's text, refused past the largest golden set before all of it is read.
pub fn read_bounded(file: &Path) -> Result<String, String> {
    let opened = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut bytes = Vec::new();
    std::io::Read::take(opened, tf_canary::golden::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    if bytes.len() > tf_canary::golden::MAX_FILE_BYTES {
        return Err(format!(
            "{}: over the {} bytes a golden set may take",
            file.display(),
            tf_canary::golden::MAX_FILE_BYTES
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8", file.display()))
}
