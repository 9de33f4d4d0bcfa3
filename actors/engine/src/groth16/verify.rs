//! Single verification (arkworks' verifier) and batch verification by random linear combination
//! (the algorithm of bellman's batch verifier), with bisection of failed batches.

use ark_ec::pairing::PairingOutput;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{PrimeField, Zero};
use ark_groth16::{Groth16, Proof};
use rand_core::{CryptoRng, RngCore};

use super::decode::{SCALAR_BYTES, decode_proof, decode_public_inputs};
use super::{PreparedKey, SupportedCurve};
use crate::random::nonzero_u64;
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
    let refs: Vec<&Statement<E>> = statements.iter().collect();
    verify_batch_refs(key, &refs, rng)
}

/// Verifies a batch of references (lets callers batch statements they hold elsewhere).
pub fn verify_batch_refs<E: SupportedCurve, R: RngCore + CryptoRng>(
    key: &PreparedKey<E>,
    statements: &[&Statement<E>],
    rng: &mut R,
) -> Vec<Verdict> {
    let mut verdicts = vec![Verdict::Valid; statements.len()];
    settle(key, statements, &mut verdicts, rng);
    verdicts
}

fn settle<E: SupportedCurve, R: RngCore + CryptoRng>(
    key: &PreparedKey<E>,
    statements: &[&Statement<E>],
    out: &mut [Verdict],
    rng: &mut R,
) {
    match statements {
        [] => {}
        [one] => out[0] = verify_one(key, one),
        _ if batch_holds(key, statements, rng) => out.fill(Verdict::Valid),
        _ => {
            let mid = statements.len() / 2;
            let (left_out, right_out) = out.split_at_mut(mid);
            settle(key, &statements[..mid], left_out, rng);
            settle(key, &statements[mid..], right_out, rng);
        }
    }
}

/// Checks, for random non-zero 64-bit r_i,
///   sum_i r_i * [e(A_i, B_i) - e(alpha, beta) - e(L_i, gamma) - e(C_i, delta)] = 0
/// with one multi-Miller loop and one final exponentiation:
///   e(r_i A_i, B_i) for each i, e(R alpha, -beta), e(sum r_i L_i, -gamma), e(sum r_i C_i, -delta)
/// where R = sum r_i and sum r_i L_i is a single MSM over the key's input bases with coefficients
/// (R, sum_i r_i x_i1, ...). A batch with an invalid statement passes with probability <= 2^-64.
fn batch_holds<E: SupportedCurve, R: RngCore + CryptoRng>(
    key: &PreparedKey<E>,
    statements: &[&Statement<E>],
    rng: &mut R,
) -> bool {
    let vk = &key.prepared.vk;
    let mut input_coefficients = vec![E::ScalarField::zero(); vk.gamma_abc_g1.len()];
    let mut g1 = Vec::with_capacity(statements.len() + 3);
    let mut g2: Vec<E::G2Prepared> = Vec::with_capacity(statements.len() + 3);
    let mut c_sum = E::G1::zero();
    for statement in statements {
        let r = nonzero_u64(rng);
        let r_field = E::ScalarField::from(r);
        input_coefficients[0] += r_field;
        for (coefficient, input) in input_coefficients[1..].iter_mut().zip(&statement.inputs) {
            *coefficient += r_field * input;
        }
        g1.push(statement.proof.a.mul_bigint([r]));
        g2.push(statement.proof.b.into());
        c_sum += statement.proof.c.mul_bigint([r]);
    }
    let r_sum = input_coefficients[0];
    let inputs_sum =
        E::G1::msm(&vk.gamma_abc_g1, &input_coefficients).expect("one coefficient per input base");
    g1.push(vk.alpha_g1.mul_bigint(r_sum.into_bigint()));
    g1.push(inputs_sum);
    g1.push(c_sum);
    g2.push(key.neg_beta_g2.clone());
    g2.push(key.prepared.gamma_g2_neg_pc.clone());
    g2.push(key.prepared.delta_g2_neg_pc.clone());
    let g1_affine = E::G1::normalize_batch(&g1);
    let g1_prepared = g1_affine.into_iter().map(E::G1Prepared::from);
    match E::final_exponentiation(E::multi_miller_loop(g1_prepared, g2)) {
        Some(result) => result == PairingOutput::zero(),
        None => false,
    }
}
