//! `bench-rig compare A.json B.json`: the headline figures of two runs side by side, with B's
//! change relative to A, warnings when the runs were not made the same way, and which figures
//! got worse by more than a limit (`--fail-over`).

use super::Report;

/// Which way a figure improves, defined once per figure.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Better {
    Lower,
    Higher,
    /// A setting or the host, not an outcome: shown, never judged.
    Neither,
}

/// One compared figure: its name with its unit, A, B, and which way is better.
struct Row {
    name: &'static str,
    a: Option<f64>,
    b: Option<f64>,
    better: Better,
    /// A change this small (in the figure's own unit) is noise, not worse: run-to-run spread
    /// of a figure whose baseline is often 0 (error rate, Gini) or one sample (the maximum).
    noise: f64,
}

impl Row {
    /// The same row, with changes up to `noise` not counted as worse.
    fn noise(self, noise: f64) -> Self {
        Row { noise, ..self }
    }

    /// How much worse B is than A, in percent of A: 0 when not worse, infinite when A is 0
    /// and B worse (from none to some is worse than any limit).
    fn worse_percent(&self) -> Option<f64> {
        let (a, b) = (self.a?, self.b?);
        let worse_by = match self.better {
            Better::Lower => b - a,
            Better::Higher => a - b,
            Better::Neither => return None,
        };
        Some(if worse_by <= self.noise.max(1e-12) {
            0.0
        } else if a.abs() <= 1e-12 {
            f64::INFINITY
        } else {
            worse_by / a.abs() * 100.0
        })
    }
}

fn rows(a: &Report, b: &Report) -> Vec<Row> {
    let row = |name, pick: &dyn Fn(&Report) -> Option<f64>, better| Row {
        name,
        a: pick(a),
        b: pick(b),
        better,
        noise: 0.0,
    };
    vec![
        row(
            "offered req/s",
            &|r| Some(r.overall.counts.offered_rps),
            Better::Neither,
        ),
        row(
            "served req/s",
            &|r| Some(r.overall.counts.served_rps),
            Better::Higher,
        ),
        row(
            "error rate %",
            &|r| Some(r.overall.counts.error_rate * 100.0),
            Better::Lower,
        )
        .noise(0.1),
        row("p50 ms", &|r| Some(r.overall.latency_ms.p50), Better::Lower),
        row("p90 ms", &|r| Some(r.overall.latency_ms.p90), Better::Lower),
        row("p95 ms", &|r| Some(r.overall.latency_ms.p95), Better::Lower),
        row("p99 ms", &|r| Some(r.overall.latency_ms.p99), Better::Lower),
        row(
            "p99.9 ms",
            &|r| Some(r.overall.latency_ms.p999),
            Better::Lower,
        ),
        // One request's latency: shown, never a reason to fail.
        row("max ms", &|r| Some(r.overall.latency_ms.max), Better::Lower).noise(f64::INFINITY),
        row(
            "in-appliance p99 ms",
            &|r| Some(r.in_appliance_ms.p99),
            Better::Lower,
        ),
        row(
            "after-verdict p99 ms",
            &|r| Some(r.after_verdict_ms.p99),
            Better::Lower,
        ),
        row("Gini (0-1)", &|r| Some(r.fairness.gini), Better::Lower).noise(0.02),
        row("Jain (0-1)", &|r| Some(r.fairness.jain), Better::Higher),
        row(
            "CPU % of cores",
            &|r| r.appliance.as_ref().map(|u| u.utilisation * 100.0),
            Better::Lower,
        ),
        row(
            "CPU-s per 1k proofs",
            &|r| r.appliance.as_ref().map(|_| r.cost.cpu_seconds_per_1k),
            Better::Lower,
        ),
        row(
            "RSS max MiB",
            &|r| r.appliance.as_ref().map(|u| u.rss_max_mib),
            Better::Lower,
        ),
        row(
            "floor ms/request",
            &|r| Some(r.floor.mix_single_ms),
            Better::Neither,
        ),
        row(
            "served / single floor x",
            &|r| Some(r.cost.throughput_vs_single_floor),
            Better::Higher,
        ),
        row(
            "capacity req/s",
            &|r| r.capacity.as_ref().map(|c| c.highest_rps),
            Better::Higher,
        ),
    ]
}

/// Two runs compared.
pub struct Comparison {
    /// The figures side by side, for stdout.
    pub table: String,
    /// Why the runs may not be comparable, for stderr.
    pub warnings: Vec<String>,
    rows: Vec<Row>,
}

impl Comparison {
    /// The figures of B worse than A's by more than `limit` percent, one line each: the
    /// figure, A, B and by how much.
    pub fn worse_than(&self, limit: f64) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|row| {
                let worse = row.worse_percent()?;
                (worse > limit).then(|| {
                    let by = if worse.is_finite() {
                        format!("{worse:.1} % worse")
                    } else {
                        "worse, from 0".to_string()
                    };
                    format!("{}: {} -> {} ({by})", row.name, show(row.a), show(row.b))
                })
            })
            .collect()
    }
}

