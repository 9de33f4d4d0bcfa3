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
