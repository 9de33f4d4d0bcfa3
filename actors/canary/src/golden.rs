//! The golden set as a file: known-answer requests with their expected verdicts, and the
//! Groth16 verifying keys they need, in a DSSE envelope signed with the appliance's receipt
//! key. `appliance canary golden build` writes it; the canary refuses a file that is altered,
//! signed by another key, or holds a request the wire protocol would refuse.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tf_receipts::{Envelope, ReceiptSigner};
use tf_wire::{
    Curve, DatasetClass, FrameDecoder, Message, Statement, Submit, VerdictCode, WireLimits,
};

/// The envelope's payload type.
pub const PAYLOAD_TYPE: &str = "application/vnd.trust-fabric.golden-set.v1+json";

/// The most requests a golden set holds: each run sends them all.
pub const MAX_ITEMS: usize = 256;

/// The most verifying keys a golden set carries.
pub const MAX_KEYS: usize = 8;

/// The largest golden set file read, bytes.
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// A golden set, opened.
#[derive(Clone, Debug, PartialEq)]
pub struct GoldenSet {
    /// When it was built, Unix seconds.
    pub created_unix_s: u64,
    /// The Groth16 verifying keys its proofs are under (registered by the canary's tenant).
    pub keys: Vec<(Curve, Vec<u8>)>,
    /// The requests.
    pub items: Vec<GoldenItem>,
}

/// One known-answer request.
#[derive(Clone, Debug, PartialEq)]
pub struct GoldenItem {
    /// What it is, for people.
    pub label: String,
    /// The verdict it must get.
    pub expect: VerdictCode,
    /// The purpose it is sent under.
    pub purpose: String,
    /// Its dataset class.
    pub dataset_class: DatasetClass,
    /// What to verify.
    pub statement: Statement,
}

