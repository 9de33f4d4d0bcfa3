//! The admin API (`/api/v1`): JSON over HTTP on the admin server, every route behind a bearer
//! token whose roles allow it. Promotions and rollbacks run on a blocking thread so the admin
//! server keeps answering (metrics, health) while a bundle is checked and stored.

use std::sync::{Arc, Mutex};

use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Permission, Principal, Tokens};
use super::session::{self, Session, Sessions};
use super::{ControlError, ControlPlane};
use crate::metrics::MetricsHub;
use crate::serve::Control;

/// The OpenAPI description of these routes.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What the API's handlers share.
pub struct ApiState {
    /// The control actor (one promotion or rollback at a time).
    pub plane: Mutex<ControlPlane>,
    /// Accepted tokens.
    pub tokens: Tokens,
    /// Shards' pulses.
    pub control: Arc<Control>,
    /// Shards' counters (overview, budgets).
    pub metrics: Arc<MetricsHub>,
    /// Console logins.
    pub sessions: Sessions,
}

/// Every route: method, path, what it needs.
#[cfg(test)]
const ROUTES: [(&str, &str, Permission); 11] = [
    ("GET", "/api/v1/status", Permission::Read),
    ("GET", "/api/v1/overview", Permission::Read),
    ("GET", "/api/v1/tenants", Permission::Read),
    ("GET", "/api/v1/budgets", Permission::Read),
    ("GET", "/api/v1/bundles", Permission::Read),
    ("GET", "/api/v1/bundles/{revision}/diff", Permission::Read),
    ("POST", "/api/v1/bundles/validate", Permission::Validate),
    ("POST", "/api/v1/bundles/promote", Permission::Promote),
    ("POST", "/api/v1/bundles/rollback", Permission::Rollback),
    ("GET", "/api/v1/receipts/{seq}", Permission::ReadReceipts),
    ("GET", "/api/v1/openapi.json", Permission::Read),
];

/// Registers the API's routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PayloadConfig::new(
            tf_bundles::MAX_TOTAL_BYTES as usize,
        ))
        .route("/api/v1/status", web::get().to(status))
        .route("/api/v1/overview", web::get().to(overview))
        .route("/api/v1/tenants", web::get().to(tenants))
        .route("/api/v1/budgets", web::get().to(budgets))
        .route("/api/v1/bundles", web::get().to(timeline))
        .route("/api/v1/bundles/{revision}/diff", web::get().to(diff))
        .route("/api/v1/bundles/validate", web::post().to(validate))
        .route("/api/v1/bundles/promote", web::post().to(promote))
        .route("/api/v1/bundles/rollback", web::post().to(rollback))
        .route("/api/v1/receipts/{seq}", web::get().to(receipt))
        .route("/api/v1/openapi.json", web::get().to(openapi));
}

