//! What the fuzz targets and the seed generator share: the fixed test keys the seeds are signed
//! with, and how one fuzz input holds the several files of an evidence bundle.
//!
//! The keys are fixed so a committed seed still verifies in the target that reads it; they are
//! test keys, trusted by nothing but these targets.

use tf_bundles::AuthorKey;
use tf_evidence::EvidenceFiles;
use tf_receipts::ReceiptSigner;

/// The appliance receipt key the receipt and evidence seeds are signed with.
pub fn appliance_signer() -> ReceiptSigner {
    ReceiptSigner::from_secret(&[0x11; 32])
}

/// The author key the bundle seeds are signed with, and the one the bundle target trusts.
pub fn bundle_author() -> AuthorKey {
    AuthorKey::from_secret(&[0x22; 32])
}

/// The BLS secret key the BLS and frame seeds are signed with (below the group order).
pub const BLS_SECRET: [u8; 32] = [0x33; 32];

/// Splits one fuzz input into an evidence bundle's files: `path NUL bytes NUL path NUL bytes`
/// and so on (a path with nothing after it is an empty file; a later path replaces an earlier).
/// JSON has no NUL, so every bundle a mutation leaves whole is still a bundle.
pub fn evidence_files(data: &[u8]) -> EvidenceFiles {
    let mut parts = data.split(|b| *b == 0);
    let mut files = EvidenceFiles::default();
    while let Some(path) = parts.next() {
        let bytes = parts.next().unwrap_or_default();
        files.insert(String::from_utf8_lossy(path).into_owned(), bytes.to_vec());
    }
    files
}

/// The inverse of [`evidence_files`], for writing seeds.
pub fn evidence_input(files: &EvidenceFiles) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, bytes) in files.iter() {
        if !out.is_empty() {
            out.push(0);
        }
        out.extend_from_slice(path.as_bytes());
        out.push(0);
        out.extend_from_slice(bytes);
    }
    out
}
