//! The proof mix: which kinds of statements to send in what proportion, and the pool of
//! statements made before the run so that signing never competes with the measurement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tf_engine::bls;
use tf_partner::{Statement, fixtures, formats};

/// The default mix: single signatures are the common case. Aggregates over distinct messages
/// are not batched by the appliance (each costs about two single verifications), so they are
/// left to `--mix`.
pub const DEFAULT: &str = "bls=2,bn254=1,bls12-381=1";

/// Signers in an aggregate (distinct messages) and in a fast aggregate (one message).
pub const AGGREGATE_SIGNERS: usize = 4;
pub const FAST_AGGREGATE_SIGNERS: usize = 16;

/// Distinct statements per kind: enough that batches hold different items.
const POOL_SIZE: usize = 64;

/// A kind of statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// One BLS signature (min-pk: G1 keys, G2 signatures).
    Bls,
    /// An aggregate signature over distinct messages.
    BlsAggregate,
    /// An aggregate signature by many keys over one message.
    BlsFastAggregate,
    /// A Groth16 proof on BN254.
    Bn254,
    /// A Groth16 proof on BLS12-381.
    #[serde(rename = "bls12-381")]
    Bls12_381,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Bls,
        Kind::BlsAggregate,
        Kind::BlsFastAggregate,
        Kind::Bn254,
        Kind::Bls12_381,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Bls => "bls",
            Kind::BlsAggregate => "bls-aggregate",
            Kind::BlsFastAggregate => "bls-fast-aggregate",
            Kind::Bn254 => "bn254",
            Kind::Bls12_381 => "bls12-381",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Parses `bls=2,bn254=1`.
pub fn parse(text: &str) -> Result<Vec<(Kind, u32)>, String> {
    let mut mix: Vec<(Kind, u32)> = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not KIND=WEIGHT"))?;
        let kind = Kind::from_name(name.trim()).ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown kind {name:?} ({})", names.join(", "))
        })?;
        let weight: u32 = weight
            .trim()
            .parse()
            .ok()
            .filter(|w| *w <= 1000)
            .ok_or_else(|| format!("weight {weight:?} is not a whole number from 0 to 1000"))?;
        if mix.iter().any(|(k, _)| *k == kind) {
            return Err(format!("{} is given twice", kind.name()));
        }
        mix.push((kind, weight));
    }
    Ok(mix)
}

/// The kinds in sending order: each kind `weight` times per cycle, interleaved so that a
/// short run still sees the whole mix.
pub fn pattern(mix: &[(Kind, u32)]) -> Vec<Kind> {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut credit: Vec<i64> = vec![0; mix.len()];
    (0..total)
        .map(|_| {
            for (c, (_, w)) in credit.iter_mut().zip(mix) {
                *c += i64::from(*w);
            }
            let best = (0..mix.len())
                .max_by_key(|&i| (credit[i], std::cmp::Reverse(i)))
                .expect("a non-empty mix");
            credit[best] -= i64::from(total);
            mix[best].0
        })
        .collect()
}

/// Where each tenant is in the mix, so that every tenant sends the whole mix. One sequence
/// for all tenants would alias with the tenants' turns: with 4 tenants of equal demand and the
/// default pattern of 4 kinds, each tenant would send one kind only, and each shard would see
/// only the Groth16 keys of the tenants homed on it. Each tenant starts at its own place in
/// the pattern, so tenants sending in step send different kinds.
#[derive(Debug)]
pub struct Turns {
    sent: Vec<u64>,
}

impl Turns {
    pub fn new(tenants: usize) -> Turns {
        Turns {
            sent: vec![0; tenants],
        }
    }

    /// The index ([`Pool::statement`]) of `tenant`'s next request.
    pub fn next(&mut self, tenant: usize) -> u64 {
        let index = self.sent[tenant] + tenant as u64;
        self.sent[tenant] += 1;
        index
    }
}

