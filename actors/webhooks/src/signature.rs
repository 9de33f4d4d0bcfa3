//! Standard Webhooks signatures: what is signed, how a sender signs it, how a receiver checks it.
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, so a signature also vouches
//! for the id (the receiver's idempotency key) and the attempt time (its replay guard). `v1` is
//! HMAC-SHA256 under a [`WebhookSecret`]; `v1a` is Ed25519 under the appliance's key. Each
//! signature is written `<scheme>,<standard base64>`, and the `webhook-signature` header is a
//! space-separated list so old and new keys can sign side by side while a key is rotated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SIGNATURE_LENGTH, Signature, Signer, SigningKey};
use hmac::digest::CtOutput;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::{WebhookPublicKey, WebhookSecret};

/// Header carrying the message id (same on every retry: the receiver's idempotency key).
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the attempt time, integer unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// Scheme tag of HMAC-SHA256 signatures.
pub const SCHEME_V1: &str = "v1";
/// Scheme tag of Ed25519 signatures.
pub const SCHEME_V1A: &str = "v1a";
/// The spec's and reference libraries' replay window, either side of the receiver's clock.
pub const DEFAULT_TOLERANCE_S: u64 = 5 * 60;
/// Signatures a receiver looks at per message: enough for any rotation, and a bound on the
/// Ed25519 work a forged header can make it do.
pub const MAX_SIGNATURES: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// The bytes both schemes sign: `{id}.{timestamp_s}.{body}`.
pub fn signed_content(id: &str, timestamp_s: u64, body: &[u8]) -> Vec<u8> {
    let mut digits = [0u8; 20];
    content_with(id, decimal(timestamp_s, &mut digits), body)
}

/// A `v1,<base64>` HMAC-SHA256 signature.
pub fn sign_v1(secret: &WebhookSecret, id: &str, timestamp_s: u64, body: &[u8]) -> String {
    let mut digits = [0u8; 20];
    let mac = mac_v1(secret, id, decimal(timestamp_s, &mut digits), body);
    format!("{SCHEME_V1},{}", STANDARD.encode(mac.into_bytes()))
}

/// A `v1a,<base64>` Ed25519 signature (pure Ed25519 over the whole signed content).
pub fn sign_v1a(key: &SigningKey, id: &str, timestamp_s: u64, body: &[u8]) -> String {
    let signature = key.sign(&signed_content(id, timestamp_s, body));
    format!("{SCHEME_V1A},{}", STANDARD.encode(signature.to_bytes()))
}

/// The `webhook-signature` value: the signatures joined by single spaces.
pub fn signature_header<S: AsRef<str>>(signatures: &[S]) -> String {
    let mut header = String::new();
    for (i, signature) in signatures.iter().enumerate() {
        if i > 0 {
            header.push(' ');
        }
        header.push_str(signature.as_ref());
    }
    header
}

/// The three header values a receiver read (by case-insensitive name), `None` when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
}

/// A key a receiver trusts; the scheme follows from the kind of key.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum VerifierKey {
    /// Checks `v1` signatures.
    Secret(WebhookSecret),
    /// Checks `v1a` signatures.
    PublicKey(WebhookPublicKey),
}

impl From<WebhookSecret> for VerifierKey {
    fn from(secret: WebhookSecret) -> Self {
        Self::Secret(secret)
    }
}

impl From<WebhookPublicKey> for VerifierKey {
    fn from(key: WebhookPublicKey) -> Self {
        Self::PublicKey(key)
    }
}

/// Why a receiver refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required header is absent or empty; carries the header name.
    #[error("missing `{0}` header")]
    MissingHeader(&'static str),
    /// The id contains `.`, which would let id and timestamp bleed into each other.
    #[error(
        "`webhook-id` contains `.`, which the spec forbids (it makes the signed content ambiguous)"
    )]
    InvalidId,
    /// The timestamp is not a plain decimal integer of seconds.
    #[error("`webhook-timestamp` is not integer unix seconds")]
    InvalidTimestamp,
    /// The timestamp is further in the past than the tolerance: maybe a replay.
    #[error("`webhook-timestamp` is {age_s} s old, beyond the {tolerance_s} s tolerance")]
    TooOld {
        /// How far behind the receiver's clock.
        age_s: u64,
        /// The tolerance applied.
        tolerance_s: u64,
    },
    /// The timestamp is further in the future than the tolerance.
    #[error(
        "`webhook-timestamp` is {ahead_s} s in the future, beyond the {tolerance_s} s tolerance"
    )]
    TooNew {
        /// How far ahead of the receiver's clock.
        ahead_s: u64,
        /// The tolerance applied.
        tolerance_s: u64,
    },
    /// No signature of a known scheme verifies under any trusted key.
    #[error("no signature matches a trusted key")]
    NoMatchingSignature,
}

