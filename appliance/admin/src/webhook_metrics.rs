//! `/metrics` lines for auditor webhooks, per endpoint, read from the outbox's status (the
//! outbox refreshes it every turn; a scrape waits on no delivery).

use tf_control::webhooks::{LATENCY_BUCKETS_S, WebhooksStatus};
use tf_metrics::Page;
use tf_webhooks::FailureClass;

/// The states an endpoint can be in, each a series of `..._endpoint_state`.
const STATES: [&str; 3] = ["active", "paused", "disabled"];

/// Appends the webhook metrics to a scrape taken at `now_us`.
pub fn render(status: &WebhooksStatus, now_us: u64, out: &mut String) {
    let mut page = Page::default();
    let ids: Vec<(String, &_)> = status
        .endpoints
        .iter()
        .map(|(id, endpoint)| (id.to_string(), endpoint))
        .collect();
    let each =
        |page: &mut Page, kind: &str, name: &str, help: &str, value: &dyn Fn(usize) -> f64| {
            page.family(name, kind, help);
            for (at, (id, _)) in ids.iter().enumerate() {
                page.sample(name, &[("endpoint", id)], value(at));
            }
        };
    each(
        &mut page,
        "counter",
        "trust_fabric_webhook_attempts_total",
        "Delivery attempts started, by endpoint.",
        &|at| ids[at].1.attempts as f64,
    );
    each(
        &mut page,
        "counter",
        "trust_fabric_webhook_acknowledged_total",
        "Messages acknowledged (a 2xx answer), by endpoint.",
        &|at| ids[at].1.acknowledged as f64,
    );
    each(
        &mut page,
        "counter",
        "trust_fabric_webhook_given_up_total",
        "Messages given up on after the retry ladder (the endpoint is then disabled).",
        &|at| ids[at].1.given_up as f64,
    );
    let name = "trust_fabric_webhook_failures_total";
    page.family(
        name,
        "counter",
        "Failed delivery attempts, by endpoint and class.",
    );
    for (id, endpoint) in &ids {
        for class in FailureClass::ALL {
            let count = endpoint.failures.get(&class).copied().unwrap_or(0);
            page.sample(
                name,
                &[("endpoint", id), ("class", class.as_str())],
                count as f64,
            );
        }
    }
    let name = "trust_fabric_webhook_ack_latency_seconds";
    page.family(
        name,
        "histogram",
        "Time from an event (a receipt's decision) to its acknowledgement, by endpoint.",
    );
    for (id, endpoint) in &ids {
        let mut cumulative = 0;
        for (bound, count) in LATENCY_BUCKETS_S
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(endpoint.latency_buckets)
        {
            cumulative += count;
            let le = match bound {
                b if b.is_infinite() => "+Inf".to_owned(),
                b => b.to_string(),
            };
            page.sample(
                &format!("{name}_bucket"),
                &[("endpoint", id), ("le", &le)],
                cumulative as f64,
            );
        }
        page.sample(
            &format!("{name}_sum"),
            &[("endpoint", id)],
            endpoint.latency_sum_s,
        );
        page.sample(
            &format!("{name}_count"),
            &[("endpoint", id)],
            endpoint.acknowledged as f64,
        );
    }
    each(
        &mut page,
        "gauge",
        "trust_fabric_webhook_owed_messages",
        "Messages stored and not acknowledged (the outbox's depth), by endpoint.",
        &|at| ids[at].1.owed_messages as f64,
    );
    each(
        &mut page,
        "gauge",
        "trust_fabric_webhook_receipts_behind",
        "Committed receipts not yet put in a message, by endpoint.",
        &|at| ids[at].1.receipts_behind as f64,
    );
    each(
        &mut page,
        "gauge",
        "trust_fabric_webhook_oldest_owed_age_seconds",
        "Age of the oldest event an endpoint is owed, seconds; 0 when owed nothing.",
        &|at| {
            ids[at]
                .1
                .oldest_owed_us
                .map_or(0.0, |us| now_us.saturating_sub(us) as f64 / 1e6)
        },
    );
    let name = "trust_fabric_webhook_endpoint_state";
    page.family(
        name,
        "gauge",
        "1 for the state each endpoint is in: active, paused or disabled (by the appliance).",
    );
    for (id, endpoint) in &ids {
        for state in STATES {
            let value = u8::from(endpoint.state.as_str() == state);
            page.sample(name, &[("endpoint", id), ("state", state)], value.into());
        }
    }
    out.push_str(&page.finish());
}
