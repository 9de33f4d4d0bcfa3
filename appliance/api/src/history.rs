//! `GET /api/v1/overview/history`: the overview's last hour, one sample every 10 s, kept in
//! the admin server's memory (a restart starts it afresh). Each series holds one value per
//! sample, oldest first.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::TenantId;

/// The reply of `GET /api/v1/overview/history`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryReply {
    /// Seconds between samples.
    pub interval_seconds: u32,
    /// Seconds of samples kept at most.
    pub window_seconds: u32,
    /// When each sample was taken, Unix milliseconds, oldest first.
    pub at_unix_ms: Vec<u64>,
    /// Requests of every tenant per second over each sample's interval, whatever their
    /// outcome.
    pub requests_per_second: Vec<f64>,
    /// Decision latency p99 over each sample's interval, every tenant and statement kind,
    /// seconds; `null` where nothing was decided.
    #[schema(value_type = Vec<Option<f64>>)]
    pub p99_seconds: Vec<Option<f64>>,
    /// Each tenant with a request in the samples kept, in slot order.
    pub tenants: Vec<TenantHistory>,
}

/// One tenant's samples: each series per second over each sample's interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantHistory {
    /// The tenant.
    pub tenant: TenantId,
    /// Requests, whatever their outcome.
    pub requests_per_second: Vec<f64>,
    /// Invalid verdicts: well-formed proofs that did not verify (answers, not errors).
    pub invalid_per_second: Vec<f64>,
    /// Refusals: over rate, mailbox full, unknown key, over budget, denied by policy.
    pub refused_per_second: Vec<f64>,
    /// Errors: requests that could not be decided (malformed, rejected before
    /// verification).
    pub errors_per_second: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::assert_same_json;

    #[test]
    fn a_history_is_series_of_one_value_per_sample() {
        let reply = HistoryReply {
            interval_seconds: 10,
            window_seconds: 3600,
            at_unix_ms: vec![1_000, 11_000],
            requests_per_second: vec![0.0, 2.5],
            p99_seconds: vec![None, Some(0.002)],
            tenants: vec![TenantHistory {
                tenant: "acme".into(),
                requests_per_second: vec![0.0, 2.5],
                invalid_per_second: vec![0.0, 0.5],
                refused_per_second: vec![0.0, 0.1],
                errors_per_second: vec![0.0, 0.0],
            }],
        };
        assert_same_json(
            &reply,
            json!({
                "interval_seconds": 10,
                "window_seconds": 3600,
                "at_unix_ms": [1000, 11000],
                "requests_per_second": [0.0, 2.5],
                "p99_seconds": [null, 0.002],
                "tenants": [{
                    "tenant": "acme",
                    "requests_per_second": [0.0, 2.5],
                    "invalid_per_second": [0.0, 0.5],
                    "refused_per_second": [0.0, 0.1],
                    "errors_per_second": [0.0, 0.0],
                }],
            }),
        );
    }
}
