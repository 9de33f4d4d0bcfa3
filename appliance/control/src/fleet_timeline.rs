//! One policy timeline for the fleet: promotions and rollbacks are claimed in the fleet's
//! database before the appliance they were asked of switches (`tf_fleet::claim`), and every
//! appliance follows the timeline: a thread of its own listens for new entries (and polls,
//! should a notification be lost), and hands each entry above the revision in force to the
//! [`Bundles`] actor in order, as a promotion or rollback of its own. A node that was down
//! catches up when it returns. The appliance that claimed an entry switches itself; its
//! follower leaves the entry alone for a while, and applies it only if that switch never
//! happened (it failed, or the appliance stopped in between).
//!
//! A promotion's claim, and a partner's change's, is [`crate::fleet_claim`]'s.
//!
//! The promoter then waits for every live node to report the new revision, and names those
//! that did not ([`await_fleet`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix::Addr;
use tf_config::FleetConfig;
use tf_fleet::{FleetError, Switch, TimelineEntry};
use tf_seam::Board;
use tf_seam::clock::unix_micros;

use crate::bundles::{Bundles, Promote, Rollback};
use crate::error::ControlError;
use crate::fleet_claim::claim;
use crate::promote::{Allowances, DriftSay};

/// How often the follower looks at the timeline without a notification.
const POLL: Duration = Duration::from_secs(1);
/// How long the follower leaves an entry its own appliance claimed to that appliance's switch.
const ORIGIN_GRACE: Duration = Duration::from_secs(15);
/// Entries applied per look.
const BATCH: usize = 16;

/// The follower's thread.
pub struct TimelineFollower {
    thread: JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

impl TimelineFollower {
    /// Starts following the fleet's timeline.
    pub fn start(
        config: FleetConfig,
        receipt_key: String,
        bundles: Addr<Bundles>,
        board: Arc<Board>,
    ) -> std::io::Result<TimelineFollower> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("fleet-timeline".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    Follower {
                        config,
                        receipt_key,
                        bundles,
                        board,
                        client: None,
                        said: None,
                    }
                    .run(&stop)
                }
            })?;
        Ok(TimelineFollower { thread, stop })
    }

    /// Stops following (within a poll) and joins.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        if self.thread.join().is_err() {
            tracing::error!("the fleet timeline's follower panicked");
        }
    }
}

struct Follower {
    config: FleetConfig,
    /// Whose `[fleet] node` is this appliance's: it notes its revision only under its own.
    receipt_key: String,
    bundles: Addr<Bundles>,
    board: Arc<Board>,
    client: Option<tf_fleet::Client>,
    /// The last problem logged, so a lasting one is logged once.
    said: Option<String>,
}

