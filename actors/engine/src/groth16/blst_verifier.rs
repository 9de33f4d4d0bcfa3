//! blst as the Groth16 [`Backend`] on BLS12-381: its Miller loops, final exponentiation and
//! Pippenger multi-scalar multiplication, about twice as fast as arkworks' on this curve.
//!
//! Points are decoded and checked by arkworks (canonical encodings, on the curve, in the
//! subgroup: `decode.rs`) and handed to blst as they are: both libraries keep a base field
//! element as six 64-bit limbs in Montgomery form with R = 2^384, so a checked arkworks point
//! is copied into a blst point limb for limb, with no arithmetic and no second check (a test
//! compares blst's compressed encoding of the copy with arkworks' of the original). blst's
//! multi-pair Miller loop does not skip points at infinity, so pairs holding one are left out
//! (such a pair's pairing is one), as arkworks does.

use std::ops::Range;

use ark_bls12_381::{Bls12_381, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::VerifyingKey;
use blst::{
    MultiPoint, blst_fp, blst_fp2, blst_fp12, blst_p1, blst_p1_affine, blst_p2_affine, p1_affines,
};

use super::verify::{Backend, keep_bytes};
use super::{PreparedKey, Statement};

/// blst's pairing and multi-scalar multiplication, on BLS12-381.
#[derive(Clone, Copy, Debug)]
pub struct Blst;

/// Most pairs in one of this backend's Miller loops: a chunk of proofs, or the three fixed
/// pairs of a single verification or of closing a check.
const MAX_PAIRS: usize = 3;

/// Bits of a scalar-field element (the modulus has 255).
const SCALAR_BITS: usize = 255;

/// A verifying key in blst's types, with what verification precomputes.
#[derive(Clone, Debug)]
pub struct BlstKey {
    /// The input bases IC_0..IC_n (`gamma_abc_g1`).
    bases: Vec<blst_p1_affine>,
    alpha: blst_p1_affine,
    neg_beta: blst_p2_affine,
    neg_gamma: blst_p2_affine,
    neg_delta: blst_p2_affine,
    /// The Miller loop of e(IC_0, -gamma): a single verification multiplies it in rather than
    /// adding IC_0 to the inputs' multiplication (a scalar of 1 costs as much as any other).
    ic0_neg_gamma: blst_fp12,
    /// e(alpha, beta).
    alpha_beta: blst_fp12,
}

/// A batch check's curve part, in blst's types.
pub struct BlstPoints {
    /// prod_i of the Miller loops of (r_i A_i, B_i).
    product: blst_fp12,
    /// sum r_i C_i of each chunk absorbed, in affine form (summed on closing).
    c_sums: Vec<blst_p1_affine>,
    /// The inputs' multiplication, one piece per step of `prepare_close`.
    input_sums: Vec<blst_p1>,
}

impl Backend<Bls12_381> for Blst {
    type Prepared = BlstKey;
    type Points = BlstPoints;
    type Loops = blst_fp12;
    /// The input sum's pieces, one per piece of the inputs' bytes (summed with the Miller loops).
    type InputSum = Vec<blst_p1>;
    /// Three proofs per step: three 64-bit multiplications of A and a 3-point one of the Cs
    /// (about 25 work units per point) and a three-pair Miller loop (100 + 3 x 160, as blst's
    /// loops in `crate::work`): about 700 units, where one proof a step would pay the loop's
    /// shared 100 units for every proof.
    const CHUNK: usize = MAX_PAIRS;

    fn prepare(key: &VerifyingKey<Bls12_381>) -> BlstKey {
        let alpha = g1(&key.alpha_g1);
        let neg_gamma = g2(&-key.gamma_g2);
        BlstKey {
            bases: key.gamma_abc_g1.iter().map(g1).collect(),
            alpha,
            neg_beta: g2(&-key.beta_g2),
            neg_gamma,
            neg_delta: g2(&-key.delta_g2),
            ic0_neg_gamma: miller_loop([(neg_gamma, g1(&key.gamma_abc_g1[0]))]),
            alpha_beta: miller_loop([(g2(&key.beta_g2), alpha)]).final_exp(),
        }
    }

    fn single_start(_key: &PreparedKey<Bls12_381>) -> Vec<blst_p1> {
        Vec::new()
    }

    /// A piece of the bytes is a multiplication by scalars as long as its highest byte. Its
    /// zeroed lower bytes still cost a little: the top third of 64 inputs' bytes took about
    /// 20 % more than its share.
    fn single_inputs(
        key: &PreparedKey<Bls12_381>,
        sum: &mut Vec<blst_p1>,
        statement: &Statement<Bls12_381>,
        bytes: Range<usize>,
    ) {
        let scalars = scalar_bytes_in(&statement.inputs, &bytes);
        let bits = (8 * bytes.end).min(SCALAR_BITS);
        sum.push(key.verifier.bases[1..].mult(&scalars, bits));
    }

    /// IC_0's part is the key's precomputed Miller loop of e(IC_0, -gamma).
    fn single_loops(
        key: &PreparedKey<Bls12_381>,
        statement: &Statement<Bls12_381>,
        sum: Vec<blst_p1>,
    ) -> blst_fp12 {
        let key = &key.verifier;
        let inputs = match sum.as_slice() {
            [] => blst_p1_affine::default(),
            [one] => to_affine(*one),
            pieces => to_affine(sum_jacobian(pieces)),
        };
        let proof = &statement.proof;
        let loops = miller_loop([
            (g2(&proof.b), g1(&proof.a)),
            (key.neg_gamma, inputs),
            (key.neg_delta, g1(&proof.c)),
        ]);
        loops * key.ic0_neg_gamma
    }

    fn single_holds(key: &PreparedKey<Bls12_381>, loops: blst_fp12) -> bool {
        loops.final_exp() == key.verifier.alpha_beta
    }

    fn start(_key: &PreparedKey<Bls12_381>, len: usize) -> BlstPoints {
        BlstPoints {
            product: blst_fp12::default(),
            c_sums: Vec::with_capacity(len.div_ceil(MAX_PAIRS)),
            input_sums: Vec::new(),
        }
    }

    fn absorb(
        _key: &PreparedKey<Bls12_381>,
        points: &mut BlstPoints,
        items: &[(&Statement<Bls12_381>, u64)],
    ) {
        assert!(
            items.len() <= MAX_PAIRS,
            "a chunk is at most {MAX_PAIRS} proofs"
        );
        let mut scalars = [0u8; 8 * MAX_PAIRS];
        let mut cs = [blst_p1_affine::default(); MAX_PAIRS];
        // r_i A_i for each item, then sum r_i C_i: normalised together with one inversion.
        let mut jacobian = [blst_p1::default(); MAX_PAIRS + 1];
        for (i, (statement, r)) in items.iter().enumerate() {
            let scalar = &mut scalars[8 * i..8 * i + 8];
            scalar.copy_from_slice(&r.to_le_bytes());
            jacobian[i] = [g1(&statement.proof.a)].mult(scalar, 64);
            cs[i] = g1(&statement.proof.c);
        }
        let n = items.len();
        jacobian[n] = cs[..n].mult(&scalars[..8 * n], 64);
        let affine = p1_affines::from(&jacobian[..=n]);
        let affine = affine.as_slice();
        let mut pairs = [(blst_p2_affine::default(), blst_p1_affine::default()); MAX_PAIRS];
        for (pair, ((statement, _), weighted_a)) in pairs.iter_mut().zip(items.iter().zip(affine)) {
            *pair = (g2(&statement.proof.b), *weighted_a);
        }
        points.product *= miller_loop_of(&pairs[..n]);
        points.c_sums.push(affine[n]);
    }

    fn add_inputs(
        key: &PreparedKey<Bls12_381>,
        points: &mut BlstPoints,
        bases: Range<usize>,
        coefficients: &[Fr],
    ) {
        let sum = key.verifier.bases[bases].mult(&scalar_bytes(coefficients), SCALAR_BITS);
        points.input_sums.push(sum);
    }

    fn close(key: &PreparedKey<Bls12_381>, points: BlstPoints, r_sum: &Fr) -> blst_fp12 {
        let key = &key.verifier;
        let r_sum = r_sum.into_bigint();
        let bits = (r_sum.num_bits() as usize).max(1);
        let weighted_alpha = [key.alpha].mult(&r_sum.to_bytes_le(), bits);
        let inputs = sum_jacobian(&points.input_sums);
        let fixed = p1_affines::from(&[weighted_alpha, inputs, sum(&points.c_sums)]);
        let fixed = fixed.as_slice();
        let loops = miller_loop([
            (key.neg_beta, fixed[0]),
            (key.neg_gamma, fixed[1]),
            (key.neg_delta, fixed[2]),
        ]);
        points.product * loops
    }

    fn check_holds(loops: blst_fp12) -> bool {
        loops.final_exp() == blst_fp12::default()
    }
}

/// The product of the Miller loops of the pairs (Q in G2, P in G1).
fn miller_loop<const N: usize>(pairs: [(blst_p2_affine, blst_p1_affine); N]) -> blst_fp12 {
    miller_loop_of(&pairs)
}

/// The same over a slice of at most [`MAX_PAIRS`], leaving out pairs with a point at infinity
/// (blst's affine infinity is all zeros; its multi-pair loop would not treat it as one).
fn miller_loop_of(pairs: &[(blst_p2_affine, blst_p1_affine)]) -> blst_fp12 {
    let mut qs = [blst_p2_affine::default(); MAX_PAIRS];
    let mut ps = [blst_p1_affine::default(); MAX_PAIRS];
    let mut n = 0;
    for (q, p) in pairs {
        if *q != blst_p2_affine::default() && *p != blst_p1_affine::default() {
            qs[n] = *q;
            ps[n] = *p;
            n += 1;
        }
    }
    if n == 0 {
        return blst_fp12::default();
    }
    blst_fp12::miller_loop_n(&qs[..n], &ps[..n])
}

/// The sum of affine points (infinity for none).
fn sum(points: &[blst_p1_affine]) -> blst_p1 {
    if points.is_empty() {
        return blst_p1::default();
    }
    points.add()
}

/// The sum of Jacobian points, through one inversion (infinity for none).
fn sum_jacobian(points: &[blst_p1]) -> blst_p1 {
    if points.is_empty() {
        return blst_p1::default();
    }
    sum(p1_affines::from(points).as_slice())
}

fn to_affine(point: blst_p1) -> blst_p1_affine {
    p1_affines::from(&[point]).as_slice()[0]
}

/// Scalars as blst's multiplications take them: 32 bytes little-endian each, back to back.
fn scalar_bytes(scalars: &[Fr]) -> Vec<u8> {
    scalar_bytes_in(scalars, &(0..32))
}

/// The same with only the bytes `bytes` of each kept, each written up to its highest kept
/// byte (`bytes.end` bytes each).
fn scalar_bytes_in(scalars: &[Fr], bytes: &Range<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.end * scalars.len());
    for scalar in scalars {
        let mut limbs = scalar.into_bigint().0;
        keep_bytes(&mut limbs, bytes);
        let mut le = [0u8; 32];
        for (chunk, limb) in le.chunks_exact_mut(8).zip(limbs) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        out.extend_from_slice(&le[..bytes.end]);
    }
    out
}

