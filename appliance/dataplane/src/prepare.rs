//! A home shard's side of a promotion's staged terms (tf_seam::StagedTerms): before the switch it
//! asks the ledger for the past charges of every tenant homed here that gets a cap it does not
//! hold yet, and notes the charges it settles for them from that moment on; at the switch it
//! puts the terms in force with exactly those charges counted.
//!
//! The question travels in the shard's own channel to the ledger, behind every decided request
//! sent before it, so the ledger's answer holds each charge settled before asking and the
//! journal each one settled after: none is missed, none counted twice.

use std::sync::Arc;

use tf_budgets::{ChargeJournal, PastCharge};
use tf_ledger::ChargeGroup;
use tf_seam::StagedTerms;
use tf_shard::{Micros, Shard, TenantSlot};
use tf_wire::DatasetClass;

use super::routes::{HistoryQuery, Route};

/// StagedTerms terms being prepared on one home shard.
#[derive(Debug)]
pub struct Preparing {
    staged: Arc<StagedTerms>,
    awaited: Vec<Awaited>,
    /// A history could not be read: this shard never reports these terms prepared.
    failed: bool,
}

#[derive(Debug)]
struct Awaited {
    slot: TenantSlot,
    /// The ledger's answer, once it arrived.
    history: Option<Vec<PastCharge>>,
    /// Charges settled since the question was sent.
    journal: ChargeJournal,
}

impl Preparing {
    /// Starts preparing `staged` on shard `index`; returns the questions for the ledger.
    pub fn begin(
        staged: Arc<StagedTerms>,
        shard: &Shard<Route>,
        index: usize,
        unix_now: u64,
    ) -> (Self, Vec<HistoryQuery>) {
        let tenants = &staged.table;
        let mut awaited = Vec::new();
        let mut queries = Vec::new();
        for (i, terms) in staged.tenants.iter().enumerate() {
            let slot = TenantSlot(i as u32);
            let Some(terms) = terms else { continue };
            if tenants.home(slot) != index {
                continue;
            }
            let Some(since_us) = shard.history_needed(slot, &terms.terms.caps, unix_now) else {
                continue;
            };
            awaited.push(Awaited {
                slot,
                history: None,
                journal: ChargeJournal::default(),
            });
            queries.push(HistoryQuery {
                generation: staged.generation,
                slot,
                tenant: tenants.id(slot).to_owned(),
                since_us,
            });
        }
        let preparing = Preparing {
            staged,
            awaited,
            failed: false,
        };
        (preparing, queries)
    }

    /// The generation of the terms being prepared.
    pub fn generation(&self) -> u64 {
        self.staged.generation
    }

    /// Whether every history arrived.
    pub fn ready(&self) -> bool {
        !self.failed && self.awaited.iter().all(|a| a.history.is_some())
    }

    /// Notes a charge just settled, for a tenant whose history is being read.
    pub fn note_charge(
        &mut self,
        slot: TenantSlot,
        purpose: &str,
        class: DatasetClass,
        charged: u64,
        at: u64,
    ) {
        if let Some(awaited) = self.awaited.iter_mut().find(|a| a.slot == slot) {
            awaited.journal.record(purpose, class, charged, at);
        }
    }

    /// The ledger answered a question.
    pub fn history_arrived(
        &mut self,
        query: &HistoryQuery,
        charges: Result<Vec<ChargeGroup>, String>,
    ) {
        if query.generation != self.staged.generation {
            return;
        }
        let Some(awaited) = self.awaited.iter_mut().find(|a| a.slot == query.slot) else {
            return;
        };
        match charges {
            Ok(groups) => awaited.history = Some(groups.iter().filter_map(past_charge).collect()),
            Err(error) => {
                tracing::error!(
                    tenant = query.tenant,
                    %error,
                    "reading a tenant's charges for a promotion failed; the promotion will be \
                     refused"
                );
                self.failed = true;
            }
        }
    }

    /// Puts the terms in force for the tenants homed on shard `index`. Terms applied without
    /// their history (only if the switch came before the shard was ready, which the control
    /// plane does not do) are logged.
    pub fn apply(self, shard: &mut Shard<Route>, index: usize, now: Micros, unix_now: u64) {
        if !self.ready() {
            tracing::error!(
                shard = index,
                "bundle terms applied before their tenants' past charges were read: new caps \
                 count only charges from now on"
            );
        }
        let staged = &self.staged;
        let tenants = &staged.table;
        shard.set_pricing(staged.costs, staged.charge_policies);
        for (i, terms) in staged.tenants.iter().enumerate() {
            let slot = TenantSlot(i as u32);
            let Some(terms) = terms else { continue };
            if tenants.home(slot) != index {
                continue;
            }
            let history: Vec<PastCharge> = self
                .awaited
                .iter()
                .find(|a| a.slot == slot)
                .map(|a| {
                    let mut all = a.history.clone().unwrap_or_default();
                    all.extend_from_slice(a.journal.charges());
                    all
                })
                .unwrap_or_default();
            shard.reconfigure_tenant(slot, &terms.terms, &history, now, unix_now);
        }
    }
}

/// A ledger charge group as the budgets count it (`None` for a class this build does not know).
pub fn past_charge(group: &ChargeGroup) -> Option<PastCharge> {
    Some(PastCharge {
        purpose: group.purpose.clone(),
        class: DatasetClass::from_name(&group.dataset_class)?,
        amount: group.charged,
        first_at: group.from_us,
        last_at: group.to_us,
    })
}
