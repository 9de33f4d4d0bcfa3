//! Per-item cost of single and batched verification for BLS, Groth16 BN254 and Groth16
//! BLS12-381, the engine's decode-and-check overhead, and arkworks' own verifier for comparison,
//! all in one run. Batch benchmarks report time per item (criterion's throughput is set to the
//! batch size, so `time / elements` is the per-item cost).
//!
//! Run: `cargo bench -p tf-engine --bench verify`

#![allow(missing_docs)] // criterion_group! generates an undocumented function

#[path = "../tests/common/mod.rs"]
mod common;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_groth16::{Groth16, Proof};
use ark_serialize::CanonicalDeserialize;
use ark_snark::SNARK;
use common::{FromAny, load};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_engine::bls::{self, BatchItem, PublicKey, Signature};
use tf_engine::groth16::decode::{encode_proof, encode_scalar};
use tf_engine::groth16::{Statement, verify_batch, verify_one};
use tf_engine::{Field, Limits, Verdict};

const BATCH_SIZES: [usize; 5] = [1, 8, 32, 64, 128];

fn groth16<E: FromAny>(c: &mut Criterion, name: &str) {
    let limits = Limits::DEFAULT;
    let fixtures = load::<E>();
    let key = &fixtures.key;
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    // Distinct proofs: re-randomised copies of the fixture proofs (same statements).
    let statements: Vec<Statement<E>> = common::rerandomized(&fixtures, 128, &mut rng);
    let one = &statements[0];
    let proof_bytes = encode_proof(&one.proof);
    let input_bytes: Vec<[u8; 32]> = one.inputs.iter().map(encode_scalar::<E>).collect();

    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    group.bench_function("arkworks_verify_with_processed_vk", |b| {
        b.iter(|| {
            let ok = Groth16::<E>::verify_with_processed_vk(
                key.arkworks_prepared(),
                &one.inputs,
                &one.proof,
            )
            .expect("well-formed");
            assert!(ok);
        })
    });
    group.bench_function("arkworks_deserialize_validated_and_verify", |b| {
        b.iter(|| {
            let proof = Proof::<E>::deserialize_compressed(&proof_bytes[..]).expect("valid");
            let inputs: Vec<E::ScalarField> = input_bytes
                .iter()
                .map(|i| E::ScalarField::deserialize_compressed(&i[..]).expect("valid"))
                .collect();
            let ok =
                Groth16::<E>::verify_with_processed_vk(key.arkworks_prepared(), &inputs, &proof)
                    .expect("well-formed");
            assert!(ok);
        })
    });
    group.bench_function("engine_single_decoded", |b| {
        b.iter(|| assert_eq!(verify_one(key, one), Verdict::Valid))
    });
    group.bench_function("engine_single_from_bytes", |b| {
        b.iter(|| {
            let statement =
                Statement::decode(key, &limits, &proof_bytes, &input_bytes).expect("decodes");
            assert_eq!(verify_one(key, &statement), Verdict::Valid)
        })
    });
    group.bench_function("engine_decode_and_checks_only", |b| {
        b.iter(|| Statement::decode(key, &limits, &proof_bytes, &input_bytes).expect("decodes"))
    });
    for n in BATCH_SIZES {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("batch", n), &n, |b, &n| {
            b.iter(|| {
                let verdicts = verify_batch(key, &statements[..n], &mut rng);
                assert!(verdicts.iter().all(|v| *v == Verdict::Valid));
            })
        });
    }
    group.finish();
}

fn bls_signatures(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let signed: Vec<(Signature, PublicKey, Vec<u8>)> = common::bls_signed(128);
    let items: Vec<BatchItem> = signed
        .iter()
        .map(|(s, p, m)| BatchItem {
            public_key: *p,
            message: m,
            signature: *s,
        })
        .collect();
    let (sig, pk, message) = &signed[0];
    let (sig_bytes, pk_bytes) = (sig.to_bytes(), pk.to_bytes());
    let raw_pk = blst::min_pk::PublicKey::from_bytes(&pk_bytes).expect("valid");
    let raw_sig = blst::min_pk::Signature::from_bytes(&sig_bytes).expect("valid");

    let mut group = c.benchmark_group("bls");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    group.bench_function("blst_verify_raw", |b| {
        b.iter(|| {
            assert_eq!(
                raw_sig.verify(false, message, bls::DST, &[], &raw_pk, false),
                blst::BLST_ERROR::BLST_SUCCESS
            )
        })
    });
    group.bench_function("blst_validate_and_verify_from_bytes", |b| {
        b.iter(|| {
            let pk = blst::min_pk::PublicKey::key_validate(&pk_bytes).expect("valid");
            let sig = blst::min_pk::Signature::sig_validate(&sig_bytes, false).expect("valid");
            assert_eq!(
                sig.verify(false, message, bls::DST, &[], &pk, false),
                blst::BLST_ERROR::BLST_SUCCESS
            )
        })
    });
    group.bench_function("engine_single_decoded", |b| {
        b.iter(|| assert_eq!(bls::verify(pk, message, sig), Verdict::Valid))
    });
    group.bench_function("engine_single_from_bytes", |b| {
        b.iter(|| {
            let pk = PublicKey::decode(&pk_bytes, Field::new("public_key")).expect("valid");
            let sig = Signature::decode(&sig_bytes, Field::new("signature")).expect("valid");
            assert_eq!(bls::verify(&pk, message, &sig), Verdict::Valid)
        })
    });
    group.bench_function("engine_decode_and_checks_only", |b| {
        b.iter(|| {
            PublicKey::decode(&pk_bytes, Field::new("public_key")).expect("valid");
            Signature::decode(&sig_bytes, Field::new("signature")).expect("valid")
        })
    });
    for n in BATCH_SIZES {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("batch", n), &n, |b, &n| {
            b.iter(|| {
                let verdicts = bls::verify_batch(&items[..n], &mut rng);
                assert!(verdicts.iter().all(|v| *v == Verdict::Valid));
            })
        });
    }
    group.finish();
}

fn groth16_bn254(c: &mut Criterion) {
    groth16::<Bn254>(c, "groth16_bn254");
}

fn groth16_bls12_381(c: &mut Criterion) {
    groth16::<Bls12_381>(c, "groth16_bls12_381");
}

criterion_group!(benches, bls_signatures, groth16_bn254, groth16_bls12_381);
criterion_main!(benches);
