//! Promotion and rollback: validate, record in the timeline, publish to every shard, and
//! confirm the switch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tf_bundles::{Bundle, BundleFiles, Problem, Refusal};
use tf_ledger::TimelineEvent;

use super::ControlPlane;
use super::spent::caps_below_spent;
use crate::serve::{ActivePolicy, Staged, unix_micros};

/// Why a promotion or rollback did not happen. The bundle in force is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The bundle failed validation.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The ledger could not be read or written.
    #[error("the ledger failed: {0}")]
    Storage(String),
    /// A revision the store does not hold.
    #[error("revision {revision} was never promoted on this appliance")]
    NotStored {
        /// The revision asked for.
        revision: u64,
    },
    /// A rollback target that was never in force (or is in force now).
    #[error(
        "revision {revision} cannot be rolled back to: only a revision that was in force before \
         (see the timeline) and is not in force now can be"
    )]
    NeverActive {
        /// The revision asked for.
        revision: u64,
    },
    /// Nothing to roll back to.
    #[error(
        "nothing to roll back to: the bundle in force is the first one promoted; promote a \
         corrected bundle instead"
    )]
    NoPrevious,
    /// A shard did not prepare the bundle's terms in time.
    #[error(
        "shard(s) {shards} did not prepare the bundle's tenant terms within {seconds} s (see the \
         appliance log); nothing changed, the bundle in force stays: retry, or restart the \
         appliance if it persists"
    )]
    NotPrepared {
        /// The shards that did not report, comma-separated.
        shards: String,
        /// How long the control actor waited.
        seconds: u64,
    },
    /// A stored bundle signed by this appliance that is not a faithful republication.
    #[error(
        "stored revision {revision} is signed by this appliance but republishes nothing it promoted"
    )]
    NotRepublished {
        /// The revision.
        revision: u64,
    },
}

/// A completed switch.
#[derive(Clone, Debug, Serialize)]
pub struct Switched {
    /// `promote` or `rollback`.
    pub action: &'static str,
    /// The revision in force before.
    pub from_revision: u64,
    /// The revision in force now.
    pub to_revision: u64,
    /// Its hash.
    pub bundle_hash: String,
    /// For a rollback, the revision whose content was republished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub republishes: Option<u64>,
    /// From staging the bundle's terms to every shard having prepared them (past charges for
    /// new caps read), milliseconds: the switch begins after it.
    pub prepared_ms: f64,
    /// From publishing to every shard reporting the new revision, milliseconds (`None` if some
    /// shard had not reported within the wait).
    pub all_shards_ms: Option<f64>,
    /// The timeline entry.
    pub timeline_seq: u64,
}

impl ControlPlane {
    /// Checks a bundle as a promotion would, without promoting it.
    pub fn validate(
        &self,
        archive: &[u8],
        allow_cap_below_spent: bool,
    ) -> Result<Bundle, ControlError> {
        let files = BundleFiles::from_tar_gz(archive).map_err(Refusal::one)?;
        let bundle = tf_bundles::open(files, Some(&self.trusted), &self.limits)?;
        let floor = self
            .store
            .highest_revision()?
            .max(self.active.stamp.revision);
        let mut problems = Vec::new();
        if let Err(stale) = bundle.check_above(floor) {
            problems.push(stale);
        }
        if !allow_cap_below_spent {
            problems.extend(caps_below_spent(
                &self.ledger,
                &bundle.content.tenants,
                unix_micros(),
            )?);
        }
        if problems.is_empty() {
            Ok(bundle)
        } else {
            Err(Refusal(problems).into())
        }
    }

    /// Validates and puts a bundle in force on every shard.
    pub fn promote(
        &mut self,
        archive: &[u8],
        actor: &str,
        allow_cap_below_spent: bool,
    ) -> Result<Switched, ControlError> {
        let bundle = self.validate(archive, allow_cap_below_spent)?;
        let reason = bundle.manifest.note.clone();
        let links = bundle.manifest.tickets.clone();
        self.put_in_force(bundle, archive, "promote", actor, reason, links)
    }

