//! Verifying one batch through the engine a step at a time: malformed items are `Rejected` on
//! their own, the rest are verified together, and each item gets its own verdict in order.

use rand_core::{CryptoRng, RngCore};
use std::sync::Arc;
use tf_engine::bls::{AggregateRun, BlsScheme, EncodedStatement as EncodedBls, StatementDecoder};

use tf_engine::groth16::{self, AnyKey, EncodedStatement, Groth16Run};
use tf_engine::work::Allowance;
use tf_engine::{DecodeThenVerify, Field, Limits, Rejection, Verdict, merge_verdicts};
use tf_wire::{Curve, Statement};

use crate::{BatchKey, Job};

/// A batch being verified a step at a time (see [`tf_engine::BatchRun`]), so the core can serve
/// its network and other messages between steps. Borrows the batch's jobs; owns everything else
/// (the Groth16 key is shared), so the shard stays free while it runs.
pub struct Verification<'b, R> {
    run: Run<'b, R>,
}

enum Run<'b, R> {
    /// Independent signatures: decoded as many per step as a step's allowance holds (a large
    /// fast aggregate across several), then batch-verified.
    Bls {
        /// Per job: refused before any curve work (not a BLS statement of this batch), or None.
        refused: Vec<Option<Verdict>>,
        run: Box<DecodeThenVerify<EncodedBls<'b>, BlsScheme<'b>, StatementDecoder>>,
    },
    /// Multi-message aggregates, one after another, each decoded and verified a step's
    /// allowance at a time.
    Aggregates(Box<Aggregates<'b, R>>),
    Groth16 {
        /// Per job: refused before any curve work (wrong curve or statement), or None.
        refused: Vec<Option<Verdict>>,
        run: Groth16Run<'b>,
    },
    Decided(Vec<Verdict>),
}

/// Multi-message aggregates being verified (see [`Run::Aggregates`]).
struct Aggregates<'b, R> {
    jobs: &'b [Job<R>],
    limits: Limits,
    /// The aggregate under way.
    current: Option<AggregateRun<'b, Vec<u8>>>,
    verdicts: Vec<Verdict>,
}

impl<'b, R> Verification<'b, R> {
    /// `groth16_key` is the prepared key of a Groth16 batch as the home shard's registry
    /// answered it (ignored for other batches).
    pub(crate) fn new(
        key: BatchKey,
        jobs: &'b [Job<R>],
        groth16_key: Option<&Result<Arc<AnyKey>, Rejection>>,
        limits: &Limits,
    ) -> Self {
        #[cfg(feature = "fault-injection")]
        crate::faults::before_batch();
        // The measurement build answers valid without crypto (it warns at start).
        if cfg!(feature = "null-verifier") {
            return Verification {
                run: Run::Decided(vec![Verdict::Valid; jobs.len()]),
            };
        }
        let run = match (key, groth16_key) {
            (BatchKey::Bls, _) => bls_run(jobs, limits),
            (BatchKey::BlsAggregate, _) => Run::Aggregates(Box::new(Aggregates {
                jobs,
                limits: *limits,
                current: None,
                verdicts: Vec::with_capacity(jobs.len()),
            })),
            (BatchKey::Groth16(_), Some(Ok(prepared))) => {
                groth16_run(prepared.clone(), jobs, limits)
            }
            (BatchKey::Groth16(_), Some(Err(rejection))) => {
                Run::Decided(vec![Verdict::Rejected(*rejection); jobs.len()])
            }
            (BatchKey::Groth16(id), None) => {
                Run::Decided(vec![
                    Verdict::Rejected(Rejection::UnknownKey(id));
                    jobs.len()
                ])
            }
        };
        Verification { run }
    }

    /// Does one bounded piece of work: at most one [`Allowance`] of work units (about one
    /// single BLS verification, see [`tf_engine::work`]) for decoding and aggregates, one chunk
    /// or half-check of a batch; false once every job has its verdict.
    pub fn step<G: RngCore + CryptoRng>(&mut self, rng: &mut G) -> bool {
        match &mut self.run {
            Run::Bls { run, .. } => run.step(rng),
            Run::Aggregates(aggregates) => {
                let Aggregates {
                    jobs,
                    limits,
                    current,
                    verdicts,
                } = &mut **aggregates;
                let mut allowance = Allowance::step();
                while let Some(job) = jobs.get(verdicts.len()) {
                    let verdict = match current {
                        Some(run) => run.advance(&mut allowance),
                        None => match aggregate_run(&job.submit.statement, limits) {
                            Ok(run) => current.insert(run).advance(&mut allowance),
                            Err(verdict) => Some(verdict),
                        },
                    };
                    let Some(verdict) = verdict else {
                        break;
                    };
                    verdicts.push(verdict);
                    *current = None;
                }
                verdicts.len() < jobs.len()
            }
            Run::Groth16 { run, .. } => run.step(rng),
            Run::Decided(_) => false,
        }
    }

