//! One shard: a glommio executor pinned to its core, running its QUIC driver, the home-shard
//! work for the tenants homed here, and the channels to the other shards.
//!
//! Tasks (all on this one thread; state is shared through `Rc<RefCell<..>>`, never across
//! threads):
//! - receive: datagrams from the io_uring socket into the driver;
//! - io (latency-sensitive queue): polls the driver, dispatches complete requests to their
//!   home shard, sends datagrams, and runs the drain on shutdown;
//! - verify (throughput queue): takes batches from the home-shard scheduler, verifies them a
//!   step at a time (yielding when the preempt timer fires, so the io task keeps running),
//!   settles budgets and hands the decided requests to the ledger thread; lends a batch to an
//!   idle core when more work waits here, and verifies batches other shards lend it while it
//!   has nothing of its own (see lending.rs);
//! - one receiver per peer shard for requests homed here, for answers coming back and for
//!   lent batches, and one for answers from the ledger (stored receipts).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::channels::channel_mesh::{Full, MeshBuilder, Receivers, Senders};
use glommio::channels::shared_channel::{ConnectedSender, SharedReceiver, SharedSender};
use glommio::{GlommioError, Latency, ResourceType, Shares};
use quinn_proto::{EndpointConfig, ServerConfig};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};
use tf_ledger::ChargeGroup;
use tf_seam::clock::Clock;
use tf_seam::{Board, DeskRequest, PulseReading, TenantTable};
use tf_shard::{Batch, BatchKey, Job, Lane, Lent, Shard, ShardSettings, TenantSlot, Verification};
use tf_state::{KeyStore, StoredKey};
use tf_wire::{ErrorCode, Message, close_code};

use super::driver::{Driver, DriverLimits, Request};
use super::home::{self, Home};
use super::lending::{IdleCores, Lending, Loan, Verified, wants_to_lend};
use super::log_proofs::{self, LogFiles, LogProofs};
use super::routes::{Decided, FromLedger, Reply, Route, ToHome, ToLedger};
use super::sockets;
use super::wakeup::Wakeup;

/// Everything a shard needs, built on the main thread and moved into the shard's thread.
pub struct ShardPlan {
    /// This shard's index.
    pub index: usize,
    /// Its bound socket.
    pub socket: std::net::UdpSocket,
    /// Shared endpoint settings (and stateless reset key).
    pub endpoint_config: Arc<EndpointConfig>,
    /// Shared TLS and transport settings.
    pub server_config: Arc<ServerConfig>,
    /// Connection and frame limits.
    pub driver_limits: DriverLimits,
    /// Every tenant and its home, as the shards start.
    pub tenants: Arc<TenantTable>,
    /// Queueing, scheduling and batching.
    pub settings: ShardSettings,
    /// Told to partners over budget: how to ask for more.
    pub budget_contact: String,
    /// The appliance's own tenant (the golden canary's), if it runs: its requests are counted
    /// under their own tenant but kept out of the decision latency partners' figures and
    /// alerts are read from.
    pub own_tenant: Option<String>,
    /// Budget charges read back from the ledger at start, per tenant.
    pub restored: Arc<Vec<(TenantSlot, Vec<ChargeGroup>)>>,
    /// Registered verifying keys, and which tenant registered which.
    pub stored_keys: Arc<Vec<(StoredKey, Vec<String>)>>,
    /// Where newly registered keys are saved.
    pub keystore: KeyStore,
    /// Where sealed blocks of decisions go; `None`: they are not recorded.
    pub decisions: Option<tf_decisions::writer::BlockSender>,
    /// Requests to home shards.
    pub to_home: MeshBuilder<ToHome, Full>,
    /// Answers back to ingress shards, a batch's worth per message.
    pub replies: MeshBuilder<Vec<Reply>, Full>,
    /// Batches lent to idle cores, and their verdicts coming back.
    pub loans: MeshBuilder<Loan, Full>,
    /// Which verifiers are idle.
    pub idle: Arc<IdleCores>,
    /// When this shard lends batches.
    pub lending: Lending,
    /// Decided requests (and history questions) to the ledger thread.
    pub to_ledger: SharedSender<ToLedger>,
    /// Answers from the ledger thread once their receipts are stored.
    pub from_ledger: SharedReceiver<FromLedger>,
    /// Measurement build: the receipt key, for signing on the shard.
    #[cfg(feature = "without-ledger")]
    pub receipt_secret: [u8; 32],
    /// Shutdown state shared with the main thread.
    pub board: Arc<Board>,
    /// Where scrapes read this shard's counters.
    pub metrics: Arc<tf_metrics::MetricsHub>,
    /// The transparency log, for partners' proof queries.
    pub log: Option<LogFiles>,
    /// The appliance's public keys, for partners' `AboutQuery`.
    pub about: Arc<crate::AboutKeys>,
    /// Where partners' requests for the control plane go (onboarding, terms); `None`: the
    /// appliance does not manage partners.
    pub desk: Option<Arc<tf_seam::PartnerDesk>>,
}

