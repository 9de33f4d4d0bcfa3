//! The appliance's receipt key and the signer that uses it.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

use crate::dsse::{Envelope, EnvelopeSignature, pae_into};
use crate::receipt::{PAYLOAD_TYPE, Receipt};

/// An appliance key's id: hex SHA-256 of its 32-byte Ed25519 public key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApplianceKeyId(String);

impl ApplianceKeyId {
    /// The id of a public key.
    pub fn of(key: &VerifyingKey) -> Self {
        ApplianceKeyId(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApplianceKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Signs receipts. Keeps one reused buffer for the pre-authentication encoding.
pub struct ReceiptSigner {
    key: SigningKey,
    key_id: ApplianceKeyId,
    pae: Vec<u8>,
}

impl fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret key.
        f.debug_struct("ReceiptSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ReceiptSigner {
    /// A signer for a 32-byte Ed25519 secret key.
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(secret);
        let key_id = ApplianceKeyId::of(&key.verifying_key());
        ReceiptSigner {
            key,
            key_id,
            pae: Vec::with_capacity(1024),
        }
    }

    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        Self::from_secret(&secret)
    }

    /// The secret key bytes, for storing with owner-only permissions.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public key auditors verify with.
    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The key's id, named in every receipt and signature.
    pub fn key_id(&self) -> &ApplianceKeyId {
        &self.key_id
    }

    /// Serialises and signs a receipt, stamping it with this key's id first (the signer, not
    /// the caller, decides which key a receipt names).
    pub fn sign(&mut self, mut receipt: Receipt) -> Envelope {
        self.sign_stamped(&mut receipt)
    }

    /// Signs a receipt the caller keeps (the ledger stores its fields next to the envelope),
    /// stamping it with this key's id first.
    pub fn sign_stamped(&mut self, receipt: &mut Receipt) -> Envelope {
        if receipt.appliance_key_id != self.key_id.as_str() {
            receipt.appliance_key_id = self.key_id.as_str().to_owned();
        }
        let payload = serde_json::to_vec(&*receipt).expect("a receipt always serialises");
        self.sign_payload(PAYLOAD_TYPE, payload)
    }

    /// Signs any payload as a DSSE envelope with this key (evidence manifests use it).
    pub fn sign_payload(&mut self, payload_type: &str, payload: Vec<u8>) -> Envelope {
        pae_into(&mut self.pae, payload_type, &payload);
        let signature = self.key.sign(&self.pae);
        Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: vec![EnvelopeSignature {
                key_id: self.key_id.as_str().to_owned(),
                sig: signature.to_bytes().to_vec(),
            }],
        }
    }
}
