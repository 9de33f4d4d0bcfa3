//! `POST /api/v1/bundles/drift`: the drift guard against this appliance's decision log. The
//! replay runs on a blocking thread, one at a time (another is answered `busy`), and stops if
//! the caller goes away; each bundle's judgement is remembered (the newest [`REMEMBERED`]
//! bundles, in the decision log's file, so a restart forgets none) so that promoting it
//! records the judgement in the timeline, and refuses a bundle that did not pass unless the
//! promotion carries an approver's override.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::{HttpRequest, web};
use tf_admin_api::{BundleHash, DriftQuery, DriftReply, ErrorBody, ErrorCode, Revision};
use tf_control::drift::{Asked, LiveLog, judge_live};
use tf_control::{DriftSay, Judged};
use tf_drift::{Override, Report};
use tf_ledger::{DriftChecked, DriftOverride};
use tf_state::KeyStore;

use super::{Answer, ApiState, authorize, convert, extracted};
use crate::auth::{Permission, Principal};

/// Judgements remembered for promotions.
pub const REMEMBERED: usize = 32;

/// Where the drift guard reads, and what it judged.
pub struct DriftDesk {
    decisions: PathBuf,
    ledger: PathBuf,
    keystore: KeyStore,
    running: AtomicBool,
    judged: Mutex<Remembered>,
}

/// The judgements remembered, and whether those stored before this run have been read.
#[derive(Default)]
struct Remembered {
    judged: VecDeque<Judged>,
    /// Read at first use (by then the writer has created the file); a failed read is tried
    /// again at the next use rather than taken for "none".
    read: bool,
}

impl DriftDesk {
    /// The guard over the decision log `decisions`, the ledger `ledger` (its stored bundles)
    /// and the registered keys in `keystore`.
    pub fn new(decisions: PathBuf, ledger: PathBuf, keystore: KeyStore) -> Self {
        DriftDesk {
            decisions,
            ledger,
            keystore,
            running: AtomicBool::new(false),
            judged: Mutex::default(),
        }
    }

    /// What the guard says of a promotion with the promoter's `approval`.
    pub fn say(&self, approval: Option<DriftOverride>) -> DriftSay {
        let mut judged = self.judged.lock().unwrap_or_else(PoisonError::into_inner);
        DriftSay {
            judged: self.loaded(&mut judged).iter().cloned().collect(),
            approval,
        }
    }

    /// The judgements, with those stored before this run once they could be read.
    fn loaded<'a>(&self, remembered: &'a mut Remembered) -> &'a mut VecDeque<Judged> {
        if !remembered.read {
            let stored = tf_decisions::DecisionLog::open_read(&self.decisions)
                .and_then(|log| log.judgements(REMEMBERED));
            match stored {
                Ok(stored) => {
                    // Older than any made in this run: before them, unless judged again since.
                    let earlier: Vec<Judged> = (stored.into_iter().filter_map(parse))
                        .filter(|j| {
                            !remembered
                                .judged
                                .iter()
                                .any(|r| r.bundle_hash == j.bundle_hash)
                        })
                        .collect();
                    for judged in earlier.into_iter().rev() {
                        remembered.judged.push_front(judged);
                    }
                    while remembered.judged.len() > REMEMBERED {
                        remembered.judged.pop_front();
                    }
                    remembered.read = true;
                }
                Err(tf_decisions::LogError::Missing(_)) => remembered.read = true,
                Err(error) => tracing::warn!(
                    %error,
                    "the drift guard's stored judgements are unreadable now: a bundle blocked \
                     before the restart is not, until they can be read"
                ),
            }
        }
        &mut remembered.judged
    }

    /// Keeps `judged` as its bundle's judgement: a judgement that did not pass stays until the
    /// bundle is promoted with an override (a later pass, at another tolerance or against
    /// another revision, does not clear it). One entry per bundle, the newest [`REMEMBERED`].
    /// Returns what is kept and when, for [`DriftDesk::store`]: stamped under the lock, so
    /// stores that finish out of order keep the order judgements were made in.
    fn remember(&self, judged: Judged) -> (Judged, u64) {
        let mut guard = self.judged.lock().unwrap_or_else(PoisonError::into_inner);
        let at_us = tf_seam::clock::unix_micros();
        let all = self.loaded(&mut guard);
        let kept = match all.iter().position(|j| j.bundle_hash == judged.bundle_hash) {
            Some(at) => {
                let earlier = all.remove(at).expect("a position in the queue");
                if judged.passed() && !earlier.passed() {
                    earlier
                } else {
                    judged
                }
            }
            None => judged,
        };
        if all.len() == REMEMBERED {
            all.pop_front();
        }
        all.push_back(kept.clone());
        (kept, at_us)
    }

    /// Writes what [`DriftDesk::remember`] kept to the decision log's file (a small
    /// transaction: run it off the admin server's workers).
    fn store(&self, kept: &Judged, at_us: u64) -> Result<(), String> {
        let json = serde_json::to_string(&kept.checked).map_err(|e| e.to_string())?;
        tf_decisions::DecisionLog::open(&self.decisions)
            .and_then(|log| log.keep_judgement(&kept.bundle_hash, at_us, &json, REMEMBERED))
            .map_err(|e| e.to_string())
    }
}

