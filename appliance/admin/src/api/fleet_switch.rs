//! Promotions and rollbacks in fleet mode: the revision is claimed on the fleet's timeline
//! before this appliance switches (so no other appliance puts another bundle in force as it),
//! and the answer waits for every live appliance of the fleet to switch, naming any that did
//! not. Outside fleet mode each of these does nothing. The fleet's database client blocks:
//! its calls run on the blocking pool.

use std::time::Duration;

use tf_admin_api::{ErrorBody, ErrorCode, FleetReach, NodeRevision, Revision};
use tf_control::bundles as messages;
use tf_control::{Allowances, DriftSay, fleet_claim, fleet_timeline};

use super::{ApiState, ask_book, control_error};

/// How long a switch waits for the other appliances of the fleet.
const FLEET_WAIT: Duration = Duration::from_secs(20);

/// Claims the revision of the bundle in `archive` once it passes the checks a promotion
/// makes here (the drift guard's too).
pub(super) async fn claim_promotion(
    state: &ApiState,
    archive: &[u8],
    actor: &str,
    allow: Allowances,
    drift: &DriftSay,
) -> Result<(), ErrorBody> {
    let Some(fleet) = state.fleet.clone() else {
        return Ok(());
    };
    let bundle = ask_book(
        state,
        messages::Validate {
            archive: archive.to_vec(),
            allow,
        },
    )
    .await?;
    drift
        .note_for(&bundle.hash)
        .map_err(|e| control_error(&e))?;
    let (archive, actor) = (archive.to_vec(), actor.to_owned());
    blocking(move || fleet_claim::claim_promotion(&fleet, &bundle, &archive, &actor, allow)).await
}

/// Claims the revision a rollback to `to` would put in force.
pub(super) async fn claim_rollback(
    state: &ApiState,
    to: Option<u64>,
    actor: &str,
    reason: &str,
    allow_partners_dropped: bool,
) -> Result<(), ErrorBody> {
    let Some(fleet) = state.fleet.clone() else {
        return Ok(());
    };
    let (republishes, revision) = ask_book(state, messages::PlanRollback { to }).await?;
    let (actor, reason) = (actor.to_owned(), reason.to_owned());
    blocking(move || {
        fleet_timeline::claim_rollback(
            &fleet,
            revision,
            republishes,
            &actor,
            &reason,
            allow_partners_dropped,
        )
    })
    .await
}

/// Which appliances of the fleet serve under `revision`, after waiting for them.
pub(super) async fn reach(
    state: &ApiState,
    revision: u64,
) -> Result<Option<FleetReach>, ErrorBody> {
    let Some(fleet) = state.fleet.clone() else {
        return Ok(None);
    };
    let reach = blocking(move || fleet_timeline::await_fleet(&fleet, revision, FLEET_WAIT)).await?;
    Ok(Some(FleetReach {
        switched: reach.switched,
        behind: reach
            .behind
            .into_iter()
            .map(|(node, revision)| NodeRevision {
                node,
                revision: Revision(revision),
            })
            .collect(),
        down: reach.down,
    }))
}

async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, tf_control::ControlError> + Send + 'static,
) -> Result<T, ErrorBody> {
    actix_web::rt::task::spawn_blocking(call)
        .await
        .map_err(|_| {
            ErrorBody::new(
                ErrorCode::Internal,
                "a call to the fleet's database stopped",
            )
        })?
        .map_err(|e| control_error(&e))
}
