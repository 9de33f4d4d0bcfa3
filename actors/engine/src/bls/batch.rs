//! Batch verification of independent signatures with 64-bit random scalars; a failed batch is
//! bisected so every item gets its own verdict.

use blst::{BLST_ERROR, blst_scalar, min_pk};
use rand_core::{CryptoRng, RngCore};

use super::{DST, PublicKey, Signature, verify};
use crate::Verdict;
use crate::random::nonzero_u64;

/// One independent (key, message, signature) triple. A fast-aggregate statement joins a batch as
/// its aggregated key (see [`super::aggregate_public_keys`]).
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a> {
    /// The signer's key (or the sum of the signers' keys).
    pub public_key: &'a PublicKey,
    /// The signed message.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a Signature,
}

/// Verifies every item, returning one verdict per item in order. Each random scalar is 64 bits,
/// so a batch with any invalid item passes with probability at most 2^-64.
pub fn verify_batch<R: RngCore + CryptoRng>(items: &[BatchItem<'_>], rng: &mut R) -> Vec<Verdict> {
    let mut verdicts = vec![Verdict::Valid; items.len()];
    settle(items, &mut verdicts, rng);
    verdicts
}

fn settle<R: RngCore + CryptoRng>(items: &[BatchItem<'_>], out: &mut [Verdict], rng: &mut R) {
    match items {
        [] => {}
        [item] => out[0] = verify(item.public_key, item.message, item.signature),
        _ if batch_holds(items, rng) => out.fill(Verdict::Valid),
        _ => {
            let mid = items.len() / 2;
            let (left_out, right_out) = out.split_at_mut(mid);
            settle(&items[..mid], left_out, rng);
            settle(&items[mid..], right_out, rng);
        }
    }
}

fn batch_holds<R: RngCore + CryptoRng>(items: &[BatchItem<'_>], rng: &mut R) -> bool {
    let messages: Vec<&[u8]> = items.iter().map(|i| i.message).collect();
    let keys: Vec<&min_pk::PublicKey> = items.iter().map(|i| &i.public_key.0).collect();
    let sigs: Vec<&min_pk::Signature> = items.iter().map(|i| &i.signature.0).collect();
    let scalars: Vec<blst_scalar> = items
        .iter()
        .map(|_| {
            let mut scalar = blst_scalar::default();
            scalar.b[..8].copy_from_slice(&nonzero_u64(rng).to_le_bytes());
            scalar
        })
        .collect();
    min_pk::Signature::verify_multiple_aggregate_signatures(
        &messages, DST, &keys, false, &sigs, false, &scalars, 64,
    ) == BLST_ERROR::BLST_SUCCESS
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::InvalidReason;
    use crate::bls::sign;

    #[test]
    fn one_bad_signature_in_the_middle_gets_its_own_verdict() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let signed: Vec<(Signature, PublicKey, Vec<u8>)> = (0..9u8)
            .map(|i| {
                let mut sk = [i + 1; 32];
                sk[0] = 0x2a;
                let message = vec![i; 32];
                let (sig, pk) = sign(&sk, &message).expect("valid secret key");
                (sig, pk, message)
            })
            .collect();
        let mut items: Vec<BatchItem> = signed
            .iter()
            .map(|(s, p, m)| BatchItem {
                public_key: p,
                message: m,
                signature: s,
            })
            .collect();
        assert!(
            verify_batch(&items, &mut rng)
                .iter()
                .all(|v| *v == Verdict::Valid)
        );
        items[4].message = b"tampered";
        let verdicts = verify_batch(&items, &mut rng);
        for (i, verdict) in verdicts.iter().enumerate() {
            let expected = if i == 4 {
                Verdict::Invalid(InvalidReason::SignatureMismatch)
            } else {
                Verdict::Valid
            };
            assert_eq!(*verdict, expected, "item {i}");
        }
    }
}
