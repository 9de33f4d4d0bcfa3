//! Partner invites: `GET /api/v1/invites`, `POST /api/v1/invites` (make one) and
//! `POST /api/v1/invites/{id}/revoke`, each a message to the `Bundles` actor, whose book keeps
//! them in the ledger. The invite's text (`tfi1.…`) is made here and answered once: the
//! ledger keeps only its secret's digest. The `*_value` functions are shared with the console.

use actix_web::{HttpRequest, web};
use sha2::{Digest, Sha256};
use tf_admin_api::{
    CreateInvite, ErrorBody, ErrorCode, InviteCreated, InviteEntry, InvitePath, InviteStatus,
    InviteTemplate, InvitesReply, RevokeInvite,
};
use tf_control::invites as messages;
use tf_ledger::{InviteRefusal, InviteRow, InviteState};
use tf_wire::InviteCode;

use super::webhooks::json_body;
use super::{Answer, ApiState, ask_book, authorize, extracted};
use crate::auth::{Permission, Principal};

/// How long an invite may be usable at most.
const MAX_EXPIRY_US: u64 = 30 * 86_400_000_000;
/// How long when the maker does not say.
const DEFAULT_EXPIRY: &str = "7d";
/// The longest reason kept.
const MAX_REASON_BYTES: usize = 2000;

/// Every invite, newest first.
pub async fn invites_value(state: &ApiState) -> Result<InvitesReply, ErrorBody> {
    let rows = ask_book(state, messages::ListInvites).await?;
    let now_us = tf_seam::clock::unix_micros();
    Ok(InvitesReply {
        invites: rows.iter().map(|row| entry(row, now_us)).collect(),
    })
}

/// Makes an invite for `principal`: checked, stored as a digest, its text answered once.
pub async fn create_invite_value(
    state: &ApiState,
    principal: &Principal,
    asked: CreateInvite,
) -> Result<InviteCreated, ErrorBody> {
    let ca_fingerprint = state.invite_ca.ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::Refused,
            "this appliance cannot onboard partners: [tls] names a server certificate or a \
             client CA of another PKI, whose key the appliance does not hold to issue partners' \
             certificates; issue them with that PKI instead",
        )
    })?;
    check_tenant(&asked.tenant)?;
    check_template(&asked.template)?;
    let reason = checked_reason(&asked.reason, "the invite")?;
    let expiry = asked.expires_in.as_deref().unwrap_or(DEFAULT_EXPIRY);
    let expires_in_us = tf_config::parse_span_us(expiry)
        .filter(|us| (60_000_000..=MAX_EXPIRY_US).contains(us))
        .ok_or_else(|| {
            bad(format!(
                "expires_in {expiry:?}: a whole number and m, h or d, from 1m to 30d"
            ))
        })?;
    let mut secret = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
    let created_us = tf_seam::clock::unix_micros();
    let mut row = InviteRow {
        id: 0,
        digest: Sha256::digest(secret).into(),
        tenant: asked.tenant,
        template: serde_json::to_string(&asked.template).expect("a template serialises"),
        created_by: principal.name.clone(),
        reason,
        created_us,
        expires_us: created_us + expires_in_us,
        state: InviteState::Open,
        closed_us: None,
        closed_by: None,
    };
    row.id = ask_book(
        state,
        messages::CreateInvite {
            digest: row.digest,
            tenant: row.tenant.clone(),
            template: row.template.clone(),
            created_by: row.created_by.clone(),
            reason: row.reason.clone(),
            created_us,
            expires_us: row.expires_us,
        },
    )
    .await?;
    tracing::info!(user = %principal.name, id = row.id, tenant = %row.tenant, "invite made");
    let invite = InviteCode {
        id: row.id,
        secret,
        ca_fingerprint,
    };
    // As stored: the answer is the invite as it will be listed.
    Ok(InviteCreated {
        invite: invite.to_string(),
        entry: entry(&row, created_us),
    })
}

/// Revokes open invite `id` for `principal`.
pub async fn revoke_invite_value(
    state: &ApiState,
    principal: &Principal,
    id: u64,
    asked: RevokeInvite,
) -> Result<InviteEntry, ErrorBody> {
    let reason = checked_reason(&asked.reason, "the invite")?;
    let revoked = ask_book(
        state,
        messages::RevokeInvite {
            id,
            by: principal.name.clone(),
            reason,
        },
    )
    .await?;
    match revoked {
        Ok(row) => {
            tracing::info!(user = %principal.name, id, "invite revoked");
            Ok(entry(&row, tf_seam::clock::unix_micros()))
        }
        Err(InviteRefusal::Unknown) => Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!("no invite {id}: list them with GET /api/v1/invites"),
        )),
        Err(refusal) => Err(ErrorBody::new(
            ErrorCode::WrongState,
            format!("invite {id} cannot be revoked: {refusal}"),
        )),
    }
}

/// `GET /api/v1/invites`.
pub(super) async fn invites(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<InvitesReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(invites_value(&state).await?))
}