/// Compares B with A.
pub fn compare(a: &Report, b: &Report) -> Comparison {
    let mut table = format!(
        "A: {} {:.0} s ({})   B: {} {:.0} s ({})\n",
        a.profile.name(),
        a.measured_seconds,
        a.verdict,
        b.profile.name(),
        b.measured_seconds,
        b.verdict
    );
    table.push_str(&format!(
        "{:<24} {:>12} {:>12} {:>12} {:>9}\n",
        "", "A", "B", "B - A", "change"
    ));
    let rows = rows(a, b);
    for row in &rows {
        let (delta, change) = match (row.a, row.b) {
            (Some(x), Some(y)) => {
                let relative = if x.abs() > 1e-12 {
                    format!("{:+.1} %", (y - x) / x.abs() * 100.0)
                } else {
                    "-".to_string()
                };
                let judged = match row.worse_percent() {
                    _ if (y - x).abs() < 1e-12 => "",
                    Some(worse) if worse > 0.0 => " worse",
                    Some(_) => " better",
                    None => "",
                };
                (format!("{:+.3}", y - x), format!("{relative}{judged}"))
            }
            _ => ("-".to_string(), String::new()),
        };
        table.push_str(&format!(
            "{:<24} {:>12} {:>12} {:>12} {}\n",
            row.name,
            show(row.a),
            show(row.b),
            delta,
            change
        ));
    }
    let mut warnings = differences(a, b);
    for row in &rows {
        if row.better != Better::Neither && row.a.is_some() != row.b.is_some() {
            let has = if row.a.is_some() { "A" } else { "B" };
            warnings.push(format!(
                "{}: only {has} has it (measured with --appliance-pid?), so it is not compared",
                row.name
            ));
        }
    }
    Comparison {
        table,
        warnings,
        rows,
    }
}

fn show(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:.3}"))
}

/// What makes the two runs' figures measure different things.
fn differences(a: &Report, b: &Report) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut differ = |what: &str, show: &dyn Fn(&Report) -> String| {
        let (x, y) = (show(a), show(b));
        if x != y {
            warnings.push(format!("the runs' {what} differ (A {x}; B {y})"));
        }
    };
    differ("profiles", &|r| r.profile.name().to_string());
    differ("mixes", &|r| {
        let kinds: Vec<String> = r.mix.iter().map(|(k, w)| format!("{k}={w}")).collect();
        kinds.join(",")
    });
    differ("tenants and weights", &|r| {
        let tenants: Vec<String> = r
            .tenants
            .iter()
            .map(|t| format!("{}={}", t.name, t.weight))
            .collect();
        tenants.join(",")
    });
    // A capacity search picks its own rates: its stages are its best trial's.
    if a.capacity.is_none() || b.capacity.is_none() {
        differ("planned rates", &|r| {
            let stages: Vec<String> = r
                .stages
                .iter()
                .map(|s| format!("{} {} req/s", s.label, s.rate))
                .collect();
            stages.join(", ")
        });
    }
    differ("connections per tenant", &|r| {
        r.connections_per_tenant.to_string()
    });
    differ("purposes", &|r| r.purpose.clone());
    differ("appliance cores", &|r| r.floor.cores.to_string());
    for (name, run) in [("A", a), ("B", b)] {
        if run.interrupted {
            warnings.push(format!(
                "{name} was interrupted (Ctrl-C): its figures cover {:.0} s",
                run.measured_seconds
            ));
        }
    }
    if (a.measured_seconds - b.measured_seconds).abs()
        > 0.1 * a.measured_seconds.max(b.measured_seconds)
    {
        warnings.push(format!(
            "the runs measured {:.0} s and {:.0} s: tail percentiles of the shorter rest on \
             fewer requests",
            a.measured_seconds, b.measured_seconds
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: f64, b: f64, better: Better) -> Row {
        Row {
            name: "x",
            a: Some(a),
            b: Some(b),
            better,
            noise: 0.0,
        }
    }

    #[test]
    fn worse_is_higher_latency_and_lower_throughput() {
        assert_eq!(row(10.0, 15.0, Better::Lower).worse_percent(), Some(50.0));
        assert_eq!(row(10.0, 5.0, Better::Lower).worse_percent(), Some(0.0));
        assert_eq!(
            row(800.0, 600.0, Better::Higher).worse_percent(),
            Some(25.0)
        );
        assert_eq!(row(800.0, 900.0, Better::Higher).worse_percent(), Some(0.0));
        assert_eq!(
            row(0.0, 0.5, Better::Lower).worse_percent(),
            Some(f64::INFINITY)
        );
        assert_eq!(row(0.0, 0.0, Better::Lower).worse_percent(), Some(0.0));
        assert_eq!(row(800.0, 10.0, Better::Neither).worse_percent(), None);
        let missing = Row {
            name: "x",
            a: None,
            b: Some(1.0),
            better: Better::Lower,
            noise: 0.0,
        };
        assert_eq!(missing.worse_percent(), None);
    }

    #[test]
    fn a_change_within_the_noise_is_not_worse() {
        let errors = row(0.0, 0.05, Better::Lower).noise(0.1);
        assert_eq!(errors.worse_percent(), Some(0.0));
        let errors = row(0.0, 0.5, Better::Lower).noise(0.1);
        assert_eq!(errors.worse_percent(), Some(f64::INFINITY));
        let max = row(10.0, 900.0, Better::Lower).noise(f64::INFINITY);
        assert_eq!(max.worse_percent(), Some(0.0));
    }
}
