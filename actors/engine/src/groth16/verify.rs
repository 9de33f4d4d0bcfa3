//! Single verification (arkworks' verifier) and batch verification by random linear combination
//! (the algorithm of bellman's batch verifier), step by step with bisection of failed batches.

use std::borrow::Borrow;
use std::marker::PhantomData;

use ark_ec::pairing::{MillerLoopOutput, PairingOutput};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{One, PrimeField, Zero};
use ark_groth16::{Groth16, Proof};
use rand_core::{CryptoRng, RngCore};

use super::decode::{SCALAR_BYTES, decode_proof, decode_public_inputs};
use super::{PreparedKey, SupportedCurve};
use crate::random::nonzero_u64;
use crate::stepwise::{BatchRun, BatchScheme};
use crate::{InvalidReason, Limits, Rejection, Verdict};

/// A decoded statement and proof, checked against its key's input count.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement<E: SupportedCurve> {
    /// The proof.
    pub proof: Proof<E>,
    /// The public inputs.
    pub inputs: Vec<E::ScalarField>,
}

impl<E: SupportedCurve> Statement<E> {
    /// Decodes a compressed proof and 32-byte public inputs for `key`.
    pub fn decode(
        key: &PreparedKey<E>,
        limits: &Limits,
        proof: &[u8],
        inputs: &[[u8; SCALAR_BYTES]],
    ) -> Result<Self, Rejection> {
        Self::new(
            key,
            decode_proof(proof)?,
            decode_public_inputs::<E>(limits, inputs)?,
        )
    }

    /// Pairs a decoded proof with inputs, checking the count the key expects.
    pub fn new(
        key: &PreparedKey<E>,
        proof: Proof<E>,
        inputs: Vec<E::ScalarField>,
    ) -> Result<Self, Rejection> {
        if inputs.len() != key.public_inputs() {
            return Err(Rejection::InputCountMismatch {
                expected: key.public_inputs(),
                actual: inputs.len(),
            });
        }
        Ok(Statement { proof, inputs })
    }
}

/// Verifies one statement.
pub fn verify_one<E: SupportedCurve>(key: &PreparedKey<E>, statement: &Statement<E>) -> Verdict {
    // The input count was checked when the statement was built, so arkworks cannot fail here.
    let holds = Groth16::<E>::verify_proof(&key.prepared, &statement.proof, &statement.inputs)
        .unwrap_or(false);
    Verdict::from_check(holds, InvalidReason::ProofMismatch)
}

/// Verifies many statements under one key, one verdict per statement in order. A batch that
/// fails is split in halves until each invalid statement is found, so one bad proof never costs
/// the others their `Valid`.
pub fn verify_batch<E: SupportedCurve, R: RngCore + CryptoRng>(
    key: &PreparedKey<E>,
    statements: &[Statement<E>],
    rng: &mut R,
) -> Vec<Verdict> {
    BatchRun::new(Groth16Scheme::new(key), statements.iter().collect()).finish(rng)
}

/// Something that holds a prepared key on curve `E`: a borrow, or a shared registry entry.
pub trait KeyHolder<E: SupportedCurve> {
    /// The key.
    fn prepared_key(&self) -> &PreparedKey<E>;
}

impl<E: SupportedCurve> KeyHolder<E> for &PreparedKey<E> {
    fn prepared_key(&self) -> &PreparedKey<E> {
        self
    }
}

/// Groth16 batch verification under one key (see [`BatchRun`]), with statements held as `T`
/// (owned or borrowed).
pub struct Groth16Scheme<E, K, T> {
    key: K,
    _types: PhantomData<(E, T)>,
}

impl<E: SupportedCurve, K: KeyHolder<E>, T: Borrow<Statement<E>>> Groth16Scheme<E, K, T> {
    /// The scheme for statements under `key`.
    pub fn new(key: K) -> Self {
        Groth16Scheme {
            key,
            _types: PhantomData,
        }
    }
}

/// A random linear combination of Groth16 equations, built up a chunk at a time (see
/// [`Groth16Scheme`]'s `holds`).
pub struct Groth16Check<E: SupportedCurve> {
    /// (R, sum_i r_i x_i1, ...): coefficients of the key's input bases.
    input_coefficients: Vec<E::ScalarField>,
    /// sum_i r_i C_i.
    c_sum: E::G1,
    /// prod_i of the Miller loops of (r_i A_i, B_i) absorbed so far.
    product: E::TargetField,
}

