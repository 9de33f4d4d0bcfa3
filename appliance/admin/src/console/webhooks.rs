//! The console's webhooks pages: every endpoint with its delivery figures and, for those who
//! may change them, a form to add one and buttons to pause, resume, rotate and remove; and
//! one endpoint's deliveries with their failures, acknowledgements and a replay button.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tf_admin_api::{
    AddWebhook, ChangeWebhook, DeliveriesQuery, MessageStatus, ReplayWebhook, TenantId,
    WebhookAction, WebhookEndpoint, WebhookMessage, WebhookSettings, WebhookState,
};
use tf_webhooks::EventType;

use super::html::{self, esc, page};
use super::{error_page, error_text, form_session, logged_in, text, text_or_dash};
use crate::api::{self, ApiState};
use crate::auth::Permission;
use crate::session::Session;

const HERE: &str = "/console/webhooks";

/// `GET /console/webhooks`.
pub async fn endpoints(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    render(&state, &session, StatusCode::OK, String::new()).await
}

/// The add form's fields.
pub struct AddForm {
    url: String,
    events: Vec<String>,
    schemes: Vec<String>,
    tenants: String,
    rate_per_s: String,
    batch_max: String,
    local: Option<String>,
    description: String,
    reason: String,
}

/// `POST /console/webhooks/add`: adds an endpoint and shows its secret once.
pub async fn add(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let csrf = form
        .iter()
        .find(|(key, _)| key == "csrf")
        .map_or("", |(_, value)| value.as_str());
    let session = match form_session(&request, &state, csrf) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let form = match add_form(&form) {
        Ok(form) => form,
        Err(message) => {
            return notice_page(&state, &session, StatusCode::BAD_REQUEST, &message).await;
        }
    };
    let number = |field: &str, text: &str| -> Result<Option<u32>, String> {
        match text.trim() {
            "" => Ok(None),
            value => value
                .parse()
                .map(Some)
                .map_err(|_| format!("{field}: give a whole number")),
        }
    };
    let settings = number("Rate per second", &form.rate_per_s).and_then(|rate_per_s| {
        Ok(WebhookSettings {
            events: form.events.clone(),
            tenants: tenants(&form.tenants),
            schemes: form.schemes.clone(),
            rate_per_s,
            batch_max: number("Receipts per message", &form.batch_max)?,
            local: form.local.is_some(),
            description: form.description.trim().to_owned(),
        })
    });
    let settings = match settings {
        Ok(settings) => settings,
        Err(message) => {
            return notice_page(&state, &session, StatusCode::BAD_REQUEST, &message).await;
        }
    };
    let add = AddWebhook {
        url: form.url.trim().to_owned(),
        settings,
        reason: form.reason.clone(),
    };
    match api::add_webhook_value(&state, session.principal.clone(), add).await {
        Ok(added) => {
            let notice = format!(
                "<div class=\"notice good\" id=\"added\">Endpoint {} added. Its secret, shown \
                 only now: <code id=\"secret\">{}</code> (give it to the receiver for v1 \
                 signatures).</div>",
                added.endpoint.id,
                esc(&added.secret)
            );
            render(&state, &session, StatusCode::OK, notice).await
        }
        Err(error) => {
            let (status, message) = error_text(&error);
            notice_page(&state, &session, status, &message).await
        }
    }
}

/// The change form's fields: the button pressed names the action.
#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: String,
    action: WebhookAction,
    reason: String,
}

/// `POST /console/webhooks/{id}/change`: pause, resume, rotate or remove.
pub async fn change(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<u64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    let session = match form_session(&request, &state, &form.csrf) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let change = ChangeWebhook {
        action: form.action,
        settings: None,
        reason: form.reason.clone(),
    };
    match api::change_webhook_value(&state, session.principal.clone(), id, change).await {
        Ok(changed) => {
            let mut notice = format!(
                "<div class=\"notice good\" id=\"changed\">Endpoint {id}: {} done.",
                action_name(form.action)
            );
            if let Some(secret) = &changed.secret {
                let _ = write!(
                    notice,
                    " Its new secret, shown only now: <code id=\"secret\">{}</code>; the old \
                     one keeps signing beside it for 24 hours.",
                    esc(secret)
                );
            }
            notice.push_str("</div>");
            render(&state, &session, StatusCode::OK, notice).await
        }
        Err(error) => {
            let (status, message) = error_text(&error);
            notice_page(&state, &session, status, &message).await
        }
    }
}

