//! Starting the data plane: one pinned glommio executor per shard, joined by channel meshes,
//! and one for the ledger thread, with budgets restored from the ledger first.

use std::future::Future;
use std::net::UdpSocket;
use std::sync::Arc;
use std::thread::JoinHandle;

use glommio::channels::channel_mesh::MeshBuilder;
use glommio::channels::shared_channel;
use glommio::{LocalExecutorBuilder, Placement};
use quinn_proto::{EndpointConfig, ServerConfig};
use tf_ledger::{ChargeGroup, Ledger, LedgerError};
use tf_metrics::MetricsHub;
use tf_seam::{Board, TenantTable};
use tf_shard::{ShardSettings, TenantSlot};
use tf_state::{KeyStore, StoredKey};

use crate::driver::DriverLimits;
use crate::ledger::LedgerPlan;
use crate::lending::{IdleCores, Lending};
use crate::log_proofs::LogFiles;
use crate::shard::{self, ShardPlan};

/// Capacity of each cross-shard channel (requests to a home shard, answers back).
const MESH_CAPACITY: usize = 1024;
/// Lent batches and their verdicts in flight between two shards.
const LOANS_CAPACITY: usize = 8;
/// Capacity of each channel to and from the ledger thread, in batches.
const LEDGER_CHANNEL_CAPACITY: usize = 64;
/// Charges are read back from the ledger summed per minute: calendar windows start on whole
/// minutes, so a group never straddles one.
const RESTORE_GROUP_US: u64 = 60_000_000;

/// Everything the data plane starts from, built by the appliance's wiring.
pub struct DataPlanePlan {
    /// Shared with the control plane and the main thread.
    pub board: Arc<Board>,
    /// Where shards and the ledger publish their counters.
    pub metrics: Arc<MetricsHub>,
    /// The opened, migrated ledger; the ledger thread owns it from now on.
    pub ledger: Box<dyn Ledger>,
    /// The receipt signing key.
    pub receipt_secret: [u8; 32],
    /// TLS and transport settings.
    pub server_config: Arc<ServerConfig>,
    /// One bound SO_REUSEPORT socket per shard.
    pub sockets: Vec<UdpSocket>,
    /// The CPU each shard is pinned to.
    pub placement: Vec<usize>,
    /// io_uring registered memory per executor, bytes.
    pub io_memory_bytes: usize,
    /// Connection and frame limits.
    pub driver_limits: DriverLimits,
    /// Every tenant and its home shard.
    pub tenants: Arc<TenantTable>,
    /// Queueing, scheduling and batching.
    pub settings: ShardSettings,
    /// When shards lend batches to idle cores.
    pub lending: Lending,
    /// Told to partners over budget.
    pub budget_contact: String,
    /// The appliance's own tenant (the golden canary's), if it runs: its requests are counted
    /// under their own tenant but kept out of the decision latency partners' figures and
    /// alerts are read from.
    pub own_tenant: Option<String>,
    /// Verifying keys to prepare at start, and which tenants may use each.
    pub stored_keys: Arc<Vec<(StoredKey, Vec<String>)>>,
    /// Where newly registered keys are saved.
    pub keystore: KeyStore,
    /// The wall clock at start, Unix microseconds (budget windows are restored against it).
    pub now_unix_us: u64,
    /// The transparency log partners' proof queries are answered from; `None`: they are
    /// answered "log unavailable".
    pub log: Option<LogFiles>,
    /// The log's verifier key (C2SP `vkey`), told to partners who ask; `None` without a log.
    pub log_key: Option<String>,
    /// Digests the control plane asks the ledger thread to append.
    pub anchors: Option<tf_seam::AnchorInbox>,
    /// Where shards send sealed blocks of decisions; `None`: decisions are not recorded.
    pub decisions: Option<tf_decisions::writer::BlockSender>,
    /// Where partners' requests for the control plane go (onboarding, terms); `None`: the
    /// appliance does not manage partners (the server configuration then offers no onboarding
    /// protocol either).
    pub desk: Option<Arc<tf_seam::PartnerDesk>>,
}

