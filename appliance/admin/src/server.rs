//! The admin HTTP server: actix-web with one worker, on the control thread's System, away from
//! the shards' cores' hot loops. `/metrics` is the Prometheus text exposition, `/readyz` (or
//! `/healthz`) says whether the appliance takes requests and `/livez` whether it is alive,
//! `/api/v1` is the admin API (bearer tokens, per-route roles)
//! `/console` the ops console, and `/checkpoint` and `/tile/...` the transparency log.
//!
//! Nobody who can merely reach the port can hold it: every request passes the gate (its Host,
//! and the caller's right to send a body, checked before the body is read), headers must
//! arrive within 5 s and bodies within `[admin] body_timeout_ms`, each connection serves one
//! request, and the connection limit leaves room for many slow clients while health checks
//! are still answered.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use tf_metrics::MetricsHub;
use tf_seam::Board;

use crate::api::ApiState;
use crate::api::history::Sampler;
use crate::gate::{self, Gate, HEADER_TIMEOUT};
use crate::hosts::AllowedHosts;
use crate::storage_metrics::StoragePaths;

/// Concurrent admin connections; more wait in the kernel's backlog. Measured: 1000 allowed
/// uploads stalled after their first KiB cost about 37 KiB each (37 MiB in all) and left
/// `/healthz` answering at once. An unauthenticated connection lasts at most
/// [`HEADER_TIMEOUT`] (and its TLS handshake as long), so filling them takes a sustained flood
/// of new connections, not a few dozen slow ones.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long a closing connection may take to say goodbye.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How the server is exposed: from `[admin]`.
pub struct Options {
    /// The `Host` values it answers to.
    pub hosts: AllowedHosts,
    /// TLS, if on.
    pub tls: Option<rustls::ServerConfig>,
    /// How long an admitted request body may take to arrive.
    pub body_timeout: Duration,
    /// The transparency log's directory, served read-only; `None`: no log routes.
    pub log: Option<tf_log::LogDir>,
    /// The ledger and log, for the storage metrics and the receipt search; `None`: neither.
    pub storage: Option<StoragePaths>,
}

struct Shared {
    metrics: Arc<MetricsHub>,
    board: Arc<Board>,
    storage: Option<StoragePaths>,
    compliance: Option<tf_control::compliance::ComplianceHandle>,
    webhooks: Option<tf_control::webhooks::WebhooksHandle>,
    scenarios: Option<tf_control::scenarios::ScenarioHandle>,
    canary: Option<tf_control::canary::CanaryHandle>,
    failed_steps: Option<tf_control::desk::FailedSteps>,
}

