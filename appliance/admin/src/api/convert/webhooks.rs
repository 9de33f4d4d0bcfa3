//! The outbox's endpoints, figures and messages as the contract's webhook types.

use tf_admin_api::{
    MessageStatus, WebhookDelivery, WebhookEndpoint, WebhookFailures, WebhookLatencyBucket,
    WebhookMessage, WebhookSettings, WebhookState,
};
use tf_control::webhooks::{EndpointStatus, EndpointView, LATENCY_BUCKETS_S};
use tf_ledger::{EndpointState, MessageRow};
use tf_webhooks::EndpointSettings;

/// An endpoint with its figures (none yet if the outbox has not published it).
pub fn endpoint(view: &EndpointView, status: Option<&EndpointStatus>) -> WebhookEndpoint {
    let row = &view.row;
    WebhookEndpoint {
        id: row.id,
        url: row.url.clone(),
        state: match row.state {
            EndpointState::Paused => WebhookState::Paused,
            EndpointState::Disabled => WebhookState::Disabled,
            // Removed endpoints are not listed.
            _ => WebhookState::Active,
        },
        state_reason: row.state_reason.clone(),
        settings: settings_view(&view.settings),
        receipts_after: row.receipts_after,
        delivery: status.map_or_else(empty_delivery, delivery),
    }
}

/// The contract's settings as the outbox's: the same JSON, so the outbox's defaults fill what
/// is left out and its names are the only ones accepted.
pub fn settings(settings: &WebhookSettings) -> Result<EndpointSettings, serde_json::Error> {
    serde_json::to_value(settings).and_then(serde_json::from_value)
}

fn settings_view(settings: &EndpointSettings) -> WebhookSettings {
    serde_json::to_value(settings)
        .and_then(serde_json::from_value)
        .expect("the outbox's settings are the contract's JSON")
}

fn delivery(status: &EndpointStatus) -> WebhookDelivery {
    WebhookDelivery {
        attempts: status.attempts,
        acknowledged: status.acknowledged,
        given_up: status.given_up,
        failures: status
            .failures
            .iter()
            .map(|(class, count)| WebhookFailures {
                class: class.as_str().to_owned(),
                count: *count,
            })
            .collect(),
        owed_messages: status.owed_messages,
        receipts_behind: status.receipts_behind,
        oldest_owed_unix_us: status.oldest_owed_us,
        ack_latency: LATENCY_BUCKETS_S
            .iter()
            .map(|bound| Some(*bound))
            .chain([None])
            .zip(status.latency_buckets)
            .map(|(le_s, count)| WebhookLatencyBucket { le_s, count })
            .collect(),
        ack_latency_sum_s: status.latency_sum_s,
    }
}

fn empty_delivery() -> WebhookDelivery {
    WebhookDelivery {
        attempts: 0,
        acknowledged: 0,
        given_up: 0,
        failures: Vec::new(),
        owed_messages: 0,
        receipts_behind: 0,
        oldest_owed_unix_us: None,
        ack_latency: Vec::new(),
        ack_latency_sum_s: 0.0,
    }
}

/// A stored message, without its body.
pub fn message(row: &MessageRow) -> WebhookMessage {
    let status = match (row.acked_us, row.given_up_us) {
        (Some(_), _) => MessageStatus::Acknowledged,
        (None, Some(_)) => MessageStatus::GivenUp,
        (None, None) => MessageStatus::Owed,
    };
    WebhookMessage {
        number: row.number,
        id: row.id.clone(),
        event: row.event.clone(),
        first_seq: row.receipts.map(|(first, _)| first),
        last_seq: row.receipts.map(|(_, last)| last),
        occurred_unix_us: row.occurred_us,
        status,
        attempts: row.attempts,
        next_attempt_unix_us: (status == MessageStatus::Owed).then_some(row.next_attempt_us),
        last_failure: row.last_failure.clone(),
        acknowledged_unix_us: row.acked_us,
        answer_sha256: row.ack_sha256.map(hex::encode),
    }
}
