//! The console's canary page: the latest verdict and since when it fails, each comparator's
//! judgement, the baseline and current windows, a strip of the recent runs, what went wrong,
//! and for SREs a button that runs the canary now.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::CanaryReply;

use super::html::{self, esc, page};
use super::{CsrfForm, error_page, form_session, logged_in, text, text_or_dash};
use crate::api::{self, ApiState};
use crate::auth::Permission;
use crate::session::Session;

const HERE: &str = "/console/canary";

/// `GET /console/canary`.
pub async fn status(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(error) = api::may(&session.principal, Permission::Read) {
        return error_page(&error, &session, HERE);
    }
    render(&session, &api::canary_value(&state), StatusCode::OK, "")
}

/// `POST /console/canary/run`: runs the canary now, then shows the page with its result.
pub async fn run(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let session = match form_session(&request, &state, &form.csrf) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(error) = api::may(&session.principal, Permission::Canary) {
        return error_page(&error, &session, HERE);
    }
    match api::run_canary_value(&state, &session.principal).await {
        Ok(reply) => {
            let notice = match reply.latest.as_ref() {
                Some(run) => html::notice(
                    if run.overall == "fail" { "bad" } else { "good" },
                    &format!("Run {} ended: {}.", run.number, run.overall),
                ),
                None => String::new(),
            };
            render(&session, &reply, StatusCode::OK, &notice)
        }
        Err(error) => {
            let (status, message) = super::error_text(&error);
            let reply = api::canary_value(&state);
            render(&session, &reply, status, &html::notice("bad", &message))
        }
    }
}

fn render(
    session: &Session,
    reply: &CanaryReply,
    status: StatusCode,
    notice: &str,
) -> HttpResponse {
    let mut body = String::from(notice);
    body.push_str(&content(reply));
    if reply.enabled && session.principal.may(Permission::Canary) {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/console/canary/run\" id=\"run-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <p><button type=\"submit\" id=\"run-canary\">Run now</button> \
             <span class=\"muted\">sends the golden set at once and shows the result</span></p>\
             </form>",
            esc(&session.csrf)
        );
    }
    page(status, "Golden canary", HERE, Some(session), &body)
}

/// The page's content (apart from the handler, so tests render it without a server).
fn content(reply: &CanaryReply) -> String {
    let mut body = String::new();
    if !reply.enabled {
        let _ = write!(
            body,
            "<p id=\"canary-off\">The canary does not run: {}.</p>",
            esc(reply.problem.as_deref().unwrap_or("no reason given"))
        );
        return body;
    }
    let _ = write!(
        body,
        "<p>The canary sends {} known-answer requests every {} s as tenant <code>{}</code>; \
         {} runs since start.</p>",
        reply.items,
        reply.interval_ms as f64 / 1_000.0,
        esc(&reply.tenant),
        reply.runs
    );
    let Some(latest) = &reply.latest else {
        body.push_str(
            "<p class=\"muted\" id=\"canary-waiting\">No run yet: the first comes one interval \
             after start.</p>",
        );
        return body;
    };
    let verdict = match (&reply.alarm_since, latest.overall.as_str()) {
        (Some(since), _) => format!("failing since {} UTC", esc(since)),
        (None, overall) => esc(overall),
    };
    let class = match latest.overall.as_str() {
        "pass" => "good",
        "fail" => "bad",
        _ => "",
    };
    let _ = write!(
        body,
        "<p id=\"canary-verdict\" class=\"{class}\">Latest run {} at {} UTC ({}): \
         <strong>{verdict}</strong>. {} of {} answered. Failing runs in a row: {} (the canary \
         fails at {} for latency or errors, at once for verdicts and receipts).</p>",
        latest.number,
        esc(&latest.finished),
        esc(&latest.trigger),
        latest.answered,
        latest.sent,
        reply.failing_runs,
        reply.consecutive_failures
    );
    body.push_str(
        "<table id=\"comparators\"><thead><tr><th>Comparator</th><th>Score</th>\
         <th>Critical</th><th>What it saw</th></tr></thead><tbody>",
    );
    for comparator in &latest.comparators {
        let _ = write!(
            body,
            "<tr class=\"score-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&comparator.score),
            text(&comparator.comparator),
            text(&comparator.score),
            if comparator.critical { "yes" } else { "no" },
            text(&comparator.detail)
        );
    }
    body.push_str("</tbody></table>");
    let median = |ms: Option<f64>| text_or_dash(ms.map(|ms| format!("{ms:.2} ms")));
    body.push_str(
        "<table id=\"windows\"><thead><tr><th>Window</th><th>Runs</th><th>Latencies</th>\
         <th>Median</th><th>Errors</th></tr></thead><tbody>",
    );
    for (name, window) in [("baseline", &reply.baseline), ("current", &reply.current)] {
        let _ = write!(
            body,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{} of {}</td></tr>",
            window.runs,
            window.samples,
            median(window.median_ms),
            window.errors,
            window.requests
        );
    }
    body.push_str("</tbody></table>");
    body.push_str("<p id=\"recent\">Recent runs, oldest first: ");
    for run in &reply.recent {
        let _ = write!(
            body,
            "<span class=\"run run-{}\" title=\"run {} at {} UTC: {} ({})\">{}</span>",
            esc(&run.overall),
            run.number,
            esc(&run.finished),
            esc(&run.overall),
            esc(&run.scores.join(", ")),
            match run.overall.as_str() {
                "pass" => "·",
                "marginal" => "~",
                _ => "✗",
            }
        );
    }
    body.push_str("</p>");
    silences(reply, &mut body);
    if !latest.problems.is_empty() {
        body.push_str("<h2>What went wrong</h2><ul id=\"problems\">");
        for problem in &latest.problems {
            let _ = write!(body, "<li>{}</li>", text(problem));
        }
        if latest.more_problems > 0 {
            let _ = write!(body, "<li>and {} more</li>", latest.more_problems);
        }
        body.push_str("</ul>");
    }
    body
}

