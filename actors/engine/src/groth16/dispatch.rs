//! Verification from wire bytes on whichever curve a key is for.

use rand_core::{CryptoRng, RngCore};

use super::decode::SCALAR_BYTES;
use super::{AnyKey, PreparedKey, Statement, SupportedCurve, verify_batch_refs, verify_one};
use crate::{Limits, Verdict};

/// A statement as it arrives: compressed proof bytes and 32-byte little-endian public inputs.
#[derive(Clone, Copy, Debug)]
pub struct EncodedStatement<'a> {
    /// arkworks canonical compressed proof.
    pub proof: &'a [u8],
    /// Public inputs.
    pub inputs: &'a [[u8; SCALAR_BYTES]],
}

impl AnyKey {
    /// Decodes and verifies one statement.
    pub fn verify_encoded(&self, limits: &Limits, statement: EncodedStatement<'_>) -> Verdict {
        match self {
            AnyKey::Bn254(key) => decode_and_verify(key, limits, statement),
            AnyKey::Bls12_381(key) => decode_and_verify(key, limits, statement),
        }
    }

    /// Decodes and batch-verifies statements, one verdict each in order: malformed ones are
    /// `Rejected`, the rest verified together.
    pub fn verify_batch_encoded<R: RngCore + CryptoRng>(
        &self,
        limits: &Limits,
        statements: &[EncodedStatement<'_>],
        rng: &mut R,
    ) -> Vec<Verdict> {
        match self {
            AnyKey::Bn254(key) => decode_and_verify_batch(key, limits, statements, rng),
            AnyKey::Bls12_381(key) => decode_and_verify_batch(key, limits, statements, rng),
        }
    }
}

fn decode_and_verify<E: SupportedCurve>(
    key: &PreparedKey<E>,
    limits: &Limits,
    encoded: EncodedStatement<'_>,
) -> Verdict {
    match Statement::decode(key, limits, encoded.proof, encoded.inputs) {
        Ok(statement) => verify_one(key, &statement),
        Err(rejection) => Verdict::Rejected(rejection),
    }
}

fn decode_and_verify_batch<E: SupportedCurve, R: RngCore + CryptoRng>(
    key: &PreparedKey<E>,
    limits: &Limits,
    encoded: &[EncodedStatement<'_>],
    rng: &mut R,
) -> Vec<Verdict> {
    let decoded: Vec<Result<Statement<E>, Verdict>> = encoded
        .iter()
        .map(|s| Statement::decode(key, limits, s.proof, s.inputs).map_err(Verdict::Rejected))
        .collect();
    let well_formed: Vec<&Statement<E>> = decoded.iter().filter_map(|d| d.as_ref().ok()).collect();
    let mut verdicts = verify_batch_refs(key, &well_formed, rng).into_iter();
    decoded
        .iter()
        .map(|d| match d {
            Ok(_) => verdicts
                .next()
                .expect("one verdict per well-formed statement"),
            Err(rejected) => *rejected,
        })
        .collect()
}
