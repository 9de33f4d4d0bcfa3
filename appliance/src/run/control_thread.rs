//! The control thread: one actix System running the control plane's actors and, when enabled,
//! the admin server. The shards never await its futures, nor it theirs: they meet on the board.

use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix::Actor;
use anyhow::Context as _;
use tf_admin::auth::Tokens;
use tf_admin::{AllowedHosts, ApiState, WebhooksApi};
use tf_config::Config;
use tf_control::bundles::ServeTenants;
use tf_control::compliance::{Compliance, CompliancePlan};
use tf_control::log::TransparencyLog;
use tf_control::webhooks::{Outbox, OutboxPlan, SecretStore, WebhooksHandle};
use tf_control::worker::{Pace, Worker};
use tf_control::{Book, Bundles, Running};
use tf_ledger::{Ledger, SqliteLedger};
use tf_metrics::MetricsHub;
use tf_seam::{Board, TenantTable};
use tf_state::State;

use super::thread_name::named_arbiter;

/// The admin server's part of the plan.
pub struct AdminPlan {
    /// Bound before the control thread starts, so a taken port fails start-up there.
    pub listener: TcpListener,
    /// Accepted tokens.
    pub tokens: Tokens,
    /// Shards' counters.
    pub metrics: Arc<MetricsHub>,
    /// Partners' registered keys, for their onboarding steps.
    pub partner_keys: tf_state::KeyStore,
    /// Hosts, TLS and body deadline, from `[admin]`.
    pub options: tf_admin::Options,
    /// The scenario scheduler's results.
    pub scenarios: tf_control::scenarios::ScenarioHandle,
    /// The drift guard against this appliance's decision log.
    pub drift: tf_admin::api::DriftDesk,
    /// The golden canary.
    pub canary: tf_control::canary::CanaryHandle,
    /// What invites pin the appliance's CA by; `None` when `[tls]` names another PKI.
    pub invite_ca: Option<[u8; 16]>,
}

