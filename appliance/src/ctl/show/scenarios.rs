//! The scenario packs' results for people: one line per pack (its latest run, the drift bound
//! and its change against the night before and the week's median), then what failed and what
//! did not apply.

use tf_admin_api::{ScenarioOutcome, ScenariosReply};

use super::table::{Align, Table};

/// `ctl scenarios` and `appliance scenarios results`.
pub(crate) fn results(reply: &ScenariosReply) -> Vec<String> {
    let mut lines = vec![match &reply.schedule {
        Some(schedule) => format!("packs run at \"{schedule}\" (UTC); results kept 90 days"),
        None => "the scheduler is off ([scenarios] enabled = false); results kept from before"
            .to_owned(),
    }];
    if reply.packs.is_empty() {
        lines.push(
            "no results yet: they appear after the first scheduled night (`appliance scenarios \
             run PACK` runs one by hand)"
                .to_owned(),
        );
        return lines;
    }
    let delta = |d: Option<f64>| d.map_or("-".to_owned(), |d| format!("{d:+.3}"));
    let mut table = Table::new(&[
        ("PACK", Align::Left),
        ("LATEST", Align::Left),
        ("RESULT", Align::Left),
        ("DRIFT %", Align::Right),
        ("VS LAST", Align::Right),
        ("VS WEEK", Align::Right),
        ("FLIPS", Align::Right),
        ("DECISIONS", Align::Right),
    ]);
    for pack in &reply.packs {
        let latest = &pack.latest;
        let result = match latest.outcome {
            ScenarioOutcome::Passed => "passed",
            ScenarioOutcome::Failed => "FAILED",
            ScenarioOutcome::DidNotRun => "did not run",
            ScenarioOutcome::NotApplicable => "not applicable",
            // An outcome newer than this client.
            _ => "?",
        };
        table.row(vec![
            pack.name.clone(),
            latest.started.clone(),
            result.to_owned(),
            format!("{:.3}", pack.drift_bound_percent.latest),
            delta(pack.drift_bound_percent.since_last),
            delta(pack.drift_bound_percent.since_week_median),
            latest.flips.to_string(),
            latest.decisions.to_string(),
        ]);
    }
    lines.extend(table.lines());
    for pack in reply.packs.iter().filter(|p| !p.latest.passed) {
        if pack.latest.outcome == ScenarioOutcome::NotApplicable {
            lines.push(format!(
                "{}: not applicable, not run: the bundle in force has no tenant {}",
                pack.name,
                pack.latest.missing_tenants.join(", ")
            ));
        }
        if let Some(error) = &pack.latest.error {
            lines.push(format!("{}: did not run: {error}", pack.name));
        }
        for missed in pack.latest.expectations.iter().filter(|e| !e.held) {
            lines.push(format!(
                "{}: {} ({})",
                pack.name, missed.what, missed.detail
            ));
        }
    }
    lines
}
