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
    let envelopes: Vec<Envelope> = receipts
        .iter_mut()
        .zip(first..)
        .map(|(receipt, seq)| {
            receipt.ledger_seq = seq;
            signer.sign_stamped(receipt)
        })
        .collect();
    // The ledger keeps the envelopes as they are: no JSON is rendered on the commit path.
    let entries: Vec<Entry<'_>> = receipts
        .iter()
        .zip(&envelopes)
        .map(|(receipt, envelope)| Entry { receipt, envelope })
        .collect();
    let stored = ledger.append(&entries);
    (envelopes, stored)
}
