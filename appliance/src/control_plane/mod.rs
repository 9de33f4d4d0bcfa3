//! The control actor: validates, stores and puts policy bundles in force, keeps the previous
//! one ready for rollback, and records every promotion and rollback in the ledger's timeline.
//!
//! It runs on the admin thread. Shards never wait on it: it publishes an immutable
//! [`ActivePolicy`] through [`Control`], and each home shard decides its next admission under
//! it.

pub mod api;
pub mod auth;
pub mod console;
mod promote;
mod running;
pub mod session;
mod spent;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tf_bundles::{AuthorKey, Bundle, BundleFiles, TrustedAuthors};
use tf_engine::Limits;
use tf_ledger::{BundleStore, LedgerError, SqliteLedger, TimelineEvent};

pub use self::promote::ControlError;
pub use self::running::Running;
use crate::serve::{ActivePolicy, Control, TenantTable};

/// How long a promotion waits for every shard to report the new revision.
const SWITCH_WAIT: Duration = Duration::from_secs(5);

/// The control actor's state.
pub struct ControlPlane {
    store: BundleStore,
    ledger: SqliteLedger,
    control: Arc<Control>,
    tenants: Arc<TenantTable>,
    trusted: TrustedAuthors,
    /// Signs republished bundles (rollbacks); trusted only for content that was promoted.
    appliance_key: AuthorKey,
    limits: Limits,
    active: Arc<ActivePolicy>,
    /// The bundle in force before the active one: what a rollback republishes by default.
    previous: Option<Arc<Bundle>>,
    /// What the shards were started with, to tell what a promotion applies only at restart.
    running: Running,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("revision", &self.active.stamp.revision)
            .finish_non_exhaustive()
    }
}

/// Everything the control actor starts from.
pub struct ControlPlanePlan {
    /// The ledger file (already migrated by the ledger).
    pub ledger_path: std::path::PathBuf,
    /// Published to the shards.
    pub control: Arc<Control>,
    /// Bundle authors to accept.
    pub trusted: TrustedAuthors,
    /// The appliance's own key (the receipt key) for republished bundles.
    pub appliance_key: AuthorKey,
    /// Statement limits, for verifying keys in bundles.
    pub limits: Limits,
}

impl ControlPlane {
    /// Opens the store and loads the bundle in force (if one was promoted) and its
    /// predecessor, re-verifying both.
    pub fn start(plan: ControlPlanePlan) -> Result<Self, ControlError> {
        let store = BundleStore::open(&plan.ledger_path)?;
        let ledger = SqliteLedger::open_read_only(&plan.ledger_path)?;
        let mut plane = ControlPlane {
            store,
            ledger,
            control: plan.control,
            tenants: Arc::new(TenantTable::new(&[], 1)),
            trusted: plan.trusted,
            appliance_key: plan.appliance_key,
            limits: plan.limits,
            active: Arc::new(ActivePolicy::configured()),
            previous: None,
            running: Running::default(),
        };
        let timeline = plane.store.timeline()?;
        if let Some(last) = timeline.last() {
            let active = plane.load(last.to_revision)?;
            plane.previous = match last.from_revision {
                0 => None,
                from => Some(Arc::new(plane.load(from)?)),
            };
            plane.active = Arc::new(ActivePolicy::promoted(Arc::new(active)));
        }
        Ok(plane)
    }

    /// The tenants the shards run (quotas are published per slot) and what they were started
    /// with; set once they are built.
    pub fn serve_tenants(&mut self, tenants: Arc<TenantTable>, running: Running) {
        self.tenants = tenants;
        self.running = running;
    }

    /// The tenants the shards were started with.
    pub fn running_tenants(&self) -> &[tf_config::TenantConfig] {
        &self.running.tenants
    }

    /// The policy in force.
    pub fn active(&self) -> Arc<ActivePolicy> {
        self.active.clone()
    }

    /// The bundle a rollback would republish.
    pub fn previous(&self) -> Option<&Arc<Bundle>> {
        self.previous.as_ref()
    }

    /// Every promotion and rollback, oldest first.
    pub fn timeline(&self) -> Result<Vec<TimelineEvent>, ControlError> {
        Ok(self.store.timeline()?)
    }

    /// A receipt by ledger sequence number: its tenant and the envelope as issued.
    pub fn receipt(
        &self,
        seq: u64,
    ) -> Result<Option<(String, tf_ledger::StoredReceipt)>, ControlError> {
        Ok(self.ledger.receipt(seq)?)
    }

    /// A stored bundle, opened (for diffs and the console).
    pub fn bundle(&self, revision: u64) -> Result<Bundle, ControlError> {
        self.load(revision)
    }

    /// Opens a stored revision: signed by a trusted author, or republished by this appliance
    /// with exactly the files of a revision that was promoted.
    fn load(&self, revision: u64) -> Result<Bundle, ControlError> {
        let archive = self
            .store
            .archive(revision)?
            .ok_or(ControlError::NotStored { revision })?;
        let files = BundleFiles::from_tar_gz(&archive).map_err(tf_bundles::Refusal::one)?;
        let mut trusted = self.trusted.clone();
        trusted.add(self.appliance_key.public_key());
        let bundle = tf_bundles::open(files, Some(&trusted), &self.limits)?;
        if bundle.author_key_id == self.appliance_key.key_id() {
            let original = bundle
                .manifest
                .republishes
                .ok_or(ControlError::NotRepublished { revision })?;
            let source = self.load(original)?;
            if source.manifest.files != bundle.manifest.files {
                return Err(ControlError::NotRepublished { revision });
            }
        }
        Ok(bundle)
    }

    /// Waits until every shard has prepared the staged terms of `generation`; how long it took.
    fn wait_prepared(&self, generation: u64) -> Result<Duration, ControlError> {
        let since = Instant::now();
        while since.elapsed() < SWITCH_WAIT {
            if self.control.all_prepared(generation) {
                return Ok(since.elapsed());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let shards = self
            .control
            .prepared()
            .iter()
            .enumerate()
            .filter(|(_, prepared)| **prepared < generation)
            .map(|(shard, _)| shard.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Err(ControlError::NotPrepared {
            shards,
            seconds: SWITCH_WAIT.as_secs(),
        })
    }

    /// Waits until every shard reports `revision` (or the wait runs out); how long it took.
    fn wait_for_shards(&self, revision: u64, since: Instant) -> Option<Duration> {
        while since.elapsed() < SWITCH_WAIT {
            if self
                .control
                .pulses()
                .iter()
                .all(|p| p.policy_revision == revision)
            {
                return Some(since.elapsed());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }
}

/// A bundle's registry keys as the shards load keys: canonical bytes by curve.
pub fn registry_keys(bundle: &Bundle) -> Vec<crate::state::StoredKey> {
    use tf_engine::groth16::AnyKey;
    use tf_engine::groth16::decode::encode_verifying_key;
    bundle
        .content
        .keys
        .iter()
        .filter_map(|k| {
            let bytes = match &k.key {
                AnyKey::Bn254(p) => encode_verifying_key(p.verifying_key()),
                AnyKey::Bls12_381(p) => encode_verifying_key(p.verifying_key()),
                _ => return None,
            };
            Some(crate::state::StoredKey {
                id: k.key.id(),
                curve: k.key.curve(),
                bytes,
            })
        })
        .collect()
}

impl From<LedgerError> for ControlError {
    fn from(error: LedgerError) -> Self {
        ControlError::Storage(error.to_string())
    }
}
