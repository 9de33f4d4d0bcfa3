//! Feeds arbitrary bytes to the arkworks canonical decoders partners reach over the wire, on
//! both curves: a verifying key as `RegisterKey` carries it (`AnyKey::decode`, with the limits,
//! preparing the key), a compressed proof and 32-byte public inputs as `Submit` carries them.
//! Only canonical encodings decode, so whatever decodes re-encodes to exactly the input.
#![no_main]

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use libfuzzer_sys::fuzz_target;
use tf_engine::groth16::decode::{
    SCALAR_BYTES, decode_proof, decode_public_inputs, encode_proof, encode_scalar,
    encode_verifying_key,
};
use tf_engine::groth16::{AnyKey, SupportedCurve};
use tf_engine::{KeyId, Limits};

fuzz_target!(|data: &[u8]| {
    key::<Bn254>(data);
    key::<Bls12_381>(data);
    proof::<Bn254>(data);
    proof::<Bls12_381>(data);
    inputs::<Bn254>(data);
    inputs::<Bls12_381>(data);
});

fn key<E: SupportedCurve>(data: &[u8]) {
    let Ok(any) = AnyKey::decode(E::CURVE, &Limits::DEFAULT, data) else {
        return;
    };
    let key = E::key_of(&any).expect("a key decoded on a curve is on that curve");
    assert_eq!(encode_verifying_key(key.verifying_key()), data);
    assert_eq!(any.id(), KeyId::of_canonical_bytes(data));
    assert_eq!(
        any.public_inputs(),
        key.verifying_key().gamma_abc_g1.len() - 1
    );
}

fn proof<E: SupportedCurve>(data: &[u8]) {
    if let Ok(proof) = decode_proof::<E>(data) {
        assert_eq!(encode_proof(&proof), data);
    }
}

fn inputs<E: SupportedCurve>(data: &[u8]) {
    let (chunks, rest) = data.as_chunks::<SCALAR_BYTES>();
    if !rest.is_empty() {
        return;
    }
    if let Ok(scalars) = decode_public_inputs::<E>(&Limits::DEFAULT, chunks) {
        let again: Vec<_> = scalars.iter().map(encode_scalar::<E>).collect();
        assert_eq!(again, chunks);
    }
}
