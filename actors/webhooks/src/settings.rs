//! What an endpoint is configured with, beside its URL: the one contract the admin API, the
//! CLI, the console and the outbox read, stored as JSON in the ledger. Validated once, with
//! errors that say what is allowed.

use serde::{Deserialize, Serialize};

use crate::event::EventType;
use crate::signature::{SCHEME_V1, SCHEME_V1A};

/// The signature schemes an endpoint's messages carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scheme {
    /// HMAC-SHA256 under the endpoint's `whsec_` secret.
    #[serde(rename = "v1")]
    V1,
    /// Ed25519 under the appliance's webhook key (receivers hold only its public key).
    #[serde(rename = "v1a")]
    V1a,
}

impl Scheme {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::V1 => SCHEME_V1,
            Scheme::V1a => SCHEME_V1A,
        }
    }
}

/// An endpoint's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSettings {
    /// The events it receives.
    pub events: Vec<EventType>,
    /// Only these tenants' receipts and budget events; every tenant's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<Vec<String>>,
    /// The signatures each message carries (one or both).
    pub schemes: Vec<Scheme>,
    /// The most attempts per second.
    #[serde(default = "default_rate")]
    pub rate_per_s: u32,
    /// The most receipts in one `receipt.issued` message.
    #[serde(default = "default_batch")]
    pub batch_max: u32,
    /// Marked local by an SRE: private, loopback and link-local addresses allowed, and
    /// `http://`.
    #[serde(default)]
    pub local: bool,
    /// For people: whose endpoint this is.
    #[serde(default)]
    pub description: String,
}

fn default_rate() -> u32 {
    DEFAULT_RATE_PER_S
}

fn default_batch() -> u32 {
    DEFAULT_BATCH_MAX
}

/// Attempts per second when not set.
pub const DEFAULT_RATE_PER_S: u32 = 20;
/// Receipts per message when not set: about 150 KB of JSON.
pub const DEFAULT_BATCH_MAX: u32 = 100;
/// The most attempts per second an endpoint may ask for.
pub const MAX_RATE_PER_S: u32 = 1_000;
/// The most receipts per message (about 1.5 MB of JSON).
pub const MAX_BATCH_MAX: u32 = 1_000;
/// The most tenants one endpoint may name.
pub const MAX_TENANTS: usize = 1_000;
/// The longest description.
pub const MAX_DESCRIPTION_BYTES: usize = 200;

/// Why settings are refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// No event chosen.
    #[error(
        "choose at least one event: receipt.issued, bundle.promoted, bundle.rolled_back, budget.exhausted, snapshot.sealed, canary.alarm, scenario.failed, partner.step_failed"
    )]
    NoEvents,
    /// An event named twice.
    #[error("event {0} is named twice")]
    DuplicateEvent(EventType),
    /// No scheme chosen, or one named twice.
    #[error(
        "choose the signature schemes once each: v1 (a shared whsec_ secret), v1a (Ed25519, the appliance's public key), or both"
    )]
    Schemes,
    /// An empty tenant list (which would receive nothing), or too long a one.
    #[error("list between 1 and {MAX_TENANTS} tenants, or leave tenants out for every tenant")]
    TenantCount,
    /// A tenant that is not a tenant id.
    #[error("{0:?} is not a tenant id (lowercase letters, digits, - and _, at most 64)")]
    TenantId(String),
    /// A rate outside the allowed range.
    #[error("rate_per_s is {0}; give 1 to {MAX_RATE_PER_S}")]
    Rate(u32),
    /// A batch size outside the allowed range.
    #[error("batch_max is {0}; give 1 to {MAX_BATCH_MAX}")]
    Batch(u32),
    /// Too long a description.
    #[error("the description is {0} bytes; at most {MAX_DESCRIPTION_BYTES}")]
    Description(usize),
}

