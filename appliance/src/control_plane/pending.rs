//! What a promoted bundle changes that the shards apply only when they start: the control
//! actor says so in its answer, the status and the log, rather than let an operator believe it
//! is already in force. Everything else (weights, quotas, caps, costs, charge policies, the
//! contact, the key registry, and refusing tenants the bundle drops) is applied at the switch.

use tf_bundles::Bundle;
use tf_config::{BudgetsConfig, TenantConfig};

/// The tenants the shards serve and the terms in force for them.
#[derive(Clone, Debug, Default)]
pub struct Running {
    /// Tenants, with their caps (as started, then as each switch set them).
    pub tenants: Vec<TenantConfig>,
    /// Costs, charge policies, contact.
    pub budgets: BudgetsConfig,
    /// The ids of the verifying keys the bundle in force prepared.
    pub keys: Vec<String>,
}

impl Running {
    /// Records what a switch to `bundle` put in force: the terms of every tenant it lists
    /// that the shards serve. Tenants it adds wait for the next start.
    pub fn take_terms(&mut self, bundle: &Bundle) {
        for tenant in &mut self.tenants {
            if let Some(terms) = bundle.content.tenants.iter().find(|t| t.id == tenant.id) {
                *tenant = terms.clone();
            }
        }
        self.budgets = bundle.content.budgets.clone();
        self.keys = bundle
            .content
            .keys
            .iter()
            .map(|k| k.key.id().to_string())
            .collect();
    }
}

/// The parts of `bundle` that take effect only at the next start: tenants it adds, since the
/// shards number their tenants once, at start.
pub fn at_next_start(running: &Running, bundle: &Bundle) -> Vec<String> {
    bundle
        .content
        .tenants
        .iter()
        .filter(|tenant| !running.tenants.iter().any(|t| t.id == tenant.id))
        .map(|tenant| format!("tenant {} is added", tenant.id))
        .collect()
}
