//! Single, aggregate and fast-aggregate verification, signing and aggregation.

use blst::BLST_ERROR;
use blst::min_pk;

use super::{DST, PublicKey, Signature};
use crate::{Field, InvalidReason, Rejection, Verdict};

/// Verifies one signature over one message.
pub fn verify(public_key: &PublicKey, message: &[u8], signature: &Signature) -> Verdict {
    // Keys and signatures were validated on decode; blst need not check them again.
    let result = signature
        .0
        .verify(false, message, DST, &[], &public_key.0, false);
    Verdict::from_check(
        result == BLST_ERROR::BLST_SUCCESS,
        InvalidReason::SignatureMismatch,
    )
}

/// Verifies an aggregate signature over one message per key. Under the proof-of-possession
/// ciphersuite messages need not be distinct.
pub fn aggregate_verify(
    public_keys: &[PublicKey],
    messages: &[&[u8]],
    signature: &Signature,
) -> Verdict {
    if public_keys.is_empty() {
        return Verdict::Invalid(InvalidReason::EmptyAggregate);
    }
    if messages.len() != public_keys.len() {
        return Verdict::Rejected(Rejection::CountMismatch {
            field: Field::new("messages"),
            expected: public_keys.len(),
            actual: messages.len(),
        });
    }
    let keys: Vec<&min_pk::PublicKey> = public_keys.iter().map(|k| &k.0).collect();
    let result = signature
        .0
        .aggregate_verify(false, messages, DST, &keys, false);
    Verdict::from_check(
        result == BLST_ERROR::BLST_SUCCESS,
        InvalidReason::SignatureMismatch,
    )
}

/// Verifies an aggregate signature by many keys over one message.
pub fn fast_aggregate_verify(
    public_keys: &[PublicKey],
    message: &[u8],
    signature: &Signature,
) -> Verdict {
    match aggregate_public_keys(public_keys) {
        Some(key) => verify(&key, message, signature),
        None => Verdict::Invalid(InvalidReason::EmptyAggregate),
    }
}

/// Sums public keys; `None` for an empty list. Every key was validated on decode, so the sum is
/// in G1 (it may be the identity, which then fails verification).
pub fn aggregate_public_keys(public_keys: &[PublicKey]) -> Option<PublicKey> {
    let keys: Vec<&min_pk::PublicKey> = public_keys.iter().map(|k| &k.0).collect();
    let sum = min_pk::AggregatePublicKey::aggregate(&keys, false).ok()?;
    Some(PublicKey(sum.to_public_key()))
}

/// Sums signatures; `None` for an empty list.
pub fn aggregate_signatures(signatures: &[Signature]) -> Option<Signature> {
    let sigs: Vec<&min_pk::Signature> = signatures.iter().map(|s| &s.0).collect();
    let sum = min_pk::AggregateSignature::aggregate(&sigs, false).ok()?;
    Some(Signature(sum.to_signature()))
}

/// Signs a message with a 32-byte big-endian secret key (zero and values not below the group
/// order are refused). Used by tests, the load generator and fixtures; the appliance never signs
/// partners' messages.
pub fn sign(secret_key: &[u8], message: &[u8]) -> Result<(Signature, PublicKey), Rejection> {
    let field = Field::new("secret_key");
    if secret_key.len() != super::SECRET_KEY_BYTES {
        return Err(Rejection::WrongLength {
            field,
            expected: super::SECRET_KEY_BYTES,
            actual: secret_key.len(),
        });
    }
    let key = min_pk::SecretKey::from_bytes(secret_key)
        .map_err(|_| Rejection::ScalarOutOfRange { field })?;
    Ok((
        Signature(key.sign(message, DST, &[])),
        PublicKey(key.sk_to_pk()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> [u8; 32] {
        let mut sk = [seed; 32];
        sk[0] = 0x1f;
        sk
    }

    #[test]
    fn sign_then_verify_and_reject_other_message() {
        let (sig, pk) = sign(&key(1), b"hello").expect("valid secret key");
        assert_eq!(verify(&pk, b"hello", &sig), Verdict::Valid);
        assert_eq!(
            verify(&pk, b"hellp", &sig),
            Verdict::Invalid(InvalidReason::SignatureMismatch)
        );
    }

    #[test]
    fn fast_aggregate_over_one_message() {
        let (s1, p1) = sign(&key(1), b"m").expect("valid secret key");
        let (s2, p2) = sign(&key(2), b"m").expect("valid secret key");
        let agg = aggregate_signatures(&[s1, s2]).expect("two signatures");
        assert_eq!(fast_aggregate_verify(&[p1, p2], b"m", &agg), Verdict::Valid);
        assert!(matches!(
            fast_aggregate_verify(&[p1], b"m", &agg),
            Verdict::Invalid(_)
        ));
        assert_eq!(
            fast_aggregate_verify(&[], b"m", &agg),
            Verdict::Invalid(InvalidReason::EmptyAggregate)
        );
    }

    #[test]
    fn aggregate_over_distinct_messages_and_count_mismatch() {
        let (s1, p1) = sign(&key(1), b"a").expect("valid secret key");
        let (s2, p2) = sign(&key(2), b"b").expect("valid secret key");
        let agg = aggregate_signatures(&[s1, s2]).expect("two signatures");
        assert_eq!(
            aggregate_verify(&[p1, p2], &[b"a", b"b"], &agg),
            Verdict::Valid
        );
        assert!(matches!(
            aggregate_verify(&[p1, p2], &[b"b", b"a"], &agg),
            Verdict::Invalid(_)
        ));
        assert!(matches!(
            aggregate_verify(&[p1, p2], &[b"a"], &agg),
            Verdict::Rejected(Rejection::CountMismatch {
                expected: 2,
                actual: 1,
                ..
            })
        ));
    }

    #[test]
    fn zero_secret_key_is_refused() {
        assert!(sign(&[0u8; 32], b"m").is_err());
    }
}