/// Checks a received message as a receiver does: headers present, timestamp within
/// `tolerance_s` of `now_s` either way, and at least one signature valid under one key.
/// Signatures of unknown schemes, and malformed ones, are skipped rather than refused, so a
/// sender can add schemes without breaking receivers.
pub fn verify(
    headers: &WebhookHeaders<'_>,
    body: &[u8],
    keys: &[VerifierKey],
    now_s: u64,
    tolerance_s: u64,
) -> Result<(), VerifyError> {
    let id = present(headers.id, HEADER_ID)?;
    let timestamp = present(headers.timestamp, HEADER_TIMESTAMP)?;
    let signatures = present(headers.signature, HEADER_SIGNATURE)?;
    if id.contains('.') {
        return Err(VerifyError::InvalidId);
    }
    let timestamp_s = parse_timestamp(timestamp)?;
    if timestamp_s < now_s && now_s - timestamp_s > tolerance_s {
        let age_s = now_s - timestamp_s;
        return Err(VerifyError::TooOld { age_s, tolerance_s });
    }
    if timestamp_s > now_s && timestamp_s - now_s > tolerance_s {
        let ahead_s = timestamp_s - now_s;
        return Err(VerifyError::TooNew {
            ahead_s,
            tolerance_s,
        });
    }
    // Check against the timestamp text as sent (digits only, checked above): a sender that
    // wrote leading zeros signed them too.
    let timestamp = timestamp.as_bytes();
    let mut content: Option<Vec<u8>> = None;
    for key in keys {
        let matched = match key {
            VerifierKey::Secret(secret) => {
                let expected = mac_v1(secret, id, timestamp, body);
                candidates(signatures, SCHEME_V1)
                    .filter_map(decode_fixed::<32>)
                    .any(|theirs| CtOutput::<HmacSha256>::new(theirs.into()) == expected)
            }
            VerifierKey::PublicKey(public) => {
                let content = content.get_or_insert_with(|| content_with(id, timestamp, body));
                candidates(signatures, SCHEME_V1A)
                    .filter_map(decode_fixed::<SIGNATURE_LENGTH>)
                    .any(|theirs| {
                        let signature = Signature::from_bytes(&theirs);
                        public
                            .verifying_key()
                            .verify_strict(content, &signature)
                            .is_ok()
                    })
            }
        };
        if matched {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatchingSignature)
}

fn present<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, VerifyError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingHeader(name))
}

/// Decimal digits only: no sign, no fraction, no spaces (a `u64` has at most 20 digits).
fn parse_timestamp(text: &str) -> Result<u64, VerifyError> {
    if text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::InvalidTimestamp);
    }
    text.parse().map_err(|_| VerifyError::InvalidTimestamp)
}

/// The base64 parts of the signatures tagged `scheme`, at most [`MAX_SIGNATURES`] looked at.
fn candidates<'a>(header: &'a str, scheme: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    header
        .split(' ')
        .filter(|token| !token.is_empty())
        .take(MAX_SIGNATURES)
        .filter_map(move |token| {
            let (tag, value) = token.split_once(',')?;
            (tag == scheme).then_some(value)
        })
}

/// Strict standard base64 of exactly `N` bytes, else `None` (a malformed signature is skipped).
fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N.div_ceil(3) * 4 {
        return None;
    }
    // Room for the decoder's length estimate, which rounds up.
    let mut buf = [0u8; 67];
    let len = STANDARD.decode_slice(text, &mut buf).ok()?;
    buf.get(..len)?.try_into().ok()
}

fn mac_v1(secret: &WebhookSecret, id: &str, timestamp: &[u8], body: &[u8]) -> CtOutput<HmacSha256> {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    mac.finalize()
}

fn content_with(id: &str, timestamp: &[u8], body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp);
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// `n` in decimal, written into `buf` without allocating.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
