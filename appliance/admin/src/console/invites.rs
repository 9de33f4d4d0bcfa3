//! The console's invites page: every partner invite with its status and, for those who may,
//! a form to make one (its text shown once) and a button to revoke each open one.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::{CreateInvite, InviteEntry, InviteStatus, InviteTemplate, RevokeInvite};

use super::html::{self, esc, page};
use super::{ReasonForm, error_page, error_text, form_session, logged_in};
use crate::api::{self, ApiState};
use crate::auth::Permission;
use crate::session::Session;

const HERE: &str = "/console/invites";

/// `GET /console/invites`.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    render(&state, &session, StatusCode::OK, String::new()).await
}

/// `POST /console/invites/create`: makes an invite and shows its text once.
pub async fn create(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let one = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map_or(String::new(), |(_, value)| value.trim().to_owned())
    };
    let session = match form_session(&request, &state, &one("csrf")) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let asked = match create_form(&form) {
        Ok(asked) => asked,
        Err(message) => {
            return render(
                &state,
                &session,
                StatusCode::BAD_REQUEST,
                html::notice("bad", &message),
            )
            .await;
        }
    };
    match api::create_invite_value(&state, &session.principal, asked).await {
        Ok(made) => {
            let notice = format!(
                "<div class=\"notice good\" id=\"made\">Invite {} for tenant {} made, usable once \
                 until {}. Its text, shown only now: <code id=\"invite\">{}</code> (hand it to \
                 the partner over a channel you trust).</div>",
                made.entry.id,
                esc(&made.entry.tenant),
                esc(&made.entry.expires),
                esc(&made.invite)
            );
            render(&state, &session, StatusCode::OK, notice).await
        }
        Err(error) => {
            let (status, message) = error_text(&error);
            render(&state, &session, status, html::notice("bad", &message)).await
        }
    }
}

/// `POST /console/invites/{id}/revoke`.
pub async fn revoke(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<u64>,
    form: web::Form<ReasonForm>,
) -> HttpResponse {
    let session = match form_session(&request, &state, &form.csrf) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let asked = RevokeInvite {
        reason: form.reason.clone(),
    };
    let (status, notice) =
        match api::revoke_invite_value(&state, &session.principal, id, asked).await {
            Ok(_) => (
                StatusCode::OK,
                format!("<div class=\"notice good\" id=\"revoked\">Invite {id} revoked.</div>"),
            ),
            Err(error) => {
                let (status, message) = error_text(&error);
                (status, html::notice("bad", &message))
            }
        };
    render(&state, &session, status, notice).await
}

/// The page, `notice` first.
async fn render(
    state: &ApiState,
    session: &Session,
    status: StatusCode,
    notice: String,
) -> HttpResponse {
    let reply = match api::invites_value(state).await {
        Ok(reply) => reply,
        Err(error) => return error_page(&error, session, HERE),
    };
    let may_change = session.principal.may(Permission::Invite);
    let mut body = notice;
    body.push_str(
        "<p>Single-use invites for partners, newest first. A partner redeems one over the \
         appliance's QUIC port; the appliance keeps only a digest of its secret.</p>\
         <table id=\"invites\"><thead><tr><th class=\"num\">Id</th><th>Tenant</th>\
         <th>Status</th><th>Expires (UTC)</th><th>Purposes, classes</th><th>Made by</th>\
         <th>Why</th><th></th></tr></thead><tbody>",
    );
    if reply.invites.is_empty() {
        body.push_str("<tr><td colspan=\"8\" class=\"muted\">No invite yet.</td></tr>");
    }
    for invite in &reply.invites {
        row(invite, session, may_change, &mut body);
    }
    body.push_str("</tbody></table>");
    if may_change {
        create_form_html(session, &mut body);
    }
    page(status, "Invites", HERE, Some(session), &body)
}

