//! Promotion and rollback as steps the [`crate::Bundles`] actor runs in order: validate (or
//! build the republished bundle), stage its terms, and, once every shard prepared them, record
//! the switch and publish it. Waiting between the steps is the actor's; nothing here reads a
//! clock or waits.

use std::sync::Arc;
use std::time::Duration;

use tf_bundles::{Bundle, BundleFiles, Problem, Refusal};
use tf_ledger::{DriftChecked, DriftNote, DriftOverride, TimelineEvent};
use tf_seam::{ActivePolicy, StagedTerms};

use crate::book::Book;
use crate::error::ControlError;
use crate::spent::caps_below_spent;

/// A completed switch.
#[derive(Clone, Debug)]
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

/// What a promotion (and its validation) lets through that it refuses by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allowances {
    /// Caps below what their tenant already spent in the current window (that tenant is
    /// refused until the window resets).
    pub cap_below_spent: bool,
    /// Partners of the bundle in force whose terms files the bundle lacks (their tenants are
    /// dropped).
    pub partners_dropped: bool,
}

impl Book {
    /// Checks a bundle as a promotion would at `now_us`, without promoting it.
    pub fn validate(
        &self,
        archive: &[u8],
        allow: Allowances,
        now_us: u64,
    ) -> Result<Bundle, ControlError> {
        let files = BundleFiles::from_tar_gz(archive).map_err(Refusal::one)?;
        let bundle = tf_bundles::open(files, Some(&self.trusted), &self.limits)?;
        let floor = self
            .ledger
            .highest_revision()?
            .max(self.active.stamp.revision);
        let mut problems = Vec::new();
        if let Err(stale) = bundle.check_above(floor) {
            problems.push(stale);
        }
        problems.extend(self.fit_problems(&bundle));
        if !allow.cap_below_spent {
            problems.extend(caps_below_spent(
                self.ledger.as_ref(),
                &bundle.content.tenants,
                now_us,
            )?);
        }
        if !allow.partners_dropped {
            problems.extend(self.partners_dropped(&bundle));
        }
        if problems.is_empty() {
            Ok(bundle)
        } else {
            Err(Refusal(problems).into())
        }
    }

    /// What keeps a valid bundle from being put in force here: more keys than the shards keep
    /// room for, or policies that would stop the golden canary's known traffic.
    pub(crate) fn fit_problems(&self, bundle: &Bundle) -> Vec<Problem> {
        let mut problems = Vec::new();
        if bundle.content.keys.len() > self.bundle_key_room {
            problems.push(Problem::TooManyKeys {
                count: bundle.content.keys.len(),
                room: self.bundle_key_room,
            });
        }
        if let Some(gate) = &self.canary_gate {
            problems.extend(gate.problems(bundle));
        }
        problems
    }

    /// The partners of the bundle in force whose terms files `bundle` lacks: promoted, it
    /// would drop their tenants. Partners exist only as those files (the appliance writes them
    /// into revisions it signs), so a bundle built from an author's own folder loses them
    /// unless the author kept them.
    fn partners_dropped(&self, bundle: &Bundle) -> Option<Problem> {
        let in_force = self.active.bundle.as_deref()?;
        let tenants: Vec<String> = in_force
            .content
            .partners
            .iter()
            .filter(|p| !bundle.content.partners.iter().any(|c| c.tenant == p.tenant))
            .map(|p| p.tenant.clone())
            .collect();
        (!tenants.is_empty()).then_some(Problem::PartnersDropped { tenants })
    }

    /// Validates a bundle for promotion by `actor` and stages its terms. A bundle the drift
    /// guard judged on this appliance and did not pass is refused unless an approver
    /// overrode it (`drift`).
    pub fn begin_promote(
        &mut self,
        archive: Vec<u8>,
        actor: &str,
        allow: Allowances,
        drift: &DriftSay,
        now_us: u64,
    ) -> Result<PendingSwitch, ControlError> {
        let bundle = self.validate(&archive, allow, now_us)?;
        let note = drift.note_for(&bundle.hash)?;
        let reason = bundle.manifest.note.clone();
        let mut pending = self.stage(bundle, archive, "promote", actor, reason);
        pending.drift = note;
        Ok(pending)
    }

