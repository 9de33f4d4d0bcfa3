//! Making a bundle: receipts added one at a time, then the budget statements, the log part
//! (the latest checkpoint and every receipt's inclusion proof under it, computed from the
//! log's tiles) and the manifest signed with the appliance key. Files go to a [`Sink`]: a
//! folder (`appliance evidence export`) or memory (a partner's preview over QUIC).

use std::fmt;
use std::path::{Path, PathBuf};

use tf_log::{InclusionProofFile, LogDir};
use tf_receipts::ReceiptSigner;

use crate::files::EvidenceFiles;
use crate::manifest::{
    BUDGETS_FILE, BudgetStatements, FileDigest, LOG_CHECKPOINT_FILE, LOG_PROOFS_FILE, LogSection,
    MANIFEST_FILE, Manifest, PAYLOAD_TYPE, PrunedPart, ReceiptRange, receipt_path, sha256_hex,
};

/// Where a bundle's files are written.
pub trait Sink {
    /// Writes one file at its `/`-separated path inside the bundle.
    fn put(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()>;
}

impl Sink for EvidenceFiles {
    fn put(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.insert(path, bytes.to_vec());
        Ok(())
    }
}

/// A folder the bundle is written into (it should be new or empty).
pub struct FolderSink(pub PathBuf);

impl Sink for FolderSink {
    fn put(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        let file = self.0.join(Path::new(path));
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, bytes)
    }
}

/// Why a bundle could not be made.
#[derive(Debug)]
pub struct AssembleError(String);

impl fmt::Display for AssembleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AssembleError {}

impl From<std::io::Error> for AssembleError {
    fn from(error: std::io::Error) -> Self {
        AssembleError(format!("writing the bundle: {error}"))
    }
}

/// One receipt as the ledger keeps it.
pub struct ReceiptEntry<'a> {
    /// Its ledger sequence number (and log index).
    pub seq: u64,
    /// The DSSE envelope exactly as issued.
    pub envelope_json: &'a str,
    /// Its purpose.
    pub purpose: &'a str,
    /// Its dataset class.
    pub dataset_class: &'a str,
    /// `valid`, `invalid` or `rejected`.
    pub verdict: &'a str,
    /// Budget units charged.
    pub charged: u64,
}

/// A bundle being made.
pub struct Assembler<'s> {
    sink: &'s mut dyn Sink,
    files: Vec<FileDigest>,
    seqs: Vec<u64>,
    envelopes: Vec<(u64, String)>,
    statements: BudgetStatements,
}

/// What the last steps add: the log, the pruned parts, whether it is a preview.
pub struct Closing<'a> {
    /// The appliance's transparency log, if it has one.
    pub log: Option<&'a LogDir>,
    /// Parts of the period pruned since a compliance snapshot sealed them.
    pub pruned: Vec<PrunedPart>,
    /// A partner's preview over its sandbox submissions, not every receipt of the period.
    pub preview: bool,
    /// When the bundle is made, Unix microseconds.
    pub now_us: u64,
}

impl<'s> Assembler<'s> {
    /// A bundle of `tenant`'s receipts decided in `[from_us, to_us)`, written to `sink`.
    pub fn new(tenant: &str, from_us: u64, to_us: u64, sink: &'s mut dyn Sink) -> Self {
        Assembler {
            sink,
            files: Vec::new(),
            seqs: Vec::new(),
            envelopes: Vec::new(),
            statements: BudgetStatements {
                tenant: tenant.to_owned(),
                from_unix_us: from_us,
                to_unix_us: to_us,
                lines: Vec::new(),
            },
        }
    }

    /// Adds a receipt (in ledger order) and its line of the budget statements.
    pub fn add_receipt(&mut self, receipt: &ReceiptEntry<'_>) -> Result<(), AssembleError> {
        let path = receipt_path(receipt.seq);
        let bytes = receipt.envelope_json.as_bytes();
        self.put(path, bytes)?;
        self.seqs.push(receipt.seq);
        self.envelopes
            .push((receipt.seq, receipt.envelope_json.to_owned()));
        self.statements.add(
            receipt.purpose,
            receipt.dataset_class,
            receipt.verdict,
            receipt.charged,
        );
        Ok(())
    }

    /// Budget units charged over the receipts added.
    pub fn charged(&self) -> u64 {
        self.statements.lines.iter().map(|l| l.charged).sum()
    }

    /// Writes the statements, the log part and the manifest signed by `signer`; returns the
    /// manifest.
    pub fn finish(
        mut self,
        closing: Closing<'_>,
        signer: &mut ReceiptSigner,
    ) -> Result<Manifest, AssembleError> {
        self.statements.sort();
        let budgets = json(&self.statements)?;
        self.put(BUDGETS_FILE.to_owned(), &budgets)?;
        let log = match closing.log {
            Some(dir) => self.log_part(dir)?,
            None => None,
        };
        let manifest = Manifest {
            tenant: self.statements.tenant.clone(),
            from_unix_us: self.statements.from_unix_us,
            to_unix_us: self.statements.to_unix_us,
            exported_at_unix_us: closing.now_us,
            appliance_key_id: signer.key_id().as_str().to_owned(),
            receipts: ReceiptRange {
                count: self.seqs.len() as u64,
                seqs: self.seqs,
            },
            files: self.files,
            log,
            pruned: closing.pruned,
            preview: closing.preview,
        };
        let envelope = signer.sign_payload(PAYLOAD_TYPE, json(&manifest)?);
        self.sink
            .put(MANIFEST_FILE, envelope.to_json().as_bytes())?;
        Ok(manifest)
    }

