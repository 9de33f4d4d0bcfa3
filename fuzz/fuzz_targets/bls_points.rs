//! Feeds arbitrary bytes to the BLS decoders as the engine applies them to what partners send:
//! a public key (G1, 48 bytes), a signature (G2, 96 bytes), and a list of public keys for an
//! aggregate, summed as a fast aggregate is. Only canonical compressed encodings decode, so
//! whatever decodes re-encodes to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_engine::bls::{
    PUBLIC_KEY_BYTES, PublicKey, Signature, aggregate_public_keys, decode_public_keys,
};
use tf_engine::{Field, Limits};

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PublicKey::decode(data, Field::new("public_key")) {
        assert_eq!(key.to_bytes()[..], data[..]);
    }
    if let Ok(signature) = Signature::decode(data, Field::new("signature")) {
        assert_eq!(signature.to_bytes()[..], data[..]);
    }
    if data.len() > PUBLIC_KEY_BYTES && data.len().is_multiple_of(PUBLIC_KEY_BYTES) {
        let chunks = data.chunks_exact(PUBLIC_KEY_BYTES);
        if let Ok(keys) = decode_public_keys(&Limits::DEFAULT, chunks.clone()) {
            for (key, bytes) in keys.iter().zip(chunks) {
                assert_eq!(key.to_bytes()[..], bytes[..]);
            }
            assert!(aggregate_public_keys(&keys).is_some(), "keys were given");
        }
    }
});
