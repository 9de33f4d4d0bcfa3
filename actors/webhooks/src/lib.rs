//! The auditor webhooks' sans-IO core: no sockets, no clock, no threads. Times go in as unix
//! microseconds (seconds where the wire uses seconds) and randomness as plain numbers, so the
//! actix worker that drives deliveries is thin and every decision here is testable.
//!
//! # The contract with receivers: [Standard Webhooks] 1.0
//!
//! Each event is an HTTP `POST` of a JSON body shaped `{"type", "timestamp", "data"}`
//! ([`event_body`], [`receipt_issued_body`]; types in [`EventType`]) with three headers:
//!
//! | header | value |
//! |---|---|
//! | `webhook-id` ([`HEADER_ID`]) | the message id, the same on every retry: the receiver's idempotency key ([`webhook_id`]) |
//! | `webhook-timestamp` ([`HEADER_TIMESTAMP`]) | the attempt time, integer unix seconds |
//! | `webhook-signature` ([`HEADER_SIGNATURE`]) | space-separated `scheme,base64` signatures ([`signature_header`]) |
//!
//! Signatures cover `{id}.{timestamp}.{body}` ([`signed_content`]) so the id and the attempt
//! time cannot be swapped under a valid body. Two schemes:
//!
//! - `v1`: HMAC-SHA256 under a per-endpoint secret shown as `whsec_<base64>`
//!   ([`WebhookSecret`], [`sign_v1`]);
//! - `v1a`: Ed25519 under the appliance's key, checked with a public key shown as
//!   `whpk_<base64>` ([`WebhookPublicKey`], [`sign_v1a`]). The spec prefers it: receivers hold
//!   nothing secret.
//!
//! During a key rotation a message carries one signature per key. Receivers (and our tests,
//! and any receiver tool we ship) check with [`verify`]: timestamp within
//! [`DEFAULT_TOLERANCE_S`] either way, any one known-scheme signature valid under any trusted
//! key, HMACs compared in constant time, unknown schemes skipped.
//!
//! # Delivery
//!
//! An attempt's result becomes an [`Outcome`]: `2xx` acknowledges, `410` disables the endpoint,
//! `429`/`502`/`503`/`504` throttle with their `Retry-After` ([`parse_retry_after`]), anything
//! else (redirects included, which are not followed) is retried; failures carry a
//! [`FailureClass`] for metrics. Retries follow the [`RetryLadder`]: six quick rungs inside two
//! minutes, then backing off to every 8 hours, giving up 72 hours after the first attempt.
//!
//! ```
//! use tf_webhooks::*;
//!
//! let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let id = webhook_id(1, 100, 100);
//! let body = event_body(EventType::CanaryAlarm, 1_700_000_000_000_000, &"drift").unwrap();
//! let signature = signature_header(&[sign_v1(&secret, &id, 1_700_000_000, &body)]);
//!
//! // The receiver's side.
//! let headers = WebhookHeaders {
//!     id: Some(&id),
//!     timestamp: Some("1700000000"),
//!     signature: Some(&signature),
//! };
//! let keys = [VerifierKey::from(secret)];
//! assert_eq!(verify(&headers, &body, &keys, 1_700_000_030, DEFAULT_TOLERANCE_S), Ok(()));
//!
//! // The sender's side after a 503: when to try again.
//! let now_us = 1_700_000_001_000_000;
//! let outcome = Outcome::from_status(503, Some("120"), now_us);
//! let next = RetryLadder::STANDARD.next_attempt_at(1, now_us, now_us, outcome.retry_after_us(), 7);
//! assert_eq!(next, Some(now_us + 120_000_000));
//! ```
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com

mod civil;
mod event;
mod ladder;
mod outcome;
mod retry_after;
mod secret;
mod settings;
mod signature;

pub use event::{
    EventType, RECOMMENDED_MAX_BODY_BYTES, ReceiptEntry, UnknownEventType, event_body,
    event_webhook_id, receipt_issued_body, webhook_id,
};
pub use ladder::{GIVE_UP_AFTER_S, RETRY_AFTER_CAP_S, RUNGS_S, RetryLadder, Rung, TAIL_INTERVAL_S};
pub use outcome::{FailureClass, Outcome, TransportFailure};
pub use retry_after::{RetryAfterError, parse_retry_after};
pub use secret::{
    GENERATED_SECRET_LEN, MAX_SECRET_LEN, MIN_SECRET_LEN, PUBLIC_KEY_PREFIX, PublicKeyParseError,
    SECRET_PREFIX, SIGNING_KEY_PREFIX, SecretParseError, WebhookPublicKey, WebhookSecret,
};
pub use settings::{
    DEFAULT_BATCH_MAX, DEFAULT_RATE_PER_S, EndpointSettings, MAX_BATCH_MAX, MAX_DESCRIPTION_BYTES,
    MAX_RATE_PER_S, MAX_TENANTS, Scheme, SettingsError,
};
pub use signature::{
    DEFAULT_TOLERANCE_S, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_SIGNATURES, SCHEME_V1,
    SCHEME_V1A, VerifierKey, VerifyError, WebhookHeaders, sign_v1, sign_v1a, signature_header,
    signed_content, verify,
};
