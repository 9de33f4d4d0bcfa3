//! The overview page: live figures the script refreshes every 2 s from `/api/v1/overview`,
//! the last hour's charts (drawn here; the script reloads them every 5 s from
//! `/console/overview/history`), each tenant's requests by class, and the shards.
//!
//! Requests are counted in three classes, apart: verdicts (valid, and invalid: a proof that
//! did not verify is an answer, not an error), refusals (the tenant's terms, budget or the
//! appliance's load turned it away) and errors (the request could not be decided).

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};

use super::html::{esc, page};
use super::{charts, error_page, logged_in, text};
use crate::api::{self, ApiState, console_session};

const HERE: &str = "/console";

/// `GET /console`.
pub async fn show(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let status = match api::status_value(&state).await {
        Ok(status) => status,
        Err(error) => return error_page(&error, &session, HERE),
    };
    let overview = api::overview_value(&state);
    let history = api::history_value(&state).await;
    let all = overview.tenants.iter().map(|t| t.outcomes);
    let (invalid, errors) = all.fold((0, 0), |(i, e), o| (i + o.invalid, e + o.errors()));
    let mut body = String::from("<div id=\"live\" class=\"cards\">");
    for (id, label, initial) in [
        ("live-rate", "Answers per second", "…".to_owned()),
        ("live-p50", "Decision p50", "…".to_owned()),
        ("live-p95", "Decision p95", "…".to_owned()),
        ("live-p99", "Decision p99", "…".to_owned()),
        (
            "live-invalid",
            "Invalid verdicts since start",
            text(invalid),
        ),
        ("live-errors", "Errors since start", text(errors)),
        (
            "live-connections",
            "Connections",
            text(overview.connections),
        ),
        (
            "live-queued",
            "Queued for verification",
            text(overview.queued),
        ),
        (
            "live-revision",
            "Bundle revision in force",
            text(status.revision),
        ),
    ] {
        let _ = write!(
            body,
            "<div class=\"card\"><div class=\"label\">{label}</div>\
             <div class=\"value\" id=\"{id}\">{initial}</div></div>"
        );
    }
    let _ = write!(
        body,
        "</div><p class=\"muted\" id=\"live-state\">Rates and percentiles cover the last two \
         seconds; they appear after the second reading.</p>\
         <h2>Last hour</h2><section id=\"history\">{}</section>\
         <p class=\"muted\">A sample every {} s, kept in the appliance's memory for an hour \
         (a restart starts afresh). p99 is over every tenant.</p>",
        charts::history(&history),
        history.interval_seconds
    );
    body.push_str(
        "<h2>Per tenant</h2><p class=\"muted\">Invalid: well-formed proofs that did not \
         verify, which are answers, not errors. Refused: turned away by the tenant's terms, \
         its budget or the appliance's load. Errors: requests that could not be decided \
         (malformed, rejected before verification).</p>\
         <table id=\"tenants\"><thead><tr><th rowspan=\"2\">Tenant</th>\
         <th colspan=\"4\" class=\"num\">Last two seconds, per second</th>\
         <th colspan=\"4\" class=\"num\">Since start</th></tr><tr>\
         <th class=\"num\">Requests</th><th class=\"num\">Invalid</th>\
         <th class=\"num\">Refused</th><th class=\"num\">Errors</th>\
         <th class=\"num\">Valid</th><th class=\"num\">Invalid</th>\
         <th class=\"num\">Refused</th><th class=\"num\">Errors</th></tr></thead><tbody>",
    );
    for tenant in &overview.tenants {
        let outcomes = &tenant.outcomes;
        let _ = write!(
            body,
            "<tr id=\"tenant-{n}\"><td>{n}</td>\
             <td class=\"num\" id=\"rate-{n}\">…</td><td class=\"num\" id=\"invalid-rate-{n}\">…</td>\
             <td class=\"num\" id=\"refused-rate-{n}\">…</td><td class=\"num\" id=\"errors-rate-{n}\">…</td>\
             <td class=\"num\" id=\"valid-{n}\">{}</td><td class=\"num\" id=\"invalid-{n}\">{}</td>\
             <td class=\"num\" id=\"refused-{n}\">{}</td><td class=\"num\" id=\"errors-{n}\">{}</td></tr>",
            outcomes.valid,
            outcomes.invalid,
            outcomes.refused(),
            outcomes.errors(),
            n = esc(&tenant.tenant.0)
        );
    }
    body.push_str(
        "</tbody></table><h2>Shards</h2><table><thead><tr><th>Shard</th>\
        <th class=\"num\">Bundle revision</th><th class=\"num\">Connections</th>\
        <th class=\"num\">Answered</th></tr></thead><tbody>",
    );
    for shard in &status.shards {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            text(shard.shard),
            text(shard.policy_revision),
            text(shard.connections),
            text(shard.answered)
        );
    }
    body.push_str("</tbody></table>");
    page(StatusCode::OK, "Overview", HERE, Some(&session), &body)
}

/// `GET /console/overview/history`: the charts alone, for the script to put in place; 401
/// without a session (the script then sends the browser to the login page).
pub async fn history(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if console_session(&request, &state).is_none() {
        return HttpResponse::Unauthorized().finish();
    }
    let history = api::history_value(&state).await;
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(charts::history(&history))
}

#[cfg(test)]
mod tests {
    use tf_admin_api::Outcomes;

    #[test]
    fn the_script_counts_the_outcome_classes_the_contract_names() {
        let listed = |names: &[&str]| {
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            quoted.join(", ")
        };
        for (name, names) in [
            ("REFUSALS", &Outcomes::REFUSALS[..]),
            ("ERRORS", &Outcomes::ERRORS[..]),
        ] {
            let line = format!("const {name} = [{}];", listed(names));
            assert!(super::super::JS.contains(&line), "console.js lacks {line}");
        }
    }
}