/// `GET /console/webhooks/{id}`: an endpoint's deliveries.
pub async fn deliveries(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<u64>,
    query: web::Query<DeliveriesQuery>,
) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    render_deliveries(
        &state,
        &session,
        path.into_inner(),
        query.into_inner(),
        StatusCode::OK,
        String::new(),
    )
    .await
}

/// The replay form's fields.
#[derive(Deserialize)]
pub struct ReplayForm {
    csrf: String,
    from: u64,
    to: u64,
    reason: String,
}

/// `POST /console/webhooks/{id}/replay`.
pub async fn replay(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<u64>,
    form: web::Form<ReplayForm>,
) -> HttpResponse {
    let session = match form_session(&request, &state, &form.csrf) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let replay = ReplayWebhook {
        from: form.from,
        to: form.to,
        reason: form.reason.clone(),
    };
    let (status, notice) =
        match api::replay_value(&state, session.principal.clone(), id, replay).await {
            Ok(done) => (
                StatusCode::OK,
                format!(
                    "<div class=\"notice good\" id=\"replayed\">Messages {} to {}: {} sent \
                     again, {} still on their way, {} no longer available.</div>",
                    form.from, form.to, done.queued, done.still_owed, done.unavailable
                ),
            ),
            Err(error) => {
                let (status, message) = error_text(&error);
                (status, html::notice("bad", &message))
            }
        };
    render_deliveries(
        &state,
        &session,
        id,
        DeliveriesQuery::default(),
        status,
        notice,
    )
    .await
}

/// The endpoints page, `notice` first.
async fn render(
    state: &ApiState,
    session: &Session,
    status: StatusCode,
    notice: String,
) -> HttpResponse {
    if let Err(error) = api::may(&session.principal, Permission::ReadReceipts) {
        return error_page(&error, session, HERE);
    }
    let reply = match api::webhooks_value(state).await {
        Ok(reply) => reply,
        Err(error) => return error_page(&error, session, HERE),
    };
    let may_change = session.principal.may(Permission::Webhooks);
    let mut body = notice;
    let _ = write!(
        body,
        "<p>Signed receipts and events are pushed to these endpoints (Standard Webhooks). \
         <code>v1a</code> signatures verify with <code id=\"public-key\">{}</code>.</p>",
        esc(&reply.public_key)
    );
    body.push_str(
        "<table id=\"endpoints\"><thead><tr><th>Id</th><th>URL</th><th>State</th>\
         <th>Events</th><th class=\"num\">Acknowledged</th><th class=\"num\">Failed</th>\
         <th class=\"num\">Owed</th><th class=\"num\">Oldest owed</th><th></th></tr></thead>\
         <tbody>",
    );
    if reply.endpoints.is_empty() {
        body.push_str(
            "<tr><td colspan=\"9\" class=\"muted\">No endpoint yet: add one below.</td></tr>",
        );
    }
    let now_us = tf_seam::clock::unix_micros();
    for endpoint in &reply.endpoints {
        endpoint_row(endpoint, session, may_change, now_us, &mut body);
    }
    body.push_str("</tbody></table>");
    if may_change {
        add_form_html(session, &mut body);
    }
    page(status, "Webhooks", HERE, Some(session), &body)
}

fn endpoint_row(
    endpoint: &WebhookEndpoint,
    session: &Session,
    may_change: bool,
    now_us: u64,
    body: &mut String,
) {
    let id = endpoint.id;
    let failed: u64 = endpoint.delivery.failures.iter().map(|f| f.count).sum();
    let oldest = endpoint
        .delivery
        .oldest_owed_unix_us
        .map(|us| format!("{} s", now_us.saturating_sub(us) / 1_000_000));
    let state = state_name(endpoint.state);
    let _ = write!(
        body,
        "<tr class=\"endpoint\" id=\"endpoint-{id}\"><td>{id}</td><td><code>{}</code></td>\
         <td class=\"status {state}\" title=\"{}\">{state}</td><td>{}</td>\
         <td class=\"num acknowledged\">{}</td><td class=\"num\">{failed}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td><a href=\"/console/webhooks/{id}\">deliveries</a>",
        esc(&endpoint.url),
        esc(&endpoint.state_reason),
        esc(&endpoint.settings.events.join(", ")),
        text(endpoint.delivery.acknowledged),
        text(endpoint.delivery.owed_messages),
        text_or_dash(oldest),
    );
    if may_change {
        let toggle = match endpoint.state {
            WebhookState::Active => "pause",
            _ => "resume",
        };
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/console/webhooks/{id}/change\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input name=\"reason\" placeholder=\"why\" required maxlength=\"2000\">\
             <button name=\"action\" value=\"{toggle}\">{toggle}</button>\
             <button name=\"action\" value=\"rotate\">rotate secret</button>\
             <button name=\"action\" value=\"remove\">remove</button></form>",
            esc(&session.csrf)
        );
    }
    body.push_str("</td></tr>");
}

