//! Replaying recorded decisions under a bundle's terms: the same checks in the same order as
//! a home shard (policy, key, queue, budget, rate), with budgets and admission buckets
//! simulated over the replayed period from the recorded times.
//!
//! What replay cannot know it takes from the record: a request turned away busy stays busy
//! (queues depend on load, not terms), and a request the record never verified (it was
//! refused then) is taken as valid and settled at once when the terms admit it.
//!
//! Events stream through: a week of decisions is replayed in the memory of its tenants'
//! budgets and the requests in verification at any one time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tf_budgets::{ChargePolicy, TenantBudget};
use tf_engine::KeyId;
use tf_fairness::{Micros, TokenBucket};
use tf_receipts::VerdictLabel;
use tf_wire::DatasetClass;

use crate::decision::{Answer, Busy, Decision, Event, Outcome, Settlement};
use crate::terms::Terms;

/// A replayed decision: the answer and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// The answer the terms give.
    pub answer: Answer,
    /// What decided it: the policies, the cap, the quota or the key (empty when nothing
    /// names it, as for an allowed request no policy names).
    pub why: Arc<str>,
}

/// Keys tenants registered themselves (the key store's registrations), which hold whatever
/// bundle is in force.
#[derive(Clone, Debug, Default)]
pub struct Registrations {
    keys: HashSet<(String, KeyId)>,
}

impl Registrations {
    /// Records that `tenant` registered `key`.
    pub fn add(&mut self, tenant: &str, key: KeyId) {
        self.keys.insert((tenant.to_owned(), key));
    }

    fn has(&self, tenant: &str, key: KeyId) -> bool {
        // A lookup by (&str, key) without allocating would need a borrowed key type; the
        // set is small and replay hits it only for keys the record does not settle.
        self.keys.contains(&(tenant.to_owned(), key))
    }
}

type PolicyKey = (Arc<str>, Arc<str>, DatasetClass, Arc<str>, Option<KeyId>);

/// A request admitted in replay that the record admitted too, waiting for its settlement.
struct Pending {
    tenant: Arc<str>,
    purpose: Arc<str>,
    class: DatasetClass,
    cost: u64,
    policy: ChargePolicy,
}

/// Replays events one at a time under one bundle's terms: [`Replayer::decide`] for each
/// decision, [`Replayer::settle`] for each settlement, in each shard's recorded order (shards
/// may interleave: a tenant's budget and bucket live on its home shard). Memory holds the
/// tenants' budgets and buckets and the requests in verification, never the events.
pub struct Replayer<'t, 'b> {
    terms: &'t Terms<'b>,
    registered: &'t Registrations,
    policies: HashMap<PolicyKey, (bool, Arc<str>)>,
    budgets: HashMap<Arc<str>, TenantBudget>,
    /// Admission buckets start full with each run.
    buckets: HashMap<(u64, Arc<str>), TokenBucket>,
    pending: HashMap<(u64, u16, u64), Pending>,
    /// The newest run seen: a restart loses the reservations of requests in verification (the
    /// appliance restores budgets from the ledger's charges), so they are released here.
    run: u64,
    none: Arc<str>,
}

impl<'t, 'b> Replayer<'t, 'b> {
    /// A replayer under `terms`, with the keys tenants registered themselves.
    pub fn new(terms: &'t Terms<'b>, registered: &'t Registrations) -> Self {
        Replayer {
            terms,
            registered,
            policies: HashMap::new(),
            budgets: HashMap::new(),
            buckets: HashMap::new(),
            pending: HashMap::new(),
            run: 0,
            none: Arc::from(""),
        }
    }

    /// Requests admitted and not yet settled.
    pub fn in_verification(&self) -> usize {
        self.pending.len()
    }

