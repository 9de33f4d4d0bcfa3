//! The fleet worker: in fleet mode, this appliance's side of the fleet's PostgreSQL, on a
//! thread of its own (the client blocks, and a slow or absent database must delay nothing
//! else). Each tick it
//!
//! - reads what the home shards spent from their tenants' calendar caps (the board), runs the
//!   lease keeper over them and publishes each cap's grant back: the shards admit within it;
//! - says it is alive (a heartbeat with its revision and ledger position, every second);
//! - sweeps leases of any node that expired past their grace period, so a crashed node's units
//!   come back;
//! - ships the ledger's committed receipts from the fleet's cursor (and keeps a copy of the
//!   cursor in the ledger, [`SHIPPING_CURSOR`], so retention never prunes what is unshipped).
//!
//! It connects (and migrates the schema) at start and again whenever the connection is lost;
//! meanwhile the keeper is handed a store that fails, so grants shrink to what the leases
//! still hold and the node refuses rather than invents budget. At shutdown, once the shards
//! have stopped and published what they finally spent, it returns its leases and ships the
//! rest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tf_budgets::FleetGrant;
use tf_config::FleetConfig;
use tf_fleet::{Demand, Keeper, KeeperSettings, LeaseStore, Leases, Offline, PoolKey};
use tf_ledger::Ledger;
use tf_metrics::{FleetSnapshot, MetricsHub};
use tf_seam::{Board, CapDemand, CapGrant, FleetBoard};

/// The ledger cursor the worker keeps of what it shipped: retention prunes no receipt past
/// it, so none is deleted before the fleet has it.
pub const SHIPPING_CURSOR: &str = "fleet-shipping";

/// How often the worker ticks.
const TICK: Duration = Duration::from_millis(250);
/// The least a lease asks for while its pool is spent from, so a tenant's first requests are
/// not refused.
const MIN_LEASE_UNITS: u64 = 16;
/// What a lease holds once nothing was spent from its pool for a lease period: a request or
/// two (a Groth16 proof costs 2 by default), so idle appliances keep little of a small cap.
const IDLE_LEASE_UNITS: u64 = 4;
/// The most of a cap one lease may ask for, so one node cannot hold it all.
const MAX_LEASE_SHARE: f64 = 0.25;
/// Receipts shipped per transaction.
const SHIP_BATCH: usize = 500;
/// The longest a tick ships for, so leases are never kept waiting by a backlog.
const SHIP_TIME: Duration = Duration::from_millis(100);
/// Ticks between sweeps for expired leases.
const SWEEP_EVERY: u64 = 4;
/// Ticks between prunings of this node's shipped receipts (10 s).
const PRUNE_EVERY: u64 = 40;
/// Shipped receipts deleted per statement, and the longest a pruning takes (the tick renews
/// leases too): 20,000 a pass when the database keeps up, 2.5 times what 800 req/s ships.
const PRUNE_BATCH: u32 = 5_000;
const PRUNE_STATEMENTS: usize = 4;
const PRUNE_TIME: Duration = Duration::from_millis(100);
/// The fleet's history keeps a receipt at least this long, as a ledger does (the longest
/// calendar window, a month of 31 days), whatever `[ledger] retention` says.
const LONGEST_WINDOW_US: u64 = 31 * 86_400_000_000;

/// How long a node whose name another appliance holds waits before it tries again.
const NAME_TAKEN_WAIT: Duration = Duration::from_secs(5);

/// What the worker needs.
pub struct FleetPlan {
    /// `[fleet]`.
    pub config: FleetConfig,
    /// The board (in fleet mode: [`Board::in_fleet`]).
    pub board: Arc<Board>,
    /// Its own connection to the ledger, for shipping.
    pub ledger: Box<dyn Ledger>,
    /// Where it publishes its metrics each tick.
    pub metrics: Arc<MetricsHub>,
    /// The appliance's version, in its heartbeat.
    pub version: String,
    /// Its receipt public key (hex), in its heartbeat: whose `[fleet] node` is.
    pub receipt_key: String,
    /// `[ledger] retention`: its shipped receipts are deleted from the fleet's database once
    /// older than this (and than the longest calendar window).
    pub retention_us: u64,
}

/// Where the worker stands, for status and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetHealth {
    /// Whether it is connected to the fleet's database.
    pub connected: bool,
    /// The last problem, until things go well again.
    pub trouble: Option<String>,
    /// Every receipt up to this ledger sequence number is shipped.
    pub shipped_through: u64,
}

