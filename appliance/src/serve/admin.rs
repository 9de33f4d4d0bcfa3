//! The admin HTTP server: actix-web with one worker on threads of its own, away from the
//! shards' cores' hot loops. `/metrics` is the Prometheus text exposition, `/healthz` says
//! whether every shard is serving, `/api/v1` is the admin API (bearer tokens, per-route roles).

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;

use super::control::Control;
use crate::control_plane::api::ApiState;
use crate::metrics::MetricsHub;

/// Concurrent admin connections; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 64;

/// A running admin server.
#[derive(Debug)]
pub struct AdminServer {
    handle: actix_web::dev::ServerHandle,
    thread: JoinHandle<()>,
    /// Where it listens.
    pub address: SocketAddr,
}

struct Shared {
    metrics: Arc<MetricsHub>,
    control: Arc<Control>,
}

async fn metrics(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(shared.metrics.render(shared.control.nudges()))
}

async fn healthz(shared: web::Data<Shared>) -> HttpResponse {
    let control = &shared.control;
    if control.draining() {
        HttpResponse::ServiceUnavailable().body("draining\n")
    } else if control.stuck() {
        HttpResponse::ServiceUnavailable().body("a shard is not making progress\n")
    } else if control.all_ready() {
        HttpResponse::Ok().body("ok\n")
    } else {
        HttpResponse::ServiceUnavailable().body("starting\n")
    }
}

/// Binds `listen` (on the calling thread, so a taken port is an error here) and serves on a
/// thread of its own.
pub fn start(
    listen: SocketAddr,
    metrics_hub: Arc<MetricsHub>,
    control: Arc<Control>,
    api: web::Data<ApiState>,
) -> anyhow::Result<AdminServer> {
    let listener = std::net::TcpListener::bind(listen)
        .with_context(|| format!("binding the admin server to {listen} (admin.listen)"))?;
    let address = listener.local_addr()?;
    let shared = web::Data::new(Shared {
        metrics: metrics_hub,
        control,
    });
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("admin".into())
        .spawn(move || {
            let system = actix_web::rt::System::new();
            let served = system.block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(shared.clone())
                        .app_data(api.clone())
                        .route("/metrics", web::get().to(metrics))
                        .route("/healthz", web::get().to(healthz))
                        .configure(crate::control_plane::api::configure)
                        .configure(crate::control_plane::console::configure)
                })
                .workers(1)
                .max_connections(MAX_CONNECTIONS)
                .disable_signals()
                .listen(listener)?
                .run();
                let _ = handle_tx.send(server.handle());
                server.await
            });
            if let Err(error) = served {
                tracing::error!(%error, "the admin server stopped");
            }
        })
        .context("starting the admin server thread")?;
    let handle = handle_rx.recv().context("the admin server did not start")?;
    Ok(AdminServer {
        handle,
        thread,
        address,
    })
}

impl AdminServer {
    /// Stops taking connections, finishes the requests in flight and joins the thread.
    pub fn stop(self) {
        futures_lite::future::block_on(self.handle.stop(true));
        if self.thread.join().is_err() {
            tracing::error!("the admin server thread panicked");
        }
    }
}
