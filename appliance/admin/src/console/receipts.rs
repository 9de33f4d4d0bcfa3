//! The console's receipts (auditor or sre, as the API): a search by tenant, decision time,
//! request id and verdict, newest first a page at a time, through the same function and
//! query type as `GET /api/v1/receipts`; and one receipt by its ledger sequence number.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tf_admin_api::{ReceiptReply, ReceiptVerdict, ReceiptsQuery, ReceiptsReply};

use super::html::{self, esc, page};
use super::{error_page, error_text, logged_in, see_other, text};
use crate::api::{self, ApiState};
use crate::auth::Permission;
use crate::session::Session;

const HERE: &str = "/console/receipts";

/// `GET /console/receipts`: the search form and the page of receipts it asks for (the newest
/// when nothing is asked).
pub async fn search(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    // The lookup by sequence number used to live at this address.
    if let Ok(old) = web::Query::<Lookup>::from_query(request.query_string())
        && old.seq.is_some()
    {
        return see_other(&format!("/console/receipt?{}", request.query_string()));
    }
    if let Err(error) = api::may(&session.principal, Permission::ReadReceipts) {
        return error_page(&error, &session, HERE);
    }
    let query = web::Query::<ReceiptsQuery>::from_query(request.query_string());
    let mut body = form(query.as_ref().ok().map(|q| &q.0), &state);
    let query = match query {
        Ok(query) => query.into_inner(),
        Err(error) => {
            let message = match error {
                actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
                other => other.to_string(),
            };
            body.push_str(&html::notice("bad", &format!("Not searched: {message}.")));
            return done(StatusCode::BAD_REQUEST, &session, body);
        }
    };
    match api::search_receipts_value(&state, &query).await {
        Ok(found) => {
            body.push_str(&results(&query, &found));
            done(StatusCode::OK, &session, body)
        }
        Err(error) => {
            let (status, message) = error_text(&error);
            body.push_str(&html::notice("bad", &message));
            done(status, &session, body)
        }
    }
}

/// The query of `/console/receipt`.
#[derive(Deserialize)]
pub struct Lookup {
    seq: Option<String>,
}

/// `GET /console/receipt?seq=N`: one receipt, as issued.
pub async fn one(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<Lookup>,
) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(error) = api::may(&session.principal, Permission::ReadReceipts) {
        return error_page(&error, &session, HERE);
    }
    // The receipt (or why there is none) first, then the form to look up another.
    let Some(seq) = query.seq.as_deref().filter(|s| !s.trim().is_empty()) else {
        return done(StatusCode::OK, &session, lookup_form());
    };
    let (status, shown) = match seq.trim().parse::<u64>() {
        Err(_) => (
            StatusCode::BAD_REQUEST,
            html::notice("bad", "A sequence number is a whole number, such as 42."),
        ),
        Ok(seq) => match api::receipt_value(&state, seq).await {
            Ok(receipt) => (StatusCode::OK, receipt_table(&receipt)),
            Err(error) => {
                let (status, message) = error_text(&error);
                (status, html::notice("bad", &message))
            }
        },
    };
    done(status, &session, shown + &lookup_form())
}

fn done(status: StatusCode, session: &Session, body: String) -> HttpResponse {
    page(status, "Receipts", HERE, Some(session), &body)
}

/// The search form, filled in with `query` (if it parsed); tenants the shards serve are
/// offered.
fn form(query: Option<&ReceiptsQuery>, state: &ApiState) -> String {
    let query = query.cloned().unwrap_or_default();
    let value = |v: Option<String>| esc(&v.unwrap_or_default());
    let mut html = String::from(
        "<form method=\"get\" action=\"/console/receipts\" id=\"search\"><div class=\"fields\">",
    );
    let _ = write!(
        html,
        "<div><label for=\"tenant\">Tenant</label>\
         <input type=\"text\" id=\"tenant\" name=\"tenant\" list=\"tenant-names\" value=\"{}\">\
         <datalist id=\"tenant-names\">",
        value(query.tenant.as_ref().map(|t| t.0.clone()))
    );
    for tenant in state.metrics.tenants().iter() {
        let _ = write!(html, "<option value=\"{}\">", esc(tenant));
    }
    let _ = write!(
        html,
        "</datalist></div>\
         <div><label for=\"from\">Decided from</label>\
         <input type=\"text\" id=\"from\" name=\"from\" placeholder=\"2026-11-24T10:00:00Z\" value=\"{}\"></div>\
         <div><label for=\"to\">Decided before</label>\
         <input type=\"text\" id=\"to\" name=\"to\" placeholder=\"2026-11-25\" value=\"{}\"></div>\
         <div><label for=\"request_id\">Request id</label>\
         <input type=\"number\" id=\"request_id\" name=\"request_id\" min=\"0\" value=\"{}\"></div>\
         <div><label for=\"verdict\">Verdict</label><select id=\"verdict\" name=\"verdict\">\
         <option value=\"\">any</option>",
        value(query.from.map(|t| t.rfc3339())),
        value(query.to.map(|t| t.rfc3339())),
        value(query.request_id.map(|id| id.to_string())),
    );
    for verdict in ReceiptVerdict::ALL {
        let selected = if query.verdict == Some(verdict) {
            " selected"
        } else {
            ""
        };
        let _ = write!(html, "<option{selected}>{verdict}</option>");
    }
    let _ = write!(
        html,
        "</select></div><div><label for=\"limit\">Per page (1 to {max})</label>\
         <input type=\"number\" id=\"limit\" name=\"limit\" min=\"1\" max=\"{max}\" \
         placeholder=\"{default}\" value=\"{}\"></div></div>\
         <p class=\"muted\">Times: RFC 3339, a UTC date or Unix seconds; the period is \
         [from, before). Every field filled in must hold.</p>\
         <p><button type=\"submit\" id=\"find\">Search</button></p></form>",
        value(query.limit.map(|n| n.to_string())),
        max = ReceiptsQuery::MAX_LIMIT,
        default = ReceiptsQuery::DEFAULT_LIMIT,
    );
    html
}

