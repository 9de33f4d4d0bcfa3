//! The board between the planes: what the main thread, the control plane and the shards share.
//! The shutdown request, readiness, drain progress, each shard's pulse, the values the control
//! plane publishes (policy, staged terms, quotas) and the ledger's committed watermark. Shards
//! touch it once per io loop turn or pulse, and once per admission for the policy's generation;
//! the ledger thread once per commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use tf_shard::TenantSlot;

use crate::fleet::FleetBoard;
use crate::policy::ActivePolicy;
use crate::published::Published;
use crate::staged::StagedTerms;
use crate::storage::StorageHealth;

/// A tenant's admission quota, changed live by a reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// The tenant.
    pub slot: TenantSlot,
    /// Sustained requests per second.
    pub rate_per_sec: u64,
    /// Burst, requests.
    pub burst: u64,
}

/// The board between the planes: what the main thread, the control plane and the shards share.
#[derive(Debug)]
pub struct Board {
    shards: usize,
    draining: AtomicBool,
    ready: AtomicUsize,
    quiesced: AtomicUsize,
    stopped: AtomicUsize,
    pulses: Vec<Pulse>,
    quotas: Published<Arc<Vec<Quota>>>,
    stuck: AtomicBool,
    policy: Published<Arc<ActivePolicy>>,
    staged: Published<Option<Arc<StagedTerms>>>,
    /// Shards, then the ledger: each executor's thread and idle tick.
    executors: Vec<Liveness>,
    nudges: AtomicU64,
    /// The highest ledger sequence number committed (durable); control-plane workers follow it.
    committed: AtomicU64,
    storage: StorageHealth,
    /// Fleet mode only.
    fleet: Option<FleetBoard>,
}

/// An executor's kernel thread id and a counter its idle tick bumps (tf-dataplane nudge.rs).
#[derive(Debug, Default)]
#[repr(align(64))]
struct Liveness {
    thread: AtomicI32,
    ticks: AtomicU64,
}

/// One shard's signs of life, written only by that shard (its own cache line, so shards never
/// contend) and read by the main thread's watchdog.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Pulse {
    beats: AtomicU64,
    answered: AtomicU64,
    owed: AtomicU64,
    connections: AtomicU64,
    policy_revision: AtomicU64,
    /// The staged bundle terms it has prepared (their generation).
    prepared: AtomicU64,
}

/// What a shard last published.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PulseReading {
    /// Pulses so far: it moves only while the shard's executor runs its tasks.
    pub beats: u64,
    /// Answers delivered to the shard's connections since start.
    pub answered: u64,
    /// Requests taken on open connections and not answered yet.
    pub owed: u64,
    /// Open connections.
    pub connections: u64,
    /// The policy bundle revision its home side admits under.
    pub policy_revision: u64,
}

impl Board {
    /// A board for `shards` shards.
    pub fn new(shards: usize) -> Self {
        Board {
            shards,
            draining: AtomicBool::new(false),
            ready: AtomicUsize::new(0),
            quiesced: AtomicUsize::new(0),
            stopped: AtomicUsize::new(0),
            pulses: (0..shards).map(|_| Pulse::default()).collect(),
            quotas: Published::new(Arc::new(Vec::new())),
            stuck: AtomicBool::new(false),
            policy: Published::new(Arc::new(ActivePolicy::configured())),
            staged: Published::new(None),
            executors: (0..=shards).map(|_| Liveness::default()).collect(),
            nudges: AtomicU64::new(0),
            committed: AtomicU64::new(0),
            storage: StorageHealth::default(),
            fleet: None,
        }
    }

    /// The board of an appliance in fleet mode: home shards spend their tenants' caps only
    /// from the fleet's grants.
    pub fn in_fleet(mut self) -> Self {
        self.fleet = Some(FleetBoard::new(self.shards));
        self
    }

    /// The fleet's part, in fleet mode.
    pub fn fleet(&self) -> Option<&FleetBoard> {
        self.fleet.as_ref()
    }

    /// Executor `index` (shards, then the ledger) runs on kernel thread `thread`.
    pub fn executor_started(&self, index: usize, thread: i32) {
        self.executors[index]
            .thread
            .store(thread, Ordering::Release);
    }

    /// Executor `index` ran its idle tick.
    pub fn executor_tick(&self, index: usize) {
        self.executors[index].ticks.fetch_add(1, Ordering::Release);
    }

    /// Each executor's thread (0 until started) and ticks so far.
    pub fn executor_ticks(&self) -> Vec<(i32, u64)> {
        self.executors
            .iter()
            .map(|e| {
                (
                    e.thread.load(Ordering::Acquire),
                    e.ticks.load(Ordering::Acquire),
                )
            })
            .collect()
    }

    /// The main thread woke a sleeping executor.
    pub fn count_nudge(&self) {
        self.nudges.fetch_add(1, Ordering::Relaxed);
    }

    /// Executors woken so far.
    pub fn nudges(&self) -> u64 {
        self.nudges.load(Ordering::Relaxed)
    }

