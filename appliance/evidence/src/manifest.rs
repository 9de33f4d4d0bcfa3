//! The evidence manifest: what a bundle holds, with the SHA-256 of every file, signed by the
//! appliance key as a DSSE envelope (`manifest.dsse.json`).

use serde::{Deserialize, Serialize};

/// The DSSE payload type of a v1 manifest.
pub const PAYLOAD_TYPE: &str = "application/vnd.trust-fabric.evidence-manifest.v1+json";
/// The signed manifest's file name in a bundle.
pub const MANIFEST_FILE: &str = "manifest.dsse.json";
/// The budget statements' file name.
pub const BUDGETS_FILE: &str = "budgets.json";
/// The folder of receipts, one DSSE JSON file per receipt, named by ledger sequence.
pub const RECEIPTS_DIR: &str = "receipts";
/// The transparency log's signed checkpoint the receipts' inclusion proofs lead to.
pub const LOG_CHECKPOINT_FILE: &str = "log/checkpoint";
/// Every receipt's inclusion proof under that checkpoint (a JSON array of proof files).
pub const LOG_PROOFS_FILE: &str = "log/inclusion-proofs.json";

/// What a bundle holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The tenant whose evidence this is.
    pub tenant: String,
    /// Start of the period, Unix microseconds (inclusive).
    pub from_unix_us: u64,
    /// End of the period, Unix microseconds (exclusive).
    pub to_unix_us: u64,
    /// When the bundle was exported.
    pub exported_at_unix_us: u64,
    /// The appliance key that signed the receipts and this manifest.
    pub appliance_key_id: String,
    /// How many receipts, and their ledger sequence numbers.
    pub receipts: ReceiptRange,
    /// Every file of the bundle but the manifest, with its digest.
    pub files: Vec<FileDigest>,
    /// The receipts' place in the transparency log (absent in bundles made before the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogSection>,
    /// Parts of the period whose receipts were pruned after a compliance snapshot sealed
    /// them: they are in that snapshot, not in this bundle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pruned: Vec<PrunedPart>,
    /// A partner's preview (`partner evidence preview`): the receipts of the sandbox
    /// submissions it named, not every receipt of the period.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preview: bool,
}

/// Where a bundle's receipts are in the transparency log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// The log's verifier key (C2SP signed-note), signed here with the appliance key.
    pub vkey: String,
    /// The size of the tree of the checkpoint in [`LOG_CHECKPOINT_FILE`].
    pub tree_size: u64,
    /// Receipts not yet in a checkpoint when the bundle was made (the log follows the ledger
    /// within a checkpoint interval; an appliance stopped since has not logged them yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_yet_logged: Vec<u64>,
}

/// Receipts of the period that were pruned, and the snapshot that holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrunedPart {
    /// First ledger sequence number pruned.
    pub from_seq: u64,
    /// Last ledger sequence number pruned.
    pub to_seq: u64,
    /// Earliest decision time among them, Unix microseconds.
    pub decided_from_us: u64,
    /// Latest decision time among them, Unix microseconds.
    pub decided_to_us: u64,
    /// The compliance snapshot that sealed them.
    pub sealed_by: String,
}

/// The receipts a bundle holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRange {
    /// How many.
    pub count: u64,
    /// Their ledger sequence numbers, in order.
    pub seqs: Vec<u64>,
}

/// One file and its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Path inside the bundle, `/`-separated.
    pub path: String,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// Its length.
    pub bytes: u64,
}

/// A budget statement: one purpose and class over the period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetLine {
    /// The purpose.
    pub purpose: String,
    /// The dataset class.
    pub dataset_class: String,
    /// Verdicts given.
    pub requests: u64,
    /// Of which valid.
    pub valid: u64,
    /// Of which invalid.
    pub invalid: u64,
    /// Of which rejected as malformed.
    pub rejected: u64,
    /// Budget units charged.
    pub charged: u64,
}

/// The budget statements file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetStatements {
    /// The tenant.
    pub tenant: String,
    /// Start of the period, Unix microseconds.
    pub from_unix_us: u64,
    /// End of the period, Unix microseconds (exclusive).
    pub to_unix_us: u64,
    /// One line per purpose and class, sorted.
    pub lines: Vec<BudgetLine>,
}

impl BudgetStatements {
    /// Adds one verdict to its purpose and class's line.
    pub fn add(&mut self, purpose: &str, class: &str, verdict: &str, charged: u64) {
        let position = self
            .lines
            .iter()
            .position(|l| l.purpose == purpose && l.dataset_class == class);
        let index = position.unwrap_or_else(|| {
            self.lines.push(BudgetLine {
                purpose: purpose.to_owned(),
                dataset_class: class.to_owned(),
                ..BudgetLine::default()
            });
            self.lines.len() - 1
        });
        let line = &mut self.lines[index];
        line.requests += 1;
        match verdict {
            "valid" => line.valid += 1,
            "invalid" => line.invalid += 1,
            _ => line.rejected += 1,
        }
        line.charged += charged;
    }

    /// Sorts the lines by purpose then class, so the same receipts give the same file.
    pub fn sort(&mut self) {
        self.lines.sort_by(|a, b| {
            (a.purpose.as_str(), a.dataset_class.as_str())
                .cmp(&(b.purpose.as_str(), b.dataset_class.as_str()))
        });
    }
}

/// The file name of a receipt in a bundle.
pub fn receipt_path(seq: u64) -> String {
    format!("{RECEIPTS_DIR}/{seq:012}.json")
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