impl<E: SupportedCurve, K: KeyHolder<E>, T: Borrow<Statement<E>>> BatchScheme
    for Groth16Scheme<E, K, T>
{
    type Item = T;
    type Check = Groth16Check<E>;
    type Closing = E::TargetField;
    type Single = MillerLoopOutput<E>;
    const CHUNK: usize = 1;

    /// arkworks' verifier cut in two: the inputs' MSM and the multi-Miller loop of
    /// e(A, B) e(inputs, -gamma) e(C, -delta) ...
    fn begin_one(&self, item: &T) -> Result<MillerLoopOutput<E>, Verdict> {
        let key = &self.key.prepared_key().prepared;
        let statement = item.borrow();
        // The input count was checked when the statement was built, so this cannot fail.
        let inputs = Groth16::<E>::prepare_inputs(key, &statement.inputs)
            .map_err(|_| Verdict::Invalid(InvalidReason::ProofMismatch))?;
        Ok(E::multi_miller_loop(
            [
                <E::G1Affine as Into<E::G1Prepared>>::into(statement.proof.a),
                inputs.into_affine().into(),
                statement.proof.c.into(),
            ],
            [
                statement.proof.b.into(),
                key.gamma_g2_neg_pc.clone(),
                key.delta_g2_neg_pc.clone(),
            ],
        ))
    }

    /// ... then the final exponentiation, compared with e(alpha, beta).
    fn finish_one(&self, loops: MillerLoopOutput<E>) -> Verdict {
        let key = &self.key.prepared_key().prepared;
        let holds = E::final_exponentiation(loops).is_some_and(|t| t.0 == key.alpha_g1_beta_g2);
        Verdict::from_check(holds, InvalidReason::ProofMismatch)
    }

    fn begin(&self, _len: usize) -> Groth16Check<E> {
        let bases = self.key.prepared_key().prepared.vk.gamma_abc_g1.len();
        Groth16Check {
            input_coefficients: vec![E::ScalarField::zero(); bases],
            c_sum: E::G1::zero(),
            product: E::TargetField::one(),
        }
    }

    fn absorb<R: RngCore + CryptoRng>(
        &self,
        check: &mut Groth16Check<E>,
        items: &[T],
        rng: &mut R,
    ) {
        let mut g1 = Vec::with_capacity(items.len());
        let mut g2: Vec<E::G2Prepared> = Vec::with_capacity(items.len());
        for statement in items {
            let statement = statement.borrow();
            let r = nonzero_u64(rng);
            let r_field = E::ScalarField::from(r);
            check.input_coefficients[0] += r_field;
            for (coefficient, input) in check.input_coefficients[1..]
                .iter_mut()
                .zip(&statement.inputs)
            {
                *coefficient += r_field * input;
            }
            g1.push(statement.proof.a.mul_bigint([r]));
            g2.push(statement.proof.b.into());
            check.c_sum += statement.proof.c.mul_bigint([r]);
        }
        let g1 = E::G1::normalize_batch(&g1)
            .into_iter()
            .map(E::G1Prepared::from);
        check.product *= E::multi_miller_loop(g1, g2).0;
    }

    /// Checks, for the random non-zero 64-bit r_i,
    ///   sum_i r_i * [e(A_i, B_i) - e(alpha, beta) - e(L_i, gamma) - e(C_i, delta)] = 0
    /// (the algorithm of bellman's batch verifier): the absorbed product of e(r_i A_i, B_i)
    /// times the Miller loops of e(R alpha, -beta), e(sum r_i L_i, -gamma), e(sum r_i C_i, -delta),
    /// through one final exponentiation, where R = sum r_i and sum r_i L_i is a single MSM over
    /// the key's input bases. A batch with an invalid statement passes with probability <= 2^-64.
    fn close(&self, check: Groth16Check<E>) -> E::TargetField {
        let key = self.key.prepared_key();
        let vk = &key.prepared.vk;
        let r_sum = check.input_coefficients[0];
        let inputs_sum = E::G1::msm(&vk.gamma_abc_g1, &check.input_coefficients)
            .expect("one coefficient per input base");
        let g1 = E::G1::normalize_batch(&[
            vk.alpha_g1.mul_bigint(r_sum.into_bigint()),
            inputs_sum,
            check.c_sum,
        ]);
        let g2 = [
            key.neg_beta_g2.clone(),
            key.prepared.gamma_g2_neg_pc.clone(),
            key.prepared.delta_g2_neg_pc.clone(),
        ];
        let fixed = E::multi_miller_loop(g1.into_iter().map(E::G1Prepared::from), g2);
        check.product * fixed.0
    }

    fn holds(&self, closing: E::TargetField) -> bool {
        match E::final_exponentiation(MillerLoopOutput(closing)) {
            Some(result) => result == PairingOutput::zero(),
            None => false,
        }
    }
}
