//! The console's scenarios page: each what-if pack's latest nightly run, its drift bound
//! against the nights before, what it expected, and a chart of every night kept.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::{ScenarioOutcome, ScenarioPack, ScenarioRun, ScenariosReply};

use super::html::{self, esc, page};
use super::{charts, error_page, logged_in, text, text_or_dash};
use crate::api::{self, ApiState};
use crate::auth::Permission;

/// The page's address, which the navigation marks.
const HERE: &str = "/console/scenarios";

/// `GET /console/scenarios`.
pub async fn packs(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(error) = api::may(&session.principal, Permission::Read) {
        return error_page(&error, &session, HERE);
    }
    let reply = match api::scenarios_value(&state).await {
        Ok(reply) => reply,
        Err(error) => return error_page(&error, &session, HERE),
    };
    page(
        StatusCode::OK,
        "Scenario packs",
        HERE,
        Some(&session),
        &body(&reply),
    )
}

/// The page's content (apart from the handler, so tests render it without a server).
fn body(reply: &ScenariosReply) -> String {
    let mut body = String::new();
    header(reply, &mut body);
    if reply.packs.is_empty() {
        let when = match &reply.schedule {
            Some(schedule) => format!("at <code>{}</code> UTC", esc(schedule)),
            None => "on the schedule once the scheduler is on".to_owned(),
        };
        // A run by hand prints its result but does not keep it, so it never shows here.
        let _ = write!(
            body,
            "<p class=\"muted\" id=\"scenarios-empty\">No pack has run yet. Packs run {when} \
             and their results appear here after the first night. \
             <code>appliance scenarios run PACK</code> runs one by hand and prints its result \
             (it is not kept).</p>"
        );
        return body;
    }
    table(&reply.packs, &mut body);
    for (index, pack) in reply.packs.iter().enumerate() {
        section(index, pack, &mut body);
    }
    body
}

/// When packs run, which failed last time, and which do not apply to the bundle in force.
fn header(reply: &ScenariosReply, body: &mut String) {
    match &reply.schedule {
        Some(schedule) => {
            let _ = write!(
                body,
                "<p id=\"schedule\">Packs run at <code>{}</code> UTC; results are kept 90 \
                 days.</p>",
                esc(schedule)
            );
        }
        None => body.push_str(
            "<p id=\"schedule\">The scheduler is off (<code>[scenarios] enabled = false</code>); \
             results kept from before are shown.</p>",
        ),
    }
    let not_applicable: Vec<&str> = (reply.packs.iter())
        .filter(|p| p.latest.outcome == ScenarioOutcome::NotApplicable)
        .map(|p| p.name.as_str())
        .collect();
    if !not_applicable.is_empty() {
        // Neither good nor bad: the pack was written for other tenants (the built-in packs
        // for the example bundle's).
        let message = format!(
            "Not applicable to the bundle in force, so not run (they name tenants it does not \
             have): {}.",
            not_applicable.join(", ")
        );
        body.push_str(&html::notice("", &message));
    }
    if reply.failing == 0 {
        if reply.packs.len() > not_applicable.len() {
            let message = match not_applicable.len() {
                0 => "Every pack held its expectations last run.",
                _ => "Every pack that applies held its expectations last run.",
            };
            body.push_str(&html::notice("good", message));
        }
        return;
    }
    let failing: Vec<&str> = (reply.packs.iter())
        .filter(|p| p.latest.outcome.failing())
        .map(|p| p.name.as_str())
        .collect();
    let names = failing.join(", ");
    let message = match reply.failing {
        1 => format!("1 pack failed its expectations last run: {names}."),
        n => format!("{n} packs failed their expectations last run: {names}."),
    };
    body.push_str(&html::notice("bad", &message));
}

/// One row per pack: its latest run and the drift bound's change.
fn table(packs: &[ScenarioPack], body: &mut String) {
    body.push_str(
        "<table id=\"packs\"><thead><tr><th>Pack</th><th>Latest run</th>\
         <th>Started (UTC)</th><th class=\"num\">Drift bound</th>\
         <th class=\"num\">Since the run before</th>\
         <th class=\"num\">Against the week's median</th><th class=\"num\">Flips</th>\
         <th class=\"num\">Decisions</th></tr></thead><tbody>",
    );
    for (index, pack) in packs.iter().enumerate() {
        let name = esc(&pack.name);
        let (class, words) = outcome(&pack.latest);
        let drift = &pack.drift_bound_percent;
        let _ = write!(
            body,
            "<tr id=\"pack-{index}\" data-pack=\"{name}\">\
             <td class=\"name\"><a href=\"#chart-{index}\">{name}</a></td>\
             <td class=\"status {class}\">{words}</td><td class=\"started\">{}</td>\
             <td class=\"num drift\">{:.3}%</td><td class=\"num since-last\">{}</td>\
             <td class=\"num since-week\">{}</td><td class=\"num flips\">{}</td>\
             <td class=\"num decisions\">{}</td></tr>",
            esc(&pack.latest.started),
            drift.latest,
            change(drift.since_last),
            change(drift.since_week_median),
            text(pack.latest.flips),
            text(pack.latest.decisions),
        );
    }
    body.push_str("</tbody></table>");
}

