//! The crypto floor: what verification alone costs per item on this machine, one at a time and
//! in batches, measured in the same run as the load so throughput can be stated as a ratio to
//! it. Items are verified from their wire bytes, as the appliance does.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use tf_engine::bls::{self, BatchItem, PublicKey, Signature};
use tf_engine::groth16::{AnyKey, Curve, EncodedStatement};
use tf_engine::{Field, Limits, Verdict};
use tf_partner::{Statement, fixtures, formats};

use crate::mix::{KeyIds, Kind, Pool};

/// Repetitions per figure; the median is reported.
const REPETITIONS: usize = 5;
/// Each repetition runs for at least this long.
const MIN_REPETITION: Duration = Duration::from_millis(60);

/// Per-item cost of one kind.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KindFloor {
    /// Milliseconds per item verified alone (median of repetitions).
    pub single_ms: f64,
    /// Milliseconds per item in a batch of `batch` (median); the same as single for kinds the
    /// appliance does not batch (aggregates over distinct messages).
    pub batched_ms: f64,
}

/// The floor of a mix.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Floor {
    pub batch: usize,
    pub kinds: BTreeMap<Kind, KindFloor>,
    /// Mean per request of the mix, alone and batched.
    pub mix_single_ms: f64,
    pub mix_batched_ms: f64,
    /// Cores the appliance verifies on, and the requests/s all of them manage at the floor.
    pub cores: usize,
    pub single_rps: f64,
    pub batched_rps: f64,
}

/// The verifying keys of the built-in circuits, decoded as the appliance holds them.
pub struct Keys {
    bn254: AnyKey,
    bls12_381: AnyKey,
}

impl Keys {
    pub fn load() -> Result<Keys, String> {
        let decode = |json: &str| {
            let (curve, bytes) = formats::verifying_key_json(json)?;
            let curve = match curve {
                tf_partner::Curve::Bn254 => Curve::Bn254,
                _ => Curve::Bls12_381,
            };
            AnyKey::decode(curve, &Limits::DEFAULT, &bytes).map_err(|e| e.to_string())
        };
        Ok(Keys {
            bn254: decode(fixtures::BN254_KEY)?,
            bls12_381: decode(fixtures::BLS12_381_KEY)?,
        })
    }

    /// The ids the appliance gives these keys when they are registered.
    pub fn ids(&self) -> KeyIds {
        KeyIds {
            bn254: self.bn254.id().0,
            bls12_381: self.bls12_381.id().0,
        }
    }
}

/// Measures every kind of the pool's mix.
pub fn measure(pool: &Pool, keys: &Keys, batch: usize, cores: usize) -> Result<Floor, String> {
    let batch = batch.max(1);
    let mut kinds = BTreeMap::new();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let pattern = pool.pattern();
    for kind in Kind::ALL {
        let items = pool.of(kind);
        if items.is_empty() {
            continue;
        }
        let mut next = 0usize;
        let single = median_per_item(1, || {
            let item = &items[next % items.len()];
            next += 1;
            expect_valid(kind, verify_one(item, keys))
        })?;
        let batched = if kind == Kind::BlsAggregate {
            single
        } else {
            let group: Vec<Statement> =
                (0..batch).map(|i| items[i % items.len()].clone()).collect();
            median_per_item(batch, || {
                verify_batch(kind, &group, keys, &mut rng)
                    .into_iter()
                    .try_for_each(|v| expect_valid(kind, v))
            })?
        };
        kinds.insert(
            kind,
            KindFloor {
                single_ms: single * 1e3,
                batched_ms: batched * 1e3,
            },
        );
    }
    let mean = |pick: fn(&KindFloor) -> f64| {
        pattern.iter().map(|k| pick(&kinds[k])).sum::<f64>() / pattern.len() as f64
    };
    let mix_single_ms = mean(|k| k.single_ms);
    let mix_batched_ms = mean(|k| k.batched_ms);
    Ok(Floor {
        batch,
        cores,
        single_rps: cores as f64 * 1e3 / mix_single_ms,
        batched_rps: cores as f64 * 1e3 / mix_batched_ms,
        mix_single_ms,
        mix_batched_ms,
        kinds,
    })
}

fn expect_valid(kind: Kind, verdict: Verdict) -> Result<(), String> {
    match verdict {
        Verdict::Valid => Ok(()),
        other => Err(format!(
            "a pooled {} item did not verify: {other}",
            kind.name()
        )),
    }
}

/// Seconds per item: the median over repetitions of (time / items) for `run`, which
/// verifies `items_per_call` items per call.
fn median_per_item(
    items_per_call: usize,
    mut run: impl FnMut() -> Result<(), String>,
) -> Result<f64, String> {
    run()?; // warm caches
    let mut figures = Vec::with_capacity(REPETITIONS);
    for _ in 0..REPETITIONS {
        let started = Instant::now();
        let mut calls = 0u32;
        while calls == 0 || started.elapsed() < MIN_REPETITION {
            run()?;
            calls += 1;
        }
        figures.push(started.elapsed().as_secs_f64() / (f64::from(calls) * items_per_call as f64));
    }
    figures.sort_by(f64::total_cmp);
    Ok(figures[figures.len() / 2])
}

