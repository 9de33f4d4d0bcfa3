//! Partners' terms requests: `GET /api/v1/terms-requests`,
//! `POST /api/v1/terms-requests/{id}/grant` and `POST /api/v1/terms-requests/{id}/decline`,
//! each a message to the `Bundles` actor, whose book keeps them in the ledger. A grant is a
//! switch like a promotion (its timeline entry's action is `terms`). The `*_value` functions
//! are shared with the console.

use actix_web::{HttpRequest, web};
use tf_admin_api::{
    ErrorBody, ErrorCode, OnboardingStep, PartnerEntry, Revision, Switched, Terms, TermsCap,
    TermsDecision, TermsRequestEntry, TermsRequestPath, TermsRequestsReply, TermsStatus,
};
use tf_bundles::partners::PartnerTerms;
use tf_control::terms as messages;
use tf_ledger::{TermsRequestRow, TermsState};

use super::invites::checked_reason;
use super::webhooks::json_body;
use super::{Answer, ApiState, ask, ask_book, authorize, control_error, convert, extracted};
use crate::auth::{Permission, Principal};

/// Every terms request, newest first, beside the tenant's terms in force; and every partner in
/// the bundle in force.
pub async fn terms_requests_value(state: &ApiState) -> Result<TermsRequestsReply, ErrorBody> {
    let rows = ask_book(state, messages::ListTerms).await?;
    let (partners, files) = partners_in_force(state).await?;
    let steps = super::partner_steps::onboarding_steps(state, partners.clone()).await;
    Ok(TermsRequestsReply {
        requests: rows
            .iter()
            .map(|row| entry(row, terms_of(&partners, &row.tenant)))
            .collect(),
        partners: partners
            .iter()
            .zip(files)
            .zip(steps)
            .map(|((terms, file), steps)| partner(terms, file, steps))
            .collect(),
    })
}

/// Grants pending request `id` for `principal`: its terms come into force.
pub async fn grant_terms_value(
    state: &ApiState,
    principal: &Principal,
    id: u64,
    asked: TermsDecision,
) -> Result<Switched, ErrorBody> {
    let reason = checked_reason(&asked.reason, "the request")?;
    let switched = ask_book(
        state,
        messages::GrantTerms {
            id,
            by: principal.name.clone(),
            reason,
        },
    )
    .await?;
    tracing::info!(
        user = %principal.name,
        id,
        revision = switched.to_revision,
        "terms request granted"
    );
    convert::switched(&switched)
}

/// Declines pending request `id` for `principal`.
pub async fn decline_terms_value(
    state: &ApiState,
    principal: &Principal,
    id: u64,
    asked: TermsDecision,
) -> Result<TermsRequestEntry, ErrorBody> {
    let reason = checked_reason(&asked.reason, "the request")?;
    let declined = ask(
        state,
        messages::DeclineTerms {
            id,
            by: principal.name.clone(),
            reason,
        },
    )
    .await?;
    let row = declined.map_err(|error| control_error(&error))?;
    tracing::info!(user = %principal.name, id, "terms request declined");
    let (partners, _) = partners_in_force(state).await?;
    Ok(entry(&row, terms_of(&partners, &row.tenant)))
}

/// `GET /api/v1/terms-requests`.
pub(super) async fn list(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<TermsRequestsReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(terms_requests_value(&state).await?))
}