/// A stored judgement, `None` (said in the log) when it cannot be read.
fn parse((bundle_hash, json): (String, String)) -> Option<Judged> {
    let checked = serde_json::from_str(&json)
        .inspect_err(|error| {
            tracing::warn!(%error, %bundle_hash, "a stored drift judgement is unreadable; skipped");
        })
        .ok()?;
    Some(Judged {
        bundle_hash,
        checked,
    })
}

/// Clears the running flag however the judgement ends.
struct Running(Arc<DriftDesk>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
    }
}

/// Stops the replay when the request goes away (the caller hung up or timed out).
struct StopWhenDropped(Arc<AtomicBool>);

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The longest window judged: a year (the decision log keeps 30 days by default).
const MAX_WINDOW_US: u64 = 366 * 86_400_000_000;

/// The override `by` and `reason` ask for, checked; `None` when neither is given.
pub fn approval(
    by: Option<&str>,
    reason: Option<&str>,
) -> Result<Option<DriftOverride>, ErrorBody> {
    match (by, reason) {
        (None, None) => Ok(None),
        (Some(by), Some(reason)) => Override::new(by, reason)
            .map(|o| {
                Some(DriftOverride {
                    by: o.by,
                    reason: o.reason,
                })
            })
            .map_err(|e| bad(format!("override_by and reason: {e}"))),
        _ => Err(bad(
            "override_by and reason go together: the approver's name and why",
        )),
    }
}

