//! The admin API (`/api/v1`): JSON over HTTP on the admin server, every route behind a bearer
//! token whose roles allow it. Every request and response body is a `tf_admin_api` type and the
//! routes are registered from [`tf_admin_api::ROUTES`], so the server, `appliance ctl`, the
//! console and the OpenAPI document share one contract. Promotions and rollbacks are messages
//! to the control plane's `Bundles` actor, so the admin server keeps answering (metrics, health)
//! while a bundle is checked and stored.

mod archive;
mod bundles;
mod canary;
mod compliance;
mod convert;
mod drift;
mod fleet;
mod fleet_switch;
pub mod history;
mod invites;
mod openapi;
mod partner_steps;
mod receipts;
mod scenarios;
mod search;
mod status;
pub(crate) mod summary;
mod terms;
mod webhooks;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use actix::{Addr, Handler, Message};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use tf_admin_api::{ErrorBody, ErrorCode, Operation, ROUTES, Route};
use tf_control::compliance::ComplianceHandle;
use tf_control::{Bundles, ControlError};
use tf_metrics::MetricsHub;
use tf_seam::Board;

use crate::auth::{Permission, Principal, Tokens};
use crate::session::{self, Session, Sessions};
use crate::throttle::{Source, Throttle, retry_after_seconds};
use history::Sampler;

pub use bundles::{diff_value, rollback_value, timeline_value};
pub use canary::{canary_reply, canary_value, lift_value, run_canary_value, silence_value};
pub use compliance::{ask_snapshot_value, snapshots_value};
pub use drift::{DriftDesk, drift_value};
pub use fleet::{fleet_reply, fleet_value};
pub use invites::{create_invite_value, invites_value, revoke_invite_value};
pub use receipts::receipt_value;
pub use scenarios::{scenarios_reply, scenarios_value};
pub use search::search_receipts_value;
pub use status::{budgets_value, history_value, overview_value, status_value, tenants_value};
pub use terms::{decline_terms_value, grant_terms_value, terms_requests_value};
pub use webhooks::{
    WebhooksApi, add_webhook_value, change_webhook_value, deliveries_value, replay_value,
    webhooks_value,
};

/// The largest request body read: a bundle archive at its largest. A larger body is answered
/// `bad-request` (from its `Content-Length`, before any of it is read).
const MAX_BODY_BYTES: usize = tf_bundles::MAX_TOTAL_BYTES as usize;

/// What the API's handlers share: addresses of the control plane's actors and read-only
/// handles on the board, never the actors' state.
pub struct ApiState {
    /// The `Bundles` actor (one promotion or rollback at a time).
    pub bundles: Addr<Bundles>,
    /// Messages sent to the actor and not answered yet (bounded by its mailbox).
    pub asking: AtomicUsize,
    /// Accepted tokens.
    pub tokens: Tokens,
    /// Shards' pulses.
    pub board: Arc<Board>,
    /// Shards' counters (overview, budgets).
    pub metrics: Arc<MetricsHub>,
    /// Console logins.
    pub sessions: Sessions,
    /// Unknown tokens by source address, sessions started by token.
    pub throttle: Throttle,
    /// Whether the server speaks TLS, so the session cookie is `Secure`.
    pub secure_cookies: bool,
    /// The compliance worker's status and requests; `None` where none runs (tests).
    pub compliance: Option<ComplianceHandle>,
    /// Snapshot archives being written (at most [`archive::MAX_ARCHIVES`]).
    pub archives: AtomicUsize,
    /// The webhook outbox; `None` where none runs (tests).
    pub webhooks: Option<WebhooksApi>,
    /// The overview's last hour; `None` until the server starts its sampler.
    pub history: Option<Addr<Sampler>>,
    /// The ledger file, searched through read-only connections of its own; `None`: no
    /// receipt search (tests).
    pub ledger: Option<PathBuf>,
    /// Receipt searches running (at most [`search::MAX_SEARCHES`]).
    pub searches: Arc<AtomicUsize>,
    /// The scenario scheduler's results; `None` where there are none (tests).
    pub scenarios: Option<tf_control::scenarios::ScenarioHandle>,
    /// Partners' failed steps, counted for `/metrics`.
    pub failed_steps: Option<tf_control::desk::FailedSteps>,
    /// The drift guard against this appliance's decision log; `None`: no drift route (tests).
    pub drift: Option<Arc<DriftDesk>>,
    /// The golden canary; `None` where none runs (tests).
    pub canary: Option<tf_control::canary::CanaryHandle>,
    /// Partners' registered keys, for their onboarding steps; `None`: steps not shown (tests).
    pub partner_keys: Option<tf_state::KeyStore>,
    /// What invites carry for partners to pin the appliance's CA by (the first 16 bytes of
    /// its SHA-256); `None`: the appliance cannot issue partners' certificates, and makes no
    /// invites.
    pub invite_ca: Option<[u8; 16]>,
    /// Fleet mode: promotions and rollbacks go through the fleet's timeline.
    pub fleet: Option<tf_config::FleetConfig>,
}

