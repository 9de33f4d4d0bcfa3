//! The golden canary: `GET /api/v1/canary` (its recent runs, each comparator's judgement,
//! the windows judged, its silences and timeline), `POST /api/v1/canary/run` (a run now,
//! answered when it ends), `POST /api/v1/canary/silences` (a silence) and
//! `POST /api/v1/canary/silences/{id}/lift`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The reply of both canary routes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CanaryReply {
    /// Whether the canary runs.
    pub enabled: bool,
    /// Why it does not run (turned off, its tenant not listed, ...); `null` when it runs.
    #[schema(required = true)]
    pub problem: Option<String>,
    /// The tenant it connects as.
    pub tenant: String,
    /// How often it runs, milliseconds.
    pub interval_ms: u64,
    /// Requests in its golden set.
    pub items: u64,
    /// Runs since the appliance started.
    pub runs: u64,
    /// `pass`, `marginal` or `fail`: the latest run's verdict; `null` before the first.
    #[schema(required = true)]
    pub overall: Option<String>,
    /// The longest streak of failing runs of any one comparator so far (the consecutive-failure
    /// limit applies to it).
    pub failing_runs: u32,
    /// How many in a row of a non-critical comparator's failures fail the canary (a critical
    /// one fails it at once).
    pub consecutive_failures: u32,
    /// When the canary started failing, RFC 3339 UTC; `null` when it is not failing.
    #[schema(required = true)]
    pub alarm_since: Option<String>,
    /// The latest run in full; `null` before the first.
    #[schema(required = true)]
    pub latest: Option<CanaryRun>,
    /// The latest runs' verdicts, oldest first (at most 60).
    pub recent: Vec<CanaryRunBrief>,
    /// The window judged.
    pub current: CanaryWindow,
    /// The baseline it was judged against.
    pub baseline: CanaryWindow,
    /// Silences that apply, then those expired or lifted within a day, oldest first.
    pub silences: Vec<CanarySilence>,
    /// The latest alarms, recoveries, silences and lifts, oldest first (at most 50).
    pub timeline: Vec<CanaryEvent>,
}

/// A silence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CanarySilence {
    /// Its number.
    pub id: u64,
    /// The comparators it covers.
    pub comparators: Vec<String>,
    /// The golden set's items it covers for `verdict` and `receipt` (empty: every item).
    pub items: Vec<String>,
    /// Who made it.
    pub creator: String,
    /// Why.
    pub reason: String,
    /// When it was made, RFC 3339 UTC.
    pub created: String,
    /// When it stops (or stopped) applying, RFC 3339 UTC.
    pub expires: String,
    /// Whether it applies now.
    pub applies: bool,
}

/// One event of the canary's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CanaryEvent {
    /// Its number in the ledger.
    pub seq: u64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// `canary.alarm`, `canary.recovered`, `canary.silence`, `canary.silence.lifted`,
    /// `canary.baseline.reset` or `canary.after-switch`.
    pub kind: String,
    /// What happened, in words.
    pub summary: String,
}

/// The body of `POST /api/v1/canary/baseline/reset`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBaseline {
    /// Why the appliance as it is now is the new normal (the resetter is the caller).
    pub reason: String,
}

/// The body of `POST /api/v1/canary/silences`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSilence {
    /// The comparators to silence: `verdict`, `receipt`, `latency`, `error-rate`.
    pub comparators: Vec<String>,
    /// For `verdict` and `receipt` only: the golden set's items (their labels) to silence;
    /// absent or empty: every item.
    #[serde(default)]
    pub items: Vec<String>,
    /// How long it applies: a whole number and s, m, h or d, at most 7d.
    pub duration: String,
    /// Why (the creator is the caller).
    pub reason: String,
}

/// The path of `POST /api/v1/canary/silences/{id}/lift`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SilencePath {
    /// The silence's number.
    pub id: u64,
}

/// One run in full.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CanaryRun {
    /// Its number since start, from 1.
    pub number: u64,
    /// When it ended, RFC 3339 UTC.
    pub finished: String,
    /// `schedule` or `demand`.
    pub trigger: String,
    /// `pass`, `marginal` or `fail`.
    pub overall: String,
    /// Each comparator's judgement.
    pub comparators: Vec<CanaryComparator>,
    /// Requests sent.
    pub sent: u64,
    /// Requests answered with a verdict.
    pub answered: u64,
    /// Median latency, milliseconds; `null` when none was answered.
    #[schema(required = true)]
    pub median_ms: Option<f64>,
    /// Wrong verdicts, receipts that did not check out, and requests without a verdict, in
    /// words (at most 20).
    pub problems: Vec<String>,
    /// Problems beyond those listed.
    pub more_problems: u64,
}

/// One comparator's judgement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CanaryComparator {
    /// `verdict`, `receipt`, `latency` or `error-rate`.
    pub comparator: String,
    /// `pass`, `marginal`, `fail` or `no-data` (never taken for a pass).
    pub score: String,
    /// Whether its failure fails the canary at once.
    pub critical: bool,
    /// What it saw, in words.
    pub detail: String,
}

/// A run's verdict, for the strip of recent runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CanaryRunBrief {
    /// Its number.
    pub number: u64,
    /// When it ended, RFC 3339 UTC.
    pub finished: String,
    /// `pass`, `marginal` or `fail`.
    pub overall: String,
    /// Each comparator's score, in the order of [`CanaryRun::comparators`].
    pub scores: Vec<String>,
}

/// A window of runs, summed up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CanaryWindow {
    /// Runs in it.
    pub runs: u64,
    /// Latency samples.
    pub samples: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests without a verdict.
    pub errors: u64,
    /// Median latency, milliseconds; `null` without samples.
    #[schema(required = true)]
    pub median_ms: Option<f64>,
}
