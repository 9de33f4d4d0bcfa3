//! `auditors.json` from the ledger's webhook outbox: per endpoint, the `receipt.issued`
//! messages that carried the period's receipts, what became of them, and a digest of the
//! acknowledgements an auditor's receiver can reproduce from what it answered.

use sha2::{Digest, Sha256};
use tf_ledger::{Ledger, LedgerError};

use crate::model::{AuditorReferences, SeqRange, WebhookDelivery};

/// What the ledger holds of deliveries of `receipts` (the packet's range); none without one.
pub(crate) fn auditor_references(
    ledger: &dyn Ledger,
    receipts: Option<SeqRange>,
) -> Result<AuditorReferences, LedgerError> {
    let mut deliveries: Vec<(WebhookDelivery, Sha256)> = Vec::new();
    let Some(range) = receipts else {
        return Ok(AuditorReferences::default());
    };
    ledger.webhook_messages_over(range.first, range.last, &mut |url, message| {
        let Some((first, last)) = message.receipts else {
            return Ok(());
        };
        // A batch across the period's edge counts with the receipts inside it.
        let carried = SeqRange {
            first: first.max(range.first),
            last: last.min(range.last),
        };
        if deliveries
            .last()
            .is_none_or(|(d, _)| d.endpoint != message.endpoint)
        {
            deliveries.push((
                WebhookDelivery {
                    endpoint: message.endpoint,
                    url,
                    receipts: carried,
                    messages: 0,
                    acknowledged: 0,
                    owed: 0,
                    given_up: 0,
                    last_acknowledged_unix_us: None,
                    acknowledgements_sha256: String::new(),
                },
                Sha256::new(),
            ));
        }
        let (delivery, digest) = deliveries.last_mut().expect("pushed above");
        delivery.receipts.first = delivery.receipts.first.min(carried.first);
        delivery.receipts.last = delivery.receipts.last.max(carried.last);
        delivery.messages += 1;
        match (message.acked_us, message.ack_sha256, message.given_up_us) {
            (Some(at_us), Some(answer), _) => {
                delivery.acknowledged += 1;
                delivery.last_acknowledged_unix_us =
                    Some(delivery.last_acknowledged_unix_us.unwrap_or(0).max(at_us));
                digest.update(format!("{} {}\n", message.id, hex::encode(answer)));
            }
            (_, _, Some(_)) => delivery.given_up += 1,
            _ => delivery.owed += 1,
        }
        Ok(())
    })?;
    Ok(AuditorReferences {
        webhook_deliveries: deliveries
            .into_iter()
            .map(|(mut delivery, digest)| {
                delivery.acknowledgements_sha256 = hex::encode(digest.finalize());
                delivery
            })
            .collect(),
    })
}
