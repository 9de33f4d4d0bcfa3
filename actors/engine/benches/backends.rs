//! Groth16 on BLS12-381: arkworks against blst, the engine's two backends, on the same decoded
//! statements: single verification, and batches of 1, 8 and 32 (time per item: criterion's
//! throughput is the batch size). Then the parts, to show where each library is faster: the
//! inputs' multi-scalar multiplication (the fixtures' 4 inputs, and 64) and a 64-bit G1
//! multiplication (a batch's r_i A_i), and three pairings with the final exponentiation.
//!
//! Run: `cargo bench -p tf-engine --bench backends`

#![allow(missing_docs)] // criterion_group! generates an undocumented function

#[path = "../tests/common/mod.rs"]
mod common;

use ark_bls12_381::{Bls12_381, Fr, G1Affine, G1Projective};
type G1Prepared = <Bls12_381 as Pairing>::G1Prepared;
type G2Prepared = <Bls12_381 as Pairing>::G2Prepared;
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{PrimeField, UniformRand};
use ark_serialize::CanonicalSerialize;
use blst::MultiPoint;
use blst::min_pk::PublicKey;
use common::load;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_engine::Verdict;
use tf_engine::groth16::{Arkworks, Blst, Statement, verify_batch_with, verify_one_with};

const BATCH_SIZES: [usize; 3] = [1, 8, 32];

fn verification(c: &mut Criterion) {
    let fixtures = load::<Bls12_381>();
    let key = &fixtures.key;
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let statements: Vec<Statement<Bls12_381>> = common::rerandomized(&fixtures, 32, &mut rng);
    let one = &statements[0];

    let mut group = c.benchmark_group("groth16_bls12_381_backends");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    group.bench_function("single/arkworks", |b| {
        b.iter(|| assert_eq!(verify_one_with::<_, Arkworks>(key, one), Verdict::Valid))
    });
    group.bench_function("single/blst", |b| {
        b.iter(|| assert_eq!(verify_one_with::<_, Blst>(key, one), Verdict::Valid))
    });
    for n in BATCH_SIZES {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("batch/arkworks", n), &n, |b, &n| {
            b.iter(|| {
                let verdicts = verify_batch_with::<_, Arkworks, _>(key, &statements[..n], &mut rng);
                assert!(verdicts.iter().all(|v| *v == Verdict::Valid));
            })
        });
        group.bench_with_input(BenchmarkId::new("batch/blst", n), &n, |b, &n| {
            b.iter(|| {
                let verdicts = verify_batch_with::<_, Blst, _>(key, &statements[..n], &mut rng);
                assert!(verdicts.iter().all(|v| *v == Verdict::Valid));
            })
        });
    }
    group.finish();
}

/// The same G1 points in blst's form (through their compressed bytes).
fn to_blst(points: &[G1Affine]) -> Vec<blst::blst_p1_affine> {
    points
        .iter()
        .map(|p| {
            let mut bytes = Vec::new();
            p.serialize_compressed(&mut bytes).expect("to a Vec");
            PublicKey::uncompress(&bytes).expect("a valid point").into()
        })
        .collect()
}

fn parts(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut group = c.benchmark_group("groth16_bls12_381_parts");
    group.sample_size(20);
    for inputs in [4usize, 64] {
        let bases: Vec<G1Affine> = (0..inputs)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        let scalars: Vec<Fr> = (0..inputs).map(|_| Fr::rand(&mut rng)).collect();
        let blst_bases = to_blst(&bases);
        let scalar_bytes: Vec<u8> = scalars
            .iter()
            .flat_map(|s| s.into_bigint().0.into_iter().flat_map(u64::to_le_bytes))
            .collect();
        group.bench_with_input(BenchmarkId::new("msm/arkworks", inputs), &inputs, |b, _| {
            b.iter(|| G1Projective::msm(&bases, &scalars).expect("lengths match"))
        });
        group.bench_with_input(BenchmarkId::new("msm/blst", inputs), &inputs, |b, _| {
            b.iter(|| blst_bases.mult(&scalar_bytes, 255))
        });
    }
    // The three pairs of a single verification and the final exponentiation: arkworks with
    // gamma and delta prepared (their line coefficients precomputed), blst with none (its safe
    // API has no precomputed lines).
    let f = load::<Bls12_381>();
    let key = f.key.arkworks_prepared();
    let proof = &f.statements[0].proof;
    group.bench_function("three_pairings/arkworks", |b| {
        b.iter(|| {
            let loops = Bls12_381::multi_miller_loop(
                [proof.a, key.vk.gamma_abc_g1[0], proof.c].map(G1Prepared::from),
                [
                    G2Prepared::from(proof.b),
                    key.gamma_g2_neg_pc.clone(),
                    key.delta_g2_neg_pc.clone(),
                ],
            );
            Bls12_381::final_exponentiation(loops)
        })
    });
    let g1s = to_blst(&[proof.a, key.vk.gamma_abc_g1[0], proof.c]);
    let g2s: Vec<blst::blst_p2_affine> = [proof.b, -key.vk.gamma_g2, -key.vk.delta_g2]
        .iter()
        .map(|p| {
            let mut bytes = Vec::new();
            p.serialize_compressed(&mut bytes).expect("to a Vec");
            blst::min_pk::Signature::uncompress(&bytes)
                .expect("a valid point")
                .into()
        })
        .collect();
    group.bench_function("three_pairings/blst", |b| {
        b.iter(|| blst::blst_fp12::miller_loop_n(&g2s, &g1s).final_exp())
    });
    let point = G1Projective::rand(&mut rng).into_affine();
    let blst_point = to_blst(&[point]);
    let r = 0x9e37_79b9_7f4a_7c15u64;
    group.bench_function("mul_64_bits/arkworks", |b| b.iter(|| point.mul_bigint([r])));
    group.bench_function("mul_64_bits/blst", |b| {
        b.iter(|| blst_point.mult(&r.to_le_bytes(), 64))
    });
    group.finish();
}

criterion_group!(benches, verification, parts);
criterion_main!(benches);
