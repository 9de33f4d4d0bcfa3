//! The golden canary for people: its verdict, each comparator's judgement of the latest run,
//! the windows judged, the recent runs as a strip, and what went wrong.

use tf_admin_api::{CanaryReply, CanarySilence};

use super::table::{Align, Table};

/// `ctl canary status` and `ctl canary run`.
pub(crate) fn status(reply: &CanaryReply) -> Vec<String> {
    if !reply.enabled {
        return vec![format!(
            "the canary does not run: {}",
            reply.problem.as_deref().unwrap_or("no reason given")
        )];
    }
    let mut lines = vec![format!(
        "canary as tenant {}: {} requests every {} s, {} runs since start",
        reply.tenant,
        reply.items,
        reply.interval_ms as f64 / 1_000.0,
        reply.runs
    )];
    let Some(latest) = &reply.latest else {
        lines.push("no run yet: the first comes one interval after start".to_owned());
        return lines;
    };
    let verdict = match (latest.overall.as_str(), &reply.alarm_since) {
        ("fail", Some(since)) => format!("FAIL (failing since {since})"),
        ("fail", None) => "FAIL".to_owned(),
        (other, _) => other.to_owned(),
    };
    lines.push(format!(
        "run {} at {} ({}): {verdict}; {} of {} answered; failing runs in a row {} (limit {})",
        latest.number,
        latest.finished,
        latest.trigger,
        latest.answered,
        latest.sent,
        reply.failing_runs,
        reply.consecutive_failures
    ));
    let mut table = Table::new(&[
        ("COMPARATOR", Align::Left),
        ("SCORE", Align::Left),
        ("CRITICAL", Align::Left),
        ("DETAIL", Align::Left),
    ]);
    for comparator in &latest.comparators {
        table.row(vec![
            comparator.comparator.clone(),
            comparator.score.clone(),
            if comparator.critical { "yes" } else { "no" }.to_owned(),
            comparator.detail.clone(),
        ]);
    }
    lines.extend(table.lines());
    let median = |ms: Option<f64>| ms.map_or("-".to_owned(), |ms| format!("{ms:.2} ms"));
    lines.push(format!(
        "windows: current {} runs, {} samples, median {}, {} errors in {}; baseline {} runs, {} \
         samples, median {}, {} errors in {}",
        reply.current.runs,
        reply.current.samples,
        median(reply.current.median_ms),
        reply.current.errors,
        reply.current.requests,
        reply.baseline.runs,
        reply.baseline.samples,
        median(reply.baseline.median_ms),
        reply.baseline.errors,
        reply.baseline.requests,
    ));
    let strip: String = reply
        .recent
        .iter()
        .map(|run| match run.overall.as_str() {
            "pass" => '.',
            "marginal" => '~',
            _ => 'F',
        })
        .collect();
    lines.push(format!(
        "recent runs (oldest first; . pass, ~ marginal, F fail): {strip}"
    ));
    let applying = reply.silences.iter().filter(|s| s.applies).count();
    if applying > 0 {
        lines.push(format!(
            "{applying} silence(s) apply (`appliance ctl canary silences`)"
        ));
    }
    if !latest.problems.is_empty() {
        lines.push("problems:".to_owned());
        lines.extend(latest.problems.iter().map(|p| format!("  {p}")));
        if latest.more_problems > 0 {
            lines.push(format!("  and {} more", latest.more_problems));
        }
    }
    lines
}

/// A silence made or lifted.
pub(crate) fn silence(silence: &CanarySilence) -> Vec<String> {
    let state = if silence.applies {
        format!("applies until {}", silence.expires)
    } else {
        format!("ended {}", silence.expires)
    };
    vec![format!(
        "silence #{} on {}{}: {state}; by {}: {}",
        silence.id,
        silence.comparators.join(", "),
        items(silence),
        silence.creator,
        silence.reason
    )]
}

fn items(silence: &CanarySilence) -> String {
    if silence.items.is_empty() {
        String::new()
    } else {
        format!(" (items: {})", silence.items.join(", "))
    }
}

/// `ctl canary silences`: every silence listed, then the timeline.
pub(crate) fn silences(reply: &CanaryReply) -> Vec<String> {
    let mut lines = Vec::new();
    if reply.silences.is_empty() {
        lines.push("no silence applies or ended within a day".to_owned());
    } else {
        let mut table = Table::new(&[
            ("ID", Align::Right),
            ("COMPARATORS", Align::Left),
            ("STATE", Align::Left),
            ("UNTIL", Align::Left),
            ("BY", Align::Left),
            ("REASON", Align::Left),
        ]);
        for silence in &reply.silences {
            table.row(vec![
                silence.id.to_string(),
                format!("{}{}", silence.comparators.join(","), items(silence)),
                if silence.applies { "applies" } else { "ended" }.to_owned(),
                silence.expires.clone(),
                silence.creator.clone(),
                silence.reason.clone(),
            ]);
        }
        lines.extend(table.lines());
    }
    lines.push(String::new());
    lines.push("timeline (oldest first):".to_owned());
    if reply.timeline.is_empty() {
        lines.push("  nothing yet".to_owned());
    }
    lines.extend(
        reply
            .timeline
            .iter()
            .map(|event| format!("  {}  {}", event.at, event.summary)),
    );
    lines
}
