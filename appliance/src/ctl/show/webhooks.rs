//! Auditor webhook endpoints for people: the list, one endpoint added or changed, its
//! deliveries, a replay.

use serde::Serialize;
use tf_admin_api::{
    DeliveriesReply, WebhookAdded, WebhookChanged, WebhookEndpoint, WebhookReplayed, WebhooksReply,
};

use super::table::{Align, Table, count};
use super::time;

/// Every endpoint in a row, then the public key `v1a` signatures verify with.
pub(super) fn list(reply: &WebhooksReply, now_us: u64) -> Vec<String> {
    let mut lines = Vec::new();
    if reply.endpoints.is_empty() {
        lines.push("no endpoint (add one with `appliance ctl webhooks add URL`)".to_owned());
    } else {
        let mut table = Table::new(&[
            ("ID", Align::Right),
            ("STATE", Align::Left),
            ("ACKED", Align::Right),
            ("OWED", Align::Right),
            ("BEHIND", Align::Right),
            ("OLDEST OWED", Align::Left),
            ("EVENTS", Align::Left),
            ("URL", Align::Left),
        ]);
        for endpoint in &reply.endpoints {
            let delivery = &endpoint.delivery;
            table.row(vec![
                endpoint.id.to_string(),
                name(&endpoint.state),
                count(delivery.acknowledged),
                count(delivery.owed_messages),
                count(delivery.receipts_behind),
                delivery
                    .oldest_owed_unix_us
                    .map_or("-".to_owned(), |us| time::relative(us, now_us)),
                endpoint.settings.events.join(","),
                endpoint.url.clone(),
            ]);
        }
        lines.extend(table.lines());
        for endpoint in &reply.endpoints {
            if !endpoint.state_reason.is_empty() {
                lines.push(format!(
                    "endpoint {}: {}",
                    endpoint.id, endpoint.state_reason
                ));
            }
        }
    }
    lines.push(format!("v1a public key: {}", reply.public_key));
    lines
}

/// A new endpoint and its secret, shown once.
pub(super) fn added(reply: &WebhookAdded) -> Vec<String> {
    let mut lines = endpoint(&reply.endpoint);
    lines.push(format!(
        "secret (give it to the receiver; it is shown once): {}",
        reply.secret
    ));
    lines
}

/// An endpoint after a change, and a rotated secret.
pub(super) fn changed(reply: &WebhookChanged) -> Vec<String> {
    let mut lines = match &reply.endpoint {
        Some(found) => endpoint(found),
        None => vec!["removed (its record stays)".to_owned()],
    };
    if let Some(secret) = &reply.secret {
        lines.push(format!(
            "new secret (shown once; the old one signs beside it for 24 hours): {secret}"
        ));
    }
    lines
}

/// An endpoint's messages, newest first.
pub(super) fn deliveries(reply: &DeliveriesReply, now_us: u64) -> Vec<String> {
    if reply.messages.is_empty() {
        return vec![format!("endpoint {}: no message yet", reply.endpoint)];
    }
    let mut table = Table::new(&[
        ("NUMBER", Align::Right),
        ("EVENT", Align::Left),
        ("RECEIPTS", Align::Left),
        ("OCCURRED", Align::Left),
        ("STATUS", Align::Left),
        ("ATTEMPTS", Align::Right),
        ("SINCE", Align::Left),
        ("ID", Align::Left),
    ]);
    for message in &reply.messages {
        let receipts = match (message.first_seq, message.last_seq) {
            (Some(first), Some(last)) if first == last => first.to_string(),
            (Some(first), Some(last)) => format!("{first}-{last}"),
            _ => "-".to_owned(),
        };
        // What comes next for an owed message; when it ended for the others.
        let since = match (message.acknowledged_unix_us, message.next_attempt_unix_us) {
            (Some(acked), _) => format!("acked {}", time::relative(acked, now_us)),
            (None, Some(next)) => format!("next {}", time::relative(next, now_us)),
            (None, None) => "-".to_owned(),
        };
        table.row(vec![
            message.number.to_string(),
            message.event.clone(),
            receipts,
            time::relative(message.occurred_unix_us, now_us),
            name(&message.status),
            message.attempts.to_string(),
            since,
            message.id.clone(),
        ]);
    }
    let mut lines = table.lines();
    for message in &reply.messages {
        if let Some(failure) = &message.last_failure {
            lines.push(format!(
                "message {}: last failure: {failure}",
                message.number
            ));
        }
    }
    lines
}

