//! What runs: `GET /api/v1/status` (the policy in force and each shard's revision),
//! `/overview` (totals since start), `/overview/history` (its last hour), `/tenants` (the
//! terms served) and `/budgets` (every cap's use). The `*_value` functions are shared with the
//! console.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{HttpRequest, web};
use tf_admin_api::{
    BudgetsReply, ErrorBody, HistoryReply, OverviewReply, StatusReply, TenantsReply,
};
use tf_control::bundles as messages;

use super::history::{History, ReadHistory};
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

/// The overview's last hour, as the sampler kept it; no samples where none runs (or it
/// stopped with the server).
pub async fn history_value(state: &ApiState) -> HistoryReply {
    let asked = match &state.history {
        Some(sampler) => sampler.send(ReadHistory).await.ok(),
        None => None,
    };
    asked.unwrap_or_else(|| History::default().reply())
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

/// `GET /api/v1/overview/history`.
pub(super) async fn history(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<HistoryReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(history_value(&state).await))
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