/// The running worker.
pub struct FleetWorker {
    thread: JoinHandle<()>,
    stop: Arc<AtomicBool>,
    health: Arc<Mutex<FleetHealth>>,
}

impl FleetWorker {
    /// Starts the worker's thread.
    pub fn start(plan: FleetPlan) -> std::io::Result<FleetWorker> {
        let stop = Arc::new(AtomicBool::new(false));
        let health = Arc::new(Mutex::new(FleetHealth::default()));
        let thread = std::thread::Builder::new().name("fleet".into()).spawn({
            let stop = stop.clone();
            let health = health.clone();
            move || Running::new(plan, health).run(&stop)
        })?;
        Ok(FleetWorker {
            thread,
            stop,
            health,
        })
    }

    /// Where it stands.
    pub fn health(&self) -> Arc<Mutex<FleetHealth>> {
        self.health.clone()
    }

    /// Returns the leases and ships what is left, then joins. Call once the shards have
    /// stopped: their last demands are final.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.thread.thread().unpark();
        if self.thread.join().is_err() {
            tracing::error!("the fleet worker panicked");
        }
    }
}

struct Running {
    config: FleetConfig,
    board: Arc<Board>,
    ledger: Box<dyn Ledger>,
    keeper: Keeper,
    client: Option<tf_fleet::Client>,
    health: Arc<Mutex<FleetHealth>>,
    ticks: u64,
    /// What was logged last about the database, so a lasting problem is logged once.
    said: Option<String>,
    /// Why the last connection attempt failed.
    offline: String,
    /// No connection is attempted before then (the name was another appliance's).
    connect_after: Option<Instant>,
    metrics: Arc<MetricsHub>,
    snapshot: FleetSnapshot,
    version: String,
    receipt_key: String,
    retention_us: u64,
    started_us: u64,
}

impl Running {
    fn new(plan: FleetPlan, health: Arc<Mutex<FleetHealth>>) -> Self {
        // Where shipping stood at the last stop, until the fleet's database says.
        lock(&health).shipped_through = plan.ledger.cursor(SHIPPING_CURSOR).unwrap_or(0);
        let settings = KeeperSettings {
            lease_us: plan.config.lease_ms * 1_000,
            tick_us: TICK.as_micros() as u64,
            min_units: MIN_LEASE_UNITS,
            idle_units: IDLE_LEASE_UNITS,
            max_share: MAX_LEASE_SHARE,
        };
        Running {
            config: plan.config,
            board: plan.board,
            ledger: plan.ledger,
            keeper: Keeper::new(settings),
            client: None,
            health,
            ticks: 0,
            said: None,
            offline: "not connected yet".into(),
            connect_after: None,
            metrics: plan.metrics,
            snapshot: FleetSnapshot::new(),
            version: plan.version,
            receipt_key: plan.receipt_key,
            retention_us: plan.retention_us.max(LONGEST_WINDOW_US),
            started_us: tf_seam::clock::unix_micros(),
        }
    }

    fn fleet(&self) -> &FleetBoard {
        self.board
            .fleet()
            .expect("the fleet worker runs on a fleet-mode board")
    }

    fn run(mut self, stop: &AtomicBool) {
        loop {
            let began = Instant::now();
            if stop.load(Ordering::Acquire) {
                self.finish();
                return;
            }
            self.tick();
            std::thread::park_timeout(TICK.saturating_sub(began.elapsed()));
        }
    }

    fn tick(&mut self) {
        self.ticks += 1;
        self.connect();
        let now = tf_seam::clock::unix_micros();
        if let Some(read) = self.fleet().demands() {
            let demands = read.demands;
            let keeping: Vec<Demand> = demands.iter().map(demand).collect();
            // Only the worker publishes grants: this tick's go out as the next generation.
            let publishing = self.fleet().grant_generation() + 1;
            self.keeper.generations(publishing, read.applied);
            let grants = match &mut self.client {
                Some(client) => {
                    self.keeper
                        .tick(&mut Leases::new(client, &self.config.node), &keeping, now)
                }
                None => self
                    .keeper
                    .tick(&mut Offline(self.offline.clone()), &keeping, now),
            };
            let grants = demands
                .into_iter()
                .zip(grants)
                .map(|(demand, grant)| CapGrant {
                    tenant: demand.tenant,
                    cap: demand.cap,
                    grant: FleetGrant {
                        window_start_us: demand.window_start_us,
                        units: grant.granted,
                        fleet_spent: grant.fleet_spent,
                    },
                })
                .collect();
            self.fleet().publish_grants(grants);
        }
        let trouble = match &self.client {
            None => Some(self.offline.clone()),
            Some(_) => self.keeper.trouble().map(str::to_owned),
        };
        self.note(trouble);
        // From the first tick: a node is live to the fleet as soon as it serves.
        if self.ticks % SWEEP_EVERY == 1 {
            self.beat(now);
            self.sweep(now);
        }
        self.ship(now);
        if self.ticks % PRUNE_EVERY == 2 {
            self.prune(now);
        }
        self.publish_metrics();
    }

