//! The console's pages. Each takes its data from the same functions as the admin API and the
//! same permission checks.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tf_admin_api::{DiffReply, Revision, RollbackRequest};

use super::html::{self, esc, page};
use super::{csrf_ok, error_page, logged_in, same_origin, text, text_or_dash};
use crate::api::{self, ApiState};
use crate::auth::Permission;

macro_rules! session_or_return {
    ($request:expr, $state:expr) => {
        match logged_in(&$request, &$state) {
            Ok(session) => session,
            Err(answer) => return answer,
        }
    };
}

pub async fn tenants(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = session_or_return!(request, state);
    let tenants = match api::tenants_value(&state).await {
        Ok(tenants) => tenants,
        Err(error) => return error_page(&error, &session, "/console/tenants"),
    };
    let mut body = String::from(
        "<table><thead><tr><th>Tenant</th><th class=\"num\">Weight</th>\
         <th class=\"num\">Rate /s</th><th class=\"num\">Burst</th><th>Keys</th>\
         <th class=\"num\">Key quota</th></tr></thead><tbody>",
    );
    for tenant in &tenants.tenants {
        let keys = tenant.keys.len();
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{keys} listed</td><td class=\"num\">{}</td></tr>",
            text(&tenant.id),
            text(tenant.weight),
            text(tenant.rate_per_sec),
            text(tenant.burst),
            text(tenant.max_registered_keys)
        );
    }
    body.push_str(
        "</tbody></table><h2>Budgets remaining</h2><table><thead><tr><th>Tenant</th>\
         <th>Purpose</th><th>Class</th><th>Window</th><th class=\"num\">Limit</th>\
         <th class=\"num\">Used</th><th class=\"num\">Reserved</th><th class=\"num\">Remaining</th>\
         <th>Resets</th></tr></thead><tbody>",
    );
    let caps = api::budgets_value(&state).caps;
    if caps.is_empty() {
        body.push_str("<tr><td colspan=\"9\" class=\"muted\">No capped tenant.</td></tr>");
    }
    for cap in &caps {
        let purpose = cap.purpose.as_deref().unwrap_or("every purpose");
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            text(&cap.tenant),
            esc(purpose),
            text(&cap.class),
            text(&cap.window),
            text(cap.limit),
            text(cap.used),
            text(cap.reserved),
            text(cap.remaining),
            text_or_dash(cap.resets_at.as_ref())
        );
    }
    body.push_str("</tbody></table>");
    page(
        StatusCode::OK,
        "Tenants & budgets",
        "/console/tenants",
        Some(&session),
        &body,
    )
}

