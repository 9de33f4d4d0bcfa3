//! The evidence preview: the bundle an auditor would get (`appliance evidence export`) over
//! the partner's sandbox submissions, made and signed by the appliance. It is checked here as
//! an auditor checks it, against the appliance's receipt key, before it is handed over or
//! written; [`verify_evidence_dir`] checks a folder again later.

use std::path::{Component, Path};

use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use tf_evidence::{EvidenceFiles, Manifest};
use tf_wire::{EvidencePreviewQuery, MAX_PREVIEW_RECEIPTS, Message};

use super::session::Client;
use super::{receipt_key, unusable};
use crate::PartnerError;

/// A checked evidence bundle. Serialised, what `partner evidence preview --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceSummary {
    /// The tenant whose evidence it is.
    pub tenant: String,
    /// Its receipts' ledger sequence numbers.
    pub receipts: Vec<u64>,
    /// Whether it is a preview over sandbox submissions rather than a period's every receipt.
    pub preview: bool,
    /// Budget units charged over its receipts, from its budget statements.
    pub charged: u64,
    /// The size of the log checkpoint its inclusion proofs lead to; `None` without a log.
    pub log_tree_size: Option<u64>,
    /// Receipts not yet in a checkpoint when it was made (proofs come once they are).
    pub not_yet_logged: Vec<u64>,
    /// The appliance key that signed it.
    pub appliance_key_id: String,
    /// Every file, by its path inside the bundle.
    pub files: Vec<String>,
}

/// A preview the appliance made, checked.
#[derive(Clone, Debug)]
pub struct EvidencePreview {
    /// What it holds.
    pub summary: EvidenceSummary,
    /// Its files.
    pub bundle: EvidenceFiles,
}

impl Client {
    /// The evidence bundle over the sandbox receipts `receipts` (their ledger sequence
    /// numbers, 1 to 16), checked against the appliance's receipt key.
    pub async fn evidence_preview(
        &self,
        receipts: &[u64],
    ) -> Result<EvidencePreview, PartnerError> {
        if receipts.is_empty() || receipts.len() > MAX_PREVIEW_RECEIPTS {
            return Err(unusable(
                "receipts",
                format!("name 1 to {MAX_PREVIEW_RECEIPTS} receipts of sandbox submissions"),
            ));
        }
        let answer = self
            .call(|partner| {
                let message = Message::EvidencePreviewQuery(EvidencePreviewQuery {
                    request_id: partner.next_request_id(),
                    receipts: receipts.to_vec(),
                });
                async move { partner.request(&message).await }
            })
            .await?;
        let Message::EvidencePreview(preview) = answer else {
            return Err(PartnerError::Protocol {
                detail: format!("unexpected answer: {}", answer.name()),
            });
        };
        let bundle: EvidenceFiles = preview
            .files
            .into_iter()
            .map(|file| (file.path, file.bytes))
            .collect();
        // The key the partner was given at onboarding, else the appliance's own answer on
        // this connection (whose server the partner's configuration pins).
        let key = match self.receipt_public_key() {
            Some(key) => key,
            None => {
                self.call(|partner| partner.about())
                    .await?
                    .receipt_public_key
            }
        };
        let key = VerifyingKey::from_bytes(&key).map_err(|e| unusable("receipt public key", e))?;
        let manifest = tf_evidence::verify(&bundle, &key)
            .map_err(not_intact)?
            .manifest;
        let paths = bundle.iter().map(|(path, _)| path.to_owned()).collect();
        Ok(EvidencePreview {
            summary: summary(&manifest, bundle.get(tf_evidence::BUDGETS_FILE), paths),
            bundle,
        })
    }
}

impl EvidencePreview {
    /// Writes the bundle into `dir`, which must be new or empty.
    pub fn write_to(&self, dir: &Path) -> Result<(), PartnerError> {
        let local = |problem: String| PartnerError::Local {
            path: dir.display().to_string(),
            problem,
        };
        if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(local(
                "the folder is not empty; write into a new folder".into(),
            ));
        }
        for (path, bytes) in self.bundle.iter() {
            // Checked against the signed manifest already; a path must still stay inside.
            let inside = Path::new(path)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
            if !inside {
                return Err(local(format!("{path:?} is not a path inside the bundle")));
            }
            let file = dir.join(path);
            let written = file
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&file, bytes));
            written.map_err(|e| local(format!("{path}: {e}")))?;
        }
        Ok(())
    }
}

/// Checks the evidence bundle in folder `dir` with the appliance's receipt key (64 hex
/// digits), as `appliance evidence verify` does, naming every problem.
pub fn verify_evidence_dir(
    dir: &Path,
    public_key_hex: &str,
) -> Result<EvidenceSummary, PartnerError> {
    let key = receipt_key(public_key_hex)?;
    let manifest = tf_evidence::verify_dir(dir, &key)
        .map_err(not_intact)?
        .manifest;
    let budgets = std::fs::read(dir.join(tf_evidence::BUDGETS_FILE)).ok();
    let mut paths: Vec<String> = manifest.files.iter().map(|f| f.path.clone()).collect();
    paths.push(tf_evidence::MANIFEST_FILE.to_owned());
    paths.sort();
    Ok(summary(&manifest, budgets.as_deref(), paths))
}

fn not_intact(problems: Vec<String>) -> PartnerError {
    PartnerError::ReceiptInvalid {
        detail: format!("the evidence bundle is not intact: {}", problems.join("; ")),
    }
}

/// What a checked bundle holds; `budgets` is its budget statements file.
fn summary(manifest: &Manifest, budgets: Option<&[u8]>, files: Vec<String>) -> EvidenceSummary {
    let charged = budgets
        .and_then(|bytes| serde_json::from_slice::<tf_evidence::BudgetStatements>(bytes).ok())
        .map_or(0, |s| s.lines.iter().map(|l| l.charged).sum());
    EvidenceSummary {
        tenant: manifest.tenant.clone(),
        receipts: manifest.receipts.seqs.clone(),
        preview: manifest.preview,
        charged,
        log_tree_size: manifest.log.as_ref().map(|l| l.tree_size),
        not_yet_logged: manifest
            .log
            .as_ref()
            .map(|l| l.not_yet_logged.clone())
            .unwrap_or_default(),
        appliance_key_id: manifest.appliance_key_id.clone(),
        files,
    }
}