/// A page of receipts, newest first, and links to the newest and to older ones.
fn results(query: &ReceiptsQuery, found: &ReceiptsReply) -> String {
    let mut html = String::from(
        "<h2>Receipts found, newest first</h2><table id=\"results\"><thead><tr>\
         <th class=\"num\">Sequence</th><th>Decided (UTC)</th><th>Tenant</th>\
         <th class=\"num\">Request id</th><th>Verdict</th><th>Purpose</th><th>Class</th>\
         <th class=\"num\">Charged</th></tr></thead><tbody>",
    );
    if found.receipts.is_empty() {
        html.push_str("<tr><td colspan=\"8\" class=\"muted\">No receipt matches.</td></tr>");
    }
    for receipt in &found.receipts {
        let _ = write!(
            html,
            "<tr id=\"receipt-{seq}\"><td class=\"num\"><a href=\"/console/receipt?seq={seq}\">{seq}</a></td>\
             <td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"verdict {v}\">{v}</td>\
             <td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            text(&receipt.decided),
            text(&receipt.tenant),
            text(receipt.request_id),
            text(&receipt.purpose),
            text(&receipt.dataset_class),
            text(receipt.charged),
            seq = receipt.seq,
            v = esc(&receipt.verdict),
        );
    }
    html.push_str("</tbody></table><p class=\"paging\">");
    if query.before.is_some() {
        let newest = ReceiptsQuery {
            before: None,
            ..query.clone()
        };
        let _ = write!(
            html,
            "<a id=\"newest\" href=\"/console/receipts?{}\">← Newest</a> ",
            esc(&newest.to_query_string())
        );
    }
    if let Some(next) = found.next_before {
        let _ = write!(
            html,
            "<a id=\"older\" href=\"/console/receipts?{}\">Older →</a>",
            esc(&query.after(next).to_query_string())
        );
    }
    html.push_str("</p>");
    html.push_str(&lookup_form());
    html
}

/// The lookup of one receipt by its sequence number.
fn lookup_form() -> String {
    "<h2>One receipt</h2><form method=\"get\" action=\"/console/receipt\">\
     <label for=\"seq\">Ledger sequence number (on every receipt as <code>ledger_seq</code>)</label>\
     <input type=\"number\" id=\"seq\" name=\"seq\" min=\"1\" required> \
     <button type=\"submit\">Look up</button></form>"
        .to_owned()
}

/// One receipt's fields and its signed payload.
fn receipt_table(receipt: &ReceiptReply) -> String {
    format!(
        "<h2>Receipt {}</h2><table id=\"receipt\"><tbody>\
         <tr><th>Tenant</th><td>{}</td></tr><tr><th>Request id</th><td>{}</td></tr>\
         <tr><th>Verdict</th><td>{}</td></tr>\
         <tr><th>Purpose</th><td>{}</td></tr><tr><th>Dataset class</th><td>{}</td></tr>\
         <tr><th>Charged</th><td>{}</td></tr><tr><th>Decided (UTC)</th><td>{}</td></tr>\
         </tbody></table><h2>Signed receipt (DSSE)</h2><pre>{}</pre>",
        receipt.seq,
        text(&receipt.tenant),
        text(receipt.request_id),
        text(&receipt.verdict),
        text(&receipt.purpose),
        text(&receipt.dataset_class),
        text(receipt.charged),
        text(&receipt.decided),
        esc(&serde_json::to_string_pretty(&receipt.receipt).unwrap_or_default())
    )
}
