//! Writes the committed seed corpora, `fuzz/corpus/<target>/`, from the repository's fixtures
//! (the snarkjs files in tests/fixtures/groth16, the example bundle in docs/examples/bundle, the
//! default configuration) and inputs signed with `tf_fuzz`'s fixed test keys: a few valid inputs
//! per target and a couple of near-misses (named `near-*`). The same fixtures give the same
//! files byte for byte.
//!
//!     cd fuzz && cargo run --example seeds

use std::error::Error;
use std::path::{Path, PathBuf};

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use serde_json::Value;
use tf_bundles::{BuildInfo, BundleFiles, TENANTS_FILE};
use tf_engine::groth16::SupportedCurve;
use tf_engine::groth16::decode::{encode_proof, encode_scalar, encode_verifying_key};
use tf_engine::groth16::snarkjs::{self, AnyProof, AnyVerifyingKey};
use tf_engine::{KeyId, Limits};
use tf_evidence::{
    BUDGETS_FILE, BudgetStatements, EvidenceFiles, FileDigest, MANIFEST_FILE, Manifest,
    ReceiptRange, receipt_path, sha256_hex,
};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};
use tf_wire::{DatasetClass, Message, RegisterKey, Statement, Submit, encode};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = root.join("fuzz/corpus");
    let fixtures = Fixtures::read(&root.join("tests/fixtures/groth16"))?;
    let mut out = Out { corpus, written: 0 };
    snarkjs_json(&mut out, &fixtures)?;
    arkworks_bytes(&mut out, &fixtures)?;
    bls_points(&mut out)?;
    decode_frame(&mut out, &fixtures)?;
    bundle_archive(&mut out, &root, &fixtures)?;
    evidence_bundle(&mut out)?;
    receipt_envelope(&mut out)?;
    config_toml(&mut out)?;
    println!("wrote {} seed files under fuzz/corpus", out.written);
    Ok(())
}

/// The snarkjs fixtures of both curves.
struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    fn read(dir: &Path) -> Result<Self> {
        Ok(Fixtures {
            dir: dir.canonicalize()?,
        })
    }

    fn text(&self, curve: &str, file: &str) -> Result<String> {
        Ok(std::fs::read_to_string(self.dir.join(curve).join(file))?)
    }

    /// The verifying key's canonical bytes.
    fn key_bytes(&self, curve: &str) -> Result<Vec<u8>> {
        let text = self.text(curve, "verification_key.json")?;
        Ok(
            match snarkjs::parse_verifying_key(&text, &Limits::DEFAULT)? {
                AnyVerifyingKey::Bn254(key) => encode_verifying_key(&*key),
                AnyVerifyingKey::Bls12_381(key) => encode_verifying_key(&*key),
                _ => return Err("a curve the seeds do not know".into()),
            },
        )
    }

    /// Proof `i`'s canonical bytes.
    fn proof_bytes(&self, curve: &str, i: usize) -> Result<Vec<u8>> {
        let text = self.text(curve, &format!("proof_{i}.json"))?;
        Ok(match snarkjs::parse_proof(&text)? {
            AnyProof::Bn254(proof) => encode_proof(&proof),
            AnyProof::Bls12_381(proof) => encode_proof(&proof),
            _ => return Err("a curve the seeds do not know".into()),
        })
    }

    /// Public inputs `i`, 32 bytes each.
    fn inputs<E: SupportedCurve>(&self, curve: &str, i: usize) -> Result<Vec<[u8; 32]>> {
        let text = self.text(curve, &format!("public_{i}.json"))?;
        let inputs = snarkjs::parse_public_inputs::<E>(&text, &Limits::DEFAULT)?;
        Ok(inputs.iter().map(encode_scalar::<E>).collect())
    }
}

struct Out {
    corpus: PathBuf,
    written: usize,
}

impl Out {
    fn put(&mut self, target: &str, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
        let dir = self.corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        self.written += 1;
        Ok(())
    }
}