fn add_form_html(session: &Session, body: &mut String) {
    let _ = write!(
        body,
        "<h2>Add an endpoint</h2>\
         <form method=\"post\" action=\"/console/webhooks/add\" id=\"add-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"url\">URL</label>\
         <input id=\"url\" name=\"url\" required maxlength=\"2048\" \
         placeholder=\"https://audit.example.com/webhooks\">\
         <fieldset><legend>Events</legend>",
        esc(&session.csrf)
    );
    for event in EventType::ALL {
        let name = event.as_str();
        let checked = if event == EventType::ReceiptIssued {
            " checked"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<label><input type=\"checkbox\" name=\"events\" value=\"{name}\"{checked}> \
             {name}</label> "
        );
    }
    body.push_str(
        "</fieldset><fieldset><legend>Signatures</legend>\
         <label><input type=\"checkbox\" name=\"schemes\" value=\"v1\" checked> v1 \
         (HMAC, a secret shared with the receiver)</label> \
         <label><input type=\"checkbox\" name=\"schemes\" value=\"v1a\"> v1a (Ed25519, the \
         public key above)</label></fieldset>\
         <label for=\"tenants\">Tenants (comma-separated; empty: every tenant)</label>\
         <input id=\"tenants\" name=\"tenants\">\
         <label for=\"rate_per_s\">Attempts per second (default 20)</label>\
         <input id=\"rate_per_s\" name=\"rate_per_s\" inputmode=\"numeric\">\
         <label for=\"batch_max\">Receipts per message (default 100)</label>\
         <input id=\"batch_max\" name=\"batch_max\" inputmode=\"numeric\">\
         <label for=\"description\">Description</label>\
         <input id=\"description\" name=\"description\" maxlength=\"200\">",
    );
    if session.principal.may(Permission::LocalWebhook) {
        body.push_str(
            "<label><input type=\"checkbox\" name=\"local\" id=\"local\"> Local: allow \
             private and loopback addresses and http:// (SRE only)</label>",
        );
    }
    body.push_str(
        "<label for=\"reason\">Why</label><input id=\"reason\" name=\"reason\" required \
         maxlength=\"2000\"><p><button type=\"submit\" id=\"add-endpoint\">Add endpoint</button>\
         </p></form>",
    );
}

/// One endpoint's deliveries, `notice` first.
async fn render_deliveries(
    state: &ApiState,
    session: &Session,
    id: u64,
    query: DeliveriesQuery,
    status: StatusCode,
    notice: String,
) -> HttpResponse {
    let here = format!("{HERE}/{id}");
    if let Err(error) = api::may(&session.principal, Permission::ReadReceipts) {
        return error_page(&error, session, &here);
    }
    let reply = match api::deliveries_value(state, id, query).await {
        Ok(reply) => reply,
        Err(error) => return error_page(&error, session, &here),
    };
    let may_replay = session.principal.may(Permission::Webhooks);
    let mut body = notice;
    let _ = write!(
        body,
        "<p><a href=\"{HERE}\">All endpoints</a>. Newest first; the answer digest is the \
         auditor's reference of an acknowledgement.</p>\
         <table id=\"deliveries\"><thead><tr><th class=\"num\">#</th><th>webhook-id</th>\
         <th>Event</th><th>Receipts</th><th>Status</th><th class=\"num\">Attempts</th>\
         <th>Last failure</th><th>Answer digest</th><th></th></tr></thead><tbody>"
    );
    if reply.messages.is_empty() {
        body.push_str("<tr><td colspan=\"9\" class=\"muted\">No message yet.</td></tr>");
    }
    for message in &reply.messages {
        message_row(message, session, id, may_replay, &mut body);
    }
    body.push_str("</tbody></table>");
    if let Some(oldest) = reply.messages.last().filter(|m| m.number > 1) {
        let _ = write!(
            body,
            "<p><a href=\"{HERE}/{id}?before={}\">older</a></p>",
            oldest.number
        );
    }
    if may_replay {
        let _ = write!(
            body,
            "<h2>Replay a range</h2>\
             <form method=\"post\" action=\"{HERE}/{id}/replay\" id=\"replay-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label for=\"from\">From message</label><input id=\"from\" name=\"from\" required \
             inputmode=\"numeric\"><label for=\"to\">To message</label><input id=\"to\" \
             name=\"to\" required inputmode=\"numeric\"><label for=\"replay-reason\">Why</label>\
             <input id=\"replay-reason\" name=\"reason\" required maxlength=\"2000\">\
             <p><button type=\"submit\" id=\"replay\">Replay</button></p></form>",
            esc(&session.csrf)
        );
    }
    page(
        status,
        &format!("Webhook endpoint {id}"),
        HERE,
        Some(session),
        &body,
    )
}

