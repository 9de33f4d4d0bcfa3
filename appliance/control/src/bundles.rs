//! The `Bundles` actor: owns the bundles' book and runs promotions and rollbacks one at a time.
//! Its mailbox is bounded and each switch is handled atomically (no other message is handled
//! until it ends), so switches are serialised without a mutex; reads queue behind a switch in
//! progress. Waiting for the shards is asynchronous (a timer, not a sleeping thread).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tf_bundles::Bundle;
use tf_ledger::{StoredReceipt, TimelineEvent};
use tf_seam::clock::unix_micros;
use tf_seam::{ActivePolicy, Shards, TenantTable};

use crate::book::Book;
use crate::error::ControlError;
use crate::promote::{Allowances, PendingSwitch, Switched};
use crate::running::Running;

/// Messages that may wait in the mailbox; a sender past it waits for room (the admin server
/// bounds how long, then answers busy).
pub const MAILBOX: usize = 16;

/// How often a switch checks the shards' reports while it waits for them.
const POLL: Duration = Duration::from_millis(1);

/// The actor.
#[derive(Debug)]
pub struct Bundles {
    pub(crate) book: Book,
}

impl Bundles {
    /// Wraps an opened book (opened on the main thread, before the shards start, since they
    /// start under the bundle in force).
    pub fn new(book: Book) -> Self {
        Bundles { book }
    }
}

impl Actor for Bundles {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
    }
}

/// Validates and puts a bundle in force on every shard.
#[derive(Debug, Message)]
#[rtype(result = "Result<Switched, ControlError>")]
pub struct Promote {
    /// The bundle archive (gzipped tar).
    pub archive: Vec<u8>,
    /// Who asks (the admin token's name), recorded in the timeline.
    pub actor: String,
    /// What it lets through that a promotion refuses by default: caps below what a tenant
    /// already spent in their window, partners of the bundle in force dropped.
    pub allow: Allowances,
    /// What the drift guard says of it.
    pub drift: crate::DriftSay,
}

/// Republishes an earlier revision's content as a new revision.
#[derive(Debug, Message)]
#[rtype(result = "Result<Switched, ControlError>")]
pub struct Rollback {
    /// Who asks.
    pub actor: String,
    /// Why (recorded in the timeline).
    pub reason: String,
    /// The revision whose content to republish; default the one before the active one.
    pub to: Option<u64>,
    /// Republish it even if it lacks the terms files of partners in force (they are dropped).
    pub allow_partners_dropped: bool,
}

/// What a rollback would republish and put in force, without rolling back: `(republishes,
/// revision)`.
#[derive(Debug, Message)]
#[rtype(result = "Result<(u64, u64), ControlError>")]
pub struct PlanRollback {
    /// The revision to republish; default the one before the active one.
    pub to: Option<u64>,
}

impl Handler<PlanRollback> for Bundles {
    type Result = Result<(u64, u64), ControlError>;

    fn handle(&mut self, msg: PlanRollback, _: &mut Self::Context) -> Self::Result {
        self.book.rollback_plan(msg.to)
    }
}

/// Checks a bundle as a promotion would, without promoting it.
#[derive(Debug, Message)]
#[rtype(result = "Result<Arc<Bundle>, ControlError>")]
pub struct Validate {
    /// The bundle archive.
    pub archive: Vec<u8>,
    /// What it lets through that a promotion refuses by default.
    pub allow: Allowances,
}

/// What is in force, for status pages.
#[derive(Debug, Message)]
#[rtype(result = "InForce")]
pub struct Status;

/// The policy in force and what a rollback would republish.
#[derive(Debug, Clone)]
pub struct InForce {
    /// The policy in force.
    pub active: Arc<ActivePolicy>,
    /// The revision a rollback republishes by default.
    pub rollback_to: Option<u64>,
    /// The tenants the shards serve, with the terms in force.
    pub tenants: Vec<tf_config::TenantConfig>,
}

/// Every promotion and rollback, oldest first.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<TimelineEvent>, ControlError>")]
pub struct Timeline;

