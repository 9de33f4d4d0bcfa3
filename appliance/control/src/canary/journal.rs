//! The canary's timeline, kept in the ledger's control events beside the alarms webhook
//! endpoints hear of: an alarm raised (`canary.alarm`) and over (`canary.recovered`), a
//! silence made (`canary.silence`) and lifted (`canary.silence.lifted`), and the runs after
//! a promotion or rollback judged against those before (`canary.after-switch`), and the
//! baseline reset by an operator (`canary.baseline.reset`). At start it is read
//! back, so silences outlive a restart and the timeline shows what came before.

use std::collections::VecDeque;
use std::path::Path;

use serde_json::Value;
use tf_canary::silence::Silence;
use tf_ledger::{Ledger, SqliteLedger};

use super::after_switch::AfterSwitchNote;

/// A canary alarm (what webhook endpoints subscribe to).
pub const ALARM: &str = "canary.alarm";
/// The alarm is over: a run no longer failed.
pub const RECOVERED: &str = "canary.recovered";
/// A silence was made.
pub const SILENCED: &str = "canary.silence";
/// A silence was lifted before its expiry.
pub const LIFTED: &str = "canary.silence.lifted";
/// An operator accepted the appliance as it is now as the new normal.
pub const BASELINE_RESET: &str = "canary.baseline.reset";
/// The runs after a promotion or rollback judged against those before.
pub const AFTER_SWITCH: &str = tf_ledger::CANARY_AFTER_SWITCH;
/// Timeline events kept in memory for the API and the console.
pub const KEPT_EVENTS: usize = 50;
/// Control events read per query at start.
const PAGE: usize = 1_000;
/// Silences listed after they expired, for a day.
pub const SHOWN_AFTER_EXPIRY_US: u64 = 86_400_000_000;

/// One event of the canary's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanaryEvent {
    /// Its number in the ledger's control events.
    pub seq: u64,
    /// When, Unix microseconds.
    pub at_us: u64,
    /// One of the kinds above.
    pub kind: String,
    /// What happened, in words.
    pub summary: String,
}

/// Records an event; its number.
pub fn record(ledger: &Path, at_us: u64, kind: &str, body: &Value) -> Result<u64, String> {
    SqliteLedger::open(ledger)
        .and_then(|mut ledger| ledger.record_control_event(at_us, kind, &body.to_string()))
        .map_err(|e| e.to_string())
}

/// The event as the timeline shows it.
pub fn event(seq: u64, at_us: u64, kind: &str, body: &Value) -> CanaryEvent {
    let text = |key: &str| body[key].as_str().unwrap_or("?").to_owned();
    let summary = match kind {
        ALARM => {
            let failed: Vec<String> = body["failed"]
                .as_array()
                .map(|all| {
                    all.iter()
                        .map(|f| {
                            format!("{}: {}", text_of(&f["comparator"]), text_of(&f["detail"]))
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("alarm: the canary fails ({})", failed.join("; "))
        }
        RECOVERED => format!("alarm over: run {} did not fail", body["run"]),
        SILENCED => format!(
            "silence #{seq} by {}: {} until {} ({})",
            text("creator"),
            body["comparators"]
                .as_array()
                .map(|c| c.iter().map(text_of).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            tf_budgets::format_utc(body["expires_us"].as_u64().unwrap_or(0) / 1_000_000),
            text("reason")
        ),
        LIFTED => format!("silence #{} lifted by {}", body["id"], text("by")),
        BASELINE_RESET => format!("baseline reset by {}: {}", text("by"), text("reason")),
        AFTER_SWITCH => match serde_json::from_value::<AfterSwitchNote>(body.clone()) {
            Ok(note) => format!(
                "after the {} to revision {}: {}, {}",
                note.action, note.to_revision, note.entry.overall, note.entry.summary
            ),
            Err(_) => "after a switch: an unreadable judgement".to_owned(),
        },
        other => other.to_owned(),
    };
    CanaryEvent {
        seq,
        at_us,
        kind: kind.to_owned(),
        summary,
    }
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or("?").to_owned()
}

/// What the ledger holds of the canary: silences not lifted that apply or expired within a
/// day of `now_us`, and the latest events.
pub fn load(ledger: &Path, now_us: u64) -> Result<(Vec<Silence>, VecDeque<CanaryEvent>), String> {
    let ledger = SqliteLedger::open(ledger).map_err(|e| e.to_string())?;
    let mut silences: Vec<Silence> = Vec::new();
    let mut events = VecDeque::new();
    let mut after = 0;
    loop {
        let page = ledger
            .control_events_after(after, PAGE)
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        for stored in page.iter().filter(|e| e.kind.starts_with("canary.")) {
            let body: Value = serde_json::from_str(&stored.body).unwrap_or_default();
            match stored.kind.as_str() {
                SILENCED => match serde_json::from_value::<Silence>(body.clone()) {
                    Ok(mut silence) => {
                        silence.id = stored.seq;
                        silences.push(silence);
                    }
                    Err(error) => tracing::warn!(%error, seq = stored.seq, "an unreadable silence"),
                },
                LIFTED => {
                    let id = body["id"].as_u64();
                    if let Some(silence) = silences.iter_mut().find(|s| Some(s.id) == id) {
                        silence.expires_us = silence.expires_us.min(stored.at_us);
                    }
                }
                _ => {}
            }
            events.push_back(event(stored.seq, stored.at_us, &stored.kind, &body));
            while events.len() > KEPT_EVENTS {
                events.pop_front();
            }
        }
    }
    super::status::prune(&mut silences, now_us);
    Ok((silences, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alarm_is_the_event_webhook_endpoints_subscribe_to() {
        assert_eq!(ALARM, tf_webhooks::EventType::CanaryAlarm.as_str());
    }

    #[test]
    fn silences_outlive_a_restart_and_a_lift_ends_one_early() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = dir.path().join("ledger.sqlite");
        let hour = 3_600_000_000;
        let now = 1_800_000_000_000_000;
        let made = |comparator: &str| {
            Silence::new(
                vec![comparator.into()],
                Vec::new(),
                now,
                now + hour,
                "oncall",
                "known",
            )
            .expect("valid")
        };
        let body = |s: &Silence| serde_json::to_value(s).expect("serialises");
        let first = record(&ledger, now, SILENCED, &body(&made("latency"))).expect("stored");
        record(&ledger, now, SILENCED, &body(&made("error-rate"))).expect("stored");
        record(
            &ledger,
            now + 10,
            LIFTED,
            &serde_json::json!({ "id": first, "by": "oncall" }),
        )
        .expect("stored");
        let (silences, events) = load(&ledger, now + 20).expect("loads");
        assert_eq!(silences.len(), 2);
        assert_eq!(silences[0].id, first);
        assert!(!silences[0].applies(now + 20), "lifted");
        assert!(silences[1].applies(now + 20));
        assert_eq!(events.len(), 3);
        assert!(
            events[0]
                .summary
                .starts_with(&format!("silence #{first} by oncall: latency"))
        );
        assert_eq!(
            events[2].summary,
            format!("silence #{first} lifted by oncall")
        );
        // A day after they expired they are no longer listed.
        let (silences, _) = load(&ledger, now + hour + SHOWN_AFTER_EXPIRY_US).expect("loads");
        assert!(silences.is_empty());
    }
}
