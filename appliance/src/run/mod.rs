//! `appliance serve`: the one place the planes are wired together. The main thread loads
//! configuration and state, opens the ledger and the bundle in force, starts the data plane
//! (one pinned executor per shard and one for the ledger thread) and the control thread (the
//! control plane's actors and the admin server), tells the user how to connect, then watches
//! the shards, reloads on SIGHUP and drains on SIGTERM/SIGINT.

mod canary;
mod control_thread;
mod notify;
mod onboarding;
mod partner_file;
mod reload;
mod snapshot_context;
mod supervise;
mod thread_name;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use tf_config::Config;
use tf_control::{Book, BundlesPlan, Running};
use tf_dataplane::nudge;
use tf_dataplane::{DataPlane, DataPlanePlan, DriverLimits, HoldLimits};
use tf_engine::groth16::KeyRoom;
use tf_ledger::SqliteLedger;
use tf_metrics::MetricsHub;
use tf_seam::clock::unix_micros;
use tf_seam::{Board, TenantTable};
use tf_shard::{Micros, ShardSettings};
use tf_state::{KeyStore, State, layout};
use tf_wire::WireLimits;

use crate::cli::ServeArgs;

/// Verifying keys each shard keeps prepared: room for every key a bundle can carry (one per
/// file it may hold), and apart from it, room for the keys partners register (each tenant
/// also bounded by its quota, `max_registered_keys`).
const KEY_ROOM: KeyRoom = KeyRoom {
    bundle: tf_bundles::MAX_FILES,
    partners: 1024,
};
/// How long the shards and the ledger may take to join their channels and listen.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a switch waits for every shard to prepare, then to report the new revision.
const SWITCH_WAIT: Duration = Duration::from_secs(5);

/// Runs the appliance until SIGTERM or SIGINT.
pub fn run(args: ServeArgs) -> ExitCode {
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("appliance serve: {error}");
            return crate::exit::config_unusable();
        }
    };
    let level = match args.log_level {
        Some(level) => level.into(),
        None => crate::logging::parse_level(&config.logging.level),
    };
    let log_level = crate::logging::init(level, &config.logging.format);
    install_panic_exit();
    match serve(args, config, log_level) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("appliance serve: {error:#}");
            // A lost ledger stays lost however often the supervisor restarts: someone must
            // restore it, or choose to start afresh.
            if error.downcast_ref::<LostLedger>().is_some() {
                crate::exit::config_unusable()
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The ledger is missing from a state directory that served before.
#[derive(Debug, thiserror::Error)]
#[error(
    "the ledger {0} is missing from a state directory that served before, so every receipt, \
     charge and promotion it held would be forgotten and budgets would start from zero. \
     Restore ledger.sqlite from a backup (docs/runbook.md), or, if none exists, start with \
     --new-ledger to begin an empty ledger"
)]
struct LostLedger(String);