    /// The answer these terms give `decision`, with its effect on budgets and buckets.
    pub fn decide(&mut self, decision: &Decision) -> Replayed {
        if decision.run > self.run {
            self.new_run(decision.run);
        }
        let answer = |answer, why: Arc<str>| Replayed { answer, why };
        if decision.outcome == Outcome::Busy(Busy::Ingress) {
            return answer(
                Answer::Busy,
                Arc::from("the way to its home shard was full"),
            );
        }
        let Some(tenant) = self.terms.tenant(&decision.tenant) else {
            return answer(Answer::Denied, Arc::from("tenant not listed"));
        };
        let (allowed, policies) = self.policy(decision);
        if !allowed {
            return answer(Answer::Denied, policies);
        }
        if let Some(key) = decision.key {
            let known = if self.terms.promoted && decision.revision == self.terms.revision {
                decision.key_known
            } else {
                self.terms.in_registry(&key) || self.registered.has(&decision.tenant, key)
            };
            if !known {
                return answer(Answer::UnknownKey, Arc::from(format!("key {key}")));
            }
        }
        if decision.outcome == Outcome::Busy(Busy::Mailbox) {
            return answer(Answer::Busy, Arc::from("the tenant's queue was full"));
        }
        let cost = self.terms.cost(decision);
        let charges = self.terms.charges();
        let budget = self
            .budgets
            .entry(decision.tenant.clone())
            .or_insert_with(|| TenantBudget::new(tenant.caps.clone(), charges, decision.at_us));
        if let Err(over) = budget.reserve(&decision.purpose, decision.class, cost, decision.at_us) {
            let cap = &over.cap;
            let why = format!(
                "cap {} {} per {}{}",
                cap.class.name(),
                cap.limit,
                cap.window,
                cap.purpose
                    .as_deref()
                    .map(|p| format!(" for {p}"))
                    .unwrap_or_default()
            );
            return answer(Answer::OverBudget, Arc::from(why));
        }
        let mono = Micros(decision.mono_us);
        let bucket = self
            .buckets
            .entry((decision.run, decision.tenant.clone()))
            .or_insert_with(|| TokenBucket::new(tenant.rate_per_sec, tenant.burst, mono));
        if bucket.try_take(1, mono).is_err() {
            budget.release(&decision.purpose, decision.class, cost);
            let why = format!("rate {}/s, burst {}", tenant.rate_per_sec, tenant.burst);
            return answer(Answer::OverRate, Arc::from(why));
        }
        let policy = charges.of(decision.class);
        if decision.outcome == Outcome::Admitted {
            self.pending.insert(
                (decision.run, decision.shard, decision.seq),
                Pending {
                    tenant: decision.tenant.clone(),
                    purpose: decision.purpose.clone(),
                    class: decision.class,
                    cost,
                    policy,
                },
            );
        } else {
            // Never verified in the record: taken as valid, settled at once.
            budget.settle_under(
                &decision.purpose,
                decision.class,
                cost,
                policy,
                true,
                decision.at_us,
            );
        }
        answer(Answer::Allowed, policies)
    }

    /// Releases the reservations of requests still in verification when the appliance
    /// restarted (their settlements never came).
    fn new_run(&mut self, run: u64) {
        self.run = run;
        let lost: Vec<_> = self
            .pending
            .keys()
            .filter(|(r, _, _)| *r < run)
            .copied()
            .collect();
        for key in lost {
            if let Some(pending) = self.pending.remove(&key)
                && let Some(budget) = self.budgets.get_mut(&pending.tenant)
            {
                budget.release(&pending.purpose, pending.class, pending.cost);
            }
        }
    }

    /// Settles a request the record verified, if these terms admitted it.
    pub fn settle(&mut self, settlement: &Settlement) {
        let key = (settlement.run, settlement.shard, settlement.admitted_seq);
        let Some(pending) = self.pending.remove(&key) else {
            return;
        };
        if let Some(budget) = self.budgets.get_mut(&pending.tenant) {
            budget.settle_under(
                &pending.purpose,
                pending.class,
                pending.cost,
                pending.policy,
                settlement.verdict == VerdictLabel::Valid,
                settlement.at_us,
            );
        }
    }

    /// Cedar's answer, cached per request shape.
    fn policy(&mut self, decision: &Decision) -> (bool, Arc<str>) {
        let key = (
            decision.tenant.clone(),
            decision.purpose.clone(),
            decision.class,
            decision.kind.clone(),
            decision.key,
        );
        if let Some(cached) = self.policies.get(&key) {
            return cached.clone();
        }
        let decided = self.terms.decide(decision);
        let why = if decided.policies.is_empty() {
            if decided.allowed {
                self.none.clone()
            } else {
                Arc::from("no policy permits it")
            }
        } else {
            Arc::from(decided.policies.join(", "))
        };
        let answer = (decided.allowed, why);
        self.policies.insert(key, answer.clone());
        answer
    }
}

/// Replays `events` (each shard's in its order) under `terms`: one answer per decision, in
/// order.
pub fn replay(events: &[Event], terms: &Terms<'_>, registered: &Registrations) -> Vec<Replayed> {
    let mut replayer = Replayer::new(terms, registered);
    let mut answers = Vec::new();
    for event in events {
        match event {
            Event::Decided(decision) => answers.push(replayer.decide(decision)),
            Event::Settled(settlement) => replayer.settle(settlement),
        }
    }
    answers
}
