//! Everything measured during a run: HdrHistograms of latency (microseconds) overall, per
//! tenant, per stage, per kind and per second, and counts of what was sent, served and
//! refused. Requests due during the warm-up are not recorded at all.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use tf_partner::PartnerError;

use crate::mix::Kind;
use crate::schedule::Slot;

/// The largest latency recorded: an hour, in microseconds (anything slower is clamped).
const MAX_MICROS: u64 = 3_600_000_000;
/// Three significant digits: values are exact to 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in microseconds.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, SIGNIFICANT_DIGITS).expect("valid fixed bounds")
}

fn micros(duration: Duration) -> u64 {
    (duration.as_micros() as u64).clamp(1, MAX_MICROS)
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A verdict came back (every pooled item is valid, so anything but `valid` is
    /// `wrong-verdict`). The times come from the receipt: received to decided inside the
    /// appliance, and decided to the answer reaching the rig.
    Verdict {
        valid: bool,
        in_appliance: Duration,
        after_verdict: Duration,
    },
    /// Refused or failed; the error's type.
    Error(&'static str),
}

/// The type of a partner error, as counted in reports.
pub fn error_type(error: &PartnerError) -> &'static str {
    match error {
        // Overload must always say when to come back: a busy answer without a retry time is
        // counted apart, so a report shows it.
        PartnerError::Busy { retry_after_ms: 0 } => "busy-without-retry",
        other => other.kind(),
    }
}

/// The connection was closed under the request (the rig reconnects).
pub const CONNECTION_LOST: &str = "connection-lost";
/// The rig's own refusal: due while --max-in-flight requests were outstanding.
pub const NOT_SENT: &str = "not-sent";
/// A verdict other than valid for an item that is valid.
pub const WRONG_VERDICT: &str = "wrong-verdict";

/// Counts and latencies of one group of requests.
#[derive(Debug, Clone)]
pub struct Tally {
    pub sent: u64,
    pub served: u64,
    pub valid: u64,
    pub errors: BTreeMap<&'static str, u64>,
    /// Latency of every finished request, served or not.
    pub latency: Histogram<u64>,
    /// Latency of served requests only.
    pub served_latency: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            sent: 0,
            served: 0,
            valid: 0,
            errors: BTreeMap::new(),
            latency: histogram(),
            served_latency: histogram(),
        }
    }
}

