//! What the admin server sees of the outbox: per endpoint, counts of attempts,
//! acknowledgements and failures by class, a histogram of the time from an event to its
//! acknowledgement, how much is owed and how old the oldest of it is. The outbox refreshes it;
//! `/metrics`, the API and the console read it without waiting on a delivery.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tf_ledger::EndpointState;
use tf_webhooks::FailureClass;

/// Upper bounds (seconds) of the acknowledgement latency histogram: fine below the 5-second
/// goal of a healthy receiver, then up past the 2-minute goal under failures.
pub const LATENCY_BUCKETS_S: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 3_600.0, 86_400.0,
];

/// One endpoint's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointStatus {
    /// Its URL.
    pub url: String,
    /// Its state.
    pub state: EndpointState,
    /// Why it is in that state.
    pub state_reason: String,
    /// Attempts started.
    pub attempts: u64,
    /// Messages acknowledged.
    pub acknowledged: u64,
    /// Failed attempts by class.
    pub failures: BTreeMap<FailureClass, u64>,
    /// Messages given up on.
    pub given_up: u64,
    /// Acknowledgements per latency bucket (the last counts those above every bound).
    pub latency_buckets: [u64; LATENCY_BUCKETS_S.len() + 1],
    /// Sum of acknowledgement latencies, seconds.
    pub latency_sum_s: f64,
    /// Messages stored and not acknowledged.
    pub owed_messages: u64,
    /// Committed receipts not yet put in a message.
    pub receipts_behind: u64,
    /// When the oldest event owed happened, Unix microseconds.
    pub oldest_owed_us: Option<u64>,
}

impl EndpointStatus {
    pub(crate) fn new(url: &str, state: EndpointState, state_reason: &str) -> Self {
        EndpointStatus {
            url: url.to_owned(),
            state,
            state_reason: state_reason.to_owned(),
            attempts: 0,
            acknowledged: 0,
            failures: BTreeMap::new(),
            given_up: 0,
            latency_buckets: [0; LATENCY_BUCKETS_S.len() + 1],
            latency_sum_s: 0.0,
            owed_messages: 0,
            receipts_behind: 0,
            oldest_owed_us: None,
        }
    }

    pub(crate) fn acknowledged_after(&mut self, latency_us: u64) {
        let seconds = latency_us as f64 / 1e6;
        let bucket = LATENCY_BUCKETS_S
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS_S.len());
        self.latency_buckets[bucket] += 1;
        self.latency_sum_s += seconds;
        self.acknowledged += 1;
    }
}

/// Every endpoint's figures, by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WebhooksStatus {
    /// By endpoint id.
    pub endpoints: BTreeMap<u64, EndpointStatus>,
}

/// The handle the admin server holds.
#[derive(Clone, Debug, Default)]
pub struct WebhooksHandle {
    shared: Arc<Mutex<WebhooksStatus>>,
}

impl WebhooksHandle {
    /// The figures as last refreshed.
    pub fn status(&self) -> WebhooksStatus {
        self.lock().clone()
    }

    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut WebhooksStatus) -> T) -> T {
        change(&mut self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, WebhooksStatus> {
        // A panic while holding it leaves figures, not invariants: keep serving them.
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_in_the_first_bucket_that_holds_them() {
        let mut status = EndpointStatus::new("https://a.example/", EndpointState::Active, "");
        status.acknowledged_after(40_000);
        status.acknowledged_after(5_000_000);
        status.acknowledged_after(90_000_000);
        status.acknowledged_after(200_000 * 1_000_000);
        assert_eq!(status.latency_buckets[0], 1);
        assert_eq!(status.latency_buckets[6], 1, "5 s is within the 5 s bucket");
        assert_eq!(status.latency_buckets[10], 1, "90 s within 120 s");
        assert_eq!(status.latency_buckets[14], 1, "above every bound");
        assert_eq!(status.acknowledged, 4);
    }
}
