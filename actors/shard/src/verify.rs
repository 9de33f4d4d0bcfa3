//! Verifying one batch through the engine: malformed items are `Rejected` on their own, the
//! rest are verified together, and each item gets its own verdict in order.

use rand_core::{CryptoRng, RngCore};
use tf_engine::bls::{self, BatchItem, PublicKey, Signature};
use tf_engine::groth16::{self, EncodedStatement, KeyRegistry};
use tf_engine::{Field, KeyId, Limits, Rejection, Verdict};
use tf_wire::{Curve, Statement};

use crate::{BatchKey, Job};

pub(crate) fn verify_batch<R, G: RngCore + CryptoRng>(
    key: BatchKey,
    jobs: &[Job<R>],
    registry: &KeyRegistry,
    limits: &Limits,
    rng: &mut G,
) -> Vec<Verdict> {
    match key {
        BatchKey::Bls => verify_bls(jobs, limits, rng),
        BatchKey::BlsAggregate => jobs
            .iter()
            .map(|job| verify_aggregate(&job.submit.statement, limits))
            .collect(),
        BatchKey::Groth16(id) => verify_groth16(id, jobs, registry, limits, rng),
    }
}

/// A BLS statement reduced to one (key, message, signature) triple.
struct Triple<'a> {
    public_key: PublicKey,
    message: &'a [u8],
    signature: Signature,
}

fn verify_bls<R, G: RngCore + CryptoRng>(
    jobs: &[Job<R>],
    limits: &Limits,
    rng: &mut G,
) -> Vec<Verdict> {
    let decoded: Vec<Result<Triple<'_>, Verdict>> = jobs
        .iter()
        .map(|job| triple(&job.submit.statement, limits))
        .collect();
    let items: Vec<BatchItem<'_>> = decoded
        .iter()
        .filter_map(|d| d.as_ref().ok())
        .map(|t| BatchItem {
            public_key: &t.public_key,
            message: t.message,
            signature: &t.signature,
        })
        .collect();
    let mut verdicts = bls::verify_batch(&items, rng).into_iter();
    decoded
        .iter()
        .map(|d| match d {
            Ok(_) => verdicts.next().expect("one verdict per decoded item"),
            Err(verdict) => *verdict,
        })
        .collect()
}

fn triple<'a>(statement: &'a Statement, limits: &Limits) -> Result<Triple<'a>, Verdict> {
    match statement {
        Statement::BlsSingle {
            public_key,
            message,
            signature,
        } => {
            bls::check_message(limits, message, Field::new("message"))?;
            Ok(Triple {
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
            Ok(Triple {
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

fn verify_groth16<R, G: RngCore + CryptoRng>(
    id: KeyId,
    jobs: &[Job<R>],
    registry: &KeyRegistry,
    limits: &Limits,
    rng: &mut G,
) -> Vec<Verdict> {
    let key = match registry.get(&id) {
        Ok(key) => key,
        Err(rejection) => return vec![Verdict::Rejected(rejection); jobs.len()],
    };
    let key_curve = key.curve();
    let mut verdicts: Vec<Option<Verdict>> = Vec::with_capacity(jobs.len());
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
                    verdicts.push(Some(Verdict::Rejected(Rejection::CurveMismatch {
                        key: key_curve,
                        proof: proof_curve,
                    })));
                } else {
                    verdicts.push(None);
                    encoded.push(EncodedStatement {
                        proof,
                        inputs: public_inputs,
                    });
                }
            }
            _ => verdicts.push(Some(Verdict::Rejected(Rejection::BadEncoding {
                field: Field::new("statement"),
            }))),
        }
    }
    let mut verified = key.verify_batch_encoded(limits, &encoded, rng).into_iter();
    verdicts
        .into_iter()
        .map(|v| v.unwrap_or_else(|| verified.next().expect("one verdict per statement")))
        .collect()
}

/// The engine's name for a wire curve.
pub fn engine_curve(curve: Curve) -> groth16::Curve {
    match curve {
        Curve::Bn254 => groth16::Curve::Bn254,
        _ => groth16::Curve::Bls12_381,
    }
}
