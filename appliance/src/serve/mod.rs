//! `appliance serve`: the data plane. The main thread loads configuration and state, opens the
//! ledger and restores budgets from it, binds one SO_REUSEPORT socket per shard, starts one
//! pinned glommio executor per shard and one for the ledger, tells the user how to connect,
//! then waits for SIGTERM/SIGINT and drains.

mod admin;
mod clock;
mod connection;
mod control;
mod cpus;
mod driver;
mod home;
mod ledger;
mod notify;
mod nudge;
mod partner_file;
mod policy;
mod prepare;
mod priority;
mod published;
mod reload;
mod replies;
mod routes;
mod shard;
mod sockets;
mod staged;
mod supervise;
mod tenants;
mod tls;
#[cfg(feature = "without-ledger")]
mod unstored;
mod wakeup;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use glommio::channels::channel_mesh::MeshBuilder;
use glommio::channels::shared_channel;
use glommio::{LocalExecutorBuilder, Placement};
use quinn_proto::EndpointConfig;
use tf_config::Config;
use tf_ledger::{ChargeGroup, Ledger, SqliteLedger};
use tf_shard::{Micros, ShardSettings, TenantSlot};
use tf_wire::WireLimits;

pub use self::clock::unix_micros;
pub use self::control::Control;
pub use self::cpus::allowed as allowed_cpus;
use self::driver::DriverLimits;
pub use self::policy::ActivePolicy;
use self::shard::ShardPlan;
pub use self::sockets::BUFFER_BYTES as UDP_BUFFER_BYTES;
pub use self::staged::Staged;
pub use self::tenants::TenantTable;
use crate::cli::ServeArgs;
use crate::control_plane::api::ApiState;
use crate::control_plane::auth::Tokens;
use crate::control_plane::{ControlPlane, ControlPlanePlan};
use crate::state::{KeyStore, State, layout};

