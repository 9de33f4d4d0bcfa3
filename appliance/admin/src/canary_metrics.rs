//! `/metrics` lines for the golden canary, from the status its worker keeps in memory.

use tf_control::canary::CanaryStatus;

use crate::storage_metrics::gauge;

/// Every score a comparator can have, as the API spells them.
const SCORES: [&str; 5] = ["pass", "marginal", "fail", "no-data", "silenced"];

/// Appends the canary metrics to a scrape; none for a canary the configuration turned off.
pub fn render(status: &CanaryStatus, out: &mut String) {
    if !status.wanted {
        return;
    }
    gauge(
        out,
        "trust_fabric_canary_enabled",
        "1 while the golden canary runs; 0 when it is asked for ([canary] enabled) and cannot \
         run (`appliance ctl canary status` says why).",
        f64::from(u8::from(status.enabled)),
    );
    if !status.enabled {
        return;
    }
    gauge(
        out,
        "trust_fabric_canary_interval_seconds",
        "How often the golden canary runs ([canary] interval_ms), seconds.",
        status.interval_ms as f64 / 1_000.0,
    );
    gauge(
        out,
        "trust_fabric_canary_failing",
        "1 while the golden canary fails (a wrong verdict or receipt, or latency or errors over \
         their thresholds for the consecutive-failure limit).",
        f64::from(u8::from(status.alarm_since_us.is_some())),
    );
    let mut page = tf_metrics::Page::default();
    let runs = "trust_fabric_canary_runs_total";
    page.family(
        runs,
        "counter",
        "Golden canary runs since start, by verdict.",
    );
    for (index, overall) in ["pass", "marginal", "fail"].iter().enumerate() {
        page.sample(
            runs,
            &[("overall", overall)],
            status.by_overall[index] as f64,
        );
    }
    if let Some(latest) = status.latest() {
        let scores = "trust_fabric_canary_comparator";
        page.family(
            scores,
            "gauge",
            "1 for each comparator's score in the latest canary run (no-data is never a pass).",
        );
        for judgement in &latest.judgements {
            let score = judgement.score.name();
            for each in SCORES {
                page.sample(
                    scores,
                    &[("comparator", judgement.comparator), ("score", each)],
                    f64::from(u8::from(each == score)),
                );
            }
        }
        let verdict = "trust_fabric_canary_verdict";
        page.family(verdict, "gauge", "1 for the latest canary run's verdict.");
        let overall = latest.overall.name();
        for each in ["pass", "marginal", "fail"] {
            page.sample(
                verdict,
                &[("overall", each)],
                f64::from(u8::from(each == overall)),
            );
        }
    }
    let median = "trust_fabric_canary_latency_median_seconds";
    page.family(
        median,
        "gauge",
        "Median latency of the canary's requests in the window judged and in its baseline.",
    );
    for (window, summary) in [("current", &status.current), ("baseline", &status.baseline)] {
        if let Some(ms) = summary.median_ms {
            page.sample(median, &[("window", window)], ms / 1_000.0);
        }
    }
    out.push_str(&page.finish());
    // Before the first run, the start: an alert then fires when no run ever ends.
    let last_us = status
        .latest()
        .map_or(status.started_us, |latest| latest.finished_us);
    gauge(
        out,
        "trust_fabric_canary_last_run_seconds",
        "When the latest canary run ended (before the first, when the canary started), Unix \
         seconds.",
        last_us as f64 / 1e6,
    );
}
