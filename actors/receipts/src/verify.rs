//! Offline verification of a receipt envelope against the appliance's public key.

use ed25519_dalek::{Signature, VerifyingKey};

use crate::dsse::{Envelope, pae};
use crate::keys::ApplianceKeyId;
use crate::receipt::{PAYLOAD_TYPE, Receipt};

/// Why a receipt does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The envelope is not a receipt of a schema this verifier knows.
    #[error(
        "payload type {found:?} is not {PAYLOAD_TYPE:?}; upgrade the verifier or check the file"
    )]
    WrongPayloadType {
        /// The payload type found.
        found: String,
    },
    /// No signature names this appliance key.
    #[error("no signature by appliance key {key_id}; is this the right appliance's public key?")]
    NoSignatureForKey {
        /// The key id looked for.
        key_id: String,
    },
    /// The signature does not match the payload: the receipt was altered or forged.
    #[error(
        "the signature does not match the payload: the receipt was altered or not issued by this key"
    )]
    BadSignature,
    /// The signed payload is not a valid receipt.
    #[error("the signed payload is not a valid receipt: {0}")]
    MalformedPayload(String),
}

/// Verifies the signature by `public_key` over the exact payload, then parses it.
pub fn verify(envelope: &Envelope, public_key: &VerifyingKey) -> Result<Receipt, ReceiptError> {
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(ReceiptError::WrongPayloadType {
            found: envelope.payload_type.clone(),
        });
    }
    verify_signature(envelope, public_key)?;
    let key_id = ApplianceKeyId::of(public_key);
    let receipt: Receipt = serde_json::from_slice(&envelope.payload)
        .map_err(|e| ReceiptError::MalformedPayload(e.to_string()))?;
    if receipt.appliance_key_id != key_id.as_str() {
        return Err(ReceiptError::MalformedPayload(format!(
            "the receipt names key {} but was signed by {key_id}",
            receipt.appliance_key_id
        )));
    }
    Ok(receipt)
}

/// Verifies that `public_key` signed the envelope's exact payload and type, whatever the
/// payload is (the caller checks the type and parses it).
pub fn verify_signature(
    envelope: &Envelope,
    public_key: &VerifyingKey,
) -> Result<(), ReceiptError> {
    let key_id = ApplianceKeyId::of(public_key);
    let signature = envelope
        .signatures
        .iter()
        .find(|s| s.key_id == key_id.as_str())
        .ok_or_else(|| ReceiptError::NoSignatureForKey {
            key_id: key_id.to_string(),
        })?;
    let signature =
        Signature::from_slice(&signature.sig).map_err(|_| ReceiptError::BadSignature)?;
    // Strict verification refuses malleable signature encodings and small-order keys.
    public_key
        .verify_strict(&pae(&envelope.payload_type, &envelope.payload), &signature)
        .map_err(|_| ReceiptError::BadSignature)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Verifier;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::{ReceiptSigner, VerdictLabel};

    fn receipt(signer: &ReceiptSigner) -> Receipt {
        Receipt {
            tenant: "acme".into(),
            request_id: 7,
            statement_digest: "ab".repeat(32),
            kind: "groth16-bn254".into(),
            verdict: VerdictLabel::Invalid,
            reason: Some("the proof does not verify".into()),
            purpose: "kyc".into(),
            dataset_class: "P1".into(),
            budget_charged: 1,
            budget_remaining: Some(99),
            ledger_seq: 42,
            shard: 1,
            received_at_unix_us: 1_700_000_000_000_000,
            decided_at_unix_us: 1_700_000_000_001_500,
            appliance_key_id: signer.key_id().to_string(),
            bundle_revision: 0,
            bundle_hash: String::new(),
        }
    }

    #[test]
    fn signed_receipt_verifies_and_round_trips_through_json() {
        let mut signer = ReceiptSigner::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let original = receipt(&signer);
        let envelope = signer.sign(original.clone());
        let parsed = Envelope::from_json(&envelope.to_json()).expect("parses");
        assert_eq!(verify(&parsed, &signer.public_key()), Ok(original));
    }

    #[test]
    fn an_independent_ed25519_check_of_the_dsse_bytes_passes() {
        let mut signer = ReceiptSigner::generate(&mut ChaCha20Rng::seed_from_u64(2));
        let envelope = signer.sign(receipt(&signer));
        // Rebuild the signed bytes by hand from the DSSE specification.
        let mut signed = format!(
            "DSSEv1 {} {} {} ",
            PAYLOAD_TYPE.len(),
            PAYLOAD_TYPE,
            envelope.payload.len()
        )
        .into_bytes();
        signed.extend_from_slice(&envelope.payload);
        let sig = Signature::from_slice(&envelope.signatures[0].sig).expect("64 bytes");
        assert!(signer.public_key().verify(&signed, &sig).is_ok());
    }

    #[test]
    fn altered_payload_wrong_key_and_wrong_type_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut signer = ReceiptSigner::generate(&mut rng);
        let other = ReceiptSigner::generate(&mut rng);
        let envelope = signer.sign(receipt(&signer));

        let mut altered = envelope.clone();
        let text = String::from_utf8(altered.payload).expect("json");
        altered.payload = text.replace("\"invalid\"", "\"valid\"").into_bytes();
        assert_eq!(
            verify(&altered, &signer.public_key()),
            Err(ReceiptError::BadSignature)
        );

        assert!(matches!(
            verify(&envelope, &other.public_key()),
            Err(ReceiptError::NoSignatureForKey { .. })
        ));

        let mut retyped = envelope.clone();
        retyped.payload_type = "application/json".into();
        assert!(matches!(
            verify(&retyped, &signer.public_key()),
            Err(ReceiptError::WrongPayloadType { .. })
        ));

        // A signature from another key placed under this key's id.
        let mut forged = envelope.clone();
        let mut other_signer = other;
        forged.signatures[0].sig = other_signer.sign(receipt(&other_signer)).signatures[0]
            .sig
            .clone();
        assert_eq!(
            verify(&forged, &signer.public_key()),
            Err(ReceiptError::BadSignature)
        );
    }

    #[test]
    fn the_signer_stamps_its_own_key_id() {
        let mut signer = ReceiptSigner::generate(&mut ChaCha20Rng::seed_from_u64(5));
        let mut claimed = receipt(&signer);
        claimed.appliance_key_id = "someone else".into();
        let verified = verify(&signer.sign(claimed), &signer.public_key()).expect("verifies");
        assert_eq!(verified.appliance_key_id, signer.key_id().as_str());
    }

    #[test]
    fn secret_round_trips_and_debug_hides_it() {
        let signer = ReceiptSigner::generate(&mut ChaCha20Rng::seed_from_u64(4));
        let again = ReceiptSigner::from_secret(&signer.secret_bytes());
        assert_eq!(again.public_key(), signer.public_key());
        let shown = format!("{signer:?}");
        assert!(
            !shown.contains(&hex::encode(signer.secret_bytes())),
            "{shown}"
        );
    }
}
