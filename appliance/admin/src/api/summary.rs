//! The shards' metrics snapshots (the same ones `/metrics` exposes), summed for people: the
//! overview and budgets replies the API and the console's pages show.

use tf_admin_api::{
    BucketBound, BudgetsReply, CapUsage, LatencyBucket, LatencyHistogram, Outcomes, OverviewReply,
    TenantId, TenantTotals,
};
use tf_metrics::{Histogram, LATENCY_SECONDS, MetricsHub, OUTCOMES};
use tf_seam::PulseReading;

/// Totals since start: per tenant, requests by outcome; decision latency over every kind and
/// shard as cumulative buckets (seconds); queued requests and connections now; answers
/// delivered (from the shards' `pulses`). Read at `at_unix_ms`. A reader diffs two readings
/// for rates and recent percentiles.
pub fn overview(hub: &MetricsHub, pulses: &[PulseReading], at_unix_ms: u64) -> OverviewReply {
    let shards = hub.snapshots();
    let tenants = hub
        .tenants()
        .iter()
        .enumerate()
        .map(|(slot, tenant)| {
            let mut counts = [0u64; Outcomes::NAMES.len()];
            for row in shards.iter().filter_map(|s| s.metrics.outcomes.get(slot)) {
                for kind in row {
                    for (total, count) in counts.iter_mut().zip(kind) {
                        *total += count;
                    }
                }
            }
            TenantTotals {
                tenant: TenantId(tenant.clone()),
                outcomes: Outcomes::from_counts(counts),
            }
        })
        .collect();
    let mut latency = Histogram::new(LATENCY_SECONDS);
    for snapshot in &shards {
        for histogram in &snapshot.metrics.decision_latency {
            latency.merge(histogram);
        }
    }
    OverviewReply {
        tenants,
        decision_latency_seconds: LatencyHistogram {
            buckets: latency
                .cumulative()
                .into_iter()
                .map(|(bound, count)| LatencyBucket {
                    le: BucketBound::from_seconds(bound),
                    count,
                })
                .collect(),
            count: latency.count(),
        },
        queued: shards.iter().map(|s| s.queue_depth as u64).sum(),
        connections: shards.iter().map(|s| s.connections).sum(),
        at_unix_ms,
        answered: pulses.iter().map(|p| p.answered).sum(),
    }
}

/// Every capped tenant's caps as their home shards last saw them, by tenant.
pub fn budgets(hub: &MetricsHub) -> BudgetsReply {
    let tenants = hub.tenants();
    let mut caps: Vec<CapUsage> = hub
        .snapshots()
        .iter()
        .flat_map(|snapshot| snapshot.budgets.iter())
        .map(|gauge| {
            let status = &gauge.status;
            CapUsage {
                tenant: TenantId(
                    tenants
                        .get(gauge.tenant.0 as usize)
                        .map_or("?", String::as_str)
                        .to_owned(),
                ),
                purpose: status.cap.purpose.clone(),
                class: format!("{:?}", status.cap.class),
                window: status.cap.window.to_string(),
                limit: status.cap.limit,
                used: status.used,
                reserved: status.reserved,
                remaining: status.remaining,
                resets_at: status
                    .resets_at_us
                    .map(|us| tf_budgets::format_utc(us / 1_000_000)),
            }
        })
        .collect();
    // Stable: a tenant's caps keep the order its home shard lists them in.
    caps.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    BudgetsReply { caps }
}

// The metrics count as many outcomes as the reply names (a test checks they are the same, in
// the same order).
const _: () = assert!(OUTCOMES.len() == Outcomes::NAMES.len());

#[cfg(test)]
mod tests;
