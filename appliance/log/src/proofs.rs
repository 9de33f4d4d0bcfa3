//! Proof files: what `appliance log prove` and `partner receipt prove` write, and what
//! `receipt verify --checkpoint FILE --proof FILE` and evidence bundles check offline.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tf_tlog::{Checkpoint, Hash, NoteVerifier};

/// An inclusion proof of one receipt in the tree of a checkpoint (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProofFile {
    /// The entry's index: the receipt's ledger sequence number.
    pub index: u64,
    /// The size of the tree the proof is for (the checkpoint's).
    pub tree_size: u64,
    /// The proof's hashes (RFC 9162 inclusion path), base64.
    pub hashes: Vec<String>,
}

/// A consistency proof between two tree sizes (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProofFile {
    /// The older size.
    pub old_size: u64,
    /// The older tree's root, base64.
    pub old_root: String,
    /// The newer size.
    pub new_size: u64,
    /// The newer tree's root, base64.
    pub new_root: String,
    /// The proof's hashes (RFC 9162 consistency proof), base64.
    pub hashes: Vec<String>,
}

/// Why a receipt's inclusion does not check out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InclusionError {
    /// The checkpoint's signature does not verify with the log's key.
    #[error("the checkpoint is not signed by the log key {vkey}: {why}")]
    Signature {
        /// The key expected.
        vkey: String,
        /// Why.
        why: String,
    },
    /// The checkpoint or the proof file is malformed.
    #[error("{0}")]
    Malformed(String),
    /// The proof is for another tree or another entry.
    #[error("{0}")]
    Mismatch(String),
    /// The proof does not lead from the receipt to the checkpoint's root.
    #[error("the receipt is not in the log at index {index} under this checkpoint: {why}")]
    NotIncluded {
        /// The index claimed.
        index: u64,
        /// Why.
        why: String,
    },
}

impl InclusionProofFile {
    /// A proof file for these hashes.
    pub fn new(index: u64, tree_size: u64, hashes: &[Hash]) -> Self {
        InclusionProofFile {
            index,
            tree_size,
            hashes: hashes.iter().map(|h| STANDARD.encode(h.0)).collect(),
        }
    }

    /// The proof's hashes, decoded.
    pub fn proof(&self) -> Result<Vec<Hash>, InclusionError> {
        decode_hashes(&self.hashes)
    }
}

impl ConsistencyProofFile {
    /// A proof file between two checkpoints' trees.
    pub fn new(old: (u64, Hash), new: (u64, Hash), hashes: &[Hash]) -> Self {
        ConsistencyProofFile {
            old_size: old.0,
            old_root: STANDARD.encode(old.1.0),
            new_size: new.0,
            new_root: STANDARD.encode(new.1.0),
            hashes: hashes.iter().map(|h| STANDARD.encode(h.0)).collect(),
        }
    }
}

/// The log entry of a receipt: the SHA-256 of its DSSE JSON envelope exactly as issued.
pub fn receipt_entry(envelope_json: &str) -> [u8; 32] {
    Sha256::digest(envelope_json.as_bytes()).into()
}

/// Verifies a signed checkpoint note with the log's verifier key and parses it.
pub fn verified_checkpoint(note: &str, vkey: &str) -> Result<Checkpoint, InclusionError> {
    let verifier = NoteVerifier::from_vkey(vkey.trim())
        .map_err(|e| InclusionError::Malformed(format!("the log key {vkey:?}: {e}")))?;
    let text = verifier
        .verify(note)
        .map_err(|e| InclusionError::Signature {
            vkey: vkey.trim().to_owned(),
            why: e.to_string(),
        })?;
    Checkpoint::parse(text).map_err(|e| InclusionError::Malformed(format!("the checkpoint: {e}")))
}

/// Checks that the receipt `envelope_json` is the entry at the proof's index in the tree of
/// `checkpoint` (already verified): the offline check auditors and partners run.
pub fn check_inclusion(
    envelope_json: &str,
    proof: &InclusionProofFile,
    checkpoint: &Checkpoint,
) -> Result<(), InclusionError> {
    if proof.tree_size != checkpoint.size {
        return Err(InclusionError::Mismatch(format!(
            "the proof is for a tree of {} entries, the checkpoint's has {}: fetch the proof \
             and the checkpoint together",
            proof.tree_size, checkpoint.size
        )));
    }
    let leaf = tf_tlog::leaf_hash(&receipt_entry(envelope_json));
    tf_tlog::verify_inclusion(
        leaf,
        proof.index,
        proof.tree_size,
        &proof.proof()?,
        &checkpoint.root,
    )
    .map_err(|e| InclusionError::NotIncluded {
        index: proof.index,
        why: e.to_string(),
    })
}

fn decode_hashes(hashes: &[String]) -> Result<Vec<Hash>, InclusionError> {
    hashes
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let bytes = STANDARD
                .decode(text)
                .map_err(|_| InclusionError::Malformed(format!("hashes[{i}]: not base64")))?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| InclusionError::Malformed(format!("hashes[{i}]: not 32 bytes")))?;
            Ok(Hash(hash))
        })
        .collect()
}