impl Tally {
    fn record(&mut self, outcome: &Outcome, latency: u64) {
        self.latency.saturating_record(latency);
        match outcome {
            Outcome::Verdict { valid, .. } => {
                self.served += 1;
                self.served_latency.saturating_record(latency);
                if *valid {
                    self.valid += 1;
                } else {
                    *self.errors.entry(WRONG_VERDICT).or_default() += 1;
                }
            }
            Outcome::Error(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds another tally (for groups of stages).
    pub fn add(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.served += other.served;
        self.valid += other.valid;
        for (kind, count) in &other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        self.latency.add(&other.latency).expect("same bounds");
        self.served_latency
            .add(&other.served_latency)
            .expect("same bounds");
    }
}

/// Where an answered request's time went, from its receipt: received to decided inside the
/// appliance, and decided to the answer reaching the rig. (What is left of its latency was
/// spent before the appliance received it.)
#[derive(Debug, Clone)]
pub struct AnswerTimes {
    pub in_appliance: Histogram<u64>,
    pub after_verdict: Histogram<u64>,
}

impl Default for AnswerTimes {
    fn default() -> AnswerTimes {
        AnswerTimes {
            in_appliance: histogram(),
            after_verdict: histogram(),
        }
    }
}

impl AnswerTimes {
    fn record(&mut self, in_appliance: Duration, after_verdict: Duration) {
        self.in_appliance.saturating_record(micros(in_appliance));
        self.after_verdict.saturating_record(micros(after_verdict));
    }

    /// Every group's answers together (the run's, from its tenants').
    pub fn merged<'a>(groups: impl IntoIterator<Item = &'a AnswerTimes>) -> AnswerTimes {
        let mut all = AnswerTimes::default();
        for group in groups {
            all.in_appliance
                .add(&group.in_appliance)
                .expect("same bounds");
            all.after_verdict
                .add(&group.after_verdict)
                .expect("same bounds");
        }
        all
    }
}

/// One second of the measured run, by completion time.
#[derive(Debug, Clone, Default)]
pub struct Interval {
    pub tally: Tally,
}

/// The measurements of one run.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Requests due before this are warm-up.
    measure_from: Duration,
    pub overall: Tally,
    pub tenants: Vec<Tally>,
    pub stages: Vec<Tally>,
    pub kinds: BTreeMap<Kind, Tally>,
    /// Per tenant: a slow tenant's answers show where its time went (the run's are theirs
    /// merged).
    pub tenant_answer_times: Vec<AnswerTimes>,
    /// Per second from `measure_from`, by when the request finished.
    pub intervals: Vec<Interval>,
    /// Requests sent (and finished) during the warm-up.
    pub warmup_requests: u64,
}

impl Recorder {
    pub fn new(measure_from: Duration, tenants: usize, stages: usize) -> Recorder {
        Recorder {
            measure_from,
            overall: Tally::default(),
            tenants: vec![Tally::default(); tenants],
            stages: vec![Tally::default(); stages],
            kinds: BTreeMap::new(),
            tenant_answer_times: vec![AnswerTimes::default(); tenants],
            intervals: Vec::new(),
            warmup_requests: 0,
        }
    }

    fn measured(&self, slot: &Slot) -> bool {
        slot.at >= self.measure_from
    }

    /// A request was due and handed to the network (or not sent: see [`NOT_SENT`]).
    pub fn sent(&mut self, slot: &Slot, kind: Kind) {
        if !self.measured(slot) {
            self.warmup_requests += 1;
            return;
        }
        self.overall.sent += 1;
        self.tenants[slot.tenant].sent += 1;
        self.stages[slot.stage].sent += 1;
        self.kinds.entry(kind).or_default().sent += 1;
        self.interval(slot.at).tally.sent += 1;
    }

    /// A request finished at `finished` (from the start of the run).
    pub fn finished(&mut self, slot: &Slot, kind: Kind, outcome: &Outcome, finished: Duration) {
        if !self.measured(slot) {
            return;
        }
        let latency = micros(finished.saturating_sub(slot.at));
        self.overall.record(outcome, latency);
        self.tenants[slot.tenant].record(outcome, latency);
        self.stages[slot.stage].record(outcome, latency);
        self.kinds.entry(kind).or_default().record(outcome, latency);
        self.interval(finished).tally.record(outcome, latency);
        if let Outcome::Verdict {
            in_appliance,
            after_verdict,
            ..
        } = outcome
        {
            self.tenant_answer_times[slot.tenant].record(*in_appliance, *after_verdict);
        }
    }

    /// The per-second series of a measured part that lasted `measured`: its whole seconds
    /// only. A trailing partial second is dropped, not scaled by its real length: intervals
    /// go by completion time and answers keep arriving after sending stops, so the last
    /// bucket's sent and served have no common duration (scaled by the sending time, served
    /// would be overstated; left as they are, both fall off a cliff that the appliance never
    /// showed). Nothing is lost from the figures: the totals, percentiles and the interval
    /// log hold every request.
    pub fn whole_seconds(&self, measured: Duration) -> &[Interval] {
        let whole = (measured.as_secs() as usize).min(self.intervals.len());
        &self.intervals[..whole]
    }

    /// The interval holding time `at` of the run.
    fn interval(&mut self, at: Duration) -> &mut Interval {
        let index = at.saturating_sub(self.measure_from).as_secs() as usize;
        if self.intervals.len() <= index {
            self.intervals.resize_with(index + 1, Interval::default);
        }
        &mut self.intervals[index]
    }