/// How long a drain waits for in-flight requests before closing connections anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest the io task sleeps, so it notices a shutdown request.
const IO_TICK: Duration = Duration::from_millis(50);
/// Retry hint when a home shard's channel is full.
const CROSS_SHARD_BUSY_MS: u32 = 10;

/// The shard's shared state.
pub struct ShardState {
    index: usize,
    clock: Clock,
    driver: RefCell<Driver>,
    home: RefCell<Home>,
    log_proofs: RefCell<LogProofs>,
    about: Arc<crate::AboutKeys>,
    desk: Option<Arc<tf_seam::PartnerDesk>>,
    io_wakeup: Wakeup,
    work_wakeup: Wakeup,
    to_home: Senders<ToHome>,
    replies: Senders<Vec<Reply>>,
    loans: Senders<Loan>,
    idle: Arc<IdleCores>,
    lending: Lending,
    /// Batches other shards lent here, to verify before this shard's own.
    borrowed: RefCell<VecDeque<(usize, Lent<Route>)>>,
    /// Batches this shard lent, verified, to decide.
    returned: RefCell<Vec<Verified>>,
    ledger: ConnectedSender<ToLedger>,
    #[cfg(feature = "without-ledger")]
    unstored: RefCell<super::unstored::Unstored>,
    board: Arc<Board>,
    metrics: Arc<tf_metrics::MetricsHub>,
}

/// How often a shard's executor stops running tasks to collect completed I/O, timers and
/// messages from other threads. glommio's default (100 ms while only the verify queue has work)
/// would leave datagrams, answers from the ledger and requests from other shards waiting behind
/// many batches: glommio wakes a busy executor for nothing else. One millisecond is about one
/// verification step.
pub const PREEMPT_EVERY: Duration = Duration::from_millis(1);

