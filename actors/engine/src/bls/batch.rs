//! Batch verification of independent signatures with 64-bit random scalars, step by step; a
//! failed batch is bisected so every item gets its own verdict.

use std::marker::PhantomData;

use blst::{
    BLST_ERROR, MultiPoint, Pairing, blst_fp12, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine,
    p1_affines, p2_affines,
};
use rand_core::{CryptoRng, RngCore};

use super::{DST, PublicKey, Signature, ffi};
use crate::random::nonzero_u64;
use crate::stepwise::{BatchRun, BatchScheme};
use crate::work::{Op, record};
use crate::{InvalidReason, Verdict};

/// One independent (key, message, signature) triple. A fast-aggregate statement joins a batch as
/// its aggregated key (see [`super::aggregate_public_keys`]).
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a> {
    /// The signer's key (or the sum of the signers' keys).
    pub public_key: PublicKey,
    /// The signed message.
    pub message: &'a [u8],
    /// The signature.
    pub signature: Signature,
}

/// Verifies every item, returning one verdict per item in order. Each random scalar is 64 bits,
/// so a batch with any invalid item passes with probability at most 2^-64.
pub fn verify_batch<R: RngCore + CryptoRng>(items: &[BatchItem<'_>], rng: &mut R) -> Vec<Verdict> {
    BatchRun::new(BlsScheme::default(), items.to_vec()).finish(rng)
}

/// BLS batch verification (see [`BatchRun`]) of items whose messages live for `'a`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BlsScheme<'a>(PhantomData<&'a [u8]>);

/// prod_i e(r_i pk_i, H(m_i)) over the items absorbed so far, and what the signature side needs.
pub struct BlsCheck {
    pairing: Pairing<'static>,
    scalars: Vec<[u8; 8]>,
    signatures: Vec<blst_p2_affine>,
}

impl<'a> BatchScheme for BlsScheme<'a> {
    type Item = BatchItem<'a>;
    type Check = BlsCheck;
    type Closing = (Pairing<'static>, blst_fp12);
    /// Nothing grows with a BLS item: its verification is the same work whatever it is.
    type Preparing = ();
    type Single = Pairing<'static>;
    /// Two items: their hashes, 64-bit key multiplications and a two-pair Miller loop, about
    /// 850 work units (see [`crate::work`]).
    const CHUNK: usize = 2;

    fn start_one(&self, _item: &BatchItem<'a>) -> Result<(), Verdict> {
        Ok(())
    }

    /// H(m) and the Miller loop of e(pk, H(m)); the signature is held for the second half.
    /// The same calls as blst's own verify (keys and signatures were checked on decode).
    fn begin_one(&self, item: &BatchItem<'a>, _: ()) -> Result<Pairing<'static>, Verdict> {
        let mut pairing = Pairing::new(true, DST);
        let key: &blst_p1_affine = (&item.public_key.0).into();
        let signature = blst_p2_affine::from(item.signature.0);
        record(Op::Hash);
        let accepted = pairing.aggregate(key, false, &signature, false, item.message, &[]);
        if accepted != BLST_ERROR::BLST_SUCCESS {
            return Err(Verdict::Invalid(InvalidReason::SignatureMismatch));
        }
        record(Op::MillerLoop(1));
        pairing.commit();
        Ok(pairing)
    }

    /// The Miller loop of e(g1, sig) and the final exponentiation.
    fn finish_one(&self, pairing: Pairing<'static>) -> Verdict {
        record(Op::FinalVerify);
        Verdict::from_check(pairing.finalverify(None), InvalidReason::SignatureMismatch)
    }

    fn begin(&self, len: usize) -> BlsCheck {
        BlsCheck {
            pairing: Pairing::new(true, DST),
            scalars: Vec::with_capacity(len),
            signatures: Vec::with_capacity(len),
        }
    }

    /// Each H(m_i) and r_i pk_i is computed in Jacobian form and the chunk is normalised with one
    /// inversion per group (blst's stock routine inverts twice per item); the chunk's Miller
    /// loops run together.
    fn absorb<R: RngCore + CryptoRng>(
        &self,
        check: &mut BlsCheck,
        items: &[BatchItem<'a>],
        rng: &mut R,
    ) {
        let first = check.scalars.len();
        check
            .scalars
            .extend(items.iter().map(|_| nonzero_u64(rng).to_le_bytes()));
        let hashes: Vec<blst_p2> = items
            .iter()
            .map(|item| {
                record(Op::Hash);
                ffi::hash_to_g2(item.message)
            })
            .collect();
        let weighted_keys: Vec<blst_p1> = items
            .iter()
            .zip(&check.scalars[first..])
            .map(|(item, scalar)| ffi::mul_g1((&item.public_key.0).into(), scalar))
            .collect();
        let hashes = p2_affines::from(&hashes);
        let weighted_keys = p1_affines::from(&weighted_keys);
        for (hash, key) in hashes.as_slice().iter().zip(weighted_keys.as_slice()) {
            check.pairing.raw_aggregate(hash, key);
        }
        record(Op::MillerLoop(items.len() as u32));
        check.pairing.commit();
        check
            .signatures
            .extend(items.iter().map(|i| blst_p2_affine::from(i.signature.0)));
    }

    /// Checks, for the random non-zero 64-bit r_i, that
    ///   prod_i e(r_i pk_i, H(m_i)) = e(g1, sum_i r_i sig_i),
    /// the signature side being one Pippenger multi-scalar multiplication and the whole check
    /// one final exponentiation.
    fn close(&self, check: BlsCheck) -> (Pairing<'static>, blst_fp12) {
        let weighted_sum =
            p2_affines::from(&[check.signatures.mult(check.scalars.as_flattened(), 64)]);
        let mut signature_side = blst_fp12::default();
        Pairing::aggregated(&mut signature_side, &weighted_sum[0]);
        (check.pairing, signature_side)
    }

    fn holds(&self, (pairing, signature_side): (Pairing<'static>, blst_fp12)) -> bool {
        pairing.finalverify(Some(&signature_side))
    }
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
                public_key: *p,
                message: m,
                signature: *s,
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
    fn a_single_item_gets_the_same_verdict_as_the_one_call_verifier() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (signature, public_key) = sign(&[9; 32], b"alone").expect("signs");
        for message in [&b"alone"[..], b"other"] {
            let item = BatchItem {
                public_key,
                message,
                signature,
            };
            assert_eq!(
                verify_batch(&[item], &mut rng),
                vec![super::super::verify(&public_key, message, &signature)],
                "{message:?}"
            );
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
                public_key: p1,
                message: b"one",
                signature: s2,
            },
            BatchItem {
                public_key: p2,
                message: b"two",
                signature: s1,
            },
        ];
        let verdicts = verify_batch(&items, &mut rng);
        assert!(
            verdicts.iter().all(|v| matches!(v, Verdict::Invalid(_))),
            "{verdicts:?}"
        );
    }
}