/// Silences with their expiry, then the timeline.
fn silences(reply: &CanaryReply, body: &mut String) {
    body.push_str("<h2>Silences</h2>");
    if reply.silences.is_empty() {
        body.push_str(
            "<p class=\"muted\" id=\"no-silences\">None applies. <code>appliance ctl canary \
             silence --comparator latency --for 2h --reason TEXT</code> makes one.</p>",
        );
    } else {
        body.push_str(
            "<table id=\"silences\"><thead><tr><th>#</th><th>Comparators</th><th>Items</th>\
             <th>State</th><th>Until (UTC)</th><th>By</th><th>Reason</th></tr></thead><tbody>",
        );
        for silence in &reply.silences {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                silence.id,
                text(silence.comparators.join(", ")),
                if silence.items.is_empty() {
                    "every item".to_owned()
                } else {
                    text(silence.items.join(", "))
                },
                if silence.applies { "applies" } else { "ended" },
                text(&silence.expires),
                text(&silence.creator),
                text(&silence.reason)
            );
        }
        body.push_str("</tbody></table>");
    }
    if !reply.timeline.is_empty() {
        body.push_str("<h2>Timeline</h2><ul id=\"timeline\">");
        for event in reply.timeline.iter().rev() {
            let _ = write!(
                body,
                "<li>{} UTC: {}</li>",
                text(&event.at),
                text(&event.summary)
            );
        }
        body.push_str("</ul>");
    }
}

#[cfg(test)]
mod tests {
    use tf_admin_api::{CanaryComparator, CanaryRun, CanaryRunBrief, CanaryWindow};

    use super::*;

    fn reply(overall: &str, problems: Vec<String>) -> CanaryReply {
        CanaryReply {
            enabled: true,
            problem: None,
            tenant: "canary".into(),
            interval_ms: 10_000,
            items: 10,
            runs: 7,
            overall: Some(overall.into()),
            failing_runs: 0,
            consecutive_failures: 3,
            alarm_since: (overall == "fail").then(|| "2026-12-03T10:00:00Z".to_owned()),
            latest: Some(CanaryRun {
                number: 7,
                finished: "2026-12-03T10:00:00Z".into(),
                trigger: "schedule".into(),
                overall: overall.into(),
                comparators: vec![CanaryComparator {
                    comparator: "verdict".into(),
                    score: if overall == "fail" { "fail" } else { "pass" }.into(),
                    critical: true,
                    detail: "10 verdicts as expected".into(),
                }],
                sent: 10,
                answered: 10,
                median_ms: Some(2.5),
                problems,
                more_problems: 0,
            }),
            recent: vec![CanaryRunBrief {
                number: 7,
                finished: "2026-12-03T10:00:00Z".into(),
                overall: overall.into(),
                scores: vec!["pass".into()],
            }],
            current: CanaryWindow::default(),
            baseline: CanaryWindow {
                runs: 3,
                samples: 30,
                requests: 30,
                errors: 0,
                median_ms: Some(2.0),
            },
            silences: vec![tf_admin_api::CanarySilence {
                id: 4,
                comparators: vec!["latency".into()],
                items: Vec::new(),
                creator: "oncall".into(),
                reason: "disk <rebuild>".into(),
                created: "2026-12-03T09:00:00Z".into(),
                expires: "2026-12-03T11:00:00Z".into(),
                applies: true,
            }],
            timeline: Vec::new(),
        }
    }

    #[test]
    fn a_failing_canary_says_since_when_and_what_went_wrong_escaped() {
        let html = content(&reply("fail", vec!["bls-single: <denied>".into()]));
        assert!(
            html.contains("failing since 2026-12-03T10:00:00Z UTC"),
            "{html}"
        );
        assert!(
            html.contains("<li>bls-single: &lt;denied&gt;</li>"),
            "{html}"
        );
        assert!(html.contains("class=\"score-fail\""), "{html}");
    }

    #[test]
    fn a_passing_canary_shows_its_windows_and_an_off_one_its_reason() {
        let html = content(&reply("pass", Vec::new()));
        assert!(html.contains("<strong>pass</strong>"), "{html}");
        assert!(
            html.contains("<td>baseline</td><td>3</td><td>30</td><td>2.00 ms</td>"),
            "{html}"
        );
        assert!(!html.contains("What went wrong"), "{html}");
        assert!(
            html.contains("<td>applies</td><td>2026-12-03T11:00:00Z</td><td>oncall</td><td>disk &lt;rebuild&gt;</td>"),
            "{html}"
        );
        let mut off = reply("pass", Vec::new());
        off.enabled = false;
        off.problem = Some("its tenant \"canary\" is not listed".into());
        assert!(
            content(&off).contains("does not run: its tenant &quot;canary&quot; is not listed")
        );
    }
}