fn verify_one(statement: &Statement, keys: &Keys) -> Verdict {
    match statement {
        Statement::BlsSingle {
            public_key,
            message,
            signature,
        } => match decode_pair(public_key, signature) {
            Ok((key, sig)) => bls::verify(&key, message, &sig),
            Err(verdict) => verdict,
        },
        Statement::BlsAggregate {
            public_keys,
            messages,
            signature,
        } => {
            let decoded = decode_keys(public_keys).and_then(|keys| {
                Signature::decode(signature, Field::new("signature"))
                    .map(|s| (keys, s))
                    .map_err(Verdict::Rejected)
            });
            match decoded {
                Ok((keys, sig)) => {
                    let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
                    bls::aggregate_verify(&keys, &messages, &sig)
                }
                Err(verdict) => verdict,
            }
        }
        Statement::BlsFastAggregate { .. } => match fast_item(statement) {
            Ok(item) => bls::verify(&item.public_key, item.message, &item.signature),
            Err(verdict) => verdict,
        },
        Statement::Groth16 {
            curve,
            proof,
            public_inputs,
            ..
        } => key_for(*curve, keys).verify_encoded(
            &Limits::DEFAULT,
            EncodedStatement {
                proof,
                inputs: public_inputs,
            },
        ),
        _ => Verdict::Rejected(tf_engine::Rejection::BadEncoding {
            field: Field::new("statement"),
        }),
    }
}

fn verify_batch(
    kind: Kind,
    statements: &[Statement],
    keys: &Keys,
    rng: &mut ChaCha20Rng,
) -> Vec<Verdict> {
    match kind {
        Kind::Bls | Kind::BlsFastAggregate => {
            let items: Result<Vec<BatchItem<'_>>, Verdict> = statements
                .iter()
                .map(|s| match s {
                    Statement::BlsSingle {
                        public_key,
                        message,
                        signature,
                    } => decode_pair(public_key, signature).map(|(public_key, signature)| {
                        BatchItem {
                            public_key,
                            message,
                            signature,
                        }
                    }),
                    other => fast_item(other),
                })
                .collect();
            match items {
                Ok(items) => bls::verify_batch(&items, rng),
                Err(verdict) => vec![verdict],
            }
        }
        Kind::Bn254 | Kind::Bls12_381 => {
            let curve = if kind == Kind::Bn254 {
                tf_wire::Curve::Bn254
            } else {
                tf_wire::Curve::Bls12_381
            };
            let encoded: Vec<EncodedStatement<'_>> = statements
                .iter()
                .filter_map(|s| match s {
                    Statement::Groth16 {
                        proof,
                        public_inputs,
                        ..
                    } => Some(EncodedStatement {
                        proof,
                        inputs: public_inputs,
                    }),
                    _ => None,
                })
                .collect();
            key_for(curve, keys).verify_batch_encoded(&Limits::DEFAULT, &encoded, rng)
        }
        Kind::BlsAggregate => statements.iter().map(|s| verify_one(s, keys)).collect(),
    }
}

fn key_for(curve: tf_wire::Curve, keys: &Keys) -> &AnyKey {
    match curve {
        tf_wire::Curve::Bn254 => &keys.bn254,
        _ => &keys.bls12_381,
    }
}

fn decode_pair(public_key: &[u8], signature: &[u8]) -> Result<(PublicKey, Signature), Verdict> {
    Ok((
        PublicKey::decode(public_key, Field::new("public_key")).map_err(Verdict::Rejected)?,
        Signature::decode(signature, Field::new("signature")).map_err(Verdict::Rejected)?,
    ))
}

fn decode_keys(public_keys: &[[u8; 48]]) -> Result<Vec<PublicKey>, Verdict> {
    bls::decode_public_keys(&Limits::DEFAULT, public_keys.iter().map(|k| &k[..]))
        .map_err(Verdict::Rejected)
}

/// A fast aggregate as one batch item under the sum of its keys, as the appliance batches it.
fn fast_item(statement: &Statement) -> Result<BatchItem<'_>, Verdict> {
    let Statement::BlsFastAggregate {
        public_keys,
        message,
        signature,
    } = statement
    else {
        return Err(Verdict::Rejected(tf_engine::Rejection::BadEncoding {
            field: Field::new("statement"),
        }));
    };
    let keys = decode_keys(public_keys)?;
    let public_key = bls::aggregate_public_keys(&keys)
        .ok_or(Verdict::Invalid(tf_engine::InvalidReason::EmptyAggregate))?;
    Ok(BatchItem {
        public_key,
        message,
        signature: Signature::decode(signature, Field::new("signature"))
            .map_err(Verdict::Rejected)?,
    })
}

/// Prints the floor as a table.
pub fn print(floor: &Floor) {
    println!(
        "verification floor on this machine (median of {REPETITIONS}; batches of {}):",
        floor.batch
    );
    println!("  {:<20} {:>12} {:>12}", "kind", "single ms", "batched ms");
    for (kind, figures) in &floor.kinds {
        println!(
            "  {:<20} {:>12.3} {:>12.3}",
            kind.name(),
            figures.single_ms,
            figures.batched_ms
        );
    }
    println!(
        "  mix mean: {:.3} ms single, {:.3} ms batched per request; on {} core(s): {:.0} req/s \
         single, {:.0} req/s batched",
        floor.mix_single_ms, floor.mix_batched_ms, floor.cores, floor.single_rps, floor.batched_rps
    );
}
