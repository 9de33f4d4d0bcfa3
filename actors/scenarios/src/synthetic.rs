//! Synthetic traffic for a pack: a shape (rate, tenants, kinds, purposes, class, swings) turned
//! into recorded-like events, each request admitted and settled valid, so replay asks of each
//! bundle what it would answer. The same shape gives the same events: packs compare night to
//! night.

use std::sync::Arc;

use tf_budgets::Work;
use tf_drift::{Decision, Event, Outcome, Settlement};
use tf_engine::KeyId;
use tf_receipts::VerdictLabel;
use tf_wire::DatasetClass;

/// A synthetic traffic shape, checked by [`crate::Pack::parse`].
pub struct Shape<'a> {
    /// Requests per second on average.
    pub rate_per_sec: u64,
    /// How long, microseconds.
    pub duration_us: u64,
    /// When it starts, Unix microseconds.
    pub start_us: u64,
    /// The tenants, in turn.
    pub tenants: &'a [String],
    /// Kinds and weights (empty: every request a BLS signature).
    pub mix: &'a [(String, u32)],
    /// Purposes, in turn (empty: `default`).
    pub purposes: &'a [String],
    /// The class.
    pub class: DatasetClass,
    /// The rate swings this many percent up and down, once a minute.
    pub burst_percent: u32,
    /// A Groth16 key per curve the proofs are under (the bundle's registry's), if any.
    pub keys: &'a [(&'a str, KeyId)],
}

/// Hands `each` the shape's events in order, until it returns `false`.
pub fn events(shape: &Shape<'_>, mut each: impl FnMut(Event) -> bool) {
    let tenants: Vec<Arc<str>> = shape
        .tenants
        .iter()
        .map(|t| Arc::from(t.as_str()))
        .collect();
    let default_purpose = [String::from("default")];
    let purposes: Vec<Arc<str>> = if shape.purposes.is_empty() {
        &default_purpose[..]
    } else {
        shape.purposes
    }
    .iter()
    .map(|p| Arc::from(p.as_str()))
    .collect();
    let single = [(String::from("bls-single"), 1)];
    let mix = if shape.mix.is_empty() {
        &single[..]
    } else {
        shape.mix
    };
    let kinds: Vec<(Arc<str>, u32)> = mix
        .iter()
        .map(|(k, w)| (Arc::from(k.as_str()), *w))
        .collect();
    let total_weight: u64 = kinds.iter().map(|(_, w)| u64::from(*w)).sum::<u64>().max(1);
    let swing = f64::from(shape.burst_percent) / 100.0;
    let mut t = 0u64;
    let mut seq = 0u64;
    let mut n = 0u64;
    while t < shape.duration_us && !tenants.is_empty() {
        let phase = (t as f64 / 60e6) * std::f64::consts::TAU;
        let rate = (shape.rate_per_sec as f64 * (1.0 + swing * phase.sin())).max(1.0);
        let at_us = shape.start_us + t;
        // A deterministic spread over kinds by weight.
        let mut pick = splitmix(n) % total_weight;
        let mut kind = kinds[0].0.clone();
        for (name, weight) in &kinds {
            if pick < u64::from(*weight) {
                kind = name.clone();
                break;
            }
            pick -= u64::from(*weight);
        }
        let key = kind.strip_prefix("groth16-").map(|curve| {
            shape
                .keys
                .iter()
                .find(|(c, _)| *c == curve)
                .map_or(KeyId([0; 32]), |(_, key)| *key)
        });
        seq += 1;
        let admitted_seq = seq;
        let decided = each(Event::Decided(Decision {
            run: shape.start_us,
            shard: 0,
            seq,
            at_us,
            mono_us: t,
            tenant: tenants[(n % tenants.len() as u64) as usize].clone(),
            purpose: purposes[((n / tenants.len() as u64) % purposes.len() as u64) as usize]
                .clone(),
            class: shape.class,
            kind: kind.clone(),
            key,
            work: work_of(&kind),
            cost: 1,
            revision: 0,
            key_known: true,
            outcome: Outcome::Admitted,
        }));
        seq += 1;
        let settled = each(Event::Settled(Settlement {
            run: shape.start_us,
            shard: 0,
            seq,
            admitted_seq,
            at_us,
            verdict: VerdictLabel::Valid,
            charged: 1,
        }));
        if !(decided && settled) {
            return;
        }
        n += 1;
        t += (1e6 / rate) as u64;
    }
}

fn splitmix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The work of a typical statement of `kind`: one signature; aggregates over eight keys;
/// proofs with four public inputs.
fn work_of(kind: &str) -> Work {
    let (keys, pairings, public_inputs) = match kind {
        "bls-fast-aggregate" => (8, 1, 0),
        "bls-aggregate" => (8, 8, 0),
        "groth16-bn254" | "groth16-bls12-381" => (0, 0, 4),
        _ => (1, 1, 0),
    };
    Work {
        keys,
        pairings,
        public_inputs,
    }
}
