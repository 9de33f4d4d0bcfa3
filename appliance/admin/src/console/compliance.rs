//! The console's compliance page: every snapshot with its period, receipts and status, a link
//! to its archive (the admin API's archive route, which the session cookie opens), and for
//! SREs a button that asks for a snapshot up to now.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::{SnapshotEntry, SnapshotStatus, SnapshotsReply};

use super::html::{self, esc, page};
use super::{CsrfForm, error_page, form_session, logged_in, text, text_or_dash};
use crate::api::{self, ApiState};
use crate::auth::Permission;
use crate::session::Session;

const HERE: &str = "/console/compliance";

/// `GET /console/compliance`.
pub async fn snapshots(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    render(&state, &session, StatusCode::OK, "")
}

/// `POST /console/compliance/snapshot`: asks for a snapshot up to now, then shows the page
/// with what was asked.
pub async fn ask(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let session = match form_session(&request, &state, &form.csrf) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(error) = api::may(&session.principal, Permission::Snapshot) {
        return error_page(&error, &session, HERE);
    }
    let now_us = tf_seam::clock::unix_micros();
    match api::ask_snapshot_value(&state, &session.principal, now_us) {
        Ok(asked) => {
            let notice = html::notice(
                "good",
                &format!(
                    "Asked for {}: it seals everything decided before {} and is listed below \
                     once made, in a few seconds (reload the page).",
                    asked.name, asked.to
                ),
            );
            render(&state, &session, StatusCode::ACCEPTED, &notice)
        }
        Err(error) => {
            let (status, message) = super::error_text(&error);
            render(&state, &session, status, &html::notice("bad", &message))
        }
    }
}

/// The page, `notice` first.
fn render(state: &ApiState, session: &Session, status: StatusCode, notice: &str) -> HttpResponse {
    if let Err(error) = api::may(&session.principal, Permission::ReadReceipts) {
        return error_page(&error, session, HERE);
    }
    let reply = match api::snapshots_value(state) {
        Ok(reply) => reply,
        Err(error) => return error_page(&error, session, HERE),
    };
    let mut body = String::from(notice);
    worker(&reply, &mut body);
    if session.principal.may(Permission::Snapshot) {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/console/compliance/snapshot\" id=\"ask-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <p><button type=\"submit\" id=\"ask-snapshot\">Snapshot now</button> \
             <span class=\"muted\">seals everything decided up to now, without waiting for the \
             schedule</span></p></form>",
            esc(&session.csrf)
        );
    }
    table(&reply.snapshots, &mut body);
    page(status, "Compliance snapshots", HERE, Some(session), &body)
}

/// Where the worker stands, in a few lines.
fn worker(reply: &SnapshotsReply, body: &mut String) {
    let worker = &reply.worker;
    let _ = write!(
        body,
        "<p>Packets are kept in <code>{}</code> on the appliance. Next scheduled snapshot: \
         <span id=\"next-scheduled\">{}</span> UTC.",
        esc(&worker.dir),
        text_or_dash(worker.next_scheduled.as_ref())
    );
    if let Some(asked) = &worker.asked_to {
        let _ = write!(
            body,
            " Being made: <span id=\"asked\">everything before {} UTC</span>.",
            esc(asked)
        );
    }
    body.push_str("</p>");
    if let Some(waiting) = &worker.waiting {
        body.push_str(&html::notice("", &format!("Waiting: {waiting}")));
    }
    if let Some(error) = &worker.last_error {
        body.push_str(&html::notice("bad", &format!("Last failure: {error}")));
    }
    if let Some(why) = &worker.pruning_stopped {
        body.push_str(&html::notice("bad", &format!("Pruning stopped: {why}")));
    }
}

/// Every packet, newest first.
fn table(snapshots: &[SnapshotEntry], body: &mut String) {
    body.push_str(
        "<table id=\"snapshots\"><thead><tr><th>Snapshot</th><th>Period (UTC)</th>\
         <th class=\"num\">Receipts</th><th class=\"num\">Charged</th>\
         <th class=\"num\">Tenants</th><th class=\"num\">Log size</th><th class=\"num\">Size</th>\
         <th class=\"num\">Anchor</th><th>Status</th><th></th></tr></thead><tbody>",
    );
    if snapshots.is_empty() {
        body.push_str(
            "<tr><td colspan=\"10\" class=\"muted\">No snapshot yet: the first is made at the \
             next scheduled time, or when an SRE asks.</td></tr>",
        );
    }
    for entry in snapshots.iter().rev() {
        let name = esc(&entry.name.0);
        let (period, receipts, charged, tenants, tree_size) = match &entry.summary {
            Some(s) => (
                format!("{} → {}", esc(&s.from), esc(&s.to)),
                text(s.receipts),
                text(s.charged),
                text(s.tenants.len()),
                text(s.tree_size),
            ),
            None => Default::default(),
        };
        let status = entry.status.name();
        let why = match &entry.damaged {
            Some(why) => format!("<div class=\"muted\">{}</div>", esc(why)),
            None => String::new(),
        };
        let _ = write!(
            body,
            "<tr class=\"snapshot\" id=\"{name}\"><td><code>{name}</code></td>\
             <td class=\"period\">{period}</td>\
             <td class=\"num\">{receipts}</td><td class=\"num\">{charged}</td>\
             <td class=\"num\">{tenants}</td><td class=\"num\">{tree_size}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"status {status}\" title=\"{}\">{status}{why}</td>\
             <td><a class=\"archive\" href=\"/api/v1/compliance/snapshots/{name}/archive\" \
             download=\"{name}.tar.gz\">download .tar.gz</a></td></tr>",
            esc(&entry.size_text()),
            text_or_dash(entry.anchor_seq),
            esc(meaning(entry.status)),
        );
    }
    body.push_str("</tbody></table>");
}

/// What a status means for the operator, in a sentence (the cell's tooltip).
fn meaning(status: SnapshotStatus) -> &'static str {
    match status {
        SnapshotStatus::Damaged => "Its index does not open with this appliance's key",
        SnapshotStatus::NotAnchored => "Not anchored in the transparency log yet",
        SnapshotStatus::ReceiptsHeld => "The ledger still holds its receipts",
        SnapshotStatus::ReceiptsPruned => {
            "The ledger pruned its receipts: this packet is their only copy, keep it backed up"
        }
        _ => "",
    }
}