impl AdminPlan {
    /// Binds `[admin] listen` and reads everything `[admin]` names (tokens, certificate and
    /// key), so a bad setting stops start-up with its key.
    pub fn new(
        config: &Config,
        state: &State,
        metrics: Arc<MetricsHub>,
        scenarios: tf_control::scenarios::ScenarioHandle,
        canary: tf_control::canary::CanaryHandle,
    ) -> anyhow::Result<Self> {
        let admin = &config.admin;
        let listener = TcpListener::bind(admin.listen).with_context(|| {
            format!(
                "binding the admin server to {} (admin.listen)",
                admin.listen
            )
        })?;
        let bound = listener.local_addr()?;
        let tls = tf_admin::tls::server_config(&admin.tls_mode(), &config.tls, state)?;
        let hosts =
            AllowedHosts::new(&admin.hosts, bound, tls.is_some()).map_err(anyhow::Error::msg)?;
        if admin.hosts.is_empty() && bound.ip().is_unspecified() {
            tracing::warn!(
                %bound,
                "admin.hosts is empty and admin.listen is a wildcard address: only localhost, \
                 127.0.0.1 and [::1] are accepted as Host; add the names clients use"
            );
        }
        Ok(AdminPlan {
            invite_ca: invite_ca(config, state)?,
            partner_keys: tf_state::KeyStore::new(state),
            listener,
            tokens: Tokens::from_config(admin, state).map_err(anyhow::Error::msg)?,
            metrics,
            drift: tf_admin::api::DriftDesk::new(
                scenarios.decisions().to_owned(),
                state.path(tf_state::layout::LEDGER),
                tf_state::KeyStore::new(state),
            ),
            scenarios,
            canary,
            options: tf_admin::Options {
                hosts,
                tls,
                body_timeout: Duration::from_millis(admin.body_timeout_ms),
                log: Some(tf_log::LogDir::at(&state.path(tf_state::layout::LOG_DIR))),
                storage: Some(tf_admin::storage_metrics::StoragePaths {
                    ledger: state.path(tf_state::layout::LEDGER),
                    log: tf_log::LogDir::at(&state.path(tf_state::layout::LOG_DIR)),
                    retention_us: config.ledger.retention_us(),
                }),
            },
        })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.options.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// The first 16 bytes of the SHA-256 of the state directory's CA certificate (DER), which
/// invites carry for partners to pin it by while onboarding. `None` when `[tls]` names a
/// server certificate or client CA of another PKI: the appliance holds that CA's key only for
/// its own.
fn invite_ca(config: &Config, state: &State) -> anyhow::Result<Option<[u8; 16]>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use sha2::{Digest, Sha256};
    if !super::onboarding::own_pki(config) {
        return Ok(None);
    }
    let path = state.path(tf_state::layout::CA_CERT);
    let ca = CertificateDer::from_pem_file(&path)
        .with_context(|| format!("reading the CA certificate {}", path.display()))?;
    let digest = Sha256::digest(ca.as_ref());
    Ok(Some(digest[..16].try_into().expect("16 of 32 bytes")))
}

/// The transparency log worker's part of the plan.
pub struct LogPlan {
    /// The log follower, its state not yet loaded.
    pub log: TransparencyLog,
    /// Its own ledger connection.
    pub ledger: Box<dyn Ledger>,
}

impl LogPlan {
    /// The log in the state directory, signed with its `log.key` under `[log] origin`, read
    /// through a ledger connection of its own.
    pub fn new(config: &Config, state: &State, ledger_path: &Path) -> anyhow::Result<Self> {
        let secret = state.log_secret()?;
        let origin = match config.log.origin.as_str() {
            "" => tf_control::log::default_origin(
                &ed25519_dalek::SigningKey::from_bytes(&secret)
                    .verifying_key()
                    .to_bytes(),
            ),
            origin => origin.to_owned(),
        };
        let dir = tf_log::LogDir::open(&state.path(tf_state::layout::LOG_DIR))?;
        let interval = Duration::from_millis(config.log.checkpoint_interval_ms);
        let log = TransparencyLog::new(dir, &origin, &secret, interval)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(LogPlan {
            log,
            ledger: Box::new(SqliteLedger::open(ledger_path)?),
        })
    }
}

/// The compliance worker's plan: snapshots in `[compliance] dir` (default: the state
/// directory's `compliance/`) on `[compliance] schedule`, read and pruned through a ledger
/// connection of its own, anchored through `anchors`.
pub fn compliance_plan(
    config: &Config,
    state: &State,
    ledger_path: &Path,
    anchors: tf_seam::AnchorSender,
    board: Arc<Board>,
    context: Box<dyn Fn() -> tf_compliance::SnapshotContext + Send>,
) -> anyhow::Result<CompliancePlan> {
    let compliance = &config.compliance;
    let checkpoint_interval = Duration::from_millis(config.log.checkpoint_interval_ms);
    Ok(CompliancePlan {
        ledger: Box::new(SqliteLedger::open(ledger_path)?),
        log: tf_log::LogDir::at(&state.path(tf_state::layout::LOG_DIR)),
        signer: state.receipt_signer()?,
        packets_dir: compliance
            .dir
            .clone()
            .unwrap_or_else(|| state.path(tf_state::layout::COMPLIANCE_DIR)),
        schedule: compliance.schedule().map_err(anyhow::Error::msg)?,
        keep: compliance.keep,
        retention_us: config.ledger.retention_us(),
        configured_window_us: tf_config::longest_window_us(&config.tenants),
        // Two checkpoints and a margin: the period's receipts are committed and logged.
        settle: 2 * checkpoint_interval + Duration::from_secs(2),
        anchors: Some(anchors),
        // In fleet mode receipts are pruned only once shipped to the fleet's database.
        followers: match config.fleet {
            Some(_) => vec![
                tf_control::log::WORKER_NAME,
                tf_control::fleet::SHIPPING_CURSOR,
            ],
            None => vec![tf_control::log::WORKER_NAME],
        },
        context,
        board,
    })
}

/// The webhook outbox's plan: its own ledger connection, the endpoints' secrets and the
/// appliance's webhook key from the state directory, TLS with `[webhooks] ca_file` trusted
/// besides the host's roots, and `[webhooks]` deadline and window.
pub fn webhooks_plan(
    config: &Config,
    state: &State,
    ledger_path: &Path,
    board: Arc<Board>,
) -> anyhow::Result<OutboxPlan> {
    let webhooks = &config.webhooks;
    let extra_ca = match &webhooks.ca_file {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("reading {} (webhooks.ca_file)", path.display()))?,
        ),
        None => None,
    };
    let tls = tf_webhook_client::client_config(extra_ca.as_deref())
        .context("setting up TLS for webhooks (webhooks.ca_file)")?;
    let secrets_dir = state.path(tf_state::layout::WEBHOOK_SECRETS_DIR);
    // Endpoint secrets: owner-only, like the rest of the state directory's secrets (a folder
    // an earlier version made with the umask's mode is narrowed too).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&secrets_dir)
        .and_then(|()| {
            std::fs::set_permissions(&secrets_dir, std::fs::Permissions::from_mode(0o700))
        })
        .with_context(|| format!("creating {}", secrets_dir.display()))?;
    Ok(OutboxPlan {
        ledger: Box::new(SqliteLedger::open(ledger_path)?),
        board,
        secrets: SecretStore::at(&secrets_dir),
        key: Arc::new(ed25519_dalek::SigningKey::from_bytes(
            &state.webhook_secret()?,
        )),
        tls,
        limits: tf_webhook_client::PostLimits {
            timeout: Duration::from_millis(webhooks.timeout_ms),
            max_answer_bytes: tf_webhook_client::DEFAULT_MAX_ANSWER_BYTES,
        },
        window: webhooks.window,
        status: WebhooksHandle::default(),
    })
}

