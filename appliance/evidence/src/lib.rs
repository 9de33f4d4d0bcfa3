//! Evidence bundles: a tenant's receipts over a period, its budget statements and a manifest
//! signed by the appliance key, and their offline verification.
//!
//! A bundle is a folder (`appliance evidence export` writes one, [`Assembler`] makes it):
//! `manifest.dsse.json`, a DSSE envelope over the [`Manifest`] with the SHA-256 of every other
//! file; `budgets.json`, the [`BudgetStatements`]; `receipts/`, one DSSE receipt per ledger
//! sequence; and `log/`, the transparency log's signed checkpoint and every receipt's inclusion
//! proof under it. A partner's preview over its sandbox submissions has the same layout, marked
//! as a preview in its manifest. [`verify_dir`]
//! checks a folder as `appliance evidence verify` does; [`verify`] checks the same files held
//! in memory, and both run the one check, so what is fuzzed from bytes is what reads folders.

mod assemble;
mod files;
mod log_check;
mod manifest;
mod verify;

pub use assemble::{AssembleError, Assembler, Closing, FolderSink, ReceiptEntry, Sink};
pub use files::EvidenceFiles;
pub use manifest::{
    BUDGETS_FILE, BudgetLine, BudgetStatements, FileDigest, LOG_CHECKPOINT_FILE, LOG_PROOFS_FILE,
    LogSection, MANIFEST_FILE, Manifest, PAYLOAD_TYPE, PrunedPart, RECEIPTS_DIR, ReceiptRange,
    receipt_path, sha256_hex,
};
pub use verify::{Verified, verify, verify_dir};