impl Follower {
    fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Acquire) {
            match self.follow() {
                Ok(()) => self.say(None),
                Err(problem) => {
                    self.say(Some(problem));
                    self.client = None;
                    std::thread::sleep(POLL);
                    continue;
                }
            }
            self.wait();
        }
    }

    /// Applies every entry above the revision in force.
    fn follow(&mut self) -> Result<(), String> {
        if self.client.is_none() {
            let mut client = tf_fleet::connect(&self.config).map_err(|e| e.to_string())?;
            tf_fleet::migrate(&mut client).map_err(|e| e.to_string())?;
            tf_fleet::listen(&mut client).map_err(|e| e.to_string())?;
            self.client = Some(client);
        }
        let client = self.client.as_mut().expect("connected above");
        let active = self.board.policy().stamp.revision;
        let entries = tf_fleet::entries_after(client, active, BATCH).map_err(|e| e.to_string())?;
        for entry in entries {
            let age = Duration::from_micros(unix_micros().saturating_sub(entry.at_us));
            if entry.node == self.config.node && age < ORIGIN_GRACE {
                // Its promoter is switching this appliance itself.
                return Ok(());
            }
            let switched = apply(&self.bundles, &entry)?;
            tracing::info!(
                revision = switched,
                node = entry.node,
                actor = entry.actor,
                "followed the fleet's policy timeline"
            );
            let client = self.client.as_mut().expect("connected above");
            tf_fleet::note_revision(client, &self.config.node, &self.receipt_key, switched)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Until a notification arrives, or a poll's time passes.
    fn wait(&mut self) {
        let Some(client) = &mut self.client else {
            std::thread::sleep(POLL);
            return;
        };
        if tf_fleet::wait_for_entries(client, POLL).is_err() {
            self.client = None;
        }
    }

    fn say(&mut self, problem: Option<String>) {
        if problem == self.said {
            return;
        }
        match &problem {
            Some(problem) => tracing::warn!(
                problem,
                "following the fleet's policy timeline: this appliance may serve an older \
                 revision than the fleet until it can"
            ),
            None if self.said.is_some() => {
                tracing::info!("following the fleet's policy timeline again");
            }
            None => {}
        }
        self.said = problem;
    }
}

/// Switches to `entry` through the actor, as a promotion or rollback of this appliance;
/// returns the revision now in force.
fn apply(bundles: &Addr<Bundles>, entry: &TimelineEntry) -> Result<u64, String> {
    let actor = format!("{} (on {}, fleet)", entry.actor, entry.node);
    let answer = match &entry.switch {
        Switch::Promote { archive, .. } => futures_lite::future::block_on(bundles.send(Promote {
            archive: archive.clone(),
            actor,
            allow: Allowances {
                cap_below_spent: entry.allow_cap_below_spent,
                partners_dropped: entry.allow_partners_dropped,
            },
            // The drift guard judged it where it was promoted.
            drift: DriftSay {
                judged: Vec::new(),
                approval: None,
            },
        })),
        Switch::Rollback { republishes } => {
            futures_lite::future::block_on(bundles.send(Rollback {
                actor,
                reason: entry.reason.clone(),
                to: Some(*republishes),
                allow_partners_dropped: entry.allow_partners_dropped,
            }))
        }
    };
    let switched = answer
        .map_err(|_| "the control plane is stopping".to_owned())?
        .map_err(|e| format!("revision {} of the fleet's timeline: {e}", entry.revision))?;
    if switched.to_revision != entry.revision {
        return Err(format!(
            "revision {} of the fleet's timeline was put in force here as revision {}: this \
             appliance's timeline has diverged from the fleet's (it promoted outside the fleet)",
            entry.revision, switched.to_revision
        ));
    }
    Ok(switched.to_revision)
}

/// Claims `revision`, republishing `republishes`, for the fleet before this appliance rolls
/// back.
pub fn claim_rollback(
    config: &FleetConfig,
    revision: u64,
    republishes: u64,
    actor: &str,
    reason: &str,
    allow_partners_dropped: bool,
) -> Result<(), ControlError> {
    let entry = TimelineEntry {
        revision,
        switch: Switch::Rollback { republishes },
        actor: actor.to_owned(),
        reason: reason.to_owned(),
        allow_cap_below_spent: false,
        allow_partners_dropped,
        node: config.node.clone(),
        at_us: unix_micros(),
    };
    claim(config, &entry).map_err(|e| ControlError::Fleet(e.to_string()))
}

/// Which appliances of the fleet serve under a revision, after a promotion's wait.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetReach {
    /// Live appliances serving under it (or a later one).
    pub switched: Vec<String>,
    /// Live appliances still serving under an earlier one, with it.
    pub behind: Vec<(String, u64)>,
    /// Appliances not seen lately: they catch up when they return.
    pub down: Vec<String>,
}

/// Waits up to `wait` for every live appliance to serve under `revision`; who did and who
/// did not. Live: a heartbeat within three lease periods.
pub fn await_fleet(
    config: &FleetConfig,
    revision: u64,
    wait: Duration,
) -> Result<FleetReach, ControlError> {
    let fleet = |e: FleetError| ControlError::Fleet(e.to_string());
    let mut client = tf_fleet::connect(config).map_err(fleet)?;
    let since = Instant::now();
    loop {
        let status =
            tf_fleet::status(&mut client, unix_micros(), config.live_within_us()).map_err(fleet)?;
        let mut reach = FleetReach::default();
        for node in status.nodes {
            let serving = node.seen.as_ref().map_or(0, |seen| seen.revision);
            // This appliance switched already; its heartbeat says so within a second.
            let serving = match node.node == config.node {
                true => serving.max(revision),
                false => serving,
            };
            if !node.live {
                reach.down.push(node.node);
            } else if serving >= revision {
                reach.switched.push(node.node);
            } else {
                reach.behind.push((node.node, serving));
            }
        }
        if reach.behind.is_empty() || since.elapsed() >= wait {
            return Ok(reach);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
