//! Groth16 against the snarkjs fixtures (tests/fixtures/groth16): valid, invalid and malformed
//! inputs on both curves, single and batched.

mod common;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_ec::AffineRepr;
use ark_ec::short_weierstrass::Affine;
use ark_ff::{One, UniformRand};
use ark_groth16::{Groth16, Proof};
use common::{FIXTURE_PROOFS, FromAny, fixture, load};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_engine::groth16::decode::{decode_proof, encode_proof, encode_scalar, encode_verifying_key};
use tf_engine::groth16::snarkjs;
use tf_engine::groth16::{
    AnyKey, Curve, EncodedStatement, Holder, KeyRegistry, KeyRoom, RegistryFull, Statement,
    verify_batch, verify_one,
};
use tf_engine::{InvalidReason, Limits, Rejection, Verdict};

fn valid_invalid_and_batch<E: FromAny>() {
    let f = load::<E>();
    assert_eq!(f.key.public_inputs(), 4);
    for (i, s) in f.statements.iter().enumerate() {
        assert_eq!(verify_one(&f.key, s), Verdict::Valid, "fixture proof {i}");
    }
    // A proof for other public inputs is well formed but invalid.
    let mut wrong = f.statements[0].clone();
    wrong.inputs[0] += E::ScalarField::one();
    assert_eq!(
        verify_one(&f.key, &wrong),
        Verdict::Invalid(InvalidReason::ProofMismatch)
    );
    // Proof 1 with proof 0's inputs: invalid.
    let swapped = Statement::new(
        &f.key,
        f.statements[1].proof.clone(),
        f.statements[0].inputs.clone(),
    )
    .expect("count");
    assert!(matches!(verify_one(&f.key, &swapped), Verdict::Invalid(_)));

    // A batch of one is verified on its own, in two steps: same verdicts.
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    assert_eq!(
        verify_batch(&f.key, std::slice::from_ref(&f.statements[0]), &mut rng),
        vec![Verdict::Valid]
    );
    assert_eq!(
        verify_batch(&f.key, std::slice::from_ref(&wrong), &mut rng),
        vec![Verdict::Invalid(InvalidReason::ProofMismatch)]
    );

    // A batch of 9 distinct valid proofs (re-randomised: same statements, new proof bytes) with
    // one bad proof in the middle: only that one is invalid.
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut batch: Vec<Statement<E>> = (0..9)
        .map(|i| {
            let s = &f.statements[i % FIXTURE_PROOFS];
            let proof = Groth16::<E>::rerandomize_proof(f.key.verifying_key(), &s.proof, &mut rng);
            Statement::new(&f.key, proof, s.inputs.clone()).expect("count")
        })
        .collect();
    assert!(
        verify_batch(&f.key, &batch, &mut rng)
            .iter()
            .all(|v| *v == Verdict::Valid)
    );
    batch[4] = wrong.clone();
    let verdicts = verify_batch(&f.key, &batch, &mut rng);
    for (i, v) in verdicts.iter().enumerate() {
        let expected = if i == 4 {
            Verdict::Invalid(InvalidReason::ProofMismatch)
        } else {
            Verdict::Valid
        };
        assert_eq!(*v, expected, "batch item {i}");
    }
    // Two bad items that could cancel in an unweighted sum: +1 and -1 on the same input.
    let mut minus = f.statements[0].clone();
    minus.inputs[0] -= E::ScalarField::one();
    batch[6] = minus;
    let verdicts = verify_batch(&f.key, &batch, &mut rng);
    let invalid: Vec<usize> = (0..9).filter(|i| verdicts[*i] != Verdict::Valid).collect();
    assert_eq!(invalid, vec![4, 6]);
}

#[test]
fn bn254_valid_invalid_and_batch() {
    valid_invalid_and_batch::<Bn254>();
}

#[test]
fn bls12_381_valid_invalid_and_batch() {
    valid_invalid_and_batch::<Bls12_381>();
}

