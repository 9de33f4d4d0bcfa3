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

/// Most input work done in the step that runs a single verification's Miller loops: with
/// them that step is at most about 1.2 steps. A proof with more inputs has its inputs'
/// multi-scalar multiplication done in the steps before.
const ONE_INPUTS_WORK: u32 = STEP * 3 / 5;

/// What one public input adds (a scalar multiplication of its base), in work units.
fn input_work(curve: super::Curve) -> u32 {
    match curve {
        super::Curve::Bn254 => GROTH16_INPUT_BN254,
        super::Curve::Bls12_381 => GROTH16_INPUT_BLS12_381,
    }
}

/// Keeps the little-endian bytes `bytes` of a scalar's 64-bit limbs and zeroes the rest.
pub(super) fn keep_bytes(limbs: &mut [u64], bytes: &Range<usize>) {
    for (i, limb) in limbs.iter_mut().enumerate() {
        let low = bytes.start.clamp(8 * i, 8 * i + 8) - 8 * i;
        let high = bytes.end.clamp(8 * i, 8 * i + 8) - 8 * i;
        let width = high - low;
        let kept = if width == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * width)) - 1
        };
        *limb &= kept.checked_shl(8 * low as u32).unwrap_or(0);
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

/// Verifies one statement with backend `B` (tests and benchmarks compare backends with it):
/// what a [`BatchRun`] does for a lone statement, in one call.
pub fn verify_one_with<E: SupportedCurve, B: Backend<E>>(
    key: &PreparedKey<E>,
    statement: &Statement<E>,
) -> Verdict {
    let scheme = Groth16Scheme::<E, _, &Statement<E>, B>::new(key);
    let mut preparing = match scheme.start_one(&statement) {
        Ok(preparing) => preparing,
        Err(verdict) => return verdict,
    };
    // One piece: every input in one multi-scalar multiplication.
    while !scheme.prepare_one(&statement, &mut preparing, &mut Allowance::of(u32::MAX)) {}
    match scheme.begin_one(&statement, preparing) {
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

    /// A single verification's sum of its inputs times their bases, built up a piece at a time.
    type InputSum;

    /// Prepares a key that was checked (no point at infinity among alpha, beta, gamma, delta).
    fn prepare(key: &VerifyingKey<E>) -> Self::Prepared;
    /// An input sum with no inputs in it yet.
    fn single_start(key: &PreparedKey<E>) -> Self::InputSum;
    /// Adds sum_j x'_j IC_j over every input x_j of the statement, x'_j being x_j with only
    /// its little-endian bytes `bytes` (of 0..[`SCALAR_BYTES`]) kept: one multi-scalar
    /// multiplication over every base. Pieces whose bytes partition 0..32 add up to the whole
    /// sum, each costing about its share of the bytes (a piece over fewer bases would lose the
    /// multiplication's economy of scale).
    fn single_inputs(
        key: &PreparedKey<E>,
        sum: &mut Self::InputSum,
        statement: &Statement<E>,
        bytes: Range<usize>,
    );
    /// One statement with the right input count, every input in `sum`: L = IC_0 + sum_j x_j
    /// IC_j, and the Miller loops of e(A, B) e(L, -gamma) e(C, -delta).
    fn single_loops(
        key: &PreparedKey<E>,
        statement: &Statement<E>,
        sum: Self::InputSum,
    ) -> Self::Loops;
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

/// One proof's own verification before its Miller loops: its inputs' sum so far.
pub struct SingleInputs<E: SupportedCurve, B: Backend<E> = <E as SupportedCurve>::Verifier> {
    sum: B::InputSum,
    /// The inputs' bytes in `sum` so far: 0..`bytes_done`.
    bytes_done: usize,
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
    type Preparing = SingleInputs<E, B>;
    type Single = B::Loops;
    const CHUNK: usize = B::CHUNK;

    /// The verifier cut in three: the inputs' multi-scalar multiplication, in pieces as the
    /// steps' allowances hold ...
    fn start_one(&self, item: &T) -> Result<SingleInputs<E, B>, Verdict> {
        let key = self.key.prepared_key();
        // `Statement`'s fields are public, so its input count is checked again here.
        if item.borrow().inputs.len() != key.public_inputs() {
            return Err(Verdict::Invalid(InvalidReason::ProofMismatch));
        }
        Ok(SingleInputs {
            sum: B::single_start(key),
            bytes_done: if key.public_inputs() == 0 {
                SCALAR_BYTES
            } else {
                0
            },
        })
    }

    /// The multiplication whole if the allowance holds it, else in pieces of the inputs'
    /// bytes, as many bytes as the allowance holds (at least one); the Miller loops may follow
    /// in the same step once every byte is in, if this call's share was at most
    /// [`ONE_INPUTS_WORK`].
    fn prepare_one(
        &self,
        item: &T,
        preparing: &mut SingleInputs<E, B>,
        allowance: &mut Allowance,
    ) -> bool {
        let left = SCALAR_BYTES - preparing.bytes_done;
        if left == 0 {
            return true;
        }
        let statement = item.borrow();
        let inputs = statement.inputs.len() as u64;
        let whole = u64::from(input_work(E::CURVE)) * inputs;
        let fit = u64::from(allowance.left()) * SCALAR_BYTES as u64 / whole;
        let bytes = left.min(fit.max(1) as usize);
        let work = u32::try_from((whole * bytes as u64).div_ceil(SCALAR_BYTES as u64))
            .expect("a piece is at most the allowance, or one byte's share");
        let _ = allowance.take(work);
        record(Op::InputBytes {
            inputs: inputs as u32,
            bytes: bytes as u32,
            units: work,
        });
        let range = preparing.bytes_done..preparing.bytes_done + bytes;
        B::single_inputs(
            self.key.prepared_key(),
            &mut preparing.sum,
            statement,
            range,
        );
        preparing.bytes_done += bytes;
        preparing.bytes_done == SCALAR_BYTES && work <= ONE_INPUTS_WORK
    }

    /// ... the multi-Miller loop of e(A, B) e(L, -gamma) e(C, -delta) ...
    fn begin_one(&self, item: &T, preparing: SingleInputs<E, B>) -> Result<B::Loops, Verdict> {
        debug_assert_eq!(preparing.bytes_done, SCALAR_BYTES, "every input is in");
        Ok(B::single_loops(
            self.key.prepared_key(),
            item.borrow(),
            preparing.sum,
        ))
    }

    /// ... then the final exponentiation, compared with e(alpha, beta).
    fn finish_one(&self, loops: B::Loops) -> Verdict {
        let holds = B::single_holds(self.key.prepared_key(), loops);
        Verdict::from_check(holds, InvalidReason::ProofMismatch)
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
#[path = "../../tests/common/many_inputs.rs"]
mod many_inputs;

#[cfg(test)]
mod tests {
    use ark_bls12_381::Bls12_381;
    use ark_bn254::{Bn254, Fr};
    use ark_ff::UniformRand;
    use ark_groth16::Groth16;
    use ark_snark::SNARK;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::many_inputs::ManyInputs;
    use super::*;
    use crate::groth16::{Arkworks, Blst, Curve};
    use crate::work::meter;

    #[test]
    fn no_step_over_a_proof_with_many_inputs_multiplies_more_bases_than_a_step_holds() {
        const INPUTS: usize = 64;
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
            INPUTS as u32 * input_work(Curve::Bn254) > STEP,
            "{INPUTS} inputs are more than a step"
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

    /// A lone proof whose inputs are more than a step holds (a batch of one, or a bisection's
    /// last item) is verified alone, as the one-call verifier does: no random scalar, no check
    /// over one item, its inputs' multiplication in pieces of their bytes over steps (no step
    /// over its allowance), then its Miller loops and final exponentiation. With full-size
    /// inputs and with small ones (whose upper bytes' pieces sum to nothing).
    #[test]
    fn a_lone_proof_with_many_inputs_is_verified_alone_a_step_at_a_time() {
        lone_proof_with_many_inputs::<Bn254, Arkworks>();
        lone_proof_with_many_inputs::<Bls12_381, Arkworks>();
        lone_proof_with_many_inputs::<Bls12_381, Blst>();
    }

    fn lone_proof_with_many_inputs<E: SupportedCurve, B: Backend<E>>() {
        const INPUTS: usize = 64;
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let random = |rng: &mut ChaCha20Rng| ManyInputs {
            inputs: (0..INPUTS).map(|_| E::ScalarField::rand(rng)).collect(),
        };
        let (pk, vk) =
            Groth16::<E>::circuit_specific_setup(random(&mut rng), &mut rng).expect("setup");
        let key = PreparedKey::new(&Limits::DEFAULT, vk).expect("a valid key");
        let small = ManyInputs {
            inputs: (0..INPUTS as u64).map(E::ScalarField::from).collect(),
        };
        let mut statements = Vec::new();
        for circuit in [random(&mut rng), small] {
            let inputs = circuit.inputs.clone();
            let proof = Groth16::<E>::prove(&pk, circuit, &mut rng).expect("proves");
            let valid = Statement::new(&key, proof, inputs).expect("input count");
            let mut tampered = valid.clone();
            tampered.inputs[INPUTS - 1] += E::ScalarField::from(1u64);
            statements.push((valid, Verdict::Valid));
            statements.push((tampered, Verdict::Invalid(InvalidReason::ProofMismatch)));
        }
        let pieces = (INPUTS as u32 * input_work(E::CURVE)).div_ceil(STEP) as usize;
        assert!(pieces > 1, "{INPUTS} inputs are more than a step");

        for (statement, expected) in &statements {
            assert_eq!(verify_one_with::<E, B>(&key, statement), *expected);
            let scheme = Groth16Scheme::<E, _, &Statement<E>, B>::new(&key);
            let mut run = BatchRun::new(scheme, vec![statement]);
            let drawn = rng.get_word_pos();
            let _ = meter::take();
            let (mut steps, mut bytes) = (0, 0);
            loop {
                let more = run.step(&mut rng);
                steps += 1;
                let (ops, units) = meter::take();
                assert!(units <= STEP, "step {steps}: {units} units: {ops:?}");
                for op in ops {
                    match op {
                        Op::InputBytes {
                            inputs, bytes: b, ..
                        } => {
                            assert_eq!(inputs as usize, INPUTS, "a piece is over every input");
                            bytes += b as usize;
                        }
                        Op::InputBases { .. } => panic!("a check's multiplication: {op:?}"),
                        _ => {}
                    }
                }
                if !more {
                    break;
                }
            }
            assert_eq!(rng.get_word_pos(), drawn, "no random scalar was drawn");
            assert_eq!(bytes, SCALAR_BYTES, "each byte of the inputs once");
            // The pieces, the Miller loops with the last (or after it), the final exponentiation.
            assert!(steps > pieces, "{steps} steps for {pieces} pieces");
            assert_eq!(run.into_verdicts(), vec![*expected]);
        }
    }

    #[test]
    fn kept_bytes_partition_a_scalar() {
        let limbs = [0x0807_0605_0403_0201u64, u64::MAX, 0x1122_3344_5566_7788, 7];
        let mut whole = [0u64; 4];
        for bytes in [0..3, 3..8, 8..17, 17..31, 31..32] {
            let mut piece = limbs;
            keep_bytes(&mut piece, &bytes);
            for (sum, limb) in whole.iter_mut().zip(piece) {
                assert_eq!(*sum & limb, 0, "pieces overlap");
                *sum |= limb;
            }
        }
        assert_eq!(whole, limbs);
        let mut piece = limbs;
        keep_bytes(&mut piece, &(1..2));
        assert_eq!(piece, [0x0200, 0, 0, 0]);
        keep_bytes(&mut piece, &(0..0));
        assert_eq!(piece, [0; 4]);
    }
}