/// The caller, if its bearer token (or console session) is known and its roles allow
/// `permission`; else the answer. A change made with a console session must carry the
/// session's CSRF token in `X-CSRF-Token`.
pub fn authorize(
    request: &HttpRequest,
    state: &ApiState,
    permission: Permission,
) -> Result<Principal, HttpResponse> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let principal = match presented {
        Some(token) => state
            .tokens
            .authenticate(token)
            .cloned()
            .ok_or_else(|| unauthenticated("the token is not one this appliance accepts"))?,
        None => {
            let Some(session) = console_session(request, state) else {
                return Err(unauthenticated("send `Authorization: Bearer <token>`"));
            };
            if !matches!(*request.method(), Method::GET | Method::HEAD) {
                let csrf = request
                    .headers()
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !session::csrf_matches(&session, csrf) {
                    return Err(problem(
                        StatusCode::FORBIDDEN,
                        "csrf",
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

/// The console session a request's cookie names, if it is live.
pub fn console_session(request: &HttpRequest, state: &ApiState) -> Option<Session> {
    session_id(request).and_then(|id| state.sessions.find(id))
}

/// The session id in a request's cookie, live or not.
pub fn session_id(request: &HttpRequest) -> Option<&str> {
    let header = request
        .headers()
        .get(actix_web::http::header::COOKIE)
        .and_then(|v| v.to_str().ok());
    session::cookie_value(header)
}

/// Whether `principal` may do `permission`; else the 403 answer.
pub fn may(principal: &Principal, permission: Permission) -> Result<(), HttpResponse> {
    if principal.may(permission) {
        return Ok(());
    }
    Err(problem(
        StatusCode::FORBIDDEN,
        "forbidden",
        &format!(
            "{} may not {}: ask for a token with a role that may",
            principal.name,
            describe(permission)
        ),
    ))
}

fn describe(permission: Permission) -> &'static str {
    match permission {
        Permission::Read => "read status and bundles",
        Permission::ReadReceipts => "read receipts (auditor or sre)",
        Permission::Validate => "validate bundles (policy-author or sre)",
        Permission::Promote => "promote bundles (policy-author)",
        Permission::Rollback => "roll back (sre or policy-author)",
    }
}

fn unauthenticated(message: &str) -> HttpResponse {
    let mut response = problem(StatusCode::UNAUTHORIZED, "unauthenticated", message);
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        actix_web::http::header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// A JSON error answer.
pub fn problem(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": code, "message": message }))
}

/// The answer for a failed promotion or rollback.
pub fn control_error(error: &ControlError) -> HttpResponse {
    match error {
        ControlError::Refused(refusal) => HttpResponse::UnprocessableEntity().json(json!({
            "error": "refused",
            "message": "the bundle was refused; the bundle in force is unchanged",
            "problems": refusal.0.iter().map(|p| json!({
                "code": p.code(),
                "message": p.to_string(),
            })).collect::<Vec<Value>>(),
        })),
        ControlError::NeverActive { .. } | ControlError::NoPrevious => {
            problem(StatusCode::CONFLICT, "no-such-rollback", &error.to_string())
        }
        ControlError::NotStored { .. } => {
            problem(StatusCode::NOT_FOUND, "not-found", &error.to_string())
        }
        ControlError::NotPrepared { .. } => {
            tracing::error!(%error, "a switch was not prepared");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-prepared",
                &error.to_string(),
            )
        }
        ControlError::Storage(_) | ControlError::NotRepublished { .. } => {
            tracing::error!(%error, "control plane failure");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &error.to_string(),
            )
        }
    }
}

/// Runs `work` on the control actor, on a blocking thread.
async fn with_plane<R: Send + 'static>(
    state: &web::Data<ApiState>,
    work: impl FnOnce(&mut ControlPlane) -> R + Send + 'static,
) -> Result<R, HttpResponse> {
    let state = state.clone();
    web::block(move || {
        let mut plane = state.plane.lock().unwrap_or_else(|e| e.into_inner());
        work(&mut plane)
    })
    .await
    .map_err(|_| {
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the control actor failed",
        )
    })
}

/// Answers with `value`, or with the error answer it became.
fn reply(value: Result<Value, HttpResponse>) -> HttpResponse {
    match value {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(answer) => answer,
    }
}

/// Flattens an answer from the control actor.
fn settled<T>(result: Result<Result<T, ControlError>, HttpResponse>) -> Result<T, HttpResponse> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(control_error(&error)),
        Err(answer) => Err(answer),
    }
}

