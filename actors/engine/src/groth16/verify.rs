//! Single and batch verification by random linear combination (the algorithm of bellman's batch
//! verifier), step by step with bisection of failed batches, over whichever [`Backend`] does the
//! curve arithmetic.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use ark_ff::Zero;
use ark_groth16::{Proof, VerifyingKey};
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

/// Verifies one statement with the curve's verifier ([`SupportedCurve::Verifier`]).
pub fn verify_one<E: SupportedCurve>(key: &PreparedKey<E>, statement: &Statement<E>) -> Verdict {
    verify_one_with::<E, E::Verifier>(key, statement)
}

/// Verifies one statement with backend `B` (tests and benchmarks compare backends with it).
pub fn verify_one_with<E: SupportedCurve, B: Backend<E>>(
    key: &PreparedKey<E>,
    statement: &Statement<E>,
) -> Verdict {
    let scheme = Groth16Scheme::<E, _, &Statement<E>, B>::new(key);
    match scheme.begin_one(&statement) {
        Ok(loops) => scheme.finish_one(loops),
        Err(verdict) => verdict,
    }
}

/// Verifies many statements under one key, one verdict per statement in order. A batch that
/// fails is split in halves until each invalid statement is found, so one bad proof never costs
/// the others their `Valid`.
pub fn verify_batch<E: SupportedCurve, R: RngCore + CryptoRng>(
    key: &PreparedKey<E>,
    statements: &[Statement<E>],
    rng: &mut R,
) -> Vec<Verdict> {
    verify_batch_with::<E, E::Verifier, R>(key, statements, rng)
}

/// [`verify_batch`] with backend `B`.
pub fn verify_batch_with<E: SupportedCurve, B: Backend<E>, R: RngCore + CryptoRng>(
    key: &PreparedKey<E>,
    statements: &[Statement<E>],
    rng: &mut R,
) -> Vec<Verdict> {
    let scheme = Groth16Scheme::<E, _, &Statement<E>, B>::new(key);
    BatchRun::new(scheme, statements.iter().collect()).finish(rng)
}

/// The curve arithmetic behind Groth16 verification: [`super::Arkworks`] on every curve,
/// [`super::Blst`] on BLS12-381. What is checked, the random scalars and the bisection are the
/// same whichever does it ([`Groth16Scheme`]), so two backends give the same verdicts.
pub trait Backend<E: SupportedCurve>: Sized {
    /// What this backend keeps with a prepared key when it is the curve's verifier (besides
    /// arkworks' prepared key, which every key keeps).
    type Prepared: Clone + fmt::Debug + Send + Sync;
    /// A batch check's curve part: the absorbed Miller loops and the G1 sums built so far.
    type Points;
    /// Miller loops done, waiting for the final exponentiation.
    type Loops;
    /// Statements absorbed per batch step (see [`BatchScheme::CHUNK`]).
    const CHUNK: usize;