impl ApiState {
    /// The state over these handles.
    pub fn new(
        bundles: Addr<Bundles>,
        tokens: Tokens,
        board: Arc<Board>,
        metrics: Arc<MetricsHub>,
    ) -> Self {
        ApiState {
            bundles,
            asking: AtomicUsize::new(0),
            tokens,
            board,
            metrics,
            sessions: Sessions::default(),
            throttle: Throttle::default(),
            secure_cookies: false,
            compliance: None,
            archives: AtomicUsize::new(0),
            webhooks: None,
            history: None,
            ledger: None,
            searches: Arc::new(AtomicUsize::new(0)),
            scenarios: None,
            failed_steps: None,
            drift: None,
            canary: None,
            invite_ca: None,
            partner_keys: None,
            fleet: None,
        }
    }

    /// The same in fleet mode: promotions and rollbacks are claimed on the fleet's timeline
    /// first, and answer once every live appliance of the fleet switched.
    pub fn with_fleet(mut self, fleet: Option<tf_config::FleetConfig>) -> Self {
        self.fleet = fleet;
        self
    }

    /// The same, reading partners' registered keys for their onboarding steps from `keys`.
    pub fn with_partner_keys(mut self, keys: tf_state::KeyStore) -> Self {
        self.partner_keys = Some(keys);
        self
    }

    /// The same, making invites that pin the CA by `fingerprint`.
    pub fn with_invites(mut self, fingerprint: Option<[u8; 16]>) -> Self {
        self.invite_ca = fingerprint;
        self
    }

    /// The same, judging drift through `desk`.
    pub fn with_drift(mut self, desk: DriftDesk) -> Self {
        self.drift = Some(Arc::new(desk));
        self
    }

    /// The same, serving the golden canary's status through `handle`.
    pub fn with_canary(mut self, handle: tf_control::canary::CanaryHandle) -> Self {
        self.canary = Some(handle);
        self
    }

    /// The same, counting partners' failed steps from `counts` in `/metrics`.
    pub fn with_failed_steps(mut self, counts: tf_control::desk::FailedSteps) -> Self {
        self.failed_steps = Some(counts);
        self
    }

    /// The same, serving the scenario scheduler's results through `handle`.
    pub fn with_scenarios(mut self, handle: tf_control::scenarios::ScenarioHandle) -> Self {
        self.scenarios = Some(handle);
        self
    }

    /// The same, serving auditor webhooks through `api`.
    pub fn with_webhooks(mut self, api: WebhooksApi) -> Self {
        self.webhooks = Some(api);
        self
    }

    /// The same, serving compliance snapshots from `handle`.
    pub fn with_compliance(mut self, handle: ComplianceHandle) -> Self {
        self.compliance = Some(handle);
        self
    }
}

/// An error answer: the contract's [`ErrorBody`], answered with its code's status, with
/// `WWW-Authenticate: Bearer` for `unauthenticated` and `Retry-After` for `busy`.
#[derive(Debug)]
pub struct ApiError(pub ErrorBody);

/// What a route's handler answers: its reply as JSON, or an error body.
type Answer<T> = Result<web::Json<T>, ApiError>;

