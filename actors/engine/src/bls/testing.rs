//! Signed statements for the BLS modules' tests.

use super::{PUBLIC_KEY_BYTES, PublicKey, Signature, aggregate_signatures, sign};

/// Keys that each signed their message, and the aggregate of their signatures.
pub(crate) struct Signed {
    pub keys: Vec<PublicKey>,
    pub messages: Vec<Vec<u8>>,
    pub aggregate: Signature,
}

/// `n` distinct keys, key `i` signing `message(i)`; the aggregate of none is the identity.
pub(crate) fn signed(n: usize, message: impl Fn(usize) -> Vec<u8>) -> Signed {
    let (mut keys, mut messages, mut signatures) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let mut secret = [0u8; 32];
        secret[0] = 0x11;
        secret[28..].copy_from_slice(&(i as u32 + 1).to_be_bytes());
        let m = message(i);
        let (signature, key) = sign(&secret, &m).expect("valid secret key");
        keys.push(key);
        messages.push(m);
        signatures.push(signature);
    }
    let aggregate = aggregate_signatures(&signatures).unwrap_or_else(|| {
        let mut identity = [0u8; 96];
        identity[0] = 0xc0;
        Signature::decode(&identity, crate::Field::new("signature")).expect("identity decodes")
    });
    Signed {
        keys,
        messages,
        aggregate,
    }
}

/// The keys' compressed encodings.
pub(crate) fn encoded_keys(keys: &[PublicKey]) -> Vec<[u8; PUBLIC_KEY_BYTES]> {
    keys.iter().map(PublicKey::to_bytes).collect()
}
