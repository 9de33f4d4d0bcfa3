//! arkworks as a Groth16 [`Backend`]: the verifier on BN254, and the cross-check of blst on
//! BLS12-381.

use std::ops::Range;

use ark_ec::pairing::{MillerLoopOutput, PairingOutput};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{One, PrimeField, Zero};
use ark_groth16::VerifyingKey;

use super::verify::{Backend, keep_bytes};
use super::{PreparedKey, Statement, SupportedCurve};

/// arkworks' pairing and multi-scalar multiplication, on either curve.
#[derive(Clone, Copy, Debug)]
pub struct Arkworks;

/// A batch check's curve part, in arkworks' types.
pub struct ArkPoints<E: SupportedCurve> {
    /// sum_i r_i L_i over the input bases done so far.
    inputs_sum: E::G1,
    /// sum_i r_i C_i.
    c_sum: E::G1,
    /// prod_i of the Miller loops of (r_i A_i, B_i).
    product: E::TargetField,
}

impl<E: SupportedCurve> Backend<E> for Arkworks {
    /// Nothing: every key keeps arkworks' prepared key and `-beta` prepared.
    type Prepared = ();
    type Points = ArkPoints<E>;
    type Loops = MillerLoopOutput<E>;
    /// IC_0 plus the inputs added so far.
    type InputSum = E::G1;
    /// One proof per step: its G1 multiplications and a one-pair Miller loop.
    const CHUNK: usize = 1;

    fn prepare(_key: &VerifyingKey<E>) {}

    fn single_start(key: &PreparedKey<E>) -> E::G1 {
        key.prepared.vk.gamma_abc_g1[0].into_group()
    }

    /// A Pippenger multiplication, as the batch check's. arkworks' own `prepare_inputs`
    /// multiplies each base on its own: with full-size inputs that was 1.7x the work at 4
    /// inputs and 3.8x at 64 on BN254, and it was about as fast only for inputs of a few bits.
    /// A piece of the bytes costs its share, because arkworks skips the all-zero windows.
    fn single_inputs(
        key: &PreparedKey<E>,
        sum: &mut E::G1,
        statement: &Statement<E>,
        bytes: Range<usize>,
    ) {
        let scalars: Vec<_> = statement
            .inputs
            .iter()
            .map(|input| {
                let mut scalar = input.into_bigint();
                keep_bytes(scalar.as_mut(), &bytes);
                scalar
            })
            .collect();
        *sum += E::G1::msm_bigint(&key.prepared.vk.gamma_abc_g1[1..], &scalars);
    }

    fn single_loops(
        key: &PreparedKey<E>,
        statement: &Statement<E>,
        inputs: E::G1,
    ) -> MillerLoopOutput<E> {
        let key = &key.prepared;
        E::multi_miller_loop(
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
        )
    }

    fn single_holds(key: &PreparedKey<E>, loops: MillerLoopOutput<E>) -> bool {
        E::final_exponentiation(loops).is_some_and(|t| t.0 == key.prepared.alpha_g1_beta_g2)
    }

    fn start(_key: &PreparedKey<E>, _len: usize) -> ArkPoints<E> {
        ArkPoints {
            inputs_sum: E::G1::zero(),
            c_sum: E::G1::zero(),
            product: E::TargetField::one(),
        }
    }

    fn absorb(_key: &PreparedKey<E>, points: &mut ArkPoints<E>, items: &[(&Statement<E>, u64)]) {
        let mut g1 = Vec::with_capacity(items.len());
        let mut g2: Vec<E::G2Prepared> = Vec::with_capacity(items.len());
        for (statement, r) in items {
            g1.push(statement.proof.a.mul_bigint([*r]));
            g2.push(statement.proof.b.into());
            points.c_sum += statement.proof.c.mul_bigint([*r]);
        }
        let g1 = E::G1::normalize_batch(&g1)
            .into_iter()
            .map(E::G1Prepared::from);
        points.product *= E::multi_miller_loop(g1, g2).0;
    }

    fn add_inputs(
        key: &PreparedKey<E>,
        points: &mut ArkPoints<E>,
        bases: Range<usize>,
        coefficients: &[E::ScalarField],
    ) {
        points.inputs_sum += E::G1::msm(&key.prepared.vk.gamma_abc_g1[bases], coefficients)
            .expect("one coefficient per input base");
    }

    fn close(
        key: &PreparedKey<E>,
        points: ArkPoints<E>,
        r_sum: &E::ScalarField,
    ) -> MillerLoopOutput<E> {
        let g1 = E::G1::normalize_batch(&[
            key.prepared.vk.alpha_g1.mul_bigint(r_sum.into_bigint()),
            points.inputs_sum,
            points.c_sum,
        ]);
        let g2 = [
            key.neg_beta_g2.clone(),
            key.prepared.gamma_g2_neg_pc.clone(),
            key.prepared.delta_g2_neg_pc.clone(),
        ];
        let fixed = E::multi_miller_loop(g1.into_iter().map(E::G1Prepared::from), g2);
        MillerLoopOutput(points.product * fixed.0)
    }

    fn check_holds(loops: MillerLoopOutput<E>) -> bool {
        E::final_exponentiation(loops).is_some_and(|result| result == PairingOutput::zero())
    }
}
