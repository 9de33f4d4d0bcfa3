//! DSSE v1: the pre-authentication encoding and the JSON envelope.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::{Deserialize, Serialize};

/// A DSSE envelope: the payload, its type, and signatures over `pae(type, payload)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Names the payload's schema.
    pub payload_type: String,
    /// The exact bytes that were signed.
    pub payload: Vec<u8>,
    /// One signature per signing key.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// Which key signed (the appliance key id).
    pub key_id: String,
    /// The Ed25519 signature, 64 bytes.
    pub sig: Vec<u8>,
}

/// The DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    pae_into(&mut out, payload_type, payload);
    out
}

/// Writes the pre-authentication encoding into a reused buffer.
pub(crate) fn pae_into(out: &mut Vec<u8>, payload_type: &str, payload: &[u8]) {
    out.clear();
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
}

/// The standard DSSE JSON form.
#[derive(Serialize, Deserialize)]
struct EnvelopeJson {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<SignatureJson>,
}

#[derive(Serialize, Deserialize)]
struct SignatureJson {
    #[serde(default)]
    keyid: String,
    sig: String,
}

impl Envelope {
    /// The standard DSSE JSON envelope (base64 payload and signatures).
    pub fn to_json(&self) -> String {
        let json = EnvelopeJson {
            payload: STANDARD.encode(&self.payload),
            payload_type: self.payload_type.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| SignatureJson {
                    keyid: s.key_id.clone(),
                    sig: STANDARD.encode(&s.sig),
                })
                .collect(),
        };
        serde_json::to_string_pretty(&json).expect("an envelope always serialises")
    }

    /// Parses a DSSE JSON envelope; base64 may be standard or URL-safe, as DSSE allows.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let json: EnvelopeJson =
            serde_json::from_str(text).map_err(|e| format!("not a DSSE JSON envelope: {e}"))?;
        let payload = decode_base64(&json.payload).ok_or("payload: not base64")?;
        let signatures = json
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let sig =
                    decode_base64(&s.sig).ok_or(format!("signatures[{i}].sig: not base64"))?;
                Ok(EnvelopeSignature {
                    key_id: s.keyid,
                    sig,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Envelope {
            payload_type: json.payload_type,
            payload,
            signatures,
        })
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn json_envelope_round_trips_and_accepts_url_safe_base64() {
        let envelope = Envelope {
            payload_type: "t".into(),
            payload: vec![0xfb, 0xff, 0x01],
            signatures: vec![EnvelopeSignature {
                key_id: "k".into(),
                sig: vec![0xfe; 64],
            }],
        };
        let json = envelope.to_json();
        assert_eq!(Envelope::from_json(&json), Ok(envelope.clone()));
        let url_safe = json.replace('+', "-").replace('/', "_");
        assert_eq!(Envelope::from_json(&url_safe), Ok(envelope));
        assert!(Envelope::from_json("{}").is_err());
    }
}