/// The control plane's latest events (failed scenario packs, canary alarms, invites), oldest
/// first.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<crate::events::Event>, ControlError>")]
pub struct ControlEvents;

/// Two stored bundles, opened: `revision` and `against` (default: the one in force).
#[derive(Debug, Message)]
#[rtype(result = "Result<(Bundle, Bundle), ControlError>")]
pub struct Pair {
    /// The newer side.
    pub revision: u64,
    /// The older side; the revision in force when `None`.
    pub against: Option<u64>,
}

/// A receipt by ledger sequence number, with its tenant.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<(String, StoredReceipt)>, ControlError>")]
pub struct Receipt {
    /// The ledger sequence number.
    pub seq: u64,
}

/// The tenants the shards were started with; sent once by the wiring after they are built.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ServeTenants {
    /// The table the shards run.
    pub table: Arc<TenantTable>,
    /// Their configured terms.
    pub running: Running,
}

impl Handler<ServeTenants> for Bundles {
    type Result = ();

    fn handle(&mut self, msg: ServeTenants, _: &mut Self::Context) {
        self.book.serve_tenants(msg.table, msg.running);
    }
}

impl Handler<Promote> for Bundles {
    type Result = AtomicResponse<Self, Result<Switched, ControlError>>;

    fn handle(&mut self, msg: Promote, _: &mut Self::Context) -> Self::Result {
        let pending = self.book.begin_promote(
            msg.archive,
            &msg.actor,
            msg.allow,
            &msg.drift,
            unix_micros(),
        );
        self.run_switch(pending)
    }
}

impl Handler<Rollback> for Bundles {
    type Result = AtomicResponse<Self, Result<Switched, ControlError>>;

    fn handle(&mut self, msg: Rollback, _: &mut Self::Context) -> Self::Result {
        let pending = self.book.begin_rollback(
            &msg.actor,
            &msg.reason,
            msg.to,
            msg.allow_partners_dropped,
            unix_micros(),
        );
        self.run_switch(pending)
    }
}

impl Bundles {
    /// Waits for every shard to prepare, switches, then waits for every shard to report the
    /// new revision; the mailbox waits meanwhile.
    pub(crate) fn run_switch(
        &mut self,
        pending: Result<PendingSwitch, ControlError>,
    ) -> AtomicResponse<Self, Result<Switched, ControlError>> {
        AtomicResponse::new(self.switch_future(pending))
    }

    /// [`Bundles::run_switch`]'s future, for handlers that answer with more than the switch.
    pub(crate) fn switch_future(
        &mut self,
        pending: Result<PendingSwitch, ControlError>,
    ) -> ResponseActFuture<Self, Result<Switched, ControlError>> {
        let pending = match pending {
            Ok(pending) => pending,
            Err(error) => return Box::pin(fut::ready(Err(error))),
        };
        let shards = self.book.shards.clone();
        let wait = self.book.switch_wait;
        let generation = pending.generation();
        let claim = match crate::fleet_claim::partner_claim(&pending, self.book.fleet.as_ref())
            .transpose()
        {
            Ok(claim) => claim,
            Err(refused) => {
                self.book.abandon(pending);
                return Box::pin(fut::ready(Err(refused)));
            }
        };
        // A partner's change is claimed for the fleet once every shard has prepared it, so
        // little is left that can fail here after the fleet has it.
        let prepare = async move {
            let took = prepared_within(shards.as_ref(), generation, wait).await?;
            if let Some(claim) = claim {
                tokio::task::spawn_blocking(move || claim.claim_for_partner())
                    .await
                    .map_err(|_| ControlError::Stopped)??;
            }
            Ok(took)
        };
        let switched = prepare
            .into_actor(self)
            .map(move |prepared, act, _| match prepared {
                Ok(took) => act.book.switch(pending, took, unix_micros()),
                Err(error) => {
                    act.book.abandon(pending);
                    Err(error)
                }
            })
            .then(move |switched, act, _| {
                let shards = act.book.shards.clone();
                let canary = act.book.canary.clone();
                async move {
                    let mut switched = switched?;
                    let since = Instant::now();
                    let reported =
                        reported_within(shards.as_ref(), switched.to_revision, wait).await;
                    if reported {
                        switched.all_shards_ms = Some(since.elapsed().as_secs_f64() * 1e3);
                    }
                    // The canary's runs after the switch are those that begin once every
                    // shard serves it (or the wait for them ended).
                    if let Some(canary) = canary {
                        canary.note_switch(crate::canary::Switch {
                            timeline_seq: switched.timeline_seq,
                            action: switched.action.to_owned(),
                            from_revision: switched.from_revision,
                            to_revision: switched.to_revision,
                            at_us: unix_micros(),
                            all_shards: reported,
                        });
                    }
                    tracing::info!(
                        action = switched.action,
                        from_revision = switched.from_revision,
                        to_revision = switched.to_revision,
                        prepared_ms = switched.prepared_ms,
                        all_shards_ms = switched.all_shards_ms,
                        "policy bundle in force"
                    );
                    Ok(switched)
                }
                .into_actor(act)
            });
        Box::pin(switched)
    }
}