fn binary_round_trip_and_malformed<E: FromAny>() {
    let limits = Limits::DEFAULT;
    let f = load::<E>();
    let key_bytes = encode_verifying_key(f.key.verifying_key());
    let any = AnyKey::decode(E::CURVE, &limits, &key_bytes).expect("canonical key decodes");
    assert_eq!(
        any.id(),
        f.key.id(),
        "same key id from snarkjs JSON and arkworks bytes"
    );
    let room = KeyRoom {
        bundle: 1,
        partners: 1,
    };
    let mut registry = KeyRegistry::new(room);
    let id = registry
        .insert(any.clone(), Holder::Partners)
        .expect("room for one");
    let key = registry.get(&id).expect("registered");

    let s = &f.statements[2];
    let proof = encode_proof(&s.proof);
    let inputs: Vec<[u8; 32]> = s.inputs.iter().map(encode_scalar::<E>).collect();
    let encoded = |proof: &[u8], inputs: &[[u8; 32]]| {
        key.verify_encoded(&limits, EncodedStatement { proof, inputs })
    };
    assert_eq!(encoded(&proof, &inputs), Verdict::Valid);

    // Wrong length, wrong input count, input not below the modulus.
    assert!(matches!(
        encoded(&proof[1..], &inputs),
        Verdict::Rejected(Rejection::WrongLength { .. })
    ));
    assert_eq!(
        encoded(&proof, &inputs[..3]),
        Verdict::Rejected(Rejection::InputCountMismatch {
            expected: 4,
            actual: 3
        })
    );
    let mut big = inputs.clone();
    big[1] = [0xff; 32];
    assert!(matches!(
        encoded(&proof, &big),
        Verdict::Rejected(Rejection::ScalarOutOfRange { field }) if field.to_string() == "public_inputs[1]"
    ));
    let too_many = vec![[0u8; 32]; limits.max_public_inputs + 1];
    assert!(matches!(
        encoded(&proof, &too_many),
        Verdict::Rejected(Rejection::TooMany { .. })
    ));

    // A G2 point on the curve but outside the subgroup, in place of B.
    let outside = point_outside_subgroup::<E::G2Config>();
    let forged = Proof::<E> {
        a: s.proof.a,
        b: outside,
        c: s.proof.c,
    };
    let verdict = encoded(&encode_proof(&forged), &inputs);
    assert!(
        matches!(verdict, Verdict::Rejected(Rejection::NotInSubgroup { field }) if field.to_string() == "proof.b"),
        "{verdict:?}"
    );
    // Garbage bytes never panic and are rejected.
    assert!(matches!(
        encoded(&vec![0xffu8; proof.len()], &inputs),
        Verdict::Rejected(_)
    ));
    // A holder's room is its own: a key beyond partners' room is refused, though the bundle
    // may still hold it; once the bundle releases it, the key is gone.
    let mut full = KeyRegistry::new(KeyRoom {
        bundle: 1,
        partners: 0,
    });
    assert_eq!(
        full.insert(any.clone(), Holder::Partners),
        Err(RegistryFull::Partners { capacity: 0 })
    );
    let id = full
        .insert(any, Holder::Bundle)
        .expect("room in the bundle's");
    assert_eq!(
        full.hold(&id, Holder::Partners),
        Err(RegistryFull::Partners { capacity: 0 })
    );
    full.release(&id, Holder::Bundle);
    assert!(full.get(&id).is_err() && full.is_empty());
    assert!(matches!(
        decode_proof::<E>(&proof[..10]),
        Err(Rejection::WrongLength { .. })
    ));
}

/// Finds a point on the curve that is not in the prime-order subgroup.
fn point_outside_subgroup<C: ark_ec::short_weierstrass::SWCurveConfig>() -> Affine<C> {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    loop {
        let x = C::BaseField::rand(&mut rng);
        if let Some(p) = Affine::<C>::get_point_from_x_unchecked(x, false)
            && !p.is_in_correct_subgroup_assuming_on_curve()
            && !p.is_zero()
        {
            return p;
        }
    }
}

#[test]
fn bn254_binary_round_trip_and_malformed() {
    binary_round_trip_and_malformed::<Bn254>();
}

#[test]
fn bls12_381_binary_round_trip_and_malformed() {
    binary_round_trip_and_malformed::<Bls12_381>();
}

#[test]
fn batch_of_encoded_statements_keeps_rejections_in_place() {
    let limits = Limits::DEFAULT;
    let f = load::<Bn254>();
    let key = AnyKey::Bn254(Box::new(f.key.clone()));
    let proofs: Vec<Vec<u8>> = f
        .statements
        .iter()
        .map(|s| encode_proof(&s.proof))
        .collect();
    let inputs: Vec<Vec<[u8; 32]>> = f
        .statements
        .iter()
        .map(|s| s.inputs.iter().map(encode_scalar::<Bn254>).collect())
        .collect();
    let mut items: Vec<EncodedStatement> = (0..FIXTURE_PROOFS)
        .map(|i| EncodedStatement {
            proof: &proofs[i],
            inputs: &inputs[i],
        })
        .collect();
    items[1].proof = &proofs[1][..5];
    let verdicts = key.verify_batch_encoded(&limits, &items, &mut ChaCha20Rng::seed_from_u64(1));
    assert_eq!(verdicts[0], Verdict::Valid);
    assert!(matches!(
        verdicts[1],
        Verdict::Rejected(Rejection::WrongLength { .. })
    ));
    assert_eq!(verdicts[2], Verdict::Valid);
    assert_eq!(verdicts[3], Verdict::Valid);
}

#[test]
fn snarkjs_errors_name_the_field() {
    let limits = Limits::DEFAULT;
    let proof = fixture("bn128", "proof_0.json");
    let mut doc: serde_json::Value = serde_json::from_str(&proof).expect("json");
    doc["pi_a"][1] = serde_json::Value::String("5".into());
    let err = snarkjs::parse_proof(&doc.to_string()).expect_err("(x, 5) is not on the curve");
    assert_eq!(err.path, "pi_a");
    assert!(err.problem.contains("not on the curve"), "{err}");
    doc = serde_json::from_str(&proof).expect("json");
    doc["pi_b"][0][1] = serde_json::Value::String("12x".into());
    let err = snarkjs::parse_proof(&doc.to_string()).expect_err("not decimal");
    assert_eq!(err.path, "pi_b[0][1]");
    doc = serde_json::from_str(&proof).expect("json");
    doc["curve"] = serde_json::Value::String("secp256k1".into());
    assert_eq!(
        snarkjs::parse_proof(&doc.to_string())
            .expect_err("curve")
            .path,
        "curve"
    );
    assert!(snarkjs::parse_proof("{").is_err());
    assert!(snarkjs::parse_verifying_key("[]", &limits).is_err());
    let key = fixture("bls12381", "verification_key.json");
    let mut doc: serde_json::Value = serde_json::from_str(&key).expect("json");
    doc["nPublic"] = 3.into();
    assert_eq!(
        snarkjs::parse_verifying_key(&doc.to_string(), &limits)
            .expect_err("nPublic")
            .path,
        "nPublic"
    );
    assert_eq!(Curve::Bls12_381.proof_bytes(), 192);
}