/// Judges the bundle `archive` as `query` asks, for `principal`.
pub async fn drift_value(
    state: &ApiState,
    principal: &Principal,
    query: &DriftQuery,
    archive: Vec<u8>,
) -> Result<DriftReply, ErrorBody> {
    let Some(desk) = state.drift.clone() else {
        return Err(ErrorBody::new(
            ErrorCode::Internal,
            "this admin server has no decision log to judge drift against",
        ));
    };
    let window = query.window.as_deref().unwrap_or("7d");
    let window_us = tf_config::parse_span_us(window).ok_or_else(|| {
        bad(format!(
            "window {window:?} is not a span: a whole number and m, h or d, such as 7d"
        ))
    })?;
    let tolerance = match query.tolerance {
        None => 0.005,
        Some(percent) if percent > 0.0 && percent <= 100.0 => percent / 100.0,
        Some(percent) => {
            return Err(bad(format!(
                "tolerance {percent} is not a percentage above 0 and at most 100, such as 0.5"
            )));
        }
    };
    if window_us > MAX_WINDOW_US {
        return Err(bad(format!(
            "window {window:?} is over a year; the decision log keeps less"
        )));
    }
    let approval = approval(query.override_by.as_deref(), query.reason.as_deref())?;
    if desk.running.swap(true, Ordering::AcqRel) {
        return Err(ErrorBody::new(
            ErrorCode::Busy,
            "another drift judgement is running on this appliance; retry when it ends",
        ));
    }
    let running = Running(desk.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_when_dropped = StopWhenDropped(stop.clone());
    let against = query.against.map(|r| r.0);
    // Everything that takes time (opening the bundle, the replay) runs on a blocking thread:
    // the admin server's worker keeps answering.
    let judged = actix_web::rt::task::spawn_blocking(move || {
        let desk = &running.0;
        let files = tf_bundles::BundleFiles::from_tar_gz(&archive)
            .map_err(|problem| ErrorBody::refused(vec![convert::problem(&problem)]))?;
        // The signature is checked when the bundle is promoted; the guard judges its content.
        let candidate =
            tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT).map_err(|refusal| {
                ErrorBody::refused(refusal.0.iter().map(convert::problem).collect())
            })?;
        let live = LiveLog {
            decisions: &desk.decisions,
            ledger: &desk.ledger,
            keystore: &desk.keystore,
        };
        let asked = Asked {
            candidate: &candidate,
            against,
            window_us,
            to_us: tf_seam::clock::unix_micros(),
            tolerance,
        };
        judge_live(&live, &asked, &|| !stop.load(Ordering::Relaxed)).map_err(bad)
    })
    .await;
    let mut report = match judged {
        Ok(Ok(report)) => report,
        Ok(Err(error)) => return Err(error),
        Err(_) => {
            return Err(ErrorBody::new(
                ErrorCode::Internal,
                "the drift judgement stopped before it ended",
            ));
        }
    };
    if let Some(approval) = &approval {
        report.overrule(Override {
            by: approval.by.clone(),
            reason: approval.reason.clone(),
        });
    }
    // The override marks this report only: a promotion needs its own, from whoever promotes.
    let kept = desk.remember(Judged {
        bundle_hash: report.candidate.hash.clone(),
        checked: checked(&report),
    });
    let (kept, at_us) = kept;
    let storing = desk.clone();
    let stored = actix_web::rt::task::spawn_blocking(move || storing.store(&kept, at_us)).await;
    if let Ok(Err(error)) | Err(error) = stored.map_err(|e| e.to_string()) {
        tracing::warn!(%error, "the drift judgement is kept in memory only: a restart forgets it");
    }
    tracing::info!(
        user = %principal.name,
        candidate = %report.candidate.hash,
        passes = report.passes(),
        upper_bound = report.upper_bound,
        "drift judged"
    );
    reply(&report)
}

/// `POST /api/v1/bundles/drift`.
pub(super) async fn drift(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: Result<web::Query<DriftQuery>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<DriftReply> {
    let principal = authorize(&request, &state, Permission::Validate)?;
    let query = extracted("the query", query)?;
    let body = extracted("the bundle", body)?;
    Ok(web::Json(
        drift_value(&state, &principal, &query, body.to_vec()).await?,
    ))
}

fn checked(report: &Report) -> DriftChecked {
    DriftChecked {
        judgement: judgement(report),
        upper_bound: report.upper_bound,
        tolerance: report.tolerance,
        decisions: report.sample.decisions,
        from_us: report.sample.from_us,
        to_us: report.sample.to_us,
        against_revision: report.baseline.revision,
    }
}

fn judgement(report: &Report) -> String {
    serde_json::to_value(report.judgement)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn reply(report: &Report) -> Result<DriftReply, ErrorBody> {
    let whole = serde_json::to_value(report)
        .map_err(|e| ErrorBody::new(ErrorCode::Internal, e.to_string()))?;
    Ok(DriftReply {
        passes: report.passes(),
        judgement: judgement(report),
        overridden_by: report.overridden.as_ref().map(|o| o.by.clone()),
        candidate_hash: BundleHash(report.candidate.hash.clone()),
        candidate_revision: Revision(report.candidate.revision),
        against_revision: Revision(report.baseline.revision),
        decisions: report.sample.decisions,
        flips: report.flips,
        upper_bound_percent: report.upper_bound * 100.0,
        tolerance_percent: report.tolerance * 100.0,
        text: tf_drift::render::text(report),
        markdown: tf_drift::render::markdown(report),
        report: whole,
    })
}

fn bad(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::BadRequest, message)
}