pub async fn bundles(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = session_or_return!(request, state);
    let here = "/console/bundles";
    let (status, timeline) = match (
        api::status_value(&state).await,
        api::timeline_value(&state).await,
    ) {
        (Ok(status), Ok(timeline)) => (status, timeline),
        (Err(error), _) | (_, Err(error)) => return error_page(&error, &session, here),
    };
    let active = status.revision;
    let mut body = String::new();
    let _ = write!(
        body,
        "<p>In force: <strong id=\"active-revision\">revision {active}</strong> <code>{}</code>{}</p>",
        esc(&status.bundle_hash.0),
        match &status.bundle {
            Some(bundle) => format!(" — {}", esc(&bundle.note)),
            None => String::new(),
        }
    );
    if session.principal.may(Permission::Promote) {
        body.push_str(
            "<h2>Promote a bundle</h2><form id=\"promote-form\">\
             <label for=\"bundle-file\">Signed bundle (.tar.gz from <code>appliance bundle build</code>)</label>\
             <input type=\"file\" id=\"bundle-file\" accept=\".gz,.tgz,application/gzip\">\
             <label><input type=\"checkbox\" name=\"allow_cap_below_spent\"> allow a cap below \
             what is already spent in its window</label>\
             <label><input type=\"checkbox\" name=\"allow_partners_dropped\"> allow dropping \
             partners whose terms files the bundle lacks (their tenants lose service)</label>\
             <p><button type=\"submit\" id=\"promote\">Check and promote</button></p></form>\
             <div id=\"promote-result\"></div>",
        );
    }
    let may_roll_back = session.principal.may(Permission::Rollback);
    body.push_str(
        "<h2>Timeline</h2><table id=\"timeline\"><thead><tr><th>#</th><th>When (UTC)</th>\
         <th>Action</th><th>From → to</th><th>Who</th><th>Why</th><th></th></tr></thead><tbody>",
    );
    let events = &timeline.timeline;
    // Newest first, the control plane's events among the switches.
    let mut notes = timeline.events.iter().rev().peekable();
    for event in events.iter().rev() {
        while let Some(note) = notes.next_if(|n| n.at_unix_us >= event.at_unix_us) {
            control_row(&mut body, note);
        }
        let (from, to) = (event.from_revision, event.to_revision);
        // What the switch changed: its revision against the one in force before it (the
        // configuration file before the first promotion, which is no stored bundle).
        let mut actions = if from.0 == 0 {
            "<span class=\"muted\">the first bundle: the configuration file was in force \
             before</span>"
                .to_owned()
        } else {
            format!(
                "<a class=\"changes\" href=\"/console/bundles/{to}/diff?against={from}\">\
                 what it changed</a>"
            )
        };
        if to != active {
            let _ = write!(
                actions,
                " · <a href=\"/console/bundles/{to}/diff\">against revision {active}</a>"
            );
        }
        if may_roll_back && to != active {
            let _ = write!(
                actions,
                " · <a class=\"rollback\" href=\"/console/rollback?to={to}\">roll back to this</a>"
            );
        }
        // What the drift guard said, and who overrode it, beside the reason.
        let drift = event.drift.as_ref().map_or(String::new(), |drift| {
            format!("<br><span class=\"drift\">{}</span>", text(drift.summary()))
        });
        // What the golden canary saw after the switch, once it has judged.
        let canary = event.canary.as_ref().map_or(String::new(), |canary| {
            format!(
                "<br><span class=\"canary {}\">{}</span>",
                text(&canary.overall),
                text(canary.text())
            )
        });
        let _ = write!(
            body,
            "<tr class=\"event\" id=\"event-{seq}\"><td>{seq}</td><td>{}</td><td class=\"action\">{}</td>\
             <td>{from} → {to}</td><td>{}</td><td class=\"reason\">{}{drift}{canary}</td><td>{actions}</td></tr>",
            text(&event.at),
            text(event.action),
            text(&event.actor),
            text(&event.reason),
            seq = event.seq,
        );
    }
    notes.for_each(|note| control_row(&mut body, note));
    if events.is_empty() {
        body.push_str("<tr><td colspan=\"7\" class=\"muted\">Nothing promoted yet: the configuration file is in force.</td></tr>");
    }
    body.push_str("</tbody></table>");
    if let Some(previous) = status.rollback_to.filter(|_| may_roll_back) {
        let _ = write!(
            body,
            "<p><a href=\"/console/rollback?to={previous}\" id=\"rollback-previous\">\
             <button type=\"button\" class=\"danger\">Roll back to revision {previous}</button></a></p>"
        );
    }
    page(StatusCode::OK, "Bundles", here, Some(&session), &body)
}

#[derive(Deserialize)]
pub struct DiffQuery {
    against: Option<u64>,
}

fn diff_table(diff: &DiffReply) -> String {
    let mut body = String::from(
        "<table class=\"diff\"><thead><tr><th>Section</th><th>Change</th><th>Subject</th>\
         <th>Before</th><th>After</th></tr></thead><tbody>",
    );
    let changes = &diff.changes;
    if changes.is_empty() {
        body.push_str("<tr><td colspan=\"5\" class=\"muted\">No difference.</td></tr>");
    }
    for line in changes {
        let change = line.change.name();
        let _ = write!(
            body,
            "<tr class=\"{c}\"><td>{}</td><td>{c}</td><td>{}</td><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>",
            text(&line.section),
            text(&line.subject),
            line.before.as_deref().map(esc).unwrap_or_default(),
            line.after.as_deref().map(esc).unwrap_or_default(),
            c = esc(change)
        );
    }
    body.push_str("</tbody></table>");
    body
}

/// A control-plane event as a timeline row: no revision; an alarm is marked as one.
fn control_row(body: &mut String, event: &tf_admin_api::ControlEvent) {
    let _ = write!(
        body,
        "<tr class=\"control-event{class}\" id=\"control-event-{seq}\"><td></td><td>{}</td><td class=\"action\">{}</td>\
         <td></td><td>control plane</td><td class=\"reason\">{}</td><td></td></tr>",
        text(&event.at),
        text(&event.kind),
        text(&event.summary),
        seq = event.seq,
        class = match event.kind.as_str() {
            "scenario.failed" | "canary.alarm" => " alarm",
            _ => "",
        },
    );
}

