//! What each piece of verification work costs relative to one single BLS verification: the
//! figures behind `tf_engine::work` (step allowances) and the shard's scheduling cost. Each
//! round times every operation back to back, and the report gives the median per-operation
//! cost and the median of per-round ratios to a single BLS verification, so drifts in host
//! speed cancel out.
//!
//! Run: `cargo bench -p tf-engine --bench work` (optionally `-- ROUNDS`, default 31)

#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/many_inputs.rs"]
mod many_inputs;

use std::hint::black_box;
use std::time::Instant;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use ark_snark::SNARK;
use blst::Pairing;
use common::{FromAny, load};
use many_inputs::ManyInputs;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_engine::bls::{self, AggregateRun, DST, PublicKey, Signature};
use tf_engine::groth16::decode::{encode_proof, encode_scalar};
use tf_engine::groth16::{Backend, PreparedKey, Statement, SupportedCurve, verify_one};
use tf_engine::{Field, Limits, Verdict};

struct Op<'a> {
    name: &'static str,
    per_call: usize,
    run: Box<dyn FnMut() + 'a>,
    us: Vec<f64>,
}

fn op<'a>(name: &'static str, per_call: usize, run: impl FnMut() + 'a) -> Op<'a> {
    Op {
        name,
        per_call,
        run: Box::new(run),
        us: Vec::new(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let measuring = args.iter().any(|a| a == "--bench");
    let rounds = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(if measuring { 31 } else { 1 });

    let signed = common::bls_signed(64);
    let key_bytes: Vec<[u8; 48]> = signed.iter().map(|(_, p, _)| p.to_bytes()).collect();
    let sig_bytes: Vec<[u8; 96]> = signed.iter().map(|(s, _, _)| s.to_bytes()).collect();
    let keys: Vec<PublicKey> = signed.iter().map(|(_, p, _)| *p).collect();
    let raw_keys: Vec<blst::min_pk::PublicKey> = key_bytes
        .iter()
        .map(|k| blst::min_pk::PublicKey::from_bytes(k).expect("valid"))
        .collect();
    let raw_key_affine = |i: usize| -> &blst::blst_p1_affine { (&raw_keys[i]).into() };
    let raw_sigs: Vec<blst::blst_p2_affine> = sig_bytes
        .iter()
        .map(|s| {
            blst::min_pk::Signature::from_bytes(s)
                .expect("valid")
                .into()
        })
        .collect();

    let bn = groth16_ops::<Bn254>("bn254");
    let bls12 = groth16_ops::<Bls12_381>("bls12-381");

    let none: Option<&blst::blst_p2_affine> = None;
    let messages: Vec<Vec<u8>> = signed.iter().map(|(_, _, m)| m.clone()).collect();
    // Every timed call does 5-25 ms of work, so short and long operations are timed alike.
    let mut ops = vec![
        op(
            "bls single, stepwise (as BatchRun verifies one)",
            16,
            || {
                for (i, (_, _, m)) in signed[..16].iter().enumerate() {
                    let mut pairing = Pairing::new(true, DST);
                    pairing.aggregate(raw_key_affine(i), false, &raw_sigs[i], false, m, &[]);
                    pairing.commit();
                    assert!(pairing.finalverify(None));
                }
            },
        ),
        op("bls::verify (blst Signature::verify)", 16, || {
            for (s, p, m) in &signed[..16] {
                assert_eq!(bls::verify(p, m, s), Verdict::Valid);
            }
        }),
        op("public key decode + checks", 128, || {
            for k in key_bytes.iter().chain(&key_bytes) {
                black_box(PublicKey::decode(k, Field::new("k")).expect("valid"));
            }
        }),
        op("signature decode + checks", 128, || {
            for s in sig_bytes.iter().chain(&sig_bytes) {
                black_box(Signature::decode(s, Field::new("s")).expect("valid"));
            }
        }),
        op("key sum, per key", 64 * 256, || {
            for _ in 0..256 {
                black_box(bls::aggregate_public_keys(&keys).expect("keys"));
            }
        }),
        op(
            "pair without Miller loop (hash to G2), x7 per context",
            56,
            || {
                for round in 0..8 {
                    let mut pairing = Pairing::new(true, DST);
                    for (i, (_, _, m)) in signed[round * 8..round * 8 + 7].iter().enumerate() {
                        pairing.aggregate(
                            raw_key_affine(round * 8 + i),
                            false,
                            &none,
                            false,
                            m,
                            &[],
                        );
                    }
                    black_box(pairing);
                }
            },
        ),
        op("pair with 8-way Miller loop, x8 per context", 64, || {
            for round in 0..8 {
                let mut pairing = Pairing::new(true, DST);
                for (i, (_, _, m)) in signed[round * 8..round * 8 + 8].iter().enumerate() {
                    pairing.aggregate(raw_key_affine(round * 8 + i), false, &none, false, m, &[]);
                }
                black_box(pairing);
            }
        }),
        op("one pair + commit (hash, 1-way Miller loop)", 16, || {
            for (i, (_, _, m)) in signed[..16].iter().enumerate() {
                let mut pairing = Pairing::new(true, DST);
                pairing.aggregate(raw_key_affine(i), false, &none, false, m, &[]);
                pairing.commit();
                black_box(pairing);
            }
        }),
        // The aggregates below carry one signer's signature: invalid, and exactly as much work.
        op("aggregate verify of 64 pairs, per pair", 64, || {
            let messages: Vec<&[u8]> = signed.iter().map(|(_, _, m)| m.as_slice()).collect();
            black_box(bls::aggregate_verify(&keys, &messages, &signed[0].0));
        }),
        op("AggregateRun of 64 pairs from bytes, per pair", 64, || {
            let run = AggregateRun::new(&Limits::DEFAULT, &key_bytes, &messages, &sig_bytes[0]);
            black_box(run.finish());
        }),
    ];
    ops.extend(bn);
    ops.extend(bls12);

    for o in ops.iter_mut() {
        (o.run)();
    }
    for _ in 0..rounds {
        for o in ops.iter_mut() {
            let start = Instant::now();
            (o.run)();
            o.us.push(start.elapsed().as_secs_f64() * 1e6 / o.per_call as f64);
        }
    }
    println!("interleaved rounds: {rounds}");
    println!("per operation: median µs, and median per-round thousandths of a single BLS verify");
    let single = ops[0].us.clone();
    for o in &ops {
        let ratios: Vec<f64> =
            o.us.iter()
                .zip(&single)
                .map(|(x, s)| 1000.0 * x / s)
                .collect();
        println!(
            "  {:<48} {:>9.1} µs  {:>7.1}",
            o.name,
            median(&o.us),
            median(&ratios)
        );
    }
    // The constants: a verification without inputs is the 4-input one less 4 inputs, and the
    // line through it at 64 inputs is compared with the 64-input verification.
    let ratios = |name: String| -> Vec<f64> {
        let o = ops.iter().find(|o| o.name == name).expect("measured");
        o.us.iter()
            .zip(&single)
            .map(|(x, s)| 1000.0 * x / s)
            .collect()
    };
    for curve in ["bn254", "bls12-381"] {
        let verify4 = ratios(format!("groth16 {curve} verify (4 inputs)"));
        let input = ratios(format!("groth16 {curve} multiply 32 inputs, per input"));
        let verify64 = ratios(format!("groth16 {curve} verify (64 inputs)"));
        let fixed: Vec<f64> = verify4
            .iter()
            .zip(&input)
            .map(|(v, i)| v - 4.0 * i)
            .collect();
        let line64: Vec<f64> = (0..fixed.len())
            .map(|r| (fixed[r] + 64.0 * input[r]) / verify64[r])
            .collect();
        println!(
            "  groth16 {curve}: verification without inputs {:.1}; at 64 inputs the line / measured {:.2}x",
            median(&fixed),
            median(&line64)
        );
    }
}

/// Groth16 on one curve, as the engine verifies it (blst on BLS12-381, arkworks on BN254): a
/// single verification with 4 full-size public inputs, the decode of a fixture proof, what one
/// input adds (the engine's multiplication of input bases, over 32 inputs: about what one
/// step's allowance holds), and a verification with 64 inputs to check the line through them.
fn groth16_ops<E: FromAny>(curve: &'static str) -> Vec<Op<'static>> {
    let limits = Limits::DEFAULT;
    let fixtures = load::<E>();
    let fixture_key: &'static _ = Box::leak(Box::new(fixtures.key));
    let encoded: &'static [(Vec<u8>, Vec<[u8; 32]>)] = Box::leak(
        fixtures
            .statements
            .iter()
            .map(|s| {
                (
                    encode_proof(&s.proof),
                    s.inputs.iter().map(encode_scalar::<E>).collect(),
                )
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (key4, proofs4) = proved::<E>(4, 4, &mut rng);
    let (key64, proofs64) = proved::<E>(64, 2, &mut rng);
    let name = |what: &str| -> &'static str { Box::leak(format!("groth16 {curve} {what}").into()) };
    vec![
        op(name("verify (4 inputs)"), 4 * proofs4.len(), move || {
            for s in proofs4.iter().cycle().take(4 * proofs4.len()) {
                assert_eq!(verify_one(key4, s), Verdict::Valid);
            }
        }),
        op(
            name("decode + checks (4 inputs)"),
            16 * encoded.len(),
            move || {
                for (proof, inputs) in encoded.iter().cycle().take(16 * encoded.len()) {
                    black_box(
                        Statement::decode(fixture_key, &limits, proof, inputs).expect("decodes"),
                    );
                }
            },
        ),
        op(name("multiply 32 inputs, per input"), 4 * 32, move || {
            for _ in 0..4 {
                let mut sum = <E::Verifier as Backend<E>>::single_start(key64);
                <E::Verifier as Backend<E>>::single_inputs(key64, &mut sum, &proofs64[0], 0..32);
                black_box(sum);
            }
        }),
        op(name("verify (64 inputs)"), proofs64.len(), move || {
            for s in proofs64 {
                assert_eq!(verify_one(key64, s), Verdict::Valid);
            }
        }),
    ]
}

/// A key for `inputs` public inputs and `n` valid proofs under it, each with full-size random
/// inputs (the fixtures' are a few bits each, which flatters arkworks' multiplications).
fn proved<E: SupportedCurve>(
    inputs: usize,
    n: usize,
    rng: &mut ChaCha20Rng,
) -> (&'static PreparedKey<E>, &'static [Statement<E>]) {
    let mut circuit = || ManyInputs::<E::ScalarField> {
        inputs: (0..inputs).map(|_| E::ScalarField::rand(rng)).collect(),
    };
    let setup = circuit();
    let circuits: Vec<_> = (0..n).map(|_| circuit()).collect();
    let (pk, vk) = Groth16::<E>::circuit_specific_setup(setup, rng).expect("setup");
    let key = PreparedKey::new(&Limits::DEFAULT, vk).expect("a valid key");
    let statements: Vec<Statement<E>> = circuits
        .into_iter()
        .map(|circuit| {
            let inputs = circuit.inputs.clone();
            let proof = Groth16::<E>::prove(&pk, circuit, rng).expect("proves");
            Statement::new(&key, proof, inputs).expect("input count")
        })
        .collect();
    (
        Box::leak(Box::new(key)),
        Box::leak(statements.into_boxed_slice()),
    )
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}
