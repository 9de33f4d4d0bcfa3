//! What a receipt costs per verdict: building the payload and signing it.

#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

fn receipt() -> Receipt {
    Receipt {
        tenant: "acme".into(),
        request_id: 42,
        statement_digest: "ab".repeat(32),
        kind: "groth16-bn254".into(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: 1,
        budget_remaining: Some(99),
        ledger_seq: 42,
        shard: 1,
        received_at_unix_us: 1_795_479_445_369_942,
        decided_at_unix_us: 1_795_479_445_389_917,
        appliance_key_id: String::new(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}

fn sign(c: &mut Criterion) {
    let mut signer = ReceiptSigner::from_secret(&[7; 32]);
    c.bench_function("receipt sign (serialise + DSSE PAE + Ed25519)", |b| {
        b.iter(|| signer.sign(std::hint::black_box(receipt())))
    });
}

criterion_group!(benches, sign);
criterion_main!(benches);