    /// The watchdog found a shard making no progress (or found them all moving again).
    pub fn set_stuck(&self, stuck: bool) {
        self.stuck.store(stuck, Ordering::Release);
    }

    /// Whether a shard is stuck.
    pub fn stuck(&self) -> bool {
        self.stuck.load(Ordering::Acquire)
    }

    /// Publishes new admission quotas; each shard applies them on its next pulse.
    pub fn publish_quotas(&self, quotas: Vec<Quota>) {
        self.quotas.publish(Arc::new(quotas));
    }

    /// How many times quotas were published; a shard compares it with what it applied.
    pub fn quota_generation(&self) -> u64 {
        self.quotas.generation()
    }

    /// The quotas last published.
    pub fn quotas(&self) -> Arc<Vec<Quota>> {
        self.quotas.get()
    }

    /// Puts a policy in force: every home shard decides its next admission under it.
    pub fn publish_policy(&self, policy: Arc<ActivePolicy>) {
        self.policy.publish(policy);
    }

    /// How many times a policy was published; a home shard compares it with what it holds
    /// before each admission (one atomic load, on a line written only by promotions).
    pub fn policy_generation(&self) -> u64 {
        self.policy.generation()
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<ActivePolicy> {
        self.policy.get()
    }

    /// Stages a bundle's terms for the shards to prepare before a switch; returns them with
    /// their generation set.
    pub fn stage(&self, mut staged: StagedTerms) -> Arc<StagedTerms> {
        let published = self.staged.publish_with(|generation| {
            staged.generation = generation;
            Some(Arc::new(staged))
        });
        published.expect("the value just published is Some")
    }

    /// Withdraws staged terms whose switch will not happen: shards stop preparing them (and
    /// stop noting charges for them).
    pub fn withdraw_stage(&self) {
        self.staged.publish(None);
    }

    /// The generation of the terms staged last (0: none yet); a shard compares it with what
    /// it prepared.
    pub fn stage_generation(&self) -> u64 {
        self.staged.generation()
    }

    /// The terms staged last.
    pub fn staged(&self) -> Option<Arc<StagedTerms>> {
        self.staged.get()
    }

    /// Shard `shard` has prepared the terms of `generation`.
    pub fn shard_prepared(&self, shard: usize, generation: u64) {
        self.pulses[shard]
            .prepared
            .store(generation, Ordering::Release);
    }

    /// Whether every shard has prepared the terms of `generation`.
    pub fn all_prepared(&self, generation: u64) -> bool {
        self.prepared().iter().all(|p| *p >= generation)
    }

    /// The generation each shard prepared last, in shard order.
    pub fn prepared(&self) -> Vec<u64> {
        self.pulses
            .iter()
            .map(|p| p.prepared.load(Ordering::Acquire))
            .collect()
    }

    /// Shard `shard` is alive and reports its counters (`beats` is ignored).
    pub fn beat(&self, shard: usize, reading: PulseReading) {
        let pulse = &self.pulses[shard];
        pulse.answered.store(reading.answered, Ordering::Relaxed);
        pulse.owed.store(reading.owed, Ordering::Relaxed);
        pulse
            .connections
            .store(reading.connections, Ordering::Relaxed);
        pulse
            .policy_revision
            .store(reading.policy_revision, Ordering::Relaxed);
        pulse.beats.fetch_add(1, Ordering::Release);
    }

    /// Every shard's last pulse, in shard order.
    pub fn pulses(&self) -> Vec<PulseReading> {
        self.pulses
            .iter()
            .map(|pulse| PulseReading {
                beats: pulse.beats.load(Ordering::Acquire),
                answered: pulse.answered.load(Ordering::Relaxed),
                owed: pulse.owed.load(Ordering::Relaxed),
                connections: pulse.connections.load(Ordering::Relaxed),
                policy_revision: pulse.policy_revision.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// The ledger thread committed everything up to `seq` (called once per commit, after its
    /// fsync; never moves backwards).
    pub fn publish_committed(&self, seq: u64) {
        self.committed.fetch_max(seq, Ordering::Release);
    }

    /// The highest ledger sequence number known durable: what a worker following the ledger
    /// may read up to.
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// The ledger's storage health: whether it can commit, and the fault in force.
    pub fn storage(&self) -> &StorageHealth {
        &self.storage
    }

    /// Asks every shard to drain and stop.
    pub fn begin_drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether a drain was asked for.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// A shard is listening and its channels are joined.
    pub fn shard_ready(&self) {
        self.ready.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether every shard is listening.
    pub fn all_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) == self.shards
    }

    /// A draining shard has answered everything it took.
    pub fn shard_quiesced(&self) {
        self.quiesced.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether every shard has answered everything it took.
    pub fn all_quiesced(&self) -> bool {
        self.quiesced.load(Ordering::Acquire) == self.shards
    }

    /// A shard's executor returned.
    pub fn shard_stopped(&self) {
        self.stopped.fetch_add(1, Ordering::AcqRel);
    }

    /// How many shards have stopped.
    pub fn stopped(&self) -> usize {
        self.stopped.load(Ordering::Acquire)
    }
}
