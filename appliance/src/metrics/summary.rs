//! The same snapshots as `/metrics`, summed for people: what the console's live overview and
//! the admin API's tenants and budgets routes show.

use std::sync::Arc;

use serde_json::{Value, json};

use super::histogram::{Histogram, LATENCY_SECONDS};
use super::shard::{OUTCOMES, ShardSnapshot};
use super::{MetricsHub, lock};

impl MetricsHub {
    fn snapshots(&self) -> Vec<Arc<ShardSnapshot>> {
        self.shards
            .iter()
            .filter_map(|slot| lock(slot).clone())
            .collect()
    }

    /// Totals since start: per tenant, requests by outcome; decision latency over every kind
    /// as cumulative buckets (seconds). A reader diffs two readings for rates and recent
    /// percentiles.
    pub fn overview(&self) -> Value {
        let shards = self.snapshots();
        let tenants: Vec<Value> = self
            .tenants()
            .iter()
            .enumerate()
            .map(|(slot, tenant)| {
                let mut outcomes = serde_json::Map::new();
                for (o, outcome) in OUTCOMES.iter().enumerate() {
                    let total: u64 = shards
                        .iter()
                        .filter_map(|s| s.metrics.outcomes.get(slot))
                        .map(|row| row.iter().map(|kind| kind[o]).sum::<u64>())
                        .sum();
                    outcomes.insert((*outcome).to_owned(), json!(total));
                }
                json!({ "tenant": tenant, "outcomes": outcomes })
            })
            .collect();
        let mut latency = Histogram::new(LATENCY_SECONDS);
        for snapshot in &shards {
            for histogram in &snapshot.metrics.decision_latency {
                latency.merge(histogram);
            }
        }
        let buckets: Vec<Value> = latency
            .cumulative()
            .into_iter()
            .map(|(bound, count)| {
                json!({ "le": if bound.is_finite() { json!(bound) } else { json!("+Inf") }, "count": count })
            })
            .collect();
        json!({
            "tenants": tenants,
            "decision_latency_seconds": { "buckets": buckets, "count": latency.count() },
            "queued": shards.iter().map(|s| s.queue_depth).sum::<usize>(),
            "connections": shards.iter().map(|s| s.connections).sum::<u64>(),
        })
    }

    /// Every capped tenant's caps as their home shards last saw them.
    pub fn budgets(&self) -> Value {
        let mut caps = Vec::new();
        let tenants = self.tenants();
        for snapshot in self.snapshots() {
            for gauge in &snapshot.budgets {
                let tenant = tenants
                    .get(gauge.tenant.0 as usize)
                    .map_or("?", String::as_str);
                let status = &gauge.status;
                caps.push(json!({
                    "tenant": tenant,
                    "purpose": status.cap.purpose,
                    "class": format!("{:?}", status.cap.class),
                    "window": status.cap.window.to_string(),
                    "limit": status.cap.limit,
                    "used": status.used,
                    "reserved": status.reserved,
                    "remaining": status.remaining,
                    "resets_at": status.resets_at_us.map(|us| tf_budgets::format_utc(us / 1_000_000)),
                }));
            }
        }
        caps.sort_by(|a, b| a["tenant"].as_str().cmp(&b["tenant"].as_str()));
        json!({ "caps": caps })
    }
}
