//! Feeds arbitrary bytes to the evidence verifier `appliance evidence verify` runs, as the
//! files of a bundle (split by `tf_fuzz::evidence_files`). Each input is checked twice: as it
//! is, against the fixed appliance key the seeds are signed with, and with its manifest
//! re-signed by that key, so mutated manifests get past the signature to the manifest parser,
//! the file checks, the receipts and the budget statements.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_evidence::{MANIFEST_FILE, sha256_hex};
use tf_receipts::Envelope;

fuzz_target!(|data: &[u8]| {
    let mut files = tf_fuzz::evidence_files(data);
    let mut signer = tf_fuzz::appliance_signer();
    let key = signer.public_key();
    let as_given = tf_evidence::verify(&files, &key);
    if let Ok(verified) = &as_given {
        // Intact means every listed file is there with its digest, and nothing else is.
        let m = &verified.manifest;
        assert_eq!(m.receipts.count, m.receipts.seqs.len() as u64);
        for listed in &m.files {
            let bytes = files.get(&listed.path).expect("a listed file is there");
            assert_eq!(sha256_hex(bytes), listed.sha256);
        }
        for (path, _) in files.iter() {
            assert!(path == MANIFEST_FILE || m.files.iter().any(|f| f.path == path));
        }
    }
    let Some(envelope) = files
        .get(MANIFEST_FILE)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| Envelope::from_json(text).ok())
    else {
        return;
    };
    let resigned = signer.sign_payload(&envelope.payload_type, envelope.payload);
    files.insert(MANIFEST_FILE, resigned.to_json().into_bytes());
    let again = tf_evidence::verify(&files, &key);
    if let Err(problems) = &again {
        assert!(
            !problems
                .iter()
                .any(|p| p.ends_with("(altered, or another appliance's key)")),
            "a manifest signed by the key was refused for its signature: {problems:?}"
        );
    }
    if as_given.is_ok() {
        assert_eq!(
            again, as_given,
            "re-signing an intact manifest changes nothing"
        );
    }
});
