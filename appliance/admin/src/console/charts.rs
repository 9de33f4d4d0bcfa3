//! The overview's last hour and each scenario pack's nights drawn as SVG line charts, inline
//! in the page: the server draws them, no script library does, and nothing is fetched.
//! Colours come from console.css by class (`s0` to `s6`), so the Content Security Policy
//! needs no inline style.

use std::fmt::Write;

use tf_admin_api::{HistoryReply, ScenarioNight};

use super::html::esc;

/// Tenants drawn apart in a chart; the rest are summed as one line.
const DRAWN: usize = 6;
/// The drawing's size, in its own units (it is scaled to the page's width).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
/// Room for the axes' labels.
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;
/// The area inside the axes.
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;

/// A named line: one value per sample, `None` where there is none.
struct Line {
    name: String,
    values: Vec<Option<f64>>,
}

/// The charts of `history`: requests per second per tenant, decision p99, refusals per
/// second per tenant, and invalid verdicts and errors per second; or a note while there is
/// no sample yet. The outer element carries how many samples it drew (`data-samples`).
pub fn history(history: &HistoryReply) -> String {
    let samples = history.at_unix_ms.len();
    let mut html = format!("<div class=\"charts\" data-samples=\"{samples}\">");
    if samples == 0 {
        let _ = write!(
            html,
            "<p class=\"muted\" id=\"history-empty\">The first sample is taken {} s after the \
             appliance starts; the charts then fill in over an hour.</p></div>",
            history.interval_seconds
        );
        return html;
    }
    let tenants = |pick: fn(&tf_admin_api::TenantHistory) -> &Vec<f64>| -> Vec<Line> {
        per_tenant(history, pick)
    };
    let p99 = Line {
        name: "every tenant".to_owned(),
        values: (history.p99_seconds.iter())
            .map(|v| v.map(|seconds| seconds * 1e3))
            .collect(),
    };
    let sum = |pick: fn(&tf_admin_api::TenantHistory) -> &Vec<f64>| -> Vec<Option<f64>> {
        (0..samples)
            .map(|i| Some(history.tenants.iter().map(|t| pick(t)[i]).sum()))
            .collect()
    };
    let outcomes = vec![
        Line {
            name: "invalid verdicts".to_owned(),
            values: sum(|t| &t.invalid_per_second),
        },
        Line {
            name: "errors".to_owned(),
            values: sum(|t| &t.errors_per_second),
        },
    ];
    for (id, title, lines) in [
        (
            "chart-requests",
            "Requests per second, by tenant",
            tenants(|t| &t.requests_per_second),
        ),
        ("chart-p99", "Decision latency p99, ms", vec![p99]),
        (
            "chart-refused",
            "Refusals per second, by tenant",
            tenants(|t| &t.refused_per_second),
        ),
        (
            "chart-outcomes",
            "Invalid verdicts and errors per second",
            outcomes,
        ),
    ] {
        html.push_str(&chart(id, title, history, &lines));
    }
    html.push_str("</div>");
    html
}

/// A line per tenant, the busiest [`DRAWN`] apart and the others summed.
fn per_tenant(
    history: &HistoryReply,
    pick: fn(&tf_admin_api::TenantHistory) -> &Vec<f64>,
) -> Vec<Line> {
    let samples = history.at_unix_ms.len();
    let mut ranked: Vec<&tf_admin_api::TenantHistory> = history.tenants.iter().collect();
    let busy = |t: &tf_admin_api::TenantHistory| -> f64 { t.requests_per_second.iter().sum() };
    ranked.sort_by(|a, b| busy(b).total_cmp(&busy(a)));
    let mut lines: Vec<Line> = (ranked.iter().take(DRAWN))
        .map(|t| Line {
            name: t.tenant.0.clone(),
            values: pick(t).iter().map(|v| Some(*v)).collect(),
        })
        .collect();
    let others = &ranked[DRAWN.min(ranked.len())..];
    if !others.is_empty() {
        lines.push(Line {
            name: format!("{} other tenants", others.len()),
            values: (0..samples)
                .map(|i| Some(others.iter().map(|t| pick(t)[i]).sum()))
                .collect(),
        });
    }
    lines
}

