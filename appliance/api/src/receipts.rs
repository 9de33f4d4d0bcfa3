//! `GET /api/v1/receipts/{seq}`: a stored receipt by ledger sequence number, with its tenant and
//! the signed envelope as issued.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::TenantId;

/// The path of `GET /api/v1/receipts/{seq}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReceiptPath {
    /// The receipt's ledger sequence number (`ledger_seq` in the receipt).
    pub seq: u64,
}

/// The reply of `GET /api/v1/receipts/{seq}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptReply {
    /// The ledger sequence number.
    pub seq: u64,
    /// The tenant it was issued to.
    pub tenant: TenantId,
    /// The partner's id for the request it answers (ids repeat across connections).
    pub request_id: u64,
    /// The purpose the partner declared.
    pub purpose: String,
    /// The dataset class the partner declared: `P0`, `P1` or `P2`.
    pub dataset_class: String,
    /// The verdict: `valid`, `invalid` or `rejected`.
    pub verdict: String,
    /// Budget units charged.
    pub charged: u64,
    /// When it was decided, RFC 3339 UTC to the second.
    pub decided: String,
    /// The signed receipt payload (DSSE payload type
    /// `application/vnd.trust-fabric.receipt.v1+json`) exactly as signed, parsed as JSON: kept
    /// as a JSON value, not a typed copy, so every field the appliance signed (in any schema
    /// version) is shown as it was signed. `null` if the stored envelope does not parse.
    #[schema(value_type = Option<Object>, required = true)]
    pub receipt: Option<serde_json::Value>,
    /// The DSSE envelope as issued; `null` if the stored envelope does not parse.
    #[schema(required = true)]
    pub envelope: Option<DsseEnvelope>,
}

/// A DSSE envelope in its standard JSON form, as the appliance issues and stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DsseEnvelope {
    /// The signed payload, base64.
    pub payload: String,
    /// Names the payload's schema.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// One signature per signing key.
    pub signatures: Vec<DsseSignature>,
}

/// One DSSE signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DsseSignature {
    /// Which key signed: the appliance key id.
    #[serde(default)]
    pub keyid: String,
    /// The Ed25519 signature over the DSSE pre-authentication encoding, base64.
    pub sig: String,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::assert_same_json;

    /// An envelope as `tf_receipts::Envelope::to_json` writes it into the ledger.
    const ENVELOPE_JSON: &str = r#"{
  "payload": "eyJ0ZW5hbnQiOiJkZW1vIn0=",
  "payloadType": "application/vnd.trust-fabric.receipt.v1+json",
  "signatures": [
    {
      "keyid": "k1",
      "sig": "c2lnbmF0dXJl"
    }
  ]
}"#;

    fn payload() -> Value {
        // A v1 receipt in tf_receipts::Receipt's field order.
        json!({
            "tenant": "demo",
            "request_id": 7,
            "statement_digest": "12".repeat(32),
            "kind": "bls-single",
            "verdict": "valid",
            "purpose": "kyc",
            "dataset_class": "P1",
            "budget_charged": 1,
            "budget_remaining": 99,
            "ledger_seq": 42,
            "shard": 1,
            "received_at_unix_us": 1_767_323_045_000_000u64,
            "decided_at_unix_us": 1_767_323_045_000_900u64,
            "appliance_key_id": "k1",
            "bundle_revision": 2,
            "bundle_hash": "ab".repeat(32),
        })
    }

    fn expected(receipt: Option<Value>, envelope: Value) -> Value {
        // api.rs `receipt_value`, and the request id since.
        json!({
            "seq": 42u64,
            "tenant": "demo",
            "request_id": 7u64,
            "purpose": "kyc",
            "dataset_class": "P1",
            "verdict": "valid",
            "charged": 1u64,
            "decided": "2026-01-02T03:04:05Z",
            "receipt": receipt,
            "envelope": envelope,
        })
    }

    fn typed(receipt: Option<Value>, envelope: Option<DsseEnvelope>) -> ReceiptReply {
        ReceiptReply {
            seq: 42,
            tenant: "demo".into(),
            request_id: 7,
            purpose: "kyc".into(),
            dataset_class: "P1".into(),
            verdict: "valid".into(),
            charged: 1,
            decided: "2026-01-02T03:04:05Z".into(),
            receipt,
            envelope,
        }
    }

    #[test]
    fn a_receipt_reads_as_the_server_wrote_it() {
        let envelope: Value = serde_json::from_str(ENVELOPE_JSON).expect("the stored envelope");
        let parsed: DsseEnvelope = serde_json::from_str(ENVELOPE_JSON).expect("typed envelope");
        assert_eq!(parsed.signatures[0].keyid, "k1");
        assert_same_json(
            &typed(Some(payload()), Some(parsed)),
            expected(Some(payload()), envelope),
        );
    }

    #[test]
    fn an_unreadable_envelope_is_null_twice() {
        // `unwrap_or(Value::Null)` and a payload that did not parse.
        assert_same_json(&typed(None, None), expected(None, Value::Null));
    }

    #[test]
    fn the_payload_is_kept_verbatim_even_in_another_schema() {
        let future = json!({ "tenant": "demo", "schema": 2, "extra": { "nested": [1, 2] } });
        let reply = typed(Some(future.clone()), None);
        let text = serde_json::to_string(&reply).expect("serialises");
        let back: ReceiptReply = serde_json::from_str(&text).expect("parses");
        assert_eq!(back.receipt, Some(future));
    }
}
