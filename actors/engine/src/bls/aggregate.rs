//! A BLS aggregate over one message per key, verified a bounded piece at a time: its keys
//! decoded a step's allowance at a time, then its (key, message) pairs hashed and Miller-looped
//! a few per step, then the final verification in a step of its own. An aggregate of 1024
//! messages is the work of about 415 single verifications; done in one call it would hold its
//! core for half a second.

use blst::{BLST_ERROR, Pairing, blst_p1_affine, blst_p2_affine};

use super::{
    DST, PUBLIC_KEY_BYTES, PublicKey, Signature, aggregate_verify, check_key_count, check_message,
    decode_public_keys, key_field,
};
use crate::work::{
    Allowance, FINAL_VERIFY, HASH_TO_G2, KEY_DECODE, MILLER_LOOP_BASE, MILLER_LOOP_PER_PAIR, Op,
    SIGNATURE_DECODE, record,
};
use crate::{Field, InvalidReason, Limits, Rejection, Verdict};

/// Most pairs hashed into one Miller loop: blst runs the loop itself once 8 are pending.
const MAX_PAIRS_PER_LOOP: usize = 8;

/// Decodes and verifies an aggregate in one call: the rejections and verdicts
/// [`AggregateRun`] gives, step by step.
pub fn verify_aggregate_encoded<M: AsRef<[u8]>>(
    limits: &Limits,
    public_keys: &[[u8; PUBLIC_KEY_BYTES]],
    messages: &[M],
    signature: &[u8],
) -> Verdict {
    let decoded = check_sizes(limits, public_keys.len(), messages).and_then(|()| {
        let keys = decode_public_keys(limits, public_keys.iter().map(|k| &k[..]))?;
        Ok((keys, Signature::decode(signature, Field::new("signature"))?))
    });
    match decoded {
        Ok((keys, signature)) => {
            let messages: Vec<&[u8]> = messages.iter().map(AsRef::as_ref).collect();
            aggregate_verify(&keys, &messages, &signature)
        }
        Err(rejection) => Verdict::Rejected(rejection),
    }
}

/// An aggregate being verified a bounded piece at a time, with exactly the verdicts of
/// [`verify_aggregate_encoded`] (and so of [`aggregate_verify`] once decoded).
pub struct AggregateRun<'a, M> {
    public_keys: &'a [[u8; PUBLIC_KEY_BYTES]],
    messages: &'a [M],
    signature: &'a [u8],
    limits: Limits,
    stage: Stage,
}

enum Stage {
    /// Nothing done yet: the size and count checks come first.
    Unchecked,
    /// Keys decoded so far, in order.
    Keys(Vec<PublicKey>),
    /// Pairs hashed into the pairing context so far (the first with the signature), each
    /// step's Miller loop done.
    Pairs {
        keys: Vec<PublicKey>,
        signature: Signature,
        pairing: Pairing<'static>,
        next: usize,
    },
    /// Every pair in: the signature's Miller loop and the final exponentiation remain.
    Closing(Pairing<'static>),
    Done(Verdict),
}

impl<'a, M: AsRef<[u8]>> AggregateRun<'a, M> {
    /// A run over one aggregate; nothing is checked until the first step.
    pub fn new(
        limits: &Limits,
        public_keys: &'a [[u8; PUBLIC_KEY_BYTES]],
        messages: &'a [M],
        signature: &'a [u8],
    ) -> Self {
        AggregateRun {
            public_keys,
            messages,
            signature,
            limits: *limits,
            stage: Stage::Unchecked,
        }
    }

    /// Does as much as `allowance` holds; the verdict once there is one. Given a fresh
    /// allowance it always gets somewhere, so a caller may share one allowance between runs.
    pub fn advance(&mut self, allowance: &mut Allowance) -> Option<Verdict> {
        loop {
            let stage = std::mem::replace(&mut self.stage, Stage::Unchecked);
            let (stage, progressed) = self.advance_stage(stage, allowance);
            self.stage = stage;
            if let Stage::Done(verdict) = self.stage {
                return Some(verdict);
            }
            if !progressed {
                return None;
            }
        }
    }

    /// One step with a fresh allowance; the verdict once there is one.
    pub fn step(&mut self) -> Option<Verdict> {
        self.advance(&mut Allowance::step())
    }

    /// Runs to the end.
    pub fn finish(mut self) -> Verdict {
        loop {
            if let Some(verdict) = self.step() {
                return verdict;
            }
        }
    }