/// Registers every route of [`ROUTES`] with its handler, and answers everything else under
/// `/api` with the `not-found` error body: another method on a route's path, and any other
/// path. A path, query or JSON body actix cannot read becomes a `bad-request` error body in
/// the API's words, which the handler answers once the caller is known.
pub fn configure(config: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in &ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path)
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::JsonConfig::default().error_handler(json_error));
        for route in ROUTES.iter().filter(|r| r.path == path) {
            match handler(route) {
                Some(handler) => resource = resource.route(handler),
                // A route the contract added that this server does not answer yet (a test
                // checks there is none).
                None => tracing::error!(path = route.path, "admin API route without a handler"),
            }
        }
        let methods: Vec<&'static str> = ROUTES
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.method.as_str())
            .collect();
        resource = resource.default_service(web::to(move |request: HttpRequest| {
            let answer = other_method(&request, &methods);
            async move { answer }
        }));
        config.service(resource);
    }
    config.service(web::resource(["/api", "/api/{tail:.*}"]).to(no_route));
}

/// A method the path does not take.
fn other_method(request: &HttpRequest, methods: &[&str]) -> HttpResponse {
    ApiError(ErrorBody::new(
        ErrorCode::NotFound,
        format!(
            "{} takes {}, not {}",
            request.path(),
            methods.join(" and "),
            request.method()
        ),
    ))
    .error_response()
}

/// A path under `/api` that is no route.
async fn no_route(request: HttpRequest) -> HttpResponse {
    ApiError(ErrorBody::new(
        ErrorCode::NotFound,
        format!(
            "no route at {}: GET /api/v1/openapi.json lists them",
            request.path()
        ),
    ))
    .error_response()
}

/// A path parameter that did not parse: what serde said of it.
fn path_error(error: PathError, _: &HttpRequest) -> actix_web::Error {
    let detail = match error {
        PathError::Deserialize(e) => e.to_string(),
        _ => "not understood".to_owned(),
    };
    ApiError(ErrorBody::new(ErrorCode::BadRequest, detail)).into()
}

/// A query that did not parse: what serde said of it.
fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let detail = match error {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        _ => "not understood".to_owned(),
    };
    ApiError(ErrorBody::new(ErrorCode::BadRequest, detail)).into()
}

/// A JSON body that could not be read.
fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let detail = match error {
        JsonPayloadError::Deserialize(e) => e.to_string(),
        JsonPayloadError::ContentType => "send it as application/json".to_owned(),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            format!("larger than {limit} bytes")
        }
        _ => "not read".to_owned(),
    };
    ApiError(ErrorBody::new(ErrorCode::BadRequest, detail)).into()
}

/// The handler of `route`, guarded by its method; `None` for an operation this server does not
/// know.
fn handler(route: &Route) -> Option<actix_web::Route> {
    let method = match route.method {
        tf_admin_api::Method::Get => web::get(),
        tf_admin_api::Method::Post => web::post(),
        _ => return None,
    };
    Some(match route.operation {
        Operation::Status => method.to(status::status),
        Operation::Overview => method.to(status::overview),
        Operation::Tenants => method.to(status::tenants),
        Operation::Budgets => method.to(status::budgets),
        Operation::Timeline => method.to(bundles::timeline),
        Operation::Diff => method.to(bundles::diff),
        Operation::Validate => method.to(bundles::validate),
        Operation::Promote => method.to(bundles::promote),
        Operation::Rollback => method.to(bundles::rollback),
        Operation::Receipt => method.to(receipts::receipt),
        Operation::OpenApi => method.to(openapi::openapi),
        Operation::Snapshots => method.to(compliance::snapshots),
        Operation::AskSnapshot => method.to(compliance::ask_snapshot),
        Operation::SnapshotArchive => method.to(archive::archive),
        Operation::Webhooks => method.to(webhooks::list),
        Operation::AddWebhook => method.to(webhooks::add),
        Operation::ChangeWebhook => method.to(webhooks::change),
        Operation::Deliveries => method.to(webhooks::deliveries),
        Operation::ReplayWebhook => method.to(webhooks::replay),
        Operation::OverviewHistory => method.to(status::history),
        Operation::SearchReceipts => method.to(search::search),
        Operation::Scenarios => method.to(scenarios::scenarios),
        Operation::Drift => method.to(drift::drift),
        Operation::Canary => method.to(canary::canary),
        Operation::RunCanary => method.to(canary::run_canary),
        Operation::SilenceCanary => method.to(canary::silence),
        Operation::LiftSilence => method.to(canary::lift),
        Operation::ResetCanaryBaseline => method.to(canary::reset_baseline),
        Operation::Invites => method.to(invites::invites),
        Operation::CreateInvite => method.to(invites::create),
        Operation::RevokeInvite => method.to(invites::revoke),
        Operation::TermsRequests => method.to(terms::list),
        Operation::GrantTerms => method.to(terms::grant),
        Operation::DeclineTerms => method.to(terms::decline),
        Operation::Fleet => method.to(fleet::fleet),
        _ => return None,
    })
}

