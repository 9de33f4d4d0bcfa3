//! Durable receipts per second: what the ledger thread does per group (sign every receipt,
//! store the group in one transaction, fsync), by group size.

#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tf_ledger::{Ledger, SqliteLedger, sign_and_append};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

fn receipt(seq: u64) -> Receipt {
    Receipt {
        tenant: "acme".into(),
        request_id: seq,
        statement_digest: "ab".repeat(32),
        kind: "groth16-bn254".into(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: 1,
        budget_remaining: Some(99),
        ledger_seq: seq,
        shard: 1,
        received_at_unix_us: 1_795_479_445_369_942,
        decided_at_unix_us: 1_795_479_445_389_917,
        appliance_key_id: String::new(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("bench.sqlite")).expect("open");
    let mut signer = ReceiptSigner::from_secret(&[7; 32]);
    let next = std::cell::Cell::new(ledger.next_seq());
    let mut group = c.benchmark_group("ledger commit: sign + store + fsync");
    for batch in [1u64, 16, 64, 256] {
        group.throughput(Throughput::Elements(batch));
        group.bench_function(format!("{batch} receipts per commit"), |b| {
            b.iter_batched(
                || {
                    let first = next.get();
                    next.set(first + batch);
                    (first..first + batch)
                        .map(receipt)
                        .collect::<Vec<Receipt>>()
                },
                |mut receipts| {
                    // What the ledger thread does per group: number and sign every receipt,
                    // then store them in one transaction.
                    let (_, stored) =
                        sign_and_append(&mut ledger, &mut signer, receipts.iter_mut());
                    stored.expect("append");
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = append
}
criterion_main!(benches);
