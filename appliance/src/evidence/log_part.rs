//! An evidence bundle's `log/` part: the transparency log's latest checkpoint and every
//! receipt's inclusion proof under it, computed from the log's tiles in the state directory;
//! and the parts of the period that were pruned, with the snapshots that sealed them.

use std::path::Path;

use tf_evidence::{FileDigest, LOG_CHECKPOINT_FILE, LOG_PROOFS_FILE, LogSection, PrunedPart};
use tf_ledger::Ledger;
use tf_log::{InclusionProofFile, LogDir};

/// Writes the checkpoint and the proofs for `envelopes` (ledger sequence, DSSE JSON) and adds
/// them to `files`; `None` when the appliance has no log yet.
pub fn write(
    log_dir: &LogDir,
    envelopes: &[(u64, String)],
    out: &Path,
    files: &mut Vec<FileDigest>,
) -> anyhow::Result<Option<LogSection>> {
    let (Some(note), Some(vkey)) = (log_dir.checkpoint()?, log_dir.vkey()?) else {
        return Ok(None);
    };
    // Verified as any auditor will: a checkpoint that does not verify is not exported.
    let checkpoint = tf_log::verified_checkpoint(&note, &vkey)?;
    let mut proofs = Vec::new();
    let mut not_yet_logged = Vec::new();
    for (seq, envelope) in envelopes {
        if *seq >= checkpoint.size {
            not_yet_logged.push(*seq);
            continue;
        }
        let hashes = tf_tlog::inclusion_proof(*seq, checkpoint.size, log_dir)?;
        let proof = InclusionProofFile::new(*seq, checkpoint.size, &hashes);
        // The tiles are the appliance's own; a proof that does not check is a damaged log,
        // not evidence.
        tf_log::check_inclusion(envelope, &proof, &checkpoint)?;
        proofs.push(proof);
    }
    std::fs::create_dir_all(out.join("log"))?;
    for (path, bytes) in [
        (LOG_CHECKPOINT_FILE, note.into_bytes()),
        (LOG_PROOFS_FILE, serde_json::to_vec_pretty(&proofs)?),
    ] {
        std::fs::write(out.join(path), &bytes)?;
        files.push(FileDigest {
            path: path.to_owned(),
            sha256: tf_evidence::sha256_hex(&bytes),
            bytes: bytes.len() as u64,
        });
    }
    Ok(Some(LogSection {
        vkey,
        tree_size: checkpoint.size,
        not_yet_logged,
    }))
}

/// The pruned ranges that overlap `[from_us, to_us)`.
pub fn pruned_parts(
    ledger: &dyn Ledger,
    from_us: u64,
    to_us: u64,
) -> anyhow::Result<Vec<PrunedPart>> {
    Ok(ledger
        .pruned_ranges()?
        .into_iter()
        .filter(|range| range.decided_from_us < to_us && range.decided_to_us >= from_us)
        .map(|range| PrunedPart {
            from_seq: range.from_seq,
            to_seq: range.to_seq,
            decided_from_us: range.decided_from_us,
            decided_to_us: range.decided_to_us,
            sealed_by: range.sealed_by,
        })
        .collect())
}