/// What the control thread starts from.
pub struct ControlPlan {
    /// The bundles' book, opened on the main thread.
    pub book: Book,
    /// The tenants the shards run, and their configured terms.
    pub tenants: Arc<TenantTable>,
    /// As configured (or as the bundle in force at start set them).
    pub running: Running,
    /// The board.
    pub board: Arc<Board>,
    /// The admin server, if enabled.
    pub admin: Option<AdminPlan>,
    /// The transparency log.
    pub log: LogPlan,
    /// Compliance snapshots and retention.
    pub compliance: CompliancePlan,
    /// Auditor webhooks.
    pub webhooks: OutboxPlan,
    /// Partners' onboarding requests, when this appliance takes them.
    pub onboarding: Option<OnboardingAnswers>,
    /// `[fleet]`: promotions go through the fleet's timeline, which this appliance follows.
    pub fleet: Option<tf_config::FleetConfig>,
    /// The receipt public key (hex), which this appliance's `[fleet] node` name belongs to.
    pub receipt_key: String,
}

/// What the control plane answers partners' onboarding requests with.
pub struct OnboardingAnswers {
    /// The requests and the certifier.
    pub answering: super::onboarding::Answering,
    /// The key receipts are signed with.
    pub receipt_public_key: [u8; 32],
    /// The transparency log's verifier key.
    pub log_key: String,
    /// A ledger connection of its own, for partners' failed steps and checklists.
    pub ledger: Box<dyn Ledger>,
    /// Partners' registered keys.
    pub keystore: tf_state::KeyStore,
    /// Signs completed checklists and evidence previews.
    pub signer: tf_receipts::ReceiptSigner,
    /// The transparency log's files, for evidence previews; `None` without the log.
    pub log_dir: Option<tf_log::LogDir>,
}

/// The running control thread.
pub struct ControlThread {
    thread: JoinHandle<()>,
    system: actix::System,
    /// Fleet mode: the follower of the fleet's policy timeline.
    follower: Option<tf_control::fleet_timeline::TimelineFollower>,
    admin: Option<actix_web::dev::ServerHandle>,
    /// Where the admin server listens, if it does.
    pub admin_address: Option<SocketAddr>,
    /// `https` or `http`, for the admin server's URLs.
    pub admin_scheme: &'static str,
}

