//! The partner desk's loop: requests answered one at a time, on a thread of its own, and each
//! failed step recorded for whoever supports partners (a `partner.step_failed` control event:
//! the timeline, webhooks).

use serde_json::json;
use tf_seam::DeskRequest;
use tf_seam::clock::unix_micros;
use tf_wire::ErrorCode;

use crate::desk::DeskWorker;
use crate::events::STEP_FAILED;

impl DeskWorker {
    /// Answers requests one at a time until every shard let go of the desk. Blocks: run it on
    /// a thread of its own.
    pub fn run(mut self) {
        while let Some(ask) = self.inbox.take() {
            let answer = futures_lite::future::block_on(async {
                match &ask.request {
                    DeskRequest::Onboard(onboard) => {
                        crate::onboarding::answer(&self, onboard).await
                    }
                    DeskRequest::Terms { tenant, request } => {
                        crate::terms::answer(&self, tenant, request).await
                    }
                    DeskRequest::Checklist { tenant, query } => {
                        crate::checklist::answer(&self, tenant, query).await
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
}

impl DeskWorker {
    /// Records a failed step for whoever supports partners: which step, the error, and what
    /// to do. Transient answers (busy, shutting down) are no failed step.
    fn record_failed_step(&mut self, request: &DeskRequest, code: &ErrorCode) {
        let Some(body) = step_failed(request, code) else {
            return;
        };
        self.failed_steps.count(
            body["step"].as_str().unwrap_or("?"),
            body["error"].as_str().unwrap_or("?"),
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
    }))
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