/// A base field element in blst's form: the same Montgomery limbs (see the module's comment).
fn fp(element: &Fq) -> blst_fp {
    blst_fp { l: element.0.0 }
}

fn fp2(element: &Fq2) -> blst_fp2 {
    blst_fp2 {
        fp: [fp(&element.c0), fp(&element.c1)],
    }
}

/// A G1 point in blst's affine form (all zeros for infinity, as blst writes it).
pub(crate) fn g1(point: &G1Affine) -> blst_p1_affine {
    if point.is_zero() {
        return blst_p1_affine::default();
    }
    blst_p1_affine {
        x: fp(&point.x),
        y: fp(&point.y),
    }
}

/// A G2 point in blst's affine form.
pub(crate) fn g2(point: &G2Affine) -> blst_p2_affine {
    if point.is_zero() {
        return blst_p2_affine::default();
    }
    blst_p2_affine {
        x: fp2(&point.x),
        y: fp2(&point.y),
    }
}

#[cfg(test)]
mod tests {
    use ark_bls12_381::{G1Projective, G2Projective};
    use ark_ec::CurveGroup;
    use ark_serialize::CanonicalSerialize;
    use ark_std::UniformRand;
    use blst::min_pk::{PublicKey, Signature};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    fn compressed(point: &impl CanonicalSerialize) -> Vec<u8> {
        let mut out = Vec::new();
        point
            .serialize_compressed(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// The limb-for-limb copy is the same point: blst compresses it to arkworks' bytes (both
    /// write the ZCash encoding), for random points and infinity.
    #[test]
    fn points_copied_into_blst_are_the_same_points() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let mut g1s: Vec<G1Affine> = (0..16)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        g1s.push(G1Affine::zero());
        for point in &g1s {
            let copied = PublicKey::from(g1(point));
            assert_eq!(copied.compress().to_vec(), compressed(point));
        }
        let mut g2s: Vec<G2Affine> = (0..16)
            .map(|_| G2Projective::rand(&mut rng).into_affine())
            .collect();
        g2s.push(G2Affine::zero());
        for point in &g2s {
            let copied = Signature::from(g2(point));
            assert_eq!(copied.compress().to_vec(), compressed(point));
        }
    }

    #[test]
    fn scalars_are_written_little_endian_as_on_the_wire() {
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        let scalars: Vec<Fr> = (0..4).map(|_| Fr::rand(&mut rng)).collect();
        let bytes = scalar_bytes(&scalars);
        for (i, scalar) in scalars.iter().enumerate() {
            assert_eq!(
                bytes[32 * i..32 * i + 32],
                crate::groth16::decode::encode_scalar::<Bls12_381>(scalar)
            );
        }
    }

    /// blst's multiplication against arkworks' on the same points, and pairs at infinity left
    /// out of a Miller loop as the pairing's bilinearity says they may be.
    #[test]
    fn multiplication_agrees_with_arkworks_and_infinity_pairs_are_one() {
        use ark_ec::VariableBaseMSM;

        let mut rng = ChaCha20Rng::seed_from_u64(23);
        let mut bases: Vec<G1Affine> = (0..5)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        bases[3] = G1Affine::zero();
        let scalars: Vec<Fr> = (0..5).map(|_| Fr::rand(&mut rng)).collect();
        let ark = G1Projective::msm(&bases, &scalars)
            .expect("as many scalars as bases")
            .into_affine();
        let blst_bases: Vec<blst_p1_affine> = bases.iter().map(g1).collect();
        let ours = to_affine(blst_bases.mult(&scalar_bytes(&scalars), SCALAR_BITS));
        assert_eq!(ours, g1(&ark));

        let (p, q) = (
            g1(&bases[0]),
            g2(&G2Projective::rand(&mut rng).into_affine()),
        );
        let (inf1, inf2) = (blst_p1_affine::default(), blst_p2_affine::default());
        let alone = miller_loop([(q, p)]);
        assert_eq!(miller_loop([(q, inf1), (q, p), (inf2, p)]), alone);
        assert_eq!(miller_loop([(q, inf1), (inf2, p)]), blst_fp12::default());
        let neg_p = g1(&-bases[0]);
        assert_eq!(
            miller_loop([(q, p), (q, neg_p)]).final_exp(),
            blst_fp12::default()
        );
        assert_ne!(alone.final_exp(), blst_fp12::default());
    }
}
