//! The control thread: one actix System running the control plane's actors and, when enabled,
//! the admin server. The shards never await its futures, nor it theirs: they meet on the board.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use actix::Actor;
use anyhow::Context as _;
use tf_admin::ApiState;
use tf_admin::auth::Tokens;
use tf_control::bundles::ServeTenants;
use tf_control::{Book, Bundles, Running};
use tf_metrics::MetricsHub;
use tf_seam::{Board, TenantTable};

/// The admin server's part of the plan.
pub struct AdminPlan {
    /// Bound by the caller, so a taken port fails start-up there.
    pub listener: TcpListener,
    /// Accepted tokens.
    pub tokens: Tokens,
    /// Shards' counters.
    pub metrics: Arc<MetricsHub>,
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
}

/// The running control thread.
pub struct ControlThread {
    thread: JoinHandle<()>,
    system: actix::System,
    admin: Option<actix_web::dev::ServerHandle>,
    /// Where the admin server listens, if it does.
    pub admin_address: Option<SocketAddr>,
}

/// Starts the control thread; returns once its actors and the admin server are running.
pub fn start(plan: ControlPlan) -> anyhow::Result<ControlThread> {
    let admin_address = match &plan.admin {
        Some(admin) => Some(admin.listener.local_addr()?),
        None => None,
    };
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            let system = actix::System::new();
            let started = system.block_on(async move {
                let bundles = Bundles::new(plan.book).start();
                bundles.do_send(ServeTenants {
                    table: plan.tenants,
                    running: plan.running,
                });
                let server = match plan.admin {
                    Some(admin) => {
                        let api =
                            ApiState::new(bundles.clone(), admin.tokens, plan.board, admin.metrics);
                        let server = tf_admin::serve(admin.listener, api)?;
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
                Ok::<_, std::io::Error>((actix::System::current(), server))
            });
            let failed = started.is_err();
            let _ = started_tx.send(started);
            if !failed && let Err(error) = system.run() {
                tracing::error!(%error, "the control thread stopped");
            }
        })
        .context("starting the control thread")?;
    let (system, admin) = started_rx
        .recv()
        .context("the control thread did not start")?
        .context("starting the admin server")?;
    Ok(ControlThread {
        thread,
        system,
        admin,
        admin_address,
    })
}

impl ControlThread {
    /// Stops the admin server (finishing requests in flight), then the actors, and joins.
    pub fn stop(self) {
        if let Some(admin) = self.admin {
            futures_lite::future::block_on(admin.stop(true));
        }
        self.system.stop();
        if self.thread.join().is_err() {
            tracing::error!("the control thread panicked");
        }
    }
}
