//! `bench-rig compare A.json B.json`: the headline figures of two runs side by side, with B's
//! change relative to A.

use super::Report;

/// One compared figure: name, A, B, and whether lower is better.
struct Row {
    name: &'static str,
    a: Option<f64>,
    b: Option<f64>,
    lower_is_better: bool,
}

fn rows(a: &Report, b: &Report) -> Vec<Row> {
    let row = |name, pick: &dyn Fn(&Report) -> Option<f64>, lower_is_better| Row {
        name,
        a: pick(a),
        b: pick(b),
        lower_is_better,
    };
    vec![
        row(
            "offered req/s",
            &|r| Some(r.overall.counts.offered_rps),
            false,
        ),
        row(
            "served req/s",
            &|r| Some(r.overall.counts.served_rps),
            false,
        ),
        row(
            "error rate %",
            &|r| Some(r.overall.counts.error_rate * 100.0),
            true,
        ),
        row("p50 ms", &|r| Some(r.overall.latency_ms.p50), true),
        row("p90 ms", &|r| Some(r.overall.latency_ms.p90), true),
        row("p95 ms", &|r| Some(r.overall.latency_ms.p95), true),
        row("p99 ms", &|r| Some(r.overall.latency_ms.p99), true),
        row("p99.9 ms", &|r| Some(r.overall.latency_ms.p999), true),
        row("max ms", &|r| Some(r.overall.latency_ms.max), true),
        row(
            "in-appliance p99 ms",
            &|r| Some(r.in_appliance_ms.p99),
            true,
        ),
        row(
            "after-verdict p99 ms",
            &|r| Some(r.after_verdict_ms.p99),
            true,
        ),
        row("Gini", &|r| Some(r.fairness.gini), true),
        row("Jain", &|r| Some(r.fairness.jain), false),
        row(
            "CPU % of cores",
            &|r| r.appliance.as_ref().map(|u| u.utilisation * 100.0),
            true,
        ),
        row(
            "CPU-s per 1k proofs",
            &|r| r.appliance.as_ref().map(|_| r.cost.cpu_seconds_per_1k),
            true,
        ),
        row(
            "RSS max MiB",
            &|r| r.appliance.as_ref().map(|u| u.rss_max_mib),
            true,
        ),
        row("floor ms/request", &|r| Some(r.floor.mix_single_ms), true),
        row(
            "served / single floor",
            &|r| Some(r.cost.throughput_vs_single_floor),
            false,
        ),
        row(
            "capacity req/s",
            &|r| r.capacity.as_ref().map(|c| c.highest_rps),
            false,
        ),
    ]
}

/// The comparison as text.
pub fn compare(a: &Report, b: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "A: {} {:.0} s ({})   B: {} {:.0} s ({})\n",
        a.profile.name(),
        a.measured_seconds,
        a.verdict,
        b.profile.name(),
        b.measured_seconds,
        b.verdict
    ));
    if a.mix != b.mix || a.tenants.len() != b.tenants.len() {
        out.push_str("note: the runs differ in mix or tenants; compare with care\n");
    }
    out.push_str(&format!(
        "{:<24} {:>12} {:>12} {:>12} {:>9}\n",
        "", "A", "B", "B - A", "change"
    ));
    for row in rows(a, b) {
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let (delta, change) = match (row.a, row.b) {
            (Some(x), Some(y)) => {
                let relative = if x.abs() > 1e-12 {
                    format!("{:+.1} %", (y - x) / x.abs() * 100.0)
                } else {
                    "-".to_string()
                };
                let better = if (y - x).abs() < 1e-12 {
                    ""
                } else if (y < x) == row.lower_is_better {
                    " better"
                } else {
                    " worse"
                };
                (format!("{:+.3}", y - x), format!("{relative}{better}"))
            }
            _ => ("-".to_string(), String::new()),
        };
        out.push_str(&format!(
            "{:<24} {:>12} {:>12} {:>12} {}\n",
            row.name,
            show(row.a),
            show(row.b),
            delta,
            change
        ));
    }
    out
}
