//! The summary printed at the end of a run.

use super::{Capacity, Percentiles, Report};

fn percentiles(p: &Percentiles) -> String {
    format!(
        "p50 {:.2}  p90 {:.2}  p95 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        p.p50, p.p90, p.p95, p.p99, p.p999, p.max
    )
}

/// The fastest second of the speed probe.
fn probe_min(report: &Report) -> f64 {
    report
        .intervals
        .iter()
        .filter_map(|i| i.host_probe_ms)
        .fold(f64::INFINITY, f64::min)
}

/// Prints the report's figures and the verdict.
pub fn print_summary(report: &Report) {
    let o = &report.overall;
    println!(
        "{}{}: {:.0} s measured after {:.0} s warm-up",
        report.profile.name(),
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        },
        report.measured_seconds,
        report.warmup_seconds
    );
    let errors: u64 = o.counts.errors.values().sum();
    println!(
        "  offered {:.1} req/s, served {:.1} req/s ({} valid), errors {} ({:.3} %)",
        o.counts.offered_rps,
        o.counts.served_rps,
        o.counts.valid,
        errors,
        o.counts.error_rate * 100.0
    );
    for (kind, count) in &o.counts.errors {
        println!("    {count} x {kind}");
    }
    println!(
        "  latency ms, from intended send: {}",
        percentiles(&o.latency_ms)
    );
    println!(
        "  in the appliance (received to decided) ms: p50 {:.2}  p99 {:.2}; after the verdict \
         (ledger, way back, QUIC) ms: p50 {:.2}  p99 {:.2}",
        report.in_appliance_ms.p50,
        report.in_appliance_ms.p99,
        report.after_verdict_ms.p50,
        report.after_verdict_ms.p99
    );
    if !report.kinds.is_empty() {
        println!("  latency ms by kind, from intended send:");
        let width = report.kinds.iter().map(|k| k.kind.len()).max().unwrap_or(0);
        for k in &report.kinds {
            println!(
                "    {:<width$}  {}  ({} requests)",
                k.kind,
                percentiles(&k.group.latency_ms),
                k.group.latency_ms.count
            );
        }
    }
    if report.stages.len() > 1 {
        println!("  stages:");
        for stage in &report.stages {
            println!(
                "    {:<14} {:>7.0} req/s for {:>5.0} s: served {:>7.1}/s  p95 {:>8.2} ms  p99 {:>8.2} ms  errors {:.3} %",
                stage.label,
                stage.rate,
                stage.seconds,
                stage.group.counts.served_rps,
                stage.group.latency_ms.p95,
                stage.group.latency_ms.p99,
                stage.group.counts.error_rate * 100.0
            );
        }
    }
    if let Some(burst) = &report.burst {
        println!(
            "  burst: p95 {:.2} ms steady, {:.2} ms during the swings ({:+.1} %)",
            burst.steady_p95_ms,
            burst.swing_p95_ms,
            burst.p95_swing * 100.0
        );
    }
    println!(
        "  fairness over {} tenants: Gini {:.4} (0 = even), Jain {:.4} (1 = even); x = served \
         / fair share",
        report.tenants.len(),
        report.fairness.gini,
        report.fairness.jain
    );
    println!(
        "    {:<16} {:>6} {:>13} {:>13} {:>13} {:>6} {:>10} {:>8} {:>20}",
        "tenant",
        "weight",
        "offered req/s",
        "served req/s",
        "fair req/s",
        "x",
        "p95 ms",
        "errors",
        "p99 in appliance ms"
    );
    for t in &report.tenants {
        let errors: u64 = t.group.counts.errors.values().sum();
        println!(
            "    {:<16} {:>6} {:>13.1} {:>13.1} {:>13.1} {:>6.3} {:>10.2} {:>8} {:>20.2}",
            t.name,
            t.weight,
            t.group.counts.offered_rps,
            t.group.counts.served_rps,
            t.fair_share_rps,
            t.x,
            t.group.latency_ms.p95,
            errors,
            t.in_appliance_ms.p99
        );
    }
    match &report.appliance {
        Some(usage) => println!(
            "  appliance (pid {}): {:.1} CPU-s over {:.0} s = {:.1} % of {} core(s); {:.3} CPU-s \
             per 1k proofs; RSS max {:.1} MiB (kernel peak {:.1} MiB)",
            usage.pid,
            usage.cpu_seconds,
            usage.wall_seconds,
            usage.utilisation * 100.0,
            usage.cores,
            report.cost.cpu_seconds_per_1k,
            usage.rss_max_mib,
            usage.peak_rss_mib
        ),
        None => println!("  appliance CPU and memory: not measured (not on this host?)"),
    }
    let floor = &report.floor;
    println!(
        "  floor: {:.3} ms single, {:.3} ms batched per request of this mix = {:.0} / {:.0} \
         req/s on {} core(s); served / floor: {:.2} single, {:.2} batched",
        floor.mix_single_ms,
        floor.mix_batched_ms,
        floor.single_rps,
        floor.batched_rps,
        floor.cores,
        report.cost.throughput_vs_single_floor,
        report.cost.throughput_vs_batched_floor
    );
    println!("  the rig itself used {:.1} CPU-s", report.rig_cpu_seconds);
    if let Some(probe) = &report.host_probe_ms {
        println!(
            "  host probe: one BLS verification took {:.2} ms wall time (median second), {:.2} to \
             {:.2} ms across the run's seconds (more than uncontended: the host's CPUs were busy \
             or slowed)",
            probe.p50,
            probe_min(report),
            probe.max
        );
    }
    if report.reconnects > 0 {
        println!(
            "  connections closed by the appliance and re-established: {}",
            report.reconnects
        );
    }
    if let Some(capacity) = &report.capacity {
        print_capacity(capacity);
    }
    println!("  targets ({}):", report.scope);
    for check in &report.slo {
        let limit = check.metric.show(check.target);
        match (check.measured, check.pass) {
            (Some(value), Some(pass)) => println!(
                "    {:<11} at most {:>10}  measured {:>10}  {}",
                check.metric.name(),
                limit,
                check.metric.show(value),
                if pass { "PASS" } else { "FAIL" }
            ),
            _ => println!(
                "    {:<11} at most {:>10}  {}",
                check.metric.name(),
                limit,
                check.note
            ),
        }
    }
    println!("verdict: {}", report.verdict);
}

/// Every trial of a capacity search, then what it found.
fn print_capacity(capacity: &Capacity) {
    println!("  capacity trials:");
    for (number, t) in (1..).zip(&capacity.trials) {
        println!(
            "    {number:>2}: offered {:>8.0} req/s  served {:>8.1} req/s  p50 {:>8.2} ms  \
             p95 {:>8.2} ms  p99 {:>9.2} ms  errors {} ({:.3} %) over {:.1} s  {}",
            t.rps,
            t.served_rps,
            t.p50_ms,
            t.p95_ms,
            t.p99_ms,
            t.errors,
            t.error_rate * 100.0,
            t.seconds,
            t.outcome()
        );
    }
    println!(
        "  capacity: {:.0} req/s = {:.2} x the single-verification floor, {:.2} x the batched \
         floor{}",
        capacity.highest_rps,
        capacity.ratio_to_single_floor,
        capacity.ratio_to_batched_floor,
        capacity
            .figures_from_trial
            .map_or(String::new(), |n| format!(
                " (the figures above are trial {n}'s)"
            ))
    );
}
