//! Page layout and escaping for the console. Everything a page shows comes through [`esc`].

use std::fmt::Write;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use tf_admin_api::ErrorBody;

use crate::session::Session;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const NAV: [(&str, &str); 10] = [
    ("/console", "Overview"),
    ("/console/tenants", "Tenants &amp; budgets"),
    ("/console/bundles", "Bundles"),
    ("/console/receipts", "Receipts"),
    ("/console/compliance", "Compliance"),
    ("/console/scenarios", "Scenarios"),
    ("/console/canary", "Canary"),
    ("/console/webhooks", "Webhooks"),
    ("/console/invites", "Invites"),
    ("/console/partners", "Partners"),
];

/// The navigation's page in fleet mode only (outside it there is no fleet to show).
const FLEET_NAV: (&str, &str) = ("/console/fleet", "Fleet");

/// A whole page: header with navigation and the user, then `body`.
pub fn page(
    status: StatusCode,
    title: &str,
    here: &str,
    session: Option<&Session>,
    body: &str,
) -> HttpResponse {
    let mut html = String::new();
    let csrf = session.map(|s| s.csrf.as_str()).unwrap_or("");
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"csrf-token\" content=\"{}\">\
         <title>{} · Trust Fabric</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         <script src=\"/console/assets/console.js\" defer></script></head><body><header>\
         <strong>Trust Fabric</strong>",
        esc(csrf),
        esc(title)
    );
    if let Some(session) = session {
        let fleet = session.fleet.then_some(FLEET_NAV);
        for (href, label) in NAV.into_iter().chain(fleet) {
            let class = if href == here { " class=\"here\"" } else { "" };
            let _ = write!(html, "<a href=\"{href}\"{class}>{label}</a>");
        }
        let roles: Vec<&str> = session.principal.roles.iter().map(|r| r.name()).collect();
        let _ = write!(
            html,
            "<span class=\"who\">{} ({})</span>\
             <form method=\"post\" action=\"/console/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Log out</button></form>",
            esc(&session.principal.name),
            esc(&roles.join(", ")),
            esc(&session.csrf)
        );
    }
    let _ = write!(
        html,
        "</header><main><h1>{}</h1>{body}</main></body></html>",
        esc(title)
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"))
        .body(html)
}

/// A notice box (`good`, `bad` or plain).
pub fn notice(kind: &str, text: &str) -> String {
    format!("<div class=\"notice {kind}\">{}</div>", esc(text))
}

/// The message of an API error, with every problem of a refused bundle, for showing on a page.
pub fn error_message(error: &ErrorBody) -> String {
    let mut message = error.message.clone();
    for problem in error.problems.iter().flatten() {
        message.push_str("; ");
        message.push_str(&problem.message);
    }
    message
}