    /// The checkpoint and the receipts' proofs under it; `None` when the log has no
    /// checkpoint yet.
    fn log_part(&mut self, dir: &LogDir) -> Result<Option<LogSection>, AssembleError> {
        let log_error = |e: &dyn fmt::Display| AssembleError(format!("the log: {e}"));
        let (Some(note), Some(vkey)) = (
            dir.checkpoint().map_err(|e| log_error(&e))?,
            dir.vkey().map_err(|e| log_error(&e))?,
        ) else {
            return Ok(None);
        };
        // Verified as any auditor will: a checkpoint that does not verify is not exported.
        let checkpoint = tf_log::verified_checkpoint(&note, &vkey).map_err(|e| log_error(&e))?;
        let mut proofs = Vec::new();
        let mut not_yet_logged = Vec::new();
        for (seq, envelope) in &self.envelopes {
            if *seq >= checkpoint.size {
                not_yet_logged.push(*seq);
                continue;
            }
            let hashes =
                tf_tlog::inclusion_proof(*seq, checkpoint.size, dir).map_err(|e| log_error(&e))?;
            let proof = InclusionProofFile::new(*seq, checkpoint.size, &hashes);
            // The tiles are the appliance's own; a proof that does not check is a damaged log,
            // not evidence.
            tf_log::check_inclusion(envelope, &proof, &checkpoint).map_err(|e| log_error(&e))?;
            proofs.push(proof);
        }
        self.put(LOG_CHECKPOINT_FILE.to_owned(), note.as_bytes())?;
        let proofs = json(&proofs)?;
        self.put(LOG_PROOFS_FILE.to_owned(), &proofs)?;
        Ok(Some(LogSection {
            vkey,
            tree_size: checkpoint.size,
            not_yet_logged,
        }))
    }

    fn put(&mut self, path: String, bytes: &[u8]) -> Result<(), AssembleError> {
        self.sink.put(&path, bytes)?;
        self.files.push(FileDigest {
            path,
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
        });
        Ok(())
    }
}

fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, AssembleError> {
    serde_json::to_vec_pretty(value).map_err(|e| AssembleError(format!("JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use tf_receipts::{Receipt, VerdictLabel};

    use super::*;

    fn receipt(signer: &mut ReceiptSigner, seq: u64, purpose: &str) -> String {
        signer
            .sign(Receipt {
                tenant: "acme".into(),
                request_id: seq,
                statement_digest: "ab".repeat(32),
                kind: "groth16".into(),
                verdict: VerdictLabel::Valid,
                reason: None,
                purpose: purpose.into(),
                dataset_class: "P1".into(),
                budget_charged: 3,
                budget_remaining: None,
                ledger_seq: seq,
                shard: 0,
                received_at_unix_us: 1_500,
                decided_at_unix_us: 1_501,
                appliance_key_id: String::new(),
                bundle_revision: 0,
                bundle_hash: String::new(),
            })
            .to_json()
    }

    #[test]
    fn a_bundle_made_in_memory_checks_as_an_auditor_checks_it_and_says_it_is_a_preview() {
        let mut signer = ReceiptSigner::generate(&mut ChaCha20Rng::seed_from_u64(7));
        let envelopes: Vec<(u64, String)> = [5, 9]
            .into_iter()
            .map(|seq| (seq, receipt(&mut signer, seq, "sandbox")))
            .collect();
        let mut files = EvidenceFiles::default();
        let mut bundle = Assembler::new("acme", 1_000, 2_000, &mut files);
        for (seq, envelope) in &envelopes {
            bundle
                .add_receipt(&ReceiptEntry {
                    seq: *seq,
                    envelope_json: envelope,
                    purpose: "sandbox",
                    dataset_class: "P1",
                    verdict: "valid",
                    charged: 3,
                })
                .expect("added");
        }
        assert_eq!(bundle.charged(), 6);
        let closing = Closing {
            log: None,
            pruned: Vec::new(),
            preview: true,
            now_us: 3_000,
        };
        let made = bundle.finish(closing, &mut signer).expect("made");
        assert_eq!(made.receipts.seqs, [5, 9]);
        let verified = crate::verify(&files, &signer.public_key()).expect("intact");
        assert!(verified.manifest.preview);
        assert_eq!(verified.manifest, made);
        let budgets: BudgetStatements =
            serde_json::from_slice(files.get(BUDGETS_FILE).expect("budgets")).expect("JSON");
        assert_eq!(budgets.lines[0].purpose, "sandbox");
        assert_eq!(budgets.lines[0].charged, 6);
        // A receipt altered after the manifest was signed is named.
        files.insert(
            receipt_path(9),
            receipt(&mut signer, 10, "sandbox").into_bytes(),
        );
        let problems = crate::verify(&files, &signer.public_key()).expect_err("altered");
        assert!(problems[0].contains("000000000009"), "{problems:?}");
    }
}