/// What a replay queued.
pub(super) fn replayed(reply: &WebhookReplayed) -> Vec<String> {
    vec![format!(
        "queued {} message(s) again; {} still owed (on their way); {} unavailable (pruned, or no longer selected)",
        reply.queued, reply.still_owed, reply.unavailable
    )]
}

fn endpoint(endpoint: &WebhookEndpoint) -> Vec<String> {
    let settings = &endpoint.settings;
    let mut lines = vec![
        format!("endpoint {}: {}", endpoint.id, endpoint.url),
        format!("state       {}", name(&endpoint.state)),
        format!("events      {}", settings.events.join(", ")),
        format!("schemes     {}", settings.schemes.join(", ")),
    ];
    if let Some(tenants) = &settings.tenants {
        let names: Vec<&str> = tenants.iter().map(|t| t.0.as_str()).collect();
        lines.push(format!("tenants     {}", names.join(", ")));
    }
    if let Some(rate) = settings.rate_per_s {
        lines.push(format!("rate        {rate} attempts/s"));
    }
    if let Some(batch) = settings.batch_max {
        lines.push(format!("batch       up to {batch} receipts per message"));
    }
    lines
}

/// An enum's name as the API spells it.
fn name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use tf_admin_api::{
        MessageStatus, WebhookDelivery, WebhookMessage, WebhookSettings, WebhookState,
    };

    use super::*;

    const NOW: u64 = 1_795_514_400_000_000;

    fn endpoint(id: u64, state: WebhookState, owed: u64) -> WebhookEndpoint {
        WebhookEndpoint {
            id,
            url: format!("https://audit{id}.example/hooks"),
            state,
            state_reason: format!("reason {id}"),
            settings: WebhookSettings {
                events: vec!["receipt.issued".into(), "bundle.promoted".into()],
                tenants: None,
                schemes: vec!["v1".into()],
                rate_per_s: Some(20),
                batch_max: Some(100),
                local: false,
                description: String::new(),
            },
            receipts_after: 0,
            delivery: WebhookDelivery {
                attempts: 1_500,
                acknowledged: 1_234,
                given_up: 0,
                failures: Vec::new(),
                owed_messages: owed,
                receipts_behind: 0,
                oldest_owed_unix_us: (owed > 0).then_some(NOW - 120_000_000),
                ack_latency: Vec::new(),
                ack_latency_sum_s: 0.0,
            },
        }
    }

    #[test]
    fn the_list_is_a_table_with_states_counts_and_ages() {
        let reply = WebhooksReply {
            public_key: "whpk_abc".into(),
            endpoints: vec![
                endpoint(1, WebhookState::Active, 0),
                endpoint(12, WebhookState::Paused, 3),
            ],
        };
        let lines = list(&reply, NOW);
        assert!(
            lines[0].starts_with("ID  STATE   ACKED  OWED  BEHIND  OLDEST OWED"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with(" 1  active  1,234     0       0  -"),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("12  paused  1,234     3       0  2 min ago"),
            "{lines:#?}"
        );
        assert!(
            lines[2].ends_with("receipt.issued,bundle.promoted  https://audit12.example/hooks")
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some("v1a public key: whpk_abc")
        );
    }

    #[test]
    fn deliveries_say_what_comes_next_and_why_the_last_attempt_failed() {
        let message = |number: u64, status: MessageStatus| WebhookMessage {
            number,
            id: format!("msg_{number}"),
            event: "receipt.issued".into(),
            first_seq: Some(10 * number),
            last_seq: Some(10 * number + 9),
            occurred_unix_us: NOW - 3_600_000_000,
            status,
            attempts: 2,
            next_attempt_unix_us: (status == MessageStatus::Owed).then_some(NOW + 30_000_000),
            last_failure: (status == MessageStatus::Owed).then(|| "timeout after 10 s".into()),
            acknowledged_unix_us: (status == MessageStatus::Acknowledged)
                .then_some(NOW - 5_000_000),
            answer_sha256: None,
        };
        let reply = DeliveriesReply {
            endpoint: 7,
            messages: vec![
                message(2, MessageStatus::Owed),
                message(1, MessageStatus::Acknowledged),
            ],
        };
        let lines = deliveries(&reply, NOW);
        assert!(
            lines[1].contains("20-29")
                && lines[1].contains("owed")
                && lines[1].contains("next in 30 s"),
            "{lines:#?}"
        );
        assert!(
            lines[2].contains("acknowledged") && lines[2].contains("acked 5 s ago"),
            "{lines:#?}"
        );
        assert_eq!(lines[3], "message 2: last failure: timeout after 10 s");
    }
}
