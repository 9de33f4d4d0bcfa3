//! Feeds arbitrary text to every parser of the transparency log's formats that an auditor's or
//! a partner's tool reads from a log it does not trust: tile paths (the admin server parses
//! them from request URLs), checkpoints, signed notes and proof files. What parses renders back
//! to exactly the input; a note verifies only if it was signed by the key it names; a proof
//! file never proves a receipt under a checkpoint it was not made for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_tlog::{Checkpoint, NoteSigner, NoteVerifier, TileId};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tile) = TileId::parse(text) {
        assert_eq!(
            tile.path(),
            text,
            "a tile path parses only in its one spelling"
        );
    }
    if let Ok(checkpoint) = Checkpoint::parse(text) {
        let again = Checkpoint::parse(&checkpoint.to_text()).expect("rendered text parses");
        assert_eq!(again, checkpoint);
    }
    let signer = NoteSigner::new("fuzz.invalid/log", &[5; 32]).expect("a valid name");
    let verifier = NoteVerifier::from_vkey(&signer.vkey()).expect("its own vkey");
    if let Ok(body) = verifier.verify(text) {
        // Ed25519 signatures here are deterministic: a note that verifies carries exactly the
        // line the signer writes for its body (other keys' lines are ignored).
        let ours = signer.sign(body);
        let line = ours.rsplit_once("\n\n").map_or("", |(_, line)| line);
        assert!(
            text.contains(line.trim_end()),
            "a verified note is the signer's own"
        );
    }
    let _ = NoteVerifier::from_vkey(text);
    if let Ok(proof) = serde_json::from_str::<tf_log::InclusionProofFile>(text) {
        let checkpoint = Checkpoint {
            origin: "fuzz.invalid/log".into(),
            size: 2,
            root: tf_tlog::node_hash(
                tf_tlog::leaf_hash(b"genesis"),
                tf_tlog::leaf_hash(&tf_log::receipt_entry("{}")),
            ),
        };
        if tf_log::check_inclusion("{}", &proof, &checkpoint).is_ok() {
            assert_eq!((proof.index, proof.tree_size), (1, 2));
        }
    }
});
