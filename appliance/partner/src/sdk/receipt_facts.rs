//! Checking a receipt offline: its DSSE envelope's signature under the appliance's receipt
//! key, then what it says. What `partner receipt verify` and the SDKs' `verify_receipt` do.

use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use tf_receipts::{Envelope, Receipt};

use super::{receipt_key, unusable};
use crate::PartnerError;

/// What a genuine receipt says. Serialised, the receipt's own field names, with the verdict
/// as a word and the times in RFC 3339 (UTC, to the microsecond) beside Unix microseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptFacts {
    /// The tenant whose request it was.
    pub tenant: String,
    /// The partner's request id.
    pub request_id: u64,
    /// What was verified, digested (hex).
    pub statement_digest: String,
    /// The statement kind, such as `groth16-bn254` or `bls-single`.
    pub kind: String,
    /// `valid`, `invalid` or `rejected`.
    pub verdict: &'static str,
    /// Why, for `invalid` and `rejected`.
    pub reason: Option<String>,
    /// The purpose the request declared.
    pub purpose: String,
    /// The dataset class it declared: `P0`, `P1` or `P2`.
    pub dataset_class: String,
    /// Budget units charged.
    pub budget_charged: u64,
    /// The least budget left after the charge in the caps that applied; `None` when none did.
    pub budget_remaining: Option<u64>,
    /// Its sequence in the appliance's ledger, and index in the transparency log.
    pub ledger_seq: u64,
    /// The shard (core) that decided.
    pub shard: u16,
    /// When the verdict was reached, RFC 3339.
    pub decided_at: String,
    /// The same in Unix microseconds.
    pub decided_at_unix_us: u64,
    /// The policy bundle revision the request was admitted under.
    pub bundle_revision: u64,
}

/// Checks a receipt (its DSSE envelope's JSON text) with the appliance's receipt key (64 hex
/// digits) and returns what it says. An altered or forged receipt, or one signed by another
/// key, is [`PartnerError::ReceiptInvalid`]; text that is no envelope, or a key that is not
/// one, [`PartnerError::Local`].
pub fn verify_receipt(
    envelope_json: &str,
    public_key_hex: &str,
) -> Result<ReceiptFacts, PartnerError> {
    let key = receipt_key(public_key_hex)?;
    let (_, receipt) = genuine_receipt(envelope_json, &key)?;
    Ok(ReceiptFacts::from(&receipt))
}

/// Reads a receipt envelope from its JSON text and checks its signature with `key`: the
/// envelope as read and the receipt it signs. Errors as [`verify_receipt`]'s, the problem
/// with the text under the path `receipt`.
pub fn genuine_receipt(
    envelope_json: &str,
    key: &VerifyingKey,
) -> Result<(Envelope, Receipt), PartnerError> {
    let envelope = Envelope::from_json(envelope_json)
        .map_err(|problem| unusable("receipt", format!("not a receipt envelope: {problem}")))?;
    let receipt =
        tf_receipts::verify(&envelope, key).map_err(|error| PartnerError::ReceiptInvalid {
            detail: error.to_string(),
        })?;
    Ok((envelope, receipt))
}

impl From<&Receipt> for ReceiptFacts {
    fn from(receipt: &Receipt) -> Self {
        ReceiptFacts {
            tenant: receipt.tenant.clone(),
            request_id: receipt.request_id,
            statement_digest: receipt.statement_digest.clone(),
            kind: receipt.kind.clone(),
            verdict: receipt.verdict.as_str(),
            reason: receipt.reason.clone(),
            purpose: receipt.purpose.clone(),
            dataset_class: receipt.dataset_class.clone(),
            budget_charged: receipt.budget_charged,
            budget_remaining: receipt.budget_remaining,
            ledger_seq: receipt.ledger_seq,
            shard: receipt.shard,
            decided_at: tf_budgets::format_utc_micros(receipt.decided_at_unix_us),
            decided_at_unix_us: receipt.decided_at_unix_us,
            bundle_revision: receipt.bundle_revision,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_genuine_receipt_reads_and_an_altered_or_foreign_one_is_receipt_invalid() {
        let mut signer = tf_receipts::ReceiptSigner::from_secret(&[4; 32]);
        let receipt = Receipt {
            tenant: "pilot-x".into(),
            request_id: 7,
            statement_digest: "ab".repeat(32),
            kind: "groth16-bn254".into(),
            verdict: tf_receipts::VerdictLabel::Valid,
            reason: None,
            purpose: "kyc".into(),
            dataset_class: "P1".into(),
            budget_charged: 1,
            budget_remaining: Some(99),
            ledger_seq: 3,
            shard: 0,
            received_at_unix_us: 1_000_000,
            decided_at_unix_us: 1_000_500,
            appliance_key_id: String::new(),
            bundle_revision: 2,
            bundle_hash: "00".repeat(32),
        };
        let text = signer.sign(receipt).to_json();
        let key = hex::encode(signer.public_key().to_bytes());
        let facts = verify_receipt(&text, &key).expect("genuine");
        assert_eq!((facts.verdict, facts.request_id), ("valid", 7));
        assert_eq!(facts.decided_at, "1970-01-01T00:00:01.000500Z");

        let mut altered = Envelope::from_json(&text).expect("an envelope");
        altered.payload = String::from_utf8(altered.payload)
            .expect("JSON")
            .replace("\"valid\"", "\"invalid\"")
            .into_bytes();
        let error = verify_receipt(&altered.to_json(), &key).expect_err("altered");
        assert_eq!(error.kind(), "receipt-invalid", "{error}");
        let other = hex::encode([9; 32]);
        let error = verify_receipt(&text, &other).expect_err("another key");
        assert_eq!(error.kind(), "receipt-invalid", "{error}");
        for (text, key) in [("{}", key.as_str()), (text.as_str(), "abc")] {
            let error = verify_receipt(text, key).expect_err("unusable");
            assert_eq!(error.kind(), "local", "{error}");
        }
    }
}