/// Why the data plane did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// Budgets could not be read back from the ledger.
    #[error("restoring budgets from the ledger: {0}")]
    Restore(#[from] LedgerError),
    /// An executor could not be started.
    #[error("{0}")]
    Executor(String),
}

/// The running shards and ledger thread.
pub struct DataPlane {
    shards: Vec<JoinHandle<Result<(), String>>>,
    ledger: JoinHandle<Result<(), String>>,
}

impl std::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlane")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl DataPlane {
    /// Restores budgets, then starts every shard and the ledger thread. They join their
    /// channels and report ready on the board.
    pub fn launch(plan: DataPlanePlan) -> Result<Self, LaunchError> {
        let shards = plan.sockets.len();
        let restored = Arc::new(restore_charges(
            plan.ledger.as_ref(),
            &plan.tenants,
            plan.now_unix_us,
        )?);
        let endpoint_config = Arc::new(EndpointConfig::default());
        let to_home = MeshBuilder::full(shards, MESH_CAPACITY);
        let replies = MeshBuilder::full(shards, MESH_CAPACITY);
        // Each idle core takes one loan until it is idle again: a few slots per peer suffice.
        let loans = MeshBuilder::full(shards, LOANS_CAPACITY);
        let idle = Arc::new(IdleCores::new(shards));
        let mut ledger_plan = LedgerPlan {
            ledger: plan.ledger,
            receipt_secret: plan.receipt_secret,
            from_shards: Vec::with_capacity(shards),
            to_shards: Vec::with_capacity(shards),
            metrics: plan.metrics.clone(),
            board: plan.board.clone(),
            anchors: plan.anchors,
        };
        let about = Arc::new(crate::AboutKeys {
            receipt_public_key: tf_receipts::ReceiptSigner::from_secret(&plan.receipt_secret)
                .public_key()
                .to_bytes(),
            log_key: plan.log_key.clone(),
        });
        let mut handles = Vec::with_capacity(shards);
        for (index, socket) in plan.sockets.into_iter().enumerate() {
            let (to_ledger, ledger_from_shard) =
                shared_channel::new_bounded(LEDGER_CHANNEL_CAPACITY);
            let (ledger_to_shard, from_ledger) =
                shared_channel::new_bounded(LEDGER_CHANNEL_CAPACITY);
            ledger_plan.from_shards.push(ledger_from_shard);
            ledger_plan.to_shards.push(ledger_to_shard);
            let shard_plan = ShardPlan {
                index,
                socket,
                endpoint_config: endpoint_config.clone(),
                server_config: plan.server_config.clone(),
                driver_limits: plan.driver_limits,
                tenants: plan.tenants.clone(),
                settings: plan.settings,
                budget_contact: plan.budget_contact.clone(),
                own_tenant: plan.own_tenant.clone(),
                restored: restored.clone(),
                stored_keys: plan.stored_keys.clone(),
                keystore: plan.keystore.clone(),
                decisions: plan.decisions.clone(),
                to_home: to_home.clone(),
                replies: replies.clone(),
                loans: loans.clone(),
                idle: idle.clone(),
                lending: plan.lending,
                to_ledger,
                from_ledger,
                #[cfg(feature = "without-ledger")]
                receipt_secret: plan.receipt_secret,
                board: plan.board.clone(),
                metrics: plan.metrics.clone(),
                log: plan.log.clone(),
                about: about.clone(),
                desk: plan.desk.clone(),
            };
            let board = plan.board.clone();
            let cpu = plan.placement[index];
            let builder = LocalExecutorBuilder::new(Placement::Fixed(cpu))
                .io_memory(plan.io_memory_bytes)
                .preempt_timer(shard::PREEMPT_EVERY);
            let handle = start_executor(
                builder,
                format!("shard-{index}"),
                plan.board.clone(),
                index,
                move || async move {
                    let result = shard::run(shard_plan).await;
                    board.shard_stopped();
                    result
                },
            )
            .map_err(|e| {
                LaunchError::Executor(format!(
                    "starting shard {index} on CPU {cpu} failed: {e} (io_uring with {} KiB \
                     of locked memory per shard; check RLIMIT_MEMLOCK with `ulimit -l`)",
                    plan.io_memory_bytes / 1024
                ))
            })?;
            handles.push(handle);
        }
        let builder = LocalExecutorBuilder::new(Placement::Unbound).io_memory(plan.io_memory_bytes);
        let ledger = start_executor(
            builder,
            "ledger".into(),
            plan.board,
            shards,
            move || async move {
                crate::ledger::run(ledger_plan).await;
                Ok(())
            },
        )
        .map_err(|e| LaunchError::Executor(format!("starting the ledger thread failed: {e}")))?;
        Ok(DataPlane {
            shards: handles,
            ledger,
        })
    }

    /// Waits for every shard and the ledger thread to return (after a drain); whether any
    /// failed (each failure is logged).
    pub fn join(self) -> bool {
        let mut failed = false;
        for (index, handle) in self.shards.into_iter().enumerate() {
            if let Err(error) = joined(handle) {
                tracing::error!(shard = index, "{error}");
                failed = true;
            }
        }
        if let Err(error) = joined(self.ledger) {
            tracing::error!("the ledger thread failed: {error}");
            failed = true;
        }
        failed
    }
}