    /// Requests sent and not yet finished or refused, among the measured ones.
    pub fn outstanding(&self) -> u64 {
        self.overall.sent - self.overall.latency.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(at_ms: u64, tenant: usize) -> Slot {
        Slot {
            at: Duration::from_millis(at_ms),
            stage: 0,
            tenant,
        }
    }

    #[test]
    fn percentiles_by_hand() {
        // Latencies 1..=100 ms: the nearest-rank p50 is 50 ms, p95 95, p99 99, max 100.
        let mut recorder = Recorder::new(Duration::ZERO, 1, 1);
        for i in 1..=100u64 {
            let s = slot(0, 0);
            recorder.sent(&s, Kind::Bls);
            let outcome = Outcome::Verdict {
                valid: true,
                in_appliance: Duration::from_millis(1),
                after_verdict: Duration::from_millis(1),
            };
            recorder.finished(&s, Kind::Bls, &outcome, Duration::from_millis(i));
        }
        let h = &recorder.overall.latency;
        for (quantile, expected_ms) in [(0.5, 50.0), (0.95, 95.0), (0.99, 99.0), (1.0, 100.0)] {
            let got = h.value_at_quantile(quantile) as f64 / 1e3;
            // Three significant digits: within 0.1 %.
            assert!(
                (got - expected_ms).abs() <= expected_ms * 1e-3,
                "q{quantile}: {got} ms, expected {expected_ms}"
            );
        }
        assert_eq!(recorder.overall.served, 100);
        assert_eq!(recorder.outstanding(), 0);
    }

    #[test]
    fn warmup_is_not_recorded_and_intervals_follow_completion_time() {
        let mut recorder = Recorder::new(Duration::from_secs(10), 2, 1);
        let early = slot(9_999, 0);
        recorder.sent(&early, Kind::Bn254);
        recorder.finished(
            &early,
            Kind::Bn254,
            &Outcome::Error("busy"),
            Duration::from_secs(11),
        );
        assert_eq!(recorder.warmup_requests, 1);
        assert_eq!(recorder.overall.sent, 0);
        assert!(recorder.overall.errors.is_empty());

        let late = slot(10_500, 1);
        recorder.sent(&late, Kind::Bn254);
        assert_eq!(recorder.outstanding(), 1);
        recorder.finished(
            &late,
            Kind::Bn254,
            &Outcome::Error("busy"),
            Duration::from_millis(12_100),
        );
        assert_eq!(recorder.tenants[1].errors["busy"], 1);
        assert_eq!(recorder.tenants[1].served, 0);
        // Sent in second 0 of the measurement, finished in second 2.
        assert_eq!(recorder.intervals[0].tally.sent, 1);
        assert_eq!(recorder.intervals[2].tally.error_count(), 1);
        assert_eq!(recorder.overall.latency.max() / 1000, 1600);
    }

    #[test]
    fn the_series_keeps_whole_seconds_only() {
        let mut recorder = Recorder::new(Duration::ZERO, 1, 1);
        for at_ms in [100, 1_100, 2_100, 2_400] {
            let s = slot(at_ms, 0);
            recorder.sent(&s, Kind::Bls);
            recorder.finished(
                &s,
                Kind::Bls,
                &Outcome::Error("busy"),
                Duration::from_millis(at_ms + 700),
            );
        }
        // Sending stopped at 2.5 s; the last answer came at 3.1 s.
        assert_eq!(recorder.intervals.len(), 4);
        assert_eq!(
            recorder.whole_seconds(Duration::from_millis(2_500)).len(),
            2
        );
        assert_eq!(recorder.whole_seconds(Duration::from_secs(3)).len(), 3);
        assert_eq!(recorder.whole_seconds(Duration::from_secs(60)).len(), 4);
    }
}
