//! A tenant as its home shard sees it: quota bucket, allowed keys and counters.

use std::collections::HashSet;

use tf_budgets::{CapSpec, ChargePolicies, TenantBudget};
use tf_engine::KeyId;
use tf_fairness::{Micros, TokenBucket};

/// What configuration (later, the active policy bundle) says about a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSpec {
    /// The tenant id, as in its client certificate.
    pub id: String,
    /// Share of a shard's verification work under contention.
    pub weight: u32,
    /// Sustained admission rate, requests per second.
    pub rate_per_sec: u64,
    /// Burst above the rate, requests.
    pub burst: u64,
    /// Verifying keys the tenant may use (besides those it registers).
    pub keys: Vec<KeyId>,
    /// Privacy budget caps; every cap that applies to a request must hold.
    pub caps: Vec<CapSpec>,
    /// Most verifying keys the tenant may register itself.
    pub key_quota: usize,
}

/// What a promoted bundle says about a tenant that its home shard applies live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantTerms {
    /// Share of verification work under contention.
    pub weight: u32,
    /// Sustained admission rate, requests per second.
    pub rate_per_sec: u64,
    /// Burst above the rate, requests.
    pub burst: u64,
    /// Privacy budget caps.
    pub caps: Vec<CapSpec>,
    /// Most verifying keys the tenant may register itself.
    pub key_quota: usize,
}

/// What happened to a tenant's requests on its home shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TenantCounters {
    /// Admitted into the mailbox.
    pub admitted: u64,
    /// Refused: over the admission rate.
    pub over_rate: u64,
    /// Refused: mailbox full.
    pub mailbox_full: u64,
    /// Refused: Groth16 key not registered for this tenant.
    pub unknown_key: u64,
    /// Refused: a budget cap would be overspent.
    pub over_budget: u64,
    /// Verdicts: valid.
    pub valid: u64,
    /// Verdicts: invalid.
    pub invalid: u64,
    /// Verdicts: rejected (malformed).
    pub rejected: u64,
}

#[derive(Debug)]
pub(crate) struct TenantState {
    pub(crate) id: String,
    pub(crate) bucket: TokenBucket,
    pub(crate) allowed_keys: HashSet<KeyId>,
    /// The keys it registered itself (they count against its quota).
    pub(crate) registered: HashSet<KeyId>,
    pub(crate) key_quota: usize,
    pub(crate) counters: TenantCounters,
    pub(crate) budget: TenantBudget,
}

impl TenantState {
    pub(crate) fn new(
        spec: &TenantSpec,
        policies: ChargePolicies,
        now: Micros,
        unix_now: u64,
    ) -> Self {
        TenantState {
            id: spec.id.clone(),
            bucket: TokenBucket::new(spec.rate_per_sec, spec.burst, now),
            allowed_keys: spec.keys.iter().copied().collect(),
            registered: HashSet::new(),
            key_quota: spec.key_quota,
            counters: TenantCounters::default(),
            budget: TenantBudget::new(spec.caps.clone(), policies, unix_now),
        }
    }
}
