//! The admin HTTP server: actix-web with one worker, on the control thread's System, away from
//! the shards' cores' hot loops. `/metrics` is the Prometheus text exposition, `/healthz` says
//! whether every shard is serving, `/api/v1` is the admin API (bearer tokens, per-route roles)
//! and `/console` the ops console.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use tf_metrics::MetricsHub;
use tf_seam::Board;

use crate::api::ApiState;

/// Concurrent admin connections; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 64;

struct Shared {
    metrics: Arc<MetricsHub>,
    board: Arc<Board>,
}

async fn metrics(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(shared.metrics.render(shared.board.nudges()))
}

async fn healthz(shared: web::Data<Shared>) -> HttpResponse {
    let board = &shared.board;
    if board.draining() {
        HttpResponse::ServiceUnavailable().body("draining\n")
    } else if board.stuck() {
        HttpResponse::ServiceUnavailable().body("a shard is not making progress\n")
    } else if board.all_ready() {
        HttpResponse::Ok().body("ok\n")
    } else {
        HttpResponse::ServiceUnavailable().body("starting\n")
    }
}

/// Serves on `listener` (bound by the caller, so a taken port is an error there). Must be
/// called inside the control thread's actix System; the server runs until its handle stops it.
pub fn serve(listener: TcpListener, api: ApiState) -> std::io::Result<Server> {
    let shared = web::Data::new(Shared {
        metrics: api.metrics.clone(),
        board: api.board.clone(),
    });
    let api = web::Data::new(api);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .app_data(api.clone())
            .route("/metrics", web::get().to(metrics))
            .route("/healthz", web::get().to(healthz))
            .configure(crate::api::configure)
            .configure(crate::console::configure)
    })
    .workers(1)
    .max_connections(MAX_CONNECTIONS)
    .disable_signals()
    .listen(listener)?
    .run())
}
