//! Shards in memory: each either prepares staged terms at once or never does, and each reports
//! a published revision at once.

use std::sync::{Arc, Mutex};

use tf_seam::{ActivePolicy, PulseReading, Shards, StagedTerms};

/// What the fake shards have seen and report.
#[derive(Debug, Default)]
struct Seen {
    generation: u64,
    prepared: Vec<u64>,
    revisions: Vec<u64>,
    /// Revisions published, in order.
    published: Vec<u64>,
    withdrawn: usize,
    /// Polls of `prepared` since the last staging.
    polls: usize,
    /// Stagings seen while a staged generation was still being prepared.
    overlapping: usize,
}

/// In-memory shards.
#[derive(Debug)]
pub struct FakeShards {
    /// Per shard: whether it prepares staged terms.
    prepares: Vec<bool>,
    /// Polls of `prepared` before the preparing shards report it (a slow preparation).
    lag: usize,
    seen: Mutex<Seen>,
}

impl FakeShards {
    /// `shards` shards that all prepare.
    pub fn new(shards: usize) -> Arc<Self> {
        Self::preparing(vec![true; shards])
    }

    /// Shards that prepare (or not) as `prepares` says.
    pub fn preparing(prepares: Vec<bool>) -> Arc<Self> {
        Self::slow(prepares, 0)
    }

    /// Shards that report preparing only after `lag` polls.
    pub fn slow(prepares: Vec<bool>, lag: usize) -> Arc<Self> {
        let shards = prepares.len();
        Arc::new(FakeShards {
            prepares,
            lag,
            seen: Mutex::new(Seen {
                prepared: vec![0; shards],
                revisions: vec![0; shards],
                ..Seen::default()
            }),
        })
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().expect("no test panics while holding it")
    }

    /// Revisions published, in order.
    pub fn published(&self) -> Vec<u64> {
        self.seen().published.clone()
    }

    /// Stagings that came while an earlier one was still being prepared.
    pub fn overlapping(&self) -> usize {
        self.seen().overlapping
    }

    /// How many times staged terms were withdrawn.
    pub fn withdrawn(&self) -> usize {
        self.seen().withdrawn
    }
}

impl Shards for FakeShards {
    fn stage(&self, mut terms: StagedTerms) -> Arc<StagedTerms> {
        let mut seen = self.seen();
        if seen.generation > 0 && seen.polls < self.lag {
            seen.overlapping += 1;
        }
        seen.generation += 1;
        seen.polls = 0;
        terms.generation = seen.generation;
        Arc::new(terms)
    }

    fn withdraw(&self) {
        self.seen().withdrawn += 1;
    }

    fn prepared(&self) -> Vec<u64> {
        let mut seen = self.seen();
        seen.polls += 1;
        if seen.polls > self.lag {
            let generation = seen.generation;
            for (shard, prepares) in self.prepares.iter().enumerate() {
                if *prepares {
                    seen.prepared[shard] = generation;
                }
            }
        }
        seen.prepared.clone()
    }

    fn publish(&self, policy: Arc<ActivePolicy>) {
        let mut seen = self.seen();
        let revision = policy.stamp.revision;
        seen.published.push(revision);
        seen.revisions.iter_mut().for_each(|r| *r = revision);
    }

    fn pulses(&self) -> Vec<PulseReading> {
        self.seen()
            .revisions
            .iter()
            .map(|revision| PulseReading {
                policy_revision: *revision,
                ..PulseReading::default()
            })
            .collect()
    }
}
