//! What one shard counts on its hot path (plain integers in its own thread) and the snapshot it
//! publishes for scrapes.

use tf_engine::Verdict;
use tf_shard::{CapStatus, Job, Refusal, TenantSlot};

use super::histogram::{BATCH_SIZE, Histogram, LATENCY_SECONDS};

/// Statement kinds, as receipts name them.
pub const KINDS: [&str; 5] = [
    "bls-single",
    "bls-aggregate",
    "bls-fast-aggregate",
    "groth16-bn254",
    "groth16-bls12-381",
];
/// What became of a request on its home shard.
pub const OUTCOMES: [&str; 8] = [
    "valid",
    "invalid",
    "rejected",
    "over_rate",
    "mailbox_full",
    "unknown_key",
    "over_budget",
    "denied_by_policy",
];

fn kind_index(kind: &str) -> Option<usize> {
    KINDS.iter().position(|k| *k == kind)
}

fn refusal_outcome(refusal: &Refusal) -> usize {
    match refusal {
        Refusal::OverRate { .. } => 3,
        Refusal::MailboxFull { .. } => 4,
        Refusal::UnknownKey(_) => 5,
        Refusal::OverBudget(_) => 6,
        // A refusal added later counts as rejected until it gets its own outcome.
        _ => 2,
    }
}

fn verdict_outcome(verdict: &Verdict) -> usize {
    match verdict {
        Verdict::Valid => 0,
        Verdict::Invalid(_) => 1,
        _ => 2,
    }
}

/// A shard's counters.
#[derive(Clone, Debug)]
pub struct ShardMetrics {
    /// Per tenant slot, kind and outcome.
    pub outcomes: Vec<[[u64; OUTCOMES.len()]; KINDS.len()]>,
    /// Per tenant slot: over-budget refusals where this appliance's share of a cap ran out,
    /// not the cap (fleet mode).
    pub fleet_share_refusals: Vec<u64>,
    /// Per tenant slot: requests verified in the surplus lane (beyond the tenant's share of a
    /// busy shard, batched apart and verified after the others').
    pub surplus: Vec<u64>,
    /// Received to decided, per kind.
    pub decision_latency: Vec<Histogram>,
    /// Requests per verified batch, per kind.
    pub batch_size: Vec<Histogram>,
    /// Batches this home shard lent to an idle core to verify.
    pub batches_lent: u64,
    /// Batches verified here for another home shard.
    pub batches_borrowed: u64,
    /// Events (decisions and settlements) handed to the decision log's writer.
    pub decisions_recorded: u64,
    /// Events the writer had no room for.
    pub decisions_not_recorded: u64,
}

impl ShardMetrics {
    /// Zeroed counters for `tenants` tenants.
    pub fn new(tenants: usize) -> Self {
        ShardMetrics {
            outcomes: vec![[[0; OUTCOMES.len()]; KINDS.len()]; tenants],
            fleet_share_refusals: vec![0; tenants],
            surplus: vec![0; tenants],
            decision_latency: KINDS
                .iter()
                .map(|_| Histogram::new(LATENCY_SECONDS))
                .collect(),
            batch_size: KINDS.iter().map(|_| Histogram::new(BATCH_SIZE)).collect(),
            batches_lent: 0,
            batches_borrowed: 0,
            decisions_recorded: 0,
            decisions_not_recorded: 0,
        }
    }

    /// Room for tenants added since (slots up to `tenants`).
    pub fn grow(&mut self, tenants: usize) {
        if self.outcomes.len() < tenants {
            self.outcomes
                .resize(tenants, [[0; OUTCOMES.len()]; KINDS.len()]);
        }
        if self.fleet_share_refusals.len() < tenants {
            self.fleet_share_refusals.resize(tenants, 0);
        }
        if self.surplus.len() < tenants {
            self.surplus.resize(tenants, 0);
        }
    }

    /// A request refused at admission.
    pub fn refused<R>(&mut self, job: &Job<R>, refusal: &Refusal) {
        if let Some(kind) = kind_index(job.kind()) {
            self.count(job.tenant, kind, refusal_outcome(refusal));
        }
        if let Refusal::OverBudget(over) = refusal
            && over.by_grant
            && let Some(count) = self.fleet_share_refusals.get_mut(job.tenant.0 as usize)
        {
            *count += 1;
        }
    }

    /// A request the policy bundle in force denied.
    pub fn denied<R>(&mut self, job: &Job<R>) {
        if let Some(kind) = kind_index(job.kind()) {
            self.count(job.tenant, kind, 7);
        }
    }

    /// A verified batch and its verdicts, decided at `decided_unix_us`; requests of tenant
    /// `own` (the appliance's own traffic) are counted but kept out of the decision latency.
    pub fn decided<R>(
        &mut self,
        jobs: &[Job<R>],
        verdicts: &[Verdict],
        decided_unix_us: u64,
        own: Option<TenantSlot>,
    ) {
        if let Some(kind) = jobs.first().and_then(|job| kind_index(job.kind())) {
            self.batch_size[kind].record(jobs.len() as f64);
        }
        for (job, verdict) in jobs.iter().zip(verdicts) {
            let Some(kind) = kind_index(job.kind()) else {
                continue;
            };
            self.count(job.tenant, kind, verdict_outcome(verdict));
            if Some(job.tenant) == own {
                continue;
            }
            let waited_us = decided_unix_us.saturating_sub(job.received_unix_us);
            self.decision_latency[kind].record(waited_us as f64 / 1e6);
        }
    }

    /// A batch of the surplus lane was decided.
    pub fn surplus<R>(&mut self, jobs: &[Job<R>]) {
        for job in jobs {
            if let Some(count) = self.surplus.get_mut(job.tenant.0 as usize) {
                *count += 1;
            }
        }
    }

    fn count(&mut self, tenant: TenantSlot, kind: usize, outcome: usize) {
        if let Some(row) = self.outcomes.get_mut(tenant.0 as usize) {
            row[kind][outcome] += 1;
        }
    }
}

/// One tenant's cap as last seen by its home shard.
#[derive(Clone, Debug)]
pub struct BudgetGauge {
    /// The tenant slot.
    pub tenant: TenantSlot,
    /// The cap and its use.
    pub status: CapStatus,
}

/// What a shard publishes for scrapes (every half second).
#[derive(Clone, Debug)]
pub struct ShardSnapshot {
    /// Its counters.
    pub metrics: ShardMetrics,
    /// Requests admitted and not yet verified.
    pub queue_depth: usize,
    /// Open connections.
    pub connections: u64,
    /// CPU seconds its thread has used.
    pub cpu_seconds: f64,
    /// Budget use of the tenants homed on it.
    pub budgets: Vec<BudgetGauge>,
    /// The policy bundle revision it admits under.
    pub policy_revision: u64,
}