/// Starts the control thread; returns once its actors and the admin server are running.
pub fn start(plan: ControlPlan) -> anyhow::Result<ControlThread> {
    let admin_address = match &plan.admin {
        Some(admin) => Some(admin.listener.local_addr()?),
        None => None,
    };
    let admin_scheme = plan.admin.as_ref().map_or("http", AdminPlan::scheme);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            let system = actix::System::new();
            let started = system.block_on(async move {
                let bundles = Bundles::new(plan.book).start();
                let follower = match plan.fleet.clone() {
                    Some(fleet) => Some(tf_control::fleet_timeline::TimelineFollower::start(
                        fleet,
                        plan.receipt_key.clone(),
                        bundles.clone(),
                        plan.board.clone(),
                    )?),
                    None => None,
                };
                // Each worker on a thread of its own: a slow disk delays only itself.
                if cfg!(feature = "without-log") {
                    tracing::warn!(
                        "MEASUREMENT BUILD: the without-log feature does not run the \
                         transparency log (no checkpoints, receipts unproven); never use this \
                         build for anything else"
                    );
                } else {
                    let log_thread = named_arbiter("log");
                    Worker::new(
                        plan.log.log,
                        plan.log.ledger,
                        plan.board.clone(),
                        Pace::default(),
                    )
                    .start_supervised(&log_thread.handle());
                }
                let (compliance, compliance_handle) =
                    Compliance::new(plan.compliance).map_err(std::io::Error::other)?;
                compliance.start_on(&named_arbiter("compliance").handle());
                let webhooks_status = plan.webhooks.status.clone();
                let webhooks_plan = plan.webhooks;
                let outbox = Outbox::start_in_arbiter(&named_arbiter("webhooks").handle(), |_| {
                    Outbox::new(webhooks_plan)
                });
                bundles.do_send(ServeTenants {
                    table: plan.tenants,
                    running: plan.running,
                });
                let failed_steps = tf_control::desk::FailedSteps::default();
                if let Some(answers) = plan.onboarding {
                    let worker = tf_control::desk::DeskWorker {
                        inbox: answers.answering.inbox,
                        bundles: bundles.clone(),
                        certifier: answers.answering.certifier,
                        receipt_public_key: answers.receipt_public_key,
                        log_key: answers.log_key,
                        ledger: answers.ledger,
                        keystore: answers.keystore,
                        signer: std::cell::RefCell::new(answers.signer),
                        log_dir: answers.log_dir,
                        failed_steps: failed_steps.clone(),
                    };
                    // Blocks on its inbox: a thread of its own, ended when the shards are.
                    std::thread::Builder::new()
                        .name("partner-desk".into())
                        .spawn(move || worker.run())?;
                }
                let server = match plan.admin {
                    Some(admin) => {
                        let api =
                            ApiState::new(bundles.clone(), admin.tokens, plan.board, admin.metrics)
                                .with_compliance(compliance_handle)
                                .with_scenarios(admin.scenarios)
                                .with_canary(admin.canary)
                                .with_drift(admin.drift)
                                .with_invites(admin.invite_ca)
                                .with_partner_keys(admin.partner_keys)
                                .with_failed_steps(failed_steps)
                                .with_fleet(plan.fleet.clone())
                                .with_webhooks(WebhooksApi::new(outbox, webhooks_status));
                        let server = tf_admin::serve(admin.listener, api, admin.options)?;
                        let handle = server.handle();
                        actix::spawn(async move {
                            if let Err(error) = server.await {
                                tracing::error!(%error, "the admin server stopped");
                            }
                        });
                        Some(handle)
                    }
                    None => None,
                };
                Ok::<_, std::io::Error>((actix::System::current(), server, follower))
            });
            let failed = started.is_err();
            let _ = started_tx.send(started);
            if !failed && let Err(error) = system.run() {
                tracing::error!(%error, "the control thread stopped");
            }
        })
        .context("starting the control thread")?;
    let (system, admin, follower) = started_rx
        .recv()
        .context("the control thread did not start")?
        .context("starting the admin server")?;
    Ok(ControlThread {
        thread,
        system,
        follower,
        admin,
        admin_address,
        admin_scheme,
    })
}

impl ControlThread {
    /// Stops the admin server (finishing requests in flight), then the actors, and joins.
    pub fn stop(self) {
        if let Some(admin) = self.admin {
            futures_lite::future::block_on(admin.stop(true));
        }
        // Before the actors: it may be asking them to switch.
        if let Some(follower) = self.follower {
            follower.stop();
        }
        self.system.stop();
        if self.thread.join().is_err() {
            tracing::error!("the control thread panicked");
        }
    }
}
