//! Key material in the text forms the Standard Webhooks spec gives it.
//!
//! The prefix names the scheme, so a key pasted into the wrong field fails at load instead of
//! producing signatures no receiver accepts: `whsec_` for the symmetric `v1` secret, `whpk_` for
//! the Ed25519 public key a receiver checks `v1a` signatures with. The spec also names `whsk_`
//! for the Ed25519 secret key; the appliance's signing key is an [`ed25519_dalek::SigningKey`]
//! held elsewhere, so this crate never reads or prints one.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{PUBLIC_KEY_LENGTH, VerifyingKey};
use rand_core::{CryptoRng, RngCore};

/// Prefix of a symmetric (`v1`, HMAC-SHA256) secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Prefix of an Ed25519 public key (`v1a`).
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// Prefix the spec gives an Ed25519 secret key; named here so docs and checks can refer to it.
pub const SIGNING_KEY_PREFIX: &str = "whsk_";
/// Shortest symmetric secret the spec allows: 24 bytes (192 bits).
pub const MIN_SECRET_LEN: usize = 24;
/// Longest symmetric secret the spec allows: 64 bytes (512 bits).
pub const MAX_SECRET_LEN: usize = 64;
/// Length of the secrets [`WebhookSecret::generate`] makes: SHA-256's output size, so the key
/// is as strong as the MAC.
pub const GENERATED_SECRET_LEN: usize = 32;

/// Standard base64 that also accepts the padding left off, as the reference libraries do:
/// secrets are copied by hand between systems and the `=` is easily lost.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A symmetric `v1` signing secret: 24 to 64 random bytes, written `whsec_<standard base64>`.
///
/// Not `PartialEq`: comparing secrets with `==` would not be constant-time.
#[derive(Clone)]
pub struct WebhookSecret {
    bytes: [u8; MAX_SECRET_LEN],
    len: usize,
}

/// Why a `whsec_` secret was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretParseError {
    /// The text does not start with `whsec_`.
    #[error("a webhook secret starts with `whsec_`, followed by standard base64")]
    MissingPrefix,
    /// The text after the prefix is not standard base64. The offending character is not
    /// reported: it is part of a secret and errors end up in logs.
    #[error(
        "the text after `whsec_` is not standard base64 (A-Z a-z 0-9 + /, optional `=` padding)"
    )]
    NotBase64,
    /// The secret decodes to a length the spec does not allow.
    #[error("the secret is {found} bytes; a webhook secret is 24 to 64 random bytes")]
    BadLength {
        /// Bytes found (an estimate when far too long).
        found: usize,
    },
}

impl WebhookSecret {
    /// Parses the `whsec_` form.
    pub fn parse(text: &str) -> Result<Self, SecretParseError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretParseError::MissingPrefix)?;
        // 64 bytes are 88 characters padded. Longer text is refused before decoding; text up
        // to 88 characters decodes to at most 66 bytes, which the buffer holds so that a
        // slightly long secret reports its length rather than "not base64".
        let mut buf = [0u8; MAX_SECRET_LEN + 3];
        if encoded.len() > 88 {
            return Err(SecretParseError::BadLength {
                found: encoded.len() / 4 * 3,
            });
        }
        let len = LENIENT_BASE64
            .decode_slice(encoded, &mut buf)
            .map_err(|_| SecretParseError::NotBase64)?;
        let secret = Self::from_bytes(&buf[..len]);
        buf.fill(0);
        secret
    }

    /// Wraps raw secret bytes, checking the spec's length bounds.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretParseError> {
        if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&bytes.len()) {
            return Err(SecretParseError::BadLength { found: bytes.len() });
        }
        let mut secret = Self {
            bytes: [0; MAX_SECRET_LEN],
            len: bytes.len(),
        };
        secret.bytes[..bytes.len()].copy_from_slice(bytes);
        Ok(secret)
    }

    /// A fresh secret of [`GENERATED_SECRET_LEN`] bytes from a cryptographic generator.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut secret = Self {
            bytes: [0; MAX_SECRET_LEN],
            len: GENERATED_SECRET_LEN,
        };
        rng.fill_bytes(&mut secret.bytes[..GENERATED_SECRET_LEN]);
        secret
    }

    /// The secret bytes: the HMAC key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl FromStr for WebhookSecret {
    type Err = SecretParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The `whsec_` form, padded: what an operator hands to the receiver.
impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SECRET_PREFIX}{}", STANDARD.encode(self.as_bytes()))
    }
}

/// Never the bytes: a secret in a `{:?}` log line would be a leaked secret.
impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret({} bytes, redacted)", self.len)
    }
}

impl Drop for WebhookSecret {
    fn drop(&mut self) {
        // Best effort (no `zeroize` dependency): shortens the secret's life in freed memory.
        self.bytes.fill(0);
    }
}

/// An Ed25519 public key that verifies `v1a` signatures, written `whpk_<standard base64 of
/// the 32 key bytes>` (the form Svix, where the spec comes from, prints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookPublicKey(VerifyingKey);

/// Why a `whpk_` public key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublicKeyParseError {
    /// The text does not start with `whpk_`.
    #[error("a webhook public key starts with `whpk_`, followed by standard base64 of 32 bytes")]
    MissingPrefix,
    /// The text after the prefix is not standard base64.
    #[error(
        "the text after `whpk_` is not standard base64 (A-Z a-z 0-9 + /, optional `=` padding)"
    )]
    NotBase64,
    /// Not 32 bytes.
    #[error("the public key is {found} bytes; an Ed25519 public key is 32 bytes")]
    BadLength {
        /// Bytes found (an estimate when far too long).
        found: usize,
    },
    /// 32 bytes that are not a point on the curve.
    #[error("the 32 bytes are not an Ed25519 public key (not a curve point)")]
    NotACurvePoint,
    /// A small-order point: every signature check against it would be meaningless.
    #[error("the key is a weak (small-order) Ed25519 point, which no real key pair produces")]
    WeakKey,
}

impl WebhookPublicKey {
    /// Parses the `whpk_` form.
    pub fn parse(text: &str) -> Result<Self, PublicKeyParseError> {
        let encoded = text
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or(PublicKeyParseError::MissingPrefix)?;
        let mut buf = [0u8; PUBLIC_KEY_LENGTH + 3];
        if encoded.len() > 44 {
            return Err(PublicKeyParseError::BadLength {
                found: encoded.len() / 4 * 3,
            });
        }
        let len = LENIENT_BASE64
            .decode_slice(encoded, &mut buf)
            .map_err(|_| PublicKeyParseError::NotBase64)?;
        let bytes: [u8; PUBLIC_KEY_LENGTH] = buf[..len]
            .try_into()
            .map_err(|_| PublicKeyParseError::BadLength { found: len })?;
        let key =
            VerifyingKey::from_bytes(&bytes).map_err(|_| PublicKeyParseError::NotACurvePoint)?;
        if key.is_weak() {
            return Err(PublicKeyParseError::WeakKey);
        }
        Ok(Self(key))
    }

    /// The Ed25519 key itself.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl From<VerifyingKey> for WebhookPublicKey {
    fn from(key: VerifyingKey) -> Self {
        Self(key)
    }
}

impl FromStr for WebhookPublicKey {
    type Err = PublicKeyParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The `whpk_` form, padded.
impl fmt::Display for WebhookPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(self.0.as_bytes())
        )
    }
}

#[cfg(test)]
mod tests;
