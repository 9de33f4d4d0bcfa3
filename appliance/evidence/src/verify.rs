//! `appliance evidence verify`: checks a bundle offline against the appliance's public key and
//! names every file that was altered, removed or added.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use tf_receipts::Envelope;

use crate::files::{EvidenceFiles, Folder, Source};
use crate::log_check::LogEvidence;
use crate::manifest::{
    BUDGETS_FILE, BudgetStatements, LOG_CHECKPOINT_FILE, LOG_PROOFS_FILE, MANIFEST_FILE, Manifest,
    PAYLOAD_TYPE, receipt_path, sha256_hex,
};

/// A verified bundle's summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The manifest.
    pub manifest: Manifest,
}

/// Checks a bundle whose files are in memory. `Err` lists every problem found, each naming its
/// file.
pub fn verify(files: &EvidenceFiles, key: &VerifyingKey) -> Result<Verified, Vec<String>> {
    check(files, key)
}

/// Checks the bundle in folder `dir`, reading the manifest and then the files it lists, as
/// [`verify`] reads them from memory.
pub fn verify_dir(dir: &Path, key: &VerifyingKey) -> Result<Verified, Vec<String>> {
    check(&Folder { dir }, key)
}

fn check(source: &impl Source, key: &VerifyingKey) -> Result<Verified, Vec<String>> {
    let manifest = read_manifest(source, key).map_err(|problem| vec![problem])?;
    let mut problems = Vec::new();
    let mut contents: BTreeMap<&str, Cow<'_, [u8]>> = BTreeMap::new();
    for file in &manifest.files {
        match source.read(&file.path) {
            Err(unread) if unread.missing => problems.push(format!(
                "{}: listed in the manifest but missing (removed)",
                file.path
            )),
            Err(unread) => problems.push(format!("{}: {}", file.path, unread.problem)),
            Ok(bytes) => {
                if sha256_hex(&bytes) != file.sha256 || bytes.len() as u64 != file.bytes {
                    problems.push(format!(
                        "{}: its SHA-256 differs from the manifest's (altered)",
                        file.path
                    ));
                } else {
                    contents.insert(file.path.as_str(), bytes);
                }
            }
        }
    }
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for extra in source.paths() {
        if extra != MANIFEST_FILE && !listed.contains(extra.as_str()) {
            problems.push(format!("{extra}: not listed in the manifest (added)"));
        }
    }
    let expected: BTreeSet<String> = manifest
        .receipts
        .seqs
        .iter()
        .map(|seq| receipt_path(*seq))
        .collect();
    for path in &expected {
        if !listed.contains(path.as_str()) {
            problems.push(format!(
                "{path}: a receipt the manifest counts has no file entry"
            ));
        }
    }
    if manifest.receipts.count != manifest.receipts.seqs.len() as u64 {
        problems.push(format!(
            "{MANIFEST_FILE}: counts {} receipts but lists {}",
            manifest.receipts.count,
            manifest.receipts.seqs.len()
        ));
    }
    // Each intact receipt must be genuine and belong to this tenant and period; the budget
    // statements must add up to the receipts.
    let mut recomputed = BudgetStatements {
        tenant: manifest.tenant.clone(),
        from_unix_us: manifest.from_unix_us,
        to_unix_us: manifest.to_unix_us,
        lines: Vec::new(),
    };
    // The log's files are read once their digests matched; without them no receipt is
    // shown to be in the log.
    let log = match &manifest.log {
        Some(section) => match LogEvidence::read(
            section,
            contents.get(LOG_CHECKPOINT_FILE).map(|b| &b[..]),
            contents.get(LOG_PROOFS_FILE).map(|b| &b[..]),
        ) {
            Ok(evidence) => Some((section, evidence)),
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
        None => None,
    };
    for path in &expected {
        let Some(bytes) = contents.get(path.as_str()) else {
            continue;
        };
        match check_receipt(bytes, key, &manifest) {
            Ok((receipt, envelope)) => {
                recomputed.add(
                    &receipt.purpose,
                    &receipt.dataset_class,
                    receipt.verdict.as_str(),
                    receipt.budget_charged,
                );
                if let Some((section, evidence)) = &log
                    && let Err(problem) =
                        evidence.check(receipt.ledger_seq, &envelope.to_json(), section)
                {
                    problems.push(format!("{path}: not in the transparency log: {problem}"));
                }
            }
            Err(problem) => problems.push(format!("{path}: {problem}")),
        }
    }
    recomputed.sort();
    if let Some(bytes) = contents.get(BUDGETS_FILE) {
        match serde_json::from_slice::<BudgetStatements>(bytes) {
            Ok(statements) if problems.is_empty() && statements != recomputed => problems.push(
                format!("{BUDGETS_FILE}: the statements do not add up to the receipts"),
            ),
            Ok(_) => {}
            Err(error) => problems.push(format!("{BUDGETS_FILE}: not a budget statement: {error}")),
        }
    } else if !listed.contains(BUDGETS_FILE) {
        problems.push(format!("{BUDGETS_FILE}: not listed in the manifest"));
    }
    if problems.is_empty() {
        Ok(Verified { manifest })
    } else {
        Err(problems)
    }
}

fn read_manifest(source: &impl Source, key: &VerifyingKey) -> Result<Manifest, String> {
    let bytes = source
        .read(MANIFEST_FILE)
        .map_err(|unread| format!("{MANIFEST_FILE}: {}", unread.problem))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("{MANIFEST_FILE}: not UTF-8"))?;
    let envelope =
        Envelope::from_json(text).map_err(|problem| format!("{MANIFEST_FILE}: {problem}"))?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(format!(
            "{MANIFEST_FILE}: payload type {:?} is not an evidence manifest",
            envelope.payload_type
        ));
    }
    tf_receipts::verify_signature(&envelope, key).map_err(|error| {
        format!("{MANIFEST_FILE}: {error} (altered, or another appliance's key)")
    })?;
    serde_json::from_slice(&envelope.payload)
        .map_err(|error| format!("{MANIFEST_FILE}: the signed manifest does not parse: {error}"))
}