/// The bundle in force, what a rollback would republish, and each shard's revision.
pub async fn status_value(state: &web::Data<ApiState>) -> Result<Value, HttpResponse> {
    let pulses = state.control.pulses();
    let mut summary = with_plane(state, |plane| {
        let active = plane.active();
        let bundle = active.bundle.as_ref().map(|b| {
            json!({
                "author": b.manifest.author,
                "note": b.manifest.note,
                "tickets": b.manifest.tickets,
                "created": b.manifest.created,
                "republishes": b.manifest.republishes,
                "tenants": b.content.tenants.iter().map(|t| &t.id).collect::<Vec<_>>(),
                "policies": b.policies.texts().into_iter().map(|(id, _)| id).collect::<Vec<_>>(),
            })
        });
        json!({
            "revision": active.stamp.revision,
            "bundle_hash": hex::encode(active.stamp.hash),
            "bundle": bundle,
            "rollback_to": plane.previous().map(|b| b.revision()),
        })
    })
    .await?;
    summary["shards"] = pulses
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "shard": i,
                "policy_revision": p.policy_revision,
                "connections": p.connections,
                "answered": p.answered,
            })
        })
        .collect();
    Ok(summary)
}

async fn status(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Read) {
        return answer;
    }
    reply(status_value(&state).await)
}

/// Totals since start per tenant and outcome, and decision latency buckets.
pub fn overview_value(state: &ApiState) -> Value {
    let mut overview = state.metrics.overview();
    overview["at_unix_ms"] = json!(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    );
    overview["answered"] = json!(
        state
            .control
            .pulses()
            .iter()
            .map(|p| p.answered)
            .sum::<u64>()
    );
    overview
}

async fn overview(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Read) {
        return answer;
    }
    HttpResponse::Ok().json(overview_value(&state))
}

/// The tenants the shards serve: weight, admission quota, keys, caps.
pub async fn tenants_value(state: &web::Data<ApiState>) -> Result<Value, HttpResponse> {
    with_plane(state, |plane| json!({ "tenants": plane.running_tenants() })).await
}

async fn tenants(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Read) {
        return answer;
    }
    reply(tenants_value(&state).await)
}

async fn budgets(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Read) {
        return answer;
    }
    HttpResponse::Ok().json(state.metrics.budgets())
}

/// Every promotion and rollback, oldest first.
pub async fn timeline_value(state: &web::Data<ApiState>) -> Result<Value, HttpResponse> {
    let events = settled(with_plane(state, |plane| plane.timeline()).await)?;
    Ok(json!({
        "timeline": events.iter().map(|e| json!({
            "seq": e.seq,
            "at": tf_budgets::format_utc(e.at_us / 1_000_000),
            "at_unix_us": e.at_us,
            "action": e.action,
            "actor": e.actor,
            "reason": e.reason,
            "from_revision": e.from_revision,
            "to_revision": e.to_revision,
            "bundle_hash": e.bundle_hash,
            "links": e.links,
        })).collect::<Vec<Value>>(),
    }))
}

async fn timeline(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Read) {
        return answer;
    }
    reply(timeline_value(&state).await)
}

#[derive(Deserialize)]
struct DiffQuery {
    against: Option<u64>,
}

/// What revision `revision` changes against `against` (default: the one in force).
pub async fn diff_value(
    state: &web::Data<ApiState>,
    revision: u64,
    against: Option<u64>,
) -> Result<Value, HttpResponse> {
    settled(
        with_plane(state, move |plane| {
            let new = plane.bundle(revision)?;
            let old_revision = match against {
                Some(old) => old,
                None => plane.active().stamp.revision,
            };
            let old = plane.bundle(old_revision)?;
            Ok::<_, ControlError>(json!({
                "old": { "revision": old.revision(), "hash": old.hash },
                "new": { "revision": new.revision(), "hash": new.hash },
                "changes": tf_bundles::diff(&old, &new),
            }))
        })
        .await,
    )
}

async fn diff(
    request: HttpRequest,
    state: web::Data<ApiState>,
    revision: web::Path<u64>,
    query: web::Query<DiffQuery>,
) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Read) {
        return answer;
    }
    reply(diff_value(&state, revision.into_inner(), query.against).await)
}

#[derive(Deserialize)]
struct PromoteQuery {
    #[serde(default)]
    allow_cap_below_spent: bool,
}

