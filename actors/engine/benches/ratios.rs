//! Ratios that must survive a noisy shared host: single vs batched per-item cost, and the engine
//! from bytes vs the library from bytes. Each round times every variant back to back, and the
//! report gives the median per-item cost and the median of the per-round ratios, so slow drifts
//! in host speed cancel out. Criterion (`--bench verify`) gives the absolute medians.
//!
//! A lone request costs what verifying it alone costs: for each scheme, the one-call single
//! verifier from wire bytes against a batch of one from the same bytes through the stepwise
//! path the shard drives (`DecodeThenVerify` for BLS, `Groth16Run`), alternating which goes
//! first from round to round.
//!
//! Run: `cargo bench -p tf-engine --bench ratios` (optionally `-- ROUNDS`, default 15, and
//! section names to run only those: `bls`, `groth16_bn254`, `groth16_bls12_381`,
//! `batch_of_one`; e.g. `-- 101 batch_of_one`)

#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/many_inputs.rs"]
mod many_inputs;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_ff::UniformRand;
use ark_groth16::{Groth16, Proof, VerifyingKey};
use ark_serialize::CanonicalDeserialize;
use ark_snark::SNARK;
use common::{FromAny, load};
use many_inputs::ManyInputs;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_engine::bls::{self, BatchItem, BlsScheme, PublicKey, Signature, StatementDecoder};
use tf_engine::groth16::decode::{encode_proof, encode_scalar, encode_verifying_key};
use tf_engine::groth16::{
    AnyKey, Arkworks, EncodedStatement, Groth16Run, Statement, SupportedCurve, verify_batch,
    verify_batch_with, verify_one, verify_one_with,
};
use tf_engine::{DecodeThenVerify, Field, Limits, Verdict};

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
    let sections: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') && a.parse::<usize>().is_err())
        .collect();
    let wanted = |section: &str| sections.is_empty() || sections.iter().any(|s| *s == section);
    println!("interleaved rounds: {rounds}\n");
    if wanted("bls") {
        report(
            "bls",
            bls_variants(),
            rounds,
            "bls single",
            "blst validate+verify from bytes",
        );
    }
    if wanted("groth16_bn254") {
        report(
            "groth16_bn254",
            groth16_variants::<Bn254>(),
            rounds,
            "single",
            "arkworks deserialize+verify",
        );
    }
    if wanted("groth16_bls12_381") {
        report(
            "groth16_bls12_381",
            groth16_variants::<Bls12_381>(),
            rounds,
            "single",
            "arkworks deserialize+verify",
        );
    }
    if wanted("batch_of_one") {
        report_batch_of_one(
            vec![
                ("bls single", bls_batch_of_one()),
                ("groth16 bn254, 4 inputs", fixture_batch_of_one::<Bn254>()),
                (
                    "groth16 bls12-381, 4 inputs",
                    fixture_batch_of_one::<Bls12_381>(),
                ),
                (
                    "groth16 bn254, 16 small inputs",
                    many_inputs_batch_of_one::<Bn254>(16, Inputs::Small),
                ),
                (
                    "groth16 bls12-381, 16 small inputs",
                    many_inputs_batch_of_one::<Bls12_381>(16, Inputs::Small),
                ),
                (
                    "groth16 bn254, 16 inputs",
                    many_inputs_batch_of_one::<Bn254>(16, Inputs::FullSize),
                ),
                (
                    "groth16 bls12-381, 16 inputs",
                    many_inputs_batch_of_one::<Bls12_381>(16, Inputs::FullSize),
                ),
                (
                    "groth16 bn254, 64 inputs",
                    many_inputs_batch_of_one::<Bn254>(64, Inputs::FullSize),
                ),
                (
                    "groth16 bls12-381, 64 inputs",
                    many_inputs_batch_of_one::<Bls12_381>(64, Inputs::FullSize),
                ),
            ],
            rounds,
        );
    }
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

