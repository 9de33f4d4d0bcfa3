//! A bundle's log section: the checkpoint verifies with the log key the manifest names, and
//! every receipt has an inclusion proof under it at its ledger sequence number.

use std::collections::BTreeMap;

use tf_log::InclusionProofFile;
use tf_tlog::Checkpoint;

use crate::manifest::{LOG_CHECKPOINT_FILE, LOG_PROOFS_FILE, LogSection};

/// The checkpoint and the proofs by index, once both files are read and the checkpoint's
/// signature checked; problems otherwise.
pub(crate) struct LogEvidence {
    checkpoint: Checkpoint,
    proofs: BTreeMap<u64, InclusionProofFile>,
}

impl LogEvidence {
    /// Reads the section's two files (already checked against the manifest's digests).
    pub(crate) fn read(
        section: &LogSection,
        checkpoint: Option<&[u8]>,
        proofs: Option<&[u8]>,
    ) -> Result<Self, String> {
        let note = checkpoint
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .ok_or_else(|| format!("{LOG_CHECKPOINT_FILE}: missing or not text"))?;
        let checkpoint = tf_log::verified_checkpoint(note, &section.vkey)
            .map_err(|e| format!("{LOG_CHECKPOINT_FILE}: {e}"))?;
        if checkpoint.size != section.tree_size {
            return Err(format!(
                "{LOG_CHECKPOINT_FILE}: a tree of {} entries, the manifest says {}",
                checkpoint.size, section.tree_size
            ));
        }
        let list: Vec<InclusionProofFile> = proofs
            .ok_or_else(|| format!("{LOG_PROOFS_FILE}: missing"))
            .and_then(|bytes| {
                serde_json::from_slice(bytes).map_err(|e| format!("{LOG_PROOFS_FILE}: {e}"))
            })?;
        let proofs = list.into_iter().map(|proof| (proof.index, proof)).collect();
        Ok(LogEvidence { checkpoint, proofs })
    }

    /// Checks one receipt (its envelope as canonical JSON) at `seq`.
    pub(crate) fn check(
        &self,
        seq: u64,
        envelope_json: &str,
        section: &LogSection,
    ) -> Result<(), String> {
        if section.not_yet_logged.contains(&seq) {
            return Ok(());
        }
        let proof = self.proofs.get(&seq).ok_or_else(|| {
            format!("no inclusion proof in {LOG_PROOFS_FILE} for ledger sequence {seq}")
        })?;
        tf_log::check_inclusion(envelope_json, proof, &self.checkpoint).map_err(|e| e.to_string())
    }
}
