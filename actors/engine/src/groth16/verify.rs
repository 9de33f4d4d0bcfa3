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
use crate::work::{Allowance, GROTH16_INPUT_BLS12_381, GROTH16_INPUT_BN254, Op, STEP, record};
use crate::{InvalidReason, Limits, Rejection, Verdict};

/// Most work a proof's inputs may take for it to be verified on its own in one step: with
/// the fixed Miller loops that is at most about 1.2 steps (a BLS12-381 proof with 4 inputs).
/// A proof with more inputs is verified as a check over one item, its inputs' multi-scalar
/// multiplication spread over steps.
const ONE_INPUTS_WORK: u32 = STEP * 3 / 5;

/// What one public input adds (a scalar multiplication of its base), in work units.
fn input_work(curve: super::Curve) -> u32 {
    match curve {
        super::Curve::Bn254 => GROTH16_INPUT_BN254,
        super::Curve::Bls12_381 => GROTH16_INPUT_BLS12_381,
    }
}

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
    /// sum_i r_i L_i over the input bases done so far (see `prepare_close`), and how many.
    inputs_sum: E::G1,
    bases_done: usize,
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

    /// A proof's own verification is one multi-scalar multiplication over its inputs besides
    /// fixed pairings: it is verified alone when that part takes at most [`ONE_INPUTS_WORK`].
    fn one_fits(&self, _item: &T) -> bool {
        let key = self.key.prepared_key();
        key.public_inputs() as u32 * input_work(E::CURVE) <= ONE_INPUTS_WORK
    }

    /// The batch's multi-scalar multiplication over the key's input bases, as many bases per
    /// step as the allowance holds (at least one).
    fn prepare_close(&self, check: &mut Groth16Check<E>, allowance: &mut Allowance) -> bool {
        let bases = &self.key.prepared_key().prepared.vk.gamma_abc_g1;
        if check.bases_done == bases.len() {
            return true;
        }
        let per_base = input_work(E::CURVE);
        let fit = (allowance.left() / per_base).max(1) as usize;
        let end = (check.bases_done + fit).min(bases.len());
        let _ = allowance.take(per_base * (end - check.bases_done) as u32);
        let range = check.bases_done..end;
        record(Op::InputBases {
            bases: range.len() as u32,
            per_base,
        });
        check.inputs_sum += E::G1::msm(&bases[range.clone()], &check.input_coefficients[range])
            .expect("one coefficient per input base");
        check.bases_done = end;
        false
    }

    /// arkworks' verifier cut in two: the inputs' MSM and the multi-Miller loop of
    /// e(A, B) e(inputs, -gamma) e(C, -delta) ...
    fn begin_one(&self, item: &T) -> Result<MillerLoopOutput<E>, Verdict> {
        let key = &self.key.prepared_key().prepared;
        let statement = item.borrow();
        record(Op::InputBases {
            bases: key.vk.gamma_abc_g1.len() as u32,
            per_base: input_work(E::CURVE),
        });
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
            inputs_sum: E::G1::zero(),
            bases_done: 0,
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
        // Every base was done in `prepare_close` (BatchRun calls it until it says so).
        let inputs_sum = check.inputs_sum
            + E::G1::msm(
                &vk.gamma_abc_g1[check.bases_done..],
                &check.input_coefficients[check.bases_done..],
            )
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

#[cfg(test)]
mod tests {
    use ark_bn254::{Bn254, Fr};
    use ark_groth16::Groth16;
    use ark_relations::r1cs::{
        ConstraintSynthesizer, ConstraintSystemRef, SynthesisError, Variable,
    };
    use ark_snark::SNARK;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::work::meter;

    /// `inputs` public inputs, each constrained to equal itself times one.
    struct ManyInputs {
        inputs: Vec<Fr>,
    }

    impl ConstraintSynthesizer<Fr> for ManyInputs {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            for value in self.inputs {
                let input = cs.new_input_variable(|| Ok(value))?;
                cs.enforce_constraint(input.into(), Variable::One.into(), input.into())?;
            }
            Ok(())
        }
    }

    #[test]
    fn no_step_over_a_proof_with_many_inputs_multiplies_more_bases_than_a_step_holds() {
        const INPUTS: usize = 40;
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let circuit = |seed: u64| ManyInputs {
            inputs: (0..INPUTS as u64)
                .map(|i| Fr::from(seed * 100 + i))
                .collect(),
        };
        let (pk, vk) =
            Groth16::<Bn254>::circuit_specific_setup(circuit(0), &mut rng).expect("setup");
        let key = PreparedKey::new(&Limits::DEFAULT, vk).expect("a valid key");
        let mut statements: Vec<Statement<Bn254>> = (1..=5)
            .map(|seed| {
                let proof = Groth16::<Bn254>::prove(&pk, circuit(seed), &mut rng).expect("proves");
                Statement::new(&key, proof, circuit(seed).inputs).expect("input count")
            })
            .collect();
        // One proof under the wrong inputs: the batch fails and is bisected down to it.
        statements[3].inputs[7] += Fr::from(1u64);
        let scheme = Groth16Scheme::<Bn254, _, &Statement<Bn254>>::new(&key);
        assert!(
            !scheme.one_fits(&&statements[0]),
            "40 inputs are more than a step"
        );

        let mut run = BatchRun::new(scheme, statements.iter().collect());
        let _ = meter::take();
        let mut steps = 0;
        while run.step(&mut rng) {
            let (ops, units) = meter::take();
            assert!(
                units <= STEP,
                "a step multiplied {units} units of bases: {ops:?}"
            );
            steps += 1;
        }
        let (ops, units) = meter::take();
        assert!(units <= STEP, "the last step: {units} units: {ops:?}");
        assert!(steps > 6, "the closing was spread over steps ({steps})");
        let verdicts = run.into_verdicts();
        let expected: Vec<Verdict> = statements.iter().map(|s| verify_one(&key, s)).collect();
        assert_eq!(verdicts, expected);
        assert_eq!(verdicts[3], Verdict::Invalid(InvalidReason::ProofMismatch));
        assert!(verdicts.iter().filter(|v| **v == Verdict::Valid).count() == 4);
    }
}
