//! One value, one encoding: every point, proof and key the engine accepts re-encodes to exactly
//! the bytes it was given, on both Groth16 curves and for BLS keys and signatures. A key that
//! decoded from other bytes would be stored under an id its file does not hash to.

mod common;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_ec::short_weierstrass::Affine;
use ark_groth16::VerifyingKey;
use ark_serialize::CanonicalSerialize;
use common::{FromAny, load};
use proptest::prelude::*;
use tf_engine::bls::{PublicKey, Signature};
use tf_engine::groth16::decode::{decode_proof, encode_proof, encode_verifying_key};
use tf_engine::groth16::{AnyKey, PreparedKey, SupportedCurve};
use tf_engine::{Field, Limits, Rejection};

/// The compressed encoding of the point at infinity with one more bit set, away from the flags:
/// arkworks reads the infinity flag and would ignore it.
fn flagged_infinity_with_x<C: ark_ec::short_weierstrass::SWCurveConfig>() -> Vec<u8> {
    let mut bytes = Vec::new();
    Affine::<C>::identity()
        .serialize_compressed(&mut bytes)
        .expect("encodes");
    let middle = bytes.len() / 2;
    bytes[middle] |= 1;
    bytes
}

fn key_with_first_input_point<E: FromAny>(point: &[u8]) -> Vec<u8> {
    let f = load::<E>();
    let mut bytes = encode_verifying_key(f.key.verifying_key());
    let g1 = point.len();
    let at = bytes.len() - (f.key.public_inputs() + 1) * g1;
    bytes[at..at + g1].copy_from_slice(point);
    bytes
}

fn flagged_infinity_key_is_refused<E: FromAny>() {
    let limits = Limits::DEFAULT;
    let bytes = key_with_first_input_point::<E>(&flagged_infinity_with_x::<E::G1Config>());
    match AnyKey::decode(E::CURVE, &limits, &bytes) {
        Err(Rejection::NonCanonical { field } | Rejection::BadEncoding { field }) => {
            assert_eq!(field.to_string(), "verifying_key.gamma_abc_g1[0]");
        }
        other => panic!("a non-canonical key must be refused, got {other:?}"),
    }
    // The canonical point at infinity in the same place is a different key, and accepted.
    let mut canonical = Vec::new();
    Affine::<E::G1Config>::identity()
        .serialize_compressed(&mut canonical)
        .expect("encodes");
    let bytes = key_with_first_input_point::<E>(&canonical);
    let key = AnyKey::decode(E::CURVE, &limits, &bytes).expect("canonical bytes decode");
    assert_eq!(key.id(), tf_engine::KeyId::of_canonical_bytes(&bytes));
}

#[test]
fn bn254_key_with_a_flagged_infinity_and_nonzero_x_is_refused_as_non_canonical() {
    flagged_infinity_key_is_refused::<Bn254>();
    // arkworks' BN254 decoder takes these bytes; only the canonical check refuses them.
    let bytes = key_with_first_input_point::<Bn254>(&flagged_infinity_with_x::<
        <Bn254 as SupportedCurve>::G1Config,
    >());
    assert!(matches!(
        AnyKey::decode(tf_engine::groth16::Curve::Bn254, &Limits::DEFAULT, &bytes),
        Err(Rejection::NonCanonical { .. })
    ));
}

#[test]
fn bls12_381_key_with_a_flagged_infinity_and_nonzero_x_is_refused() {
    flagged_infinity_key_is_refused::<Bls12_381>();
}

/// A change that puts one of a key's fixed elements at infinity.
type Degenerate<E> = fn(&mut VerifyingKey<E>);