fn serve(
    args: ServeArgs,
    mut config: Config,
    log_level: crate::logging::LogLevel,
) -> anyhow::Result<()> {
    let overrides = reload::Overrides {
        listen: args.listen,
        shards: args.shards,
        admin_listen: args.admin_listen,
        log_level: args.log_level,
    };
    overrides.apply(&mut config);
    let root = State::resolve(args.state_dir.clone().or(config.server.state_dir.clone()));
    let checks = crate::preflight::run_checks(&config, &root);
    if args.check_config {
        crate::output::line(crate::preflight::render(&checks).trim_end());
        return crate::preflight::refuse_on_failure(&checks).map_err(anyhow::Error::msg);
    }
    crate::preflight::refuse_on_failure(&checks).map_err(anyhow::Error::msg)?;
    // On loopback alone the development defaults are what a first start is for: said
    // quietly (`appliance preflight` lists them). Reachable from elsewhere, they are warnings.
    let loopback_only =
        config.server.listen.ip().is_loopback() && config.admin.listen.ip().is_loopback();
    for check in checks
        .iter()
        .filter(|c| c.status != crate::preflight::Status::Pass)
    {
        if loopback_only
            && check
                .detail
                .starts_with(crate::preflight::DEVELOPMENT_DEFAULT)
        {
            tracing::info!(check = check.name, fix = %check.fix, "{}", check.detail);
        } else {
            tracing::warn!(check = check.name, fix = %check.fix, "{}", check.detail);
        }
    }
    let state = State::open_or_init(&root, &tf_state::server_names())?;

    let allowed = tf_dataplane::cpus::allowed().unwrap_or_else(|| vec![0]);
    let shards = match config.server.shards {
        0 => allowed.len(),
        n => n,
    };
    // Shards beyond the allowed CPUs share them round robin (useful for tests, not for speed).
    let placement: Vec<usize> = (0..shards).map(|i| allowed[i % allowed.len()]).collect();

    let signer = state.receipt_signer()?;
    let board = Arc::new(match &config.fleet {
        Some(_) => Board::new(shards).in_fleet(),
        None => Board::new(shards),
    });
    let ledger_path = state.path(layout::LEDGER);
    if !ledger_path.exists() {
        // Keys a start leaves behind tell a lost ledger from a state directory `init` made.
        let served_before = [layout::LOG_KEY, layout::WEBHOOK_KEY]
            .iter()
            .any(|file| state.path(file).exists());
        if served_before && !args.new_ledger {
            return Err(LostLedger(ledger_path.display().to_string()).into());
        }
        if served_before {
            tracing::warn!(
                path = %ledger_path.display(),
                "--new-ledger: starting an empty ledger in a state directory that served before \
                 (budgets start from zero, receipts from 1)"
            );
        } else {
            tracing::info!(path = %ledger_path.display(), "first start: creating the ledger");
        }
    }
    // The ledger thread's connection first: it creates and migrates the file.
    let ledger = SqliteLedger::open(&ledger_path)?;
    let book = Book::open(BundlesPlan {
        ledger: Box::new(SqliteLedger::open(&ledger_path)?),
        shards: board.clone(),
        trusted: crate::bundle_commands::trusted_authors(&config, &state)
            .map_err(anyhow::Error::msg)?,
        appliance_key: tf_bundles::AuthorKey::from_secret(&signer.secret_bytes()),
        limits: config.verify.limits(),
        switch_wait: SWITCH_WAIT,
        bundle_key_room: KEY_ROOM.bundle,
    })
    .context("loading the policy bundle in force")?;
    if let Some(bundle) = book.active().bundle.clone() {
        // The bundle in force decides tenants and budgets; the file's are for revision 0.
        config.tenants = bundle.content.tenants.clone();
        config.budgets = bundle.content.budgets.clone();
        if config.fleet.is_some() {
            tf_config::validate_leasable(
                &config.tenants,
                std::path::Path::new("the bundle in force"),
            )
            .context("fleet mode cannot lease the bundle in force's caps")?;
        }
        tracing::info!(
            revision = bundle.revision(),
            hash = %bundle.hash,
            "policy bundle in force: its tenants, budgets and policies apply ([[tenants]] and \
             [budgets] in the configuration file are used only before any bundle is promoted)"
        );
    }
    board.publish_policy(book.active());

    let onboarding = onboarding::plan(&config, &state)?;
    let server_config = tf_dataplane::tls::server_config(
        &state,
        &config.server,
        &config.tls,
        onboarding.is_some(),
    )?;
    let (sockets, bound) = tf_dataplane::bind_sockets(config.server.listen, shards)
        .with_context(|| format!("binding UDP {}", config.server.listen))?;
    let tenants = Arc::new(TenantTable::new(&config.tenants, shards));
    let keystore = KeyStore::new(&state);
    let every_tenant: Vec<String> = config.tenants.iter().map(|t| t.id.clone()).collect();
    let stored = keystore.registered_by(&every_tenant)?;
    for unreadable in &stored.unreadable {
        tracing::warn!("a registered verifying key was skipped: {unreadable}");
    }
    // The bundle's own registry is prepared by each shard from the policy in force.
    let stored_keys = stored.keys;

    let limits = config.verify.limits();
    let settings = ShardSettings {
        mailbox_capacity: config.scheduling.mailbox_capacity,
        quantum: config.scheduling.quantum as u64,
        batch_max: config.scheduling.batch_max,
        latency_budget: Micros(config.scheduling.latency_budget_ms as u64 * 1_000),
        key_room: KEY_ROOM,
        limits,
        costs: config.budgets.cost.costs(),
        charge_policies: config.budgets.policies(),
    };
    let ms = |value: usize| Duration::from_millis(value as u64);
    let driver_limits = DriverLimits {
        max_connections: config.server.max_connections,
        hold: HoldLimits {
            max_handshakes: config.server.max_handshakes,
            handshake_timeout: ms(config.server.handshake_timeout_ms),
            max_connections_per_tenant: config.server.max_connections_per_tenant,
            request_timeout: ms(config.server.request_timeout_ms),
            partial_bytes_per_connection: config.server.partial_request_kib_per_connection * 1024,
            partial_bytes_per_tenant: config.server.partial_request_kib_per_tenant * 1024,
        },
        wire: wire_limits(&config),
    };

    let terminate = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, terminate.clone())
            .context("installing the SIGTERM/SIGINT handler")?;
    }
    // Registered before anything slow, so an early SIGHUP waits instead of killing us.
    let reload_asked = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, reload_asked.clone())
        .context("installing the SIGHUP handler")?;
    let mut reloader =
        reload::Reloader::new(args.config.clone(), overrides, config.clone(), log_level);

    let mut supervisor = supervise::Supervisor::from_env(shards, std::time::Instant::now());
    supervisor.starting("shards joining their channels and listening");
    let metrics_hub = Arc::new(MetricsHub::new(every_tenant.clone(), shards));
    nudge::install().context("installing the executor wake-up signal handler")?;
    let mut nudger = nudge::Nudger::new(shards + 1, std::time::Instant::now());
    let (anchor_sender, anchor_inbox) = tf_seam::anchor_channel();
    let decisions = if config.decisions.record {
        let (sender, writer) = tf_decisions::writer::spawn(tf_decisions::writer::WriterSettings {
            path: state.path(layout::DECISIONS),
            run: unix_micros(),
            shards,
            retention_us: config.decisions.retention_us(),
            max_bytes: config.decisions.max_bytes(),
        })
        .context("opening the decision log")?;
        Some((sender, writer))
    } else {
        None
    };
    let (decision_sender, decision_writer) = decisions.unzip();
    let log = control_thread::LogPlan::new(&config, &state, &ledger_path)?;
    // Computed here rather than read from `log/vkey`, which the log worker writes only once
    // it runs: partner.toml and partners' `AboutQuery` must carry it from the start.
    let log_key = log.log.vkey();
    // Fleet mode: leases for the shards' grants (they admit capped requests from nothing until
    // the first arrive) and receipts shipped to the fleet's database.
    let fleet = match &config.fleet {
        Some(fleet) => Some(
            tf_control::fleet::FleetWorker::start(tf_control::fleet::FleetPlan {
                config: fleet.clone(),
                board: board.clone(),
                ledger: Box::new(SqliteLedger::open(&ledger_path)?),
                metrics: metrics_hub.clone(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                receipt_key: hex::encode(signer.public_key().to_bytes()),
                retention_us: config.ledger.retention_us(),
            })
            .context("starting the fleet worker")?,
        ),
        None => None,
    };
    let data_plane = DataPlane::launch(DataPlanePlan {
        board: board.clone(),
        metrics: metrics_hub.clone(),
        ledger: Box::new(ledger),
        receipt_secret: signer.secret_bytes(),
        server_config,
        sockets,
        placement: placement.clone(),
        io_memory_bytes: config.server.io_memory_kib * 1024,
        driver_limits,
        tenants: tenants.clone(),
        settings,
        lending: config.scheduling.lending(),
        budget_contact: config.budgets.contact.clone(),
        own_tenant: config.canary.enabled.then(|| config.canary.tenant.clone()),
        stored_keys: Arc::new(stored_keys),
        keystore,
        now_unix_us: unix_micros(),
        log: Some(tf_dataplane::LogFiles {
            dir: tf_log::LogDir::at(&state.path(layout::LOG_DIR)),
            checkpoint_interval: Duration::from_millis(config.log.checkpoint_interval_ms),
        }),
        log_key: Some(log_key.clone()),
        anchors: Some(anchor_inbox),
        decisions: decision_sender,
        desk: onboarding.as_ref().map(|plan| plan.desk.clone()),
    })?;

    let started = std::time::Instant::now();
    while !board.all_ready() {
        if board.stopped() > 0 {
            bail!("a shard stopped while starting; see the log above");
        }
        if terminate.load(Ordering::Acquire) {
            // Nothing was answered yet, so nothing can be lost by stopping here.
            tracing::info!("stopped while starting");
            return Ok(());
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            // Each executor's (thread, idle ticks), shards then the ledger: a thread of 0 never
            // started; ticks that stopped moving mean an executor asleep or stuck in a task.
            tracing::error!(
                timeout_s = STARTUP_TIMEOUT.as_secs(),
                executors = ?board.executor_ticks(),
                nudges = board.nudges(),
                "not every shard became ready in time; exiting so the supervisor restarts"
            );
            crate::exit::shard_failed();
        }
        nudger.tick(&board, std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(5));
    }
    if cfg!(feature = "without-ledger") {
        tracing::warn!(
            "MEASUREMENT BUILD: the without-ledger feature answers with receipts that are \
             stored nowhere and charges that are lost on restart; never use this build for \
             anything else"
        );
    }
    #[cfg(feature = "fault-injection")]
    match tf_shard::faults::active() {
        Some(faults) => tracing::warn!(
            "TEST BUILD: fault injection is on ({faults}); never use this build for anything \
             else"
        ),
        None => tracing::info!(
            "test build: fault injection is compiled in, and off (no TF_FAULT_* variable set)"
        ),
    }
    if cfg!(feature = "null-verifier") {
        tracing::warn!(
            "MEASUREMENT BUILD: the null-verifier feature answers every statement `valid` \
             without verifying it; never use this build for anything else"
        );
    }
    let scenario_handle = tf_control::scenarios::ScenarioHandle::new(
        state.path(layout::DECISIONS),
        (config.scenarios.enabled).then(|| config.scenarios.schedule.clone()),
    );
    let canary = canary::prepare(&config, &state, &signer, bound, &ledger_path)?;
    let mut book = book;
    if let Some(fleet) = &config.fleet {
        book.follow_fleet(fleet.clone());
    }
    if let Some(plan) = &canary.plan {
        book.guard_canary(
            tf_control::canary::CanaryGate::of(&plan.tenant, &plan.set),
            plan.handle.clone(),
        );
    }
    let admin = if config.admin.enabled {
        Some(control_thread::AdminPlan::new(
            &config,
            &state,
            metrics_hub.clone(),
            scenario_handle.clone(),
            canary.handle.clone(),
        )?)
    } else {
        None
    };
    let compliance = control_thread::compliance_plan(
        &config,
        &state,
        &ledger_path,
        anchor_sender,
        board.clone(),
        snapshot_context::context_of(
            config.clone(),
            args.config.as_deref(),
            root.clone(),
            board.clone(),
        )?,
    )?;
    let webhooks = control_thread::webhooks_plan(&config, &state, &ledger_path, board.clone())?;
    let control = control_thread::start(control_thread::ControlPlan {
        book,
        tenants,
        running: Running {
            tenants: config.tenants.clone(),
        },
        board: board.clone(),
        admin,
        log,
        compliance,
        webhooks,
        onboarding: match onboarding {
            Some(plan) => Some(control_thread::OnboardingAnswers {
                answering: plan.answering,
                receipt_public_key: signer.public_key().to_bytes(),
                log_key: log_key.clone(),
                ledger: Box::new(SqliteLedger::open(&ledger_path)?),
                keystore: KeyStore::new(&state),
                signer: state.receipt_signer()?,
                log_dir: (!cfg!(feature = "without-log"))
                    .then(|| tf_log::LogDir::at(&state.path(tf_state::layout::LOG_DIR))),
            }),
            None => None,
        },
        fleet: config.fleet.clone(),
        receipt_key: hex::encode(signer.public_key().to_bytes()),
    })?;
    if let Some(address) = control.admin_address {
        let scheme = control.admin_scheme;
        tracing::info!(
            %address,
            scheme,
            "admin server listening (/console, /api/v1, /metrics, /readyz, /livez)"
        );
    }
    let scenarios = if config.scenarios.enabled {
        let plan = tf_control::scenarios::ScenarioPlan {
            packs: scenario_packs(config.scenarios.dir.as_deref())?,
            dir: config.scenarios.dir.clone(),
            schedule: config.scenarios.schedule().map_err(anyhow::Error::msg)?,
            handle: scenario_handle,
            board: board.clone(),
            keystore: KeyStore::new(&state),
            cpu_seconds: config.scenarios.cpu_seconds,
            ledger: Some(ledger_path.clone()),
        };
        Some(
            tf_control::scenarios::ScenarioWorker::start(plan)
                .context("starting the scenario scheduler")?,
        )
    } else {
        None
    };
    let partner_file = partner_file::write(&state, bound, &signer, &log_key)?;
    let canary = canary
        .plan
        .map(tf_control::canary::CanaryWorker::start)
        .transpose()
        .context("starting the golden canary")?;
    print_hints(
        &state,
        &signer,
        &root,
        bound,
        &placement,
        &partner_file,
        control.admin_address.map(|a| (control.admin_scheme, a)),
    );
    supervisor.ready(bound, shards, &board, std::time::Instant::now());

    while !terminate.load(Ordering::Acquire) {
        if board.stopped() > 0 {
            tracing::error!("a shard stopped unexpectedly; exiting so the supervisor restarts");
            crate::exit::shard_failed();
        }
        if reload_asked.swap(false, Ordering::AcqRel) {
            supervisor.reloading();
            reloader.reload(&board);
            supervisor.reloaded();
        }
        let now = std::time::Instant::now();
        nudger.tick(&board, now);
        supervisor.tick(&board, now);
        std::thread::sleep(Duration::from_millis(20));
    }
    // The canary first: its requests would fail as the shards drain.
    if let Some(canary) = canary {
        canary.stop();
    }
    tracing::info!("shutting down: answering requests in flight, then closing connections");
    supervisor.stopping();
    board.begin_drain();
    // Keep waking any executor that sleeps past its timers until every shard has drained.
    while board.stopped() < shards {
        nudger.tick(&board, std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(5));
    }
    let failed = data_plane.join();
    // The shards published what they finally spent: the leases go back with it.
    if let Some(fleet) = fleet {
        fleet.stop();
    }
    // The shards held the only senders: the writer stores what they sealed, then ends.
    if let Some(writer) = decision_writer
        && writer.join().is_err()
    {
        tracing::error!("the decision log's writer failed while stopping");
    }
    if let Some(scenarios) = scenarios {
        scenarios.stop();
    }
    control.stop();
    if failed {
        bail!("a shard or the ledger failed while draining");
    }
    tracing::info!("stopped");
    Ok(())
}

