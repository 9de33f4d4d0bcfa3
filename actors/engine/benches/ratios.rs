//! Ratios that must survive a noisy shared host: single vs batched per-item cost, and the engine
//! from bytes vs the library from bytes. Each round times every variant back to back, and the
//! report gives the median per-item cost and the median of the per-round ratios, so slow drifts
//! in host speed cancel out. Criterion (`--bench verify`) gives the absolute medians.
//!
//! Run: `cargo bench -p tf-engine --bench ratios` (optionally `-- ROUNDS`, default 15)

#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_groth16::{Groth16, Proof};
use ark_serialize::CanonicalDeserialize;
use ark_snark::SNARK;
use common::{FromAny, load};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_engine::bls::{self, BatchItem, PublicKey, Signature};
use tf_engine::groth16::decode::{encode_proof, encode_scalar};
use tf_engine::groth16::{
    Arkworks, Statement, verify_batch, verify_batch_with, verify_one, verify_one_with,
};
use tf_engine::{Field, Limits, Verdict};

const BATCH_SIZES: [usize; 4] = [8, 32, 64, 128];
const SINGLES_PER_ROUND: usize = 16;

/// One timed variant: runs `items` verifications per call.
struct Variant<'a> {
    name: String,
    items: usize,
    run: Box<dyn FnMut() + 'a>,
    per_item_us: Vec<f64>,
}

impl<'a> Variant<'a> {
    fn new(name: impl Into<String>, items: usize, run: impl FnMut() + 'a) -> Self {
        Variant {
            name: name.into(),
            items,
            run: Box::new(run),
            per_item_us: Vec::new(),
        }
    }
}

fn main() {
    // `cargo bench` passes --bench: measure. `cargo test` does not: one round as a smoke check.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let measuring = args.iter().any(|a| a == "--bench");
    let rounds = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(if measuring { 15 } else { 1 });
    println!("interleaved rounds: {rounds}\n");
    report(
        "bls",
        bls_variants(),
        rounds,
        "bls single",
        "blst validate+verify from bytes",
    );
    report(
        "groth16_bn254",
        groth16_variants::<Bn254>(),
        rounds,
        "single",
        "arkworks deserialize+verify",
    );
    report(
        "groth16_bls12_381",
        groth16_variants::<Bls12_381>(),
        rounds,
        "single",
        "arkworks deserialize+verify",
    );
}

fn report(title: &str, mut variants: Vec<Variant<'_>>, rounds: usize, single: &str, library: &str) {
    for variant in variants.iter_mut() {
        (variant.run)(); // warm up caches and lazy tables
    }
    for _ in 0..rounds {
        for variant in variants.iter_mut() {
            let start = Instant::now();
            (variant.run)();
            let us = start.elapsed().as_secs_f64() * 1e6 / variant.items as f64;
            variant.per_item_us.push(us);
        }
    }
    println!("== {title}");
    for v in &variants {
        println!(
            "  {:<45} median {:>9.1} µs per item",
            v.name,
            median(&v.per_item_us)
        );
    }
    let find = |name: &str| {
        variants
            .iter()
            .find(|v| v.name == name)
            .expect("variant exists")
    };
    let single = find(single);
    for n in BATCH_SIZES {
        let batch = find(&format!("batch of {n}"));
        println!(
            "  single / batch of {n:<3} per item: {:.2}x",
            median_ratio(single, batch)
        );
    }
    // The arkworks backend against the engine's (the same on BN254, a control for noise).
    if variants.iter().any(|v| v.name == "arkworks single") {
        println!(
            "  arkworks backend / engine's, single: {:.2}x",
            median_ratio(find("arkworks single"), single)
        );
        for n in BATCH_SIZES {
            println!(
                "  arkworks backend / engine's, batch of {n:<3}: {:.2}x",
                median_ratio(
                    find(&format!("arkworks batch of {n}")),
                    find(&format!("batch of {n}"))
                )
            );
        }
    }
    let engine = find("engine decode+verify from bytes");
    let library = find(library);
    println!(
        "  engine from bytes / library from bytes: {:+.1}%",
        (median_ratio(engine, library) - 1.0) * 100.0
    );
    println!();
}

