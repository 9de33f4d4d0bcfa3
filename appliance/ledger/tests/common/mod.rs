//! Receipts and signing for the tests of the compact form, pruning and the migration to
//! schema 4, written once.

// Each test crate uses part of these.
#![allow(dead_code)]

pub mod v3;

use rusqlite::Connection;
use tf_ledger::{Ledger, SqliteLedger, TimelineEvent, sign_and_append};
use tf_receipts::{Envelope, Receipt, ReceiptSigner, VerdictLabel};

/// A SHA-256-like digest in lowercase hex, different for each `n`.
pub fn digest(n: u64) -> String {
    format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15)).repeat(4)
}

/// A valid receipt of `tenant` decided at `decided_us`, as a shard makes it (unnumbered,
/// unstamped), under bundle revision 3.
pub fn receipt(tenant: &str, decided_us: u64) -> Receipt {
    Receipt {
        tenant: tenant.into(),
        request_id: decided_us / 7,
        statement_digest: digest(decided_us),
        kind: "groth16-bn254".into(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        budget_charged: 1,
        budget_remaining: Some(99),
        ledger_seq: 0,
        shard: 1,
        received_at_unix_us: decided_us.saturating_sub(2_500),
        decided_at_unix_us: decided_us,
        appliance_key_id: String::new(),
        bundle_revision: 3,
        bundle_hash: digest(3),
    }
}

/// The appliance's signer in these tests.
pub fn signer() -> ReceiptSigner {
    ReceiptSigner::from_secret(&[9; 32])
}

/// Signs and appends `receipts` as the ledger thread does; returns the envelopes issued.
pub fn append(ledger: &mut dyn Ledger, receipts: &mut [Receipt]) -> Vec<Envelope> {
    let (envelopes, stored) = sign_and_append(ledger, &mut signer(), receipts.iter_mut());
    stored.expect("append");
    envelopes
}

/// Appends one receipt per decision time in `decided`, of tenant `acme`.
pub fn fill(ledger: &mut dyn Ledger, decided: impl IntoIterator<Item = u64>) -> Vec<Envelope> {
    let mut receipts: Vec<Receipt> = decided.into_iter().map(|us| receipt("acme", us)).collect();
    append(ledger, &mut receipts)
}

/// Records the promotion of `revision` with `hash`, so receipts can refer to it.
pub fn promote(ledger: &mut SqliteLedger, revision: u64, hash: &str) {
    ledger
        .record_switch(
            &TimelineEvent {
                seq: 0,
                at_us: 1,
                action: "promote".into(),
                actor: "sre".into(),
                reason: "test".into(),
                from_revision: 0,
                to_revision: revision,
                links: vec![],
                bundle_hash: hash.into(),
                drift: None,
                canary: None,
            },
            b"archive",
        )
        .expect("promote");
}

/// How many receipts keep their payload, and how many their whole envelope, verbatim.
pub fn kept_verbatim(ledger: &SqliteLedger) -> (i64, i64) {
    Connection::open(ledger.path())
        .expect("sqlite")
        .query_row(
            "SELECT COUNT(payload), COUNT(envelope) FROM receipts",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("count")
}