/// One chart: its title, the lines over the last window (newest sample at the right edge),
/// the axes, and a legend.
fn chart(id: &str, title: &str, history: &HistoryReply, lines: &[Line]) -> String {
    let newest = history.at_unix_ms.last().copied().unwrap_or(0) as f64;
    let window_ms = f64::from(history.window_seconds.max(1)) * 1e3;
    let top = rounded_up(
        lines
            .iter()
            .flat_map(|l| l.values.iter().flatten())
            .fold(0.0, |a: f64, b| a.max(*b)),
    );
    let x = |at_ms: u64| LEFT + PLOT_W * (1.0 - (newest - at_ms as f64) / window_ms).max(0.0);
    let minutes = history.window_seconds / 60;
    let marks = [
        (LEFT, format!("−{minutes} min"), "start"),
        (
            LEFT + PLOT_W / 2.0,
            format!("−{} min", minutes / 2),
            "middle",
        ),
        (WIDTH - RIGHT, "now".to_owned(), "end"),
    ];
    let mut svg = open(id, "", title, top, &marks);
    for (n, line) in lines.iter().enumerate() {
        // A run of samples with values is one polyline; a sample without one breaks it.
        let mut run: Vec<String> = Vec::new();
        for (at, value) in history.at_unix_ms.iter().zip(&line.values) {
            match value {
                Some(value) => run.push(format!("{:.1},{:.1}", x(*at), y(*value, top))),
                None => flush(&mut svg, &mut run, n),
            }
        }
        flush(&mut svg, &mut run, n);
    }
    svg.push_str("</svg><ul class=\"legend\">");
    for (n, line) in lines.iter().enumerate() {
        let _ = write!(
            svg,
            "<li><span class=\"swatch s{}\"></span>{}</li>",
            n % 7,
            esc(&line.name)
        );
    }
    svg.push_str("</ul></figure>");
    svg
}

/// A scenario pack's drift bound, in percent of decisions, over `nights` (oldest first): the
/// oldest at the left edge, the latest at the right, each failed night ringed; or a note
/// when none is kept. The outer element carries how many nights it drew (`data-nights`).
pub fn nights(id: &str, nights: &[ScenarioNight]) -> String {
    let (Some(first), Some(last)) = (nights.first(), nights.last()) else {
        return format!(
            "<p class=\"muted\" id=\"{}\" data-nights=\"0\">No run in the last 90 days to \
             draw.</p>",
            esc(id)
        );
    };
    let top = rounded_up(
        (nights.iter())
            .map(|n| n.drift_bound_percent)
            .fold(0.0, f64::max),
    );
    let from = first.started_unix_us;
    let span = last.started_unix_us.saturating_sub(from);
    // A lone night has no span to spread over: it sits at the right edge, as the latest.
    let x = |at_us: u64| match span {
        0 => WIDTH - RIGHT,
        _ => LEFT + PLOT_W * at_us.saturating_sub(from) as f64 / span as f64,
    };
    let mut marks = Vec::new();
    if span > 0 {
        marks.push((LEFT, day(from), "start"));
    }
    marks.push((WIDTH - RIGHT, day(last.started_unix_us), "end"));
    let mut svg = open(
        id,
        &format!(" data-nights=\"{}\"", nights.len()),
        "Drift bound, % of decisions, night by night",
        top,
        &marks,
    );
    let mut run: Vec<String> = (nights.iter())
        .map(|n| {
            let (at, value) = (x(n.started_unix_us), y(n.drift_bound_percent, top));
            format!("{at:.1},{value:.1}")
        })
        .collect();
    flush(&mut svg, &mut run, 0);
    for night in nights.iter().filter(|n| !n.passed) {
        let _ = write!(
            svg,
            "<circle class=\"failed-night\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\">\
             <title>{}: failed, {:.3}%</title></circle>",
            x(night.started_unix_us),
            y(night.drift_bound_percent, top),
            esc(&tf_budgets::format_utc(night.started_unix_us / 1_000_000)),
            night.drift_bound_percent
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// Opens a chart: the figure (with `attributes`, already escaped) and its caption, the
/// drawing, its grid at zero, half `top` and `top` with their values, and `marks` along the
/// time axis (where, label, anchor). The caller draws the rest and closes both elements.
fn open(
    id: &str,
    attributes: &str,
    title: &str,
    top: f64,
    marks: &[(f64, String, &str)],
) -> String {
    let mut svg = format!(
        "<figure class=\"chart\" id=\"{}\"{attributes}><figcaption>{}</figcaption>\
         <svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        esc(id),
        esc(title),
        esc(title)
    );
    for step in 0..=2 {
        let value = top * f64::from(step) / 2.0;
        let at = y(value, top);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{at:.1}\" y2=\"{at:.1}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            at + 4.0,
            esc(&figure(value))
        );
    }
    for (at, label, anchor) in marks {
        let _ = write!(
            svg,
            "<text class=\"axis\" x=\"{at:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            HEIGHT - 6.0,
            esc(label)
        );
    }
    svg
}

/// Where `value` sits, on an axis from zero at the bottom to `top` at the top.
fn y(value: f64, top: f64) -> f64 {
    TOP + PLOT_H * (1.0 - value / top)
}

/// The UTC day of a Unix microsecond, `2026-11-24`.
fn day(at_us: u64) -> String {
    let mut text = tf_budgets::format_utc(at_us / 1_000_000);
    // RFC 3339's first ten characters (ASCII) are the date.
    text.truncate(10);
    text
}

/// Draws a run of points (a single point as a dot) and empties it.
fn flush(svg: &mut String, run: &mut Vec<String>, series: usize) {
    let class = series % 7;
    match run.len() {
        0 => {}
        1 => {
            let (x, y) = run[0].split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                svg,
                "<circle class=\"dot s{class}\" cx=\"{x}\" cy=\"{y}\" r=\"2.5\"/>"
            );
        }
        _ => {
            let _ = write!(
                svg,
                "<polyline class=\"line s{class}\" points=\"{}\"/>",
                run.join(" ")
            );
        }
    }
    run.clear();
}

/// The axis top for values up to `max`: 1, 2 or 5 times a power of ten, at least `max`.
fn rounded_up(max: f64) -> f64 {
    if max.is_nan() || max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * power)
}

