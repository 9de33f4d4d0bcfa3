//! Policy bundles: `GET /api/v1/bundles` (the timeline), `GET /api/v1/bundles/{revision}/diff`,
//! and the changes, `POST /api/v1/bundles/{validate,promote,rollback}`, each a message to the
//! `Bundles` actor. The `*_value` functions are shared with the console.

use actix_web::{HttpRequest, web};
use tf_admin_api::{
    DiffPath, DiffQuery, DiffReply, ErrorBody, ErrorCode, PromoteQuery, Revision, RollbackRequest,
    Switched, TimelineReply, ValidateQuery, ValidateReply,
};
use tf_control::bundles as messages;

use super::{Answer, ApiState, ask_book, authorize, convert, extracted};
use crate::auth::{Permission, Principal};

/// Every promotion and rollback, and the control plane's latest events, oldest first.
pub async fn timeline_value(state: &ApiState) -> Result<TimelineReply, ErrorBody> {
    let events = ask_book(state, messages::Timeline).await?;
    let notes = ask_book(state, messages::ControlEvents).await?;
    Ok(TimelineReply {
        timeline: events
            .iter()
            .map(convert::timeline_entry)
            .collect::<Result<_, _>>()?,
        events: notes.into_iter().map(convert::control_event).collect(),
    })
}

/// What `revision` changes against `against` (default: the one in force).
pub async fn diff_value(
    state: &ApiState,
    revision: Revision,
    against: Option<Revision>,
) -> Result<DiffReply, ErrorBody> {
    let (new, old) = ask_book(
        state,
        messages::Pair {
            revision: revision.0,
            against: against.map(|r| r.0),
        },
    )
    .await?;
    Ok(convert::diff(&old, &new))
}

/// Rolls back for `principal` after checking the reason.
pub async fn rollback_value(
    state: &ApiState,
    principal: Principal,
    RollbackRequest {
        reason,
        to,
        allow_partners_dropped,
    }: RollbackRequest,
) -> Result<Switched, ErrorBody> {
    if reason.trim().is_empty() || reason.len() > RollbackRequest::MAX_REASON_LEN {
        return Err(ErrorBody::new(
            ErrorCode::BadRequest,
            "reason: say why, in 1 to 2000 characters (it is kept in the timeline)",
        ));
    }
    let to = to.map(|r| r.0);
    super::fleet_switch::claim_rollback(
        state,
        to,
        &principal.name,
        &reason,
        allow_partners_dropped,
    )
    .await?;
    let switched = ask_book(
        state,
        messages::Rollback {
            actor: principal.name,
            reason,
            to,
            allow_partners_dropped,
        },
    )
    .await?;
    let mut reply = convert::switched(&switched)?;
    reply.fleet = super::fleet_switch::reach(state, switched.to_revision).await?;
    Ok(reply)
}

/// `GET /api/v1/bundles`.
pub(super) async fn timeline(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<TimelineReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(timeline_value(&state).await?))
}

/// `GET /api/v1/bundles/{revision}/diff`.
pub(super) async fn diff(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<DiffPath>, actix_web::Error>,
    query: Result<web::Query<DiffQuery>, actix_web::Error>,
) -> Answer<DiffReply> {
    authorize(&request, &state, Permission::Read)?;
    let path = extracted("the revision in the path", path)?;
    let query = extracted("the query", query)?;
    Ok(web::Json(
        diff_value(&state, path.revision, query.against).await?,
    ))
}

/// `POST /api/v1/bundles/validate`.
pub(super) async fn validate(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: Result<web::Query<ValidateQuery>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<ValidateReply> {
    authorize(&request, &state, Permission::Validate)?;
    let query = extracted("the query", query)?;
    let body = extracted("the bundle", body)?;
    let bundle = ask_book(
        &state,
        messages::Validate {
            archive: body.to_vec(),
            allow: tf_control::Allowances {
                cap_below_spent: query.allow_cap_below_spent,
                partners_dropped: query.allow_partners_dropped,
            },
        },
    )
    .await?;
    Ok(web::Json(convert::validated(&bundle)))
}

/// `POST /api/v1/bundles/promote`.
pub(super) async fn promote(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: Result<web::Query<PromoteQuery>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<Switched> {
    let principal = authorize(&request, &state, Permission::Promote)?;
    let query = extracted("the query", query)?;
    let body = extracted("the bundle", body)?;
    let approval = super::drift::approval(query.override_by.as_deref(), query.reason.as_deref())?;
    let drift = match state.drift.clone() {
        // The first use reads the judgements stored before this run: off the workers.
        Some(desk) => actix_web::rt::task::spawn_blocking(move || desk.say(approval))
            .await
            .map_err(|_| {
                ErrorBody::new(
                    ErrorCode::Internal,
                    "reading the drift guard's judgements stopped before it ended",
                )
            })?,
        None => tf_control::DriftSay {
            judged: Vec::new(),
            approval,
        },
    };
    let allow = tf_control::Allowances {
        cap_below_spent: query.allow_cap_below_spent,
        partners_dropped: query.allow_partners_dropped,
    };
    super::fleet_switch::claim_promotion(&state, &body, &principal.name, allow, &drift).await?;
    let switched = ask_book(
        &state,
        messages::Promote {
            archive: body.to_vec(),
            actor: principal.name,
            allow,
            drift,
        },
    )
    .await?;
    let mut reply = convert::switched(&switched)?;
    reply.fleet = super::fleet_switch::reach(&state, switched.to_revision).await?;
    Ok(web::Json(reply))
}

/// `POST /api/v1/bundles/rollback`.
pub(super) async fn rollback(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<Switched> {
    let principal = authorize(&request, &state, Permission::Rollback)?;
    let body = extracted("the body", body)?;
    // Parsed only after the caller is known: nothing unauthenticated reaches a parser.
    let body: RollbackRequest = serde_json::from_slice(&body).map_err(|e| {
        ErrorBody::new(
            ErrorCode::BadRequest,
            format!("expected {{\"reason\": \"why\", \"to\": revision (optional)}}: {e}"),
        )
    })?;
    Ok(web::Json(rollback_value(&state, principal, body).await?))
}
