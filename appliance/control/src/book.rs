//! The bundles' book: the bundle in force, the one a rollback republishes by default, the
//! tenants the shards serve, and the store they are all kept in. The [`crate::Bundles`] actor
//! owns it; every method here is synchronous and reads no clock.

use std::sync::Arc;

use tf_bundles::{AuthorKey, Bundle, BundleFiles, TrustedAuthors};
use tf_engine::Limits;
use tf_ledger::{Ledger, TimelineEvent};
use tf_seam::{ActivePolicy, Shards, TenantTable};

use crate::error::ControlError;
use crate::running::Running;

/// Everything the bundles' book starts from.
pub struct BundlesPlan {
    /// A connection to the ledger of its own (promotions are recorded through it; receipts and
    /// charges are read through it).
    pub ledger: Box<dyn Ledger>,
    /// The shards, as a switch drives them.
    pub shards: Arc<dyn Shards>,
    /// Bundle authors to accept.
    pub trusted: TrustedAuthors,
    /// The appliance's own key (the receipt key) for republished bundles.
    pub appliance_key: AuthorKey,
    /// Statement limits, for verifying keys in bundles.
    pub limits: Limits,
    /// How long a switch waits for every shard to prepare, then to report the new revision.
    pub switch_wait: std::time::Duration,
    /// Room each shard keeps for the bundle's verifying keys: a bundle carrying more is
    /// refused, as its keys could not all be prepared.
    pub bundle_key_room: usize,
}

/// The state the [`crate::Bundles`] actor owns.
pub struct Book {
    pub(crate) ledger: Box<dyn Ledger>,
    pub(crate) shards: Arc<dyn Shards>,
    pub(crate) tenants: Arc<TenantTable>,
    pub(crate) trusted: TrustedAuthors,
    /// Signs republished bundles (rollbacks); trusted only for content that was promoted.
    pub(crate) appliance_key: AuthorKey,
    pub(crate) limits: Limits,
    pub(crate) active: Arc<ActivePolicy>,
    /// The bundle in force before the active one: what a rollback republishes by default.
    pub(crate) previous: Option<Arc<Bundle>>,
    /// The tenants the shards serve and the terms in force for them.
    pub(crate) running: Running,
    pub(crate) switch_wait: std::time::Duration,
    pub(crate) bundle_key_room: usize,
    /// What a bundle must let through for the golden canary; `None` when it does not run.
    pub(crate) canary_gate: Option<crate::canary::CanaryGate>,
    /// The golden canary told of each switch, to judge the runs after it; `None` when it
    /// does not run.
    pub(crate) canary: Option<crate::canary::CanaryHandle>,
    /// In fleet mode, `[fleet]`: a partner's change is claimed on the fleet's timeline before
    /// it is put in force here, so every appliance puts it in force.
    pub(crate) fleet: Option<tf_config::FleetConfig>,
}

impl std::fmt::Debug for Book {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Book")
            .field("revision", &self.active.stamp.revision)
            .finish_non_exhaustive()
    }
}

impl Book {
    /// Refuses from now on to promote a bundle that would stop the golden canary's known
    /// traffic (validation says so too), and tells the canary (`handle`) of each switch.
    pub fn guard_canary(
        &mut self,
        gate: crate::canary::CanaryGate,
        handle: crate::canary::CanaryHandle,
    ) {
        self.canary_gate = Some(gate);
        self.canary = Some(handle);
    }

    /// In fleet mode: partners' changes (onboardings, terms) go through the fleet's policy
    /// timeline, as promotions do.
    pub fn follow_fleet(&mut self, config: tf_config::FleetConfig) {
        self.fleet = Some(config);
    }

    /// Loads the bundle in force (if one was promoted) and its predecessor, re-verifying both.
    pub fn open(plan: BundlesPlan) -> Result<Self, ControlError> {
        let mut book = Book {
            ledger: plan.ledger,
            shards: plan.shards,
            tenants: Arc::new(TenantTable::new(&[], 1)),
            trusted: plan.trusted,
            appliance_key: plan.appliance_key,
            limits: plan.limits,
            active: Arc::new(ActivePolicy::configured()),
            previous: None,
            running: Running::default(),
            switch_wait: plan.switch_wait,
            bundle_key_room: plan.bundle_key_room,
            canary_gate: None,
            canary: None,
            fleet: None,
        };
        let timeline = book.ledger.timeline()?;
        if let Some(last) = timeline.last() {
            let active = book.load(last.to_revision)?;
            book.previous = match last.from_revision {
                0 => None,
                from => Some(Arc::new(book.load(from)?)),
            };
            book.active = Arc::new(ActivePolicy::promoted(Arc::new(active)));
        }
        Ok(book)
    }

    /// The tenants the shards run (staged terms are numbered by their slots) and what they were
    /// started with; set once they are built.
    pub fn serve_tenants(&mut self, tenants: Arc<TenantTable>, running: Running) {
        self.tenants = tenants;
        self.running = running;
    }

    /// The policy in force.
    pub fn active(&self) -> Arc<ActivePolicy> {
        self.active.clone()
    }

    /// The bundle a rollback would republish.
    pub fn previous(&self) -> Option<&Arc<Bundle>> {
        self.previous.as_ref()
    }

    /// The tenants the shards serve, with the terms in force.
    pub fn running_tenants(&self) -> &[tf_config::TenantConfig] {
        &self.running.tenants
    }

    /// Every promotion and rollback, oldest first.
    pub fn timeline(&self) -> Result<Vec<TimelineEvent>, ControlError> {
        Ok(self.ledger.timeline()?)
    }

    /// The control plane's latest events, oldest first.
    pub fn control_events(&self) -> Result<Vec<crate::events::Event>, ControlError> {
        let events = self
            .ledger
            .latest_control_events(&crate::events::KINDS, crate::events::SHOWN)?;
        Ok(events.iter().map(crate::events::event).collect())
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
    pub(crate) fn load(&self, revision: u64) -> Result<Bundle, ControlError> {
        let archive = self
            .ledger
            .archive(revision)?
            .ok_or(ControlError::NotStored { revision })?;
        let files = BundleFiles::from_tar_gz(&archive).map_err(tf_bundles::Refusal::one)?;
        let mut trusted = self.trusted.clone();
        trusted.add(self.appliance_key.public_key());
        let bundle = tf_bundles::open(files, Some(&trusted), &self.limits)?;
        if bundle.author_key_id == self.appliance_key.key_id() {
            if let Some(change) = &bundle.manifest.partner {
                self.check_partner_change(&bundle, change)?;
                return Ok(bundle);
            }
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
}
