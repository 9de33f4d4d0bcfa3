//! What runs: `GET /api/v1/status` (the policy in force and each shard's revision),
//! `/overview` (totals since start), `/tenants` (the terms served) and `/budgets` (every cap's
//! use). The `*_value` functions are shared with the console.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{HttpRequest, web};
use tf_admin_api::{BudgetsReply, ErrorBody, OverviewReply, StatusReply, TenantsReply};
use tf_control::bundles as messages;

use super::{Answer, ApiState, ask, authorize, convert, summary};
use crate::auth::Permission;

/// The bundle in force, what a rollback would republish, and each shard's revision.
pub async fn status_value(state: &ApiState) -> Result<StatusReply, ErrorBody> {
    let pulses = state.board.pulses();
    let in_force = ask(state, messages::Status).await?;
    Ok(convert::status(&in_force, &pulses))
}

/// Totals since start per tenant and outcome, decision latency buckets, connections, queue
/// depth and answers, read now.
pub fn overview_value(state: &ApiState) -> OverviewReply {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    summary::overview(&state.metrics, &state.board.pulses(), now_ms)
}

/// The tenants the shards serve: weight, admission quota, keys, caps.
pub async fn tenants_value(state: &ApiState) -> Result<TenantsReply, ErrorBody> {
    let in_force = ask(state, messages::Status).await?;
    Ok(TenantsReply {
        tenants: in_force.tenants.iter().map(convert::tenant).collect(),
    })
}

/// Every cap as its tenant's home shard last saw it.
pub fn budgets_value(state: &ApiState) -> BudgetsReply {
    summary::budgets(&state.metrics)
}

/// `GET /api/v1/status`.
pub(super) async fn status(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<StatusReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(status_value(&state).await?))
}

/// `GET /api/v1/overview`.
pub(super) async fn overview(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<OverviewReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(overview_value(&state)))
}

/// `GET /api/v1/tenants`.
pub(super) async fn tenants(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<TenantsReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(tenants_value(&state).await?))
}

/// `GET /api/v1/budgets`.
pub(super) async fn budgets(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<BudgetsReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(budgets_value(&state)))
}
