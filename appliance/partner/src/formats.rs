//! Turning the files partners have (snarkjs JSON, arkworks canonical bytes, hex) into wire
//! statements.

use std::path::Path;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use tf_engine::Limits;
use tf_engine::groth16::decode::{encode_proof, encode_scalar, encode_verifying_key};
use tf_engine::groth16::snarkjs::{self, AnyProof, AnyVerifyingKey};
use tf_engine::groth16::{Curve as EngineCurve, SupportedCurve};
use tf_wire::{Curve, Statement};

use crate::PartnerError;

/// Largest input file read (a verifying key with 4096 inputs in JSON is well under this).
const MAX_FILE_BYTES: u64 = 8 << 20;

/// A verifying key file as (curve, canonical compressed bytes). JSON is read as snarkjs;
/// anything else as arkworks bytes, which needs `curve`.
pub fn verifying_key_file(
    path: &Path,
    curve: Option<Curve>,
) -> Result<(Curve, Vec<u8>), PartnerError> {
    let bytes = read(path)?;
    if looks_like_json(&bytes) {
        return verifying_key_json(utf8(path, &bytes)?).map_err(|e| local(path, e));
    }
    let curve = curve.ok_or_else(|| {
        local(
            path,
            "binary verifying keys need --curve (bn254 or bls12-381)",
        )
    })?;
    Ok((curve, bytes))
}

/// A snarkjs `verification_key.json` as (curve, canonical compressed bytes).
pub fn verifying_key_json(text: &str) -> Result<(Curve, Vec<u8>), String> {
    let key = snarkjs::parse_verifying_key(text, &Limits::DEFAULT).map_err(|e| e.to_string())?;
    match key {
        AnyVerifyingKey::Bn254(vk) => Ok((Curve::Bn254, encode_verifying_key(&*vk))),
        AnyVerifyingKey::Bls12_381(vk) => Ok((Curve::Bls12_381, encode_verifying_key(&*vk))),
        _ => Err("a verifying key on a curve this client does not know".into()),
    }
}

/// A Groth16 statement from snarkjs `proof.json` and `public.json` files, under a registered
/// key.
pub fn groth16_statement(
    key_id: [u8; 32],
    proof_path: &Path,
    public_path: &Path,
) -> Result<Statement, PartnerError> {
    let proof_bytes = read(proof_path)?;
    let public_bytes = read(public_path)?;
    groth16_json(
        key_id,
        utf8(proof_path, &proof_bytes)?,
        utf8(public_path, &public_bytes)?,
    )
    .map_err(|e| PartnerError::Local {
        path: format!("{} / {}", proof_path.display(), public_path.display()),
        problem: e,
    })
}

/// A Groth16 statement from snarkjs `proof.json` and `public.json` texts.
pub fn groth16_json(key_id: [u8; 32], proof: &str, public: &str) -> Result<Statement, String> {
    let proof = snarkjs::parse_proof(proof).map_err(|e| e.to_string())?;
    let (curve, proof, public_inputs) = match proof {
        AnyProof::Bn254(proof) => (Curve::Bn254, encode_proof(&proof), inputs::<Bn254>(public)?),
        AnyProof::Bls12_381(proof) => (
            Curve::Bls12_381,
            encode_proof(&proof),
            inputs::<Bls12_381>(public)?,
        ),
        _ => return Err("a proof on a curve this client does not know".into()),
    };
    Ok(Statement::Groth16 {
        curve,
        key_id,
        proof,
        public_inputs,
    })
}

fn inputs<E: SupportedCurve>(text: &str) -> Result<Vec<[u8; 32]>, String> {
    let values =
        snarkjs::parse_public_inputs::<E>(text, &Limits::DEFAULT).map_err(|e| e.to_string())?;
    Ok(values.iter().map(encode_scalar::<E>).collect())
}

/// A BLS statement (Ethereum ciphersuite) from compressed public keys, messages and a
/// compressed signature: one key and one message is a single signature, several keys and one
/// message a fast aggregate, as many messages as keys an aggregate.
pub fn bls_statement(
    public_keys: Vec<[u8; 48]>,
    mut messages: Vec<Vec<u8>>,
    signature: [u8; 96],
) -> Result<Statement, String> {
    Ok(match (public_keys.len(), messages.len()) {
        (0, _) | (_, 0) => return Err("give at least one public key and one message".into()),
        (1, 1) => Statement::BlsSingle {
            public_key: public_keys[0],
            message: messages.pop().unwrap_or_default(),
            signature,
        },
        (_, 1) => Statement::BlsFastAggregate {
            public_keys,
            message: messages.pop().unwrap_or_default(),
            signature,
        },
        (k, m) if k == m => Statement::BlsAggregate {
            public_keys,
            messages,
            signature,
        },
        (k, m) => {
            return Err(format!(
                "{k} keys and {m} messages: give one message, or one message per key"
            ));
        }
    })
}

/// Parses a curve name as the CLI takes it.
pub fn parse_curve(text: &str) -> Result<Curve, String> {
    match text.parse::<EngineCurve>().map_err(|e| e.to_string())? {
        EngineCurve::Bn254 => Ok(Curve::Bn254),
        _ => Ok(Curve::Bls12_381),
    }
}

/// A curve's name as the CLI takes and prints it: `bn254` or `bls12-381`.
pub fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::Bn254 => "bn254",
        _ => "bls12-381",
    }
}

/// Decodes hex (with or without `0x`) into exactly `N` bytes.
pub fn hex_array<const N: usize>(what: &str, text: &str) -> Result<[u8; N], String> {
    let bytes = hex_bytes(what, text)?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{what}: expected {N} bytes, got {}", b.len()))
}

/// Decodes hex (with or without `0x`).
pub fn hex_bytes(what: &str, text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text.trim().trim_start_matches("0x")).map_err(|e| format!("{what}: not hex: {e}"))
}

fn read(path: &Path) -> Result<Vec<u8>, PartnerError> {
    let metadata = std::fs::metadata(path).map_err(|e| local(path, e))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(local(path, format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    std::fs::read(path).map_err(|e| local(path, e))
}

fn looks_like_json(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, PartnerError> {
    std::str::from_utf8(bytes).map_err(|_| local(path, "not UTF-8 text"))
}

fn local(path: &Path, problem: impl std::fmt::Display) -> PartnerError {
    PartnerError::Local {
        path: path.display().to_string(),
        problem: problem.to_string(),
    }
}
