//! What the drift guard costs on one core for a million decisions: reading them from blocks,
//! one replay under a bundle, and the whole judgement (two replays and the comparison).

#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use common::{Ask, DAY_START_US, Recorder, bundle, example, valid};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tf_drift::block::{BlockWriter, Record, SettlementRecord, decode_block};
use tf_drift::{BundleRef, Drift, Event, Judging, Registrations, Terms, replay};
use tf_wire::DatasetClass;

const DECISIONS: usize = 1_000_000;

/// A million decisions at 800/s, each admitted one settled: four tenants (one the bundle
/// does not list), eight purposes, three classes and two kinds.
fn events() -> Vec<Event> {
    let tenants = ["acme", "globex", "demo", "initech"];
    let purposes = [
        "kyc",
        "payments",
        "audit",
        "age",
        "residency",
        "sanctions",
        "budget-demo",
        "ops",
    ];
    let classes = [DatasetClass::P0, DatasetClass::P1, DatasetClass::P2];
    let kinds = ["bls-single", "bls-fast-aggregate"];
    let mut recorder = Recorder::new();
    for i in 0..DECISIONS {
        let ask = Ask {
            tenant: tenants[i % 4],
            purpose: purposes[(i / 4) % 8],
            class: classes[(i / 32) % 3],
            kind: kinds[(i / 96) % 2],
        };
        recorder.push(ask, DAY_START_US + i as u64 * 1250, 1, valid());
    }
    recorder.events
}

/// The events as the log stores them: blocks of 4096.
fn blocks(events: &[Event]) -> Vec<Vec<u8>> {
    let mut writer = BlockWriter::default();
    let mut out = Vec::new();
    for chunk in events.chunks(4096) {
        for event in chunk {
            match event {
                Event::Decided(d) => writer.push(&Record {
                    seq: d.seq,
                    at_us: d.at_us,
                    mono_us: d.mono_us,
                    tenant: &d.tenant,
                    purpose: &d.purpose,
                    class: d.class,
                    kind: &d.kind,
                    key: d.key,
                    work: d.work,
                    cost: d.cost,
                    revision: d.revision,
                    key_known: d.key_known,
                    outcome: tf_drift::Outcome::Admitted,
                }),
                Event::Settled(s) => writer.settle(&SettlementRecord {
                    seq: s.seq,
                    admitted_seq: s.admitted_seq,
                    at_us: s.at_us,
                    verdict: s.verdict,
                    charged: s.charged,
                }),
            }
        }
        out.push(writer.finish().expect("a full chunk").data);
    }
    out
}

fn guard(c: &mut Criterion) {
    let events = events();
    let encoded = blocks(&events);
    let bytes: usize = encoded.iter().map(Vec::len).sum();
    println!(
        "{DECISIONS} decisions ({} events) in {bytes} bytes: {:.1} bytes per decision",
        events.len(),
        bytes as f64 / DECISIONS as f64
    );
    let baseline = bundle(1, &[]);
    let candidate = bundle(
        2,
        &[(
            "budgets.toml",
            example("budgets.toml").replace("limit = 100000", "limit = 5000"),
        )],
    );
    let none = Registrations::default();
    let mut group = c.benchmark_group("drift");
    group.sample_size(10);
    group.throughput(Throughput::Elements(DECISIONS as u64));
    group.bench_function("decode 1M", |b| {
        b.iter(|| {
            let mut n = 0;
            for block in &encoded {
                n += decode_block(1, 0, black_box(block)).expect("decodes").len();
            }
            n
        })
    });
    group.bench_function("replay 1M", |b| {
        b.iter(|| replay(black_box(&events), &Terms::promoted(&baseline), &none))
    });
    // What the command does once the blocks are read: decode, replay twice, compare.
    group.bench_function("judge 1M from blocks", |b| {
        b.iter(|| {
            let (before, after) = (Terms::promoted(&baseline), Terms::of(&candidate));
            let mut drift = Drift::new(
                &before,
                &after,
                &none,
                Judging {
                    baseline: BundleRef {
                        revision: 1,
                        hash: String::new(),
                    },
                    candidate: BundleRef {
                        revision: 2,
                        hash: String::new(),
                    },
                    from_us: 0,
                    to_us: u64::MAX,
                    tolerance: 0.005,
                    not_recorded: 0,
                    notes: vec![],
                },
            );
            for block in &encoded {
                for event in decode_block(1, 0, block).expect("decodes") {
                    drift.feed(&event);
                }
            }
            drift.finish()
        })
    });
    group.finish();
}

criterion_group!(benches, guard);
criterion_main!(benches);