    /// Goes on with one stage as far as the allowance goes: the stage it is at then, and
    /// whether it got anywhere.
    fn advance_stage(&self, stage: Stage, allowance: &mut Allowance) -> (Stage, bool) {
        match stage {
            Stage::Unchecked => {
                let checked = check_sizes(&self.limits, self.public_keys.len(), self.messages);
                match checked {
                    Ok(()) => (
                        Stage::Keys(Vec::with_capacity(self.public_keys.len())),
                        true,
                    ),
                    Err(rejection) => (Stage::Done(rejection.into()), true),
                }
            }
            Stage::Keys(keys) => self.decode_keys(keys, allowance),
            Stage::Pairs {
                keys,
                signature,
                pairing,
                next,
            } => self.hash_pairs(keys, signature, pairing, next, allowance),
            Stage::Closing(pairing) => {
                if !allowance.take(FINAL_VERIFY) {
                    return (Stage::Closing(pairing), false);
                }
                record(Op::FinalVerify);
                let holds = pairing.finalverify(None);
                (
                    Stage::Done(Verdict::from_check(holds, InvalidReason::SignatureMismatch)),
                    true,
                )
            }
            done @ Stage::Done(_) => (done, false),
        }
    }

    /// Decodes keys in order, then the signature; a refused one ends the run with its
    /// rejection, as decoding them all at once would.
    fn decode_keys(&self, mut keys: Vec<PublicKey>, allowance: &mut Allowance) -> (Stage, bool) {
        while let Some(bytes) = self.public_keys.get(keys.len()) {
            if !allowance.take(KEY_DECODE) {
                return (Stage::Keys(keys), false);
            }
            match PublicKey::decode(bytes, key_field(keys.len())) {
                Ok(key) => keys.push(key),
                Err(rejection) => return (Stage::Done(rejection.into()), true),
            }
        }
        if !allowance.take(SIGNATURE_DECODE) {
            return (Stage::Keys(keys), false);
        }
        let signature = match Signature::decode(self.signature, Field::new("signature")) {
            Ok(signature) => signature,
            Err(rejection) => return (Stage::Done(rejection.into()), true),
        };
        if keys.is_empty() {
            return (
                Stage::Done(Verdict::Invalid(InvalidReason::EmptyAggregate)),
                true,
            );
        }
        let stage = Stage::Pairs {
            keys,
            signature,
            pairing: Pairing::new(true, DST),
            next: 0,
        };
        (stage, true)
    }

