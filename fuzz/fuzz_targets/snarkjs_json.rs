//! Feeds arbitrary text to the snarkjs JSON parsers a partner's files go through (`appliance
//! verify`, bundle keys): `verification_key.json`, `proof.json` and `public.json` on both curves.
//! Whatever parses has a canonical arkworks encoding that decodes back to the same value, so a
//! key or proof read from JSON means the same thing on the wire.
#![no_main]

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_groth16::{Proof, VerifyingKey};
use libfuzzer_sys::fuzz_target;
use tf_engine::Limits;
use tf_engine::groth16::SupportedCurve;
use tf_engine::groth16::decode::{
    decode_proof, decode_public_inputs, decode_verifying_key, encode_proof, encode_scalar,
    encode_verifying_key,
};
use tf_engine::groth16::snarkjs::{
    AnyProof, AnyVerifyingKey, parse_proof, parse_public_inputs, parse_verifying_key,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::DEFAULT;
    match parse_verifying_key(text, &limits) {
        Ok(AnyVerifyingKey::Bn254(key)) => key_round_trip::<Bn254>(&key),
        Ok(AnyVerifyingKey::Bls12_381(key)) => key_round_trip::<Bls12_381>(&key),
        _ => {}
    }
    match parse_proof(text) {
        Ok(AnyProof::Bn254(proof)) => proof_round_trip::<Bn254>(&proof),
        Ok(AnyProof::Bls12_381(proof)) => proof_round_trip::<Bls12_381>(&proof),
        _ => {}
    }
    inputs_round_trip::<Bn254>(text);
    inputs_round_trip::<Bls12_381>(text);
});

fn key_round_trip<E: SupportedCurve>(key: &VerifyingKey<E>) {
    let bytes = encode_verifying_key(key);
    let again = decode_verifying_key::<E>(&Limits::DEFAULT, &bytes);
    assert_eq!(again.as_ref().ok(), Some(key), "{again:?}");
}

fn proof_round_trip<E: SupportedCurve>(proof: &Proof<E>) {
    let bytes = encode_proof(proof);
    let again = decode_proof::<E>(&bytes);
    assert_eq!(again.as_ref().ok(), Some(proof), "{again:?}");
}

fn inputs_round_trip<E: SupportedCurve>(text: &str) {
    let limits = Limits::DEFAULT;
    if let Ok(inputs) = parse_public_inputs::<E>(text, &limits) {
        let bytes: Vec<_> = inputs.iter().map(encode_scalar::<E>).collect();
        let again = decode_public_inputs::<E>(&limits, &bytes);
        assert_eq!(again.as_ref().ok(), Some(&inputs), "{again:?}");
    }
}
