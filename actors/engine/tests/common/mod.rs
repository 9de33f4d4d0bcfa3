//! Loading the snarkjs Groth16 fixtures (tests/fixtures/groth16), shared by tests and benches.

#![allow(dead_code)] // each user takes a different subset

use std::fs;
use std::path::PathBuf;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_groth16::{Proof, VerifyingKey};
use tf_engine::Limits;
use tf_engine::groth16::snarkjs::{self, AnyProof, AnyVerifyingKey};
use tf_engine::groth16::{PreparedKey, Statement, SupportedCurve};

pub const FIXTURE_PROOFS: usize = 4;

pub fn fixture(curve_dir: &str, name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/groth16")
        .join(curve_dir)
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub struct Fixtures<E: SupportedCurve> {
    pub key: PreparedKey<E>,
    pub statements: Vec<Statement<E>>,
}

pub trait FromAny: SupportedCurve {
    const DIR: &'static str;
    fn key(any: AnyVerifyingKey) -> VerifyingKey<Self>;
    fn proof(any: AnyProof) -> Proof<Self>;
}

impl FromAny for Bn254 {
    const DIR: &'static str = "bn128";
    fn key(any: AnyVerifyingKey) -> VerifyingKey<Self> {
        match any {
            AnyVerifyingKey::Bn254(k) => *k,
            other => panic!("expected a bn254 key, got {other:?}"),
        }
    }
    fn proof(any: AnyProof) -> Proof<Self> {
        match any {
            AnyProof::Bn254(p) => p,
            other => panic!("expected a bn254 proof, got {other:?}"),
        }
    }
}

impl FromAny for Bls12_381 {
    const DIR: &'static str = "bls12381";
    fn key(any: AnyVerifyingKey) -> VerifyingKey<Self> {
        match any {
            AnyVerifyingKey::Bls12_381(k) => *k,
            other => panic!("expected a bls12-381 key, got {other:?}"),
        }
    }
    fn proof(any: AnyProof) -> Proof<Self> {
        match any {
            AnyProof::Bls12_381(p) => p,
            other => panic!("expected a bls12-381 proof, got {other:?}"),
        }
    }
}

pub fn load<E: FromAny>() -> Fixtures<E> {
    let limits = Limits::DEFAULT;
    let vk = E::key(
        snarkjs::parse_verifying_key(&fixture(E::DIR, "verification_key.json"), &limits)
            .expect("fixture key parses"),
    );
    let key = PreparedKey::new(&limits, vk).expect("fixture key prepares");
    let statements = (0..FIXTURE_PROOFS)
        .map(|i| {
            let proof = E::proof(
                snarkjs::parse_proof(&fixture(E::DIR, &format!("proof_{i}.json"))).expect("proof"),
            );
            let inputs = snarkjs::parse_public_inputs::<E>(
                &fixture(E::DIR, &format!("public_{i}.json")),
                &limits,
            )
            .expect("public inputs");
            Statement::new(&key, proof, inputs).expect("input count matches")
        })
        .collect();
    Fixtures { key, statements }
}

/// `n` distinct valid proofs: re-randomised copies of the fixture proofs (same statements, new
/// proof bytes), for batches larger than the fixture set.
pub fn rerandomized<E: FromAny, R: rand_core::RngCore>(
    fixtures: &Fixtures<E>,
    n: usize,
    rng: &mut R,
) -> Vec<Statement<E>> {
    (0..n)
        .map(|i| {
            let s = &fixtures.statements[i % FIXTURE_PROOFS];
            let proof = ark_groth16::Groth16::<E>::rerandomize_proof(
                fixtures.key.verifying_key(),
                &s.proof,
                rng,
            );
            Statement::new(&fixtures.key, proof, s.inputs.clone()).expect("input count")
        })
        .collect()
}

/// `n` BLS signatures by distinct keys over distinct 32-byte messages.
pub fn bls_signed(
    n: u32,
) -> Vec<(
    tf_engine::bls::Signature,
    tf_engine::bls::PublicKey,
    Vec<u8>,
)> {
    (0..n)
        .map(|i| {
            let mut secret = [0u8; 32];
            secret[0] = 0x11;
            secret[28..].copy_from_slice(&(i + 1).to_be_bytes());
            let message = u64::from(i).to_le_bytes().repeat(4);
            let (sig, pk) = tf_engine::bls::sign(&secret, &message).expect("valid secret key");
            (sig, pk, message)
        })
        .collect()
}
