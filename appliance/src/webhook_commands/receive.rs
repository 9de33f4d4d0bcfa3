//! What a message says once its webhook signature checked out, and whether its receipts are
//! genuine: the receiver's decision, with no sockets, files or clock.

use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use tf_receipts::Envelope;
use tf_webhooks::EventType;

/// A message worth recording.
#[derive(Debug, PartialEq, Eq)]
pub struct Message {
    /// The event type as sent (types this build does not know are kept too).
    pub event_type: String,
    /// The body's `timestamp`: when the event happened, as sent.
    pub timestamp: String,
    /// A `receipt.issued` batch's receipts, each checked; empty for other events.
    pub receipts: Vec<ReceiptEntry>,
}

/// One receipt of a batch, as sent.
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct ReceiptEntry {
    /// The ledger sequence number the batch lists it under.
    pub seq: u64,
    /// Its transparency log index, once the log has it.
    #[serde(default)]
    pub log_index: Option<u64>,
    /// The DSSE envelope's exact text: the log commits to these bytes, so they are kept as
    /// they came, never re-serialised.
    pub envelope: String,
}

/// Why a message is not recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not an event body (400): not JSON, or fields missing or of the wrong kind.
    Malformed(String),
    /// A well-formed batch with a receipt that is not genuine (422): kept aside for a look.
    Receipt {
        /// The body's `timestamp`.
        timestamp: String,
        /// How many receipts the batch holds.
        receipts: usize,
        /// Which receipt, and what is wrong with it.
        reason: String,
    },
}

/// Reads a body and checks every receipt of a `receipt.issued` batch against the appliance's
/// receipt key, and that each is signed for the sequence number it is listed under (else a
/// genuine receipt could be passed off as another).
pub fn judge(body: &[u8], receipt_key: &VerifyingKey) -> Result<Message, Refusal> {
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| Refusal::Malformed(format!("not an event body: {e}")))?;
    if body.event_type != EventType::ReceiptIssued.as_str() {
        return Ok(Message {
            event_type: body.event_type,
            timestamp: body.timestamp,
            receipts: Vec::new(),
        });
    }
    let batch: Batch = serde_json::from_value(body.data)
        .map_err(|e| Refusal::Malformed(format!("`data` of receipt.issued: {e}")))?;
    if batch.receipts.is_empty() {
        return Err(Refusal::Malformed(
            "`data.receipts` of receipt.issued is empty".into(),
        ));
    }
    let refuse = |reason: String| Refusal::Receipt {
        timestamp: body.timestamp.clone(),
        receipts: batch.receipts.len(),
        reason,
    };
    for (i, entry) in batch.receipts.iter().enumerate() {
        let envelope = Envelope::from_json(&entry.envelope)
            .map_err(|e| refuse(format!("receipts[{i}] (seq {}): {e}", entry.seq)))?;
        let receipt = tf_receipts::verify(&envelope, receipt_key)
            .map_err(|e| refuse(format!("receipts[{i}] (seq {}): {e}", entry.seq)))?;
        if receipt.ledger_seq != entry.seq {
            return Err(refuse(format!(
                "receipts[{i}] is listed as seq {} but signed for ledger sequence {}",
                entry.seq, receipt.ledger_seq
            )));
        }
    }
    Ok(Message {
        event_type: body.event_type,
        timestamp: body.timestamp,
        receipts: batch.receipts,
    })
}

/// The Standard Webhooks body. Unknown fields are ignored, as the spec asks of receivers.
#[derive(Deserialize)]
struct Body {
    #[serde(rename = "type")]
    event_type: String,
    timestamp: String,
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct Batch {
    receipts: Vec<ReceiptEntry>,
}

#[cfg(test)]
mod tests {
    use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};
    use tf_webhooks::receipt_issued_body;

    use super::*;

    fn envelope(signer: &mut ReceiptSigner, ledger_seq: u64) -> String {
        let receipt = Receipt {
            tenant: "demo".into(),
            request_id: ledger_seq,
            statement_digest: "ab".repeat(32),
            kind: "groth16-bn254".into(),
            verdict: VerdictLabel::Valid,
            reason: None,
            purpose: "kyc".into(),
            dataset_class: "P1".into(),
            budget_charged: 1,
            budget_remaining: None,
            ledger_seq,
            shard: 0,
            received_at_unix_us: 1,
            decided_at_unix_us: 2,
            appliance_key_id: signer.key_id().to_string(),
            bundle_revision: 0,
            bundle_hash: String::new(),
        };
        signer.sign(receipt).to_json()
    }