    /// Builds the republication of an earlier revision's content as a new revision, signed by
    /// this appliance, and stages its terms. `to` defaults to the revision in force before the
    /// active one.
    pub fn begin_rollback(
        &mut self,
        actor: &str,
        reason: &str,
        to: Option<u64>,
        allow_partners_dropped: bool,
        now_us: u64,
    ) -> Result<PendingSwitch, ControlError> {
        let (target, revision) = self.rollback_plan(to)?;
        let source = self.load(target)?;
        let original = source.manifest.republishes.unwrap_or(target);
        let mut files = source.files.clone();
        files.remove(tf_bundles::MANIFEST_FILE);
        let info = tf_bundles::BuildInfo {
            revision,
            author: actor.to_owned(),
            note: reason.to_owned(),
            tickets: source.manifest.tickets.clone(),
            created_unix_s: now_us / 1_000_000,
            republishes: Some(original),
        };
        let bundle = tf_bundles::build(files, info, &mut self.appliance_key, &self.limits)?;
        // Going back past a partner's onboarding would drop it as a promotion would.
        if !allow_partners_dropped && let Some(dropped) = self.partners_dropped(&bundle) {
            return Err(Refusal(vec![dropped]).into());
        }
        let archive = bundle.files.to_tar_gz();
        Ok(self.stage(bundle, archive, "rollback", actor, reason.to_owned()))
    }

    /// What a rollback to `to` (default: the revision before the one in force) would do: the
    /// revision it republishes and the revision it puts in force.
    pub fn rollback_plan(&self, to: Option<u64>) -> Result<(u64, u64), ControlError> {
        let target = match to {
            Some(revision) => revision,
            None => self
                .previous
                .as_ref()
                .map(|b| b.revision())
                .ok_or(ControlError::NoPrevious)?,
        };
        let was_active = self
            .ledger
            .timeline()?
            .iter()
            .any(|e| e.to_revision == target);
        if !was_active || target == self.active.stamp.revision {
            return Err(ControlError::NeverActive { revision: target });
        }
        let newest = self
            .ledger
            .highest_revision()?
            .max(self.active.stamp.revision);
        Ok((target, tf_bundles::next_revision(newest)?))
    }

    /// Stages a bundle's terms for every shard to prepare (reading the past charges new caps
    /// need) before anything is recorded or switched.
    pub(crate) fn stage(
        &mut self,
        bundle: Bundle,
        archive: Vec<u8>,
        action: &'static str,
        actor: &str,
        reason: String,
    ) -> PendingSwitch {
        let staged = self.shards.stage(StagedTerms::of(&bundle, &self.tenants));
        // Shards that prepare append the slots of added tenants even if the switch then fails:
        // the next staging starts from this table so every shard keeps numbering them alike.
        self.tenants = staged.table.clone();
        PendingSwitch {
            links: bundle.manifest.tickets.clone(),
            bundle,
            archive,
            action,
            actor: actor.to_owned(),
            reason,
            staged,
            drift: None,
            authority: None,
        }
    }

    /// The shards did not prepare the staged terms: they are withdrawn, nothing else changed.
    pub fn abandon(&mut self, _pending: PendingSwitch) {
        self.shards.withdraw();
    }

    /// Every shard prepared the staged terms (in `prepared`): records the switch durably at
    /// `now_us`, then publishes it. A crash after the record restarts under the new revision.
    pub fn switch(
        &mut self,
        pending: PendingSwitch,
        prepared: Duration,
        now_us: u64,
    ) -> Result<Switched, ControlError> {
        let PendingSwitch {
            bundle,
            archive,
            action,
            actor,
            reason,
            links,
            staged,
            drift,
            authority,
        } = pending;
        let from_revision = self.active.stamp.revision;
        let event = TimelineEvent {
            seq: 0,
            at_us: now_us,
            action: action.to_owned(),
            actor,
            reason,
            from_revision,
            to_revision: bundle.revision(),
            links,
            bundle_hash: bundle.hash.clone(),
            drift,
            // Judged by the golden canary once it has run after the switch.
            canary: None,
        };
        let recorded = match &authority {
            None => self
                .ledger
                .record_switch(&event, &archive)
                .map_err(Into::into),
            Some(authority) => self.record_with(authority, &event, &archive, now_us),
        };
        let timeline_seq = match recorded {
            Ok(seq) => seq,
            Err(error) => {
                self.shards.withdraw();
                return Err(error);
            }
        };
        let republishes = bundle.manifest.republishes;
        let previous = self.active.bundle.clone();
        self.running.take_terms(&bundle);
        let active = Arc::new(ActivePolicy::switched(Arc::new(bundle), staged));
        self.shards.publish(active.clone());
        self.active = active;
        self.previous = previous;
        Ok(Switched {
            action,
            from_revision,
            to_revision: event.to_revision,
            bundle_hash: event.bundle_hash,
            republishes,
            prepared_ms: prepared.as_secs_f64() * 1e3,
            all_shards_ms: None,
            timeline_seq,
        })
    }
}

