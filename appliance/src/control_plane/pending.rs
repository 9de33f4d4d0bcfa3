//! What a promoted bundle changes that the shards apply only when they start: the control
//! actor says so in its answer, the status and the log, rather than let an operator believe a
//! new cap or weight is already enforced.

use tf_bundles::Bundle;
use tf_config::{BudgetsConfig, TenantConfig};

/// The tenants and budgets the shards were started with.
#[derive(Clone, Debug, Default)]
pub struct Running {
    /// Tenants, with their caps.
    pub tenants: Vec<TenantConfig>,
    /// Costs, charge policies, contact.
    pub budgets: BudgetsConfig,
    /// The ids of the bundle registry's verifying keys the shards prepared.
    pub keys: Vec<String>,
}

/// The parts of `bundle` that differ from what runs and take effect at the next start.
pub fn at_next_start(running: &Running, bundle: &Bundle) -> Vec<String> {
    let mut pending = Vec::new();
    let wanted = &bundle.content.tenants;
    for tenant in wanted {
        match running.tenants.iter().find(|t| t.id == tenant.id) {
            None => pending.push(format!("tenant {} is added", tenant.id)),
            Some(now) => {
                if now.weight != tenant.weight {
                    pending.push(format!(
                        "weight of {}: {} -> {}",
                        tenant.id, now.weight, tenant.weight
                    ));
                }
                if now.caps != tenant.caps {
                    pending.push(format!("budget caps of {}", tenant.id));
                }
            }
        }
    }
    for tenant in &running.tenants {
        if !wanted.iter().any(|t| t.id == tenant.id) {
            pending.push(format!(
                "tenant {} is removed (until then its requests are decided by the policies)",
                tenant.id
            ));
        }
    }
    let budgets = &bundle.content.budgets;
    if budgets.cost != running.budgets.cost {
        pending.push("costs per statement kind".into());
    }
    if budgets.charge != running.budgets.charge {
        pending.push("charge policies".into());
    }
    if budgets.contact != running.budgets.contact {
        pending.push("the over-budget contact".into());
    }
    for key in &bundle.content.keys {
        let id = key.key.id().to_string();
        if !running.keys.contains(&id) {
            pending.push(format!("verifying key {} ({id})", key.name));
        }
    }
    pending
}
