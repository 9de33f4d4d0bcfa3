//! Numbering, signing and storing receipts as one group: what the ledger thread does for every
//! group commit (and what tests and benchmarks do to fill a ledger the same way).

use tf_receipts::{Envelope, Receipt, ReceiptSigner};

use crate::{Entry, Ledger, LedgerError};

/// Numbers `receipts` from the ledger's next sequence number, signs each with `signer`, and
/// appends them in one durable transaction. Returns the signed envelopes in order, and whether
/// they were stored: on an error nothing of the group is stored and no envelope may be handed
/// out as a receipt.
pub fn sign_and_append<'a>(
    ledger: &mut dyn Ledger,
    signer: &mut ReceiptSigner,
    receipts: impl IntoIterator<Item = &'a mut Receipt>,
) -> (Vec<Envelope>, Result<(), LedgerError>) {
    let first = ledger.next_seq();
    let mut receipts: Vec<&mut Receipt> = receipts.into_iter().collect();
    let mut envelopes = Vec::with_capacity(receipts.len());
    let mut envelope_json = Vec::with_capacity(receipts.len());
    for (i, receipt) in receipts.iter_mut().enumerate() {
        receipt.ledger_seq = first + i as u64;
        let envelope = signer.sign_stamped(receipt);
        envelope_json.push(envelope.to_json());
        envelopes.push(envelope);
    }
    let entries: Vec<Entry<'_>> = receipts
        .iter()
        .zip(&envelope_json)
        .map(|(receipt, json)| Entry {
            receipt,
            envelope_json: json,
        })
        .collect();
    let stored = ledger.append(&entries);
    (envelopes, stored)
}