    /// Runs to the end.
    pub fn finish<G: RngCore + CryptoRng>(mut self, rng: &mut G) -> Vec<Verdict> {
        while self.step(rng) {}
        self.into_verdicts()
    }

    /// One verdict per job in order, once [`Verification::step`] has returned false.
    pub fn into_verdicts(self) -> Vec<Verdict> {
        #[allow(unused_mut)] // mutated only by the fault-injection build
        let mut verdicts = match self.run {
            Run::Bls { refused, run } => merge_verdicts(refused, run.into_verdicts()),
            Run::Aggregates(aggregates) => aggregates.verdicts,
            Run::Decided(verdicts) => verdicts,
            Run::Groth16 { refused, run } => merge_verdicts(refused, run.into_verdicts()),
        };
        #[cfg(feature = "fault-injection")]
        crate::faults::after_batch(&mut verdicts);
        verdicts
    }
}

fn bls_run<'b, R>(jobs: &'b [Job<R>], limits: &Limits) -> Run<'b, R> {
    let mut refused = Vec::with_capacity(jobs.len());
    let mut encoded = Vec::with_capacity(jobs.len());
    for job in jobs {
        let statement = match &job.submit.statement {
            Statement::BlsSingle {
                public_key,
                message,
                signature,
            } => EncodedBls::Single {
                public_key,
                message,
                signature,
            },
            Statement::BlsFastAggregate {
                public_keys,
                message,
                signature,
            } => EncodedBls::FastAggregate {
                public_keys,
                message,
                signature,
            },
            _ => {
                refused.push(Some(not_this_batch()));
                continue;
            }
        };
        refused.push(None);
        encoded.push(statement);
    }
    Run::Bls {
        refused,
        run: Box::new(DecodeThenVerify::new(
            BlsScheme::default(),
            StatementDecoder::new(limits),
            encoded,
        )),
    }
}

/// An aggregate's stepwise verification, or the verdict of a statement that is not one.
fn aggregate_run<'b>(
    statement: &'b Statement,
    limits: &Limits,
) -> Result<AggregateRun<'b, Vec<u8>>, Verdict> {
    match statement {
        Statement::BlsAggregate {
            public_keys,
            messages,
            signature,
        } => Ok(AggregateRun::new(limits, public_keys, messages, signature)),
        _ => Err(not_this_batch()),
    }
}

/// The verdict of a statement in a batch of another kind (batching makes it impossible).
fn not_this_batch() -> Verdict {
    Verdict::Rejected(Rejection::BadEncoding {
        field: Field::new("statement"),
    })
}

fn groth16_run<'b, R>(key: Arc<AnyKey>, jobs: &'b [Job<R>], limits: &Limits) -> Run<'b, R> {
    let key_curve = key.curve();
    let mut refused: Vec<Option<Verdict>> = Vec::with_capacity(jobs.len());
    let mut encoded = Vec::with_capacity(jobs.len());
    for job in jobs {
        match &job.submit.statement {
            Statement::Groth16 {
                curve,
                proof,
                public_inputs,
                ..
            } => {
                let proof_curve = engine_curve(*curve);
                if proof_curve != key_curve {
                    refused.push(Some(Verdict::Rejected(Rejection::CurveMismatch {
                        key: key_curve,
                        proof: proof_curve,
                    })));
                } else {
                    refused.push(None);
                    encoded.push(EncodedStatement {
                        proof,
                        inputs: public_inputs,
                    });
                }
            }
            _ => refused.push(Some(not_this_batch())),
        }
    }
    Run::Groth16 {
        refused,
        run: Groth16Run::new(key, limits, encoded),
    }
}