fn degenerate_keys_are_refused<E: FromAny>() {
    let f = load::<E>();
    let limits = Limits::DEFAULT;
    let good = f.key.verifying_key().clone();
    let cases: [(&str, Degenerate<E>); 4] = [
        ("verifying_key.alpha_g1", |k| {
            k.alpha_g1 = Affine::identity()
        }),
        ("verifying_key.beta_g2", |k| k.beta_g2 = Affine::identity()),
        ("verifying_key.gamma_g2", |k| {
            k.gamma_g2 = Affine::identity()
        }),
        ("verifying_key.delta_g2", |k| {
            k.delta_g2 = Affine::identity()
        }),
    ];
    for (name, degenerate) in cases {
        let mut key = good.clone();
        degenerate(&mut key);
        assert_eq!(
            PreparedKey::new(&limits, key.clone()).err(),
            Some(Rejection::Infinity {
                field: Field::new(name)
            }),
            "{name} at infinity"
        );
        assert!(
            AnyKey::decode(E::CURVE, &limits, &encode_verifying_key(&key)).is_err(),
            "{name} at infinity, from bytes"
        );
    }
}

#[test]
fn keys_with_a_fixed_element_at_infinity_are_refused_on_both_curves() {
    degenerate_keys_are_refused::<Bn254>();
    degenerate_keys_are_refused::<Bls12_381>();
}

/// Whatever a flipped byte does to a valid proof, the decoder either refuses it or was given
/// the canonical encoding of what it decoded.
fn mutated_proofs_decode_only_canonically<E: FromAny>(
    index: prop::sample::Index,
    mask: u8,
    which: usize,
) -> Result<(), TestCaseError> {
    let f = load::<E>();
    let mut bytes = encode_proof(&f.statements[which % f.statements.len()].proof);
    let at = index.index(bytes.len());
    bytes[at] ^= mask;
    if let Ok(proof) = decode_proof::<E>(&bytes) {
        prop_assert_eq!(encode_proof(&proof), bytes);
    }
    Ok(())
}

fn mutated_bls_decode_only_canonically(
    secret: u64,
    index: prop::sample::Index,
    mask: u8,
) -> Result<(), TestCaseError> {
    let message = secret.to_le_bytes();
    let mut seed = [7u8; 32];
    seed[24..].copy_from_slice(&secret.to_le_bytes());
    let (signature, key) = tf_engine::bls::sign(&seed, &message).expect("signs");
    let mut key_bytes = key.to_bytes();
    let at = index.index(key_bytes.len());
    key_bytes[at] ^= mask;
    if let Ok(decoded) = PublicKey::decode(&key_bytes, Field::new("public_key")) {
        prop_assert_eq!(decoded.to_bytes(), key_bytes);
    }
    let mut sig_bytes = signature.to_bytes();
    let at = index.index(sig_bytes.len());
    sig_bytes[at] ^= mask;
    if let Ok(decoded) = Signature::decode(&sig_bytes, Field::new("signature")) {
        prop_assert_eq!(decoded.to_bytes(), sig_bytes);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bn254_proofs_decode_only_from_canonical_bytes(
        index: prop::sample::Index, mask in 1u8.., which in 0usize..4
    ) {
        mutated_proofs_decode_only_canonically::<Bn254>(index, mask, which)?;
    }

    #[test]
    fn bls12_381_proofs_decode_only_from_canonical_bytes(
        index: prop::sample::Index, mask in 1u8.., which in 0usize..4
    ) {
        mutated_proofs_decode_only_canonically::<Bls12_381>(index, mask, which)?;
    }

    #[test]
    fn bls_keys_and_signatures_decode_only_from_canonical_bytes(
        secret: u64, index: prop::sample::Index, mask in 1u8..
    ) {
        mutated_bls_decode_only_canonically(secret, index, mask)?;
    }
}

#[test]
fn bls_infinity_with_other_bits_set_is_refused() {
    let mut signature = [0u8; 96];
    signature[0] = 0xc0;
    signature[50] = 1;
    assert!(Signature::decode(&signature, Field::new("signature")).is_err());
    let mut key = [0u8; 48];
    key[0] = 0xc0;
    key[20] = 1;
    assert!(PublicKey::decode(&key, Field::new("public_key")).is_err());
}