/// An axis label: whole numbers plain, small ones with the decimals they need.
fn figure(value: f64) -> String {
    if value.fract() == 0.0 || value >= 10.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use tf_admin_api::TenantHistory;

    use super::*;

    fn tenant(name: &str, requests: Vec<f64>) -> TenantHistory {
        let zeros = vec![0.0; requests.len()];
        TenantHistory {
            tenant: name.into(),
            refused_per_second: requests.iter().map(|r| r / 10.0).collect(),
            requests_per_second: requests,
            invalid_per_second: zeros.clone(),
            errors_per_second: zeros,
        }
    }

    fn reply(samples: usize, tenants: Vec<TenantHistory>) -> HistoryReply {
        HistoryReply {
            interval_seconds: 10,
            window_seconds: 3600,
            at_unix_ms: (0..samples as u64)
                .map(|n| 1_000_000 + n * 10_000)
                .collect(),
            requests_per_second: vec![0.0; samples],
            p99_seconds: (0..samples)
                .map(|n| (n % 2 == 0).then_some(0.002))
                .collect(),
            tenants,
        }
    }

    #[test]
    fn no_sample_yet_is_said_not_drawn() {
        let html = history(&reply(0, Vec::new()));
        assert!(html.contains("data-samples=\"0\""), "{html}");
        assert!(html.contains("history-empty"), "{html}");
        assert!(!html.contains("<svg"), "{html}");
    }

    #[test]
    fn each_chart_draws_each_line_with_the_newest_sample_at_the_right_edge() {
        let html = history(&reply(
            3,
            vec![
                tenant("acme", vec![1.0, 2.0, 3.0]),
                tenant("demo", vec![0.0, 0.0, 10.0]),
            ],
        ));
        assert!(html.contains("data-samples=\"3\""), "{html}");
        for id in [
            "chart-requests",
            "chart-p99",
            "chart-refused",
            "chart-outcomes",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert_eq!(html.matches("<svg").count(), 4);
        // Requests, refusals: one line per tenant; outcomes: two; p99 breaks where nothing
        // was decided, so its three samples are dots.
        assert_eq!(html.matches("<polyline").count(), 2 + 2 + 2);
        assert_eq!(html.matches("<circle").count(), 2);
        // The axis reaches 10 for demo's 10 requests per second; its last point is at the
        // right edge and the top.
        assert!(html.contains(">10</text>"), "{html}");
        assert!(html.contains(">5</text>"), "{html}");
        assert!(
            html.contains(&format!("{:.1},{:.1}", WIDTH - RIGHT, TOP)),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"swatch s0\"></span>demo"),
            "{html}"
        );
    }

    #[test]
    fn past_six_tenants_the_quiet_ones_are_one_line_and_names_are_escaped() {
        let tenants: Vec<TenantHistory> = (0..9)
            .map(|n| tenant(&format!("t{n}<"), vec![f64::from(n); 2]))
            .collect();
        let html = history(&reply(2, tenants));
        assert!(html.contains("3 other tenants"), "{html}");
        assert!(html.contains("t8&lt;"), "{html}");
        assert!(!html.contains("t0&lt;"), "the quietest is summed: {html}");
        assert!(!html.contains("t8<"), "{html}");
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(rounded_up(0.0), 1.0);
        assert_eq!(rounded_up(0.3), 0.5);
        assert_eq!(rounded_up(8.0), 10.0);
        assert_eq!(rounded_up(10.0), 10.0);
        assert_eq!(rounded_up(1234.0), 2000.0);
        assert_eq!(figure(0.25), "0.25");
        assert_eq!(figure(2.5), "2.5");
        assert_eq!(figure(500.0), "500");
    }
}
