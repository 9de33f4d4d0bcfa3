//! `GET /api/v1/scenarios`: each scenario pack's latest run, its trend, and every run kept,
//! read from the decision log's file through a read-only connection on a blocking thread (the
//! scheduler writes there). The `*_value` function is shared with the console, and
//! [`scenarios_reply`] with `appliance scenarios results`, which reads the file itself.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, web};
use tf_admin_api::{
    ErrorBody, ErrorCode, ScenarioExpectation, ScenarioNight, ScenarioOutcome, ScenarioPack,
    ScenarioRun, ScenarioTrend, ScenariosReply,
};
use tf_control::scenarios::ScenarioHandle;
use tf_decisions::{DecisionLog, LogError, RunRow};

use super::{Answer, ApiState, authorize};
use crate::auth::Permission;

/// Every pack's results as the scheduler stored them; an empty list before any run.
pub async fn scenarios_value(state: &ApiState) -> Result<ScenariosReply, ErrorBody> {
    let Some(handle) = state.scenarios.clone() else {
        return Ok(scenarios_reply(None, &[], &[]));
    };
    let running = super::search::Running::start(state)?;
    let read = actix_web::rt::task::spawn_blocking(move || {
        let _running = running;
        read(&handle)
    })
    .await;
    read.unwrap_or_else(|_| {
        Err(ErrorBody::new(
            ErrorCode::Internal,
            "reading the scenario results stopped before it ended",
        ))
    })
}

/// `GET /api/v1/scenarios`.
pub(super) async fn scenarios(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<ScenariosReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(scenarios_value(&state).await?))
}

fn read(handle: &ScenarioHandle) -> Result<ScenariosReply, ErrorBody> {
    let schedule = handle.schedule();
    let log = match DecisionLog::open_read(handle.decisions()) {
        Ok(log) => log,
        Err(LogError::Missing(_)) => return Ok(scenarios_reply(schedule, &[], &[])),
        Err(error) => return Err(ErrorBody::new(ErrorCode::Internal, error.to_string())),
    };
    let now_us = tf_seam::clock::unix_micros();
    match log.kept_and_latest(tf_scenarios::kept_from(now_us)) {
        Ok((runs, latest)) => Ok(scenarios_reply(schedule, &runs, &latest)),
        Err(error) => Err(ErrorBody::new(ErrorCode::Internal, error.to_string())),
    }
}

/// The reply for `runs` (every run kept, oldest first, results left out) and `latest` (each
/// pack's latest run with its result).
pub fn scenarios_reply(
    schedule: Option<String>,
    runs: &[RunRow],
    latest: &[RunRow],
) -> ScenariosReply {
    let mut nights: BTreeMap<&str, Vec<&RunRow>> = BTreeMap::new();
    for run in runs {
        nights.entry(&run.pack).or_default().push(run);
    }
    let packs: Vec<ScenarioPack> = latest
        .iter()
        .map(|last| {
            // The latest run is among the runs kept unless it is older than 90 days.
            // Nights a pack did not run (or did not apply to the bundle in force) measured
            // nothing: they stay out of its trend and chart.
            let kept: Vec<&RunRow> = nights
                .get(last.pack.as_str())
                .map(|runs| runs.iter().copied().filter(|r| r.ran).collect())
                .unwrap_or_default();
            let trend = |measure: fn(&RunRow) -> f64| {
                let values: Vec<f64> = kept.iter().map(|r| measure(r)).collect();
                let trend = tf_scenarios::Trend::of(&values).unwrap_or(tf_scenarios::Trend {
                    latest: measure(last),
                    since_last: None,
                    since_week_median: None,
                });
                ScenarioTrend {
                    latest: trend.latest,
                    since_last: trend.since_last,
                    since_week_median: trend.since_week_median,
                }
            };
            ScenarioPack {
                name: last.pack.clone(),
                latest: latest_run(last),
                drift_bound_percent: trend(|r| r.upper_bound * 100.0),
                flips: trend(|r| r.flips as f64),
                nights: kept
                    .iter()
                    .map(|r| ScenarioNight {
                        started_unix_us: r.started_us,
                        passed: r.passed,
                        drift_bound_percent: r.upper_bound * 100.0,
                        flips: r.flips,
                    })
                    .collect(),
            }
        })
        .collect();
    ScenariosReply {
        schedule,
        failing: packs.iter().filter(|p| p.latest.outcome.failing()).count() as u64,
        packs,
    }
}

/// A run with what its stored result says: each expectation, why it did not run, or the
/// tenants that made it not applicable.
fn latest_run(run: &RunRow) -> ScenarioRun {
    let result: serde_json::Value = serde_json::from_str(&run.result).unwrap_or_default();
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    let outcome = match (run.applicable, run.ran, run.passed) {
        (false, _, _) => ScenarioOutcome::NotApplicable,
        (true, false, _) => ScenarioOutcome::DidNotRun,
        (true, true, true) => ScenarioOutcome::Passed,
        (true, true, false) => ScenarioOutcome::Failed,
    };
    let missing_tenants = result["missing_tenants"]
        .as_array()
        .map(|all| all.iter().map(text).collect())
        .unwrap_or_default();
    let expectations = result["expectations"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|e| ScenarioExpectation {
                    what: text(&e["what"]),
                    held: e["held"].as_bool().unwrap_or(false),
                    detail: text(&e["detail"]),
                })
                .collect()
        })
        .unwrap_or_default();
    ScenarioRun {
        started_unix_us: run.started_us,
        started: tf_budgets::format_utc(run.started_us / 1_000_000),
        seconds: run.finished_us.saturating_sub(run.started_us) as f64 / 1e6,
        passed: run.passed,
        outcome,
        missing_tenants,
        error: result["error"].as_str().map(str::to_owned),
        decisions: run.decisions,
        flips: run.flips,
        expectations,
    }
}
