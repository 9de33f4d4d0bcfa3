//! What a bundle says that admission decides by, gathered for replay: tenants with their
//! quotas and caps, costs, charge policies, the key registry and the Cedar policies.

use std::collections::{HashMap, HashSet};

use tf_budgets::{CapSpec, ChargePolicies, Costs};
use tf_bundles::{Admission, Bundle, StatementKind};
use tf_engine::KeyId;

use crate::decision::Decision;

/// One tenant's admission terms.
#[derive(Clone, Debug)]
pub struct TenantTerms {
    /// Admission rate, requests per second.
    pub rate_per_sec: u64,
    /// Admission burst.
    pub burst: u64,
    /// Budget caps.
    pub caps: Vec<CapSpec>,
}

/// A bundle's admission terms.
pub struct Terms<'b> {
    /// The bundle's revision.
    pub revision: u64,
    /// Whether the bundle is one this appliance promoted, so its revision names it: decisions
    /// recorded under that revision then tell which keys the tenant could use. A candidate's
    /// revision names nothing (a CI job builds it at any revision).
    pub promoted: bool,
    /// The bundle's hash.
    pub hash: String,
    bundle: &'b Bundle,
    tenants: HashMap<String, TenantTerms>,
    costs: Costs,
    charges: ChargePolicies,
    registry: HashSet<KeyId>,
}

/// Cedar's answer for one request: allowed or not, and the policies that decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyAnswer {
    /// Whether a permit matched and no forbid did.
    pub allowed: bool,
    /// The deciding policies' ids (empty when nothing permitted it).
    pub policies: Vec<String>,
}

impl<'b> Terms<'b> {
    /// The terms of a bundle this appliance promoted (the baseline): decisions recorded under
    /// its revision were decided by it.
    pub fn promoted(bundle: &'b Bundle) -> Self {
        Terms {
            promoted: true,
            ..Terms::of(bundle)
        }
    }

    /// The terms of `bundle`, a candidate: nothing recorded is taken as decided by it.
    pub fn of(bundle: &'b Bundle) -> Self {
        let content = &bundle.content;
        let tenants = content
            .tenants
            .iter()
            .map(|t| {
                let terms = TenantTerms {
                    rate_per_sec: t.rate_per_sec as u64,
                    burst: t.burst as u64,
                    caps: t.caps.iter().filter_map(|c| c.spec()).collect(),
                };
                (t.id.clone(), terms)
            })
            .collect();
        Terms {
            revision: bundle.revision(),
            promoted: false,
            hash: bundle.hash.clone(),
            bundle,
            tenants,
            costs: content.budgets.cost.costs(),
            charges: content.budgets.policies(),
            registry: content.keys.iter().map(|k| k.key.id()).collect(),
        }
    }

    /// A listed tenant's terms.
    pub fn tenant(&self, id: &str) -> Option<&TenantTerms> {
        self.tenants.get(id)
    }

    /// Whether the bundle's registry holds `key` (granted to every tenant it lists).
    pub fn in_registry(&self, key: &KeyId) -> bool {
        self.registry.contains(key)
    }

    /// The charge policies.
    pub fn charges(&self) -> ChargePolicies {
        self.charges
    }

    /// What `decision`'s statement costs under these terms.
    pub fn cost(&self, decision: &Decision) -> u64 {
        self.costs
            .of_kind(&decision.kind)
            .saturating_add(self.costs.of_work(&decision.work))
    }

    /// Cedar's answer for `decision`'s request.
    pub fn decide(&self, decision: &Decision) -> PolicyAnswer {
        let key_hex;
        let statement = match (decision.kind.strip_prefix("groth16-"), decision.key) {
            (Some(curve), Some(key)) => {
                key_hex = key.to_string();
                StatementKind::Groth16 {
                    key_id: &key_hex,
                    curve,
                }
            }
            _ => StatementKind::Bls(&decision.kind),
        };
        let decided = self.bundle.policies.decide(&Admission {
            tenant: &decision.tenant,
            purpose: &decision.purpose,
            class: decision.class,
            statement,
        });
        PolicyAnswer {
            allowed: decided.allowed,
            policies: decided.policies,
        }
    }
}
