//! The policy in force and each home shard's gate in front of admission: Cedar's decision for
//! (tenant, purpose, class, key or scheme), cached per revision, before quotas and budgets.

use std::collections::HashMap;
use std::sync::Arc;

use tf_bundles::{Admission, StatementKind};
use tf_engine::KeyId;
use tf_seam::{ActivePolicy, Board};
use tf_shard::{PolicyStamp, TenantSlot};
use tf_wire::{Curve, DatasetClass, PolicyDenial, Statement, Submit};

/// Most decisions a shard caches per tenant and revision; past it that tenant's decisions
/// start over (decisions are cheap to recompute, memory is not free). Purposes are the
/// tenant's to choose, so the bound is per tenant: a tenant naming ever new purposes evicts
/// only its own decisions, never another's. With purposes of at most 64 bytes, a shard holds
/// at most this many decisions for each tenant homed on it.
const TENANT_CAPACITY: usize = 1024;

/// What a statement is, as a cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Resource {
    Bls(&'static str),
    Groth16(KeyId, Curve),
}

/// `None`: allowed; `Some`: why not.
type Decision = Option<Arc<Denied>>;

/// The cached decisions of the tenants homed on a shard, each tenant's bounded on its own.
#[derive(Default)]
struct Decisions {
    tenants: HashMap<TenantSlot, TenantDecisions>,
}

/// One tenant's decisions, by class and statement, then by purpose (looked up by `&str`, so
/// a cached decision costs no allocation).
#[derive(Default)]
struct TenantDecisions {
    len: usize,
    by_statement: HashMap<(DatasetClass, Resource), HashMap<String, Decision>>,
}

impl Decisions {
    fn get(
        &self,
        tenant: TenantSlot,
        class: DatasetClass,
        resource: Resource,
        purpose: &str,
    ) -> Option<&Decision> {
        self.tenants
            .get(&tenant)?
            .by_statement
            .get(&(class, resource))?
            .get(purpose)
    }

    fn insert(
        &mut self,
        tenant: TenantSlot,
        class: DatasetClass,
        resource: Resource,
        purpose: &str,
        decision: Decision,
    ) {
        let mine = self.tenants.entry(tenant).or_default();
        if mine.len >= TENANT_CAPACITY {
            mine.by_statement.clear();
            mine.len = 0;
        }
        let purposes = mine.by_statement.entry((class, resource)).or_default();
        if purposes.insert(purpose.to_owned(), decision).is_none() {
            mine.len += 1;
        }
    }

    fn clear(&mut self) {
        self.tenants.clear();
    }
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
    decisions: Decisions,
}

impl PolicyGate {
    /// A gate holding what `board` has in force now.
    pub fn new(board: &Board) -> Self {
        PolicyGate {
            generation: board.policy_generation(),
            active: board.policy(),
            decisions: Decisions::default(),
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

    /// Refuses a tenant the bundle in force does not list, whatever it asks (`doing`, in
    /// words, for the denial). Key registrations and budget questions pass here; what may be
    /// submitted under a key is for the bundle's policies to decide at submission.
    pub fn lists(&self, tenant_id: &str, doing: &str) -> Result<(), PolicyDenial> {
        let Some(bundle) = &self.active.bundle else {
            return Ok(());
        };
        if bundle.content.tenants.iter().any(|t| t.id == tenant_id) {
            return Ok(());
        }
        let stamp = self.active.stamp;
        Err(PolicyDenial {
            revision: stamp.revision,
            bundle_hash: stamp.hash,
            policies: Vec::new(),
            request: format!(
                "tenant {tenant_id:?} (which the bundle's tenants no longer list) {doing}"
            ),
        })
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
        let class = submit.dataset_class;
        let cached = self.decisions.get(tenant, class, resource, &submit.purpose);
        let decision = match cached {
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
                self.decisions
                    .insert(tenant, class, resource, &submit.purpose, decision.clone());
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tf_bundles::{AuthorKey, BuildInfo, BundleFiles};
    use tf_engine::Limits;

    use super::*;

    /// A gate over the documented example bundle.
    fn gate() -> PolicyGate {
        let files = BundleFiles::from_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/bundle"),
        )
        .expect("example bundle");
        let info = BuildInfo {
            revision: 1,
            author: "policy team".into(),
            note: "test".into(),
            tickets: vec![],
            created_unix_s: 1_795_000_000,
            republishes: None,
        };
        let mut key = AuthorKey::from_secret(&[7; 32]);
        let bundle = tf_bundles::build(files, info, &mut key, &Limits::DEFAULT).expect("builds");
        let board = Board::new(1);
        board.publish_policy(Arc::new(ActivePolicy::promoted(Arc::new(bundle))));
        PolicyGate::new(&board)
    }

    fn submit(purpose: &str) -> Submit {
        Submit {
            request_id: 1,
            purpose: purpose.into(),
            dataset_class: DatasetClass::P1,
            statement: Statement::BlsSingle {
                public_key: [0; 48],
                message: b"m".to_vec(),
                signature: [0; 96],
            },
        }
    }

    impl PolicyGate {
        fn is_cached(&self, tenant: TenantSlot, submit: &Submit) -> bool {
            self.decisions
                .get(
                    tenant,
                    submit.dataset_class,
                    resource(&submit.statement),
                    &submit.purpose,
                )
                .is_some()
        }
    }

    #[test]
    fn one_tenants_churn_of_purposes_never_evicts_another_tenants_decisions() {
        let mut gate = gate();
        let (demo, acme) = (TenantSlot(0), TenantSlot(1));
        let kyc = submit("kyc");
        let first = gate.admit(demo, "demo", &kyc).map_err(|d| d.request);
        assert!(gate.is_cached(demo, &kyc));

        // acme names far more distinct purposes than any bound.
        for n in 0..5 * TENANT_CAPACITY {
            let _ = gate.admit(acme, "acme", &submit(&format!("p{n}")));
            assert!(
                gate.is_cached(demo, &kyc),
                "evicted after {n} of acme's purposes"
            );
        }
        let acme_held = gate.decisions.tenants.get(&acme).map_or(0, |t| t.len);
        assert!(acme_held <= TENANT_CAPACITY, "acme holds {acme_held}");
        assert_eq!(
            gate.admit(demo, "demo", &kyc).map_err(|d| d.request),
            first,
            "the cached decision is the one made"
        );
    }

    #[test]
    fn a_tenant_the_bundle_does_not_list_is_refused_whatever_it_asks() {
        let gate = gate();
        assert_eq!(gate.lists("demo", "registering a verifying key"), Ok(()));
        let denial = gate
            .lists("initech", "registering a verifying key")
            .expect_err("not listed by the example bundle");
        assert_eq!(denial.revision, 1);
        assert!(
            denial.request.contains("no longer list")
                && denial.request.contains("registering a verifying key"),
            "{}",
            denial.request
        );
        // Revision 0 (no bundle): the configuration's tenants are served.
        let board = Board::new(1);
        assert_eq!(PolicyGate::new(&board).lists("initech", "asking"), Ok(()));
    }

    #[test]
    fn a_new_revision_starts_every_tenants_decisions_over() {
        let mut gate = gate();
        let kyc = submit("kyc");
        let _ = gate.admit(TenantSlot(0), "demo", &kyc);
        // A board whose generation differs from the one the gate read (one publish there).
        let board = Board::new(1);
        board.publish_policy(gate.active.clone());
        board.publish_policy(gate.active.clone());
        assert!(gate.refresh(&board).is_some(), "another generation");
        assert!(!gate.is_cached(TenantSlot(0), &kyc));
    }
}