/// A pack's latest run in full, and its chart.
fn section(index: usize, pack: &ScenarioPack, body: &mut String) {
    let run = &pack.latest;
    let _ = write!(
        body,
        "<section class=\"pack\" id=\"chart-{index}\"><h2>{}</h2>",
        esc(&pack.name)
    );
    match &run.error {
        Some(error) => {
            let _ = write!(
                body,
                "<p class=\"muted\">Latest attempt started {} UTC.</p>{}",
                esc(&run.started),
                html::notice("bad", &format!("It did not run: {error}"))
            );
        }
        None if run.outcome == ScenarioOutcome::NotApplicable => {
            let _ = write!(
                body,
                "<p class=\"muted not-applicable\">Latest night {} UTC: not applicable, so not \
                 run. The bundle in force has no tenant {}, which the pack names. Neither passed \
                 nor failed.</p>",
                esc(&run.started),
                esc(&run.missing_tenants.join(", "))
            );
        }
        None => {
            let _ = write!(
                body,
                "<p class=\"muted\">Latest run started {} UTC and took {:.1} s: {} decisions \
                 replayed, {} flipped.</p>",
                esc(&run.started),
                run.seconds,
                text(run.decisions),
                text(run.flips)
            );
        }
    }
    if !run.expectations.is_empty() {
        body.push_str("<ul class=\"expectations\">");
        for expectation in &run.expectations {
            let class = if expectation.held { "held" } else { "failed" };
            let _ = write!(
                body,
                "<li class=\"{class}\">{} — {}</li>",
                esc(&expectation.what),
                esc(&expectation.detail)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str(&charts::nights(&format!("nights-{index}"), &pack.nights));
    body.push_str("</section>");
}

/// The latest run's outcome: its cell's class and its words.
fn outcome(run: &ScenarioRun) -> (&'static str, &'static str) {
    match run.outcome {
        ScenarioOutcome::Passed => ("passed", "passed"),
        ScenarioOutcome::Failed => ("failed", "failed"),
        ScenarioOutcome::DidNotRun => ("did-not-run", "did not run"),
        ScenarioOutcome::NotApplicable => ("not-applicable", "not applicable"),
        // A newer outcome this console does not know.
        _ => ("", "–"),
    }
}

/// A change with its sign and three decimals (`+0.120`), or a dash without one.
fn change(value: Option<f64>) -> String {
    // A change that rounds to nothing reads `+0.000`, never `-0.000`.
    let shown = value.map(|v| if (v * 1e3).round() == 0.0 { 0.0 } else { v });
    text_or_dash(shown.map(|v| format!("{v:+.3}")))
}

#[cfg(test)]
mod tests {
    use tf_admin_api::{ScenarioExpectation, ScenarioNight, ScenarioTrend};

    use super::*;

    const NIGHT_US: u64 = 86_400_000_000;

    fn night(n: u64, passed: bool, percent: f64) -> ScenarioNight {
        ScenarioNight {
            started_unix_us: 1_700_000_000_000_000 + n * NIGHT_US,
            passed,
            drift_bound_percent: percent,
            flips: 0,
        }
    }

    fn pack(name: &str, error: Option<&str>, nights: Vec<ScenarioNight>) -> ScenarioPack {
        let passed = error.is_none();
        ScenarioPack {
            name: name.to_owned(),
            latest: ScenarioRun {
                started_unix_us: nights.last().map_or(0, |n| n.started_unix_us),
                started: "2023-11-16T22:13:20Z".to_owned(),
                seconds: 1.5,
                passed,
                outcome: match error {
                    Some(_) => ScenarioOutcome::DidNotRun,
                    None => ScenarioOutcome::Passed,
                },
                missing_tenants: Vec::new(),
                error: error.map(str::to_owned),
                decisions: 1200,
                flips: 3,
                expectations: vec![
                    ScenarioExpectation {
                        what: "no tenant <loses> access".to_owned(),
                        held: passed,
                        detail: "3 flips".to_owned(),
                    },
                    ScenarioExpectation {
                        what: "drift under 1%".to_owned(),
                        held: true,
                        detail: "0.250%".to_owned(),
                    },
                ],
            },
            drift_bound_percent: ScenarioTrend {
                latest: 0.25,
                since_last: passed.then_some(0.12),
                since_week_median: passed.then_some(-0.0001),
            },
            flips: ScenarioTrend {
                latest: 3.0,
                since_last: None,
                since_week_median: None,
            },
            nights,
        }
    }

    #[test]
    fn each_pack_has_a_row_and_a_chart_with_one_point_per_night() {
        let reply = ScenariosReply {
            schedule: Some("30 2 * * *".to_owned()),
            failing: 1,
            packs: vec![
                pack(
                    "a<b",
                    Some("no bundle in force"),
                    vec![night(0, false, 0.0)],
                ),
                pack(
                    "nightly",
                    None,
                    vec![
                        night(0, true, 0.1),
                        night(1, false, 0.5),
                        night(2, true, 0.25),
                    ],
                ),
            ],
        };
        let html = body(&reply);
        assert!(html.contains("<code>30 2 * * *</code> UTC"), "{html}");
        assert!(
            html.contains("1 pack failed its expectations last run: a&lt;b."),
            "{html}"
        );
        assert!(html.contains("<table id=\"packs\">"), "{html}");
        assert!(
            html.contains("<tr id=\"pack-0\" data-pack=\"a&lt;b\">"),
            "{html}"
        );
        assert!(
            html.contains("<tr id=\"pack-1\" data-pack=\"nightly\">"),
            "{html}"
        );
        assert!(!html.contains("a<b"), "names are escaped: {html}");
        for cell in [
            "<td class=\"status did-not-run\">did not run</td>",
            "<td class=\"status passed\">passed</td>",
            "<td class=\"started\">2023-11-16T22:13:20Z</td>",
            "<td class=\"num drift\">0.250%</td>",
            "<td class=\"num since-last\">+0.120</td>",
            "<td class=\"num since-week\">+0.000</td>",
            "<td class=\"num since-last\">–</td>",
            "<td class=\"num flips\">3</td>",
            "<td class=\"num decisions\">1200</td>",
        ] {
            assert!(html.contains(cell), "{cell} in {html}");
        }
        for index in 0..2 {
            let section = format!("<section class=\"pack\" id=\"chart-{index}\">");
            assert!(html.contains(&section), "{html}");
        }
        assert!(html.contains("<h2>a&lt;b</h2>"), "{html}");
        assert!(
            html.contains("It did not run: no bundle in force"),
            "{html}"
        );
        assert!(
            html.contains("<li class=\"failed\">no tenant &lt;loses&gt; access — 3 flips</li>"),
            "{html}"
        );
        assert_eq!(html.matches("<li class=\"held\">").count(), 3, "{html}");
        // The failing pack's one night is a dot, the other's three a line; a failed night
        // in either is ringed.
        assert!(html.contains("id=\"nights-0\" data-nights=\"1\""), "{html}");
        assert!(html.contains("id=\"nights-1\" data-nights=\"3\""), "{html}");
        assert_eq!(
            html.matches("<circle class=\"dot s0\"").count(),
            1,
            "{html}"
        );
        let points = html
            .split("<polyline class=\"line s0\" points=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default();
        assert_eq!(points.split(' ').count(), 3, "{html}");
        assert_eq!(html.matches("class=\"failed-night\"").count(), 2, "{html}");
        assert!(html.contains(">2023-11-14</text>"), "{html}");
        assert!(html.contains(">2023-11-16</text>"), "{html}");
    }

    #[test]
    fn a_pack_that_does_not_apply_is_neither_passed_nor_failed_and_names_the_tenants() {
        let mut foreign = pack("drop-globex", None, Vec::new());
        foreign.latest.passed = false;
        foreign.latest.outcome = ScenarioOutcome::NotApplicable;
        foreign.latest.missing_tenants = vec!["globex".to_owned()];
        foreign.latest.expectations.clear();
        let reply = ScenariosReply {
            schedule: Some("30 2 * * *".to_owned()),
            failing: 0,
            packs: vec![foreign, pack("nightly", None, vec![night(0, true, 0.1)])],
        };
        let html = body(&reply);
        assert!(
            html.contains("<td class=\"status not-applicable\">not applicable</td>"),
            "{html}"
        );
        assert!(
            html.contains("not run (they name tenants it does not have): drop-globex."),
            "{html}"
        );
        assert!(
            html.contains("The bundle in force has no tenant globex"),
            "{html}"
        );
        assert!(
            html.contains("Every pack that applies held its expectations last run."),
            "{html}"
        );
        assert!(!html.contains("notice bad"), "{html}");
        assert!(html.contains("id=\"nights-0\" data-nights=\"0\""), "{html}");
    }

    #[test]
    fn no_pack_yet_says_when_they_run() {
        let reply = ScenariosReply {
            schedule: None,
            failing: 0,
            packs: Vec::new(),
        };
        let html = body(&reply);
        assert!(html.contains("The scheduler is off"), "{html}");
        assert!(html.contains("id=\"scenarios-empty\""), "{html}");
        assert!(html.contains("appliance scenarios run PACK"), "{html}");
        assert!(!html.contains("id=\"packs\""), "{html}");
        assert!(!html.contains("notice"), "{html}");
    }
}
