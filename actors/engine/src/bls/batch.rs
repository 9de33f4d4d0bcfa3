//! Batch verification of independent signatures with 64-bit random scalars; a failed batch is
//! bisected so every item gets its own verdict.

use blst::{
    BLST_ERROR, MultiPoint, Pairing, blst_fp12, blst_p1_affine, blst_p2_affine, p2_affines,
};
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

/// Checks, for random non-zero 64-bit r_i, that
///   prod_i e(r_i pk_i, H(m_i)) = e(g1, sum_i r_i sig_i).
/// blst's stock batch routine multiplies every signature by its scalar in G2; here the signature
/// side is one Pippenger multi-scalar multiplication instead, and blst's pairing context does the
/// rest (hash to G2, r_i pk_i, Miller loops in groups, one final exponentiation).
fn batch_holds<R: RngCore + CryptoRng>(items: &[BatchItem<'_>], rng: &mut R) -> bool {
    let mut scalars = Vec::with_capacity(items.len() * 8);
    for _ in items {
        scalars.extend_from_slice(&nonzero_u64(rng).to_le_bytes());
    }
    let mut pairing = Pairing::new(true, DST);
    for (item, scalar) in items.iter().zip(scalars.chunks_exact(8)) {
        let key: &blst_p1_affine = (&item.public_key.0).into();
        // No signature here (`&()` is not a point): only r_i pk_i and H(m_i) are accumulated.
        let added = pairing.mul_n_aggregate(key, false, &(), false, scalar, 64, item.message, &[]);
        if added != BLST_ERROR::BLST_SUCCESS {
            return false;
        }
    }
    pairing.commit();
    let signatures: Vec<blst_p2_affine> = items
        .iter()
        .map(|i| blst_p2_affine::from(i.signature.0))
        .collect();
    let weighted_sum = p2_affines::from(&[signatures.mult(&scalars, 64)]);
    let mut signature_side = blst_fp12::default();
    Pairing::aggregated(&mut signature_side, &weighted_sum[0]);
    pairing.finalverify(Some(&signature_side))
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

    #[test]
    fn swapped_signatures_fail_though_their_sum_is_unchanged() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let (s1, p1) = sign(&[0x21; 32], b"one").expect("valid secret key");
        let (s2, p2) = sign(&[0x22; 32], b"two").expect("valid secret key");
        // An unweighted sum would accept this pair: s2 + s1 = s1 + s2.
        let items = [
            BatchItem {
                public_key: &p1,
                message: b"one",
                signature: &s2,
            },
            BatchItem {
                public_key: &p2,
                message: b"two",
                signature: &s1,
            },
        ];
        let verdicts = verify_batch(&items, &mut rng);
        assert!(
            verdicts.iter().all(|v| matches!(v, Verdict::Invalid(_))),
            "{verdicts:?}"
        );
    }
}
