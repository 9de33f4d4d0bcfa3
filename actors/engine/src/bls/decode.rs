//! BLS statements from wire bytes into batch items, a step's allowance at a time: a fast
//! aggregate of many keys is decoded and summed across as many steps as it needs.

use blst::min_pk;

use super::{
    BatchItem, PUBLIC_KEY_BYTES, PublicKey, Signature, check_key_count, check_message, key_field,
};
use crate::stepwise::{Decoder, Decoding};
use crate::work::{Allowance, KEY_DECODE, SIGNATURE_DECODE};
use crate::{Field, InvalidReason, Limits, Verdict};

/// A BLS statement as it arrives: compressed keys and signature, before any curve work.
#[derive(Clone, Copy, Debug)]
pub enum EncodedStatement<'a> {
    /// One signature by one key.
    Single {
        /// Compressed public key.
        public_key: &'a [u8],
        /// The signed message.
        message: &'a [u8],
        /// Compressed signature.
        signature: &'a [u8],
    },
    /// An aggregate signature by many keys over one message.
    FastAggregate {
        /// Compressed public keys.
        public_keys: &'a [[u8; PUBLIC_KEY_BYTES]],
        /// The message every key signed.
        message: &'a [u8],
        /// Compressed aggregate signature.
        signature: &'a [u8],
    },
}

/// Decodes BLS statements into batch items (a fast aggregate joins as its summed key), with
/// the checks and rejections, in the same order, of decoding each whole.
#[derive(Clone, Copy, Debug)]
pub struct StatementDecoder {
    limits: Limits,
}

impl StatementDecoder {
    /// A decoder checking against `limits`.
    pub fn new(limits: &Limits) -> Self {
        StatementDecoder { limits: *limits }
    }
}

/// A fast aggregate's keys decoded and summed so far.
#[derive(Clone, Copy, Debug)]
pub struct KeySum {
    /// Keys decoded.
    next: usize,
    /// Their sum; None before the first.
    sum: Option<min_pk::AggregatePublicKey>,
}

impl<'a> Decoder<EncodedStatement<'a>> for StatementDecoder {
    type Item = BatchItem<'a>;
    type Partial = KeySum;

    fn decode(
        &self,
        source: &EncodedStatement<'a>,
        partial: Option<KeySum>,
        allowance: &mut Allowance,
    ) -> Decoding<BatchItem<'a>, KeySum> {
        match *source {
            EncodedStatement::Single {
                public_key,
                message,
                signature,
            } => {
                // Taken whole: its key and signature together are a small part of a step.
                if !allowance.take(KEY_DECODE + SIGNATURE_DECODE) {
                    return Decoding::Paused(KeySum { next: 0, sum: None });
                }
                Decoding::Done(self.single(public_key, message, signature))
            }
            EncodedStatement::FastAggregate {
                public_keys,
                message,
                signature,
            } => {
                let partial = match partial {
                    Some(partial) => partial,
                    None => {
                        // Size and count checks first, before any curve work.
                        if let Err(rejection) = check_message(&self.limits, message, field())
                            .and_then(|()| check_key_count(&self.limits, public_keys.len()))
                        {
                            return Decoding::Done(Err(rejection.into()));
                        }
                        KeySum { next: 0, sum: None }
                    }
                };
                fast_aggregate(partial, public_keys, message, signature, allowance)
            }
        }
    }
}

impl StatementDecoder {
    fn single<'a>(
        &self,
        public_key: &[u8],
        message: &'a [u8],
        signature: &[u8],
    ) -> Result<BatchItem<'a>, Verdict> {
        check_message(&self.limits, message, field())?;
        Ok(BatchItem {
            public_key: PublicKey::decode(public_key, Field::new("public_key"))?,
            message,
            signature: Signature::decode(signature, Field::new("signature"))?,
        })
    }
}

/// Goes on decoding and summing a fast aggregate's keys from `partial`, then its signature.
fn fast_aggregate<'a>(
    mut partial: KeySum,
    public_keys: &[[u8; PUBLIC_KEY_BYTES]],
    message: &'a [u8],
    signature: &[u8],
    allowance: &mut Allowance,
) -> Decoding<BatchItem<'a>, KeySum> {
    while let Some(bytes) = public_keys.get(partial.next) {
        if !allowance.take(KEY_DECODE) {
            return Decoding::Paused(partial);
        }
        let key = match PublicKey::decode(bytes, key_field(partial.next)) {
            Ok(key) => key,
            Err(rejection) => return Decoding::Done(Err(rejection.into())),
        };
        // The same additions, in the same order, as `aggregate_public_keys`.
        match &mut partial.sum {
            Some(sum) => sum
                .add_public_key(&key.0, false)
                .expect("adding without validation cannot fail"),
            None => partial.sum = Some(min_pk::AggregatePublicKey::from_public_key(&key.0)),
        }
        partial.next += 1;
    }
    if !allowance.take(SIGNATURE_DECODE) {
        return Decoding::Paused(partial);
    }
    let signature = match Signature::decode(signature, Field::new("signature")) {
        Ok(signature) => signature,
        Err(rejection) => return Decoding::Done(Err(rejection.into())),
    };
    Decoding::Done(match partial.sum {
        Some(sum) => Ok(BatchItem {
            public_key: PublicKey(sum.to_public_key()),
            message,
            signature,
        }),
        None => Err(Verdict::Invalid(InvalidReason::EmptyAggregate)),
    })
}