fn print_hints(
    state: &State,
    signer: &tf_receipts::ReceiptSigner,
    root: &std::path::Path,
    bound: std::net::SocketAddr,
    placement: &[usize],
    partner_file: &std::path::Path,
    admin: Option<(&str, std::net::SocketAddr)>,
) {
    let created = if state.created {
        " (created: development CA, server and demo tenant certificates, receipt key)"
    } else {
        ""
    };
    let cpus: Vec<String> = placement.iter().map(usize::to_string).collect();
    crate::output::line(format!(
        "Trust Fabric appliance listening on {bound} (QUIC), {} shard(s) on CPU {}",
        placement.len(),
        cpus.join(",")
    ));
    crate::output::line(format!("  state:    {}{created}", root.display()));
    crate::output::line(format!(
        "  receipts: signed by key {} (`appliance keys show`)",
        signer.key_id().as_str()
    ));
    crate::output::line(format!(
        "  connect:  `{}` (reads {})",
        partner_command(root),
        partner_file.display()
    ));
    if let Some((scheme, admin)) = admin {
        let admin = tf_config::reachable_from_here(admin);
        let dev_token = root.join(tf_admin::auth::DEV_TOKEN_FILE);
        let sign_in = match dev_token.is_file() {
            true => format!("the development token is in {}", dev_token.display()),
            false => "sign in with an admin token".to_owned(),
        };
        crate::output::line(format!(
            "  console:  {scheme}://{admin}/console ({sign_in})"
        ));
        crate::output::line(format!(
            "  metrics:  {scheme}://{admin}/metrics (Prometheus); probes /readyz, /livez"
        ));
    }
    crate::output::line("  stop:     Ctrl-C or SIGTERM (answers requests in flight first)");
}

