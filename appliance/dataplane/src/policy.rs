//! The policy in force and each home shard's gate in front of admission: Cedar's decision for
//! (tenant, purpose, class, key or scheme), cached per revision, before quotas and budgets.

use std::collections::HashMap;
use std::sync::Arc;

use tf_bundles::{Admission, StatementKind};
use tf_engine::KeyId;
use tf_seam::{ActivePolicy, Board};
use tf_shard::{PolicyStamp, TenantSlot};
use tf_wire::{Curve, DatasetClass, PolicyDenial, Statement, Submit};

/// Most decisions a shard caches per revision; past it the cache starts over (decisions are
/// cheap to recompute, memory is not free).
const CACHE_CAPACITY: usize = 4096;

/// What a statement is, as a cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Resource {
    Bls(&'static str),
    Groth16(KeyId, Curve),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    tenant: TenantSlot,
    class: DatasetClass,
    resource: Resource,
    purpose: String,
}

/// Why the policy in force refuses a request.
#[derive(Debug)]
struct Denied {
    /// The deciding `forbid` policies (empty: nothing permitted it).
    policies: Vec<String>,
    /// The bundle does not list the tenant.
    unlisted: bool,
}

/// A home shard's view of the policy in force.
pub struct PolicyGate {
    active: Arc<ActivePolicy>,
    generation: u64,
    /// `None`: allowed; `Some`: why not.
    decisions: HashMap<CacheKey, Option<Arc<Denied>>>,
}

impl PolicyGate {
    /// A gate holding what `board` has in force now.
    pub fn new(board: &Board) -> Self {
        PolicyGate {
            generation: board.policy_generation(),
            active: board.policy(),
            decisions: HashMap::new(),
        }
    }

    /// Picks up a newly published policy, if there is one; returns it when it is new.
    pub fn refresh(&mut self, board: &Board) -> Option<Arc<ActivePolicy>> {
        let generation = board.policy_generation();
        if generation == self.generation {
            return None;
        }
        self.active = board.policy();
        self.generation = generation;
        self.decisions.clear();
        Some(self.active.clone())
    }

    /// The revision in force here.
    pub fn stamp(&self) -> PolicyStamp {
        self.active.stamp
    }

    /// Decides a request under the policy in force: its stamp when allowed, the denial the
    /// partner gets otherwise.
    pub fn admit(
        &mut self,
        tenant: TenantSlot,
        tenant_id: &str,
        submit: &Submit,
    ) -> Result<PolicyStamp, PolicyDenial> {
        let stamp = self.active.stamp;
        let Some(bundle) = &self.active.bundle else {
            return Ok(stamp);
        };
        let resource = resource(&submit.statement);
        let key = CacheKey {
            tenant,
            class: submit.dataset_class,
            resource,
            purpose: submit.purpose.clone(),
        };
        let decision = match self.decisions.get(&key) {
            Some(decision) => decision.clone(),
            None => {
                let key_hex;
                let statement = match resource {
                    Resource::Bls(kind) => StatementKind::Bls(kind),
                    Resource::Groth16(id, curve) => {
                        key_hex = id.to_string();
                        StatementKind::Groth16 {
                            key_id: &key_hex,
                            curve: curve_name(curve),
                        }
                    }
                };
                let decision = if !bundle.content.tenants.iter().any(|t| t.id == tenant_id) {
                    // A tenant the bundle no longer lists is refused whatever its policies say.
                    Some(Arc::new(Denied {
                        policies: Vec::new(),
                        unlisted: true,
                    }))
                } else {
                    let decided = bundle.policies.decide(&Admission {
                        tenant: tenant_id,
                        purpose: &submit.purpose,
                        class: submit.dataset_class,
                        statement,
                    });
                    // Without a permit there is no deciding policy; with a forbid, it is named.
                    (!decided.allowed).then(|| {
                        Arc::new(Denied {
                            policies: decided.policies,
                            unlisted: false,
                        })
                    })
                };
                if self.decisions.len() >= CACHE_CAPACITY {
                    self.decisions.clear();
                }
                self.decisions.insert(key, decision.clone());
                decision
            }
        };
        match decision {
            None => Ok(stamp),
            Some(denied) => Err(PolicyDenial {
                revision: stamp.revision,
                bundle_hash: stamp.hash,
                policies: denied.policies.clone(),
                request: format!(
                    "tenant {tenant_id:?}{} submitting {} for purpose {:?} on {} data",
                    if denied.unlisted {
                        " (which the bundle's tenants no longer list)"
                    } else {
                        ""
                    },
                    describe(resource),
                    submit.purpose,
                    submit.dataset_class.name()
                ),
            }),
        }
    }
}

fn resource(statement: &Statement) -> Resource {
    match statement {
        Statement::BlsSingle { .. } => Resource::Bls("bls-single"),
        Statement::BlsAggregate { .. } => Resource::Bls("bls-aggregate"),
        Statement::BlsFastAggregate { .. } => Resource::Bls("bls-fast-aggregate"),
        Statement::Groth16 { curve, key_id, .. } => Resource::Groth16(KeyId(*key_id), *curve),
        // A statement kind newer than this build's policies: only a catch-all permit allows it.
        _ => Resource::Bls("unknown"),
    }
}

fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::Bn254 => "bn254",
        _ => "bls12-381",
    }
}

fn describe(resource: Resource) -> String {
    match resource {
        Resource::Bls(kind) => format!("a {kind} signature"),
        Resource::Groth16(id, curve) => {
            format!("a groth16-{} proof under key {id}", curve_name(curve))
        }
    }
}