fn snarkjs_json(out: &mut Out, fx: &Fixtures) -> Result<()> {
    let t = "snarkjs_json";
    out.put(
        t,
        "bn254-key.json",
        fx.text("bn128", "verification_key.json")?,
    )?;
    out.put(t, "bn254-proof.json", fx.text("bn128", "proof_0.json")?)?;
    out.put(t, "bn254-public.json", fx.text("bn128", "public_2.json")?)?;
    out.put(
        t,
        "bls12-381-key.json",
        fx.text("bls12381", "verification_key.json")?,
    )?;
    out.put(
        t,
        "bls12-381-proof.json",
        fx.text("bls12381", "proof_1.json")?,
    )?;
    out.put(
        t,
        "bls12-381-public.json",
        fx.text("bls12381", "public_0.json")?,
    )?;
    // A point not normalised (z = 2), and a key whose nPublic disagrees with IC.
    let mut proof: Value = serde_json::from_str(&fx.text("bn128", "proof_0.json")?)?;
    proof["pi_a"][2] = "2".into();
    out.put(t, "near-proof-z2.json", proof.to_string())?;
    let mut key: Value = serde_json::from_str(&fx.text("bls12381", "verification_key.json")?)?;
    key["nPublic"] = 7.into();
    out.put(t, "near-key-npublic.json", key.to_string())?;
    Ok(())
}

fn arkworks_bytes(out: &mut Out, fx: &Fixtures) -> Result<()> {
    let t = "arkworks_bytes";
    let key = fx.key_bytes("bn128")?;
    out.put(t, "bn254-key", &key)?;
    out.put(t, "bls12-381-key", fx.key_bytes("bls12381")?)?;
    let proof = fx.proof_bytes("bn128", 0)?;
    out.put(t, "bn254-proof", &proof)?;
    out.put(t, "bls12-381-proof", fx.proof_bytes("bls12381", 2)?)?;
    out.put(t, "bn254-inputs", fx.inputs::<Bn254>("bn128", 2)?.concat())?;
    out.put(
        t,
        "bls12-381-inputs",
        fx.inputs::<Bls12_381>("bls12381", 1)?.concat(),
    )?;
    // The point count one more than the points; A with the infinity flag beside its x.
    let g1 = 32;
    let count_at = g1 + 3 * 2 * g1;
    let mut miscounted = key.clone();
    miscounted[count_at] = miscounted[count_at].wrapping_add(1);
    out.put(t, "near-bn254-key-count", miscounted)?;
    let mut flagged = proof.clone();
    flagged[g1 - 1] ^= 0x40;
    out.put(t, "near-bn254-proof-flag", flagged)?;
    Ok(())
}

fn bls_points(out: &mut Out) -> Result<()> {
    let t = "bls_points";
    let mut keys = Vec::new();
    for (i, secret) in [tf_fuzz::BLS_SECRET, [0x34; 32], [0x35; 32]]
        .iter()
        .enumerate()
    {
        let (signature, key) = tf_engine::bls::sign(secret, b"trust fabric")?;
        if i == 0 {
            out.put(t, "public-key", key.to_bytes())?;
            out.put(t, "signature", signature.to_bytes())?;
            let mut flipped = signature.to_bytes();
            flipped[95] ^= 1;
            out.put(t, "near-signature-bit", flipped)?;
        }
        keys.extend_from_slice(&key.to_bytes());
    }
    out.put(t, "three-public-keys", keys)?;
    let mut infinity = [0u8; 48];
    infinity[0] = 0xc0;
    out.put(t, "near-public-key-infinity", infinity)?;
    Ok(())
}