/// Runs a shard until it has drained after a shutdown request.
pub async fn run(plan: ShardPlan) -> Result<(), String> {
    let index = plan.index;
    super::wakeup::keep_polling(plan.board.clone(), index);
    let socket = Rc::new(sockets::into_glommio(plan.socket));
    let (to_home, mut to_home_rx) = plan
        .to_home
        .join()
        .await
        .map_err(|_| format!("shard {index}: joining the request channels failed"))?;
    let (replies, mut replies_rx) = plan
        .replies
        .join()
        .await
        .map_err(|_| format!("shard {index}: joining the answer channels failed"))?;
    let (loans, mut loans_rx) = plan
        .loans
        .join()
        .await
        .map_err(|_| format!("shard {index}: joining the lending channels failed"))?;
    // Requests are routed to a home shard by its index; a mesh numbers peers by executor id,
    // which launch.rs assigns in shard order.
    if to_home.peer_id() != index || replies.peer_id() != index || loans.peer_id() != index {
        return Err(format!(
            "shard {index}: joined the channel meshes as peers {}, {} and {}; routing needs \
             {index}",
            to_home.peer_id(),
            replies.peer_id(),
            loans.peer_id()
        ));
    }
    let ledger = plan.to_ledger.connect().await;
    let from_ledger = plan.from_ledger.connect().await;
    let clock = Clock::new();
    let start = clock.read();
    let unix_now = start.unix_us;
    let mut shard = Shard::new(plan.settings, plan.tenants.specs(), start.mono, unix_now);
    let restored =
        home::restore_budgets(&mut shard, &plan.tenants, index, &plan.restored, unix_now);
    tracing::debug!(
        shard = index,
        charge_groups = restored,
        "budgets restored from the ledger"
    );
    let loaded = home::install_keys(
        &mut shard,
        &plan.tenants,
        index,
        &plan.stored_keys,
        &plan.settings.limits,
    );
    tracing::debug!(shard = index, keys = loaded, "verifying keys prepared");
    let log_proofs = LogProofs::new(plan.log, &plan.driver_limits.wire);
    let state = Rc::new(ShardState {
        index,
        clock,
        driver: RefCell::new(
            Driver::new(
                index,
                plan.endpoint_config,
                plan.server_config,
                plan.driver_limits,
                plan.tenants.clone(),
            )
            .with_onboarding(plan.desk.clone()),
        ),
        home: RefCell::new(
            Home::new(
                index,
                shard,
                plan.tenants.clone(),
                plan.keystore,
                plan.settings,
                plan.budget_contact,
                plan.board.clone(),
            )
            .recording(super::decisions::Recorder::new(index, plan.decisions))
            .supporting(super::support::Support::new(
                plan.desk.as_ref().map(|desk| desk.support().clone()),
            ))
            .own_traffic(plan.own_tenant),
        ),
        log_proofs: RefCell::new(log_proofs),
        about: plan.about.clone(),
        desk: plan.desk,
        io_wakeup: Wakeup::default(),
        work_wakeup: Wakeup::default(),
        to_home,
        replies,
        loans,
        idle: plan.idle,
        lending: plan.lending,
        borrowed: RefCell::new(VecDeque::new()),
        returned: RefCell::new(Vec::new()),
        ledger,
        #[cfg(feature = "without-ledger")]
        unstored: RefCell::new(super::unstored::Unstored::new(&plan.receipt_secret)),
        board: plan.board,
        metrics: plan.metrics,
    });

    let io_queue = glommio::executor().create_task_queue(
        Shares::Static(1000),
        Latency::Matters(Duration::from_millis(1)),
        "io",
    );
    let verify_queue = glommio::executor().create_task_queue(
        Shares::Static(1000),
        Latency::NotImportant,
        "verify",
    );
    spawn(receive(state.clone(), socket.clone()), io_queue)?;
    spawn(verify(state.clone()), verify_queue)?;
    spawn_receivers(
        &mut to_home_rx,
        &state,
        io_queue,
        |state, message| async move {
            home_receive(&state, message).await;
        },
    )?;
    spawn_receivers(&mut loans_rx, &state, io_queue, |state, loan| async move {
        receive_loan(&state, loan);
    })?;
    spawn_receivers(
        &mut replies_rx,
        &state,
        io_queue,
        |state, replies| async move {
            answer_here(&state, replies);
        },
    )?;
    {
        let state = state.clone();
        spawn(
            async move {
                while let Some(message) = from_ledger.recv().await {
                    match message {
                        FromLedger::Answers(replies) => answer_here(&state, replies),
                        FromLedger::History { query, charges } => {
                            state.home.borrow_mut().history_arrived(&query, charges);
                        }
                        FromLedger::Unstored(charges) => state.home.borrow_mut().refund(&charges),
                    }
                }
            },
            io_queue,
        )?;
    }
    spawn(pulse(state.clone()), io_queue)?;
    state.board.shard_ready();
    io(state.clone(), socket).await;
    // Fleet mode: what was finally spent, for the leases returned at shutdown.
    if let Some(fleet) = state.board.fleet() {
        let demands = state.home.borrow_mut().cap_demands(state.clock.read());
        // Nothing more is admitted: final under any grant.
        fleet.publish_demands(state.index, u64::MAX, demands);
    }
    // Everything taken was answered; tell the ledger this shard sends no more (the detached
    // tasks holding the sender are not dropped when the executor stops).
    state.ledger.close();
    // Likewise the decision log: its last block goes to the writer, which ends once every
    // shard has let go of its sender.
    state.home.borrow_mut().close_decisions();
    Ok(())
}

/// How often a shard publishes its pulse (read by the watchdog and the status line).
const PULSE_EVERY: Duration = Duration::from_millis(100);
/// Pulses between metrics snapshots: scrapes see counters at most half a second old.
const PULSES_PER_SNAPSHOT: u32 = 5;

/// Publishes this shard's counters, applies reloaded quotas and, in fleet mode, the fleet's grants
/// (publishing what its tenants spent for the next ones). The task runs only when the
/// executor gets round to its tasks, so a shard stuck in one task stops beating and the
/// watchdog notices.
async fn pulse(state: Rc<ShardState>) {
    let mut quotas_applied = 0;
    let mut grants_applied = 0;
    let mut pulses = 0u32;
    loop {
        // Picks up a promoted policy even while no request arrives, so the control plane can
        // confirm every shard switched.
        let revision = state
            .home
            .borrow_mut()
            .refresh_policy(state.clock.read())
            .revision;
        adopt_tenants(&state);
        if state.board.stage_generation() != state.home.borrow().prepare_begun() {
            // The verifier prepares staged terms between batches; wake it if it is idle.
            state.work_wakeup.notify();
        }
        let connections = {
            let driver = state.driver.borrow();
            let connections = driver.connections() as u64;
            state.board.beat(
                state.index,
                PulseReading {
                    beats: 0,
                    answered: driver.answered(),
                    owed: driver.owed(),
                    connections,
                    policy_revision: revision,
                },
            );
            connections
        };
        state
            .home
            .borrow_mut()
            .seal_decisions_if_due(state.clock.read());
        pulses = pulses.wrapping_add(1);
        if pulses % PULSES_PER_SNAPSHOT == 1 {
            let snapshot = state
                .home
                .borrow_mut()
                .snapshot(connections, state.clock.read());
            state.metrics.publish_shard(state.index, snapshot);
        }
        if let Some(fleet) = state.board.fleet() {
            let mut home = state.home.borrow_mut();
            let generation = fleet.grant_generation();
            if generation != grants_applied {
                home.apply_grants(&fleet.grants());
                grants_applied = generation;
            }
            fleet.publish_demands(
                state.index,
                grants_applied,
                home.cap_demands(state.clock.read()),
            );
        }
        let generation = state.board.quota_generation();
        if generation != quotas_applied {
            let quotas = state.board.quotas();
            state
                .home
                .borrow_mut()
                .set_admission(&quotas, state.clock.now());
            quotas_applied = generation;
        }
        glommio::timer::sleep(PULSE_EVERY).await;
    }
}