fn row(invite: &InviteEntry, session: &Session, may_change: bool, body: &mut String) {
    let id = invite.id;
    let status = match invite.status {
        InviteStatus::Open => "open",
        InviteStatus::Used => "used",
        InviteStatus::Revoked => "revoked",
        InviteStatus::Expired => "expired",
        _ => "?",
    };
    let closed = match (&invite.closed_by, &invite.closed) {
        (Some(by), Some(at)) => format!(" by {} at {}", esc(by), esc(at)),
        _ => String::new(),
    };
    let _ = write!(
        body,
        "<tr class=\"invite\" id=\"invite-{id}\"><td class=\"num\">{id}</td><td><code>{}</code>\
         </td><td class=\"status {status}\">{status}{closed}</td><td>{}</td><td>{}; {}</td>\
         <td>{}</td><td>{}</td><td>",
        esc(&invite.tenant),
        esc(&invite.expires),
        esc(&invite.template.purposes.join(", ")),
        esc(&invite.template.classes.join(", ")),
        esc(&invite.created_by),
        esc(&invite.reason),
    );
    if may_change && invite.status == InviteStatus::Open {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"{HERE}/{id}/revoke\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input name=\"reason\" placeholder=\"why\" required maxlength=\"2000\">\
             <button class=\"revoke\">revoke</button></form>",
            esc(&session.csrf)
        );
    }
    body.push_str("</td></tr>");
}

fn create_form_html(session: &Session, body: &mut String) {
    let _ = write!(
        body,
        "<h2>Make an invite</h2>\
         <form method=\"post\" action=\"{HERE}/create\" id=\"create-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"tenant\">Tenant (an id, or a prefix ending in *)</label>\
         <input id=\"tenant\" name=\"tenant\" required maxlength=\"64\">\
         <label for=\"purposes\">Purposes (comma-separated)</label>\
         <input id=\"purposes\" name=\"purposes\" required>\
         <fieldset><legend>Classes</legend>\
         <label><input type=\"checkbox\" name=\"classes\" value=\"P0\"> P0</label> \
         <label><input type=\"checkbox\" name=\"classes\" value=\"P1\" checked> P1</label> \
         <label><input type=\"checkbox\" name=\"classes\" value=\"P2\"> P2</label></fieldset>\
         <label for=\"max_rate\">Highest rate without approval, requests per second</label>\
         <input id=\"max_rate\" name=\"max_rate\" value=\"100\" inputmode=\"numeric\">\
         <label for=\"max_burst\">Highest burst</label>\
         <input id=\"max_burst\" name=\"max_burst\" value=\"50\" inputmode=\"numeric\">\
         <label for=\"max_keys\">Most verifying keys</label>\
         <input id=\"max_keys\" name=\"max_keys\" value=\"8\" inputmode=\"numeric\">\
         <label for=\"caps\">Caps without approval, CLASS:WINDOW:LIMIT (comma-separated, \
         such as P1:day:100000)</label><input id=\"caps\" name=\"caps\">\
         <label for=\"expires_in\">Usable for (1m to 30d)</label>\
         <input id=\"expires_in\" name=\"expires_in\" value=\"7d\">\
         <label for=\"reason\">Why</label><input id=\"reason\" name=\"reason\" required \
         maxlength=\"2000\"><p><button type=\"submit\" id=\"make-invite\">Make invite</button>\
         </p></form>",
        esc(&session.csrf)
    );
}

/// The invite asked for from the form's fields (checkboxes repeat `classes`).
fn create_form(fields: &[(String, String)]) -> Result<CreateInvite, String> {
    let one = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map_or(String::new(), |(_, value)| value.trim().to_owned())
    };
    let number = |name: &str, label: &str| {
        one(name)
            .parse::<u32>()
            .map_err(|_| format!("{label}: give a whole number"))
    };
    let list = |name: &str| -> Vec<String> {
        one(name)
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let caps = list("caps")
        .iter()
        .map(|text| text.parse().map_err(|e| format!("Caps: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CreateInvite {
        tenant: one("tenant"),
        template: InviteTemplate {
            purposes: list("purposes"),
            classes: fields
                .iter()
                .filter(|(key, _)| key == "classes")
                .map(|(_, value)| value.clone())
                .collect(),
            max_rate_per_sec: number("max_rate", "Highest rate")?,
            max_burst: number("max_burst", "Highest burst")?,
            max_registered_keys: number("max_keys", "Most verifying keys")?,
            caps,
        },
        expires_in: Some(one("expires_in")),
        reason: one("reason"),
    })
}
