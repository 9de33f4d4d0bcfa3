//! `/metrics` lines for the scenario scheduler, from what it last stored (kept in memory by its
//! handle: a scrape touches no file).

use tf_control::scenarios::Seen;

use crate::storage_metrics::gauge;

/// Appends the scenario metrics to a scrape; `scheduled`: the scheduler runs (without it, no
/// run is expected, and the time of the last one is left out so no alert waits for the next).
pub fn render(seen: &Seen, scheduled: bool, out: &mut String) {
    gauge(
        out,
        "trust_fabric_scenario_packs",
        "Scenario packs with a result kept.",
        seen.packs.len() as f64,
    );
    gauge(
        out,
        "trust_fabric_scenario_packs_failing",
        "Scenario packs whose latest run failed its expectations or did not run.",
        seen.failing.len() as f64,
    );
    gauge(
        out,
        "trust_fabric_scenario_packs_not_applicable",
        "Scenario packs whose latest night did not apply: they name tenants the bundle in \
         force does not have, so they were not run (neither passed nor failing).",
        seen.not_applicable.len() as f64,
    );
    if !seen.packs.is_empty() {
        let name = "trust_fabric_scenario_pack_failing";
        let mut page = tf_metrics::Page::default();
        page.family(
            name,
            "gauge",
            "1 while the pack's latest run failed its expectations or did not run (0 when it \
             did not apply to the bundle in force).",
        );
        for pack in &seen.packs {
            let failing = u8::from(seen.failing.contains(pack));
            page.sample(name, &[("pack", pack)], failing.into());
        }
        out.push_str(&page.finish());
    }
    if let Some(last_us) = seen.last_run_us.filter(|_| scheduled) {
        gauge(
            out,
            "trust_fabric_scenario_last_run_seconds",
            "When the latest scenario run ended, Unix seconds.",
            last_us as f64 / 1e6,
        );
    }
}
