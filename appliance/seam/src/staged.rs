//! What a promoted bundle changes in the shards besides its policies, staged before the
//! switch: each tenant's weight, quota and caps, the costs and charge policies, the
//! over-budget contact and the verifying-key registry. Home shards prepare it (a cap they do
//! not hold yet needs its tenant's past charges from the ledger) and apply it at the same
//! moment as the policy, so every request is admitted, charged and scheduled under one
//! revision.

use std::sync::Arc;

use tf_budgets::{ChargePolicies, Costs};
use tf_bundles::Bundle;
use tf_engine::KeyId;
use tf_engine::groth16::AnyKey;
use tf_shard::TenantTerms;

use crate::tenants::TenantTable;

/// A bundle's terms, by the slots of the tenants the shards run.
#[derive(Debug)]
pub struct StagedTerms {
    /// Set by [`crate::Board::stage`]; shards report preparing this one.
    pub generation: u64,
    /// The tenants the shards serve from the switch on: those served before, then those the
    /// bundle adds, in new slots.
    pub table: Arc<TenantTable>,
    /// By slot of `table`: the tenant's terms, or `None` when the bundle does not list it
    /// (its requests are then refused by the policy gate).
    pub tenants: Vec<Option<StagedTenant>>,
    /// Budget units per statement kind.
    pub costs: Costs,
    /// When each class is charged.
    pub charge_policies: ChargePolicies,
    /// Told to partners over budget.
    pub contact: String,
    /// The bundle's verifying-key registry, prepared; every tenant it lists may use them,
    /// as its policies allow.
    pub keys: Vec<(KeyId, AnyKey)>,
}

/// One tenant's terms.
#[derive(Debug)]
pub struct StagedTenant {
    /// Weight, quota and caps.
    pub terms: TenantTerms,
    /// Registered keys the bundle grants it by id.
    pub keys: Vec<KeyId>,
}

impl StagedTerms {
    /// The terms of `bundle` for the tenants in `serving` and those it adds.
    pub fn of(bundle: &Bundle, serving: &TenantTable) -> Self {
        let table = Arc::new(serving.relisted(&bundle.content.tenants));
        let tenants = table
            .specs()
            .iter()
            .map(|spec| {
                let tenant = bundle.content.tenants.iter().find(|t| t.id == spec.id)?;
                Some(StagedTenant {
                    terms: TenantTerms {
                        weight: tenant.weight as u32,
                        rate_per_sec: tenant.rate_per_sec as u64,
                        burst: tenant.burst as u64,
                        caps: tenant.caps.iter().filter_map(|c| c.spec()).collect(),
                        key_quota: tenant.max_registered_keys,
                    },
                    keys: tenant.key_ids(),
                })
            })
            .collect();
        let budgets = &bundle.content.budgets;
        StagedTerms {
            generation: 0,
            table,
            tenants,
            costs: budgets.cost.costs(),
            charge_policies: budgets.policies(),
            contact: budgets.contact.clone(),
            keys: bundle
                .content
                .keys
                .iter()
                .map(|k| (k.key.id(), k.key.clone()))
                .collect(),
        }
    }
}