fn check_receipt(
    bytes: &[u8],
    key: &VerifyingKey,
    manifest: &Manifest,
) -> Result<(tf_receipts::Receipt, Envelope), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let envelope = Envelope::from_json(text)?;
    let receipt = tf_receipts::verify(&envelope, key).map_err(|e| e.to_string())?;
    if receipt.tenant != manifest.tenant {
        return Err(format!(
            "a receipt of tenant {:?}, not {:?}",
            receipt.tenant, manifest.tenant
        ));
    }
    if !(manifest.from_unix_us..manifest.to_unix_us).contains(&receipt.decided_at_unix_us) {
        return Err("decided outside the bundle's period".to_owned());
    }
    Ok((receipt, envelope))
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

    use super::*;
    use crate::manifest::{FileDigest, LogSection, ReceiptRange};

    /// What the test log holds at the receipts' indices.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Logged {
        /// The receipts.
        Receipts,
        /// Other entries: the proofs lead to the checkpoint, but not from these receipts.
        OtherEntries,
        /// The receipts, but the checkpoint is signed by a key other than the one named.
        AnotherKey,
    }

    /// A bundle of two receipts of tenant `acme`, signed by `signer`, as export writes it,
    /// with their inclusion proofs.
    fn bundle(signer: &mut ReceiptSigner) -> EvidenceFiles {
        bundle_with(signer, Logged::Receipts)
    }

    /// A log of 5 entries holding the receipts (`envelopes`, at 3 and 4) or others; its signed
    /// checkpoint and the two proofs, as files, and its section.
    fn log_files(envelopes: &[String], logged: Logged) -> (Vec<(String, Vec<u8>)>, LogSection) {
        let mut tree = tf_tlog::Tree::empty();
        for index in 0..5u8 {
            let entry = match (index, logged) {
                (3 | 4, Logged::Receipts | Logged::AnotherKey) => {
                    tf_log::receipt_entry(&envelopes[usize::from(index) - 3])
                }
                _ => [index; 32],
            };
            tree.append(&entry);
        }
        let mut store = tf_tlog::MemoryStore::new();
        store.write_all(tree.take_tiles());
        let proofs: Vec<tf_log::InclusionProofFile> = [3, 4]
            .map(|index| {
                let hashes = tf_tlog::inclusion_proof(index, 5, &store).expect("proof");
                tf_log::InclusionProofFile::new(index, 5, &hashes)
            })
            .to_vec();
        let signer = tf_tlog::NoteSigner::new("test.invalid/log", &[7; 32]).expect("name");
        let other = tf_tlog::NoteSigner::new("test.invalid/log", &[8; 32]).expect("name");
        let signing = match logged {
            Logged::AnotherKey => &other,
            _ => &signer,
        };
        let checkpoint = tf_tlog::Checkpoint {
            origin: "test.invalid/log".into(),
            size: 5,
            root: tree.root(),
        };
        let files = vec![
            (
                LOG_CHECKPOINT_FILE.to_owned(),
                signing.sign(&checkpoint.to_text()).into_bytes(),
            ),
            (
                LOG_PROOFS_FILE.to_owned(),
                serde_json::to_vec_pretty(&proofs).expect("serialises"),
            ),
        ];
        let section = LogSection {
            vkey: signer.vkey(),
            tree_size: 5,
            not_yet_logged: Vec::new(),
        };
        (files, section)
    }

    fn bundle_with(signer: &mut ReceiptSigner, logged: Logged) -> EvidenceFiles {
        let mut files = EvidenceFiles::default();
        let mut envelopes = Vec::new();
        let mut digests = Vec::new();
        let mut statements = BudgetStatements {
            tenant: "acme".into(),
            from_unix_us: 1_000,
            to_unix_us: 2_000,
            lines: Vec::new(),
        };
        for seq in [3, 4] {
            let receipt = Receipt {
                tenant: "acme".into(),
                request_id: seq,
                statement_digest: "ab".repeat(32),
                kind: "bls-single".into(),
                verdict: VerdictLabel::Valid,
                reason: None,
                purpose: "kyc".into(),
                dataset_class: "P1".into(),
                budget_charged: 1,
                budget_remaining: None,
                ledger_seq: seq,
                shard: 0,
                received_at_unix_us: 1_500,
                decided_at_unix_us: 1_501,
                appliance_key_id: String::new(),
                bundle_revision: 0,
                bundle_hash: String::new(),
            };
            statements.add("kyc", "P1", "valid", 1);
            let json = signer.sign(receipt).to_json();
            envelopes.push(json.clone());
            let bytes = json.into_bytes();
            digests.push(FileDigest {
                path: receipt_path(seq),
                sha256: sha256_hex(&bytes),
                bytes: bytes.len() as u64,
            });
            files.insert(receipt_path(seq), bytes);
        }
        let budgets = serde_json::to_vec_pretty(&statements).expect("serialises");
        digests.push(FileDigest {
            path: BUDGETS_FILE.into(),
            sha256: sha256_hex(&budgets),
            bytes: budgets.len() as u64,
        });
        files.insert(BUDGETS_FILE, budgets);
        let (log, section) = log_files(&envelopes, logged);
        for (path, bytes) in log {
            digests.push(FileDigest {
                path: path.clone(),
                sha256: sha256_hex(&bytes),
                bytes: bytes.len() as u64,
            });
            files.insert(path, bytes);
        }
        let manifest = Manifest {
            tenant: "acme".into(),
            from_unix_us: 1_000,
            to_unix_us: 2_000,
            exported_at_unix_us: 3_000,
            appliance_key_id: signer.key_id().to_string(),
            receipts: ReceiptRange {
                count: 2,
                seqs: vec![3, 4],
            },
            files: digests,
            log: Some(section),
            pruned: Vec::new(),
            preview: false,
        };
        let payload = serde_json::to_vec_pretty(&manifest).expect("serialises");
        let envelope = signer.sign_payload(PAYLOAD_TYPE, payload);
        files.insert(MANIFEST_FILE, envelope.to_json().into_bytes());
        files
    }

    fn signer(seed: u64) -> ReceiptSigner {
        ReceiptSigner::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    #[test]
    fn an_intact_bundle_verifies_in_memory_and_in_a_folder_alike() {
        let mut signer = signer(1);
        let files = bundle(&mut signer);
        let verified = verify(&files, &signer.public_key()).expect("intact");
        assert_eq!(verified.manifest.receipts.count, 2);

        let dir = tempfile::tempdir().expect("tempdir");
        for (path, bytes) in files.iter() {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("inside the folder")).expect("mkdir");
            std::fs::write(full, bytes).expect("write");
        }
        assert_eq!(verify_dir(dir.path(), &signer.public_key()), Ok(verified));
    }

    #[test]
    fn altered_removed_and_added_files_are_each_named() {
        let mut signer = signer(2);
        let mut files = bundle(&mut signer);
        let mut altered = files.get(&receipt_path(3)).expect("receipt").to_vec();
        altered[10] ^= 1;
        files.insert(receipt_path(3), altered);
        let removed = files.remove(&receipt_path(4));
        assert!(removed.is_some());
        files.insert("receipts/extra.json", b"{}".to_vec());
        let problems = verify(&files, &signer.public_key()).expect_err("tampered");
        assert_eq!(
            problems,
            [
                "receipts/000000000003.json: its SHA-256 differs from the manifest's (altered)",
                "receipts/000000000004.json: listed in the manifest but missing (removed)",
                "receipts/extra.json: not listed in the manifest (added)",
            ]
        );
    }

    #[test]
    fn another_key_or_no_manifest_is_one_problem() {
        let mut signer = signer(3);
        let mut files = bundle(&mut signer);
        let problems = verify(&files, &self::signer(4).public_key()).expect_err("wrong key");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("manifest.dsse.json: no signature"),
            "{problems:?}"
        );
        files.remove(MANIFEST_FILE);
        assert_eq!(
            verify(&files, &signer.public_key()),
            Err(vec!["manifest.dsse.json: not in the bundle".to_owned()])
        );
    }

    #[test]
    fn receipts_the_log_does_not_hold_are_each_named() {
        let mut signer = signer(5);
        let files = bundle_with(&mut signer, Logged::OtherEntries);
        let problems = verify(&files, &signer.public_key()).expect_err("not logged");
        assert_eq!(problems.len(), 2, "{problems:?}");
        for (problem, seq) in problems.iter().zip([3, 4]) {
            assert!(
                problem.starts_with(&format!(
                    "{}: not in the transparency log: the receipt is not in the log at index {seq}",
                    receipt_path(seq)
                )),
                "{problem}"
            );
        }
    }

    #[test]
    fn a_checkpoint_signed_by_another_log_key_is_named() {
        let mut signer = signer(6);
        let files = bundle_with(&mut signer, Logged::AnotherKey);
        let problems = verify(&files, &signer.public_key()).expect_err("another log key");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("log/checkpoint: the checkpoint is not signed by the log key"),
            "{problems:?}"
        );
    }
}