fn decode_frame(out: &mut Out, fx: &Fixtures) -> Result<()> {
    let t = "decode_frame";
    let frame = |message: Message| -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        encode(&message, &mut bytes)?;
        Ok(bytes)
    };
    let (signature, public_key) = tf_engine::bls::sign(&tf_fuzz::BLS_SECRET, b"hello")?;
    let bls = frame(Message::Submit(Submit {
        request_id: 1,
        purpose: "kyc".into(),
        dataset_class: DatasetClass::P1,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message: b"hello".to_vec(),
            signature: signature.to_bytes(),
        },
    }))?;
    out.put(t, "submit-bls-single", &bls)?;
    let key = fx.key_bytes("bn128")?;
    out.put(
        t,
        "submit-groth16",
        frame(Message::Submit(Submit {
            request_id: 2,
            purpose: "kyc".into(),
            dataset_class: DatasetClass::P2,
            statement: Statement::Groth16 {
                curve: tf_wire::Curve::Bn254,
                key_id: KeyId::of_canonical_bytes(&key).0,
                proof: fx.proof_bytes("bn128", 2)?,
                public_inputs: fx.inputs::<Bn254>("bn128", 2)?,
            },
        }))?,
    )?;
    out.put(
        t,
        "register-key",
        frame(Message::RegisterKey(RegisterKey {
            request_id: 3,
            curve: tf_wire::Curve::Bn254,
            key,
        }))?,
    )?;
    out.put(
        t,
        "budget-query",
        frame(Message::BudgetQuery(tf_wire::BudgetQuery { request_id: 4 }))?,
    )?;
    // Another protocol version; a body cut short.
    let mut version = bls.clone();
    version[2] ^= 0xff;
    out.put(t, "near-version", version)?;
    out.put(t, "near-truncated", &bls[..bls.len() - 5])?;
    Ok(())
}

fn bundle_archive(out: &mut Out, root: &Path, fx: &Fixtures) -> Result<()> {
    let t = "bundle_archive";
    let build = |author: &mut tf_bundles::AuthorKey| -> Result<BundleFiles> {
        let mut files = BundleFiles::from_dir(&root.join("docs/examples/bundle"))?;
        files.insert(
            "keys/demo.json",
            fx.text("bn128", "verification_key.json")?.into_bytes(),
        );
        let info = BuildInfo {
            revision: 1,
            author: "fuzz seeds".into(),
            note: "the example bundle with the demo key".into(),
            tickets: vec![],
            created_unix_s: 1_795_000_000,
            republishes: None,
        };
        Ok(tf_bundles::build(files, info, author, &Limits::DEFAULT)?.files)
    };
    let files = build(&mut tf_fuzz::bundle_author())?;
    out.put(t, "example.tar.gz", files.to_tar_gz())?;
    // A file changed after signing; the same bundle signed by an author nobody trusts.
    let mut altered = files.clone();
    let mut tenants = altered.get(TENANTS_FILE).ok_or("no tenants")?.to_vec();
    tenants.extend_from_slice(b"\n[[tenants]]\nid = \"initech\"\n");
    altered.insert(TENANTS_FILE, tenants);
    out.put(t, "near-altered.tar.gz", altered.to_tar_gz())?;
    let stranger = build(&mut tf_bundles::AuthorKey::from_secret(&[0x23; 32]))?;
    out.put(t, "near-untrusted.tar.gz", stranger.to_tar_gz())?;
    Ok(())
}

fn evidence_bundle(out: &mut Out) -> Result<()> {
    let t = "evidence_bundle";
    let mut signer = tf_fuzz::appliance_signer();
    let files = evidence(
        &mut signer,
        &[(3, "valid"), (4, "invalid"), (9, "rejected")],
    )?;
    out.put(t, "three-receipts", tf_fuzz::evidence_input(&files))?;
    out.put(
        t,
        "empty",
        tf_fuzz::evidence_input(&evidence(&mut signer, &[])?),
    )?;
    // One receipt altered; one file added.
    let mut altered = files.clone();
    let path = receipt_path(4);
    let mut receipt = altered.get(&path).ok_or("no receipt")?.to_vec();
    receipt[20] ^= 1;
    altered.insert(path, receipt);
    out.put(t, "near-altered", tf_fuzz::evidence_input(&altered))?;
    let mut added = files;
    added.insert("receipts/extra.json", b"{}".to_vec());
    out.put(t, "near-added", tf_fuzz::evidence_input(&added))?;
    Ok(())
}