    /// Hashes as many pairs as fit into the pairing context (the first with the signature,
    /// the rest with none: blst's own `aggregate_verify` without threads) and runs their
    /// Miller loop before the step ends. blst would batch 8 pairs per loop; a loop per step
    /// costs a few shared squarings more but keeps the step within its allowance, and the
    /// product of the loops, hence the verdict, is the same.
    fn hash_pairs(
        &self,
        keys: Vec<PublicKey>,
        signature: Signature,
        mut pairing: Pairing<'static>,
        mut next: usize,
        allowance: &mut Allowance,
    ) -> (Stage, bool) {
        let fit = (allowance.left().saturating_sub(MILLER_LOOP_BASE)
            / (HASH_TO_G2 + MILLER_LOOP_PER_PAIR)) as usize;
        let count = fit.min(MAX_PAIRS_PER_LOOP).min(keys.len() - next);
        if count == 0 {
            return (
                Stage::Pairs {
                    keys,
                    signature,
                    pairing,
                    next,
                },
                false,
            );
        }
        let taken =
            allowance.take(MILLER_LOOP_BASE + count as u32 * (HASH_TO_G2 + MILLER_LOOP_PER_PAIR));
        debug_assert!(taken, "the count was chosen to fit");
        let signature_point = blst_p2_affine::from(signature.0);
        for (key, message) in keys[next..next + count]
            .iter()
            .zip(&self.messages[next..next + count])
        {
            let key: &blst_p1_affine = (&key.0).into();
            record(Op::Hash);
            let result = if next == 0 {
                pairing.aggregate(key, false, &signature_point, false, message.as_ref(), &[])
            } else {
                let none: Option<&blst_p2_affine> = None;
                pairing.aggregate(key, false, &none, false, message.as_ref(), &[])
            };
            if result != BLST_ERROR::BLST_SUCCESS {
                return (
                    Stage::Done(Verdict::Invalid(InvalidReason::SignatureMismatch)),
                    true,
                );
            }
            next += 1;
        }
        record(Op::MillerLoop(count as u32));
        pairing.commit();
        if next == keys.len() {
            return (Stage::Closing(pairing), true);
        }
        (
            Stage::Pairs {
                keys,
                signature,
                pairing,
                next,
            },
            // More pairs may fit in what is left.
            true,
        )
    }
}

/// The checks before any curve work, in the order the one-call path makes them: counts, each
/// message's length, the number of keys.
fn check_sizes<M: AsRef<[u8]>>(
    limits: &Limits,
    keys: usize,
    messages: &[M],
) -> Result<(), Rejection> {
    if messages.len() != keys {
        return Err(Rejection::CountMismatch {
            field: Field::new("messages"),
            expected: keys,
            actual: messages.len(),
        });
    }
    for (i, message) in messages.iter().enumerate() {
        check_message(limits, message.as_ref(), Field::at("messages", i))?;
    }
    check_key_count(limits, keys)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::bls::testing::{Signed, encoded_keys, signed};
    use crate::work::{STEP, meter};

    /// Runs `run` a fresh step at a time, checking what each step really did (as counted where
    /// it is done) against a step's allowance; the verdict and the number of steps.
    fn run_metered<M: AsRef<[u8]>>(mut run: AggregateRun<'_, M>) -> (Verdict, usize) {
        meter::take();
        let mut steps = 0;
        loop {
            steps += 1;
            let verdict = run.step();
            let (ops, units) = meter::take();
            assert!(units <= STEP, "step {steps}: {units} units: {ops:?}");
            assert!(
                !ops.is_empty() || verdict.is_some(),
                "step {steps} did nothing"
            );
            if let Some(verdict) = verdict {
                return (verdict, steps);
            }
        }
    }

    #[test]
    fn no_step_of_a_1024_message_aggregate_exceeds_the_allowance() {
        let limits = Limits::DEFAULT;
        let Signed {
            keys,
            messages,
            aggregate,
        } = signed(1024, |i| format!("message {i}").into_bytes());
        let encoded = encoded_keys(&keys);
        let (verdict, steps) = run_metered(AggregateRun::new(
            &limits,
            &encoded,
            &messages,
            &aggregate.to_bytes(),
        ));
        assert_eq!(verdict, Verdict::Valid);
        // 1024 key decodes (60 each) and 1024 pairs (330 each, a few per step) cannot fit in
        // fewer steps than their work divided by a step.
        let work = 1024 * (KEY_DECODE + HASH_TO_G2 + MILLER_LOOP_PER_PAIR);
        assert!(steps >= (work / STEP) as usize, "{steps} steps");
        let mut tampered = messages.clone();
        tampered[1000] = b"tampered".to_vec();
        let (verdict, _) = run_metered(AggregateRun::new(
            &limits,
            &encoded,
            &tampered,
            &aggregate.to_bytes(),
        ));
        assert_eq!(verdict, Verdict::Invalid(InvalidReason::SignatureMismatch));
    }

    #[test]
    fn a_bad_key_late_in_a_large_aggregate_is_refused_by_its_index() {
        let limits = Limits::DEFAULT;
        let Signed {
            keys,
            messages,
            aggregate,
        } = signed(700, |i| vec![i as u8; 8]);
        let mut encoded = encoded_keys(&keys);
        encoded[650][0] &= 0x7f; // not compressed
        let signature = aggregate.to_bytes();
        let run = AggregateRun::new(&limits, &encoded, &messages, &signature);
        let (verdict, steps) = run_metered(run);
        assert_eq!(
            verdict,
            Verdict::Rejected(Rejection::BadEncoding {
                field: Field::at("public_keys", 650)
            })
        );
        assert!(steps > 1);
    }

    #[test]
    fn edge_cases_match_the_one_call_path() {
        let limits = Limits {
            max_aggregate_keys: 3,
            max_message_bytes: 16,
            ..Limits::DEFAULT
        };
        let Signed {
            keys,
            messages,
            aggregate,
        } = signed(3, |i| vec![b'm', i as u8]);
        let keys = encoded_keys(&keys);
        let signature = aggregate.to_bytes();
        let mut infinity_key = keys.clone();
        infinity_key[1] = [0; 48];
        infinity_key[1][0] = 0xc0;
        let mut infinity_signature = [0u8; 96];
        infinity_signature[0] = 0xc0;
        let no_messages: &[Vec<u8>] = &[];
        let long = vec![vec![0u8; 17]; 3];
        let four_keys = [keys[0]; 4];
        let four_messages = vec![b"m".to_vec(); 4];
        type Case<'a> = (&'a str, &'a [[u8; 48]], &'a [Vec<u8>], &'a [u8]);
        let cases: Vec<Case> = vec![
            ("valid", &keys, &messages, &signature),
            ("empty", &[], no_messages, &signature),
            ("empty with a bad signature", &[], no_messages, &[0u8; 96]),
            ("fewer messages", &keys, &messages[..2], &signature),
            ("infinity key", &infinity_key, &messages, &signature),
            ("infinity signature", &keys, &messages, &infinity_signature),
            ("message too long", &keys, &long, &signature),
            ("too many keys", &four_keys, &four_messages, &signature),
            ("short signature", &keys, &messages, &signature[..95]),
        ];
        for (name, keys, messages, signature) in cases {
            let expected = verify_aggregate_encoded(&limits, keys, messages, signature);
            let run = AggregateRun::new(&limits, keys, messages, signature);
            assert_eq!(run_metered(run).0, expected, "{name}");
        }
    }

    /// What a generated case does to a valid aggregate.
    #[derive(Clone, Debug)]
    enum Mutation {
        None,
        /// Flips one bit of one key's bytes (bad flags, off the curve, out of the subgroup,
        /// non-canonical, or another valid key).
        KeyBit {
            key: usize,
            bit: usize,
        },
        /// Flips one bit of the signature's bytes.
        SignatureBit {
            bit: usize,
        },
        /// Replaces one message.
        Message {
            index: usize,
        },
        /// Drops the last message.
        DropMessage,
        /// Swaps two messages.
        Swap {
            a: usize,
            b: usize,
        },
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            2 => Just(Mutation::None),
            3 => (any::<prop::sample::Index>(), 0..384usize)
                .prop_map(|(key, bit)| Mutation::KeyBit { key: key.index(1 << 16), bit }),
            2 => (0..768usize).prop_map(|bit| Mutation::SignatureBit { bit }),
            1 => any::<prop::sample::Index>()
                .prop_map(|i| Mutation::Message { index: i.index(1 << 16) }),
            1 => Just(Mutation::DropMessage),
            1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(
                |(a, b)| Mutation::Swap { a: a.index(1 << 16), b: b.index(1 << 16) }
            ),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The stepwise run and the one-call path agree on random valid and invalid
        /// aggregates of 0 to 20 pairs, some with repeated messages.
        #[test]
        fn stepwise_and_one_call_verdicts_agree(
            size in 0..20usize,
            distinct in 1..20usize,
            mutation in mutation(),
            allowance in prop_oneof![Just(STEP), 600..STEP],
        ) {
            let limits = Limits::DEFAULT;
            let Signed { keys, mut messages, aggregate } =
                signed(size, |i| format!("m{}", i % distinct).into_bytes());
            let mut keys = encoded_keys(&keys);
            let mut signature = aggregate.to_bytes().to_vec();
            if size == 0 {
                // Nothing was signed: any valid signature will do.
                signature = signed(1, |_| b"x".to_vec()).aggregate.to_bytes().to_vec();
            }
            match mutation {
                Mutation::None => {}
                Mutation::KeyBit { key, bit } if size > 0 => {
                    keys[key % size][bit / 8] ^= 1 << (bit % 8);
                }
                Mutation::SignatureBit { bit } => signature[bit / 8] ^= 1 << (bit % 8),
                Mutation::Message { index } if size > 0 => {
                    messages[index % size] = b"other".to_vec();
                }
                Mutation::DropMessage if size > 0 => {
                    messages.pop();
                }
                Mutation::Swap { a, b } if size > 0 => messages.swap(a % size, b % size),
                _ => {}
            }
            let expected = verify_aggregate_encoded(&limits, &keys, &messages, &signature);
            if matches!(mutation, Mutation::None) && size > 0 {
                prop_assert_eq!(expected, Verdict::Valid);
            }
            let mut run = AggregateRun::new(&limits, &keys, &messages, &signature);
            let verdict = loop {
                if let Some(verdict) = run.advance(&mut Allowance::of(allowance)) {
                    break verdict;
                }
            };
            prop_assert_eq!(verdict, expected);
        }
    }
}