impl Handler<Validate> for Bundles {
    type Result = Result<Arc<Bundle>, ControlError>;

    fn handle(&mut self, msg: Validate, _: &mut Self::Context) -> Self::Result {
        self.book
            .validate(&msg.archive, msg.allow, unix_micros())
            .map(Arc::new)
    }
}

impl Handler<Status> for Bundles {
    type Result = MessageResult<Status>;

    fn handle(&mut self, _: Status, _: &mut Self::Context) -> Self::Result {
        MessageResult(InForce {
            active: self.book.active(),
            rollback_to: self.book.previous().map(|b| b.revision()),
            tenants: self.book.running_tenants().to_vec(),
        })
    }
}

impl Handler<Timeline> for Bundles {
    type Result = Result<Vec<TimelineEvent>, ControlError>;

    fn handle(&mut self, _: Timeline, _: &mut Self::Context) -> Self::Result {
        self.book.timeline()
    }
}

impl Handler<ControlEvents> for Bundles {
    type Result = Result<Vec<crate::events::Event>, ControlError>;

    fn handle(&mut self, _: ControlEvents, _: &mut Self::Context) -> Self::Result {
        self.book.control_events()
    }
}

impl Handler<Pair> for Bundles {
    type Result = Result<(Bundle, Bundle), ControlError>;

    fn handle(&mut self, msg: Pair, _: &mut Self::Context) -> Self::Result {
        let new = self.book.bundle(msg.revision)?;
        let old_revision = msg
            .against
            .unwrap_or_else(|| self.book.active().stamp.revision);
        Ok((new, self.book.bundle(old_revision)?))
    }
}

impl Handler<Receipt> for Bundles {
    type Result = Result<Option<(String, StoredReceipt)>, ControlError>;

    fn handle(&mut self, msg: Receipt, _: &mut Self::Context) -> Self::Result {
        self.book.receipt(msg.seq)
    }
}

/// Waits until every shard has prepared the staged terms of `generation`; how long it took.
async fn prepared_within(
    shards: &dyn Shards,
    generation: u64,
    wait: Duration,
) -> Result<Duration, ControlError> {
    let since = Instant::now();
    while since.elapsed() < wait {
        if shards.prepared().iter().all(|p| *p >= generation) {
            return Ok(since.elapsed());
        }
        actix::clock::sleep(POLL).await;
    }
    let late = shards
        .prepared()
        .iter()
        .enumerate()
        .filter(|(_, prepared)| **prepared < generation)
        .map(|(shard, _)| shard.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(ControlError::NotPrepared {
        shards: late,
        seconds: wait.as_secs_f64(),
    })
}

/// Waits until every shard reports `revision`; whether they all did in time.
async fn reported_within(shards: &dyn Shards, revision: u64, wait: Duration) -> bool {
    let since = Instant::now();
    while since.elapsed() < wait {
        if shards
            .pulses()
            .iter()
            .all(|p| p.policy_revision == revision)
        {
            return true;
        }
        actix::clock::sleep(POLL).await;
    }
    false
}
