//! `appliance verify groth16`.

use std::path::Path;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use serde_json::json;
use tf_engine::groth16::decode::{
    SCALAR_BYTES, decode_proof, decode_public_inputs, decode_verifying_key,
};
use tf_engine::groth16::snarkjs::{self, AnyProof, AnyVerifyingKey};
use tf_engine::groth16::{Curve, PreparedKey, Statement, SupportedCurve, verify_one};
use tf_engine::{Limits, Rejection, StatementDigest, Verdict};

use super::Report;
use super::files::{self, InputFile};
use crate::cli::Groth16Args;

pub fn verify(args: &Groth16Args, limits: &Limits) -> Report {
    match load_and_verify(args, limits) {
        Ok(report) => report,
        Err(message) => Report::rejected_input(message),
    }
}

fn load_and_verify(args: &Groth16Args, limits: &Limits) -> Result<Report, String> {
    let flagged_curve = args
        .curve
        .as_deref()
        .map(str::parse::<Curve>)
        .transpose()
        .map_err(|e| e.to_string())?;
    let proof_file = files::read(&args.proof, args.format)?;
    let vk_file = files::read(&args.vk, args.format)?;
    let public_file = files::read(&args.public, args.format)?;

    let proof = read_proof(&args.proof, &proof_file, flagged_curve)?;
    let curve = proof.curve();
    if let Some(flagged) = flagged_curve
        && flagged != curve
    {
        return Ok(mismatch(flagged, curve));
    }
    let vk = read_key(&args.vk, &vk_file, curve, limits)?;
    let key_curve = match vk {
        AnyVerifyingKey::Bn254(_) => Curve::Bn254,
        AnyVerifyingKey::Bls12_381(_) => Curve::Bls12_381,
        _ => return Err("unsupported verifying key".into()),
    };
    if key_curve != curve {
        return Ok(mismatch(key_curve, curve));
    }
    match (vk, proof) {
        (AnyVerifyingKey::Bn254(vk), AnyProof::Bn254(proof)) => {
            finish::<Bn254>(*vk, proof, &args.public, &public_file, limits)
        }
        (AnyVerifyingKey::Bls12_381(vk), AnyProof::Bls12_381(proof)) => {
            finish::<Bls12_381>(*vk, proof, &args.public, &public_file, limits)
        }
        _ => Err("the verifying key and the proof are for different curves".into()),
    }
}

fn mismatch(key: Curve, proof: Curve) -> Report {
    Report::verdict(
        Verdict::Rejected(Rejection::CurveMismatch { key, proof }),
        Default::default(),
    )
}

fn finish<E: SupportedCurve>(
    vk: ark_groth16::VerifyingKey<E>,
    proof: ark_groth16::Proof<E>,
    public_path: &Path,
    public_file: &InputFile,
    limits: &Limits,
) -> Result<Report, String> {
    let key = match PreparedKey::new(limits, vk) {
        Ok(key) => key,
        Err(rejection) => return Ok(Report::verdict(rejection.into(), Default::default())),
    };
    let inputs = read_inputs::<E>(public_path, public_file, limits)?;
    let encoded: Vec<[u8; SCALAR_BYTES]> = inputs
        .iter()
        .map(tf_engine::groth16::decode::encode_scalar::<E>)
        .collect();
    let mut details = serde_json::Map::new();
    details.insert("kind".into(), json!("groth16"));
    details.insert("curve".into(), json!(E::CURVE.to_string()));
    details.insert("key_id".into(), json!(key.id().to_string()));
    details.insert(
        "statement_digest".into(),
        json!(StatementDigest::groth16(&key.id(), encoded.iter()).to_string()),
    );
    let verdict = match Statement::new(&key, proof, inputs) {
        Ok(statement) => verify_one(&key, &statement),
        Err(rejection) => Verdict::Rejected(rejection),
    };
    Ok(Report::verdict(verdict, details))
}

fn read_proof(path: &Path, file: &InputFile, flagged: Option<Curve>) -> Result<AnyProof, String> {
    if file.is_json {
        return snarkjs::parse_proof(file.text(path)?).map_err(|e| located(path, e));
    }
    let curve = flagged
        .or_else(|| Curve::from_proof_len(file.bytes.len()))
        .ok_or_else(|| {
            format!(
                "{}: {} bytes is not a compressed proof ({} for bn254, {} for bls12-381)",
                path.display(),
                file.bytes.len(),
                Curve::Bn254.proof_bytes(),
                Curve::Bls12_381.proof_bytes()
            )
        })?;
    let rejected = |r: Rejection| format!("{}: {r}", path.display());
    Ok(match curve {
        Curve::Bn254 => AnyProof::Bn254(decode_proof(&file.bytes).map_err(rejected)?),
        _ => AnyProof::Bls12_381(decode_proof(&file.bytes).map_err(rejected)?),
    })
}

fn read_key(
    path: &Path,
    file: &InputFile,
    curve: Curve,
    limits: &Limits,
) -> Result<AnyVerifyingKey, String> {
    if file.is_json {
        return snarkjs::parse_verifying_key(file.text(path)?, limits)
            .map_err(|e| located(path, e));
    }
    let rejected = |r: Rejection| format!("{}: {r}", path.display());
    Ok(match curve {
        Curve::Bn254 => AnyVerifyingKey::Bn254(Box::new(
            decode_verifying_key(limits, &file.bytes).map_err(rejected)?,
        )),
        _ => AnyVerifyingKey::Bls12_381(Box::new(
            decode_verifying_key(limits, &file.bytes).map_err(rejected)?,
        )),
    })
}

/// Public inputs: snarkjs JSON, or arkworks' canonical `Vec` (u64 little-endian count, then
/// 32 bytes per scalar), counted against the limit before decoding.
fn read_inputs<E: SupportedCurve>(
    path: &Path,
    file: &InputFile,
    limits: &Limits,
) -> Result<Vec<E::ScalarField>, String> {
    if file.is_json {
        return snarkjs::parse_public_inputs::<E>(file.text(path)?, limits)
            .map_err(|e| located(path, e));
    }
    let bytes = &file.bytes;
    let shape = || {
        format!(
            "{}: expected a u64 count then 32 bytes per input ({} bytes)",
            path.display(),
            bytes.len()
        )
    };
    let count = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .ok_or_else(shape)?;
    let body = &bytes[8..];
    if !body.len().is_multiple_of(SCALAR_BYTES) || (body.len() / SCALAR_BYTES) as u64 != count {
        return Err(shape());
    }
    let inputs: Vec<[u8; SCALAR_BYTES]> = body
        .chunks_exact(SCALAR_BYTES)
        .map(|c| c.try_into().expect("32-byte chunk"))
        .collect();
    decode_public_inputs::<E>(limits, &inputs).map_err(|r| format!("{}: {r}", path.display()))
}

fn located(path: &Path, error: snarkjs::FormatError) -> String {
    format!("{}: {}: {}", path.display(), error.path, error.problem)
}
