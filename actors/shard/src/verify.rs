//! Verifying one batch through the engine a step at a time: malformed items are `Rejected` on
//! their own, the rest are verified together, and each item gets its own verdict in order.

use rand_core::{CryptoRng, RngCore};
use tf_engine::bls::{self, BatchItem, BlsScheme, PublicKey, Signature};
use tf_engine::groth16::{self, EncodedStatement, Groth16Run, KeyRegistry};
use tf_engine::{
    DecodeThenVerify, Decoder, Field, KeyId, Limits, Rejection, Verdict, merge_verdicts,
};
use tf_wire::{Curve, Statement};

use crate::{BatchKey, Job};

/// A batch being verified a step at a time (see [`tf_engine::BatchRun`]), so the core can serve
/// its network and other messages between steps. Borrows the batch's jobs; owns everything else
/// (the Groth16 key is shared), so the shard stays free while it runs.
pub struct Verification<'b, R> {
    run: Run<'b, R>,
}

enum Run<'b, R> {
    /// Independent signatures: decoded a chunk at a time, then batch-verified.
    Bls(Box<DecodeThenVerify<&'b Statement, BlsScheme<'b>, BlsDecoder>>),
    /// Multi-message aggregates: one job per step.
    Aggregates {
        jobs: &'b [Job<R>],
        limits: Limits,
        verdicts: Vec<Verdict>,
    },
    Groth16 {
        /// Per job: refused before any curve work (wrong curve or statement), or None.
        refused: Vec<Option<Verdict>>,
        run: Groth16Run<'b>,
    },
    Decided(Vec<Verdict>),
}

impl<'b, R> Verification<'b, R> {
    pub(crate) fn new(
        key: BatchKey,
        jobs: &'b [Job<R>],
        registry: &KeyRegistry,
        limits: &Limits,
    ) -> Self {
        let run = match key {
            BatchKey::Bls => Run::Bls(Box::new(DecodeThenVerify::new(
                BlsScheme::default(),
                BlsDecoder { limits: *limits },
                jobs.iter().map(|job| &job.submit.statement).collect(),
            ))),
            BatchKey::BlsAggregate => Run::Aggregates {
                jobs,
                limits: *limits,
                verdicts: Vec::with_capacity(jobs.len()),
            },
            BatchKey::Groth16(id) => groth16_run(id, jobs, registry, limits),
        };
        Verification { run }
    }

    /// A verification that needs no work: every job already has its verdict.
    #[cfg_attr(not(feature = "null-verifier"), allow(dead_code))]
    pub(crate) fn decided(verdicts: Vec<Verdict>) -> Self {
        Verification {
            run: Run::Decided(verdicts),
        }
    }

    /// Does one bounded piece of work (about a millisecond or less); false once every job has
    /// its verdict.
    pub fn step<G: RngCore + CryptoRng>(&mut self, rng: &mut G) -> bool {
        match &mut self.run {
            Run::Bls(run) => run.step(rng),
            Run::Aggregates {
                jobs,
                limits,
                verdicts,
            } => {
                if let Some(job) = jobs.get(verdicts.len()) {
                    verdicts.push(verify_aggregate(&job.submit.statement, limits));
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
        match self.run {
            Run::Bls(run) => run.into_verdicts(),
            Run::Aggregates { verdicts, .. } | Run::Decided(verdicts) => verdicts,
            Run::Groth16 { refused, run } => merge_verdicts(refused, run.into_verdicts()),
        }
    }
}

/// Decodes BLS statements into batch items.
struct BlsDecoder {
    limits: Limits,
}

impl<'b> Decoder<&'b Statement> for BlsDecoder {
    type Item = BatchItem<'b>;

    fn decode(&self, statement: &&'b Statement) -> Result<BatchItem<'b>, Verdict> {
        triple(statement, &self.limits)
    }
}

/// A BLS statement reduced to one (key, message, signature) triple.
fn triple<'a>(statement: &'a Statement, limits: &Limits) -> Result<BatchItem<'a>, Verdict> {
    match statement {
        Statement::BlsSingle {
            public_key,
            message,
            signature,
        } => {
            bls::check_message(limits, message, Field::new("message"))?;
            Ok(BatchItem {
                public_key: PublicKey::decode(public_key, Field::new("public_key"))?,
                message,
                signature: Signature::decode(signature, Field::new("signature"))?,
            })
        }
        Statement::BlsFastAggregate {
            public_keys,
            message,
            signature,
        } => {
            bls::check_message(limits, message, Field::new("message"))?;
            let keys = bls::decode_public_keys(limits, public_keys.iter().map(|k| &k[..]))?;
            let signature = Signature::decode(signature, Field::new("signature"))?;
            let public_key = bls::aggregate_public_keys(&keys)
                .ok_or(Verdict::Invalid(tf_engine::InvalidReason::EmptyAggregate))?;
            Ok(BatchItem {
                public_key,
                message,
                signature,
            })
        }
        _ => Err(Verdict::Rejected(Rejection::BadEncoding {
            field: Field::new("statement"),
        })),
    }
}

fn verify_aggregate(statement: &Statement, limits: &Limits) -> Verdict {
    let Statement::BlsAggregate {
        public_keys,
        messages,
        signature,
    } = statement
    else {
        return Verdict::Rejected(Rejection::BadEncoding {
            field: Field::new("statement"),
        });
    };
    let decoded = (|| {
        if messages.len() != public_keys.len() {
            return Err(Rejection::CountMismatch {
                field: Field::new("messages"),
                expected: public_keys.len(),
                actual: messages.len(),
            });
        }
        for (i, message) in messages.iter().enumerate() {
            bls::check_message(limits, message, Field::at("messages", i))?;
        }
        let keys = bls::decode_public_keys(limits, public_keys.iter().map(|k| &k[..]))?;
        Ok((keys, Signature::decode(signature, Field::new("signature"))?))
    })();
    match decoded {
        Ok((keys, signature)) => {
            let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            bls::aggregate_verify(&keys, &messages, &signature)
        }
        Err(rejection) => Verdict::Rejected(rejection),
    }
}

fn groth16_run<'b, R>(
    id: KeyId,
    jobs: &'b [Job<R>],
    registry: &KeyRegistry,
    limits: &Limits,
) -> Run<'b, R> {
    let key = match registry.get(&id) {
        Ok(key) => key.clone(),
        Err(rejection) => return Run::Decided(vec![Verdict::Rejected(rejection); jobs.len()]),
    };
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
            _ => refused.push(Some(Verdict::Rejected(Rejection::BadEncoding {
                field: Field::new("statement"),
            }))),
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