/// Hands a tenant's request to the control plane through the partner desk, or answers at once
/// that this appliance does not manage partners.
fn ask_desk(state: &Rc<ShardState>, request: DeskRequest, request_id: u64, route: Route) {
    let source = state.driver.borrow().remote(&route);
    match (state.desk.clone(), source) {
        (Some(desk), Some(source)) => to_desk(state, &desk, (request, source, route)),
        (None, _) => {
            let detail = "this appliance does not manage partners ([tls] names another PKI); \
                          ask the operator"
                .to_owned();
            let code = ErrorCode::Denied { reason: detail };
            state.answer_now(route, super::replies::error(request_id, code));
        }
        // The connection is gone: nobody is left to answer.
        (Some(_), None) => {}
    }
}

/// Hands a request to the control plane through the partner desk; its answer comes back to
/// this shard's connection.
fn to_desk(
    state: &Rc<ShardState>,
    desk: &tf_seam::PartnerDesk,
    (request, source, route): (DeskRequest, std::net::IpAddr, Route),
) {
    let state = state.clone();
    super::desk::forward(desk, request, source, route, move |route, frame| {
        state.answer_now(route, frame);
    });
}

impl ShardState {
    /// Puts one answer for this shard's connections on its stream.
    pub(crate) fn answer_now(&self, route: Route, frame: Vec<u8>) {
        self.driver.borrow_mut().answer(route, frame);
        self.io_wakeup.notify();
    }
}

/// Puts answers for this shard's connections on their streams.
fn answer_here(state: &ShardState, replies: Vec<Reply>) {
    let mut driver = state.driver.borrow_mut();
    for reply in replies {
        driver.answer(reply.route, reply.frame);
    }
    drop(driver);
    state.io_wakeup.notify();
}

/// Spawns a task per peer of a channel mesh, handing each message it receives to `handle`.
fn spawn_receivers<T, F, Fut>(
    receivers: &mut Receivers<T>,
    state: &Rc<ShardState>,
    queue: glommio::TaskQueueHandle,
    handle: F,
) -> Result<(), String>
where
    T: Send + 'static,
    F: Fn(Rc<ShardState>, T) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()>,
{
    for (_, receiver) in receivers.streams() {
        let state = state.clone();
        let handle = handle.clone();
        spawn(
            async move {
                while let Some(message) = receiver.recv().await {
                    handle(state.clone(), message).await;
                }
            },
            queue,
        )?;
    }
    Ok(())
}

fn spawn(
    future: impl std::future::Future<Output = ()> + 'static,
    queue: glommio::TaskQueueHandle,
) -> Result<(), String> {
    glommio::spawn_local_into(future, queue)
        .map(glommio::Task::detach)
        .map(|_| ())
        .map_err(|e| format!("spawning a shard task failed: {e}"))
}