    fn batch(entries: &[(u64, &str)]) -> Vec<u8> {
        let entries: Vec<_> = entries
            .iter()
            .map(|(seq, envelope)| tf_webhooks::ReceiptEntry {
                seq: *seq,
                log_index: Some(*seq),
                envelope,
            })
            .collect();
        receipt_issued_body(1_700_000_000_000_000, &entries)
    }

    #[test]
    fn genuine_batch_keeps_envelopes_as_sent() {
        let mut signer = ReceiptSigner::from_secret(&[1; 32]);
        let (a, b) = (envelope(&mut signer, 7), envelope(&mut signer, 8));
        let message = judge(&batch(&[(7, &a), (8, &b)]), &signer.public_key()).expect("genuine");
        assert_eq!(message.event_type, "receipt.issued");
        assert_eq!(message.timestamp, "2023-11-14T22:13:20.000000Z");
        assert_eq!(message.receipts.len(), 2);
        assert_eq!(message.receipts[0].envelope, a);
        assert_eq!(message.receipts[1].seq, 8);
        assert_eq!(message.receipts[1].log_index, Some(8));
    }

    #[test]
    fn altered_foreign_and_misnumbered_receipts_are_refused() {
        let mut signer = ReceiptSigner::from_secret(&[1; 32]);
        let key = signer.public_key();
        let genuine = envelope(&mut signer, 7);

        let mut altered = Envelope::from_json(&genuine).expect("envelope");
        altered.payload = String::from_utf8(altered.payload)
            .expect("json")
            .replace("\"kyc\"", "\"aml\"")
            .into_bytes();
        let refusal = judge(&batch(&[(7, &altered.to_json())]), &key).expect_err("altered");
        assert!(
            matches!(&refusal, Refusal::Receipt { reason, .. } if reason.starts_with("receipts[0] (seq 7)")),
            "{refusal:?}"
        );

        let foreign = envelope(&mut ReceiptSigner::from_secret(&[2; 32]), 7);
        assert!(matches!(
            judge(&batch(&[(7, &genuine), (7, &foreign)]), &key),
            Err(Refusal::Receipt { receipts: 2, .. })
        ));

        let refusal = judge(&batch(&[(9, &genuine)]), &key).expect_err("misnumbered");
        assert!(
            matches!(&refusal, Refusal::Receipt { reason, .. } if reason.contains("seq 9") && reason.contains("ledger sequence 7")),
            "{refusal:?}"
        );

        assert!(matches!(
            judge(&batch(&[(7, "not an envelope")]), &key),
            Err(Refusal::Receipt { .. })
        ));
    }

    #[test]
    fn other_events_are_kept_without_receipts() {
        let key = ReceiptSigner::from_secret(&[1; 32]).public_key();
        let body = tf_webhooks::event_body(
            EventType::BundlePromoted,
            0,
            &serde_json::json!({"revision": 3}),
        )
        .expect("serialises");
        let message = judge(&body, &key).expect("recorded");
        assert_eq!(message.event_type, "bundle.promoted");
        assert!(message.receipts.is_empty());
        let future = br#"{"type":"something.new","timestamp":"2030-01-01T00:00:00Z","data":{}}"#;
        assert_eq!(
            judge(future, &key).expect("kept").event_type,
            "something.new"
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let key = ReceiptSigner::from_secret(&[1; 32]).public_key();
        for body in [
            &b"not json"[..],
            br#"{"type":"bundle.promoted","data":{}}"#,
            br#"{"type":"receipt.issued","timestamp":"t","data":{}}"#,
            br#"{"type":"receipt.issued","timestamp":"t","data":{"receipts":[]}}"#,
            br#"{"type":"receipt.issued","timestamp":"t","data":{"receipts":[{"seq":-1,"envelope":"x"}]}}"#,
        ] {
            assert!(matches!(judge(body, &key), Err(Refusal::Malformed(_))), "{}", String::from_utf8_lossy(body));
        }
    }
}
