//! Identities: verifying key ids and statement digests (SHA-256).

use std::fmt;

use sha2::{Digest, Sha256};

/// The id of a verifying key: SHA-256 of its arkworks canonical compressed bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 32]);

impl KeyId {
    /// The id of a key given its canonical compressed bytes.
    pub fn of_canonical_bytes(bytes: &[u8]) -> Self {
        KeyId(Sha256::digest(bytes).into())
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text.trim_start_matches("0x"), &mut out).ok()?;
        Some(KeyId(out))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// What a request asks to be true, independent of how the proof is encoded. Groth16 proofs are
/// malleable (anyone can re-randomise a valid proof), so deduplication keys on this digest,
/// never on proof bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatementDigest(pub [u8; 32]);

impl StatementDigest {
    /// Digest of a Groth16 statement: key id and public inputs (32-byte little-endian each).
    pub fn groth16<'a>(key: &KeyId, inputs: impl ExactSizeIterator<Item = &'a [u8; 32]>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"trust-fabric/statement/groth16/v1\0");
        hasher.update(key.0);
        hasher.update((inputs.len() as u64).to_le_bytes());
        for input in inputs {
            hasher.update(input);
        }
        StatementDigest(hasher.finalize().into())
    }

    /// Digest of a BLS statement: the kind, then each (public key, message) pair, length-prefixed.
    pub fn bls<'a>(kind: &str, pairs: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"trust-fabric/statement/bls/v1\0");
        hasher.update(kind.as_bytes());
        hasher.update([0]);
        hasher.update((pairs.len() as u64).to_le_bytes());
        for (key, message) in pairs {
            hasher.update(key);
            hasher.update((message.len() as u64).to_le_bytes());
            hasher.update(message);
        }
        StatementDigest(hasher.finalize().into())
    }
}

impl fmt::Display for StatementDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for StatementDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatementDigest({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_digest_depends_on_key_and_every_input() {
        let key = KeyId([1; 32]);
        let inputs = [[2u8; 32], [3u8; 32]];
        let base = StatementDigest::groth16(&key, inputs.iter());
        assert_ne!(
            base,
            StatementDigest::groth16(&KeyId([9; 32]), inputs.iter())
        );
        assert_ne!(base, StatementDigest::groth16(&key, inputs[..1].iter()));
        assert_ne!(
            base,
            StatementDigest::groth16(&key, [[2u8; 32], [4u8; 32]].iter())
        );
        assert_eq!(base, StatementDigest::groth16(&key, inputs.iter()));
    }

    #[test]
    fn bls_digest_separates_kind_and_message_boundaries() {
        let a = StatementDigest::bls("single", [(&b"k"[..], &b"ab"[..])].into_iter());
        let b = StatementDigest::bls("single", [(&b"ka"[..], &b"b"[..])].into_iter());
        let c = StatementDigest::bls("fast-aggregate", [(&b"k"[..], &b"ab"[..])].into_iter());
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn key_id_hex_round_trips() {
        let id = KeyId::of_canonical_bytes(b"key");
        assert_eq!(KeyId::from_hex(&id.to_string()), Some(id));
        assert_eq!(KeyId::from_hex("zz"), None);
    }
}