/// Why a golden set file was refused.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// Not an envelope, another payload type, or a payload that does not parse.
    #[error("not a golden set: {0}")]
    Format(String),
    /// Not signed by the appliance's key.
    #[error(
        "the golden set's signature does not verify with this appliance's receipt key ({0}): \
         build it again with `appliance canary golden build` on this appliance"
    )]
    Signature(String),
    /// A request or a field over its limit, or one the wire protocol refuses.
    #[error("the golden set's {what}: {problem}")]
    Item {
        /// Which part.
        what: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    version: u32,
    created_unix_s: u64,
    keys: Vec<KeyRecord>,
    items: Vec<ItemRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRecord {
    curve: String,
    /// The key's arkworks canonical compressed bytes, hex.
    key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemRecord {
    label: String,
    expect: String,
    /// The request as the wire protocol frames a `Submit` (request id 0), hex: checked by
    /// the same decoder and limits as a partner's.
    submit: String,
}

impl GoldenSet {
    /// The set as a signed envelope (JSON text).
    pub fn seal(&self, signer: &mut ReceiptSigner) -> Result<String, GoldenError> {
        let mut items = Vec::with_capacity(self.items.len());
        for item in &self.items {
            let message = Message::Submit(Submit {
                request_id: 0,
                purpose: item.purpose.clone(),
                dataset_class: item.dataset_class,
                statement: item.statement.clone(),
            });
            let mut frame = Vec::new();
            tf_wire::encode(&message, &mut frame).map_err(|e| GoldenError::Item {
                what: item.label.clone(),
                problem: e.to_string(),
            })?;
            items.push(ItemRecord {
                label: item.label.clone(),
                expect: verdict_name(item.expect).to_owned(),
                submit: hex::encode(frame),
            });
        }
        let payload = Payload {
            version: 1,
            created_unix_s: self.created_unix_s,
            keys: self
                .keys
                .iter()
                .map(|(curve, key)| KeyRecord {
                    curve: curve_name(*curve).to_owned(),
                    key: hex::encode(key),
                })
                .collect(),
            items,
        };
        let bytes = serde_json::to_vec(&payload).expect("strings and numbers serialise");
        Ok(signer.sign_payload(PAYLOAD_TYPE, bytes).to_json())
    }

    /// Opens a sealed set, checking its signature with `public_key` and every request with
    /// the wire protocol's decoder and `limits`.
    pub fn open(
        text: &str,
        public_key: &ed25519_dalek::VerifyingKey,
        limits: &WireLimits,
    ) -> Result<GoldenSet, GoldenError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(GoldenError::Format(format!(
                "{} bytes, over the {MAX_FILE_BYTES} a golden set may take",
                text.len()
            )));
        }
        let envelope = Envelope::from_json(text).map_err(GoldenError::Format)?;
        if envelope.payload_type != PAYLOAD_TYPE {
            return Err(GoldenError::Format(format!(
                "payload type {:?}, not {PAYLOAD_TYPE:?}",
                envelope.payload_type
            )));
        }
        tf_receipts::verify_signature(&envelope, public_key)
            .map_err(|e| GoldenError::Signature(e.to_string()))?;
        let payload: Payload = serde_json::from_slice(&envelope.payload)
            .map_err(|e| GoldenError::Format(e.to_string()))?;
        if payload.version != 1 {
            return Err(GoldenError::Format(format!(
                "version {}, this appliance reads version 1",
                payload.version
            )));
        }
        if payload.items.is_empty() || payload.items.len() > MAX_ITEMS {
            return Err(GoldenError::Format(format!(
                "{} requests; a golden set holds 1 to {MAX_ITEMS}",
                payload.items.len()
            )));
        }
        if payload.keys.len() > MAX_KEYS {
            return Err(item_error(
                "keys",
                format!("{} keys; at most {MAX_KEYS}", payload.keys.len()),
            ));
        }
        let keys: Vec<(Curve, Vec<u8>)> = payload
            .keys
            .iter()
            .map(|record| {
                let curve = curve_of(&record.curve).ok_or_else(|| {
                    item_error("keys", format!("unknown curve {:?}", record.curve))
                })?;
                let key = hex::decode(&record.key)
                    .map_err(|_| item_error("keys", "a key is not hex".to_owned()))?;
                if key.len() > limits.max_key_bytes {
                    return Err(item_error(
                        "keys",
                        format!(
                            "a key of {} bytes, over {}",
                            key.len(),
                            limits.max_key_bytes
                        ),
                    ));
                }
                Ok((curve, key))
            })
            .collect::<Result<_, GoldenError>>()?;
        let key_ids: Vec<[u8; 32]> = keys
            .iter()
            .map(|(_, key)| Sha256::digest(key).into())
            .collect();
        if (1..key_ids.len()).any(|i| key_ids[..i].contains(&key_ids[i])) {
            return Err(item_error("keys", "a key is listed twice".to_owned()));
        }
        let mut decoder = FrameDecoder::new(*limits);
        let mut items: Vec<GoldenItem> = Vec::with_capacity(payload.items.len());
        for record in &payload.items {
            let what = || format!("request {:?}", record.label);
            if items.iter().any(|item| item.label == record.label) {
                return Err(item_error(
                    &what(),
                    "its label is used twice: each request's label names it in reports".to_owned(),
                ));
            }
            if record.label.is_empty()
                || record.label.chars().count() > 100
                || record.label.chars().any(char::is_control)
            {
                return Err(item_error(
                    &what(),
                    "a label is 1 to 100 characters of plain text".to_owned(),
                ));
            }
            let expect = verdict_of(&record.expect).ok_or_else(|| {
                item_error(
                    &what(),
                    format!(
                        "expects {:?}, not valid, invalid or rejected",
                        record.expect
                    ),
                )
            })?;
            let frame = hex::decode(&record.submit)
                .map_err(|_| item_error(&what(), "its request is not hex".to_owned()))?;
            let message = decoder
                .decode(&frame)
                .map(tf_wire::to_owned)
                .map_err(|e| item_error(&what(), e.to_string()))?;
            let Message::Submit(submit) = message else {
                return Err(item_error(&what(), "not a Submit request".to_owned()));
            };
            // A proof under a key the set does not carry could never be verified as expected.
            if let Statement::Groth16 { key_id, .. } = &submit.statement
                && !key_ids.contains(key_id)
            {
                return Err(item_error(
                    &what(),
                    "its Groth16 key is not one of the set's keys".to_owned(),
                ));
            }
            items.push(GoldenItem {
                label: record.label.clone(),
                expect,
                purpose: submit.purpose,
                dataset_class: submit.dataset_class,
                statement: submit.statement,
            });
        }
        Ok(GoldenSet {
            created_unix_s: payload.created_unix_s,
            keys,
            items,
        })
    }
}

fn item_error(what: &str, problem: String) -> GoldenError {
    GoldenError::Item {
        what: what.to_owned(),
        problem,
    }
}

/// A verdict as the golden set spells it.
pub fn verdict_name(verdict: VerdictCode) -> &'static str {
    match verdict {
        VerdictCode::Valid => "valid",
        VerdictCode::Invalid => "invalid",
        _ => "rejected",
    }
}

fn verdict_of(name: &str) -> Option<VerdictCode> {
    [
        VerdictCode::Valid,
        VerdictCode::Invalid,
        VerdictCode::Rejected,
    ]
    .into_iter()
    .find(|v| verdict_name(*v) == name)
}

/// Curves as partners name them in key files (`bn254`, `bls12-381`).
const CURVES: [(Curve, &str); 2] = [(Curve::Bn254, "bn254"), (Curve::Bls12_381, "bls12-381")];

/// A curve as key files and policies name it: `bn254` or `bls12-381`.
pub fn curve_name(curve: Curve) -> &'static str {
    CURVES
        .iter()
        .find(|(c, _)| *c == curve)
        .map_or("unknown", |(_, name)| name)
}

fn curve_of(name: &str) -> Option<Curve> {
    CURVES.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

#[cfg(test)]
mod tests;
