//! The partner desk's loop: requests answered one at a time, on a thread of its own, and each
//! failed step recorded for whoever supports partners (a `partner.step_failed` control event:
//! the timeline, webhooks): the desk's own refusals, and those the shards report.

use std::time::Duration;

use serde_json::json;
use tf_seam::clock::unix_micros;
use tf_seam::{DeskAsk, DeskRequest, Next, StepReport};
use tf_wire::ErrorCode;

use crate::desk::DeskWorker;
use crate::events::STEP_FAILED;

/// How often the failed steps the shards report are recorded when no request comes.
const REPORTS_EVERY: Duration = Duration::from_millis(500);

impl DeskWorker {
    /// Answers requests one at a time until every shard let go of the desk. Blocks: run it on
    /// a thread of its own.
    pub fn run(mut self) {
        loop {
            let next = self.inbox.next(REPORTS_EVERY);
            let closed = matches!(next, Next::Closed);
            if let Next::Ask(ask) = next {
                self.answer(ask);
            }
            self.record_reports();
            if closed {
                break;
            }
        }
    }

    /// Answers one request and records it as a failed step if it is one.
    fn answer(&mut self, ask: DeskAsk) {
        let answer = futures_lite::future::block_on(async {
            match &ask.request {
                DeskRequest::Onboard(onboard) => crate::onboarding::answer(self, onboard).await,
                DeskRequest::Terms { tenant, request } => {
                    crate::terms::answer(self, tenant, request).await
                }
                DeskRequest::Checklist { tenant, query } => {
                    crate::checklist::answer(self, tenant, query).await
                }
                DeskRequest::EvidencePreview { tenant, query } => {
                    crate::evidence_preview::answer(self, tenant, query).await
                }
            }
        });
        if let Err(code) = &answer {
            tracing::info!(source = %ask.source, refused = ?code, "partner request refused");
            self.record_failed_step(&ask.request, code);
        }
        // The shard may have given up waiting; what was done stays done.
        let _ = ask.reply.send(answer);
    }
}

impl DeskWorker {
    /// Records a failed step for whoever supports partners: which step, the error, and what
    /// to do. Transient answers (busy, shutting down) are no failed step.
    fn record_failed_step(&mut self, request: &DeskRequest, code: &ErrorCode) {
        if let Some(body) = step_failed(request, code) {
            self.record(&body, 1);
        }
    }

    /// Records the failed steps the shards reported since the last time.
    fn record_reports(&mut self) {
        let taken = self.inbox.support().take();
        if taken.dropped > 0 {
            tracing::warn!(
                dropped = taken.dropped,
                "partners' failed steps came faster than they are recorded: some were dropped"
            );
        }
        for (report, times) in &taken.reports {
            self.record(&reported_step(report, *times), *times);
        }
    }

    /// Counts a failed step `times` and records it as one event.
    fn record(&mut self, body: &serde_json::Value, times: u64) {
        self.failed_steps.count_times(
            body["step"].as_str().unwrap_or("?"),
            body["error"].as_str().unwrap_or("?"),
            times,
        );
        let recorded =
            self.ledger
                .record_control_event(unix_micros(), STEP_FAILED, &body.to_string());
        if let Err(error) = recorded {
            tracing::warn!(%error, "a partner's failed step was not recorded");
        }
    }
}

/// The body of a `partner.step_failed` event, if `code` is a failed step.
fn step_failed(request: &DeskRequest, code: &ErrorCode) -> Option<serde_json::Value> {
    let (error, detail) = match code {
        ErrorCode::OnboardingRefused { reason, detail } => (reason.clone(), detail.clone()),
        ErrorCode::Denied { reason } => ("denied".to_owned(), reason.clone()),
        ErrorCode::Malformed { detail } => ("bad-request".to_owned(), detail.clone()),
        ErrorCode::Internal => (
            "internal".to_owned(),
            "the appliance failed; see its log".to_owned(),
        ),
        _ => return None,
    };
    let (step, tenant, invite) = match request {
        DeskRequest::Onboard(onboard) => ("onboard", &onboard.tenant, Some(onboard.invite_id)),
        DeskRequest::Terms { tenant, .. } => ("terms", tenant, None),
        DeskRequest::Checklist { tenant, .. } => ("checklist", tenant, None),
        DeskRequest::EvidencePreview { tenant, .. } => ("evidence-preview", tenant, None),
    };
    let what_to_do = match error.as_str() {
        "used" | "revoked" | "expired" | "unknown" => {
            "send the partner a new invite if this one was meant for them"
        }
        "wrong-tenant" | "tenant-exists" => "tell the partner which tenant name the invite allows",
        "no-bundle" => "promote a policy bundle: onboarding adds tenants to the bundle in force",
        "internal" => "read the appliance's log around this time",
        _ => "read the detail: it is what the partner was told",
    };
    Some(json!({
        "step": step,
        "tenant": tenant,
        "invite": invite,
        "error": error,
        "detail": detail,
        "what_to_do": what_to_do,
        "times": 1,
    }))
}

/// The body of a `partner.step_failed` event for a step a shard saw fail `times` since the
/// last one recorded.
fn reported_step(report: &StepReport, times: u64) -> serde_json::Value {
    let what_to_do = match report.error {
        "key-quota" => {
            "the partner registered as many keys as its terms allow: it may ask for more \
             (partner terms request --max-keys), or reuse a key it has"
        }
        "keys-full" => {
            "the appliance's room for keys partners register is full: grant the key in a \
             policy bundle's registry instead"
        }
        "bad-key" => {
            "the verifying key does not decode: the partner should send snarkjs's \
             verification_key.json for the curve it names, as it is"
        }
        "unknown-key" => "the partner submitted under a key it has not registered yet",
        "allowance-spent" => {
            "the partner spent today's sandbox allowance: it comes back at midnight UTC, or \
             raise sandbox_per_day in its terms file"
        }
        "invalid" => {
            "the proof did not verify: most often public inputs in another order, or another \
             key than the one the proof was made with"
        }
        _ => "read the detail: it is what the partner was told",
    };
    json!({
        "step": report.step,
        "tenant": report.tenant,
        "invite": null,
        "error": report.error,
        "detail": report.detail,
        "what_to_do": what_to_do,
        "times": times,
    })
}

#[cfg(test)]
mod tests {
    use tf_wire::Onboard;

    use super::*;

    #[test]
    fn a_refused_step_says_which_what_went_wrong_and_what_to_do_and_busy_is_no_failure() {
        let onboard = DeskRequest::Onboard(Onboard {
            request_id: 1,
            invite_id: 7,
            secret: [0; 16],
            tenant: "initech".into(),
            csr: Vec::new(),
        });
        let used = ErrorCode::OnboardingRefused {
            reason: "used".into(),
            detail: "the invite was already used".into(),
        };
        let body = step_failed(&onboard, &used).expect("a failed step");
        assert_eq!(body["step"], "onboard");
        assert_eq!(body["tenant"], "initech");
        assert_eq!(body["invite"], 7);
        assert_eq!(body["error"], "used");
        assert!(
            body["what_to_do"]
                .as_str()
                .is_some_and(|t| t.contains("new invite")),
            "{body}"
        );
        let busy = ErrorCode::Busy {
            retry_after_ms: 1000,
        };
        assert_eq!(step_failed(&onboard, &busy), None);
        assert_eq!(step_failed(&onboard, &ErrorCode::ShuttingDown), None);
    }
}
