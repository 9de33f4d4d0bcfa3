//! Bundles made from the documented example with changes, and recorded decisions.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use tf_budgets::Work;
use tf_bundles::{AuthorKey, BuildInfo, Bundle, BundleFiles};
use tf_drift::{Decision, Event, Outcome, Settlement};
use tf_engine::Limits;
use tf_receipts::VerdictLabel;
use tf_wire::DatasetClass;

/// The example bundle at `revision`, with `changes` applied to its files (name, new text).
pub fn bundle(revision: u64, changes: &[(&str, String)]) -> Bundle {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/bundle");
    let mut files = BundleFiles::from_dir(&dir).expect("the example bundle");
    for (name, text) in changes {
        files.insert(name, text.clone().into_bytes());
    }
    let info = BuildInfo {
        revision,
        author: "policy team".into(),
        note: "drift test".into(),
        tickets: vec![],
        created_unix_s: 1_795_000_000,
        republishes: None,
    };
    let mut key = AuthorKey::from_secret(&[7; 32]);
    tf_bundles::build(files, info, &mut key, &Limits::DEFAULT).expect("the bundle builds")
}

/// The example bundle's file `name`.
pub fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples/bundle")
        .join(name);
    std::fs::read_to_string(path).expect("an example file")
}

/// 2026-12-01T00:00:00Z, in microseconds.
pub const DAY_START_US: u64 = 1_796_083_200_000_000;

/// Records events one shard makes, numbering them as the shard does.
pub struct Recorder {
    pub events: Vec<Event>,
    seq: u64,
}

/// What one request asked.
#[derive(Clone, Copy)]
pub struct Ask<'a> {
    pub tenant: &'a str,
    pub purpose: &'a str,
    pub class: DatasetClass,
    pub kind: &'a str,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            events: Vec::new(),
            seq: 0,
        }
    }

    /// One request at `at_us` under revision `revision`, answered `outcome`; an admitted one
    /// is verified valid and settled a millisecond later, before the next request.
    pub fn push(&mut self, ask: Ask<'_>, at_us: u64, revision: u64, outcome: Outcome) {
        self.seq += 1;
        let seq = self.seq;
        let admitted = outcome == Outcome::Admitted;
        self.events.push(Event::Decided(Decision {
            run: 1,
            shard: 0,
            seq,
            at_us,
            mono_us: at_us - DAY_START_US,
            tenant: Arc::from(ask.tenant),
            purpose: Arc::from(ask.purpose),
            class: ask.class,
            kind: Arc::from(ask.kind),
            key: None,
            work: Work {
                keys: 1,
                pairings: 1,
                public_inputs: 0,
            },
            cost: 1,
            revision,
            key_known: true,
            outcome,
        }));
        if admitted {
            self.seq += 1;
            self.events.push(Event::Settled(Settlement {
                run: 1,
                shard: 0,
                seq: self.seq,
                admitted_seq: seq,
                at_us: at_us + 1000,
                verdict: VerdictLabel::Valid,
                charged: 1,
            }));
        }
    }

    /// The decisions, without the settlements.
    pub fn decisions(&self) -> Vec<&Decision> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Decided(d) => Some(d),
                Event::Settled(_) => None,
            })
            .collect()
    }
}

/// Admitted, and verified valid.
pub fn valid() -> Outcome {
    Outcome::Admitted
}

/// Denied by nothing permitting it.
pub fn no_permit() -> Outcome {
    Outcome::Denied {
        policies: vec![],
        unlisted: false,
    }
}

/// Judges `candidate` against `baseline` over every event.
pub fn judge(
    events: &[Event],
    baseline: &Bundle,
    candidate: &Bundle,
    tolerance: f64,
) -> tf_drift::Report {
    let none = tf_drift::Registrations::default();
    let (before, after) = (
        tf_drift::Terms::promoted(baseline),
        tf_drift::Terms::of(candidate),
    );
    let reference = |b: &Bundle| tf_drift::BundleRef {
        revision: b.revision(),
        hash: b.hash.clone(),
    };
    let mut drift = tf_drift::Drift::new(
        &before,
        &after,
        &none,
        tf_drift::Judging {
            baseline: reference(baseline),
            candidate: reference(candidate),
            from_us: 0,
            to_us: u64::MAX,
            tolerance,
            not_recorded: 0,
            notes: vec![],
        },
    );
    for event in events {
        drift.feed(event);
    }
    drift.finish()
}
