//! The admin API (`/api/v1`): JSON over HTTP on the admin server, every route behind a bearer
//! token whose roles allow it. Promotions and rollbacks run on a blocking thread so the admin
//! server keeps answering (metrics, health) while a bundle is checked and stored.

use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Permission, Principal, Tokens};
use super::{ControlError, ControlPlane};
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
}

/// Every route: method, path, what it needs.
#[cfg(test)]
const ROUTES: [(&str, &str, Permission); 8] = [
    ("GET", "/api/v1/status", Permission::Read),
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
        .route("/api/v1/bundles", web::get().to(timeline))
        .route("/api/v1/bundles/{revision}/diff", web::get().to(diff))
        .route("/api/v1/bundles/validate", web::post().to(validate))
        .route("/api/v1/bundles/promote", web::post().to(promote))
        .route("/api/v1/bundles/rollback", web::post().to(rollback))
        .route("/api/v1/receipts/{seq}", web::get().to(receipt))
        .route("/api/v1/openapi.json", web::get().to(openapi));
}

/// The caller, if its token is known and its roles allow `permission`; else the answer.
pub fn authorize(
    request: &HttpRequest,
    tokens: &Tokens,
    permission: Permission,
) -> Result<Principal, HttpResponse> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = presented else {
        return Err(unauthenticated("send `Authorization: Bearer <token>`"));
    };
    let Some(principal) = tokens.authenticate(token) else {
        return Err(unauthenticated(
            "the token is not one this appliance accepts",
        ));
    };
    if !principal.may(permission) {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!(
                "{} may not {}: ask for a token with a role that may",
                principal.name,
                describe(permission)
            ),
        ));
    }
    Ok(principal.clone())
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

async fn status(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state.tokens, Permission::Read) {
        return answer;
    }
    let pulses = state.control.pulses();
    let summary = with_plane(&state, |plane| {
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
            "applies_at_next_start": plane.pending_restart(),
        })
    })
    .await;
    match summary {
        Ok(mut summary) => {
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
            HttpResponse::Ok().json(summary)
        }
        Err(answer) => answer,
    }
}

async fn timeline(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state.tokens, Permission::Read) {
        return answer;
    }
    match with_plane(&state, |plane| plane.timeline()).await {
        Ok(Ok(events)) => HttpResponse::Ok().json(json!({
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
        })),
        Ok(Err(error)) => control_error(&error),
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
struct DiffQuery {
    against: Option<u64>,
}

async fn diff(
    request: HttpRequest,
    state: web::Data<ApiState>,
    revision: web::Path<u64>,
    query: web::Query<DiffQuery>,
) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state.tokens, Permission::Read) {
        return answer;
    }
    let revision = revision.into_inner();
    let against = query.against;
    let result = with_plane(&state, move |plane| {
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
    .await;
    match result {
        Ok(Ok(body)) => HttpResponse::Ok().json(body),
        Ok(Err(error)) => control_error(&error),
        Err(answer) => answer,
    }
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
    if let Err(answer) = authorize(&request, &state.tokens, Permission::Validate) {
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
    match result {
        Ok(Ok(body)) => HttpResponse::Ok().json(body),
        Ok(Err(error)) => control_error(&error),
        Err(answer) => answer,
    }
}

async fn promote(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<PromoteQuery>,
    body: web::Bytes,
) -> HttpResponse {
    let principal = match authorize(&request, &state.tokens, Permission::Promote) {
        Ok(principal) => principal,
        Err(answer) => return answer,
    };
    let allow = query.allow_cap_below_spent;
    let result = with_plane(&state, move |plane| {
        plane.promote(&body, &principal.name, allow)
    })
    .await;
    match result {
        Ok(Ok(switched)) => HttpResponse::Ok().json(switched),
        Ok(Err(error)) => control_error(&error),
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

async fn rollback(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    let principal = match authorize(&request, &state.tokens, Permission::Rollback) {
        Ok(principal) => principal,
        Err(answer) => return answer,
    };
    // Parsed only after the caller is known: nothing unauthenticated reaches a parser.
    let RollbackBody { reason, to } = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad-request",
                &format!("expected {{\"reason\": \"why\", \"to\": revision (optional)}}: {e}"),
            );
        }
    };
    if reason.trim().is_empty() || reason.len() > 2000 {
        return problem(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "reason: say why, in 1 to 2000 characters (it is kept in the timeline)",
        );
    }
    let result = with_plane(&state, move |plane| {
        plane.rollback(&principal.name, &reason, to)
    })
    .await;
    match result {
        Ok(Ok(switched)) => HttpResponse::Ok().json(switched),
        Ok(Err(error)) => control_error(&error),
        Err(answer) => answer,
    }
}

async fn receipt(
    request: HttpRequest,
    state: web::Data<ApiState>,
    seq: web::Path<u64>,
) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state.tokens, Permission::ReadReceipts) {
        return answer;
    }
    let seq = seq.into_inner();
    match with_plane(&state, move |plane| plane.receipt(seq)).await {
        Ok(Ok(Some((tenant, stored)))) => {
            let envelope: Value =
                serde_json::from_str(&stored.envelope_json).unwrap_or(Value::Null);
            let payload = tf_receipts::Envelope::from_json(&stored.envelope_json)
                .ok()
                .and_then(|e| serde_json::from_slice::<Value>(&e.payload).ok());
            HttpResponse::Ok().json(json!({
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
        Ok(Ok(None)) => problem(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("no receipt has ledger sequence number {seq}"),
        ),
        Ok(Err(error)) => control_error(&error),
        Err(answer) => answer,
    }
}

async fn openapi(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = authorize(&request, &state.tokens, Permission::Read) {
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
