//! The overview's last hour, kept in the admin server's memory: every [`INTERVAL`] the same
//! reading the overview answers with is taken, and what changed since the one before is kept
//! as a sample (per tenant: requests, invalid verdicts, refusals, errors; over every tenant:
//! decision p99) for [`WINDOW`]. A restart starts it afresh.
//!
//! [`History`] is the core, without a clock: readings go in with their time. [`Sampler`] is
//! the actor on the admin server's System that takes a reading on a timer and answers
//! [`ReadHistory`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix::{Actor, AsyncContext, Context, Handler, Message};
use tf_admin_api::{HistoryReply, OverviewReply, TenantHistory, TenantId};
use tf_metrics::MetricsHub;
use tf_seam::Board;

use super::summary;

/// Time between samples.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// How long samples are kept.
pub const WINDOW: Duration = Duration::from_secs(3600);
/// Samples kept at most.
const SAMPLES: usize = (WINDOW.as_secs() / INTERVAL.as_secs()) as usize;

/// The samples kept, and the reading the next one is counted from.
#[derive(Debug, Default)]
pub struct History {
    last: Option<OverviewReply>,
    /// Tenant ids by slot, as the newest reading names them (slots never change).
    tenants: Vec<TenantId>,
    samples: VecDeque<Sample>,
}

/// What changed between two readings.
#[derive(Clone, Debug, PartialEq)]
struct Sample {
    at_unix_ms: u64,
    seconds: f64,
    p99_seconds: Option<f64>,
    /// By tenant slot; a slot added later has none in earlier samples.
    tenants: Vec<Counts>,
}

/// One tenant's requests over a sample's interval, by class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    requests: u32,
    invalid: u32,
    refused: u32,
    errors: u32,
}

impl History {
    /// Counts `reading` against the one before (the first is only remembered). A reading no
    /// later than the one before is ignored.
    pub fn record(&mut self, reading: OverviewReply) {
        if let Some(last) = &self.last {
            if reading.at_unix_ms <= last.at_unix_ms {
                return;
            }
            let tenants = (reading.tenants.iter().enumerate())
                .map(|(slot, now)| {
                    let before = last
                        .tenants
                        .get(slot)
                        .map(|t| t.outcomes)
                        .unwrap_or_default();
                    let grew = now.outcomes.since(&before);
                    let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
                    Counts {
                        requests: count(grew.total()),
                        invalid: count(grew.invalid),
                        refused: count(grew.refused()),
                        errors: count(grew.errors()),
                    }
                })
                .collect();
            self.samples.push_back(Sample {
                at_unix_ms: reading.at_unix_ms,
                seconds: (reading.at_unix_ms - last.at_unix_ms) as f64 / 1e3,
                p99_seconds: reading
                    .decision_latency_seconds
                    .quantile_since(Some(&last.decision_latency_seconds), 0.99),
                tenants,
            });
            while self.samples.len() > SAMPLES {
                self.samples.pop_front();
            }
        }
        if reading.tenants.len() >= self.tenants.len() {
            self.tenants = reading.tenants.iter().map(|t| t.tenant.clone()).collect();
        }
        self.last = Some(reading);
    }

    /// The samples kept, as series; tenants without a request in any of them are left out.
    pub fn reply(&self) -> HistoryReply {
        let per_second = |count: u32, sample: &Sample| f64::from(count) / sample.seconds;
        let tenants = (self.tenants.iter().enumerate())
            .filter_map(|(slot, tenant)| {
                let counts: Vec<(Counts, &Sample)> = (self.samples.iter())
                    .map(|s| (s.tenants.get(slot).copied().unwrap_or_default(), s))
                    .collect();
                if counts.iter().all(|(c, _)| c.requests == 0) {
                    return None;
                }
                let series = |pick: fn(&Counts) -> u32| -> Vec<f64> {
                    counts.iter().map(|(c, s)| per_second(pick(c), s)).collect()
                };
                Some(TenantHistory {
                    tenant: tenant.clone(),
                    requests_per_second: series(|c| c.requests),
                    invalid_per_second: series(|c| c.invalid),
                    refused_per_second: series(|c| c.refused),
                    errors_per_second: series(|c| c.errors),
                })
            })
            .collect();
        HistoryReply {
            interval_seconds: INTERVAL.as_secs() as u32,
            window_seconds: WINDOW.as_secs() as u32,
            at_unix_ms: self.samples.iter().map(|s| s.at_unix_ms).collect(),
            requests_per_second: (self.samples.iter())
                .map(|s| {
                    let all: u64 = s.tenants.iter().map(|c| u64::from(c.requests)).sum();
                    all as f64 / s.seconds
                })
                .collect(),
            p99_seconds: self.samples.iter().map(|s| s.p99_seconds).collect(),
            tenants,
        }
    }
}

/// Takes a reading every [`INTERVAL`] into its [`History`].
pub struct Sampler {
    metrics: Arc<MetricsHub>,
    board: Arc<Board>,
    history: History,
}

/// Asks the [`Sampler`] for its samples.
#[derive(Debug, Message)]
#[rtype(result = "HistoryReply")]
pub struct ReadHistory;