/// Pre-made statements by kind.
#[derive(Debug)]
pub struct Pool {
    items: BTreeMap<Kind, Vec<Statement>>,
    pattern: Vec<Kind>,
}

/// The Groth16 verifying keys' ids on the appliance (from registration).
#[derive(Clone, Copy, Debug)]
pub struct KeyIds {
    pub bn254: [u8; 32],
    pub bls12_381: [u8; 32],
}

impl Pool {
    /// Makes the statements of every kind in the mix.
    pub fn new(mix: &[(Kind, u32)], keys: KeyIds) -> Result<Pool, String> {
        let mut items = BTreeMap::new();
        for (kind, weight) in mix {
            if *weight > 0 {
                items.insert(*kind, statements(*kind, keys)?);
            }
        }
        let pattern = pattern(mix);
        Ok(Pool { items, pattern })
    }

    /// The statement at index `i` (a tenant's, from [`Turns`]): kinds follow the mix's
    /// pattern, items rotate within a kind.
    pub fn statement(&self, i: u64) -> (Kind, Statement) {
        let kind = self.pattern[i as usize % self.pattern.len()];
        let items = &self.items[&kind];
        let item = (i as usize / self.pattern.len()) % items.len();
        (kind, items[item].clone())
    }

    /// The statements of one kind.
    pub fn of(&self, kind: Kind) -> &[Statement] {
        self.items.get(&kind).map_or(&[], |v| v.as_slice())
    }

    /// The kinds in sending order.
    pub fn pattern(&self) -> &[Kind] {
        &self.pattern
    }
}

fn statements(kind: Kind, keys: KeyIds) -> Result<Vec<Statement>, String> {
    let sign = |seed: usize, message: &[u8]| {
        // A small nonzero big-endian scalar, distinct per seed.
        let mut secret = [0u8; 32];
        secret[24..].copy_from_slice(&(seed as u64 + 1).to_be_bytes());
        bls::sign(&secret, message).map_err(|e| format!("signing: {e}"))
    };
    let aggregate = |signatures: &[bls::Signature]| {
        bls::aggregate_signatures(signatures)
            .map(|s| s.to_bytes())
            .ok_or("nothing to aggregate")
    };
    match kind {
        Kind::Bls => (0..POOL_SIZE)
            .map(|i| {
                let message = format!("bench-rig message {i}").into_bytes();
                let (signature, public_key) = sign(i, &message)?;
                Ok(Statement::BlsSingle {
                    public_key: public_key.to_bytes(),
                    message,
                    signature: signature.to_bytes(),
                })
            })
            .collect(),
        Kind::BlsAggregate => (0..POOL_SIZE)
            .map(|i| {
                let mut public_keys = Vec::new();
                let mut messages = Vec::new();
                let mut signatures = Vec::new();
                for signer in 0..AGGREGATE_SIGNERS {
                    let message = format!("bench-rig transfer {i} by {signer}").into_bytes();
                    let (signature, public_key) = sign(i * AGGREGATE_SIGNERS + signer, &message)?;
                    public_keys.push(public_key.to_bytes());
                    messages.push(message);
                    signatures.push(signature);
                }
                Ok(Statement::BlsAggregate {
                    public_keys,
                    messages,
                    signature: aggregate(&signatures)?,
                })
            })
            .collect(),
        Kind::BlsFastAggregate => (0..POOL_SIZE)
            .map(|i| {
                let message = format!("bench-rig block {i} is final").into_bytes();
                let mut public_keys = Vec::new();
                let mut signatures = Vec::new();
                for signer in 0..FAST_AGGREGATE_SIGNERS {
                    let (signature, public_key) = sign(signer + i, &message)?;
                    public_keys.push(public_key.to_bytes());
                    signatures.push(signature);
                }
                Ok(Statement::BlsFastAggregate {
                    public_keys,
                    message,
                    signature: aggregate(&signatures)?,
                })
            })
            .collect(),
        Kind::Bn254 => groth16(keys.bn254, &fixtures::BN254_PROOFS),
        Kind::Bls12_381 => groth16(keys.bls12_381, &fixtures::BLS12_381_PROOFS),
    }
}