/// `POST /api/v1/invites`.
pub(super) async fn create(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<InviteCreated> {
    let principal = authorize(&request, &state, Permission::Invite)?;
    let asked: CreateInvite = json_body(
        body,
        "expected {\"tenant\", \"template\": {\"purposes\", \"classes\", \"max_rate_per_sec\", \
         \"max_burst\", \"max_registered_keys\", \"caps\"}, \"expires_in\", \"reason\"}",
    )?;
    Ok(web::Json(
        create_invite_value(&state, &principal, asked).await?,
    ))
}

/// `POST /api/v1/invites/{id}/revoke`.
pub(super) async fn revoke(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<InvitePath>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<InviteEntry> {
    let principal = authorize(&request, &state, Permission::Invite)?;
    let InvitePath { id } = extracted("the path", path)?.into_inner();
    let asked: RevokeInvite = json_body(body, "expected {\"reason\": \"...\"}")?;
    Ok(web::Json(
        revoke_invite_value(&state, &principal, id, asked).await?,
    ))
}

/// An invite as listed at `now_us`: an open one past its expiry is expired.
fn entry(row: &InviteRow, now_us: u64) -> InviteEntry {
    let utc = |us: u64| tf_budgets::format_utc(us / 1_000_000);
    let status = match row.state {
        InviteState::Used => InviteStatus::Used,
        InviteState::Revoked => InviteStatus::Revoked,
        InviteState::Open if now_us >= row.expires_us => InviteStatus::Expired,
        InviteState::Open => InviteStatus::Open,
    };
    InviteEntry {
        id: row.id,
        tenant: row.tenant.clone(),
        // Stored by this server from the same type; a template that no longer reads (edited
        // by hand) is shown as allowing nothing, and said in the log.
        template: serde_json::from_str(&row.template).unwrap_or_else(|error| {
            tracing::warn!(%error, id = row.id, "an invite's stored template is unreadable");
            InviteTemplate {
                purposes: Vec::new(),
                classes: Vec::new(),
                max_rate_per_sec: 0,
                max_burst: 0,
                max_registered_keys: 0,
                caps: Vec::new(),
            }
        }),
        created_by: row.created_by.clone(),
        reason: row.reason.clone(),
        created: utc(row.created_us),
        expires: utc(row.expires_us),
        status,
        closed: row.closed_us.map(utc),
        closed_by: row.closed_by.clone(),
    }
}

/// An id, or a prefix of one ending in `*`.
fn check_tenant(tenant: &str) -> Result<(), ErrorBody> {
    let id = tenant.strip_suffix('*').unwrap_or(tenant);
    if tf_config::is_valid_tenant_id(id) && (tenant.len() <= 64) {
        Ok(())
    } else {
        Err(bad(format!(
            "tenant {tenant:?}: a tenant id (1 to 64 characters of a-z, 0-9, - and _), or a \
             prefix of one ending in *"
        )))
    }
}

fn check_template(template: &InviteTemplate) -> Result<(), ErrorBody> {
    let problem = |what: &str| Err(bad(format!("template: {what}")));
    if !(1..=32).contains(&template.purposes.len())
        || !template
            .purposes
            .iter()
            .all(|p| tf_config::is_valid_purpose(p))
    {
        return problem("purposes: 1 to 32, each 1 to 64 characters of a-z, 0-9, -, _ and .");
    }
    let class = |c: &str| matches!(c, "P0" | "P1" | "P2");
    if template.classes.is_empty() || !template.classes.iter().all(|c| class(c)) {
        return problem("classes: at least one of P0, P1 and P2");
    }
    if !(1..=100_000).contains(&template.max_rate_per_sec)
        || !(1..=100_000).contains(&template.max_burst)
    {
        return problem("max_rate_per_sec and max_burst: 1 to 100000");
    }
    if template.max_registered_keys > 1000 {
        return problem("max_registered_keys: 0 to 1000");
    }
    if template.caps.len() > 16 {
        return problem("caps: at most 16");
    }
    for cap in &template.caps {
        if !class(&cap.class) || !template.classes.contains(&cap.class) {
            return problem("caps: each class one of the template's classes");
        }
        if cap.window.parse::<tf_budgets::Window>().is_err() {
            return problem(&format!(
                "caps: window {:?} is not a budget window (day, month, rolling 3600s, ...)",
                cap.window
            ));
        }
        if cap.max_limit == 0 {
            return problem("caps: max_limit above 0");
        }
    }
    Ok(())
}

/// A reason for a change to `what` (`the invite`, `the request`): 1 to 2000 characters on one
/// line, trimmed.
pub(super) fn checked_reason(reason: &str, what: &str) -> Result<String, ErrorBody> {
    let reason = reason.trim();
    if reason.is_empty() || !tf_wire::is_plain_line(reason, MAX_REASON_BYTES) {
        return Err(bad(format!(
            "reason: say why, in 1 to 2000 characters on one line (it is kept with {what} and \
             on the timeline)"
        )));
    }
    Ok(reason.to_owned())
}

fn bad(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::BadRequest, message)
}