/// The engine's name for a wire curve.
pub fn engine_curve(curve: Curve) -> groth16::Curve {
    match curve {
        Curve::Bn254 => groth16::Curve::Bn254,
        _ => groth16::Curve::Bls12_381,
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use tf_engine::bls::{self, PublicKey, Signature, verify_aggregate_encoded};
    use tf_engine::{InvalidReason, work};
    use tf_fairness::TenantSlot;
    use tf_wire::{DatasetClass, Submit};

    use super::*;

    fn job(statement: Statement) -> Job<()> {
        Job {
            tenant: TenantSlot(0),
            submit: Submit {
                request_id: 1,
                purpose: "test".into(),
                dataset_class: DatasetClass::P2,
                statement,
            },
            received_unix_us: 0,
            route: (),
            policy: Default::default(),
            reservation: Default::default(),
            admitted: tf_fairness::Micros(0),
            decision_seq: 0,
        }
    }

    /// `n` keys, key `i` signing `message(i)`, and the sum of their signatures.
    fn signed(
        n: usize,
        message: impl Fn(usize) -> Vec<u8>,
    ) -> (Vec<[u8; 48]>, Vec<Vec<u8>>, [u8; 96]) {
        let mut keys = Vec::new();
        let mut messages = Vec::new();
        let mut signatures: Vec<Signature> = Vec::new();
        for i in 0..n {
            let mut secret = [0u8; 32];
            secret[0] = 0x21;
            secret[28..].copy_from_slice(&(i as u32 + 1).to_be_bytes());
            let m = message(i);
            let (signature, key): (Signature, PublicKey) = bls::sign(&secret, &m).expect("signs");
            keys.push(key.to_bytes());
            messages.push(m);
            signatures.push(signature);
        }
        let signature = bls::aggregate_signatures(&signatures).map_or([0; 96], |s| s.to_bytes());
        (keys, messages, signature)
    }

    /// Steps a verification to the end; its verdicts and the number of steps.
    fn run(mut verification: Verification<'_, ()>) -> (Vec<Verdict>, usize) {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut steps = 1;
        while verification.step(&mut rng) {
            steps += 1;
        }
        (verification.into_verdicts(), steps)
    }

    #[test]
    fn aggregates_get_the_one_call_verdicts_a_bounded_step_at_a_time() {
        let limits = Limits::DEFAULT;
        let (keys, messages, signature) = signed(300, |i| format!("transfer {i}").into_bytes());
        let mut swapped = messages.clone();
        swapped.swap(3, 4);
        let mut bad_key = keys.clone();
        bad_key[299][0] &= 0x7f;
        let aggregate = |keys: &[[u8; 48]], messages: &[Vec<u8>], signature: [u8; 96]| {
            Statement::BlsAggregate {
                public_keys: keys.to_vec(),
                messages: messages.to_vec(),
                signature,
            }
        };
        let jobs = vec![
            job(aggregate(&keys, &messages, signature)),
            job(aggregate(&keys, &swapped, signature)),
            job(aggregate(&bad_key, &messages, signature)),
            job(aggregate(&keys[..2], &messages[..3], signature)),
            job(aggregate(&[], &[], signature)),
            job(aggregate(&keys[..1], &messages[..1], signature)),
        ];
        let expected: Vec<Verdict> = jobs
            .iter()
            .map(|job| match &job.submit.statement {
                Statement::BlsAggregate {
                    public_keys,
                    messages,
                    signature,
                } => verify_aggregate_encoded(&limits, public_keys, messages, signature),
                _ => unreachable!("aggregates only"),
            })
            .collect();
        assert_eq!(expected[0], Verdict::Valid);
        assert_eq!(expected[4], Verdict::Invalid(InvalidReason::EmptyAggregate));
        let verification = Verification {
            run: Run::Aggregates(Box::new(Aggregates {
                jobs: &jobs,
                limits,
                current: None,
                verdicts: Vec::new(),
            })),
        };
        let (verdicts, steps) = run(verification);
        assert_eq!(verdicts, expected);
        // Two aggregates of 300 pairs verified through: at least their work in steps.
        let work = 2 * 300 * (work::KEY_DECODE + work::PAIRING) as usize;
        assert!(steps >= work / work::STEP as usize, "{steps} steps");
    }

    #[test]
    fn a_large_fast_aggregate_is_decoded_across_steps_beside_singles() {
        let limits = Limits::DEFAULT;
        let (keys, _, signature) = signed(1024, |_| b"block 7 is final".to_vec());
        let (single_key, single_message, single_signature) = signed(1, |_| b"one".to_vec());
        let single = Statement::BlsSingle {
            public_key: single_key[0],
            message: single_message[0].clone(),
            signature: single_signature,
        };
        let fast = |keys: &[[u8; 48]]| Statement::BlsFastAggregate {
            public_keys: keys.to_vec(),
            message: b"block 7 is final".to_vec(),
            signature,
        };
        let jobs = vec![
            job(single.clone()),
            job(fast(&keys)),
            job(fast(&keys[..1023])),
            job(single),
        ];
        let (verdicts, steps) = run(Verification {
            run: bls_run(&jobs, &limits),
        });
        assert_eq!(
            verdicts,
            vec![
                Verdict::Valid,
                Verdict::Valid,
                Verdict::Invalid(InvalidReason::SignatureMismatch),
                Verdict::Valid
            ]
        );
        let decoding = 2 * 1024 * work::KEY_DECODE as usize;
        assert!(steps >= decoding / work::STEP as usize, "{steps} steps");
    }
}
