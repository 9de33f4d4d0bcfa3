//! Compliance snapshots: `GET /api/v1/compliance/snapshots` (the worker's status and every
//! packet), `POST /api/v1/compliance/snapshots` (seal everything up to now) and
//! `GET /api/v1/compliance/snapshots/{name}/archive` (a packet as a gzipped tar, see
//! [`archive`](super::archive)). The worker is never asked anything: the handlers read the
//! status it refreshes, so they answer at once even while it makes a packet for minutes. The
//! `*_value` functions are shared with the console.

use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::{ErrorBody, ErrorCode, SnapshotAsked, SnapshotName, SnapshotsReply};
use tf_control::compliance::{AskError, ComplianceHandle};

use super::{Answer, ApiError, ApiState, authorize, convert};
use crate::auth::{Permission, Principal};

/// The snapshot worker's status and every packet, as it last refreshed them.
pub fn snapshots_value(state: &ApiState) -> Result<SnapshotsReply, ErrorBody> {
    let handle = compliance(state)?;
    Ok(convert::snapshots(&handle.status(), handle.packets_dir()))
}

/// Asks for a snapshot of everything decided before `now_us` (to the second) for `principal`.
pub fn ask_snapshot_value(
    state: &ApiState,
    principal: &Principal,
    now_us: u64,
) -> Result<SnapshotAsked, ErrorBody> {
    let handle = compliance(state)?;
    let utc = |us: u64| tf_budgets::format_utc(us / 1_000_000);
    match handle.ask(now_us) {
        Ok(to_us) => {
            let name = tf_compliance::snapshot_name(to_us);
            tracing::info!(user = %principal.name, snapshot = %name, "compliance snapshot asked");
            Ok(SnapshotAsked {
                name: SnapshotName(name),
                to_unix_us: to_us,
                to: utc(to_us),
            })
        }
        Err(AskError::AlreadyAsked(to_us)) => Err(ErrorBody::new(
            ErrorCode::AlreadyAsked,
            format!(
                "a snapshot up to {} ({}) is already asked for and not made yet: wait until it \
                 is listed, then ask again if you need one up to a later moment",
                utc(to_us),
                tf_compliance::snapshot_name(to_us)
            ),
        )),
        Err(AskError::AlreadySealed(to_us)) => Err(ErrorBody::new(
            ErrorCode::AlreadySealed,
            format!(
                "the newest snapshot, {}, already seals everything decided before {}: ask again \
                 in a second",
                tf_compliance::snapshot_name(to_us),
                utc(to_us)
            ),
        )),
        Err(error) => Err(ErrorBody::new(ErrorCode::Internal, error.to_string())),
    }
}

/// The compliance worker's handle; `compliance-not-running` where none runs.
pub(super) fn compliance(state: &ApiState) -> Result<&ComplianceHandle, ErrorBody> {
    state.compliance.as_ref().ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::ComplianceNotRunning,
            "no compliance snapshot worker runs in this appliance",
        )
    })
}

/// `GET /api/v1/compliance/snapshots`.
pub(super) async fn snapshots(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<SnapshotsReply> {
    authorize(&request, &state, Permission::ReadReceipts)?;
    Ok(web::Json(snapshots_value(&state)?))
}

/// `POST /api/v1/compliance/snapshots`: 202, the packet is made later.
pub(super) async fn ask_snapshot(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let principal = authorize(&request, &state, Permission::Snapshot)?;
    let asked = ask_snapshot_value(&state, &principal, tf_seam::clock::unix_micros())?;
    Ok(HttpResponse::Accepted().json(asked))
}
