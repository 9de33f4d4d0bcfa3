//! Budget sanity before a promotion: no new cap may be below what its tenant already spent in
//! the cap's current window, counted from the ledger the same way a restart restores budgets.

use tf_budgets::{ChargePolicies, TenantBudget};
use tf_bundles::Problem;
use tf_config::TenantConfig;
use tf_ledger::{Ledger, LedgerError};
use tf_wire::DatasetClass;

/// Charges are read back summed per minute, as at start.
const GROUP_US: u64 = 60_000_000;

/// Every cap in `tenants` whose limit is below what was already spent in its window.
pub fn caps_below_spent(
    ledger: &dyn Ledger,
    tenants: &[TenantConfig],
    now_us: u64,
) -> Result<Vec<Problem>, LedgerError> {
    let mut problems = Vec::new();
    for tenant in tenants {
        let caps: Vec<_> = tenant.caps.iter().filter_map(|c| c.spec()).collect();
        let Some(since) = tf_budgets::restore_from(&caps, now_us) else {
            continue;
        };
        let mut budget = TenantBudget::new(caps, ChargePolicies::default(), now_us);
        for group in ledger.charges_since(&tenant.id, since, GROUP_US)? {
            if let Some(class) = DatasetClass::from_name(&group.dataset_class) {
                budget.restore(
                    &group.purpose,
                    class,
                    group.charged,
                    group.from_us,
                    group.to_us,
                    now_us,
                );
            }
        }
        for status in budget.status(now_us) {
            if status.used > status.cap.limit {
                problems.push(Problem::CapBelowSpent {
                    tenant: tenant.id.clone(),
                    cap: format!(
                        "{} {} per {}",
                        status.cap.purpose.as_deref().unwrap_or("every purpose"),
                        status.cap.class.name(),
                        status.cap.window
                    ),
                    limit: status.cap.limit,
                    spent: status.used,
                });
            }
        }
    }
    Ok(problems)
}
