//! The console's partners page: partners' terms requests, pending first, with Grant and
//! Decline on each pending one for those who may; then each partner in the bundle in force
//! with its terms and the invite it was onboarded with, as the partner sees them.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::{
    InviteEntry, OnboardingStep, PartnerEntry, TermsDecision, TermsRequestEntry,
    TermsRequestsReply, TermsStatus,
};

use super::html::{self, esc, page};
use super::{ReasonForm, error_page, error_text, form_session, logged_in, text, text_or_dash};
use crate::api::{self, ApiState};
use crate::auth::Permission;
use crate::session::Session;

const HERE: &str = "/console/partners";

/// `GET /console/partners`.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    render(&state, &session, StatusCode::OK, String::new()).await
}

/// `POST /console/partners/requests/{id}/grant`: the request's terms come into force.
pub async fn grant(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<u64>,
    form: web::Form<ReasonForm>,
) -> HttpResponse {
    decide(&request, &state, path.into_inner(), &form, true).await
}

/// `POST /console/partners/requests/{id}/decline`.
pub async fn decline(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<u64>,
    form: web::Form<ReasonForm>,
) -> HttpResponse {
    decide(&request, &state, path.into_inner(), &form, false).await
}

/// Grants or declines request `id`, then shows the page with what came of it.
async fn decide(
    request: &HttpRequest,
    state: &ApiState,
    id: u64,
    form: &ReasonForm,
    grant: bool,
) -> HttpResponse {
    let session = match form_session(request, state, &form.csrf) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let asked = TermsDecision {
        reason: form.reason.clone(),
    };
    let principal = &session.principal;
    let done = if grant {
        api::grant_terms_value(state, principal, id, asked)
            .await
            .map(|switched| {
                format!(
                    "<div class=\"notice good\" id=\"granted\">Terms request {id} granted: in \
                     force from revision {} (timeline entry {}).</div>",
                    switched.to_revision, switched.timeline_seq
                )
            })
    } else {
        api::decline_terms_value(state, principal, id, asked)
            .await
            .map(|declined| {
                format!(
                    "<div class=\"notice good\" id=\"declined\">Terms request {id} for tenant \
                     {} declined; its terms stay as they are.</div>",
                    esc(&declined.tenant.0)
                )
            })
    };
    let (status, shown) = match done {
        Ok(shown) => (StatusCode::OK, shown),
        Err(error) => {
            let (status, message) = error_text(&error);
            (status, html::notice("bad", &message))
        }
    };
    render(state, &session, status, shown).await
}

/// The page, `notice` first.
async fn render(
    state: &ApiState,
    session: &Session,
    status: StatusCode,
    notice: String,
) -> HttpResponse {
    let reply = match api::terms_requests_value(state).await {
        Ok(reply) => reply,
        Err(error) => return error_page(&error, session, HERE),
    };
    let invites = match api::invites_value(state).await {
        Ok(invites) => invites.invites,
        Err(error) => return error_page(&error, session, HERE),
    };
    let may_decide = session.principal.may(Permission::Invite);
    let mut body = notice;
    requests_table(&reply, session, may_decide, &mut body);
    partners_table(&reply.partners, &invites, &mut body);
    page(status, "Partners", HERE, Some(session), &body)
}

fn requests_table(
    reply: &TermsRequestsReply,
    session: &Session,
    may_decide: bool,
    body: &mut String,
) {
    body.push_str(
        "<h2>Terms requests</h2><p>Partners onboarded with an invite ask for other terms over \
         their own connection. Within the invite's template the terms apply at once; above it \
         a request waits here for an operator. Pending first, then the newest.</p>\
         <table id=\"terms-requests\"><thead><tr><th class=\"num\">Id</th><th>Tenant</th>\
         <th>Status</th><th>Asked</th><th>In force now</th><th>Asked at (UTC)</th>\
         <th>Decided</th><th></th></tr></thead><tbody>",
    );
    if reply.requests.is_empty() {
        body.push_str("<tr><td colspan=\"8\" class=\"muted\">No terms request yet.</td></tr>");
    }
    // Newest first as listed; pending ones before the rest (a stable sort keeps that order).
    let mut requests: Vec<&TermsRequestEntry> = reply.requests.iter().collect();
    requests.sort_by_key(|r| r.status != TermsStatus::Pending);
    for request in requests {
        request_row(request, session, may_decide, body);
    }
    body.push_str("</tbody></table>");
}