/// `POST /api/v1/terms-requests/{id}/grant`.
pub(super) async fn grant(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<TermsRequestPath>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<Switched> {
    let principal = authorize(&request, &state, Permission::Invite)?;
    let TermsRequestPath { id } = extracted("the path", path)?.into_inner();
    let asked: TermsDecision = json_body(body, "expected {\"reason\": \"...\"}")?;
    Ok(web::Json(
        grant_terms_value(&state, &principal, id, asked).await?,
    ))
}

/// `POST /api/v1/terms-requests/{id}/decline`.
pub(super) async fn decline(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<TermsRequestPath>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<TermsRequestEntry> {
    let principal = authorize(&request, &state, Permission::Invite)?;
    let TermsRequestPath { id } = extracted("the path", path)?.into_inner();
    let asked: TermsDecision = json_body(body, "expected {\"reason\": \"...\"}")?;
    Ok(web::Json(
        decline_terms_value(&state, &principal, id, asked).await?,
    ))
}

/// The error for a terms request the control plane refused: `unknown` is not found,
/// `decided` is in the wrong state, and a tenant that is no partner any more (or terms that
/// no longer make a valid bundle) is refused, saying why.
pub(super) fn terms_refusal(reason: &str, detail: &str) -> ErrorBody {
    match reason {
        "unknown" => ErrorBody::new(
            ErrorCode::NotFound,
            format!("{detail}: list them with GET /api/v1/terms-requests"),
        ),
        "decided" => ErrorBody::new(ErrorCode::WrongState, detail),
        _ => ErrorBody::new(ErrorCode::Refused, detail),
    }
}

/// The partners' terms in the bundle in force, and each one's terms file as the bundle has it.
async fn partners_in_force(
    state: &ApiState,
) -> Result<(Vec<PartnerTerms>, Vec<String>), ErrorBody> {
    let in_force = ask(state, tf_control::bundles::Status).await?;
    let Some(bundle) = in_force.active.bundle.as_deref() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let partners = bundle.content.partners.clone();
    let files = partners
        .iter()
        .map(|terms| {
            // Every partner comes from its file, read as UTF-8 when the bundle was opened.
            bundle
                .files
                .get(&tf_bundles::partners::terms_file(&terms.tenant))
                .map_or_else(|| terms.to_file(), |bytes| bytes.to_vec())
        })
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect();
    Ok((partners, files))
}

/// `tenant`'s terms in force, if it is a partner there.
fn terms_of(partners: &[PartnerTerms], tenant: &str) -> Option<Terms> {
    partners.iter().find(|p| p.tenant == tenant).map(terms)
}

/// A request as listed, with the tenant's terms in force now (if it is still a partner).
fn entry(row: &TermsRequestRow, in_force: Option<Terms>) -> TermsRequestEntry {
    let utc = |us: u64| tf_budgets::format_utc(us / 1_000_000);
    // Stored by the control plane from the same type; terms that no longer read (edited by
    // hand) are shown as nothing asked, and said in the log.
    let asked = serde_json::from_str::<PartnerTerms>(&row.terms)
        .map(|stored| terms(&stored))
        .unwrap_or_else(|error| {
            tracing::warn!(%error, id = row.id, "a terms request's stored terms are unreadable");
            Terms {
                rate_per_sec: 0,
                burst: 0,
                max_registered_keys: 0,
                caps: Vec::new(),
            }
        });
    TermsRequestEntry {
        id: row.id,
        tenant: row.tenant.clone().into(),
        status: match row.state {
            TermsState::Pending => TermsStatus::Pending,
            TermsState::Granted => TermsStatus::Granted,
            TermsState::Declined => TermsStatus::Declined,
        },
        within_template: row.within_template,
        asked,
        in_force,
        created: utc(row.created_us),
        decided: row.decided_us.map(utc),
        decided_by: row.decided_by.clone(),
        reason: row.reason.clone(),
        revision: row.revision.map(Revision),
    }
}

fn partner(stored: &PartnerTerms, file: String, steps: Vec<OnboardingStep>) -> PartnerEntry {
    PartnerEntry {
        steps,
        tenant: stored.tenant.clone().into(),
        invite: stored.invite,
        purposes: stored.purposes.clone(),
        classes: stored.classes.clone(),
        terms: terms(stored),
        file,
    }
}

fn terms(stored: &PartnerTerms) -> Terms {
    Terms {
        rate_per_sec: stored.rate_per_sec,
        burst: stored.burst,
        max_registered_keys: stored.max_registered_keys,
        caps: stored
            .caps
            .iter()
            .map(|cap| TermsCap {
                class: cap.class.clone(),
                window: cap.window.clone(),
                limit: cap.limit,
            })
            .collect(),
    }
}
