//! The receipt payload (schema v1).

use serde::{Deserialize, Serialize};

/// The DSSE payload type of a v1 receipt; it names the schema.
pub const PAYLOAD_TYPE: &str = "application/vnd.trust-fabric.receipt.v1+json";

/// What the appliance decided about one request. Serialised as JSON in field order; times are
/// Unix microseconds (exact in JSON numbers, unlike nanoseconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The tenant, from the client certificate that authenticated the connection.
    pub tenant: String,
    /// The partner's request id.
    pub request_id: u64,
    /// What was verified: SHA-256 over the key id and public inputs (or keys and messages), hex.
    pub statement_digest: String,
    /// The statement kind, such as `groth16-bn254` or `bls-single`.
    pub kind: String,
    /// The verdict.
    pub verdict: VerdictLabel,
    /// Why, for `invalid` and `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The purpose the partner declared for the request.
    pub purpose: String,
    /// The dataset class the partner declared: `P0`, `P1` or `P2`.
    pub dataset_class: String,
    /// Budget units charged for this request (0 when its class is charged only for valid
    /// verdicts and this one was not valid).
    pub budget_charged: u64,
    /// The least budget left, after this charge, in the caps that applied; absent when no cap
    /// applies to the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_remaining: Option<u64>,
    /// The appliance ledger's sequence number for this receipt: it was stored durably, with its
    /// budget charge, before the partner saw it.
    pub ledger_seq: u64,
    /// The shard (core) that decided.
    pub shard: u16,
    /// When the request was received, Unix microseconds.
    pub received_at_unix_us: u64,
    /// When the verdict was reached, Unix microseconds.
    pub decided_at_unix_us: u64,
    /// The key id of the appliance key that signs this receipt.
    pub appliance_key_id: String,
    /// The policy bundle revision the request was admitted under (0: none promoted yet, the
    /// configuration file's tenants with every request allowed).
    #[serde(default)]
    pub bundle_revision: u64,
    /// That bundle's hash (hex SHA-256 of its signed manifest; zeros for revision 0).
    #[serde(default)]
    pub bundle_hash: String,
}

/// A verdict as receipts spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VerdictLabel {
    /// Verifies.
    Valid,
    /// Well formed, does not verify.
    Invalid,
    /// Malformed input, refused before verification.
    Rejected,
}

impl VerdictLabel {
    /// The verdict as receipts spell it: `valid`, `invalid`, `rejected`.
    pub fn as_str(&self) -> &'static str {
        match self {
            VerdictLabel::Valid => "valid",
            VerdictLabel::Invalid => "invalid",
            VerdictLabel::Rejected => "rejected",
        }
    }
}
