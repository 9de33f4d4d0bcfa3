//! The report as one self-contained HTML page: the verdict, the figures and the plots inline
//! as SVG, nothing fetched from anywhere.

use std::fmt::Write;

use super::{Capacity, Report, plots};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;\
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
.PASS{color:#007a4d;font-weight:bold}.FAIL{color:#b00020;font-weight:bold}.note{color:#666}\
figure{margin:1em 0}";

/// The page, with the report's plots as drawn by [`plots::all`].
pub fn page(report: &Report, plots: &[(&'static str, plots::Plot)]) -> String {
    let mut html = String::new();
    let title = format!(
        "bench-rig {} report: {}",
        report.profile.name(),
        report.verdict
    );
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body><h1>{} <span class=\"{}\">{}</span></h1>",
        escape(&title),
        escape(&format!("bench-rig {}", report.profile.name())),
        report.verdict,
        report.verdict
    );
    let o = &report.overall;
    let _ = write!(
        html,
        "<p>{:.0} s measured after {:.0} s warm-up{}; offered {:.1} req/s, served {:.1} req/s, \
         error rate {:.3} %. Latency is counted from each request's intended send time.</p>",
        report.measured_seconds,
        report.warmup_seconds,
        if report.interrupted {
            " (interrupted by Ctrl-C: partial)"
        } else {
            ""
        },
        o.counts.offered_rps,
        o.counts.served_rps,
        o.counts.error_rate * 100.0
    );

    html.push_str(&format!(
        "<h2>Targets ({})</h2><table><tr><th>target</th><th>at most</th><th>measured</th>\
         <th>verdict</th></tr>",
        escape(&report.scope)
    ));
    for check in &report.slo {
        let (measured, verdict) = match (check.measured, check.pass) {
            (Some(v), Some(pass)) => (
                check.metric.show(v),
                if pass { "PASS" } else { "FAIL" }.to_string(),
            ),
            _ => (
                format!("<span class=\"note\">{}</span>", escape(&check.note)),
                String::new(),
            ),
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{measured}</td><td class=\"{verdict}\">{verdict}</td></tr>",
            check.metric.name(),
            check.metric.show(check.target)
        );
    }
    html.push_str("</table>");

    html.push_str(
        "<h2>Latency (ms)</h2><table><tr><th>requests</th><th>count</th><th>p50</th><th>p90</th>\
         <th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>",
    );
    let rows = [
        ("all finished, from intended send", &o.latency_ms),
        ("served only", &o.served_latency_ms),
        (
            "in the appliance (received to decided)",
            &report.in_appliance_ms,
        ),
        (
            "after the verdict (ledger, way back, QUIC)",
            &report.after_verdict_ms,
        ),
    ];
    for (name, p) in rows {
        let _ = write!(
            html,
            "<tr><td>{name}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td>\
             <td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            p.count, p.p50, p.p90, p.p95, p.p99, p.p999, p.max
        );
    }
    html.push_str("</table>");
    kinds(&mut html, report);

    let _ = write!(
        html,
        "<h2>Tenants</h2><p>Fairness: Gini {:.4} (0 = even), Jain {:.4} (1 = even). <span class=\"note\">{}</span></p>\
         <table><tr><th>tenant</th><th>weight</th><th>offered req/s</th><th>served req/s</th>\
         <th>fair share req/s</th><th>x (served / fair share)</th><th>p95 ms</th><th>p99 ms</th>\
         <th>errors (requests)</th></tr>",
        report.fairness.gini,
        report.fairness.jain,
        escape(&report.fairness.method)
    );
    for t in &report.tenants {
        let errors: u64 = t.group.counts.errors.values().sum();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.3}</td>\
             <td>{:.2}</td><td>{:.2}</td><td>{errors}</td></tr>",
            escape(&t.name),
            t.weight,
            t.group.counts.offered_rps,
            t.group.counts.served_rps,
            t.fair_share_rps,
            t.x,
            t.group.latency_ms.p95,
            t.group.latency_ms.p99
        );
    }
    html.push_str("</table>");

    if !o.counts.errors.is_empty() {
        html.push_str("<h2>Errors by type</h2><table><tr><th>type</th><th>requests</th></tr>");
        for (kind, count) in &o.counts.errors {
            let _ = write!(html, "<tr><td>{}</td><td>{count}</td></tr>", escape(kind));
        }
        html.push_str("</table>");
    }

    if report.stages.len() > 1 {
        html.push_str(
            "<h2>Stages</h2><table><tr><th>stage</th><th>planned req/s</th><th>length s</th>\
             <th>served req/s</th><th>p95 ms</th><th>p99 ms</th><th>error rate</th></tr>",
        );
        for s in &report.stages {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.1}</td><td>{:.2}</td>\
                 <td>{:.2}</td><td>{:.3} %</td></tr>",
                escape(&s.label),
                s.rate,
                s.seconds,
                s.group.counts.served_rps,
                s.group.latency_ms.p95,
                s.group.latency_ms.p99,
                s.group.counts.error_rate * 100.0
            );
        }
        html.push_str("</table>");
    }

    if let Some(capacity) = &report.capacity {
        capacity_section(&mut html, capacity);
    }

    html.push_str("<h2>Cost</h2><table>");
    match &report.appliance {
        Some(u) => {
            let _ = write!(
                html,
                "<tr><td>appliance CPU</td><td>{:.1} CPU-s over {:.0} s = {:.1} % of {} core(s)</td></tr>\
                 <tr><td>CPU per 1k proofs</td><td>{:.3} CPU-s</td></tr>\
                 <tr><td>resident memory</td><td>start {:.1} MiB, end {:.1} MiB, max {:.1} MiB, \
                 kernel peak {:.1} MiB</td></tr>",
                u.cpu_seconds,
                u.wall_seconds,
                u.utilisation * 100.0,
                u.cores,
                report.cost.cpu_seconds_per_1k,
                u.rss_start_mib,
                u.rss_end_mib,
                u.rss_max_mib,
                u.peak_rss_mib
            );
        }
        None => html.push_str("<tr><td>appliance CPU</td><td>not measured</td></tr>"),
    }
    let f = &report.floor;
    let _ = write!(
        html,
        "<tr><td>verification floor (this mix)</td><td>{:.3} ms single, {:.3} ms in batches of \
         {} = {:.0} / {:.0} req/s on {} core(s)</td></tr><tr><td>served / floor</td>\
         <td>{:.2} x single, {:.2} x batched</td></tr><tr><td>the rig's own CPU</td><td>{:.1} CPU-s</td>\
         </tr><tr><td>connections re-established</td><td>{} connection(s)</td></tr></table>",
        f.mix_single_ms,
        f.mix_batched_ms,
        f.batch,
        f.single_rps,
        f.batched_rps,
        f.cores,
        report.cost.throughput_vs_single_floor,
        report.cost.throughput_vs_batched_floor,
        report.rig_cpu_seconds,
        report.reconnects
    );

    html.push_str("<h2>Plots</h2>");
    for (_, plot) in plots {
        match plot {
            Ok(svg) => {
                let _ = write!(html, "<figure>{svg}</figure>");
            }
            Err(e) => {
                let _ = write!(html, "<p class=\"note\">{}</p>", escape(e));
            }
        }
    }
    html.push_str("</body></html>\n");
    html
}