impl EndpointSettings {
    /// Checks every field; the first problem found.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.events.is_empty() {
            return Err(SettingsError::NoEvents);
        }
        for (at, event) in self.events.iter().enumerate() {
            if self.events[..at].contains(event) {
                return Err(SettingsError::DuplicateEvent(*event));
            }
        }
        let mut schemes = self.schemes.clone();
        schemes.sort_unstable();
        schemes.dedup();
        if schemes.is_empty() || schemes.len() != self.schemes.len() {
            return Err(SettingsError::Schemes);
        }
        if let Some(tenants) = &self.tenants {
            if tenants.is_empty() || tenants.len() > MAX_TENANTS {
                return Err(SettingsError::TenantCount);
            }
            if let Some(bad) = tenants.iter().find(|t| !is_tenant_id(t)) {
                return Err(SettingsError::TenantId(bad.clone()));
            }
        }
        if !(1..=MAX_RATE_PER_S).contains(&self.rate_per_s) {
            return Err(SettingsError::Rate(self.rate_per_s));
        }
        if !(1..=MAX_BATCH_MAX).contains(&self.batch_max) {
            return Err(SettingsError::Batch(self.batch_max));
        }
        if self.description.len() > MAX_DESCRIPTION_BYTES {
            return Err(SettingsError::Description(self.description.len()));
        }
        Ok(())
    }

    /// Whether the endpoint receives `event`.
    pub fn wants(&self, event: EventType) -> bool {
        self.events.contains(&event)
    }

    /// Whether the endpoint receives what concerns `tenant`.
    pub fn covers(&self, tenant: &str) -> bool {
        self.tenants
            .as_ref()
            .is_none_or(|tenants| tenants.iter().any(|t| t == tenant))
    }

    /// Whether messages carry `scheme`'s signature.
    pub fn signs_with(&self, scheme: Scheme) -> bool {
        self.schemes.contains(&scheme)
    }
}

/// A tenant id as the configuration allows them.
fn is_tenant_id(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EndpointSettings {
        serde_json::from_str(r#"{"events": ["receipt.issued"], "schemes": ["v1", "v1a"]}"#)
            .expect("the minimal settings")
    }

    #[test]
    fn defaults_fill_what_is_left_out_and_unknown_fields_are_refused() {
        let minimal = settings();
        assert_eq!(minimal.rate_per_s, DEFAULT_RATE_PER_S);
        assert_eq!(minimal.batch_max, DEFAULT_BATCH_MAX);
        assert!(!minimal.local);
        assert!(minimal.covers("anyone"));
        assert_eq!(minimal.validate(), Ok(()));
        assert!(
            serde_json::from_str::<EndpointSettings>(
                r#"{"events": ["receipt.issued"], "schemes": ["v1"], "locall": true}"#
            )
            .is_err()
        );
        let text = serde_json::to_string(&minimal).expect("serialises");
        assert_eq!(
            serde_json::from_str::<EndpointSettings>(&text).expect("round trip"),
            minimal
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let check = |edit: fn(&mut EndpointSettings)| {
            let mut s = settings();
            edit(&mut s);
            s.validate().expect_err("refused")
        };
        assert_eq!(check(|s| s.events.clear()), SettingsError::NoEvents);
        assert_eq!(
            check(|s| s.events.push(EventType::ReceiptIssued)),
            SettingsError::DuplicateEvent(EventType::ReceiptIssued)
        );
        assert_eq!(check(|s| s.schemes.clear()), SettingsError::Schemes);
        assert_eq!(
            check(|s| s.schemes.push(Scheme::V1)),
            SettingsError::Schemes
        );
        assert_eq!(
            check(|s| s.tenants = Some(vec![])),
            SettingsError::TenantCount
        );
        assert_eq!(
            check(|s| s.tenants = Some(vec!["Acme".into()])),
            SettingsError::TenantId("Acme".into())
        );
        assert_eq!(check(|s| s.rate_per_s = 0), SettingsError::Rate(0));
        assert_eq!(check(|s| s.batch_max = 1_001), SettingsError::Batch(1_001));
        assert_eq!(
            check(|s| s.description = "x".repeat(201)),
            SettingsError::Description(201)
        );
        let mut only_acme = settings();
        only_acme.tenants = Some(vec!["acme".into()]);
        assert!(only_acme.covers("acme") && !only_acme.covers("beta"));
    }
}