async fn metrics(shared: web::Data<Shared>) -> HttpResponse {
    let mut text = shared.metrics.render(shared.board.nudges());
    let now_us = tf_seam::clock::unix_micros();
    crate::ledger_health_metrics::render(shared.board.storage(), now_us, &mut text);
    if let Some(storage) = &shared.storage {
        crate::storage_metrics::render(storage, tf_seam::clock::unix_micros(), &mut text);
    }
    if let Some(compliance) = &shared.compliance {
        crate::compliance_metrics::render(compliance, &mut text);
    }
    if let Some(webhooks) = &shared.webhooks {
        let now_us = tf_seam::clock::unix_micros();
        crate::webhook_metrics::render(&webhooks.status(), now_us, &mut text);
    }
    if let Some(scenarios) = &shared.scenarios {
        let scheduled = scenarios.schedule().is_some();
        crate::scenario_metrics::render(&scenarios.seen(), scheduled, &mut text);
    }
    if let Some(canary) = &shared.canary {
        crate::canary_metrics::render(&canary.status(), &mut text);
    }
    if let Some(failed) = &shared.failed_steps {
        render_failed_steps(failed, &mut text);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// `trust_fabric_partner_steps_failed_total{step, error}`: partners' onboarding steps that
/// failed at the appliance since it started (each also a `partner.step_failed` event).
fn render_failed_steps(failed: &tf_control::desk::FailedSteps, out: &mut String) {
    let name = "trust_fabric_partner_steps_failed_total";
    let mut page = tf_metrics::Page::default();
    page.family(
        name,
        "counter",
        "Partners' onboarding steps that failed at the appliance (an invite or terms request \
         refused), by step and error, since it started.",
    );
    for ((step, error), count) in failed.counts() {
        page.sample(name, &[("step", &step), ("error", &error)], count as f64);
    }
    out.push_str(&page.finish());
}

/// `/readyz` (and `/healthz`, its older name): 200 while the appliance takes new requests;
/// 503 with the reason while it starts, drains, cannot commit to its ledger (a storage fault,
/// with what to do) or has a shard that stopped or makes no progress. Load balancers send partners elsewhere on a 503.
async fn readyz(shared: web::Data<Shared>) -> HttpResponse {
    let board = &shared.board;
    if board.draining() {
        HttpResponse::ServiceUnavailable().body("draining\n")
    } else if board.stuck() {
        HttpResponse::ServiceUnavailable().body("a shard is not making progress\n")
    } else if board.stopped() > 0 {
        HttpResponse::ServiceUnavailable().body("a shard stopped\n")
    } else if let Some(fault) = board.storage().report() {
        HttpResponse::ServiceUnavailable().body(format!(
            "the ledger cannot commit ({}: {}); {}; new requests are answered Unavailable until it can\n",
            fault.fault, fault.error, fault.what_to_do
        ))
    } else if board.all_ready() {
        HttpResponse::Ok().body("ok\n")
    } else {
        HttpResponse::ServiceUnavailable().body("starting\n")
    }
}

/// `/livez`: 200 unless a shard makes no progress (the same test that stops the watchdog's
/// pings), so a supervisor restarts only what cannot recover; a draining appliance is alive.
async fn livez(shared: web::Data<Shared>) -> HttpResponse {
    if shared.board.stuck() {
        HttpResponse::ServiceUnavailable().body("a shard is not making progress\n")
    } else {
        HttpResponse::Ok().body("alive\n")
    }
}

/// The probes and `/metrics`, each answering GET and HEAD (actix routes HEAD apart).
fn probes(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/metrics")
                .route(web::get().to(metrics))
                .route(web::head().to(metrics)),
        )
        .service(
            web::resource(["/readyz", "/healthz"])
                .route(web::get().to(readyz))
                .route(web::head().to(readyz)),
        )
        .service(
            web::resource("/livez")
                .route(web::get().to(livez))
                .route(web::head().to(livez)),
        );
}

/// Serves on `listener` (bound by the caller, so a taken port is an error there), and starts
/// the overview's history sampler. Must be called inside the control thread's actix System;
/// the server runs until its handle stops it.
pub fn serve(
    listener: TcpListener,
    mut api: ApiState,
    options: Options,
) -> std::io::Result<Server> {
    api.secure_cookies = options.tls.is_some();
    api.ledger = options.storage.as_ref().map(|s| s.ledger.clone());
    api.history = Some(Sampler::new(api.metrics.clone(), api.board.clone()).start());
    let shared = web::Data::new(Shared {
        metrics: api.metrics.clone(),
        board: api.board.clone(),
        storage: options.storage,
        compliance: api.compliance.clone(),
        webhooks: api.webhooks.as_ref().map(|w| w.status.clone()),
        scenarios: api.scenarios.clone(),
        canary: api.canary.clone(),
        failed_steps: api.failed_steps.clone(),
    });
    let api = web::Data::new(api);
    let gate = web::Data::new(Gate {
        hosts: options.hosts,
        body_timeout: options.body_timeout,
    });
    let log = options.log.map(web::Data::new);
    let server = HttpServer::new(move || {
        let log = log.clone();
        App::new()
            .app_data(shared.clone())
            .app_data(api.clone())
            .app_data(gate.clone())
            .wrap(from_fn(gate::check))
            .configure(probes)
            .configure(crate::api::configure)
            .configure(crate::console::configure)
            .configure(|config| {
                if let Some(log) = log {
                    config.app_data(log);
                    crate::log::configure(config);
                }
            })
    })
    .workers(1)
    .max_connections(MAX_CONNECTIONS)
    // actix times only the first request's headers on a connection: a second request on a
    // kept-alive connection could trickle its headers for ever. One request per connection.
    .keep_alive(KeepAlive::Disabled)
    .client_request_timeout(HEADER_TIMEOUT)
    .client_disconnect_timeout(DISCONNECT_TIMEOUT)
    .disable_signals();
    let server = match options.tls {
        Some(tls) => server
            .tls_handshake_timeout(HEADER_TIMEOUT)
            .listen_rustls_0_23(listener, tls)?,
        None => server.listen(listener)?,
    };
    Ok(server.run())
}