fn request_row(
    request: &TermsRequestEntry,
    session: &Session,
    may_decide: bool,
    body: &mut String,
) {
    let id = request.id;
    let status = request.status.name();
    let template = if request.within_template {
        "within the template"
    } else {
        "above the template"
    };
    let revision = request
        .revision
        .map_or(String::new(), |r| format!(" in revision {r}"));
    let decided = match (&request.decided_by, &request.decided) {
        (Some(by), Some(at)) => format!(
            "{} at {}: {}",
            text(by),
            text(at),
            text(request.reason.as_deref().unwrap_or(""))
        ),
        _ => "–".to_owned(),
    };
    let _ = write!(
        body,
        "<tr class=\"terms-request\" id=\"request-{id}\"><td class=\"num\">{id}</td>\
         <td><code>{}</code></td><td class=\"status {status}\">{status}{revision}<br>\
         <span class=\"muted\">{template}</span></td><td class=\"asked\">{}</td>\
         <td class=\"in-force\">{}</td><td>{}</td><td class=\"decided\">{decided}</td><td>",
        text(&request.tenant.0),
        text(&request.asked),
        request
            .in_force
            .as_ref()
            .map_or_else(|| "no partner any more".to_owned(), text),
        text(&request.created),
    );
    if may_decide && request.status == TermsStatus::Pending {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"{HERE}/requests/{id}/grant\" class=\"inline decide\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input name=\"reason\" placeholder=\"why\" required maxlength=\"2000\">\
             <button class=\"grant\">Grant</button>\
             <button class=\"decline danger\" formaction=\"{HERE}/requests/{id}/decline\">\
             Decline</button></form>",
            esc(&session.csrf)
        );
    }
    body.push_str("</td></tr>");
}

/// Each partner in the bundle in force: where its onboarding stands, its terms, and the invite
/// it came with (its template is what it may take without an operator).
fn partners_table(partners: &[PartnerEntry], invites: &[InviteEntry], body: &mut String) {
    body.push_str(
        "<h2>Partners in force</h2><p>Each partner's onboarding steps are its checklist as it \
         sees it, with its first valid sandbox and real receipts found among its earliest \
         1000. A failed step is also on the Bundles page's timeline \
         (<code>partner.step_failed</code>).</p><table id=\"partners\"><thead><tr>\
         <th>Tenant</th><th>Onboarding</th><th>Purposes, classes</th><th>Terms in force</th>\
         <th>Onboarding invite</th><th>Template (without approval)</th></tr></thead><tbody>",
    );
    if partners.is_empty() {
        body.push_str(
            "<tr><td colspan=\"6\" class=\"muted\">No partner in the bundle in force: make an \
             invite on the <a href=\"/console/invites\">Invites</a> page.</td></tr>",
        );
    }
    for partner in partners {
        let invite = invites.iter().find(|i| i.id == partner.invite);
        let made = invite.map_or_else(
            || format!("#{}", partner.invite),
            |i| {
                format!(
                    "#{} made by {} ({}), used {}",
                    i.id,
                    text(&i.created_by),
                    text(&i.reason),
                    text_or_dash(i.closed.as_ref())
                )
            },
        );
        let template = invite.map_or_else(
            || "–".to_owned(),
            |i| {
                let caps: Vec<String> = (i.template.caps.iter())
                    .map(|c| format!("{} {} {}", c.class, c.window, c.max_limit))
                    .collect();
                text(format!(
                    "rate {}/s, burst {}, {} keys, caps {}",
                    i.template.max_rate_per_sec,
                    i.template.max_burst,
                    i.template.max_registered_keys,
                    if caps.is_empty() {
                        "none".to_owned()
                    } else {
                        caps.join("; ")
                    }
                ))
            },
        );
        let _ = write!(
            body,
            "<tr class=\"partner\" id=\"partner-{}\"><td><code>{}</code></td>\
             <td class=\"onboarding\">{}</td><td>{}; {}</td>\
             <td class=\"terms\">{}</td><td>{made}</td><td>{template}</td></tr>",
            esc(&partner.tenant.0),
            text(&partner.tenant.0),
            steps_list(&partner.steps),
            text(partner.purposes.join(", ")),
            text(partner.classes.join(", ")),
            text(&partner.terms),
        );
    }
    body.push_str("</tbody></table>");
}

/// A partner's onboarding steps: how many are done, then each with what shows it done or
/// what the partner has to do.
fn steps_list(steps: &[OnboardingStep]) -> String {
    if steps.is_empty() {
        return "<span class=\"muted\">not known here</span>".to_owned();
    }
    let done = steps.iter().filter(|s| s.done).count();
    let mut list = format!(
        "<span class=\"steps-done\">{done} of {} done</span><ul class=\"steps\">",
        steps.len()
    );
    for step in steps {
        let (class, mark) = if step.done {
            ("done", "done")
        } else {
            ("todo", "to do")
        };
        let _ = write!(
            list,
            "<li class=\"step {class}\" data-step=\"{}\"><b>{}</b> {mark}: {}</li>",
            esc(&step.name),
            text(&step.name),
            text(&step.detail)
        );
    }
    list.push_str("</ul>");
    list
}
