//! The golden canary: `GET /api/v1/canary` reads the status the canary's worker keeps, and
//! `POST /api/v1/canary/run` asks for a run now and answers when it ends. The `*_value`
//! functions are shared with the console.

use std::time::Duration;

use actix_web::{HttpRequest, web};
use tf_admin_api::{
    CanaryComparator, CanaryReply, CanaryRun, CanaryRunBrief, CanaryWindow, ErrorBody, ErrorCode,
};
use tf_canary::judge::{Judgement, Overall, Score};
use tf_control::canary::{CanaryStatus, RunRecord, Trigger, WindowSummary};

use super::{Answer, ApiState, authorize};
use crate::auth::{Permission, Principal};

/// How long `POST /api/v1/canary/run` waits for the run to end.
const RUN_WAIT: Duration = Duration::from_secs(60);

/// The canary's status as its worker last left it.
pub fn canary_value(state: &ApiState) -> CanaryReply {
    match &state.canary {
        Some(handle) => canary_reply(&handle.status()),
        None => canary_reply(&CanaryStatus::off(
            tf_config::CANARY_TENANT,
            "the canary is not running on this server".to_owned(),
        )),
    }
}

/// Runs the canary now for `principal`; the status after the run.
pub async fn run_canary_value(
    state: &ApiState,
    principal: &Principal,
) -> Result<CanaryReply, ErrorBody> {
    let Some(handle) = state.canary.clone() else {
        return Err(ErrorBody::new(
            ErrorCode::Refused,
            "the canary is not running on this server",
        ));
    };
    let status = handle.status();
    if !status.enabled {
        return Err(ErrorBody::new(
            ErrorCode::Refused,
            format!(
                "the canary does not run: {}",
                status.problem.unwrap_or_default()
            ),
        ));
    }
    tracing::info!(user = %principal.name, "canary run asked");
    match handle.run_now(RUN_WAIT).await {
        Some(after) => Ok(canary_reply(&after)),
        None => Err(ErrorBody::new(
            ErrorCode::Busy,
            format!(
                "the canary's run did not end within {} s; its result will show in `GET \
                 /api/v1/canary`",
                RUN_WAIT.as_secs()
            ),
        )),
    }
}

/// `GET /api/v1/canary`.
pub(super) async fn canary(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<CanaryReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(canary_value(&state)))
}

/// `POST /api/v1/canary/run`.
pub(super) async fn run_canary(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<CanaryReply> {
    let principal = authorize(&request, &state, Permission::Canary)?;
    Ok(web::Json(run_canary_value(&state, &principal).await?))
}

fn utc(us: u64) -> String {
    tf_budgets::format_utc(us / 1_000_000)
}

/// The reply for a status.
pub fn canary_reply(status: &CanaryStatus) -> CanaryReply {
    CanaryReply {
        enabled: status.enabled,
        problem: status.problem.clone(),
        tenant: status.tenant.clone(),
        interval_ms: status.interval_ms,
        items: status.items as u64,
        runs: status.runs,
        overall: status
            .latest()
            .map(|run| overall_name(run.overall).to_owned()),
        failing_runs: status.failing_runs,
        consecutive_failures: status.consecutive_failures,
        alarm_since: status.alarm_since_us.map(utc),
        latest: status.latest().map(run),
        recent: status
            .recent
            .iter()
            .map(|run| CanaryRunBrief {
                number: run.number,
                finished: utc(run.finished_us),
                overall: overall_name(run.overall).to_owned(),
                scores: run
                    .judgements
                    .iter()
                    .map(|j| score_name(j.score).to_owned())
                    .collect(),
            })
            .collect(),
        current: window(&status.current),
        baseline: window(&status.baseline),
    }
}

fn run(record: &RunRecord) -> CanaryRun {
    CanaryRun {
        number: record.number,
        finished: utc(record.finished_us),
        trigger: match record.trigger {
            Trigger::Schedule => "schedule",
            Trigger::Demand => "demand",
        }
        .to_owned(),
        overall: overall_name(record.overall).to_owned(),
        comparators: record.judgements.iter().map(comparator).collect(),
        sent: record.sent as u64,
        answered: record.answered as u64,
        median_ms: record.median_ms,
        problems: record.problems.clone(),
        more_problems: record.more_problems as u64,
    }
}

fn comparator(judgement: &Judgement) -> CanaryComparator {
    CanaryComparator {
        comparator: judgement.comparator.to_owned(),
        score: score_name(judgement.score).to_owned(),
        critical: judgement.critical,
        detail: judgement.detail.clone(),
    }
}

fn window(summary: &WindowSummary) -> CanaryWindow {
    CanaryWindow {
        runs: summary.runs as u64,
        samples: summary.samples as u64,
        requests: summary.requests,
        errors: summary.errors,
        median_ms: summary.median_ms,
    }
}

/// A verdict as the API spells it.
pub fn overall_name(overall: Overall) -> &'static str {
    match overall {
        Overall::Pass => "pass",
        Overall::Marginal => "marginal",
        Overall::Fail => "fail",
    }
}

/// A score as the API spells it.
pub fn score_name(score: Score) -> &'static str {
    match score {
        Score::Pass => "pass",
        Score::Marginal => "marginal",
        Score::Fail => "fail",
        Score::NoData => "no-data",
    }
}