impl Sampler {
    /// A sampler of the shards' metrics and pulses.
    pub fn new(metrics: Arc<MetricsHub>, board: Arc<Board>) -> Self {
        Sampler {
            metrics,
            board,
            history: History::default(),
        }
    }

    fn sample(&mut self) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let reading = summary::overview(&self.metrics, &self.board.pulses(), now_ms);
        self.history.record(reading);
    }
}

impl Actor for Sampler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The first reading is the baseline the first sample counts from.
        self.sample();
        ctx.run_interval(INTERVAL, |sampler, _| sampler.sample());
    }
}

impl Handler<ReadHistory> for Sampler {
    type Result = actix::MessageResult<ReadHistory>;

    fn handle(&mut self, _: ReadHistory, _: &mut Self::Context) -> Self::Result {
        actix::MessageResult(self.history.reply())
    }
}

#[cfg(test)]
mod tests {
    use tf_admin_api::{BucketBound, LatencyBucket, LatencyHistogram, Outcomes, TenantTotals};

    use super::*;

    /// A reading at `at_s` seconds: per tenant, counts in `Outcomes::NAMES` order; `fast` and
    /// `slow` decisions so far (at most 1 ms, and at most 1 s).
    fn reading(at_s: u64, tenants: &[(&str, [u64; 8])], fast: u64, slow: u64) -> OverviewReply {
        let bucket = |le: f64, count: u64| LatencyBucket {
            le: BucketBound::from_seconds(le),
            count,
        };
        OverviewReply {
            tenants: tenants
                .iter()
                .map(|(tenant, counts)| TenantTotals {
                    tenant: (*tenant).into(),
                    outcomes: Outcomes::from_counts(*counts),
                })
                .collect(),
            decision_latency_seconds: LatencyHistogram {
                buckets: vec![
                    bucket(0.001, fast),
                    bucket(1.0, fast + slow),
                    bucket(f64::INFINITY, fast + slow),
                ],
                count: fast + slow,
            },
            queued: 0,
            connections: 0,
            at_unix_ms: at_s * 1000,
            answered: 0,
        }
    }

    #[test]
    fn a_sample_is_what_changed_per_second_by_class_and_invalid_is_no_error() {
        let mut history = History::default();
        history.record(reading(100, &[("acme", [5, 0, 0, 0, 0, 0, 0, 0])], 5, 0));
        assert!(history.reply().at_unix_ms.is_empty(), "a baseline only");
        // In 10 s: acme 20 valid, 30 invalid, 10 rejected, 40 over rate; 100 decided slowly.
        history.record(reading(
            110,
            &[("acme", [25, 30, 10, 40, 0, 0, 0, 0]), ("idle", [0; 8])],
            5,
            100,
        ));
        let reply = history.reply();
        assert_eq!(reply.at_unix_ms, [110_000]);
        assert_eq!(reply.requests_per_second, [10.0]);
        assert_eq!(reply.tenants.len(), 1, "idle tenants are left out");
        let acme = &reply.tenants[0];
        assert_eq!(acme.tenant.0, "acme");
        assert_eq!(acme.requests_per_second, [10.0]);
        assert_eq!(acme.invalid_per_second, [3.0]);
        assert_eq!(acme.refused_per_second, [4.0]);
        assert_eq!(acme.errors_per_second, [1.0]);
        let p99 = reply.p99_seconds[0].expect("decided");
        assert!(p99 > 0.001 && p99 <= 1.0, "{p99}");
        // Nothing decided in the next 10 s: no p99, no requests.
        history.record(reading(
            120,
            &[("acme", [25, 30, 10, 40, 0, 0, 0, 0]), ("idle", [0; 8])],
            5,
            100,
        ));
        let reply = history.reply();
        assert_eq!(reply.p99_seconds, [Some(p99), None]);
        assert_eq!(reply.tenants[0].requests_per_second, [10.0, 0.0]);
    }

    #[test]
    fn an_hour_is_kept_and_a_tenant_added_later_starts_at_zero() {
        let mut history = History::default();
        history.record(reading(0, &[("acme", [0; 8])], 0, 0));
        for n in 1..=(SAMPLES as u64 + 5) {
            let mut tenants = vec![("acme", [n, 0, 0, 0, 0, 0, 0, 0])];
            if n > SAMPLES as u64 {
                tenants.push(("late", [n - SAMPLES as u64, 0, 0, 0, 0, 0, 0, 0]));
            }
            history.record(reading(n * 10, &tenants, 0, 0));
        }
        // A clock that stepped back is not a sample.
        history.record(reading(5, &[("acme", [0; 8])], 0, 0));
        let reply = history.reply();
        assert_eq!(reply.at_unix_ms.len(), SAMPLES);
        assert_eq!(reply.at_unix_ms[0], 60_000, "the oldest five are gone");
        assert_eq!(reply.window_seconds, 3600);
        let late = reply.tenants.iter().find(|t| t.tenant.0 == "late");
        let late = late.expect("listed once it has requests");
        assert_eq!(late.requests_per_second.len(), SAMPLES);
        assert_eq!(late.requests_per_second[SAMPLES - 6], 0.0);
        assert_eq!(late.requests_per_second[SAMPLES - 1], 0.1);
    }
}