/// An evidence bundle as `appliance evidence export` writes it, of tenant `acme`.
fn evidence(signer: &mut ReceiptSigner, receipts: &[(u64, &str)]) -> Result<EvidenceFiles> {
    let (from, to) = (1_795_000_000_000_000, 1_795_086_400_000_000);
    let mut files = EvidenceFiles::default();
    let mut digests = Vec::new();
    let mut statements = BudgetStatements {
        tenant: "acme".into(),
        from_unix_us: from,
        to_unix_us: to,
        lines: Vec::new(),
    };
    for &(seq, verdict) in receipts {
        let (label, charged) = match verdict {
            "valid" => (VerdictLabel::Valid, 2),
            "invalid" => (VerdictLabel::Invalid, 2),
            _ => (VerdictLabel::Rejected, 0),
        };
        let receipt = Receipt {
            tenant: "acme".into(),
            request_id: seq * 10,
            statement_digest: format!("{seq:02x}").repeat(32),
            kind: "groth16-bn254".into(),
            verdict: label,
            reason: (verdict != "valid").then(|| format!("the proof is {verdict}")),
            purpose: "kyc".into(),
            dataset_class: "P1".into(),
            budget_charged: charged,
            budget_remaining: Some(100 - seq),
            ledger_seq: seq,
            shard: 1,
            received_at_unix_us: from + seq * 1_000,
            decided_at_unix_us: from + seq * 1_000 + 700,
            appliance_key_id: String::new(),
            bundle_revision: 1,
            bundle_hash: "ab".repeat(32),
        };
        statements.add("kyc", "P1", verdict, charged);
        let bytes = signer.sign(receipt).to_json().into_bytes();
        digests.push(FileDigest {
            path: receipt_path(seq),
            sha256: sha256_hex(&bytes),
            bytes: bytes.len() as u64,
        });
        files.insert(receipt_path(seq), bytes);
    }
    statements.sort();
    let budgets = serde_json::to_vec_pretty(&statements)?;
    digests.push(FileDigest {
        path: BUDGETS_FILE.into(),
        sha256: sha256_hex(&budgets),
        bytes: budgets.len() as u64,
    });
    files.insert(BUDGETS_FILE, budgets);
    let manifest = Manifest {
        tenant: "acme".into(),
        from_unix_us: from,
        to_unix_us: to,
        exported_at_unix_us: to + 1,
        appliance_key_id: signer.key_id().to_string(),
        receipts: ReceiptRange {
            count: receipts.len() as u64,
            seqs: receipts.iter().map(|(seq, _)| *seq).collect(),
        },
        files: digests,
    };
    let payload = serde_json::to_vec_pretty(&manifest)?;
    let envelope = signer.sign_payload(tf_evidence::PAYLOAD_TYPE, payload);
    files.insert(MANIFEST_FILE, envelope.to_json().into_bytes());
    Ok(files)
}

fn receipt_envelope(out: &mut Out) -> Result<()> {
    let t = "receipt_envelope";
    let mut signer = tf_fuzz::appliance_signer();
    let files = evidence(&mut signer, &[(5, "valid"), (6, "rejected")])?;
    let valid = files.get(&receipt_path(5)).ok_or("no receipt")?;
    out.put(t, "valid", valid)?;
    out.put(
        t,
        "rejected",
        files.get(&receipt_path(6)).ok_or("no receipt")?,
    )?;
    // The verdict changed after signing; a payload of another type.
    let text = std::str::from_utf8(valid)?;
    let mut envelope = tf_receipts::Envelope::from_json(text)?;
    let payload = String::from_utf8(envelope.payload.clone())?;
    envelope.payload = payload.replace("\"valid\"", "\"invalid\"").into_bytes();
    out.put(t, "near-altered", envelope.to_json())?;
    let other = signer.sign_payload("application/json", payload.into_bytes());
    out.put(t, "near-payload-type", other.to_json())?;
    Ok(())
}

fn config_toml(out: &mut Out) -> Result<()> {
    let t = "config_toml";
    out.put(t, "default.toml", tf_config::default_file())?;
    out.put(t, "empty.toml", "")?;
    out.put(
        t,
        "tenants.toml",
        "[verify]\nmax_public_inputs = 8\n\n[[tenants]]\nid = \"acme\"\nweight = 2\n\
         rate_per_sec = 500\nburst = 250\n\n[[tenants]]\nid = \"globex\"\n",
    )?;
    // A key the schema does not have; a value out of its range.
    out.put(t, "near-unknown-key.toml", "[verify]\nmax_inputs = 8\n")?;
    out.put(t, "near-out-of-range.toml", "[server]\nshards = 100000\n")?;
    Ok(())
}
