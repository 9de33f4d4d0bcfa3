//! The golden canary: `GET /api/v1/canary` reads the status the canary's worker keeps,
//! `POST /api/v1/canary/run` asks for a run now and answers when it ends, and
//! `POST /api/v1/canary/silences` and `.../{id}/lift` make and lift silences, and
//! `POST /api/v1/canary/baseline/reset` accepts the appliance as it is now (each recorded in
//! the ledger on a blocking thread). The `*_value` functions are shared with the console.

use std::time::Duration;

use actix_web::{HttpRequest, web};
use tf_admin_api::{
    CanaryComparator, CanaryEvent, CanaryReply, CanaryRun, CanaryRunBrief, CanarySilence,
    CanaryWindow, ErrorBody, ErrorCode, NewSilence, ResetBaseline, SilencePath,
};
use tf_canary::judge::Judgement;
use tf_canary::silence::Silence;
use tf_control::canary::{
    CanaryHandle, CanaryStatus, ChangeRefused, RunRecord, Trigger, WindowSummary,
};

use super::{Answer, ApiState, authorize};
use crate::auth::{Permission, Principal};

/// How long `POST /api/v1/canary/run` waits for the run to end.
const RUN_WAIT: Duration = Duration::from_secs(60);

/// The canary's status as its worker last left it, with its silences and timeline.
pub fn canary_value(state: &ApiState) -> CanaryReply {
    let now_us = tf_seam::clock::unix_micros();
    match &state.canary {
        Some(handle) => {
            let mut reply = canary_reply(&handle.status());
            reply.silences = handle
                .silences(now_us)
                .iter()
                .map(|s| silence_entry(s, now_us))
                .collect();
            reply.timeline = handle.events().into_iter().map(event_entry).collect();
            reply
        }
        None => canary_reply(&CanaryStatus::off(
            tf_config::CANARY_TENANT,
            "the canary is not running on this server".to_owned(),
        )),
    }
}

fn event_entry(event: tf_control::canary::CanaryEvent) -> CanaryEvent {
    CanaryEvent {
        seq: event.seq,
        at: utc(event.at_us),
        kind: event.kind,
        summary: event.summary,
    }
}

fn silence_entry(silence: &Silence, now_us: u64) -> CanarySilence {
    CanarySilence {
        id: silence.id,
        comparators: silence.comparators.clone(),
        items: silence.items.clone(),
        creator: silence.creator.clone(),
        reason: silence.reason.clone(),
        created: utc(silence.created_us),
        expires: utc(silence.expires_us),
        applies: silence.applies(now_us),
    }
}

fn handle(state: &ApiState) -> Result<CanaryHandle, ErrorBody> {
    state.canary.clone().ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::Refused,
            "the canary is not running on this server",
        )
    })
}

/// Makes the silence `asked` for `principal`.
pub async fn silence_value(
    state: &ApiState,
    principal: &Principal,
    asked: NewSilence,
) -> Result<CanarySilence, ErrorBody> {
    let handle = handle(state)?;
    let now_us = tf_seam::clock::unix_micros();
    let span_us = tf_config::parse_span_us(&asked.duration).ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::BadRequest,
            format!(
                "duration {:?}: a whole number and s, m, h or d, such as 2h",
                asked.duration
            ),
        )
    })?;
    let silence = Silence::new(
        asked.comparators,
        asked.items,
        now_us,
        now_us.saturating_add(span_us),
        &principal.name,
        &asked.reason,
    )
    .map_err(|e| ErrorBody::new(ErrorCode::BadRequest, e.to_string()))?;
    let made = blocking(move || handle.silence(silence)).await?;
    tracing::info!(
        user = %principal.name,
        id = made.id,
        comparators = ?made.comparators,
        "canary silence made"
    );
    Ok(silence_entry(&made, now_us))
}

/// Lifts silence `id` for `principal`.
pub async fn lift_value(
    state: &ApiState,
    principal: &Principal,
    id: u64,
) -> Result<CanarySilence, ErrorBody> {
    let handle = handle(state)?;
    let now_us = tf_seam::clock::unix_micros();
    let by = principal.name.clone();
    let lifted = blocking(move || handle.lift(id, &by, now_us)).await?;
    tracing::info!(user = %principal.name, id, "canary silence lifted");
    Ok(silence_entry(&lifted, now_us))
}

/// Resets the canary's baseline for `principal`: the timeline event recorded.
pub async fn reset_baseline_value(
    state: &ApiState,
    principal: &Principal,
    asked: ResetBaseline,
) -> Result<CanaryEvent, ErrorBody> {
    let handle = handle(state)?;
    let now_us = tf_seam::clock::unix_micros();
    let by = principal.name.clone();
    let event = blocking(move || handle.reset_baseline(&by, &asked.reason, now_us)).await?;
    tracing::info!(user = %principal.name, "canary baseline reset");
    Ok(event_entry(event))
}

/// `POST /api/v1/canary/baseline/reset`.
pub(super) async fn reset_baseline(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<CanaryEvent> {
    let principal = authorize(&request, &state, Permission::Canary)?;
    let asked: ResetBaseline = super::webhooks::json_body(body, "expected {\"reason\": \"...\"}")?;
    Ok(web::Json(
        reset_baseline_value(&state, &principal, asked).await?,
    ))
}

/// Runs a ledger write off the server's threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ChangeRefused> + Send + 'static,
) -> Result<T, ErrorBody> {
    match actix_web::rt::task::spawn_blocking(work).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(refused)) => Err(ErrorBody::new(
            match refused {
                ChangeRefused::NotRunning(_) | ChangeRefused::TooMany => ErrorCode::Refused,
                ChangeRefused::UnknownItem(..) | ChangeRefused::Reason => ErrorCode::BadRequest,
                ChangeRefused::Unknown(_) => ErrorCode::NotFound,
                ChangeRefused::Ledger(_) => ErrorCode::Internal,
            },
            refused.to_string(),
        )),
        Err(_) => Err(ErrorBody::new(
            ErrorCode::Internal,
            "recording the change stopped before it ended",
        )),
    }
}

/// `POST /api/v1/canary/silences`.
pub(super) async fn silence(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<CanarySilence> {
    let principal = authorize(&request, &state, Permission::Canary)?;
    let asked: NewSilence = super::webhooks::json_body(
        body,
        "expected {\"comparators\": [...], \"items\": [...], \"duration\": \"2h\", \"reason\": ...}",
    )?;
    Ok(web::Json(silence_value(&state, &principal, asked).await?))
}

/// `POST /api/v1/canary/silences/{id}/lift`.
pub(super) async fn lift(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<SilencePath>, actix_web::Error>,
) -> Answer<CanarySilence> {
    let principal = authorize(&request, &state, Permission::Canary)?;
    let path = super::extracted("the silence's number in the path", path)?;
    Ok(web::Json(lift_value(&state, &principal, path.id).await?))
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
        items: status.item_labels.len() as u64,
        runs: status.runs,
        overall: status.latest().map(|run| run.overall.name().to_owned()),
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
                overall: run.overall.name().to_owned(),
                scores: run
                    .judgements
                    .iter()
                    .map(|j| j.score.name().to_owned())
                    .collect(),
            })
            .collect(),
        current: window(&status.current),
        baseline: window(&status.baseline),
        silences: Vec::new(),
        timeline: Vec::new(),
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
        overall: record.overall.name().to_owned(),
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
        score: judgement.score.name().to_owned(),
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
