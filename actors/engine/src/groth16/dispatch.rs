//! Verification from wire bytes on whichever curve a key is for.

use std::marker::PhantomData;
use std::sync::Arc;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use rand_core::{CryptoRng, RngCore};

use super::decode::SCALAR_BYTES;
use super::verify::{Groth16Scheme, KeyHolder};
use super::{AnyKey, Curve, PreparedKey, Statement, SupportedCurve, verify_one};
use crate::stepwise::{DecodeThenVerify, Decoder, Decoding};
use crate::work::{Allowance, GROTH16_DECODE_BLS12_381, GROTH16_DECODE_BN254};
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
        let encoded = statements.to_vec();
        match self {
            AnyKey::Bn254(key) => curve_run(&**key, limits, encoded).finish(rng),
            AnyKey::Bls12_381(key) => curve_run(&**key, limits, encoded).finish(rng),
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

/// A shared registry key known to be on curve `E`.
pub struct SharedKey<E> {
    key: Arc<AnyKey>,
    _curve: PhantomData<E>,
}

impl<E> Clone for SharedKey<E> {
    fn clone(&self) -> Self {
        SharedKey {
            key: self.key.clone(),
            _curve: PhantomData,
        }
    }
}

impl<E: SupportedCurve> KeyHolder<E> for SharedKey<E> {
    fn prepared_key(&self) -> &PreparedKey<E> {
        E::key_of(&self.key).expect("a SharedKey is only built for its key's curve")
    }
}

/// Decodes and batch-verifies statements under a shared key a step at a time (see
/// [`crate::BatchRun`]), on whichever curve the key is for: malformed statements are `Rejected`
/// and left out of the batch.
pub enum Groth16Run<'a> {
    /// Under a BN254 key.
    Bn254(Box<CurveRun<'a, Bn254, SharedKey<Bn254>>>),
    /// Under a BLS12-381 key.
    Bls12_381(Box<CurveRun<'a, Bls12_381, SharedKey<Bls12_381>>>),
}

impl<'a> Groth16Run<'a> {
    /// A run over `statements` under `key`; nothing is decoded until the first step.
    pub fn new(key: Arc<AnyKey>, limits: &Limits, statements: Vec<EncodedStatement<'a>>) -> Self {
        fn shared<E>(key: Arc<AnyKey>) -> SharedKey<E> {
            SharedKey {
                key,
                _curve: PhantomData,
            }
        }
        match key.curve() {
            Curve::Bn254 => Groth16Run::Bn254(Box::new(curve_run(shared(key), limits, statements))),
            Curve::Bls12_381 => {
                Groth16Run::Bls12_381(Box::new(curve_run(shared(key), limits, statements)))
            }
        }
    }

    /// Does one bounded piece of work; false once every statement has its verdict.
    pub fn step<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> bool {
        match self {
            Groth16Run::Bn254(run) => run.step(rng),
            Groth16Run::Bls12_381(run) => run.step(rng),
        }
    }

    /// The verdicts, one per statement in order, once [`Groth16Run::step`] has returned false.
    pub fn into_verdicts(self) -> Vec<Verdict> {
        match self {
            Groth16Run::Bn254(run) => run.into_verdicts(),
            Groth16Run::Bls12_381(run) => run.into_verdicts(),
        }
    }
}

/// Decodes Groth16 statements for one key.
pub struct Groth16Decoder<E, K> {
    key: K,
    limits: Limits,
    _curve: PhantomData<E>,
}

impl<'a, E: SupportedCurve, K: KeyHolder<E>> Decoder<EncodedStatement<'a>>
    for Groth16Decoder<E, K>
{
    type Item = Statement<E>;
    type Partial = ();

    /// A proof is decoded whole: three points, a fraction of a step.
    fn decode(
        &self,
        encoded: &EncodedStatement<'a>,
        _partial: Option<()>,
        allowance: &mut Allowance,
    ) -> Decoding<Statement<E>, ()> {
        let units = match E::CURVE {
            Curve::Bn254 => GROTH16_DECODE_BN254,
            Curve::Bls12_381 => GROTH16_DECODE_BLS12_381,
        };
        if !allowance.take(units) {
            return Decoding::Paused(());
        }
        Decoding::Done(
            Statement::decode(
                self.key.prepared_key(),
                &self.limits,
                encoded.proof,
                encoded.inputs,
            )
            .map_err(Verdict::Rejected),
        )
    }
}

/// Decoding then batch verification on one curve.
pub type CurveRun<'a, E, K> =
    DecodeThenVerify<EncodedStatement<'a>, Groth16Scheme<E, K, Statement<E>>, Groth16Decoder<E, K>>;

fn curve_run<'a, E: SupportedCurve, K: KeyHolder<E> + Clone>(
    key: K,
    limits: &Limits,
    encoded: Vec<EncodedStatement<'a>>,
) -> CurveRun<'a, E, K> {
    let decoder = Groth16Decoder {
        key: key.clone(),
        limits: *limits,
        _curve: PhantomData,
    };
    DecodeThenVerify::new(Groth16Scheme::new(key), decoder, encoded)
}