/// Starts a glommio executor on a thread of its own, waits until it is built, and runs `task`
/// on it. Built one after another, executors take glommio ids in launch order, and a channel
/// mesh numbers its peers by those ids: shard `index` is peer `index` (shard.rs checks). The
/// thread records its kernel id on the board before the executor runs anything: an executor
/// can park before its first task runs, and the main thread can only wake a thread it knows
/// (nudge.rs).
fn start_executor<G, F>(
    builder: LocalExecutorBuilder,
    name: String,
    board: Arc<Board>,
    index: usize,
    task: G,
) -> Result<JoinHandle<Result<(), String>>, String>
where
    G: FnOnce() -> F + Send + 'static,
    F: Future<Output = Result<(), String>> + 'static,
{
    let (built, was_built) = std::sync::mpsc::sync_channel(1);
    let handle = std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let executor = match builder.make() {
                Ok(executor) => executor,
                Err(error) => {
                    let reason = format!("building the {name} executor: {error}");
                    let _ = built.send(Err(reason.clone()));
                    return Err(reason);
                }
            };
            board.executor_started(index, crate::nudge::current_thread());
            let _ = built.send(Ok(()));
            executor.run(task())
        })
        .map_err(|e| format!("starting a thread: {e}"))?;
    match was_built.recv() {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(reason)) => {
            let _ = handle.join();
            Err(reason)
        }
        // The thread ended without a word: it panicked while building.
        Err(_) => Err(joined(handle)
            .err()
            .unwrap_or_else(|| "ended early".to_owned())),
    }
}

/// An executor thread's outcome, a panic included.
fn joined(handle: JoinHandle<Result<(), String>>) -> Result<(), String> {
    match handle.join() {
        Ok(outcome) => outcome,
        Err(panic) => Err(panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panicked".to_owned())),
    }
}

/// Every capped tenant's charges still inside some window, read back from the ledger.
fn restore_charges(
    ledger: &dyn Ledger,
    tenants: &TenantTable,
    now_unix_us: u64,
) -> Result<Vec<(TenantSlot, Vec<ChargeGroup>)>, LedgerError> {
    let mut restored = Vec::new();
    for (i, spec) in tenants.specs().iter().enumerate() {
        let Some(since) = tf_budgets::restore_from(&spec.caps, now_unix_us) else {
            continue;
        };
        let groups = ledger.charges_since(&spec.id, since, RESTORE_GROUP_US)?;
        restored.push((TenantSlot(i as u32), groups));
    }
    Ok(restored)
}