fn field() -> Field {
    Field::new("message")
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::bls::testing::{Signed, encoded_keys, signed};
    use crate::bls::{BlsScheme, fast_aggregate_verify, verify};
    use crate::work::{Op, STEP, meter};
    use crate::{DecodeThenVerify, Rejection};

    type Run<'a> = DecodeThenVerify<EncodedStatement<'a>, BlsScheme<'a>, StatementDecoder>;

    fn run(statements: Vec<EncodedStatement<'_>>) -> Run<'_> {
        DecodeThenVerify::new(
            BlsScheme::default(),
            StatementDecoder::new(&Limits::DEFAULT),
            statements,
        )
    }

    /// One key per signer over one message, summed: a fast aggregate of `n`.
    fn fast(n: usize) -> (Vec<[u8; PUBLIC_KEY_BYTES]>, Vec<u8>, [u8; 96]) {
        let Signed {
            keys, aggregate, ..
        } = signed(n, |_| b"one message".to_vec());
        (
            encoded_keys(&keys),
            b"one message".to_vec(),
            aggregate.to_bytes(),
        )
    }

    #[test]
    fn no_step_of_a_1024_key_fast_aggregate_exceeds_the_allowance() {
        let (keys, message, signature) = fast(1024);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut run = run(vec![EncodedStatement::FastAggregate {
            public_keys: &keys,
            message: &message,
            signature: &signature,
        }]);
        meter::take();
        let mut steps = 0u32;
        let mut key_decodes = 0;
        while run.step(&mut rng) {
            steps += 1;
            let (ops, units) = meter::take();
            assert!(units <= STEP, "step {steps}: {units} units: {ops:?}");
            key_decodes += ops.iter().filter(|op| **op == Op::KeyDecode).count();
        }
        let (ops, units) = meter::take();
        assert!(units <= STEP, "last step: {units} units: {ops:?}");
        assert_eq!(key_decodes, 1024);
        // Each step decodes at most STEP / KEY_DECODE keys.
        assert!(steps >= 1024 * KEY_DECODE / STEP, "{steps} steps");
        assert_eq!(run.into_verdicts(), vec![Verdict::Valid]);
    }

    #[test]
    fn verdicts_match_decoding_each_statement_whole() {
        let limits = Limits::DEFAULT;
        let (keys, message, signature) = fast(100);
        let mut bad_key = keys.clone();
        bad_key[90][0] &= 0x7f;
        let Signed {
            keys: single_keys,
            messages,
            aggregate,
        } = signed(1, |_| b"single".to_vec());
        let single_key = single_keys[0].to_bytes();
        let single_signature = aggregate.to_bytes();
        let statements = vec![
            EncodedStatement::FastAggregate {
                public_keys: &keys,
                message: &message,
                signature: &signature,
            },
            EncodedStatement::Single {
                public_key: &single_key,
                message: &messages[0],
                signature: &single_signature,
            },
            EncodedStatement::FastAggregate {
                public_keys: &bad_key,
                message: &message,
                signature: &signature,
            },
            EncodedStatement::FastAggregate {
                public_keys: &[],
                message: &message,
                signature: &signature,
            },
            EncodedStatement::FastAggregate {
                public_keys: &keys[..99],
                message: &message,
                signature: &signature,
            },
            EncodedStatement::Single {
                public_key: &single_key,
                message: b"other",
                signature: &single_signature,
            },
            EncodedStatement::FastAggregate {
                public_keys: &keys,
                message: &message,
                signature: &signature[..95],
            },
        ];
        let whole: Vec<Verdict> = statements.iter().map(|s| whole(&limits, s)).collect();
        assert_eq!(
            whole[2],
            Verdict::Rejected(Rejection::BadEncoding {
                field: Field::at("public_keys", 90)
            })
        );
        assert_eq!(whole[3], Verdict::Invalid(InvalidReason::EmptyAggregate));
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        assert_eq!(run(statements).finish(&mut rng), whole);
    }

    /// The one-call path: decode everything, then verify.
    fn whole(limits: &Limits, statement: &EncodedStatement<'_>) -> Verdict {
        let decoded = match *statement {
            EncodedStatement::Single {
                public_key,
                message,
                signature,
            } => check_message(limits, message, field()).and_then(|()| {
                Ok((
                    vec![PublicKey::decode(public_key, Field::new("public_key"))?],
                    message,
                    Signature::decode(signature, Field::new("signature"))?,
                ))
            }),
            EncodedStatement::FastAggregate {
                public_keys,
                message,
                signature,
            } => check_message(limits, message, field()).and_then(|()| {
                Ok((
                    super::super::decode_public_keys(limits, public_keys.iter().map(|k| &k[..]))?,
                    message,
                    Signature::decode(signature, Field::new("signature"))?,
                ))
            }),
        };
        match decoded {
            Ok((keys, message, signature)) if keys.len() == 1 => {
                verify(&keys[0], message, &signature)
            }
            Ok((keys, message, signature)) => fast_aggregate_verify(&keys, message, &signature),
            Err(rejection) => rejection.into(),
        }
    }
}
