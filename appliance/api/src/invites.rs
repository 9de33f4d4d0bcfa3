//! Partner invites: `GET /api/v1/invites` (every invite, newest first),
//! `POST /api/v1/invites` (make one; its text is in the answer and nowhere else) and
//! `POST /api/v1/invites/{id}/revoke`. A partner redeems an invite with `partner onboard`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What a partner onboarded by an invite may take without an operator's approval; more waits
/// for one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteTemplate {
    /// The purposes its requests may carry: 1 to 32, each 1 to 64 characters of a-z, 0-9,
    /// `-`, `_` and `.`.
    pub purposes: Vec<String>,
    /// The dataset classes its requests may carry: `P0`, `P1`, `P2`, at least one.
    pub classes: Vec<String>,
    /// The highest admission rate it may ask for, requests per second (1 to 100000).
    pub max_rate_per_sec: u32,
    /// The highest burst it may ask for (1 to 100000).
    pub max_burst: u32,
    /// The most Groth16 verifying keys it may register (0 to 1000).
    pub max_registered_keys: u32,
    /// The budget caps it may ask for: per class and window, the highest limit (at most 16).
    #[serde(default)]
    pub caps: Vec<CapCeiling>,
}

/// The highest cap a partner may ask for in one class and window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapCeiling {
    /// `P0`, `P1` or `P2`.
    pub class: String,
    /// A budget window as bundles write it: `day`, `month`, `rolling 3600s`, ...
    pub window: String,
    /// The highest limit, units of work.
    pub max_limit: u64,
}

impl std::str::FromStr for CapCeiling {
    type Err = String;

    /// `CLASS:WINDOW:LIMIT`, as the CLI and the console take it (`P1:day:100000`,
    /// `P2:rolling 3600s:500`); the window and class are checked where the invite is made.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not CLASS:WINDOW:LIMIT, such as P1:day:100000");
        let (class, rest) = text.split_once(':').ok_or_else(bad)?;
        let (window, limit) = rest.rsplit_once(':').ok_or_else(bad)?;
        Ok(CapCeiling {
            class: class.trim().to_owned(),
            window: window.trim().to_owned(),
            max_limit: limit.trim().parse().map_err(|_| bad())?,
        })
    }
}

/// The body of `POST /api/v1/invites`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    /// The tenant the partner becomes: an id (1 to 64 characters of a-z, 0-9, `-`, `_`), or
    /// a prefix ending in `*` (the partner picks the rest).
    pub tenant: String,
    /// What it may take without approval.
    pub template: InviteTemplate,
    /// How long it can be used: a whole number and m, h or d, at most 30d (default 7d).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
    /// Why (kept with the invite and on the timeline; the maker is the caller).
    pub reason: String,
}

/// The answer of `POST /api/v1/invites`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InviteCreated {
    /// The invite to hand to the partner, `tfi1.…`: shown here only; the appliance keeps a
    /// digest of its secret.
    pub invite: String,
    /// The invite as listed.
    pub entry: InviteEntry,
}

/// Where an invite stands. Serialised as lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum InviteStatus {
    /// It can be used until it expires.
    Open,
    /// A partner used it (`closed_by` names the tenant).
    Used,
    /// An operator revoked it (`closed_by` names who).
    Revoked,
    /// Not used before it expired.
    Expired,
}

/// One invite (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InviteEntry {
    /// Its number, the second part of its text.
    pub id: u64,
    /// The tenant or prefix.
    pub tenant: String,
    /// What it allows without approval.
    pub template: InviteTemplate,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub reason: String,
    /// When, RFC 3339 UTC.
    pub created: String,
    /// When it stops being usable, RFC 3339 UTC.
    pub expires: String,
    /// Where it stands.
    pub status: InviteStatus,
    /// When it was used or revoked, RFC 3339 UTC; `null` otherwise.
    #[schema(required = true)]
    pub closed: Option<String>,
    /// The tenant it made, or who revoked it; `null` otherwise.
    #[schema(required = true)]
    pub closed_by: Option<String>,
}

/// The reply of `GET /api/v1/invites`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InvitesReply {
    /// Every invite, newest first.
    pub invites: Vec<InviteEntry>,
}

/// The path of `POST /api/v1/invites/{id}/revoke`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvitePath {
    /// The invite's number.
    pub id: u64,
}

/// The body of `POST /api/v1/invites/{id}/revoke`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeInvite {
    /// Why (kept with the invite and on the timeline; the revoker is the caller).
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::CapCeiling;

    #[test]
    fn a_cap_ceiling_reads_class_window_and_limit() {
        let cap: CapCeiling = "P2:rolling 3600s:500".parse().expect("a ceiling");
        assert_eq!(
            (cap.class.as_str(), cap.window.as_str(), cap.max_limit),
            ("P2", "rolling 3600s", 500)
        );
        for text in ["P1", "P1:day", "P1:day:lots"] {
            let error = text.parse::<CapCeiling>().expect_err(text);
            assert!(error.contains("CLASS:WINDOW:LIMIT"), "{error}");
        }
    }
}