fn median_ratio(a: &Variant<'_>, b: &Variant<'_>) -> f64 {
    let ratios: Vec<f64> = a
        .per_item_us
        .iter()
        .zip(&b.per_item_us)
        .map(|(x, y)| x / y)
        .collect();
    median(&ratios)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn groth16_variants<E: FromAny>() -> Vec<Variant<'static>> {
    let limits = Limits::DEFAULT;
    let fixtures = load::<E>();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let statements: &'static [Statement<E>] =
        Box::leak(common::rerandomized(&fixtures, 128, &mut rng).into_boxed_slice());
    let key = Box::leak(Box::new(fixtures.key));
    let encoded: &'static [(Vec<u8>, Vec<[u8; 32]>)] = Box::leak(
        statements
            .iter()
            .take(SINGLES_PER_ROUND)
            .map(|s| {
                (
                    encode_proof(&s.proof),
                    s.inputs.iter().map(encode_scalar::<E>).collect(),
                )
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let key: &'static _ = key;
    let mut variants = vec![
        Variant::new("single", SINGLES_PER_ROUND, move || {
            for s in &statements[..SINGLES_PER_ROUND] {
                assert_eq!(verify_one(key, s), Verdict::Valid);
            }
        }),
        Variant::new("arkworks single", SINGLES_PER_ROUND, move || {
            for s in &statements[..SINGLES_PER_ROUND] {
                assert_eq!(verify_one_with::<E, Arkworks>(key, s), Verdict::Valid);
            }
        }),
        Variant::new(
            "arkworks verify_with_processed_vk",
            SINGLES_PER_ROUND,
            move || {
                for s in &statements[..SINGLES_PER_ROUND] {
                    let ok = Groth16::<E>::verify_with_processed_vk(
                        key.arkworks_prepared(),
                        &s.inputs,
                        &s.proof,
                    );
                    assert!(ok.expect("well-formed"));
                }
            },
        ),
        Variant::new(
            "arkworks deserialize+verify",
            SINGLES_PER_ROUND,
            move || {
                for (proof, inputs) in encoded {
                    let proof = Proof::<E>::deserialize_compressed(&proof[..]).expect("valid");
                    let inputs: Vec<E::ScalarField> = inputs
                        .iter()
                        .map(|i| E::ScalarField::deserialize_compressed(&i[..]).expect("valid"))
                        .collect();
                    let ok = Groth16::<E>::verify_with_processed_vk(
                        key.arkworks_prepared(),
                        &inputs,
                        &proof,
                    );
                    assert!(ok.expect("well-formed"));
                }
            },
        ),
        Variant::new(
            "engine decode+verify from bytes",
            SINGLES_PER_ROUND,
            move || {
                for (proof, inputs) in encoded {
                    let s = Statement::decode(key, &limits, proof, inputs).expect("decodes");
                    assert_eq!(verify_one(key, &s), Verdict::Valid);
                }
            },
        ),
        Variant::new("engine decode+checks only", SINGLES_PER_ROUND, move || {
            for (proof, inputs) in encoded {
                black_box(Statement::decode(key, &limits, proof, inputs).expect("decodes"));
            }
        }),
    ];
    for n in BATCH_SIZES {
        let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
        variants.push(Variant::new(format!("batch of {n}"), n, move || {
            let verdicts = verify_batch(key, &statements[..n], &mut rng);
            assert!(verdicts.iter().all(|v| *v == Verdict::Valid));
        }));
        let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
        variants.push(Variant::new(
            format!("arkworks batch of {n}"),
            n,
            move || {
                let verdicts = verify_batch_with::<E, Arkworks, _>(key, &statements[..n], &mut rng);
                assert!(verdicts.iter().all(|v| *v == Verdict::Valid));
            },
        ));
    }
    variants
}

fn bls_variants() -> Vec<Variant<'static>> {
    let signed: &'static [(Signature, PublicKey, Vec<u8>)] =
        Box::leak(common::bls_signed(128).into_boxed_slice());
    let items: &'static [BatchItem<'static>] = Box::leak(
        signed
            .iter()
            .map(|(s, p, m)| BatchItem {
                public_key: *p,
                message: m,
                signature: *s,
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let bytes: &'static [([u8; 48], [u8; 96])] = Box::leak(
        signed
            .iter()
            .take(SINGLES_PER_ROUND)
            .map(|(s, p, _)| (p.to_bytes(), s.to_bytes()))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let mut variants = vec![
        Variant::new("bls single", SINGLES_PER_ROUND, move || {
            for (s, p, m) in &signed[..SINGLES_PER_ROUND] {
                assert_eq!(bls::verify(p, m, s), Verdict::Valid);
            }
        }),
        Variant::new(
            "blst validate+verify from bytes",
            SINGLES_PER_ROUND,
            move || {
                for ((pk, sig), (_, _, m)) in bytes.iter().zip(signed) {
                    let pk = blst::min_pk::PublicKey::key_validate(pk).expect("valid");
                    let sig = blst::min_pk::Signature::sig_validate(sig, false).expect("valid");
                    assert_eq!(
                        sig.verify(false, m, bls::DST, &[], &pk, false),
                        blst::BLST_ERROR::BLST_SUCCESS
                    );
                }
            },
        ),
        Variant::new(
            "engine decode+verify from bytes",
            SINGLES_PER_ROUND,
            move || {
                for ((pk, sig), (_, _, m)) in bytes.iter().zip(signed) {
                    let pk = PublicKey::decode(pk, Field::new("public_key")).expect("valid");
                    let sig = Signature::decode(sig, Field::new("signature")).expect("valid");
                    assert_eq!(bls::verify(&pk, m, &sig), Verdict::Valid);
                }
            },
        ),
        Variant::new("engine decode+checks only", SINGLES_PER_ROUND, move || {
            for (pk, sig) in bytes {
                black_box(PublicKey::decode(pk, Field::new("public_key")).expect("valid"));
                black_box(Signature::decode(sig, Field::new("signature")).expect("valid"));
            }
        }),
    ];
    for n in BATCH_SIZES {
        let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
        variants.push(Variant::new(format!("batch of {n}"), n, move || {
            let verdicts = bls::verify_batch(&items[..n], &mut rng);
            assert!(verdicts.iter().all(|v| *v == Verdict::Valid));
        }));
    }
    variants
}