    /// Republishes an earlier revision's content as a new revision, signed by this appliance.
    /// `to` defaults to the revision in force before the active one.
    pub fn rollback(
        &mut self,
        actor: &str,
        reason: &str,
        to: Option<u64>,
    ) -> Result<Switched, ControlError> {
        let target = match to {
            Some(revision) => revision,
            None => self
                .previous
                .as_ref()
                .map(|b| b.revision())
                .ok_or(ControlError::NoPrevious)?,
        };
        let was_active = self
            .store
            .timeline()?
            .iter()
            .any(|e| e.to_revision == target);
        if !was_active || target == self.active.stamp.revision {
            return Err(ControlError::NeverActive { revision: target });
        }
        let source = self.load(target)?;
        let original = source.manifest.republishes.unwrap_or(target);
        let mut files = source.files.clone();
        files.remove(tf_bundles::MANIFEST_FILE);
        let info = tf_bundles::BuildInfo {
            revision: self
                .store
                .highest_revision()?
                .max(self.active.stamp.revision)
                + 1,
            author: actor.to_owned(),
            note: reason.to_owned(),
            tickets: source.manifest.tickets.clone(),
            created_unix_s: unix_micros() / 1_000_000,
            republishes: Some(original),
        };
        let bundle = tf_bundles::build(files, info, &mut self.appliance_key, &self.limits)?;
        let archive = bundle.files.to_tar_gz();
        let links = bundle.manifest.tickets.clone();
        self.put_in_force(
            bundle,
            &archive,
            "rollback",
            actor,
            reason.to_owned(),
            links,
        )
    }

    fn put_in_force(
        &mut self,
        bundle: Bundle,
        archive: &[u8],
        action: &'static str,
        actor: &str,
        reason: String,
        links: Vec<String>,
    ) -> Result<Switched, ControlError> {
        let from_revision = self.active.stamp.revision;
        // Every shard prepares the new terms (reading the past charges new caps need) before
        // anything is recorded or switched.
        let staged = self.control.stage(Staged::of(&bundle, &self.tenants));
        // Shards that prepare append the slots of added tenants even if the switch then fails:
        // the next staging starts from this table so every shard keeps numbering them alike.
        self.tenants = staged.table.clone();
        let prepared = self
            .wait_prepared(staged.generation)
            .inspect_err(|_| self.control.withdraw_stage())?;
        let event = TimelineEvent {
            seq: 0,
            at_us: unix_micros(),
            action: action.to_owned(),
            actor: actor.to_owned(),
            reason,
            from_revision,
            to_revision: bundle.revision(),
            links,
            bundle_hash: bundle.hash.clone(),
        };
        // Durable first: a crash after this restarts under the new revision.
        let timeline_seq = self.store.record(&event, archive)?;
        let republishes = bundle.manifest.republishes;
        let previous = self.active.bundle.clone();
        self.running.take_terms(&bundle);
        let active = Arc::new(ActivePolicy::switched(Arc::new(bundle), staged));
        let started = Instant::now();
        self.control.publish_policy(active.clone());
        self.active = active;
        self.previous = previous;
        let all_shards = self.wait_for_shards(event.to_revision, started);
        tracing::info!(
            action,
            actor,
            from_revision,
            to_revision = event.to_revision,
            prepared_ms = prepared.as_secs_f64() * 1e3,
            all_shards_ms = all_shards.map(|d| d.as_secs_f64() * 1e3),
            "policy bundle in force"
        );
        Ok(Switched {
            action,
            from_revision,
            to_revision: event.to_revision,
            bundle_hash: event.bundle_hash,
            republishes,
            prepared_ms: prepared.as_secs_f64() * 1e3,
            all_shards_ms: all_shards.map(|d: Duration| d.as_secs_f64() * 1e3),
            timeline_seq,
        })
    }
}

impl From<Problem> for ControlError {
    fn from(problem: Problem) -> Self {
        ControlError::Refused(Refusal::one(problem))
    }
}