/// How to run the demo partner against this state directory: the `partner` binary installed
/// beside this one, else through cargo (a source checkout).
fn partner_command(root: &std::path::Path) -> String {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("partner")))
        .filter(|partner| partner.is_file());
    match beside {
        Some(partner) => format!("{} --state-dir {} demo", partner.display(), root.display()),
        None => format!(
            "cargo run --release --bin partner -- --state-dir {} demo",
            root.display()
        ),
    }
}

/// A panic anywhere is logged with its thread (the shard) and ends the process non-zero, so
/// the supervisor restarts it instead of it limping on with a dead shard.
fn install_panic_exit() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("main");
        tracing::error!(thread = name, "panic: {info}");
        default(info);
        crate::exit::shard_failed();
    }));
}

/// The scenario packs to run: every `*.toml` in `dir` (at most 100, by name), or the built-in
/// examples.
fn scenario_packs(dir: Option<&std::path::Path>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(dir) = dir else {
        return Ok(tf_control::scenarios::BUILT_IN_PACKS
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect());
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading [scenarios] dir {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    if files.len() > 100 {
        bail!(
            "[scenarios] dir {} holds {} packs; at most 100 run a night",
            dir.display(),
            files.len()
        );
    }
    // Results, trends and a night resumed after a restart go by the pack's name: two packs
    // of one name would be taken for each other.
    let mut named: std::collections::BTreeMap<String, String> = Default::default();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading scenario pack {}", path.display()))?;
            let source = path.display().to_string();
            let pack = tf_scenarios::Pack::parse(&text, &source)?;
            if let Some(first) = named.insert(pack.name.clone(), source.clone()) {
                bail!(
                    "scenario packs {first} and {source} are both named {:?}: give each its own \
                     name (results and trends are kept by name)",
                    pack.name
                );
            }
            Ok((source, text))
        })
        .collect()
}

/// The wire protocol's limits as `[verify]` sets them: what a partner's request (and a golden
/// canary request) may hold.
pub(crate) fn wire_limits(config: &Config) -> WireLimits {
    let limits = config.verify.limits();
    WireLimits {
        max_public_inputs: limits.max_public_inputs,
        max_message_bytes: limits.max_message_bytes,
        max_public_keys: limits.max_aggregate_keys,
        ..WireLimits::DEFAULT
    }
}

#[cfg(test)]
mod scenario_pack_tests {
    #[test]
    fn two_packs_of_one_name_are_refused_naming_both_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_, text) = tf_control::scenarios::BUILT_IN_PACKS[0];
        std::fs::write(dir.path().join("a.toml"), text).expect("written");
        assert_eq!(
            super::scenario_packs(Some(dir.path()))
                .expect("one pack")
                .len(),
            1
        );
        std::fs::write(dir.path().join("b.toml"), text).expect("written");
        let error = super::scenario_packs(Some(dir.path()))
            .expect_err("two of one name")
            .to_string();
        assert!(
            error.contains("a.toml") && error.contains("b.toml") && error.contains("both named"),
            "{error}"
        );
    }
}