fn message_row(
    message: &WebhookMessage,
    session: &Session,
    id: u64,
    may_replay: bool,
    body: &mut String,
) {
    let status = match message.status {
        MessageStatus::Owed => "owed",
        MessageStatus::Acknowledged => "acknowledged",
        MessageStatus::GivenUp => "given-up",
        _ => "",
    };
    let receipts = match (message.first_seq, message.last_seq) {
        (Some(first), Some(last)) if first == last => first.to_string(),
        (Some(first), Some(last)) => format!("{first}–{last}"),
        _ => String::new(),
    };
    let _ = write!(
        body,
        "<tr class=\"message\" id=\"message-{}\"><td class=\"num\">{}</td><td><code>{}</code></td>\
         <td>{}</td><td>{receipts}</td><td class=\"status {status}\">{status}</td>\
         <td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td><td>",
        message.number,
        message.number,
        esc(&message.id),
        esc(&message.event),
        message.attempts,
        text_or_dash(message.last_failure.as_deref()),
        text_or_dash(message.answer_sha256.as_deref().map(|d| &d[..16])),
    );
    if may_replay && message.status != MessageStatus::Owed {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"{HERE}/{id}/replay\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"from\" value=\"{n}\">\
             <input type=\"hidden\" name=\"to\" value=\"{n}\">\
             <input type=\"hidden\" name=\"reason\" value=\"replayed from the console\">\
             <button type=\"submit\" class=\"replay-one\">replay</button></form>",
            esc(&session.csrf),
            n = message.number
        );
    }
    body.push_str("</td></tr>");
}

/// The endpoints page with an error notice.
async fn notice_page(
    state: &ApiState,
    session: &Session,
    status: StatusCode,
    message: &str,
) -> HttpResponse {
    render(state, session, status, html::notice("bad", message)).await
}

/// The add form from its fields (checkboxes repeat `events` and `schemes`).
fn add_form(fields: &[(String, String)]) -> Result<AddForm, String> {
    let one = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let all = |name: &str| {
        fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    };
    Ok(AddForm {
        url: one("url").ok_or("URL: give the endpoint's URL")?,
        events: all("events"),
        schemes: all("schemes"),
        tenants: one("tenants").unwrap_or_default(),
        rate_per_s: one("rate_per_s").unwrap_or_default(),
        batch_max: one("batch_max").unwrap_or_default(),
        local: one("local"),
        description: one("description").unwrap_or_default(),
        reason: one("reason").unwrap_or_default(),
    })
}

/// `a, b` as tenants; none for every tenant.
fn tenants(text: &str) -> Option<Vec<TenantId>> {
    let tenants: Vec<TenantId> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| TenantId(t.to_owned()))
        .collect();
    (!tenants.is_empty()).then_some(tenants)
}

fn state_name(state: WebhookState) -> &'static str {
    match state {
        WebhookState::Active => "active",
        WebhookState::Paused => "paused",
        WebhookState::Disabled => "disabled",
        _ => "",
    }
}

fn action_name(action: WebhookAction) -> &'static str {
    match action {
        WebhookAction::Pause => "pause",
        WebhookAction::Resume => "resume",
        WebhookAction::Rotate => "secret rotation",
        WebhookAction::Change => "change",
        WebhookAction::Remove => "removal",
        _ => "change",
    }
}
