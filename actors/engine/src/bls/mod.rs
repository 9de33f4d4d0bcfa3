//! BLS signatures on BLS12-381, minimal-pubkey-size variant, with the Ethereum proof-of-possession
//! ciphersuite. Keys and signatures use the compressed Ethereum/ZCash encoding and are checked on
//! decode (on curve, in the subgroup, keys not at infinity), so verification never repeats it.

mod aggregate;
mod batch;
mod decode;
mod ffi;
#[cfg(test)]
mod testing;
mod verify;

pub use aggregate::{AggregateRun, verify_aggregate_encoded};
pub use batch::{BatchItem, BlsCheck, BlsScheme, verify_batch};
pub use decode::{EncodedStatement, KeySum, StatementDecoder};
pub use verify::{
    aggregate_public_keys, aggregate_signatures, aggregate_verify, fast_aggregate_verify, sign,
    verify,
};

use blst::BLST_ERROR;
use blst::min_pk;

use crate::work::{Op, record};
use crate::{Field, Limits, Rejection};

/// The ciphersuite's domain separation tag.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Bytes in a compressed public key (a G1 point).
pub const PUBLIC_KEY_BYTES: usize = 48;
/// Bytes in a compressed signature (a G2 point).
pub const SIGNATURE_BYTES: usize = 96;
/// Bytes in a secret key.
pub const SECRET_KEY_BYTES: usize = 32;

/// A public key that passed KeyValidate: on the curve, in G1, not the identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(pub(crate) min_pk::PublicKey);

impl PublicKey {
    /// Decodes and validates a compressed public key.
    pub fn decode(bytes: &[u8], field: Field) -> Result<Self, Rejection> {
        check_compressed(bytes, PUBLIC_KEY_BYTES, field)?;
        record(Op::KeyDecode);
        let key = min_pk::PublicKey::from_bytes(bytes).map_err(|e| rejection(e, field))?;
        key.validate().map_err(|e| rejection(e, field))?;
        check_canonical(&key.compress(), bytes, field)?;
        Ok(PublicKey(key))
    }

    /// The compressed encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_BYTES] {
        self.0.compress()
    }
}

/// A signature on the curve and in G2. The identity is allowed (it is a valid encoding and the
/// aggregate of nothing); it never verifies against a validated key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature(pub(crate) min_pk::Signature);

impl Signature {
    /// Decodes a compressed signature and checks it is in G2.
    pub fn decode(bytes: &[u8], field: Field) -> Result<Self, Rejection> {
        check_compressed(bytes, SIGNATURE_BYTES, field)?;
        record(Op::SignatureDecode);
        let sig = min_pk::Signature::from_bytes(bytes).map_err(|e| rejection(e, field))?;
        sig.validate(false).map_err(|e| rejection(e, field))?;
        check_canonical(&sig.compress(), bytes, field)?;
        Ok(Signature(sig))
    }

    /// The compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.0.compress()
    }
}

/// Decodes a list of public keys, checking the count against the limits before any curve work.
pub fn decode_public_keys<'a>(
    limits: &Limits,
    keys: impl ExactSizeIterator<Item = &'a [u8]>,
) -> Result<Vec<PublicKey>, Rejection> {
    check_key_count(limits, keys.len())?;
    keys.enumerate()
        .map(|(i, bytes)| PublicKey::decode(bytes, key_field(i)))
        .collect()
}

/// Checks an aggregate's key count against the limits.
pub fn check_key_count(limits: &Limits, count: usize) -> Result<(), Rejection> {
    if count > limits.max_aggregate_keys {
        return Err(Rejection::TooMany {
            field: Field::new("public_keys"),
            limit: limits.max_aggregate_keys,
            actual: count,
        });
    }
    Ok(())
}

/// The field naming an aggregate's `i`th key.
fn key_field(i: usize) -> Field {
    Field::at("public_keys", i)
}

/// Checks a message's length against the limits.
pub fn check_message(limits: &Limits, message: &[u8], field: Field) -> Result<(), Rejection> {
    if message.len() > limits.max_message_bytes {
        return Err(Rejection::TooLong {
            field,
            limit: limits.max_message_bytes,
            actual: message.len(),
        });
    }
    Ok(())
}

fn check_compressed(bytes: &[u8], expected: usize, field: Field) -> Result<(), Rejection> {
    if bytes.len() != expected {
        return Err(Rejection::WrongLength {
            field,
            expected,
            actual: bytes.len(),
        });
    }
    // Only the compressed form is accepted on the wire; blst would also take the uncompressed
    // form at twice the length, which the length check above already excludes.
    if bytes[0] & 0x80 == 0 {
        return Err(Rejection::BadEncoding { field });
    }
    Ok(())
}

/// One point, one encoding: bytes that decode but are not what compression writes are refused
/// (blst is strict today; this keeps the promise whatever the library accepts).
fn check_canonical(canonical: &[u8], bytes: &[u8], field: Field) -> Result<(), Rejection> {
    if canonical != bytes {
        return Err(Rejection::NonCanonical { field });
    }
    Ok(())
}

fn rejection(error: BLST_ERROR, field: Field) -> Rejection {
    match error {
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => Rejection::NotOnCurve { field },
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => Rejection::NotInSubgroup { field },
        BLST_ERROR::BLST_PK_IS_INFINITY => Rejection::Infinity { field },
        _ => Rejection::BadEncoding { field },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_length_and_uncompressed_flag_are_rejected_with_the_field() {
        let field = Field::new("public_key");
        assert_eq!(
            PublicKey::decode(&[0xc0; 47], field),
            Err(Rejection::WrongLength {
                field,
                expected: 48,
                actual: 47
            })
        );
        assert_eq!(
            PublicKey::decode(&[0x00; 48], field),
            Err(Rejection::BadEncoding { field })
        );
    }

    #[test]
    fn infinity_key_is_refused_but_infinity_signature_decodes() {
        let mut infinity = [0u8; 48];
        infinity[0] = 0xc0;
        let field = Field::new("public_key");
        assert_eq!(
            PublicKey::decode(&infinity, field),
            Err(Rejection::Infinity { field })
        );
        let mut sig = [0u8; 96];
        sig[0] = 0xc0;
        assert!(Signature::decode(&sig, Field::new("signature")).is_ok());
    }

    #[test]
    fn key_count_is_limited_before_decoding() {
        let limits = Limits {
            max_aggregate_keys: 2,
            ..Limits::DEFAULT
        };
        let junk = [&[0u8; 3][..]; 3];
        assert!(matches!(
            decode_public_keys(&limits, junk.into_iter()),
            Err(Rejection::TooMany {
                limit: 2,
                actual: 3,
                ..
            })
        ));
    }
}