/// Each scheme's one-call verifier and its batch of one, timed back to back in every round
/// (which goes first alternates), every scheme in every round.
fn report_batch_of_one(mut schemes: Vec<(&str, [Variant<'_>; 2])>, rounds: usize) {
    for (_, pair) in schemes.iter_mut() {
        for variant in pair.iter_mut() {
            (variant.run)();
        }
    }
    for round in 0..rounds {
        for (_, pair) in schemes.iter_mut() {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let variant = &mut pair[i];
                let start = Instant::now();
                (variant.run)();
                let us = start.elapsed().as_secs_f64() * 1e6 / variant.items as f64;
                variant.per_item_us.push(us);
            }
        }
    }
    println!("== batch_of_one");
    for (scheme, [one_call, batch_of_one]) in &schemes {
        println!("  {scheme}");
        for v in [one_call, batch_of_one] {
            println!(
                "    {:<43} median {:>9.1} µs per item",
                v.name,
                median(&v.per_item_us)
            );
        }
        let (low, mid, high) = quartile_ratios(batch_of_one, one_call);
        println!("    batch of one / one call: median {mid:.3}x (quartiles {low:.3}-{high:.3})");
    }
    println!();
}

/// The first quartile, median and third quartile of the per-round ratios a / b.
fn quartile_ratios(a: &Variant<'_>, b: &Variant<'_>) -> (f64, f64, f64) {
    let mut ratios: Vec<f64> = a
        .per_item_us
        .iter()
        .zip(&b.per_item_us)
        .map(|(x, y)| x / y)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: usize| ratios[(ratios.len() - 1) * q / 4];
    (at(1), at(2), at(3))
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

/// Groth16 on one curve from wire bytes: `AnyKey::verify_encoded`, and a `Groth16Run` over one
/// statement stepped to the end, as the shard drives a batch. `SINGLES_PER_ROUND` proofs under
/// `key`, made by `prove`.
fn groth16_batch_of_one<E: SupportedCurve>(
    key: &VerifyingKey<E>,
    prove: impl FnMut(usize) -> Statement<E>,
) -> [Variant<'static>; 2] {
    let limits = Limits::DEFAULT;
    let encoded: &'static [(Vec<u8>, Vec<[u8; 32]>)] = Box::leak(
        (0..SINGLES_PER_ROUND)
            .map(prove)
            .map(|s| {
                (
                    encode_proof(&s.proof),
                    s.inputs.iter().map(encode_scalar::<E>).collect(),
                )
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let key_bytes = encode_verifying_key(key);
    let key = Arc::new(AnyKey::decode(E::CURVE, &limits, &key_bytes).expect("a valid key"));
    let one_call_key = key.clone();
    let statement =
        |(proof, inputs): &'static (Vec<u8>, Vec<[u8; 32]>)| EncodedStatement { proof, inputs };
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    [
        Variant::new(
            "one call: AnyKey::verify_encoded",
            SINGLES_PER_ROUND,
            move || {
                for encoded in encoded {
                    let verdict = one_call_key.verify_encoded(&limits, statement(encoded));
                    assert_eq!(verdict, Verdict::Valid);
                }
            },
        ),
        Variant::new(
            "batch of one: Groth16Run stepped",
            SINGLES_PER_ROUND,
            move || {
                for encoded in encoded {
                    let mut run = Groth16Run::new(key.clone(), &limits, vec![statement(encoded)]);
                    while run.step(&mut rng) {}
                    assert_eq!(run.into_verdicts(), [Verdict::Valid]);
                }
            },
        ),
    ]
}

/// The fixture proofs (4 public inputs), re-randomised.
fn fixture_batch_of_one<E: FromAny>() -> [Variant<'static>; 2] {
    let fixtures = load::<E>();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let statements = common::rerandomized(&fixtures, SINGLES_PER_ROUND, &mut rng);
    groth16_batch_of_one(fixtures.key.verifying_key(), |i| statements[i].clone())
}

/// Proofs with `inputs` public inputs: with 16 or more, a single verification's inputs are
/// more than its step's share.
fn many_inputs_batch_of_one<E: SupportedCurve>(
    inputs: usize,
    values: Inputs,
) -> [Variant<'static>; 2] {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let mut circuit = || ManyInputs::<E::ScalarField> {
        inputs: (0..inputs)
            .map(|i| match values {
                Inputs::Small => E::ScalarField::from(i as u64 * 7 + 1),
                Inputs::FullSize => E::ScalarField::rand(&mut rng),
            })
            .collect(),
    };
    let setup = circuit();
    let circuits: Vec<_> = (0..SINGLES_PER_ROUND).map(|_| circuit()).collect();
    let (pk, vk) = Groth16::<E>::circuit_specific_setup(setup, &mut rng).expect("setup");
    let statements: Vec<Statement<E>> = circuits
        .into_iter()
        .map(|circuit| Statement {
            inputs: circuit.inputs.clone(),
            proof: Groth16::<E>::prove(&pk, circuit, &mut rng).expect("proves"),
        })
        .collect();
    groth16_batch_of_one(&vk, |i| statements[i].clone())
}

/// Public input values: a multiplication by a few-bit scalar is almost free in arkworks (not
/// in blst), and a check over one item multiplies by `r x` whatever `x` is.
#[derive(Clone, Copy)]
enum Inputs {
    /// Below 2^7 (as the fixtures' are).
    Small,
    /// Uniform in the scalar field (hashes, commitments).
    FullSize,
}

/// A BLS signature from wire bytes: decoded and verified with `bls::verify`, and a
/// `DecodeThenVerify` over one statement stepped to the end, as the shard drives a batch.
fn bls_batch_of_one() -> [Variant<'static>; 2] {
    let limits = Limits::DEFAULT;
    let signed: &'static [([u8; 48], Vec<u8>, [u8; 96])] = Box::leak(
        common::bls_signed(SINGLES_PER_ROUND as u32)
            .into_iter()
            .map(|(s, p, m)| (p.to_bytes(), m, s.to_bytes()))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    [
        Variant::new(
            "one call: decode + bls::verify",
            SINGLES_PER_ROUND,
            move || {
                for (public_key, message, signature) in signed {
                    let public_key =
                        PublicKey::decode(public_key, Field::new("public_key")).expect("valid");
                    let signature =
                        Signature::decode(signature, Field::new("signature")).expect("valid");
                    assert_eq!(
                        bls::verify(&public_key, message, &signature),
                        Verdict::Valid
                    );
                }
            },
        ),
        Variant::new(
            "batch of one: DecodeThenVerify stepped",
            SINGLES_PER_ROUND,
            move || {
                for (public_key, message, signature) in signed {
                    let statement = bls::EncodedStatement::Single {
                        public_key,
                        message,
                        signature,
                    };
                    let mut run = DecodeThenVerify::new(
                        BlsScheme::default(),
                        StatementDecoder::new(&limits),
                        vec![statement],
                    );
                    while run.step(&mut rng) {}
                    assert_eq!(run.into_verdicts(), [Verdict::Valid]);
                }
            },
        ),
    ]
}
