//! A receipt's place in the appliance's transparency log: the proof the appliance answers with,
//! and the offline check that the receipt is the entry it claims under a checkpoint signed with
//! the log's key (the same check as `appliance receipt verify --checkpoint --proof`).

use tf_log::{InclusionError, InclusionProofFile};
use tf_receipts::Envelope;
use tf_tlog::{Checkpoint, Hash};

/// The appliance's answer to a log proof query, not yet checked: check it with
/// [`verify_inclusion`] before relying on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogProofAnswer {
    /// The latest checkpoint, as a C2SP signed note.
    pub checkpoint: String,
    /// The entry proven (a receipt's `ledger_seq`).
    pub index: u64,
    /// The size of the checkpoint's tree.
    pub tree_size: u64,
    /// The RFC 9162 inclusion path, leaf side first.
    pub hashes: Vec<[u8; 32]>,
}

impl LogProofAnswer {
    /// The proof as the file `partner receipt prove` writes and `receipt verify --proof` reads.
    pub fn proof_file(&self) -> InclusionProofFile {
        let hashes: Vec<Hash> = self.hashes.iter().copied().map(Hash).collect();
        InclusionProofFile::new(self.index, self.tree_size, &hashes)
    }
}

impl From<tf_wire::LogProof> for LogProofAnswer {
    fn from(proof: tf_wire::LogProof) -> Self {
        LogProofAnswer {
            checkpoint: proof.checkpoint,
            index: proof.index,
            tree_size: proof.tree_size,
            hashes: proof.hashes,
        }
    }
}

/// Checks offline that `receipt`, whose ledger sequence number is `ledger_seq` (verify its
/// signature first: [`tf_receipts::verify`]), is entry `ledger_seq` of the log under the signed
/// checkpoint `note`, by the inclusion `proof`, with the log's verifier key `log_key`. Returns
/// the checkpoint. The entry is the SHA-256 of the receipt's DSSE JSON envelope.
pub fn verify_inclusion(
    receipt: &Envelope,
    ledger_seq: u64,
    note: &str,
    proof: &InclusionProofFile,
    log_key: &str,
) -> Result<Checkpoint, InclusionError> {
    if proof.index != ledger_seq {
        return Err(InclusionError::Mismatch(format!(
            "the proof is for entry {}, the receipt's ledger sequence number is {ledger_seq}: \
             use the proof fetched for this receipt",
            proof.index
        )));
    }
    let checkpoint = tf_log::verified_checkpoint(note, log_key)?;
    tf_log::check_inclusion(&receipt.to_json(), proof, &checkpoint)?;
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use tf_tlog::{NoteSigner, Tree};

    use super::*;

    const ORIGIN: &str = "example.test/log";

    fn receipt(n: u8) -> Envelope {
        Envelope {
            payload_type: "application/vnd.trust-fabric.receipt.v1+json".into(),
            payload: vec![n; 40],
            signatures: Vec::new(),
        }
    }

    /// A log whose entry `i` is receipt `i`, and the answer for `index` under its checkpoint.
    fn answer(size: u8, index: u8) -> (LogProofAnswer, String) {
        let signer = NoteSigner::new(ORIGIN, &[3; 32]).expect("signer");
        let mut tree = Tree::empty();
        let mut store = tf_tlog::MemoryStore::new();
        for n in 0..size {
            tree.append(&tf_log::receipt_entry(&receipt(n).to_json()));
        }
        store.write_all(tree.take_tiles());
        let checkpoint = Checkpoint::new(ORIGIN, tree.size(), tree.root()).expect("origin");
        let hashes = tf_tlog::inclusion_proof(u64::from(index), tree.size(), &store)
            .expect("proof")
            .iter()
            .map(|h| h.0)
            .collect();
        let answer = LogProofAnswer {
            checkpoint: signer.sign(&checkpoint.to_text()),
            index: u64::from(index),
            tree_size: tree.size(),
            hashes,
        };
        (answer, signer.vkey())
    }

    #[test]
    fn the_receipt_proven_checks_out_and_no_other_does() {
        let (answer, vkey) = answer(20, 13);
        let proof = answer.proof_file();
        let checkpoint = verify_inclusion(&receipt(13), 13, &answer.checkpoint, &proof, &vkey)
            .expect("included");
        assert_eq!(checkpoint.size, 20);
        let other = verify_inclusion(&receipt(12), 13, &answer.checkpoint, &proof, &vkey);
        assert!(
            matches!(other, Err(InclusionError::NotIncluded { index: 13, .. })),
            "{other:?}"
        );
        let misnumbered = verify_inclusion(&receipt(12), 12, &answer.checkpoint, &proof, &vkey);
        assert!(
            matches!(misnumbered, Err(InclusionError::Mismatch(_))),
            "{misnumbered:?}"
        );
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_is_refused() {
        let (answer, _) = answer(5, 2);
        let stranger = NoteSigner::new(ORIGIN, &[4; 32]).expect("signer").vkey();
        let refused = verify_inclusion(
            &receipt(2),
            2,
            &answer.checkpoint,
            &answer.proof_file(),
            &stranger,
        );
        assert!(
            matches!(refused, Err(InclusionError::Signature { .. })),
            "{refused:?}"
        );
    }
}