/// Capacity of each cross-shard channel (requests to a home shard, answers back).
const MESH_CAPACITY: usize = 1024;
/// Capacity of each channel to and from the ledger thread, in batches.
const LEDGER_CHANNEL_CAPACITY: usize = 64;
/// Charges are read back from the ledger summed per minute: calendar windows start on whole
/// minutes, so a group never straddles one.
const RESTORE_GROUP_US: u64 = 60_000_000;
/// Most verifying keys each shard keeps prepared.
const KEY_CAPACITY: usize = 1024;
/// Exit code when a shard panics or stops unasked (EX_SOFTWARE), so the supervisor restarts.
const EXIT_SHARD_FAILED: i32 = 70;
/// How long the shards and the ledger may take to join their channels and listen.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the appliance until SIGTERM or SIGINT.
pub fn run(args: ServeArgs) -> ExitCode {
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("appliance serve: {error}");
            return ExitCode::from(1);
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
            ExitCode::from(1)
        }
    }
}

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
    for check in checks
        .iter()
        .filter(|c| c.status != crate::preflight::Status::Pass)
    {
        tracing::warn!(check = check.name, fix = %check.fix, "{}", check.detail);
    }
    let state = State::open_or_init(&root, &crate::state::server_names())?;

    let allowed = cpus::allowed().unwrap_or_else(|| vec![0]);
    let shards = match config.server.shards {
        0 => allowed.len(),
        n => n,
    };
    // Shards beyond the allowed CPUs share them round robin (useful for tests, not for speed).
    let placement: Vec<usize> = (0..shards).map(|i| allowed[i % allowed.len()]).collect();

    let signer = state.receipt_signer()?;
    let control = Arc::new(Control::new(shards));
    let ledger_path = state.path(layout::LEDGER);
    if !state.created && !ledger_path.exists() {
        tracing::warn!(
            path = %ledger_path.display(),
            "no ledger in an existing state directory: starting an empty one (budgets start from zero)"
        );
    }
    let ledger = SqliteLedger::open(&ledger_path)?;
    let mut plane = ControlPlane::start(ControlPlanePlan {
        ledger_path: ledger_path.clone(),
        control: control.clone(),
        trusted: crate::bundle_commands::trusted_authors(&config, &state)
            .map_err(anyhow::Error::msg)?,
        appliance_key: tf_bundles::AuthorKey::from_secret(&signer.secret_bytes()),
        limits: config.verify.limits(),
    })
    .context("loading the policy bundle in force")?;
    if let Some(bundle) = plane.active().bundle.clone() {
        // The bundle in force decides tenants and budgets; the file's are for revision 0.
        config.tenants = bundle.content.tenants.clone();
        config.budgets = bundle.content.budgets.clone();
        tracing::info!(
            revision = bundle.revision(),
            hash = %bundle.hash,
            "policy bundle in force: its tenants, budgets and policies apply ([[tenants]] and \
             [budgets] in the configuration file are used only before any bundle is promoted)"
        );
    }
    control.publish_policy(plane.active());

    let server_config = tls::server_config(&state, &config.server, &config.tls)?;
    let endpoint_config = Arc::new(EndpointConfig::default());
    let (sockets, bound) = sockets::bind(config.server.listen, shards)
        .with_context(|| format!("binding UDP {}", config.server.listen))?;
    let tenants = Arc::new(TenantTable::new(&config.tenants, shards));
    let keystore = KeyStore::new(&state);
    let every_tenant: Vec<String> = config.tenants.iter().map(|t| t.id.clone()).collect();
    let mut stored_keys = keystore.registered_by(&every_tenant)?;
    // The bundle's key registry: prepared for every tenant; its policies say who may use what.
    let bundle_keys = plane
        .active()
        .bundle
        .as_ref()
        .map(|b| crate::control_plane::registry_keys(b))
        .unwrap_or_default();
    stored_keys.extend(bundle_keys.into_iter().map(|k| (k, every_tenant.clone())));
    let stored_keys = Arc::new(stored_keys);
    plane.serve_tenants(
        tenants.clone(),
        crate::control_plane::Running {
            tenants: config.tenants.clone(),
        },
    );

    let limits = config.verify.limits();
    let settings = ShardSettings {
        mailbox_capacity: config.scheduling.mailbox_capacity,
        quantum: config.scheduling.quantum as u64,
        batch_max: config.scheduling.batch_max,
        batch_window: Micros(config.scheduling.batch_window_us as u64),
        key_capacity: KEY_CAPACITY,
        limits,
        costs: config.budgets.cost.costs(),
        charge_policies: config.budgets.policies(),
    };
    let restored = Arc::new(restore_charges(&ledger, &tenants)?);
    let driver_limits = DriverLimits {
        max_connections: config.server.max_connections,
        wire: WireLimits {
            max_public_inputs: limits.max_public_inputs,
            max_message_bytes: limits.max_message_bytes,
            max_public_keys: limits.max_aggregate_keys,
            ..WireLimits::DEFAULT
        },
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
    let to_home = MeshBuilder::full(shards, MESH_CAPACITY);
    let replies = MeshBuilder::full(shards, MESH_CAPACITY);
    let metrics_hub = Arc::new(crate::metrics::MetricsHub::new(
        config.tenants.iter().map(|t| t.id.clone()).collect(),
        shards,
    ));
    let mut ledger_plan = ledger::LedgerPlan {
        ledger,
        receipt_secret: signer.secret_bytes(),
        from_shards: Vec::with_capacity(shards),
        to_shards: Vec::with_capacity(shards),
        metrics: metrics_hub.clone(),
        control: control.clone(),
    };
    nudge::install().context("installing the executor wake-up signal handler")?;
    let mut nudger = nudge::Nudger::new(shards + 1, std::time::Instant::now());
    let mut handles = Vec::with_capacity(shards);
    for (index, socket) in sockets.into_iter().enumerate() {
        let (to_ledger, ledger_from_shard) = shared_channel::new_bounded(LEDGER_CHANNEL_CAPACITY);
        let (ledger_to_shard, from_ledger) = shared_channel::new_bounded(LEDGER_CHANNEL_CAPACITY);
        ledger_plan.from_shards.push(ledger_from_shard);
        ledger_plan.to_shards.push(ledger_to_shard);
        let plan = ShardPlan {
            index,
            socket,
            endpoint_config: endpoint_config.clone(),
            server_config: server_config.clone(),
            driver_limits,
            tenants: tenants.clone(),
            settings,
            budget_contact: config.budgets.contact.clone(),
            restored: restored.clone(),
            stored_keys: stored_keys.clone(),
            keystore: keystore.clone(),
            to_home: to_home.clone(),
            replies: replies.clone(),
            to_ledger,
            from_ledger,
            #[cfg(feature = "without-ledger")]
            receipt_secret: signer.secret_bytes(),
            control: control.clone(),
            metrics: metrics_hub.clone(),
        };
        let control = control.clone();
        let handle = LocalExecutorBuilder::new(Placement::Fixed(placement[index]))
            .name(&format!("shard-{index}"))
            .io_memory(config.server.io_memory_kib * 1024)
            .preempt_timer(shard::PREEMPT_EVERY)
            .spawn(move || async move {
                let result = shard::run(plan).await;
                control.shard_stopped();
                result
            })
            .map_err(|e| {
                anyhow::anyhow!(
                    "starting shard {index} on CPU {} failed: {e} (io_uring with {} KiB of \
                     locked memory per shard; check RLIMIT_MEMLOCK with `ulimit -l`)",
                    placement[index],
                    config.server.io_memory_kib
                )
            })?;
        handles.push(handle);
    }

    let ledger_handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name("ledger")
        .io_memory(config.server.io_memory_kib * 1024)
        .spawn(move || ledger::run(ledger_plan))
        .map_err(|e| anyhow::anyhow!("starting the ledger thread failed: {e}"))?;

    let started = std::time::Instant::now();
    while !control.all_ready() {
        if control.stopped() > 0 {
            bail!("a shard stopped while starting; see the log above");
        }
        if terminate.load(Ordering::Acquire) {
            // Nothing was answered yet, so nothing can be lost by stopping here.
            tracing::info!("stopped while starting");
            return Ok(());
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            tracing::error!(
                timeout_s = STARTUP_TIMEOUT.as_secs(),
                "not every shard became ready in time; exiting so the supervisor restarts"
            );
            std::process::exit(EXIT_SHARD_FAILED);
        }
        nudger.tick(&control, std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(5));
    }
    if cfg!(feature = "without-ledger") {
        tracing::warn!(
            "MEASUREMENT BUILD: the without-ledger feature answers with receipts that are \
             stored nowhere and charges that are lost on restart; never use this build for \
             anything else"
        );
    }
    if cfg!(feature = "null-verifier") {
        tracing::warn!(
            "MEASUREMENT BUILD: the null-verifier feature answers every statement `valid` \
             without verifying it; never use this build for anything else"
        );
    }
    let admin = if config.admin.enabled {
        let api = actix_web::web::Data::new(ApiState {
            plane: std::sync::Mutex::new(plane),
            tokens: Tokens::from_config(&config.admin, &state).map_err(anyhow::Error::msg)?,
            control: control.clone(),
            metrics: metrics_hub.clone(),
            sessions: crate::control_plane::session::Sessions::default(),
        });
        let server = admin::start(
            config.admin.listen,
            metrics_hub.clone(),
            control.clone(),
            api,
        )?;
        tracing::info!(address = %server.address, "admin server listening (/metrics, /healthz, /api/v1)");
        Some(server)
    } else {
        None
    };
    let partner_file = partner_file::write(&state, bound, &signer)?;
    print_hints(
        &state,
        &signer,
        &root,
        bound,
        &placement,
        &partner_file,
        admin.as_ref().map(|a| a.address),
    );
    supervisor.ready(bound, shards, &control, std::time::Instant::now());

    while !terminate.load(Ordering::Acquire) {
        if control.stopped() > 0 {
            tracing::error!("a shard stopped unexpectedly; exiting so the supervisor restarts");
            std::process::exit(EXIT_SHARD_FAILED);
        }
        if reload_asked.swap(false, Ordering::AcqRel) {
            supervisor.reloading();
            reloader.reload(&control);
            supervisor.reloaded();
        }
        let now = std::time::Instant::now();
        nudger.tick(&control, now);
        supervisor.tick(&control, now);
        std::thread::sleep(Duration::from_millis(20));
    }
    tracing::info!("shutting down: answering requests in flight, then closing connections");
    supervisor.stopping();
    control.begin_drain();
    // Keep waking any executor that sleeps past its timers until every shard has drained.
    while control.stopped() < shards {
        nudger.tick(&control, std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut failed = false;
    for (index, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(shard = index, "{error}");
                failed = true;
            }
            Err(error) => {
                tracing::error!(shard = index, "{error}");
                failed = true;
            }
        }
    }
    if let Some(server) = admin {
        server.stop();
    }
    if let Err(error) = ledger_handle.join() {
        tracing::error!("the ledger thread failed: {error}");
        failed = true;
    }
    if failed {
        bail!("a shard or the ledger failed while draining");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Every capped tenant's charges still inside some window, read back from the ledger.
fn restore_charges(
    ledger: &SqliteLedger,
    tenants: &TenantTable,
) -> anyhow::Result<Vec<(TenantSlot, Vec<ChargeGroup>)>> {
    let now = clock::unix_micros();
    let mut restored = Vec::new();
    for (i, spec) in tenants.specs().iter().enumerate() {
        let Some(since) = tf_budgets::restore_from(&spec.caps, now) else {
            continue;
        };
        let groups = ledger.charges_since(&spec.id, since, RESTORE_GROUP_US)?;
        restored.push((TenantSlot(i as u32), groups));
    }
    Ok(restored)
}

fn print_hints(
    state: &State,
    signer: &tf_receipts::ReceiptSigner,
    root: &std::path::Path,
    bound: std::net::SocketAddr,
    placement: &[usize],
    partner_file: &std::path::Path,
    admin: Option<std::net::SocketAddr>,
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
        "  connect:  `cargo run --release --bin partner -- demo` from this directory \
         (reads {})",
        partner_file.display()
    ));
    if let Some(admin) = admin {
        crate::output::line(format!(
            "  metrics:  http://{admin}/metrics (Prometheus), http://{admin}/healthz"
        ));
    }
    crate::output::line("  stop:     Ctrl-C or SIGTERM (answers requests in flight first)");
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
        std::process::exit(EXIT_SHARD_FAILED);
    }));
}