    /// Prepares a key that was checked (no point at infinity among alpha, beta, gamma, delta).
    fn prepare(key: &VerifyingKey<E>) -> Self::Prepared;
    /// One statement with the right input count: L = IC_0 + sum_j x_j IC_j, and the Miller
    /// loops of e(A, B) e(L, -gamma) e(C, -delta).
    fn single_loops(key: &PreparedKey<E>, statement: &Statement<E>) -> Self::Loops;
    /// Whether the final exponentiation of `loops` is e(alpha, beta).
    fn single_holds(key: &PreparedKey<E>, loops: Self::Loops) -> bool;
    /// An empty check for up to `len` statements.
    fn start(key: &PreparedKey<E>, len: usize) -> Self::Points;
    /// Adds the Miller loops of e(r_i A_i, B_i) and r_i C_i for each statement and its scalar.
    fn absorb(key: &PreparedKey<E>, points: &mut Self::Points, items: &[(&Statement<E>, u64)]);
    /// Adds sum_j c_j IC_j over `bases` of the key's input bases (`coefficients` are theirs).
    fn add_inputs(
        key: &PreparedKey<E>,
        points: &mut Self::Points,
        bases: Range<usize>,
        coefficients: &[E::ScalarField],
    );
    /// The absorbed loops times those of e(R alpha, -beta) e(sum r_i L_i, -gamma)
    /// e(sum r_i C_i, -delta), with R = `r_sum`.
    fn close(key: &PreparedKey<E>, points: Self::Points, r_sum: &E::ScalarField) -> Self::Loops;
    /// Whether the final exponentiation of `loops` is one.
    fn check_holds(loops: Self::Loops) -> bool;
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
/// (owned or borrowed), the curve arithmetic done by `B`.
pub struct Groth16Scheme<E, K, T, B = <E as SupportedCurve>::Verifier> {
    key: K,
    _types: PhantomData<(E, T, B)>,
}

impl<E: SupportedCurve, K: KeyHolder<E>, T: Borrow<Statement<E>>, B: Backend<E>>
    Groth16Scheme<E, K, T, B>
{
    /// The scheme for statements under `key`.
    pub fn new(key: K) -> Self {
        Groth16Scheme {
            key,
            _types: PhantomData,
        }
    }
}

/// A random linear combination of Groth16 equations, built up a chunk at a time (see
/// [`Groth16Scheme`]'s `close`).
pub struct Groth16Check<E: SupportedCurve, B: Backend<E> = <E as SupportedCurve>::Verifier> {
    /// (R, sum_i r_i x_i1, ...): coefficients of the key's input bases.
    input_coefficients: Vec<E::ScalarField>,
    /// How many input bases are in `points` already (see `prepare_close`).
    bases_done: usize,
    points: B::Points,
}

impl<E: SupportedCurve, K: KeyHolder<E>, T: Borrow<Statement<E>>, B: Backend<E>> BatchScheme
    for Groth16Scheme<E, K, T, B>
{
    type Item = T;
    type Check = Groth16Check<E, B>;
    type Closing = B::Loops;
    type Single = B::Loops;
    const CHUNK: usize = B::CHUNK;

    /// A proof's own verification is one multi-scalar multiplication over its inputs besides
    /// fixed pairings: it is verified alone when that part takes at most [`ONE_INPUTS_WORK`].
    fn one_fits(&self, _item: &T) -> bool {
        let key = self.key.prepared_key();
        key.public_inputs() as u32 * input_work(E::CURVE) <= ONE_INPUTS_WORK
    }

    /// The batch's multi-scalar multiplication over the key's input bases, as many bases per
    /// step as the allowance holds (at least one).
    fn prepare_close(&self, check: &mut Groth16Check<E, B>, allowance: &mut Allowance) -> bool {
        let key = self.key.prepared_key();
        let bases = key.public_inputs() + 1;
        if check.bases_done == bases {
            return true;
        }
        let per_base = input_work(E::CURVE);
        let fit = (allowance.left() / per_base).max(1) as usize;
        let end = (check.bases_done + fit).min(bases);
        let _ = allowance.take(per_base * (end - check.bases_done) as u32);
        let range = check.bases_done..end;
        record(Op::InputBases {
            bases: range.len() as u32,
            per_base,
        });
        B::add_inputs(
            key,
            &mut check.points,
            range.clone(),
            &check.input_coefficients[range],
        );
        check.bases_done = end;
        false
    }

    /// The verifier cut in two: the inputs' MSM and the multi-Miller loop of
    /// e(A, B) e(inputs, -gamma) e(C, -delta) ...
    fn begin_one(&self, item: &T) -> Result<B::Loops, Verdict> {
        let key = self.key.prepared_key();
        let statement = item.borrow();
        // `Statement`'s fields are public, so its input count is checked again here.
        if statement.inputs.len() != key.public_inputs() {
            return Err(Verdict::Invalid(InvalidReason::ProofMismatch));
        }
        record(Op::InputBases {
            bases: key.public_inputs() as u32 + 1,
            per_base: input_work(E::CURVE),
        });
        Ok(B::single_loops(key, statement))
    }

    /// ... then the final exponentiation, compared with e(alpha, beta).
    fn finish_one(&self, loops: B::Loops) -> Verdict {
        let holds = B::single_holds(self.key.prepared_key(), loops);
        Verdict::from_check(holds, InvalidReason::ProofMismatch)
    }

    fn begin(&self, len: usize) -> Groth16Check<E, B> {
        let key = self.key.prepared_key();
        Groth16Check {
            input_coefficients: vec![E::ScalarField::zero(); key.public_inputs() + 1],
            bases_done: 0,
            points: B::start(key, len),
        }
    }

    fn absorb<R: RngCore + CryptoRng>(
        &self,
        check: &mut Groth16Check<E, B>,
        items: &[T],
        rng: &mut R,
    ) {
        let mut weighted = Vec::with_capacity(items.len());
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
            weighted.push((statement, r));
        }
        B::absorb(self.key.prepared_key(), &mut check.points, &weighted);
    }

    /// Checks, for the random non-zero 64-bit r_i,
    ///   sum_i r_i * [e(A_i, B_i) - e(alpha, beta) - e(L_i, gamma) - e(C_i, delta)] = 0
    /// (the algorithm of bellman's batch verifier): the absorbed product of e(r_i A_i, B_i)
    /// times the Miller loops of e(R alpha, -beta), e(sum r_i L_i, -gamma), e(sum r_i C_i, -delta),
    /// through one final exponentiation, where R = sum r_i and sum r_i L_i is a single MSM over
    /// the key's input bases. A batch with an invalid statement passes with probability <= 2^-64.
    fn close(&self, mut check: Groth16Check<E, B>) -> B::Loops {
        let key = self.key.prepared_key();
        // Every base was done in `prepare_close` (BatchRun calls it until it says so).
        let bases = check.bases_done..key.public_inputs() + 1;
        if !bases.is_empty() {
            B::add_inputs(
                key,
                &mut check.points,
                bases.clone(),
                &check.input_coefficients[bases],
            );
        }
        B::close(key, check.points, &check.input_coefficients[0])
    }

    fn holds(&self, closing: B::Loops) -> bool {
        B::check_holds(closing)
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
    use crate::groth16::Arkworks;
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
        let scheme = Groth16Scheme::<Bn254, _, &Statement<Bn254>, Arkworks>::new(&key);
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