/// Latency percentiles and counts per kind of request.
fn kinds(html: &mut String, report: &Report) {
    if report.kinds.is_empty() {
        return;
    }
    html.push_str(
        "<h3>By kind (ms, all finished requests, from intended send)</h3><table><tr>\
         <th>kind</th><th>count</th><th>served req/s</th><th>p50</th><th>p90</th><th>p95</th>\
         <th>p99</th><th>p99.9</th><th>max</th><th>errors (requests)</th></tr>",
    );
    for k in &report.kinds {
        let p = &k.group.latency_ms;
        let errors: u64 = k.group.counts.errors.values().sum();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td>\
             <td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{errors}</td></tr>",
            escape(&k.kind),
            p.count,
            k.group.counts.served_rps,
            p.p50,
            p.p90,
            p.p95,
            p.p99,
            p.p999,
            p.max
        );
    }
    html.push_str("</table>");
}

/// The capacity found and every trial of the search.
fn capacity_section(html: &mut String, capacity: &Capacity) {
    let _ = write!(
        html,
        "<h2>Capacity</h2><p>Highest rate meeting the targets: {:.0} req/s = {:.2} x the \
         single-verification floor, {:.2} x the batched floor.{}</p><table><tr><th>trial</th>\
         <th>offered req/s</th><th>served req/s</th><th>measured s</th><th>sent</th>\
         <th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors (requests)</th>\
         <th>error rate</th><th>outcome</th></tr>",
        capacity.highest_rps,
        capacity.ratio_to_single_floor,
        capacity.ratio_to_batched_floor,
        capacity
            .figures_from_trial
            .map_or(String::new(), |n| format!(
                " The other figures of this page are trial {n}'s."
            ))
    );
    for (number, t) in (1..).zip(&capacity.trials) {
        let class = match (t.interrupted, t.pass) {
            (true, _) => "",
            (false, true) => "PASS",
            (false, false) => "FAIL",
        };
        let _ = write!(
            html,
            "<tr><td>{number}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td>\
             <td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td><td>{:.3} %</td>\
             <td class=\"{class}\">{}</td></tr>",
            t.rps,
            t.served_rps,
            t.seconds,
            t.sent,
            t.p50_ms,
            t.p95_ms,
            t.p99_ms,
            t.errors,
            t.error_rate * 100.0,
            escape(&t.outcome())
        );
    }
    html.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
