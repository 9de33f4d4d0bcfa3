//! Authors' Ed25519 keys: the secret key that signs bundles, and the set of public keys an
//! appliance trusts (several at once, so a key can be rotated without a gap).

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use tf_receipts::{ApplianceKeyId, Envelope, ReceiptSigner};

/// An author's signing key.
pub struct AuthorKey {
    signer: ReceiptSigner,
}

impl std::fmt::Debug for AuthorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("AuthorKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl AuthorKey {
    /// The key with this 32-byte secret.
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        AuthorKey {
            signer: ReceiptSigner::from_secret(secret),
        }
    }

    /// A fresh random key.
    pub fn generate<R: rand_core::RngCore + rand_core::CryptoRng>(rng: &mut R) -> Self {
        AuthorKey {
            signer: ReceiptSigner::generate(rng),
        }
    }

    /// Reads a key file: the secret as 64 hex digits.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the author key: {e}", path.display()))?;
        let mut secret = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut secret).map_err(|_| {
            format!(
                "{}: not an author key (expected 64 hex digits; make one with `appliance bundle \
                 keygen`)",
                path.display()
            )
        })?;
        Ok(Self::from_secret(&secret))
    }

    /// The secret as 64 hex digits, for a key file with owner-only permissions.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.signer.secret_bytes())
    }

    /// The public key as 64 hex digits, what an appliance lists in `trusted_authors`.
    pub fn public_hex(&self) -> String {
        hex::encode(self.signer.public_key().as_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.signer.public_key()
    }

    /// The key id named in signatures: hex SHA-256 of the public key.
    pub fn key_id(&self) -> String {
        self.signer.key_id().to_string()
    }

    /// Signs a payload as a DSSE envelope.
    pub fn sign(&mut self, payload_type: &str, payload: Vec<u8>) -> Envelope {
        self.signer.sign_payload(payload_type, payload)
    }
}

/// The id of an author's public key: hex SHA-256 of its 32 bytes.
pub fn author_key_id(key: &VerifyingKey) -> String {
    ApplianceKeyId::of(key).to_string()
}

/// The author keys an appliance accepts bundles from.
#[derive(Clone, Debug, Default)]
pub struct TrustedAuthors {
    keys: Vec<VerifyingKey>,
}

impl TrustedAuthors {
    /// Trusts exactly these keys.
    pub fn new(keys: Vec<VerifyingKey>) -> Self {
        TrustedAuthors { keys }
    }

    /// Parses a public key given as 64 hex digits, or a file holding them.
    pub fn parse_key(text: &str) -> Result<VerifyingKey, String> {
        let from_file;
        let hex_text = if Path::new(text).is_file() {
            from_file = std::fs::read_to_string(text)
                .map_err(|e| format!("{text}: cannot read the public key: {e}"))?;
            from_file.trim()
        } else {
            text.trim()
        };
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_text, &mut bytes)
            .map_err(|_| format!("{text:?} is not an Ed25519 public key (64 hex digits)"))?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|_| format!("{text:?} is not a valid Ed25519 public key"))
    }

    /// Adds a key.
    pub fn add(&mut self, key: VerifyingKey) {
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
    }

    /// The trusted key with this id.
    pub fn find(&self, key_id: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| author_key_id(k) == key_id)
    }

    /// Every trusted key.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }
}
