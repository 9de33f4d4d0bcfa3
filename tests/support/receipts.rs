//! A receipt as the appliance issues one, for tests that sign and check receipts themselves.

use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

/// A valid `demo` verdict at ledger sequence `seq`, stamped with `signer`'s key id.
pub fn sample_receipt(signer: &ReceiptSigner, seq: u64) -> Receipt {
    Receipt {
        tenant: "demo".into(),
        request_id: seq,
        statement_digest: "cd".repeat(32),
        kind: "groth16-bn254".into(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: 1,
        budget_remaining: Some(99),
        ledger_seq: seq,
        shard: 0,
        received_at_unix_us: 1_763_900_000_000_000,
        decided_at_unix_us: 1_763_900_000_002_000,
        appliance_key_id: signer.key_id().to_string(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}