/// The caller, if its bearer token (or console session) is known and its roles allow
/// `permission`; else the error to answer. A change made with a console session must carry
/// the session's CSRF token in `X-CSRF-Token`. Decided from the headers alone, so the gate
/// calls it before a body is read. An unknown bearer token counts against its source address
/// ([`Throttle`]); while the address is blocked no token from it is looked at.
pub fn authorize(
    request: &HttpRequest,
    state: &ApiState,
    permission: Permission,
) -> Result<Principal, ErrorBody> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let principal = match presented {
        Some(token) => authenticate(request, state, token, Instant::now())?,
        None => {
            let Some(session) = console_session(request, state) else {
                return Err(ErrorBody::new(
                    ErrorCode::Unauthenticated,
                    "send `Authorization: Bearer <token>`",
                ));
            };
            if !matches!(*request.method(), Method::GET | Method::HEAD) {
                let csrf = request
                    .headers()
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !session::csrf_matches(&session, csrf) {
                    return Err(ErrorBody::new(
                        ErrorCode::Csrf,
                        "a change from the console must carry the session's X-CSRF-Token: \
                         reload the page and try again",
                    ));
                }
            }
            session.principal
        }
    };
    may(&principal, permission)?;
    Ok(principal)
}

/// The principal `token` belongs to, unless its source address is blocked; an unknown token
/// counts against the address.
pub fn authenticate(
    request: &HttpRequest,
    state: &ApiState,
    token: &str,
    now: Instant,
) -> Result<Principal, ErrorBody> {
    let source = Source::of(request.peer_addr());
    if let Err(wait) = state.throttle.sources.check(&source, now) {
        return Err(ErrorBody::too_many_attempts(retry_after_seconds(wait)));
    }
    if let Some(principal) = state.tokens.authenticate(token) {
        return Ok(principal.clone());
    }
    if let Some(block) = state.throttle.sources.count(&source, now) {
        tracing::warn!(
            peer = ?request.peer_addr().map(|p| p.ip()),
            seconds = block.as_secs(),
            "unknown admin tokens: this address waits before its next attempt"
        );
    }
    Err(ErrorBody::new(
        ErrorCode::Unauthenticated,
        "the token is not one this appliance accepts",
    ))
}

/// The console session a request's cookie names, if it is live.
pub fn console_session(request: &HttpRequest, state: &ApiState) -> Option<Session> {
    session_id(request).and_then(|id| state.sessions.find(id))
}

/// The session id in a request's cookie, live or not.
pub fn session_id(request: &HttpRequest) -> Option<&str> {
    let header = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok());
    session::cookie_value(header)
}

/// Whether `principal` may do `permission`; else the `forbidden` error.
pub fn may(principal: &Principal, permission: Permission) -> Result<(), ErrorBody> {
    if principal.may(permission) {
        return Ok(());
    }
    Err(ErrorBody::new(
        ErrorCode::Forbidden,
        format!(
            "{} may not {}: ask for a token with a role that may",
            principal.name,
            permission.describe()
        ),
    ))
}