async fn receive(state: Rc<ShardState>, socket: Rc<glommio::net::UdpSocket>) {
    let mut buffer = vec![0u8; 65_536];
    loop {
        match socket.recv_from(&mut buffer).await {
            Ok((length, from)) => {
                state
                    .driver
                    .borrow_mut()
                    .handle_datagram(Instant::now(), from, &buffer[..length]);
                state.io_wakeup.notify();
            }
            Err(error) => {
                tracing::warn!(shard = state.index, %error, "receiving a datagram failed");
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}

async fn io(state: Rc<ShardState>, socket: Rc<glommio::net::UdpSocket>) {
    let mut requests: Vec<Request> = Vec::new();
    let mut drain: Option<Drain> = None;
    loop {
        let now = Instant::now();
        let unix_us = state.clock.read().unix_us;
        state.driver.borrow_mut().poll(now, unix_us, &mut requests);
        for request in requests.drain(..) {
            dispatch(&state, request);
        }
        let onboard_requests = state.driver.borrow_mut().take_onboard_requests();
        if let Some(desk) = state.desk.clone() {
            for request in onboard_requests {
                let request_to = (
                    DeskRequest::Onboard(request.onboard),
                    request.source,
                    request.route,
                );
                to_desk(&state, &desk, request_to);
            }
        }
        loop {
            let next = state.driver.borrow_mut().next_datagram();
            let Some(datagram) = next else { break };
            if let Err(error) = socket.send_to(&datagram.bytes, datagram.to).await {
                tracing::debug!(shard = state.index, %error, to = %datagram.to, "sending a datagram failed");
            }
            state.driver.borrow_mut().recycle(datagram.bytes);
        }
        if drain.is_none() && state.board.draining() {
            state.driver.borrow_mut().begin_drain();
            drain = Some(Drain::new(now));
        }
        if let Some(drain) = drain.as_mut()
            && drain.step(&state, now)
        {
            return;
        }
        let timeout = state
            .driver
            .borrow()
            .next_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(IO_TICK)
            .min(IO_TICK);
        futures_lite::future::or(state.io_wakeup.wait(), async {
            glommio::timer::sleep(timeout).await;
        })
        .await;
    }
}

/// The shutdown sequence of one shard: stop taking requests, wait until every shard has
/// answered what it took, close connections with a code, wait for them to drain.
struct Drain {
    deadline: Instant,
    quiesced: bool,
    closed: bool,
}

impl Drain {
    fn new(now: Instant) -> Self {
        Drain {
            deadline: now + DRAIN_TIMEOUT,
            quiesced: false,
            closed: false,
        }
    }

    /// Advances the drain; true when the shard may stop.
    fn step(&mut self, state: &ShardState, now: Instant) -> bool {
        let mut driver = state.driver.borrow_mut();
        if !self.quiesced && driver.quiescent() {
            self.quiesced = true;
            state.board.shard_quiesced();
        }
        // Close only once every shard is quiescent: until then this shard's verifier may still
        // be answering requests other shards took.
        if !self.closed && (state.board.all_quiesced() || now >= self.deadline) {
            self.closed = true;
            driver.close_all(
                now,
                close_code::SHUTTING_DOWN,
                "the appliance is shutting down",
            );
            state.io_wakeup.notify();
            return false;
        }
        self.closed
            && ((driver.connections() == 0 && !driver.has_outgoing())
                || now >= self.deadline + Duration::from_secs(2))
    }
}

/// Sends a request to its tenant's home shard (or admits it here).
fn dispatch(state: &Rc<ShardState>, request: Request) {
    let Request {
        tenant,
        route,
        message,
        received_unix_us,
    } = request;
    let to_home = match message {
        Message::Submit(submit) => ToHome::Submit(Job {
            tenant,
            submit,
            received_unix_us,
            route,
            // Stamped by the home shard when it admits the request.
            policy: tf_shard::PolicyStamp::default(),
            reservation: tf_shard::Reservation::default(),
            admitted: tf_shard::Micros(0),
            decision_seq: 0,
        }),
        Message::RegisterKey(register) => ToHome::RegisterKey {
            tenant,
            request_id: register.request_id,
            curve: register.curve,
            key: register.key,
            route,
        },
        Message::BudgetQuery(query) => ToHome::Budgets {
            tenant,
            request_id: query.request_id,
            route,
        },
        Message::AboutQuery(query) => {
            let frame = {
                let driver = state.driver.borrow();
                super::replies::about(query.request_id, driver.tenants().id(tenant), &state.about)
            };
            state.driver.borrow_mut().answer(route, frame);
            state.io_wakeup.notify();
            return;
        }
        Message::TermsRequest(request) => {
            let tenant = state.driver.borrow().tenants().id(tenant).to_owned();
            let request_id = request.request_id;
            ask_desk(
                state,
                DeskRequest::Terms { tenant, request },
                request_id,
                route,
            );
            return;
        }
        Message::ChecklistQuery(query) => {
            let tenant = state.driver.borrow().tenants().id(tenant).to_owned();
            let request_id = query.request_id;
            ask_desk(
                state,
                DeskRequest::Checklist { tenant, query },
                request_id,
                route,
            );
            return;
        }
        Message::EvidencePreviewQuery(query) => {
            let tenant = state.driver.borrow().tenants().id(tenant).to_owned();
            let request_id = query.request_id;
            ask_desk(
                state,
                DeskRequest::EvidencePreview { tenant, query },
                request_id,
                route,
            );
            return;
        }
        Message::LogProofQuery(query) => {
            let query = log_proofs::Query {
                tenant,
                request_id: query.request_id,
                index: query.index,
            };
            answer_log_proof(state, query, route);
            return;
        }
        _ => return,
    };
    let home = state.driver.borrow().tenants().home(tenant);
    if home == state.index {
        let answer = state.home.borrow_mut().receive(to_home, state.clock.read());
        after_home(state, answer);
        return;
    }
    let request_id = to_home.request_id();
    if let Err(error) = state.to_home.try_send_to(home, to_home) {
        if let GlommioError::WouldBlock(ResourceType::Channel(ToHome::Submit(job))) = &error {
            state
                .home
                .borrow_mut()
                .record_ingress_busy(job, state.clock.read());
        }
        let busy = ErrorCode::Busy {
            retry_after_ms: CROSS_SHARD_BUSY_MS,
        };
        let frame = super::replies::error(request_id, busy);
        state.driver.borrow_mut().answer(route, frame);
        state.io_wakeup.notify();
    }
}

/// Answers a log proof query here, on the shard whose connection asked (see log_proofs.rs).
fn answer_log_proof(state: &ShardState, query: log_proofs::Query, route: Route) {
    let tenants = state.driver.borrow().tenants().clone();
    let frame =
        state
            .log_proofs
            .borrow_mut()
            .answer(query, &tenants, &state.board, state.clock.now());
    state.driver.borrow_mut().answer(route, frame);
    state.io_wakeup.notify();
}

/// A request arriving from another shard for a tenant homed here.
async fn home_receive(state: &Rc<ShardState>, message: ToHome) {
    let answer = state.home.borrow_mut().receive(message, state.clock.read());
    if let Some(reply) = answer {
        deliver(state, reply).await;
    } else {
        state.work_wakeup.notify();
    }
}

fn after_home(state: &Rc<ShardState>, answer: Option<Reply>) {
    match answer {
        // Answers to requests taken on this shard go straight to the driver.
        Some(reply) => {
            state.driver.borrow_mut().answer(reply.route, reply.frame);
            state.io_wakeup.notify();
        }
        None => state.work_wakeup.notify(),
    }
}

/// Sends an answer to the shard whose connection asked.
async fn deliver(state: &Rc<ShardState>, reply: Reply) {
    let mut one = vec![reply];
    deliver_all(state, &mut one).await;
}

/// Sends answers to the shards whose connections asked: this shard's straight to its
/// driver, the others' as one message per shard, so a batch wakes each peer once.
async fn deliver_all(state: &Rc<ShardState>, answers: &mut Vec<Reply>) {
    let mut remote: Vec<Vec<Reply>> = Vec::new();
    {
        let mut driver = state.driver.borrow_mut();
        for reply in answers.drain(..) {
            let shard = reply.route.shard;
            if shard == state.index {
                driver.answer(reply.route, reply.frame);
                continue;
            }
            if remote.len() <= shard {
                remote.resize_with(shard + 1, Vec::new);
            }
            remote[shard].push(reply);
        }
    }
    state.io_wakeup.notify();
    for (shard, replies) in remote.into_iter().enumerate() {
        if replies.is_empty() {
            continue;
        }
        if state.replies.send_to(shard, replies).await.is_err() {
            tracing::debug!(
                shard = state.index,
                to = shard,
                "an answer's shard has stopped"
            );
        }
    }
}

async fn verify(state: Rc<ShardState>) {
    let mut rng = ChaCha20Rng::from_rng(OsRng).expect("the OS random source is available");
    let mut decided: Vec<Decided> = Vec::new();
    loop {
        prepare_staged(&state).await;
        register_next(&state).await;
        if decide_returned(&state, &mut decided).await {
            continue;
        }
        // Another home waits on a lent batch: it goes before this shard's own.
        let borrowed = state.borrowed.borrow_mut().pop_front();
        if let Some((home, lent)) = borrowed {
            verify_borrowed(&state, home, lent, &mut rng, &mut decided).await;
            continue;
        }
        let now = state.clock.now();
        let batch = state.home.borrow_mut().next_batch(now);
        let Some(batch) = batch else {
            if state.home.borrow().registration_waiting() {
                continue;
            }
            let deadline = state.home.borrow().next_deadline();
            let wait = deadline
                .map(|d| Duration::from_micros(d.0.saturating_sub(state.clock.now().0)))
                .unwrap_or(Duration::from_secs(1));
            state.idle.set(state.index, true);
            futures_lite::future::or(state.work_wakeup.wait(), async {
                glommio::timer::sleep(wait).await;
            })
            .await;
            state.idle.set(state.index, false);
            continue;
        };
        let Some(batch) = lend(&state, batch, now) else {
            continue;
        };
        let verification = state.home.borrow().verification(&batch);
        let (verdicts, busy) = match batch.lane {
            Lane::Share => verify_steps(verification, &mut rng).await,
            Lane::Surplus => verify_giving_way(&state, verification, &mut rng, &mut decided).await,
        };
        let verified = Verified {
            batch,
            verdicts,
            busy,
        };
        decide(&state, verified, &mut decided).await;
    }
}

/// Verifies a batch to the end. A batch is 10-20 ms of pairings: verified a step (about a
/// millisecond) at a time, and between steps the core goes back to its network and messages
/// whenever the preempt timer says so (see PREEMPT_EVERY). Returns the verdicts and the time
/// spent in steps.
async fn verify_steps(
    mut verification: Verification<'_, Route>,
    rng: &mut ChaCha20Rng,
) -> (Vec<tf_engine::Verdict>, Duration) {
    let mut busy = Duration::ZERO;
    while step(&mut verification, rng, &mut busy) {
        glommio::executor().yield_if_needed().await;
    }
    (verification.into_verdicts(), busy)
}

/// Verifies a batch of the surplus lane (a tenant beyond its share on a busy shard, this one's
/// or a lender's) like [`verify_steps`], but before each of its steps a due batch of this home's
/// share lane goes first, verified and decided in full, and lent batches that came back are
/// decided: the flood takes the time the others leave. One share batch a step, so the surplus
/// batch, and the verifier's other work after it (staged terms, key registrations), still move
/// on when the share lane alone would fill the core.
async fn verify_giving_way(
    state: &Rc<ShardState>,
    mut verification: Verification<'_, Route>,
    rng: &mut ChaCha20Rng,
    decided: &mut Vec<Decided>,
) -> (Vec<tf_engine::Verdict>, Duration) {
    let mut busy = Duration::ZERO;
    loop {
        decide_returned(state, decided).await;
        let share = state.home.borrow_mut().next_share_batch(state.clock.now());
        if let Some(batch) = share {
            let own = state.home.borrow().verification(&batch);
            let (verdicts, own_busy) = verify_steps(own, rng).await;
            let verified = Verified {
                batch,
                verdicts,
                busy: own_busy,
            };
            decide(state, verified, decided).await;
        }
        if !step(&mut verification, rng, &mut busy) {
            break;
        }
        glommio::executor().yield_if_needed().await;
    }
    (verification.into_verdicts(), busy)
}

/// One step of a verification, its time added to `busy`; false when it was the last.
fn step(
    verification: &mut Verification<'_, Route>,
    rng: &mut ChaCha20Rng,
    busy: &mut Duration,
) -> bool {
    let started = Instant::now();
    let more = verification.step(rng);
    *busy += started.elapsed();
    more
}

/// Lends the batch to an idle core when the setting and the work due here say so (another
/// batch due now: lending only batches that could wait would trade messages for nothing);
/// gives it back when it stays here.
fn lend(
    state: &ShardState,
    batch: Batch<BatchKey, Job<Route>>,
    now: tf_shard::Micros,
) -> Option<Batch<BatchKey, Job<Route>>> {
    let more_waiting = state.home.borrow().another_batch_due(now);
    if !wants_to_lend(state.lending, more_waiting) {
        return Some(batch);
    }
    let Some(peer) = state.idle.claim(state.index) else {
        return Some(batch);
    };
    let lent = state.home.borrow().lend(batch);
    let loan = Loan::Verify {
        home: state.index,
        lent,
    };
    match state.loans.try_send_to(peer, loan) {
        Ok(()) => {
            state.home.borrow_mut().count_lent();
            None
        }
        // A full or closed channel hands the loan back: verified here after all. (The peer
        // stays claimed until its verifier is idle again, which only skips one loan.)
        Err(
            glommio::GlommioError::WouldBlock(glommio::ResourceType::Channel(Loan::Verify {
                lent,
                ..
            }))
            | glommio::GlommioError::Closed(glommio::ResourceType::Channel(Loan::Verify {
                lent,
                ..
            })),
        ) => Some(lent.batch),
        Err(error) => {
            // The mesh refuses only an index out of range or this shard's own, which claim()
            // never gives.
            tracing::error!(shard = state.index, to = peer, %error, "lending a batch failed; its requests are lost");
            None
        }
    }
}

/// A loan arriving from another shard: a batch to verify, or verdicts of one lent from here.
fn receive_loan(state: &ShardState, loan: Loan) {
    match loan {
        Loan::Verify { home, lent } => state.borrowed.borrow_mut().push_back((home, lent)),
        Loan::Verified(verified) => state.returned.borrow_mut().push(verified),
    }
    state.work_wakeup.notify();
}

/// Verifies a batch another shard lent and sends the verdicts back to it (a surplus batch
/// giving way to this home's share lane, see [`verify_giving_way`]).
async fn verify_borrowed(
    state: &Rc<ShardState>,
    home: usize,
    lent: Lent<Route>,
    rng: &mut ChaCha20Rng,
    decided: &mut Vec<Decided>,
) {
    let verification = lent.verification();
    let (verdicts, busy) = match lent.batch.lane {
        Lane::Share => verify_steps(verification, rng).await,
        Lane::Surplus => verify_giving_way(state, verification, rng, decided).await,
    };
    state.home.borrow_mut().count_borrowed();
    let verified = Loan::Verified(Verified {
        batch: lent.batch,
        verdicts,
        busy,
    });
    if state.loans.send_to(home, verified).await.is_err() {
        tracing::error!(
            shard = state.index,
            home,
            "a lent batch's home shard has stopped; its verdicts are dropped"
        );
    }
}

/// Decides the lent batches that came back verified, as if verified here. True when there
/// were any.
async fn decide_returned(state: &Rc<ShardState>, decided: &mut Vec<Decided>) -> bool {
    let returned = std::mem::take(&mut *state.returned.borrow_mut());
    if returned.is_empty() {
        return false;
    }
    for verified in returned {
        decide(state, verified, decided).await;
    }
    true
}

/// Decides a verified batch of this home's (budgets, receipts) and hands it to the ledger.
async fn decide(state: &Rc<ShardState>, verified: Verified, decided: &mut Vec<Decided>) {
    state.home.borrow_mut().decide(
        state.clock.read(),
        state.index,
        verified.batch,
        verified.verdicts,
        verified.busy,
        decided,
    );
    pass_on(state, decided).await;
}

/// Registers one waiting key between batches (at most one, so a burst of registrations
/// cannot hold off verification), then gives the core back if it is due elsewhere.
async fn register_next(state: &Rc<ShardState>) {
    let reply = state.home.borrow_mut().register_next();
    let Some(reply) = reply else { return };
    deliver(state, reply).await;
    glommio::executor().yield_if_needed().await;
}

/// Hands decided requests to the ledger, which answers once their receipts are stored. A full
/// channel makes this wait, so a slow disk slows verification instead of growing a queue.
#[cfg(not(feature = "without-ledger"))]
async fn pass_on(state: &Rc<ShardState>, decided: &mut Vec<Decided>) {
    use glommio::{GlommioError, ResourceType};
    let batch = ToLedger::Decided(std::mem::take(decided));
    if let Err(error) = state.ledger.send(batch).await {
        let lost = match error {
            GlommioError::Closed(ResourceType::Channel(ToLedger::Decided(lost))) => lost,
            _ => Vec::new(),
        };
        tracing::error!(
            shard = state.index,
            requests = lost.len(),
            "the ledger thread is gone; answering with an internal error"
        );
        let mut answers: Vec<Reply> = lost
            .into_iter()
            .map(|d| Reply {
                route: d.route,
                frame: super::replies::error(d.receipt.request_id, ErrorCode::Internal),
            })
            .collect();
        deliver_all(state, &mut answers).await;
    }
}

/// Measurement build: answers at once with receipts signed here and stored nowhere.
#[cfg(feature = "without-ledger")]
async fn pass_on(state: &Rc<ShardState>, decided: &mut Vec<Decided>) {
    let mut answers = state.unstored.borrow_mut().answers(decided);
    deliver_all(state, &mut answers).await;
}

/// Begins preparing newly staged bundle terms. Runs in the verify task, between batches: the
/// only place charges are settled and sent to the ledger, so the history questions it sends
/// follow every charge settled before them (see prepare.rs).
async fn prepare_staged(state: &Rc<ShardState>) {
    let generation = state.board.stage_generation();
    if generation == state.home.borrow().prepare_begun() {
        return;
    }
    let Some(staged) = state.board.staged() else {
        state.home.borrow_mut().withdraw_prepare(generation);
        return;
    };
    let queries = state
        .home
        .borrow_mut()
        .begin_prepare(staged, state.clock.read());
    for query in queries {
        if state.ledger.send(ToLedger::History(query)).await.is_err() {
            tracing::error!(
                shard = state.index,
                "the ledger thread is gone; staged bundle terms cannot be prepared"
            );
            return;
        }
    }
}

/// After a switch, identifies new connections against the new table (before the pulse reports
/// the new revision, so a promotion that returned finds added tenants served and dropped ones
/// disconnected) and names the tenants in the metrics.
fn adopt_tenants(state: &ShardState) {
    let table = state.home.borrow().tenants().clone();
    let mut driver = state.driver.borrow_mut();
    if Arc::ptr_eq(driver.tenants(), &table) {
        return;
    }
    driver.set_tenants(table.clone(), Instant::now());
    drop(driver);
    // Closing connections queued datagrams for the io task to send.
    state.io_wakeup.notify();
    state
        .metrics
        .know_tenants(table.specs().iter().map(|s| s.id.clone()).collect());
}
