//! Scenario results: `GET /api/v1/scenarios`, each what-if pack's latest run with its trend
//! (tonight against last night and against the median of the seven nights before) and every
//! run kept (90 days) for a chart.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The reply of `GET /api/v1/scenarios`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScenariosReply {
    /// The scheduler's schedule, a cron expression in UTC (`[scenarios] schedule`); `null`
    /// when the scheduler is off.
    #[schema(required = true)]
    pub schedule: Option<String>,
    /// Packs whose latest run failed its expectations (or did not run); a pack that did not
    /// apply to the bundle in force is not counted.
    pub failing: u64,
    /// Every pack with a run kept, by name.
    pub packs: Vec<ScenarioPack>,
}

/// One pack's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScenarioPack {
    /// The pack's name.
    pub name: String,
    /// Its latest run.
    pub latest: ScenarioRun,
    /// The drift's upper bound, in percent of decisions, latest against the nights before.
    pub drift_bound_percent: ScenarioTrend,
    /// Flips, latest against the nights before.
    pub flips: ScenarioTrend,
    /// Every run kept, oldest first (nights the pack did not run or did not apply measured
    /// nothing and are left out, here and in the trends).
    pub nights: Vec<ScenarioNight>,
}

/// A pack's latest run in full.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScenarioRun {
    /// When it started, Unix microseconds.
    pub started_unix_us: u64,
    /// The same, RFC 3339 UTC to the second.
    pub started: String,
    /// How long it ran, seconds.
    pub seconds: f64,
    /// Whether every expectation held (false when the pack did not run or did not apply: see
    /// `outcome`).
    pub passed: bool,
    /// How the run ended.
    pub outcome: ScenarioOutcome,
    /// For `not-applicable`: the tenants the pack names (in its edits or added Cedar, its
    /// synthetic traffic or its expectations) that the bundle in force does not have. Absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_tenants: Vec<String>,
    /// Why the pack did not run (a bad pack, no bundle, the CPU budget spent); `null` when
    /// it ran or did not apply.
    #[schema(required = true)]
    pub error: Option<String>,
    /// Decisions replayed.
    pub decisions: u64,
    /// Decisions whose answer flipped.
    pub flips: u64,
    /// Each expectation, as judged.
    pub expectations: Vec<ScenarioExpectation>,
}

/// How a pack's run ended. Serialised as kebab-case (`not-applicable`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ScenarioOutcome {
    /// Every expectation held.
    Passed,
    /// An expectation did not hold: the pack is failing.
    Failed,
    /// The pack did not run (`error` says why): the pack is failing.
    DidNotRun,
    /// The pack names tenants the bundle in force does not have (`missing_tenants`), so it
    /// was not run: neither passed nor failing, and left out of the trends. The built-in
    /// packs are examples written for the example bundle's tenants.
    NotApplicable,
    /// An outcome newer than this client knows, read from a newer appliance (never sent,
    /// and not in the API's schema).
    #[serde(other, skip_serializing)]
    Unknown,
}

impl ScenarioOutcome {
    /// Whether it counts as failing (the alert, the `scenario.failed` webhook, `failing`).
    pub fn failing(self) -> bool {
        match self {
            ScenarioOutcome::Failed | ScenarioOutcome::DidNotRun => true,
            ScenarioOutcome::Passed | ScenarioOutcome::NotApplicable => false,
            // The appliance's own `failing` count is the one that knows.
            ScenarioOutcome::Unknown => false,
        }
    }
}

/// One expectation of a pack, as its latest run judged it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScenarioExpectation {
    /// What was expected, in words.
    pub what: String,
    /// Whether it held.
    pub held: bool,
    /// The figure behind it.
    pub detail: String,
}

/// A measure's latest value and its change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScenarioTrend {
    /// Tonight's value.
    pub latest: f64,
    /// Tonight's minus the run before; `null` without one.
    #[schema(required = true)]
    pub since_last: Option<f64>,
    /// Tonight's minus the median of up to seven runs before; `null` without one.
    #[schema(required = true)]
    pub since_week_median: Option<f64>,
}

/// One run of a pack, for its chart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScenarioNight {
    /// When it started, Unix microseconds.
    pub started_unix_us: u64,
    /// Whether every expectation held.
    pub passed: bool,
    /// The drift's upper bound, percent of decisions.
    pub drift_bound_percent: f64,
    /// Decisions whose answer flipped.
    pub flips: u64,
}

#[cfg(test)]
mod tests {
    use super::ScenarioOutcome;

    #[test]
    fn an_outcome_from_a_newer_appliance_reads_as_unknown_and_not_failing() {
        let read: ScenarioOutcome = serde_json::from_str("\"half-applicable\"").expect("read");
        assert_eq!(read, ScenarioOutcome::Unknown);
        assert!(!read.failing());
        let known: ScenarioOutcome = serde_json::from_str("\"not-applicable\"").expect("read");
        assert_eq!(known, ScenarioOutcome::NotApplicable);
        assert_eq!(
            serde_json::to_string(&ScenarioOutcome::DidNotRun).expect("written"),
            "\"did-not-run\""
        );
        assert!(serde_json::to_string(&ScenarioOutcome::Unknown).is_err());
    }
}
