//! blst (the engine's verifier on BLS12-381) against arkworks (the cross-check) on every Groth16
//! BLS12-381 case the repository has: the snarkjs fixtures, valid, invalid (tampered inputs,
//! swapped proofs and proof points) and malformed; the cases `tests/snarkjs_agreement.rs` puts
//! to the appliance and to snarkjs; every single-byte corruption of a fixture proof; and keys
//! and proofs built from known trapdoors with points at infinity wherever they may be. Both
//! backends must give identical verdicts, alone and in batches.

mod common;

use ark_bls12_381::{Bls12_381, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::short_weierstrass::Affine;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{BigInteger, Field as _, One, PrimeField, UniformRand, Zero};
use ark_groth16::{Proof, VerifyingKey};
use common::{FIXTURE_PROOFS, fixture, load};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;
use tf_engine::groth16::decode::{encode_proof, encode_scalar};
use tf_engine::groth16::{
    Arkworks, Blst, PreparedKey, Statement, snarkjs, verify_batch, verify_batch_with, verify_one,
    verify_one_with,
};
use tf_engine::{InvalidReason, Limits, Verdict};

type E = Bls12_381;

/// Both backends' verdict on one statement, asserted equal; the engine's own (`verify_one`)
/// must be blst's.
fn agreed(key: &PreparedKey<E>, statement: &Statement<E>, case: &str) -> Verdict {
    let ark = verify_one_with::<E, Arkworks>(key, statement);
    let blst = verify_one_with::<E, Blst>(key, statement);
    assert_eq!(blst, ark, "{case}: blst and arkworks disagree");
    assert_eq!(
        verify_one(key, statement),
        blst,
        "{case}: the engine uses blst"
    );
    blst
}

/// Both backends' verdicts on a batch with the same random scalars, asserted equal.
fn agreed_batch(key: &PreparedKey<E>, statements: &[Statement<E>], seed: u64) -> Vec<Verdict> {
    let ark =
        verify_batch_with::<E, Arkworks, _>(key, statements, &mut ChaCha20Rng::seed_from_u64(seed));
    let blst =
        verify_batch_with::<E, Blst, _>(key, statements, &mut ChaCha20Rng::seed_from_u64(seed));
    assert_eq!(blst, ark, "batch of {} (seed {seed})", statements.len());
    assert_eq!(
        verify_batch(key, statements, &mut ChaCha20Rng::seed_from_u64(seed)),
        blst
    );
    // Every item's batch verdict is its single verdict.
    let singles: Vec<Verdict> = statements
        .iter()
        .map(|s| verify_one_with::<E, Arkworks>(key, s))
        .collect();
    assert_eq!(blst, singles, "batch verdicts are the single verdicts");
    blst
}

const MISMATCH: Verdict = Verdict::Invalid(InvalidReason::ProofMismatch);

#[test]
fn fixtures_valid_and_invalid_alone_and_in_batches() {
    let f = load::<E>();
    let key = &f.key;
    let mut cases: Vec<(String, Statement<E>, Verdict)> = Vec::new();
    for (i, s) in f.statements.iter().enumerate() {
        cases.push((format!("fixture {i}"), s.clone(), Verdict::Valid));
        for j in 0..s.inputs.len() {
            let mut bumped = s.clone();
            bumped.inputs[j] += Fr::one();
            cases.push((format!("fixture {i} input {j} + 1"), bumped, MISMATCH));
        }
        let other = &f.statements[(i + 1) % FIXTURE_PROOFS];
        let mut swapped = s.clone();
        swapped.inputs = other.inputs.clone();
        cases.push((format!("fixture {i} with other inputs"), swapped, MISMATCH));
        let proof = &s.proof;
        let point_swaps = [
            (
                "A and C swapped",
                Proof {
                    a: proof.c,
                    b: proof.b,
                    c: proof.a,
                },
            ),
            (
                "A from another proof",
                Proof {
                    a: other.proof.a,
                    ..proof.clone()
                },
            ),
            (
                "B from another proof",
                Proof {
                    b: other.proof.b,
                    ..proof.clone()
                },
            ),
            (
                "C from another proof",
                Proof {
                    c: other.proof.c,
                    ..proof.clone()
                },
            ),
            (
                "-A",
                Proof {
                    a: -proof.a,
                    ..proof.clone()
                },
            ),
            (
                "-A, -B",
                Proof {
                    a: -proof.a,
                    b: -proof.b,
                    c: proof.c,
                },
            ),
            (
                "A at infinity",
                Proof {
                    a: G1Affine::zero(),
                    ..proof.clone()
                },
            ),
            (
                "B at infinity",
                Proof {
                    b: G2Affine::zero(),
                    ..proof.clone()
                },
            ),
            (
                "C at infinity",
                Proof {
                    c: G1Affine::zero(),
                    ..proof.clone()
                },
            ),
            (
                "all at infinity",
                Proof {
                    a: G1Affine::zero(),
                    b: G2Affine::zero(),
                    c: G1Affine::zero(),
                },
            ),
        ];
        for (name, proof) in point_swaps {
            let expected = if name == "-A, -B" {
                Verdict::Valid // e(-A, -B) = e(A, B): Groth16 proofs are malleable
            } else {
                MISMATCH
            };
            let statement = Statement {
                proof,
                inputs: s.inputs.clone(),
            };
            cases.push((format!("fixture {i}: {name}"), statement, expected));
        }
        // Built around `Statement::new` (its fields are public): the wrong input count.
        let mut short = s.clone();
        short.inputs.pop();
        cases.push((format!("fixture {i} one input short"), short, MISMATCH));
    }
    for (name, statement, expected) in &cases {
        assert_eq!(agreed(key, statement, name), *expected, "{name}");
    }

    // Batches of every size up to 9 from the cases in turn (the valid ones first), and all.
    let statements: Vec<Statement<E>> = cases.iter().map(|c| c.1.clone()).collect();
    for len in 1..=9 {
        for start in [0, 3, 11, 20] {
            let end = (start + len).min(statements.len());
            agreed_batch(key, &statements[start..end], (start * 10 + len) as u64);
        }
    }
    let verdicts = agreed_batch(key, &statements, 99);
    let expected: Vec<Verdict> = cases.iter().map(|c| c.2).collect();
    assert_eq!(verdicts, expected);
}

#[test]
fn batches_of_1_8_and_32_valid_and_with_bad_items() {
    let f = load::<E>();
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut statements = common::rerandomized(&f, 32, &mut rng);
    for n in [1, 8, 32] {
        assert!(
            agreed_batch(&f.key, &statements[..n], n as u64)
                .iter()
                .all(|v| *v == Verdict::Valid)
        );
    }
    // Two bad items that would cancel in an unweighted sum, and a swapped proof.
    statements[5].inputs[0] += Fr::one();
    statements[17].inputs[0] -= Fr::one();
    let (b5, b6) = (statements[6].proof.b, statements[7].proof.b);
    statements[6].proof.b = b6;
    statements[7].proof.b = b5;
    for n in [1, 8, 32] {
        let verdicts = agreed_batch(&f.key, &statements[..n], 100 + n as u64);
        for (i, verdict) in verdicts.iter().enumerate() {
            let bad = [5, 6, 7, 17].contains(&i);
            assert_eq!(*verdict == Verdict::Valid, !bad, "batch of {n}, item {i}");
        }
    }
}

/// Every proof with one byte changed: a rejection from decoding (shared by both backends), or a
/// statement both must call invalid (flipping a point's sign bit, 0x20 in its first byte, gives
/// its negation, which decodes).
#[test]
fn every_single_byte_corruption_of_a_fixture_proof() {
    let limits = Limits::DEFAULT;
    let f = load::<E>();
    let s = &f.statements[1];
    let proof = encode_proof(&s.proof);
    let inputs: Vec<[u8; 32]> = s.inputs.iter().map(encode_scalar::<E>).collect();
    let (mut rejected, mut decoded) = (0, Vec::new());
    for at in 0..proof.len() {
        for flip in [0x01u8, 0x20, 0x80, 0xff] {
            let mut bytes = proof.clone();
            bytes[at] ^= flip;
            match Statement::decode(&f.key, &limits, &bytes, &inputs) {
                Err(_) => rejected += 1,
                Ok(statement) => {
                    let case = format!("byte {at} ^ {flip:#04x}");
                    assert_ne!(agreed(&f.key, &statement, &case), Verdict::Valid, "{case}");
                    decoded.push(statement);
                }
            }
        }
    }
    assert!(
        rejected > 0 && decoded.len() >= 3,
        "{rejected} rejected, {} decoded",
        decoded.len()
    );
    for (i, chunk) in decoded.chunks(7).enumerate() {
        agreed_batch(&f.key, chunk, i as u64);
    }
    // And each input with a low bit flipped (still below the modulus).
    for j in 0..inputs.len() {
        let mut tampered = inputs.clone();
        tampered[j][0] ^= 1;
        let statement = Statement::decode(&f.key, &limits, &proof, &tampered).expect("in range");
        assert_eq!(agreed(&f.key, &statement, &format!("input {j}")), MISMATCH);
    }
}

/// The bls12381 cases of `tests/snarkjs_agreement.rs`, from the same JSON, through the engine:
/// those that parse are verified by both backends, with the appliance's expected answer.
#[test]
fn the_snarkjs_agreement_cases() {
    let limits = Limits::DEFAULT;
    let f = load::<E>();
    let json =
        |name: &str| -> Value { serde_json::from_str(&fixture("bls12381", name)).expect("json") };
    let modulus = "52435875175126190479447740508185965837690552500527637822603658699938581184513";
    let mut cases: Vec<(String, String, String, &str)> = (0..FIXTURE_PROOFS)
        .map(|i| {
            (
                format!("valid {i}"),
                fixture("bls12381", &format!("proof_{i}.json")),
                fixture("bls12381", &format!("public_{i}.json")),
                "valid",
            )
        })
        .collect();
    let proof0 = fixture("bls12381", "proof_0.json");
    let public0 = fixture("bls12381", "public_0.json");
    cases.push((
        "other statement's inputs".into(),
        proof0.clone(),
        fixture("bls12381", "public_1.json"),
        "invalid",
    ));
    let mut bumped = json("public_0.json");
    let x: u128 = bumped[0].as_str().expect("decimal").parse().expect("small");
    bumped[0] = (x + 1).to_string().into();
    cases.push((
        "input + 1".into(),
        proof0.clone(),
        bumped.to_string(),
        "invalid",
    ));
    let mut off = json("proof_0.json");
    off["pi_a"][1] = "5".into();
    cases.push((
        "pi_a off the curve".into(),
        off.to_string(),
        public0.clone(),
        "rejected",
    ));
    let mut outside = json("proof_0.json");
    outside["pi_b"] = g2_outside_subgroup_json();
    cases.push((
        "pi_b outside the subgroup".into(),
        outside.to_string(),
        public0.clone(),
        "rejected",
    ));
    let mut big = json("public_0.json");
    big[1] = modulus.into();
    cases.push((
        "input equal to the modulus".into(),
        proof0.clone(),
        big.to_string(),
        "rejected",
    ));
    let mut aliased = json("public_0.json");
    let aliased_value = Fr::from(x).into_bigint();
    let modulus_plus_x = {
        let mut m = Fr::MODULUS;
        m.add_with_carry(&aliased_value);
        m.to_string()
    };
    aliased[0] = modulus_plus_x.into();
    cases.push((
        "input + modulus (aliased)".into(),
        proof0.clone(),
        aliased.to_string(),
        "rejected",
    ));
    let mut short = json("public_0.json");
    short.as_array_mut().expect("array").pop();
    cases.push((
        "one input missing".into(),
        proof0.clone(),
        short.to_string(),
        "rejected",
    ));
    cases.push((
        "broken JSON".into(),
        "{\"pi_a\": [".into(),
        public0.clone(),
        "rejected",
    ));
    cases.push((
        "proof for the other curve".into(),
        fixture("bn128", "proof_0.json"),
        fixture("bn128", "public_0.json"),
        "rejected",
    ));

    let mut verified = Vec::new();
    for (name, proof, public, expected) in &cases {
        let parsed = snarkjs::parse_proof(proof).ok().and_then(|p| match p {
            snarkjs::AnyProof::Bls12_381(p) => Some(p),
            _ => None,
        });
        let inputs = snarkjs::parse_public_inputs::<E>(public, &limits).ok();
        let statement = parsed
            .zip(inputs)
            .and_then(|(proof, inputs)| Statement::new(&f.key, proof, inputs).ok());
        let ours = match &statement {
            None => "rejected",
            Some(statement) => match agreed(&f.key, statement, name) {
                Verdict::Valid => "valid",
                _ => "invalid",
            },
        };
        assert_eq!(ours, *expected, "{name}");
        verified.extend(statement);
    }
    assert_eq!(verified.len(), FIXTURE_PROOFS + 2);
    agreed_batch(&f.key, &verified, 7);
}

/// A G2 point on the curve outside the subgroup, as snarkjs writes points.
fn g2_outside_subgroup_json() -> Value {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let point = loop {
        let x = ark_bls12_381::Fq2::rand(&mut rng);
        if let Some(p) = Affine::<ark_bls12_381::g2::Config>::get_point_from_x_unchecked(x, false)
            && !p.is_in_correct_subgroup_assuming_on_curve()
        {
            break p;
        }
    };
    let pair = |f: ark_bls12_381::Fq2| -> Value {
        Value::Array(vec![f.c0.to_string().into(), f.c1.to_string().into()])
    };
    Value::Array(vec![
        pair(point.x),
        pair(point.y),
        pair(ark_bls12_381::Fq2::one()),
    ])
}

/// Keys and proofs from known trapdoors, so points at infinity can be put where no honest setup
/// or prover would: an input base, the inputs' sum L, and each of A, B, C of a valid proof.
#[test]
fn trapdoor_keys_with_points_at_infinity() {
    let limits = Limits::DEFAULT;
    let mut rng = ChaCha20Rng::seed_from_u64(31);
    let (g, h) = (G1Projective::generator(), G2Projective::generator());
    for round in 0..12u64 {
        let nonzero = |rng: &mut ChaCha20Rng| loop {
            let x = Fr::rand(rng);
            if !x.is_zero() {
                return x;
            }
        };
        let (alpha, beta, gamma, delta) = (
            nonzero(&mut rng),
            nonzero(&mut rng),
            nonzero(&mut rng),
            nonzero(&mut rng),
        );
        let inputs = (round % 4) as usize; // 0 to 3 public inputs
        let mut ic: Vec<Fr> = (0..=inputs).map(|_| Fr::rand(&mut rng)).collect();
        if inputs > 1 {
            ic[2] = Fr::zero(); // an input base at infinity
        }
        if round % 5 == 0 {
            ic[0] = Fr::zero();
        }
        let vk = VerifyingKey::<E> {
            alpha_g1: (g * alpha).into_affine(),
            beta_g2: (h * beta).into_affine(),
            gamma_g2: (h * gamma).into_affine(),
            delta_g2: (h * delta).into_affine(),
            gamma_abc_g1: ic.iter().map(|x| (g * x).into_affine()).collect(),
        };
        let key = PreparedKey::new(&limits, vk).expect("a key with no infinity among alpha..delta");
        // A valid proof for inputs x: any a, b, and c = (ab - alpha beta - l gamma) / delta.
        let prove = |x: &[Fr], a: Fr, b: Fr| -> Statement<E> {
            let l = ic[0] + x.iter().zip(&ic[1..]).map(|(x, i)| *x * i).sum::<Fr>();
            let c = (a * b - alpha * beta - l * gamma) * delta.inverse().expect("non-zero");
            let proof = Proof {
                a: (g * a).into_affine(),
                b: (h * b).into_affine(),
                c: (g * c).into_affine(),
            };
            Statement::new(&key, proof, x.to_vec()).expect("count")
        };
        let x: Vec<Fr> = (0..inputs).map(|_| Fr::rand(&mut rng)).collect();
        let (a, b) = (nonzero(&mut rng), nonzero(&mut rng));
        let mut statements = vec![
            (prove(&x, a, b), Verdict::Valid),
            (prove(&x, Fr::zero(), b), Verdict::Valid), // A at infinity
            (prove(&x, a, Fr::zero()), Verdict::Valid), // B at infinity
        ];
        // C at infinity: a b = alpha beta + l gamma.
        let l = ic[0] + x.iter().zip(&ic[1..]).map(|(x, i)| *x * i).sum::<Fr>();
        let a_for_c0 = (alpha * beta + l * gamma) * b.inverse().expect("non-zero");
        let c0 = prove(&x, a_for_c0, b);
        assert!(c0.proof.c.is_zero());
        statements.push((c0, Verdict::Valid));
        // L at infinity: inputs chosen so that IC_0 + sum x_j IC_j = 0.
        if inputs > 0 && !ic[1].is_zero() {
            let mut x0 = x.clone();
            let rest: Fr = x0[1..].iter().zip(&ic[2..]).map(|(x, i)| *x * i).sum();
            x0[0] = -(ic[0] + rest) * ic[1].inverse().expect("non-zero");
            statements.push((prove(&x0, a, b), Verdict::Valid));
        }
        // And invalid ones: each valid one with C moved, and with an input changed.
        let invalid: Vec<(Statement<E>, Verdict)> = statements
            .iter()
            .flat_map(|(s, _)| {
                let mut moved = s.clone();
                moved.proof.c = (moved.proof.c + G1Affine::generator()).into_affine();
                let mut changed = s.clone();
                if let Some(x) = changed.inputs.first_mut() {
                    *x += Fr::one();
                } else {
                    // No inputs: C moved the other way (A would not matter when B is at
                    // infinity).
                    changed.proof.c = (changed.proof.c - G1Affine::generator()).into_affine();
                }
                [(moved, MISMATCH), (changed, MISMATCH)]
            })
            .collect();
        statements.extend(invalid);
        for (i, (statement, expected)) in statements.iter().enumerate() {
            let case = format!("round {round} statement {i}");
            assert_eq!(agreed(&key, statement, &case), *expected, "{case}");
        }
        let all: Vec<Statement<E>> = statements.iter().map(|s| s.0.clone()).collect();
        let valid = statements.iter().filter(|s| s.1 == Verdict::Valid).count();
        assert!(
            agreed_batch(&key, &all[..valid], round)
                .iter()
                .all(|v| *v == Verdict::Valid)
        );
        agreed_batch(&key, &all, round + 100);
    }
}