async fn validate(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<PromoteQuery>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Validate) {
        return answer;
    }
    let allow = query.allow_cap_below_spent;
    let result = with_plane(&state, move |plane| {
        plane.validate(&body, allow).map(|bundle| {
            json!({
                "valid": true,
                "revision": bundle.revision(),
                "hash": bundle.hash,
                "author": bundle.manifest.author,
                "note": bundle.manifest.note,
            })
        })
    })
    .await;
    reply(settled(result))
}

async fn promote(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<PromoteQuery>,
    body: web::Bytes,
) -> HttpResponse {
    let principal = match authorize(&request, &state, Permission::Promote) {
        Ok(principal) => principal,
        Err(answer) => return answer,
    };
    let allow = query.allow_cap_below_spent;
    let result = with_plane(&state, move |plane| {
        plane.promote(&body, &principal.name, allow)
    })
    .await;
    match settled(result) {
        Ok(switched) => HttpResponse::Ok().json(switched),
        Err(answer) => answer,
    }
}

/// `POST /api/v1/bundles/rollback`.
#[derive(Deserialize)]
pub struct RollbackBody {
    /// Why (recorded in the timeline).
    pub reason: String,
    /// The revision whose content to republish; default the one before the active one.
    pub to: Option<u64>,
}

/// Rolls back for `principal` after checking the reason; the switch as JSON.
pub async fn rollback_value(
    state: &web::Data<ApiState>,
    principal: Principal,
    RollbackBody { reason, to }: RollbackBody,
) -> Result<Value, HttpResponse> {
    if reason.trim().is_empty() || reason.len() > 2000 {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "reason: say why, in 1 to 2000 characters (it is kept in the timeline)",
        ));
    }
    let switched = settled(
        with_plane(state, move |plane| {
            plane.rollback(&principal.name, &reason, to)
        })
        .await,
    )?;
    Ok(serde_json::to_value(switched).unwrap_or(Value::Null))
}

async fn rollback(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    let principal = match authorize(&request, &state, Permission::Rollback) {
        Ok(principal) => principal,
        Err(answer) => return answer,
    };
    // Parsed only after the caller is known: nothing unauthenticated reaches a parser.
    let body: RollbackBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad-request",
                &format!("expected {{\"reason\": \"why\", \"to\": revision (optional)}}: {e}"),
            );
        }
    };
    reply(rollback_value(&state, principal, body).await)
}

/// The stored receipt with ledger sequence number `seq`.
pub async fn receipt_value(state: &web::Data<ApiState>, seq: u64) -> Result<Value, HttpResponse> {
    let found = settled(with_plane(state, move |plane| plane.receipt(seq)).await)?;
    let Some((tenant, stored)) = found else {
        return Err(problem(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("no receipt has ledger sequence number {seq}"),
        ));
    };
    let envelope: Value = serde_json::from_str(&stored.envelope_json).unwrap_or(Value::Null);
    let payload = tf_receipts::Envelope::from_json(&stored.envelope_json)
        .ok()
        .and_then(|e| serde_json::from_slice::<Value>(&e.payload).ok());
    Ok(json!({
        "seq": stored.seq,
        "tenant": tenant,
        "purpose": stored.purpose,
        "dataset_class": stored.dataset_class,
        "verdict": stored.verdict,
        "charged": stored.charged,
        "decided": tf_budgets::format_utc(stored.decided_us / 1_000_000),
        "receipt": payload,
        "envelope": envelope,
    }))
}

async fn receipt(
    request: HttpRequest,
    state: web::Data<ApiState>,
    seq: web::Path<u64>,
) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::ReadReceipts) {
        return answer;
    }
    reply(receipt_value(&state, seq.into_inner()).await)
}

async fn openapi(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state, Permission::Read) {
        return answer;
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_description_lists_every_route_and_nothing_else() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let mut described: Vec<(String, String)> = paths
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .map(move |method| (method.to_uppercase(), path.clone()))
            })
            .collect();
        described.sort();
        let mut routes: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        routes.sort();
        assert_eq!(described, routes);
    }
}
