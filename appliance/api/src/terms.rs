//! Partners' terms requests: `GET /api/v1/terms-requests` (every request, newest first, and
//! each partner's terms in force), `POST /api/v1/terms-requests/{id}/grant` (its terms come
//! into force as a bundle revision) and `POST /api/v1/terms-requests/{id}/decline`. A partner
//! onboarded with an invite asks for other terms over its own connection; within its invite's
//! template they apply at once, above it the request waits here for an operator.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{Revision, TenantId};

/// Admission, key quota and caps: what a partner asks for, or has in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Terms {
    /// Admission rate, requests per second.
    pub rate_per_sec: u32,
    /// Admission burst.
    pub burst: u32,
    /// Groth16 verifying keys it may register.
    pub max_registered_keys: u32,
    /// Budget caps (all of them: a cap left out of a request is removed when it is granted).
    pub caps: Vec<TermsCap>,
}

/// One budget cap of a partner's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TermsCap {
    /// `P0`, `P1` or `P2`.
    pub class: String,
    /// A budget window as bundles write it: `day`, `month`, `rolling 3600s`, ...
    pub window: String,
    /// Units of work per window.
    pub limit: u64,
}

/// Where a terms request stands. Serialised as lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TermsStatus {
    /// Above the template, waiting for an operator.
    Pending,
    /// In force from `revision` (`decided_by` is `template` when it was within the template).
    Granted,
    /// Declined by an operator (`decided_by`), with a reason.
    Declined,
}

/// One terms request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TermsRequestEntry {
    /// Its number (the partner is told it).
    pub id: u64,
    /// The partner's tenant.
    pub tenant: TenantId,
    /// Where it stands.
    pub status: TermsStatus,
    /// Whether the terms asked are within the tenant's invite template (then granted at once).
    pub within_template: bool,
    /// The terms asked for.
    pub asked: Terms,
    /// The tenant's terms in the bundle in force now; `null` when it is no partner there any
    /// more (a bundle promoted without its terms file).
    #[schema(required = true)]
    pub in_force: Option<Terms>,
    /// When it was asked, RFC 3339 UTC.
    pub created: String,
    /// When it was granted or declined, RFC 3339 UTC; `null` while pending.
    #[schema(required = true)]
    pub decided: Option<String>,
    /// Who granted or declined it (`template` when granted within it); `null` while pending.
    #[schema(required = true)]
    pub decided_by: Option<String>,
    /// Why, as the decider said; `null` while pending.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The bundle revision that put it in force; `null` unless granted.
    #[schema(required = true)]
    pub revision: Option<Revision>,
}

/// A partner in the bundle in force: its terms file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartnerEntry {
    /// Its tenant.
    pub tenant: TenantId,
    /// The invite it was onboarded with.
    pub invite: u64,
    /// Purposes its requests may carry.
    pub purposes: Vec<String>,
    /// Dataset classes its requests may carry.
    pub classes: Vec<String>,
    /// Its terms in force.
    pub terms: Terms,
    /// Its terms file, `partners/<tenant>.toml`, exactly as the bundle in force has it: keep
    /// it in bundles you build, or the partner is dropped (`appliance ctl terms files` writes
    /// them all).
    pub file: String,
    /// Its onboarding steps as its checklist shows them (onboarded, keys, terms, sandbox,
    /// first-verdict): the sandbox and first-verdict steps by its first valid receipts among
    /// its earliest 1000 kept. Empty where the admin server has no ledger to read.
    pub steps: Vec<OnboardingStep>,
}

/// One onboarding step of a partner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OnboardingStep {
    /// `onboarded`, `keys`, `terms`, `sandbox` or `first-verdict`.
    pub name: String,
    /// Whether it is done.
    pub done: bool,
    /// What shows it done, or what the partner has to do.
    pub detail: String,
}

/// The reply of `GET /api/v1/terms-requests`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TermsRequestsReply {
    /// Every terms request, newest first.
    pub requests: Vec<TermsRequestEntry>,
    /// Every partner in the bundle in force (those onboarded with an invite), by tenant, with
    /// its onboarding steps.
    pub partners: Vec<PartnerEntry>,
}

/// The path of `POST /api/v1/terms-requests/{id}/grant` and `.../decline`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TermsRequestPath {
    /// The request's number.
    pub id: u64,
}

/// The body of `POST /api/v1/terms-requests/{id}/grant` and `.../decline`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsDecision {
    /// Why, 1 to 2000 characters on one line (kept with the request and on the timeline; the
    /// decider is the caller).
    pub reason: String,
}

impl TermsStatus {
    /// The status as the reply spells it.
    pub fn name(self) -> &'static str {
        match self {
            TermsStatus::Pending => "pending",
            TermsStatus::Granted => "granted",
            TermsStatus::Declined => "declined",
        }
    }
}

impl std::fmt::Display for TermsStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Terms {
    /// `rate 100/s, burst 50, 8 keys, caps P1 day 100000; P2 month 5`, as people read terms.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rate {}/s, burst {}, {} keys, caps ",
            self.rate_per_sec, self.burst, self.max_registered_keys
        )?;
        if self.caps.is_empty() {
            return f.write_str("none");
        }
        for (n, cap) in self.caps.iter().enumerate() {
            let sep = if n == 0 { "" } else { "; " };
            write!(f, "{sep}{} {} {}", cap.class, cap.window, cap.limit)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::assert_same_json;

    fn terms() -> Terms {
        Terms {
            rate_per_sec: 100,
            burst: 50,
            max_registered_keys: 8,
            caps: vec![TermsCap {
                class: "P1".into(),
                window: "day".into(),
                limit: 100_000,
            }],
        }
    }

    #[test]
    fn a_pending_request_says_null_for_what_is_not_decided() {
        let entry = TermsRequestEntry {
            id: 3,
            tenant: TenantId("pilot-initech".into()),
            status: TermsStatus::Pending,
            within_template: false,
            asked: terms(),
            in_force: None,
            created: "2026-12-01T00:00:00Z".into(),
            decided: None,
            decided_by: None,
            reason: None,
            revision: None,
        };
        assert_same_json(
            &entry,
            json!({
                "id": 3,
                "tenant": "pilot-initech",
                "status": "pending",
                "within_template": false,
                "asked": {
                    "rate_per_sec": 100,
                    "burst": 50,
                    "max_registered_keys": 8,
                    "caps": [{"class": "P1", "window": "day", "limit": 100000}],
                },
                "in_force": null,
                "created": "2026-12-01T00:00:00Z",
                "decided": null,
                "decided_by": null,
                "reason": null,
                "revision": null,
            }),
        );
    }

    #[test]
    fn terms_read_in_a_line_and_a_decision_takes_only_a_reason() {
        assert_eq!(
            terms().to_string(),
            "rate 100/s, burst 50, 8 keys, caps P1 day 100000"
        );
        let none = Terms {
            caps: Vec::new(),
            ..terms()
        };
        assert_eq!(none.to_string(), "rate 100/s, burst 50, 8 keys, caps none");
        assert!(serde_json::from_str::<TermsDecision>(r#"{"reason": "ok", "to": 1}"#).is_err());
        assert_eq!(TermsStatus::Declined.to_string(), "declined");
    }
}
