//! `/metrics` lines for the ledger's storage health, from the board the ledger thread writes:
//! which storage fault is in force (shards answer new work `Unavailable` while one is) and
//! how many commits each fault failed.

use tf_ledger::StorageFault;
use tf_seam::StorageHealth;

/// Appends the storage health metrics to a scrape.
pub fn render(health: &StorageHealth, now_us: u64, out: &mut String) {
    let report = health.report();
    let mut page = tf_metrics::Page::default();
    let fault = "trust_fabric_ledger_storage_fault";
    page.family(
        fault,
        "gauge",
        "1 for the storage fault in force: the ledger cannot commit, and new requests are \
         answered Unavailable until it can (it is tried every second).",
    );
    for each in StorageFault::ALL {
        let active = report.as_ref().is_some_and(|r| r.fault == each.name());
        page.sample(
            fault,
            &[("fault", each.name())],
            f64::from(u8::from(active)),
        );
    }
    let failed = "trust_fabric_ledger_failed_commits_total";
    page.family(
        failed,
        "counter",
        "Ledger commits that failed since start, by storage fault (their requests were \
         answered Unavailable, nothing stored or charged).",
    );
    for each in StorageFault::ALL {
        let count = health.failed_commits(each.name());
        page.sample(failed, &[("fault", each.name())], count as f64);
    }
    let since = "trust_fabric_ledger_storage_fault_seconds";
    page.family(
        since,
        "gauge",
        "How long the storage fault in force has lasted, seconds (0 when none is).",
    );
    let seconds = report.map_or(0.0, |r| now_us.saturating_sub(r.since_unix_us) as f64 / 1e6);
    page.sample(since, &[], seconds);
    out.push_str(&page.finish());
}