impl Book {
    /// Records a partner's change's switch with what authorised it, in one transaction.
    fn record_with(
        &mut self,
        authority: &Authority,
        event: &TimelineEvent,
        archive: &[u8],
        now_us: u64,
    ) -> Result<u64, ControlError> {
        match authority {
            Authority::Redeem {
                invite,
                digest,
                tenant,
            } => {
                let redeem = tf_ledger::Redeem {
                    id: *invite,
                    digest,
                    tenant,
                    at_us: now_us,
                };
                match self
                    .ledger
                    .redeem_invite_switching(&redeem, event, archive)?
                {
                    Ok((_, seq)) => Ok(seq),
                    Err(refused) => Err(refused.into()),
                }
            }
            Authority::Grant {
                request,
                by,
                reason,
            } => match self
                .ledger
                .grant_terms_switching(*request, by, reason, event, archive)?
            {
                Ok((_, seq)) => Ok(seq),
                Err(refused) => Err(ControlError::Terms {
                    reason: "decided",
                    detail: format!("terms request {request}: {refused}"),
                }),
            },
        }
    }
}

/// A switch staged and waiting for every shard to prepare its terms.
#[derive(Debug)]
pub struct PendingSwitch {
    bundle: Bundle,
    archive: Vec<u8>,
    action: &'static str,
    actor: String,
    reason: String,
    links: Vec<String>,
    staged: Arc<StagedTerms>,
    drift: Option<DriftNote>,
    /// For a partner's change, what is recorded with the switch in the same transaction.
    pub(crate) authority: Option<Authority>,
}

/// What a partner's change is recorded with, in the same transaction as its switch.
#[derive(Clone, Debug)]
pub(crate) enum Authority {
    /// An onboarding: the invite it redeems.
    Redeem {
        invite: u64,
        digest: [u8; 32],
        tenant: String,
    },
    /// A terms request: granted by `by`, why.
    Grant {
        request: u64,
        by: String,
        reason: String,
    },
}

/// What the drift guard says of a promotion: the judgements made on this appliance
/// (`POST /api/v1/bundles/drift`), one per bundle, and the promoter's own override.
#[derive(Clone, Debug, Default)]
pub struct DriftSay {
    /// Judgements made here, one per bundle hash.
    pub judged: Vec<Judged>,
    /// The promoter's override, if any: only the one who promotes can let a bundle through.
    pub approval: Option<DriftOverride>,
}

/// A judgement made on this appliance's decision log.
#[derive(Clone, Debug)]
pub struct Judged {
    /// The candidate's bundle hash.
    pub bundle_hash: String,
    /// What was judged.
    pub checked: DriftChecked,
}

impl Judged {
    /// Whether the bundle passed.
    pub fn passed(&self) -> bool {
        self.checked.judgement == "pass"
    }
}

impl DriftSay {
    /// The note a promotion of the bundle `hash` records: the judgement of it made here, with
    /// the promoter's override if it did not pass. A bundle judged here that did not pass,
    /// without an override, is refused.
    pub fn note_for(&self, hash: &str) -> Result<Option<DriftNote>, ControlError> {
        let Some(judged) = self.judged.iter().find(|j| j.bundle_hash == hash) else {
            return Ok(self.approval.clone().map(|approval| DriftNote {
                checked: None,
                overridden: Some(approval),
            }));
        };
        let checked = Some(judged.checked.clone());
        if judged.passed() {
            return Ok(Some(DriftNote {
                checked,
                overridden: None,
            }));
        }
        match &self.approval {
            Some(approval) => Ok(Some(DriftNote {
                checked,
                overridden: Some(approval.clone()),
            })),
            None => Err(ControlError::DriftBlocked {
                judgement: judged.checked.judgement.clone(),
                upper_bound_percent: judged.checked.upper_bound * 100.0,
                tolerance_percent: judged.checked.tolerance * 100.0,
            }),
        }
    }
}

impl PendingSwitch {
    /// The generation of the staged terms every shard must report prepared.
    pub fn generation(&self) -> u64 {
        self.staged.generation
    }

    /// What a claim on the fleet's timeline carries: the bundle, its archive and who asked.
    pub(crate) fn claimed(&self) -> (&Bundle, &[u8], &str) {
        (&self.bundle, &self.archive, &self.actor)
    }
}
