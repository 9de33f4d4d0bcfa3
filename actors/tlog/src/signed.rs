//! Checkpoints as signed notes: what the log publishes at `<prefix>/checkpoint`.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{NoteError, NoteSigner, NoteVerifier};

/// A checkpoint and the signed note that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    note: String,
    checkpoint: Checkpoint,
}

/// Why a signed checkpoint is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedCheckpointError {
    /// The note is malformed or not signed by the key.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The signed text is not a checkpoint.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint is another log's.
    #[error("the checkpoint names another origin")]
    OriginMismatch,
}

impl SignedCheckpoint {
    /// The signed note, as served.
    pub fn note(&self) -> &str {
        &self.note
    }

    /// The checkpoint it carries.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note, as served.
    pub fn into_note(self) -> String {
        self.note
    }
}

impl NoteSigner {
    /// Signs the checkpoint's text; refused ([`NoteError::MalformedText`]) if its origin is
    /// not a valid origin line.
    pub fn sign_checkpoint(&self, checkpoint: &Checkpoint) -> Result<SignedCheckpoint, NoteError> {
        if !checkpoint.has_valid_origin() {
            return Err(NoteError::MalformedText);
        }
        Ok(SignedCheckpoint {
            note: self.try_sign(&checkpoint.to_text())?,
            checkpoint: checkpoint.clone(),
        })
    }
}

impl NoteVerifier {
    /// The checkpoint of `origin` carried by `note`, once this key's signature verifies.
    pub fn verify_checkpoint(
        &self,
        note: &str,
        origin: &str,
    ) -> Result<SignedCheckpoint, SignedCheckpointError> {
        let text = self.verify(note)?;
        let checkpoint = Checkpoint::parse(text)?;
        if checkpoint.origin != origin {
            return Err(SignedCheckpointError::OriginMismatch);
        }
        Ok(SignedCheckpoint {
            note: note.to_owned(),
            checkpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

    use super::*;
    use crate::tree::testing::{build, reference_root};

    const ORIGIN: &str = "tf.example/appliance-1";

    fn checkpoint() -> Checkpoint {
        let (tree, _) = build(1234, 100);
        assert_eq!(tree.root(), reference_root(1234));
        Checkpoint::new(ORIGIN, tree.size(), tree.root()).expect("valid origin")
    }

    #[test]
    fn our_signed_checkpoint_verifies_with_signed_note_and_tlog_tiles() {
        let signer = NoteSigner::new(ORIGIN, &[9; 32]).expect("valid name");
        let checkpoint = checkpoint();
        let signed = signer
            .sign_checkpoint(&checkpoint)
            .expect("valid checkpoint");
        assert!(signed.note().starts_with(&checkpoint.to_text()));

        let verifier = StandardVerifier::new(&signer.vkey()).expect("signed_note reads our vkey");
        let note = Note::from_bytes(signed.note().as_bytes()).expect("signed_note parses it");
        note.verify(&VerifierList::new(vec![Box::new(verifier)]))
            .expect("signed_note verifies it");
        let theirs = tlog_tiles::Checkpoint::from_bytes(note.text()).expect("tlog_tiles parses it");
        assert_eq!(
            (theirs.origin(), theirs.size(), theirs.hash().0),
            (ORIGIN, 1234, checkpoint.root.0)
        );

        let ours = NoteVerifier::from_vkey(&signer.vkey()).expect("valid vkey");
        assert_eq!(
            ours.verify_checkpoint(signed.note(), ORIGIN),
            Ok(signed.clone())
        );
        assert_eq!(signed.clone().into_note(), signed.note());
    }

    #[test]
    fn signed_note_checkpoints_verify_with_ours() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let (skey, vkey) = signed_note::generate_key(&mut rng, ORIGIN);
        let checkpoint = checkpoint();
        let mut note = Note::new(checkpoint.to_text().as_bytes(), &[]).expect("valid text");
        let signer = StandardSigner::new(&skey).expect("signed_note key");
        note.add_sigs(&[&signer]).expect("signing works");
        let note = String::from_utf8(note.to_bytes()).expect("UTF-8");
        let verifier = NoteVerifier::from_vkey(&vkey).expect("signed_note vkey");
        let verified = verifier
            .verify_checkpoint(&note, ORIGIN)
            .expect("we verify signed_note's checkpoint");
        assert_eq!(verified.checkpoint(), &checkpoint);
    }

    #[test]
    fn wrong_origin_key_or_text_is_refused() {
        let signer = NoteSigner::new(ORIGIN, &[9; 32]).expect("valid name");
        let verifier = NoteVerifier::from_vkey(&signer.vkey()).expect("valid vkey");
        let signed = signer
            .sign_checkpoint(&checkpoint())
            .expect("valid checkpoint");
        assert_eq!(
            verifier.verify_checkpoint(signed.note(), "tf.example/other"),
            Err(SignedCheckpointError::OriginMismatch)
        );
        let grown = signed.note().replacen("\n1234\n", "\n1235\n", 1);
        assert_eq!(
            verifier.verify_checkpoint(&grown, ORIGIN),
            Err(SignedCheckpointError::Note(NoteError::BadSignature))
        );
        let stranger = NoteVerifier::from_vkey(
            &NoteSigner::new(ORIGIN, &[10; 32])
                .expect("valid name")
                .vkey(),
        )
        .expect("valid vkey");
        assert_eq!(
            stranger.verify_checkpoint(signed.note(), ORIGIN),
            Err(SignedCheckpointError::Note(NoteError::NotSigned))
        );
        let not_a_checkpoint = signer.sign("hello\n");
        assert_eq!(
            verifier.verify_checkpoint(&not_a_checkpoint, ORIGIN),
            Err(SignedCheckpointError::Checkpoint(CheckpointError::Lines))
        );
        let mut bad_origin = checkpoint();
        bad_origin.origin = "two\nlines".into();
        assert_eq!(
            signer.sign_checkpoint(&bad_origin).map(|_| ()),
            Err(NoteError::MalformedText)
        );
    }
}
