//! Stored receipts for people: one in full (what was decided, for whom, under which bundle),
//! or a page of them in a table.

use tf_admin_api::{ReceiptReply, ReceiptsReply};

use super::table::{Align, Table};
use super::time;

/// The receipt's fields, one per line; the envelope is left to `--json`.
pub(super) fn receipt(reply: &ReceiptReply, now_us: u64) -> Vec<String> {
    let signed = reply.receipt.as_ref();
    let field = |name: &str| {
        signed
            .and_then(|receipt| receipt.get(name))
            .map(|value| match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
    };
    let mut lines = vec![
        format!(
            "receipt {}: {} for tenant {}",
            reply.seq, reply.verdict, reply.tenant.0
        ),
        format!(
            "decided     {}",
            field("decided_at_unix_us")
                .and_then(|us| us.parse().ok())
                .map_or(reply.decided.clone(), |us| time::when(us, now_us))
        ),
        format!("purpose     {} ({})", reply.purpose, reply.dataset_class),
        format!("charged     {} budget unit(s)", reply.charged),
        format!("request     {}", reply.request_id),
    ];
    let optional = [
        ("kind", "kind"),
        ("remaining", "budget_remaining"),
        ("shard", "shard"),
        ("bundle", "bundle_revision"),
        ("statement", "statement_digest"),
        ("key", "appliance_key_id"),
    ];
    for (label, name) in optional {
        if let Some(value) = field(name) {
            lines.push(format!("{label:<11} {value}"));
        }
    }
    if reply.envelope.is_none() {
        lines.push("the stored envelope does not parse".to_owned());
    }
    lines
}

/// A page of receipts in a row each, and how to ask for the next page.
pub(super) fn found(reply: &ReceiptsReply, now_us: u64) -> Vec<String> {
    if reply.receipts.is_empty() {
        return vec!["no receipt matches".to_owned()];
    }
    let mut table = Table::new(&[
        ("SEQ", Align::Right),
        ("DECIDED", Align::Left),
        ("TENANT", Align::Left),
        ("VERDICT", Align::Left),
        ("KIND", Align::Left),
        ("PURPOSE", Align::Left),
        ("CLASS", Align::Left),
        ("CHARGED", Align::Right),
        ("REQUEST", Align::Right),
    ]);
    for receipt in &reply.receipts {
        let signed = |name: &str| {
            receipt
                .receipt
                .as_ref()
                .and_then(|r| r.get(name))
                .map(|value| value.as_str().map_or(value.to_string(), str::to_owned))
                .unwrap_or_else(|| "-".to_owned())
        };
        let decided = signed("decided_at_unix_us")
            .parse()
            .map_or(receipt.decided.clone(), |us| {
                format!("{} ({})", time::utc(us), time::relative(us, now_us))
            });
        table.row(vec![
            receipt.seq.to_string(),
            decided,
            receipt.tenant.0.clone(),
            receipt.verdict.clone(),
            signed("kind"),
            receipt.purpose.clone(),
            receipt.dataset_class.clone(),
            receipt.charged.to_string(),
            receipt.request_id.to_string(),
        ]);
    }
    let mut lines = table.lines();
    if let Some(next) = reply.next_before {
        lines.push(format!("more match: the same command with --before {next}"));
    }
    lines
}