    /// Deletes this node's shipped receipts older than its retention from the fleet's
    /// database, a few batches at a time.
    fn prune(&mut self, now: u64) {
        let Some(client) = &mut self.client else {
            return;
        };
        let before_us = now.saturating_sub(self.retention_us);
        let began = Instant::now();
        for _ in 0..PRUNE_STATEMENTS {
            if began.elapsed() > PRUNE_TIME {
                return;
            }
            match tf_fleet::prune_shipped(client, &self.config.node, before_us, PRUNE_BATCH) {
                Ok(deleted) if deleted < u64::from(PRUNE_BATCH) => return,
                Ok(_) => {}
                Err(error) => {
                    self.note(Some(error.to_string()));
                    return;
                }
            }
        }
    }

    fn publish_metrics(&mut self) {
        let counts = self.keeper.counts();
        let snapshot = &mut self.snapshot;
        snapshot.connected = self.client.is_some();
        snapshot.leases_taken = counts.taken;
        snapshot.lease_renewals = counts.renewed;
        snapshot.leases_lost = counts.lost;
        snapshot.unshipped = self
            .board
            .committed()
            .saturating_sub(lock(&self.health).shipped_through);
        self.metrics.publish_fleet(snapshot.clone());
    }

    /// (Re)connects, migrates and claims this node's name (its first heartbeat) when not
    /// connected. A name another appliance holds keeps it disconnected: it spends nothing
    /// beyond what its own leases held.
    fn connect(&mut self) {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return;
        }
        self.client = None;
        if self
            .connect_after
            .is_some_and(|after| Instant::now() < after)
        {
            return;
        }
        let beat = self.beat_now(tf_seam::clock::unix_micros());
        let connected = tf_fleet::connect(&self.config).and_then(|mut client| {
            tf_fleet::migrate(&mut client)?;
            tf_fleet::heartbeat(&mut client, &beat)?;
            Ok(client)
        });
        match connected {
            Ok(client) => {
                tracing::info!(
                    node = self.config.node,
                    "connected to the fleet's PostgreSQL"
                );
                self.client = Some(client);
            }
            Err(error) => self.name_taken_or_offline(&error),
        }
        lock(&self.health).connected = self.client.is_some();
    }

    /// Tells the fleet this node is alive, the revision it serves under and how far its
    /// ledger has come (for `appliance fleet status`).
    fn beat(&mut self, now: u64) {
        let beat = self.beat_now(now);
        let Some(client) = &mut self.client else {
            return;
        };
        match tf_fleet::heartbeat(client, &beat) {
            Ok(()) => {}
            Err(error @ tf_fleet::FleetError::NameTaken { .. }) => {
                // Another appliance took the name while this one was away: stop using it.
                self.name_taken_or_offline(&error);
                self.client = None;
                lock(&self.health).connected = false;
            }
            Err(error) => self.note(Some(error.to_string())),
        }
    }

    /// Why this node is not connected; with its name another appliance's, it waits a while
    /// before it asks again.
    fn name_taken_or_offline(&mut self, error: &tf_fleet::FleetError) {
        if matches!(error, tf_fleet::FleetError::NameTaken { .. }) {
            self.connect_after = Some(Instant::now() + NAME_TAKEN_WAIT);
        }
        self.offline = error.to_string();
    }

    fn beat_now(&self, now: u64) -> tf_fleet::Beat {
        tf_fleet::Beat {
            node: self.config.node.clone(),
            started_us: self.started_us,
            now_us: now,
            revision: self.board.policy().stamp.revision,
            committed_seq: self.board.committed(),
            version: self.version.clone(),
            receipt_key: self.receipt_key.clone(),
        }
    }

    fn sweep(&mut self, now: u64) {
        let Some(client) = &mut self.client else {
            return;
        };
        let grace_us = self.config.grace_ms * 1_000;
        let mut leases = Leases::new(client, &self.config.node);
        let ended = leases.settle_ended();
        let reclaimed = leases.reclaim_expired(grace_us, now);
        if let Err(error) = ended {
            self.note(Some(error.to_string()));
        }
        match reclaimed {
            Ok(reclaimed) => {
                for lease in reclaimed {
                    tracing::warn!(
                        token = lease.token,
                        node = lease.node,
                        in_doubt = lease.in_doubt,
                        "a budget lease was not returned by its expiry: taken back, its \
                         unreported units in doubt until its node settles them"
                    );
                }
            }
            Err(error) => self.note(Some(error.to_string())),
        }
    }

    /// Ships committed receipts for at most [`SHIP_TIME`].
    fn ship(&mut self, now: u64) {
        let began = Instant::now();
        loop {
            let Some(client) = &mut self.client else {
                return;
            };
            if lock(&self.health).shipped_through >= self.board.committed() {
                return;
            }
            let node = &self.config.node;
            let ledger = &mut self.ledger;
            let result = tf_fleet::ship(client, node, ledger.as_ref(), SHIP_BATCH, now)
                .map_err(|e| e.to_string())
                .and_then(|shipped| {
                    // Behind the ledger's copy only when the fleet's database went back (a
                    // restore): the receipts since are shipped again, and the copy stays.
                    match ledger.save_cursor(SHIPPING_CURSOR, shipped.through_seq) {
                        Ok(()) | Err(tf_ledger::LedgerError::CursorBehind { .. }) => Ok(shipped),
                        Err(e) => Err(format!("saving the shipping cursor: {e}")),
                    }
                });
            match result {
                Ok(shipped) => {
                    lock(&self.health).shipped_through = shipped.through_seq;
                    if let Some(oldest) = shipped.oldest_decided_us {
                        let lag_us = tf_seam::clock::unix_micros().saturating_sub(oldest);
                        self.snapshot
                            .shipping_lag_seconds
                            .record(lag_us as f64 / 1e6);
                    }
                    if shipped.count < SHIP_BATCH || began.elapsed() > SHIP_TIME {
                        return;
                    }
                }
                Err(error) => {
                    self.note(Some(error));
                    return;
                }
            }
        }
    }

    /// At shutdown: the leases back with what was finally spent, and the receipts shipped.
    fn finish(&mut self) {
        self.connect();
        let now = tf_seam::clock::unix_micros();
        if let Some(read) = self.fleet().demands() {
            let keeping: Vec<Demand> = read.demands.iter().map(demand).collect();
            let store: &mut dyn LeaseStore = match &mut self.client {
                Some(client) => &mut Leases::new(client, &self.config.node),
                None => &mut Offline(self.offline.clone()),
            };
            self.keeper.release(store, &keeping, now);
            if let Some(trouble) = self.keeper.trouble() {
                tracing::warn!(
                    trouble,
                    "budget leases were not all returned at shutdown: the fleet takes them \
                     back after their expiry and grace period"
                );
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.client.is_some()
            && lock(&self.health).shipped_through < self.board.committed()
            && Instant::now() < deadline
        {
            let before = lock(&self.health).shipped_through;
            self.ship(now);
            if lock(&self.health).shipped_through == before {
                break;
            }
        }
    }

    /// Logs a change in how things go with the database, once.
    fn note(&mut self, trouble: Option<String>) {
        if trouble == self.said {
            return;
        }
        match &trouble {
            Some(problem) => tracing::warn!(
                problem,
                "the fleet's PostgreSQL: spending only what budget leases hold until it answers"
            ),
            None => tracing::info!("the fleet's PostgreSQL answers again"),
        }
        self.said = trouble.clone();
        lock(&self.health).trouble = trouble;
    }
}

fn lock(health: &Mutex<FleetHealth>) -> std::sync::MutexGuard<'_, FleetHealth> {
    health.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shard's demand as the keeper's: the cap's pool.
fn demand(demand: &CapDemand) -> Demand {
    Demand {
        pool: PoolKey {
            tenant: demand.tenant.clone(),
            purpose: demand.cap.purpose.clone().unwrap_or_default(),
            class: demand.cap.class.name().to_owned(),
            window: demand.cap.window.to_string(),
            window_start_us: demand.window_start_us,
        },
        cap: demand.cap.limit,
        spent_here: demand.spent_here,
        refused_here: demand.refused_here,
    }
}
