//! Measurement build only (`--features without-ledger`): decided requests are signed on their
//! shard and answered at once, with nothing stored. It is the baseline that shows what the
//! durable ledger adds to latency (bench-rig/scripts/ledger-cost.sh); everything else on a
//! request's path is this tree's.

use tf_receipts::ReceiptSigner;

use super::routes::{Decided, Reply};

/// A shard's own receipt signer, standing in for the ledger thread.
pub struct Unstored {
    signer: ReceiptSigner,
}

impl Unstored {
    /// Signs with the appliance's receipt key.
    pub fn new(receipt_secret: &[u8; 32]) -> Self {
        Unstored {
            signer: ReceiptSigner::from_secret(receipt_secret),
        }
    }

    /// The answers to `decided`, which it empties. Receipts carry ledger sequence 0: there is
    /// no ledger to number them.
    pub fn answers(&mut self, decided: &mut Vec<Decided>) -> Vec<Reply> {
        decided
            .drain(..)
            .map(|mut decided| {
                let envelope = self.signer.sign_stamped(&mut decided.receipt);
                super::ledger::reply(decided, Ok(envelope))
            })
            .collect()
    }
}
