//! Before a bundle is promoted: would it let the canary's own known traffic through? A bundle
//! that drops the canary's tenant, gives it caps or too few keys, or whose policies deny a
//! request of the golden set is refused with the reason, since the canary could then only fail (and
//! partners' traffic like it might be refused too).

use tf_bundles::{Admission, Bundle, Problem, StatementKind};
use tf_canary::golden::{GoldenSet, curve_name};
use tf_wire::{DatasetClass, Statement};

/// The canary's tenant and its golden set's requests, as admission sees them.
#[derive(Clone, Debug)]
pub struct CanaryGate {
    tenant: String,
    /// Keys the canary registers on each connection.
    keys: usize,
    items: Vec<GateItem>,
}

#[derive(Clone, Debug)]
struct GateItem {
    label: String,
    purpose: String,
    class: DatasetClass,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Bls(&'static str),
    Groth16 { key_id: String, curve: &'static str },
}

impl CanaryGate {
    /// The gate for `tenant` sending `set`.
    pub fn of(tenant: &str, set: &GoldenSet) -> Self {
        let items = set
            .items
            .iter()
            .map(|item| GateItem {
                label: item.label.clone(),
                purpose: item.purpose.clone(),
                class: item.dataset_class,
                kind: match &item.statement {
                    Statement::Groth16 { key_id, curve, .. } => Kind::Groth16 {
                        key_id: hex::encode(key_id),
                        curve: curve_name(*curve),
                    },
                    other => Kind::Bls(tf_shard::statement_kind(other)),
                },
            })
            .collect();
        CanaryGate {
            tenant: tenant.to_owned(),
            keys: set.keys.len(),
            items,
        }
    }

    /// What in `bundle` would stop the canary's known traffic (empty: nothing).
    pub fn problems(&self, bundle: &Bundle) -> Vec<Problem> {
        let refused = |why: String| Problem::CanaryRefused {
            tenant: self.tenant.clone(),
            why,
        };
        let Some(tenant) = bundle.content.tenants.iter().find(|t| t.id == self.tenant) else {
            return vec![refused("the bundle does not list its tenant".to_owned())];
        };
        if !tenant.caps.is_empty() {
            return vec![refused(
                "the bundle gives its tenant budget caps, and the canary is exempt from budgets"
                    .to_owned(),
            )];
        }
        let mut problems = Vec::new();
        if tenant.max_registered_keys < self.keys {
            problems.push(refused(format!(
                "the bundle lets its tenant register {} keys and the golden set registers {}",
                tenant.max_registered_keys, self.keys
            )));
        }
        for item in &self.items {
            let statement = match &item.kind {
                Kind::Bls(kind) => StatementKind::Bls(kind),
                Kind::Groth16 { key_id, curve } => StatementKind::Groth16 { key_id, curve },
            };
            let decision = bundle.policies.decide(&Admission {
                tenant: &self.tenant,
                purpose: &item.purpose,
                class: item.class,
                statement,
            });
            if !decision.allowed {
                let by = if decision.policies.is_empty() {
                    "no policy permits it".to_owned()
                } else {
                    format!("forbidden by {}", decision.policies.join(", "))
                };
                problems.push(refused(format!(
                    "its request {:?} (purpose {}, class {}) would be denied: {by}",
                    item.label,
                    item.purpose,
                    item.class.name()
                )));
            }
        }
        problems
    }
}