fn groth16(key: [u8; 32], proofs: &[(&str, &str)]) -> Result<Vec<Statement>, String> {
    proofs
        .iter()
        .map(|(proof, public)| formats::groth16_json(key, proof, public))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_refuse_what_they_cannot_send() {
        assert_eq!(
            parse("bls=2, bn254=1").unwrap(),
            vec![(Kind::Bls, 2), (Kind::Bn254, 1)]
        );
        assert!(parse("rsa=1").unwrap_err().contains("unknown kind"));
        assert!(parse("bls=x").unwrap_err().contains("not a whole number"));
        assert!(parse("bls=1,bls=2").unwrap_err().contains("twice"));
    }

    #[test]
    fn the_pattern_holds_each_kind_by_weight_and_interleaves_them() {
        let pattern = pattern(&[(Kind::Bls, 2), (Kind::Bn254, 1), (Kind::Bls12_381, 1)]);
        assert_eq!(
            pattern,
            vec![Kind::Bls, Kind::Bn254, Kind::Bls12_381, Kind::Bls]
        );
        assert!(
            super::pattern(&[(Kind::Bls, 0), (Kind::Bn254, 3)])
                .iter()
                .all(|k| *k == Kind::Bn254)
        );
    }

    #[test]
    fn every_tenant_sends_the_whole_mix() {
        use crate::schedule::{Schedule, Stage};
        let pattern = pattern(&[(Kind::Bls, 2), (Kind::Bn254, 1), (Kind::Bls12_381, 1)]);
        for demands in [vec![1.0; 4], vec![1.0; 2], vec![4.0, 1.0, 1.0, 1.0]] {
            let schedule = Schedule::new(
                vec![Stage {
                    rate: 1000.0,
                    duration: std::time::Duration::from_secs(4),
                }],
                &demands,
            );
            let mut turns = Turns::new(demands.len());
            let mut sent = vec![BTreeMap::<Kind, u32>::new(); demands.len()];
            for slot in schedule {
                let kind = pattern[turns.next(slot.tenant) as usize % pattern.len()];
                *sent[slot.tenant].entry(kind).or_default() += 1;
            }
            for (tenant, kinds) in sent.iter().enumerate() {
                let total = f64::from(kinds.values().sum::<u32>());
                for (kind, share) in [
                    (Kind::Bls, 0.5),
                    (Kind::Bn254, 0.25),
                    (Kind::Bls12_381, 0.25),
                ] {
                    let count = f64::from(kinds.get(&kind).copied().unwrap_or(0));
                    assert!(
                        (count - total * share).abs() <= 1.0,
                        "tenant {tenant} of {demands:?} sent {kinds:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn pooled_statements_verify() {
        let pool = Pool::new(
            &[
                (Kind::Bls, 1),
                (Kind::BlsAggregate, 1),
                (Kind::BlsFastAggregate, 1),
            ],
            KeyIds {
                bn254: [0; 32],
                bls12_381: [0; 32],
            },
        )
        .unwrap();
        for statement in pool.of(Kind::BlsAggregate).iter().take(2) {
            let Statement::BlsAggregate {
                public_keys,
                messages,
                signature,
            } = statement
            else {
                panic!("an aggregate");
            };
            let keys: Vec<bls::PublicKey> = public_keys
                .iter()
                .map(|k| bls::PublicKey::decode(k, tf_engine::Field::new("pk")).unwrap())
                .collect();
            let messages: Vec<&[u8]> = messages.iter().map(|m| m.as_slice()).collect();
            let signature =
                bls::Signature::decode(signature, tf_engine::Field::new("sig")).unwrap();
            assert_eq!(
                bls::aggregate_verify(&keys, &messages, &signature),
                tf_engine::Verdict::Valid
            );
        }
        assert_eq!(pool.of(Kind::Bls).len(), POOL_SIZE);
    }
}
