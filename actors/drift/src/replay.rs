//! Replaying recorded decisions under a bundle's terms: the same checks in the same order as
//! a home shard (policy, key, queue, budget, rate), with budgets and admission buckets
//! simulated over the replayed period from the recorded times.
//!
//! What replay cannot know it takes from the record: a request turned away busy stays busy
//! (queues depend on load, not terms), and a request the record never verified (it was
//! refused then) is taken as valid and settled at once when the terms admit it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tf_budgets::{ChargePolicy, TenantBudget};
use tf_engine::KeyId;
use tf_fairness::{Micros, TokenBucket};
use tf_receipts::VerdictLabel;
use tf_wire::DatasetClass;

use crate::decision::{Answer, Busy, Decision, Outcome};
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

/// Replays `decisions` (any order; each run's shards are replayed in their recorded order)
/// under `terms`; the answers come back in the order of `decisions`.
pub fn replay(
    decisions: &[Decision],
    terms: &Terms<'_>,
    registered: &Registrations,
) -> Vec<Replayed> {
    let mut events: Vec<(u64, u16, u64, u32, bool)> = Vec::with_capacity(decisions.len() * 2);
    for (index, decision) in decisions.iter().enumerate() {
        let index = index as u32;
        events.push((decision.run, decision.shard, decision.seq, index, false));
        if let Outcome::Verified { settled_seq, .. } = decision.outcome {
            events.push((decision.run, decision.shard, settled_seq, index, true));
        }
    }
    events.sort_unstable();
    let mut state = State {
        terms,
        registered,
        policies: HashMap::new(),
        budgets: HashMap::new(),
        buckets: HashMap::new(),
        admitted: HashMap::new(),
        none: Arc::from(""),
    };
    let mut answers: Vec<Option<Replayed>> = vec![None; decisions.len()];
    for (_, _, _, index, settles) in events {
        let decision = &decisions[index as usize];
        if settles {
            state.settle(index, decision);
        } else {
            answers[index as usize] = Some(state.admit(index, decision));
        }
    }
    answers
        .into_iter()
        .map(|a| a.expect("every decision has an admission event"))
        .collect()
}

struct State<'t, 'b> {
    terms: &'t Terms<'b>,
    registered: &'t Registrations,
    policies: HashMap<PolicyKey, (bool, Arc<str>)>,
    budgets: HashMap<Arc<str>, TenantBudget>,
    /// Admission buckets start full with each run.
    buckets: HashMap<(u64, Arc<str>), TokenBucket>,
    /// Requests admitted in replay and verified in the record, waiting for their settlement:
    /// the cost reserved and the charge policy they were admitted under.
    admitted: HashMap<u32, (u64, ChargePolicy)>,
    none: Arc<str>,
}

impl State<'_, '_> {
    fn admit(&mut self, index: u32, decision: &Decision) -> Replayed {
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
            let known = if decision.revision == self.terms.revision {
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
        if matches!(decision.outcome, Outcome::Verified { .. }) {
            self.admitted.insert(index, (cost, policy));
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

    fn settle(&mut self, index: u32, decision: &Decision) {
        let Some((cost, policy)) = self.admitted.remove(&index) else {
            return;
        };
        let Outcome::Verified {
            verdict,
            settled_us,
            ..
        } = decision.outcome
        else {
            return;
        };
        if let Some(budget) = self.budgets.get_mut(&decision.tenant) {
            budget.settle_under(
                &decision.purpose,
                decision.class,
                cost,
                policy,
                verdict == VerdictLabel::Valid,
                settled_us,
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