/// The HTTP status an error is answered with.
pub fn status_of(error: &ErrorBody) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The error for a failed promotion, rollback or read of the control plane's book.
pub fn control_error(error: &ControlError) -> ErrorBody {
    match error {
        ControlError::Refused(refusal) => {
            ErrorBody::refused(refusal.0.iter().map(convert::problem).collect())
        }
        ControlError::NeverActive { .. } | ControlError::NoPrevious => {
            ErrorBody::new(ErrorCode::NoSuchRollback, error.to_string())
        }
        ControlError::NotStored { .. } => ErrorBody::new(ErrorCode::NotFound, error.to_string()),
        ControlError::Fleet(_) => ErrorBody::new(ErrorCode::Busy, error.to_string()),
        ControlError::Stopped => ErrorBody::new(ErrorCode::Stopping, error.to_string()),
        ControlError::DriftBlocked { .. } => {
            ErrorBody::new(ErrorCode::DriftBlocked, error.to_string())
        }
        ControlError::NotPrepared { .. } => {
            tracing::error!(%error, "a switch was not prepared");
            ErrorBody::new(ErrorCode::NotPrepared, error.to_string())
        }
        ControlError::Terms { reason, detail } => terms::terms_refusal(reason, detail),
        _ => {
            tracing::error!(%error, "control plane failure");
            ErrorBody::new(ErrorCode::Internal, error.to_string())
        }
    }
}

/// A part of the request actix could not read (a path or query parameter that does not parse,
/// a body too large), as `bad-request`, or `request-timeout` for a body that did not arrive
/// in time. Handlers take their parts as `Result`s and look at them only after the caller is
/// authorized: nothing unauthenticated is told about parsing.
fn extracted<T>(part: &str, value: Result<T, actix_web::Error>) -> Result<T, ErrorBody> {
    value.map_err(|e| {
        if let Some(ApiError(said)) = e.as_error::<ApiError>() {
            ErrorBody::new(said.error, format!("{part}: {}", said.message))
        } else if crate::deadline::expired(&e) {
            ErrorBody::new(
                ErrorCode::RequestTimeout,
                format!(
                    "{part} did not arrive within [admin] body_timeout_ms: send it again from \
                     a faster link, or raise the timeout"
                ),
            )
        } else {
            ErrorBody::new(ErrorCode::BadRequest, format!("{part}: {e}"))
        }
    })
}

/// Asks the `Bundles` actor. Past its mailbox's worth of unanswered questions the caller is
/// told the control plane is busy instead of waiting.
async fn ask<M>(state: &ApiState, message: M) -> Result<M::Result, ErrorBody>
where
    M: Message + Send + 'static,
    M::Result: Send,
    Bundles: Handler<M>,
{
    if state.asking.fetch_add(1, Ordering::AcqRel) >= tf_control::bundles::MAILBOX {
        state.asking.fetch_sub(1, Ordering::AcqRel);
        return Err(ErrorBody::new(
            ErrorCode::Busy,
            "the control plane is busy with other promotions and rollbacks: retry in a few seconds",
        ));
    }
    let answer = state.bundles.send(message).await;
    state.asking.fetch_sub(1, Ordering::AcqRel);
    answer.map_err(|_| control_error(&ControlError::Stopped))
}

/// [`ask`] for a message the actor may refuse, its refusal as the error to answer.
async fn ask_book<M, T>(state: &ApiState, message: M) -> Result<T, ErrorBody>
where
    M: Message<Result = Result<T, ControlError>> + Send + 'static,
    T: Send + 'static,
    Bundles: Handler<M>,
{
    ask(state, message)
        .await?
        .map_err(|error| control_error(&error))
}

impl From<ErrorBody> for ApiError {
    fn from(body: ErrorBody) -> Self {
        ApiError(body)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.error, self.0.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code()).json(&self.0);
        let headers = response.headers_mut();
        if self.0.error == ErrorCode::Unauthenticated {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.0.error == ErrorCode::Busy {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(ErrorCode::BUSY_RETRY_AFTER_SECONDS),
            );
        }
        if let Some(seconds) = self.0.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests;