pub async fn diff(
    request: HttpRequest,
    state: web::Data<ApiState>,
    revision: web::Path<u64>,
    query: web::Query<DiffQuery>,
) -> HttpResponse {
    let session = session_or_return!(request, state);
    let revision = revision.into_inner();
    match api::diff_value(&state, Revision(revision), query.against.map(Revision)).await {
        Ok(diff) => {
            let body = format!(
                "<p>From revision {} (<code>{}</code>) to revision {} (<code>{}</code>).</p>{}",
                text(diff.old.revision),
                text(&diff.old.hash),
                text(diff.new.revision),
                text(&diff.new.hash),
                diff_table(&diff)
            );
            page(
                StatusCode::OK,
                &format!(
                    "Revision {revision}: what changes from revision {}",
                    diff.old.revision
                ),
                "/console/bundles",
                Some(&session),
                &body,
            )
        }
        Err(error) => error_page(&error, &session, "/console/bundles"),
    }
}

#[derive(Deserialize)]
pub struct RollbackQuery {
    to: u64,
}

/// The confirmation step: what the rollback changes, and why (asked).
pub async fn confirm_rollback(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<RollbackQuery>,
) -> HttpResponse {
    let session = session_or_return!(request, state);
    let here = "/console/bundles";
    if let Err(error) = api::may(&session.principal, Permission::Rollback) {
        return error_page(&error, &session, here);
    }
    let diff = match api::diff_value(&state, Revision(query.to), None).await {
        Ok(diff) => diff,
        Err(error) => return error_page(&error, &session, here),
    };
    let body = format!(
        "<p>Republish the content of revision {to} as a new revision, signed by this appliance. \
         It takes effect on every shard at once; the revision in force now (revision {active}) \
         stays in the timeline.</p>{table}\
         <form method=\"post\" action=\"/console/rollback\" id=\"rollback-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"to\" value=\"{to}\">\
         <label for=\"reason\">Why (kept in the timeline)</label>\
         <textarea id=\"reason\" name=\"reason\" rows=\"2\" maxlength=\"2000\" required></textarea>\
         <label><input type=\"checkbox\" name=\"allow_partners_dropped\"> drop partners \
         onboarded after revision {to} (refused otherwise)</label>\
         <p><button type=\"submit\" class=\"danger\" id=\"confirm-rollback\">Confirm rollback to revision {to}</button> \
         <a href=\"/console/bundles\">Cancel</a></p></form>",
        to = query.to,
        active = text(diff.old.revision),
        table = diff_table(&diff),
        csrf = esc(&session.csrf),
    );
    page(
        StatusCode::OK,
        &format!("Roll back to revision {}?", query.to),
        here,
        Some(&session),
        &body,
    )
}

#[derive(Deserialize)]
pub struct RollbackForm {
    csrf: String,
    to: u64,
    reason: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    allow_partners_dropped: Option<String>,
}

pub async fn rollback(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<RollbackForm>,
) -> HttpResponse {
    let session = session_or_return!(request, state);
    let here = "/console/bundles";
    if let Err(answer) = same_origin(&request).and_then(|()| csrf_ok(&session, &form.csrf)) {
        return answer;
    }
    if let Err(error) = api::may(&session.principal, Permission::Rollback) {
        return error_page(&error, &session, here);
    }
    let RollbackForm {
        to,
        reason,
        allow_partners_dropped,
        ..
    } = form.into_inner();
    let allow_partners_dropped = allow_partners_dropped.is_some();
    let body = RollbackRequest {
        reason,
        to: Some(Revision(to)),
        allow_partners_dropped,
    };
    match api::rollback_value(&state, session.principal.clone(), body).await {
        Ok(switched) => {
            let timing = match switched.all_shards_ms {
                Some(ms) => format!(" on every shard after {ms:.0} ms"),
                None => " (some shard had not confirmed within 5 s)".to_owned(),
            };
            let body = format!(
                "{}<p><a href=\"/console/bundles\">Back to the bundles</a></p>",
                html::notice(
                    "good",
                    &format!(
                        "Rolled back: revision {} (the content of revision {to}) is in force{timing}.",
                        switched.to_revision
                    )
                )
            );
            page(StatusCode::OK, "Rolled back", here, Some(&session), &body)
        }
        Err(error) => error_page(&error, &session, here),
    }
}
