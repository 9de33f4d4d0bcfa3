//! The control plane's events as the bundle timeline shows them beside promotions and
//! rollbacks: its alarms (a scenario pack that failed its expectations or did not run,
//! `scenario.failed`; the golden canary's alarm raised and over), partner invites made,
//! revoked and used, and partners' terms requests made, granted and declined. They are the
//! ledger's control events of those kinds; the alarms are the same records webhook endpoints
//! are sent.

use serde_json::Value;
use tf_ledger::ControlEvent;

use crate::canary;

/// The kinds shown: those that raise or end an alarm, invites' changes and terms requests'.
pub const KINDS: [&str; 10] = [
    SCENARIO_FAILED,
    canary::journal::ALARM,
    canary::journal::RECOVERED,
    tf_ledger::INVITE_CREATED,
    tf_ledger::INVITE_REVOKED,
    tf_ledger::INVITE_USED,
    tf_ledger::TERMS_REQUESTED,
    tf_ledger::TERMS_GRANTED,
    tf_ledger::TERMS_DECLINED,
    STEP_FAILED,
];
/// Events shown, the newest.
pub const SHOWN: usize = 50;

const SCENARIO_FAILED: &str = "scenario.failed";

/// The control event kind of a partner's failed step (and the webhook event it is sent as).
pub const STEP_FAILED: &str = "partner.step_failed";

/// An event on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Its number among the control events.
    pub seq: u64,
    /// When, Unix microseconds.
    pub at_us: u64,
    /// One of [`KINDS`].
    pub kind: String,
    /// What happened, in words.
    pub summary: String,
}

/// The event in words.
pub fn event(event: &ControlEvent) -> Event {
    let body: Value = serde_json::from_str(&event.body).unwrap_or(Value::Null);
    let text = |key: &str| body[key].as_str().unwrap_or("?").to_owned();
    let summary = match event.kind.as_str() {
        SCENARIO_FAILED => scenario_failed(&body),
        tf_ledger::INVITE_CREATED => format!(
            "invite #{} for tenant {} by {}, until {}: {}",
            body["id"],
            text("tenant"),
            text("by"),
            tf_budgets::format_utc(body["expires_us"].as_u64().unwrap_or(0) / 1_000_000),
            text("reason")
        ),
        tf_ledger::INVITE_REVOKED => format!(
            "invite #{} for tenant {} revoked by {}: {}",
            body["id"],
            text("tenant"),
            text("by"),
            text("reason")
        ),
        tf_ledger::INVITE_USED => {
            format!(
                "invite #{} used: tenant {} onboarded",
                body["id"],
                text("tenant")
            )
        }
        tf_ledger::TERMS_REQUESTED => format!(
            "terms request #{} from tenant {}: {}",
            body["id"],
            text("tenant"),
            if body["within_template"].as_bool() == Some(true) {
                "within its invite's template"
            } else {
                "above its invite's template, waiting for an operator"
            }
        ),
        tf_ledger::TERMS_GRANTED => format!(
            "terms request #{} for tenant {} granted by {} in revision {}: {}",
            body["id"],
            text("tenant"),
            text("by"),
            body["revision"],
            text("reason")
        ),
        tf_ledger::TERMS_DECLINED => format!(
            "terms request #{} for tenant {} declined by {}: {}",
            body["id"],
            text("tenant"),
            text("by"),
            text("reason")
        ),
        STEP_FAILED => format!(
            "partner step {} failed for tenant {} ({}{}): {}; {}",
            text("step"),
            text("tenant"),
            text("error"),
            match body["times"].as_u64() {
                Some(times) if times > 1 => format!(", {times} times"),
                _ => String::new(),
            },
            text("detail"),
            text("what_to_do")
        ),
        kind => canary::journal::event(event.seq, event.at_us, kind, &body).summary,
    };
    Event {
        seq: event.seq,
        at_us: event.at_us,
        kind: event.kind.clone(),
        summary,
    }
}

/// `scenario pack NAME failed: WHAT (DETAIL); ...`, or why it did not run.
fn scenario_failed(body: &Value) -> String {
    let pack = body["pack"].as_str().unwrap_or("?");
    if let Some(error) = body["error"].as_str() {
        return format!("scenario pack {pack} did not run: {error}");
    }
    let failed: Vec<String> = body["failed"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|f| {
                    format!(
                        "{} ({})",
                        f["what"].as_str().unwrap_or("?"),
                        f["detail"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!("scenario pack {pack} failed: {}", failed.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(kind: &str, body: &str) -> ControlEvent {
        ControlEvent {
            seq: 4,
            at_us: 9,
            kind: kind.to_owned(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn a_failed_pack_says_which_expectations_failed_or_why_it_did_not_run() {
        let failed = super::event(&stored(
            "scenario.failed",
            r#"{"pack":"quiet-hour","failed":[{"what":"drift at most 1 %","detail":"bound 100.000 %"}],"error":null}"#,
        ));
        assert_eq!(
            failed.summary,
            "scenario pack quiet-hour failed: drift at most 1 % (bound 100.000 %)"
        );
        assert_eq!((failed.seq, failed.at_us), (4, 9));
        let not_run = super::event(&stored(
            "scenario.failed",
            r#"{"pack":"p","failed":[],"error":"no bundle in force"}"#,
        ));
        assert_eq!(
            not_run.summary,
            "scenario pack p did not run: no bundle in force"
        );
    }

    #[test]
    fn an_invites_changes_name_it_its_tenant_and_who() {
        let made = super::event(&stored(
            "invite.created",
            r#"{"id":3,"tenant":"pilot-*","by":"onboarding","reason":"pilot","expires_us":1796083200000000}"#,
        ));
        assert_eq!(
            made.summary,
            "invite #3 for tenant pilot-* by onboarding, until 2026-12-01T00:00:00Z: pilot"
        );
        let used = super::event(&stored("invite.used", r#"{"id":3,"tenant":"pilot-acme"}"#));
        assert_eq!(used.summary, "invite #3 used: tenant pilot-acme onboarded");
    }

    #[test]
    fn a_terms_requests_changes_name_it_its_tenant_who_and_the_revision() {
        let asked = super::event(&stored(
            "terms.requested",
            r#"{"id":5,"tenant":"pilot-acme","within_template":false}"#,
        ));
        assert_eq!(
            asked.summary,
            "terms request #5 from tenant pilot-acme: above its invite's template, waiting for \
             an operator"
        );
        let granted = super::event(&stored(
            "terms.granted",
            r#"{"id":5,"tenant":"pilot-acme","by":"oncall","reason":"OPS-7","revision":4}"#,
        ));
        assert_eq!(
            granted.summary,
            "terms request #5 for tenant pilot-acme granted by oncall in revision 4: OPS-7"
        );
        let declined = super::event(&stored(
            "terms.declined",
            r#"{"id":6,"tenant":"pilot-acme","by":"oncall","reason":"too much","revision":null}"#,
        ));
        assert_eq!(
            declined.summary,
            "terms request #6 for tenant pilot-acme declined by oncall: too much"
        );
        assert!(KINDS.contains(&"terms.declined"));
    }

    #[test]
    fn the_scenario_kind_is_the_webhook_event_type() {
        assert_eq!(
            SCENARIO_FAILED,
            tf_webhooks::EventType::ScenarioFailed.as_str()
        );
        let over = super::event(&stored("canary.recovered", r#"{"run":12}"#));
        assert_eq!(over.summary, "alarm over: run 12 did not fail");
    }
}
