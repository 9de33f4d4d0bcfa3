//! `GET /api/v1/budgets`: every budget cap as its tenant's home shard last saw it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::TenantId;

/// The reply of `GET /api/v1/budgets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BudgetsReply {
    /// Every cap of every capped tenant, by tenant.
    pub caps: Vec<CapUsage>,
}

/// One cap: its terms and what is spent in the current window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CapUsage {
    /// The tenant (`?` if its slot has no name, which does not happen in practice).
    pub tenant: TenantId,
    /// The purpose it limits; `null` for a cap across every purpose of the class.
    #[schema(required = true)]
    pub purpose: Option<String>,
    /// The dataset class: `P0`, `P1` or `P2`.
    pub class: String,
    /// `hour`, `day`, `week`, `month` (UTC) or `rolling Ns`.
    pub window: String,
    /// Budget units per window.
    pub limit: u64,
    /// Charged in the current window.
    pub used: u64,
    /// Held by requests being verified.
    pub reserved: u64,
    /// Left to spend.
    pub remaining: u64,
    /// When the window resets (or, rolling, the oldest charge ages out), RFC 3339 UTC; `null`
    /// for a rolling window with nothing charged.
    #[schema(required = true)]
    pub resets_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::assert_same_json;

    #[test]
    fn budgets_read_as_the_server_wrote_them() {
        let typed = BudgetsReply {
            caps: vec![
                CapUsage {
                    tenant: "acme".into(),
                    purpose: None,
                    class: "P1".into(),
                    window: "day".into(),
                    limit: 1_000,
                    used: 250,
                    reserved: 2,
                    remaining: 748,
                    resets_at: Some("2026-01-03T00:00:00Z".into()),
                },
                CapUsage {
                    tenant: "demo".into(),
                    purpose: Some("budget-demo".into()),
                    class: "P0".into(),
                    window: "rolling 60s".into(),
                    limit: 5,
                    used: 0,
                    reserved: 0,
                    remaining: 5,
                    resets_at: None,
                },
            ],
        };
        // metrics/summary.rs `budgets`.
        let cap = |tenant: &str,
                   purpose: Option<&str>,
                   class: &str,
                   window: &str,
                   [limit, used, reserved, remaining]: [u64; 4],
                   resets_at: Option<&str>| {
            json!({
                "tenant": tenant,
                "purpose": purpose,
                "class": class,
                "window": window,
                "limit": limit,
                "used": used,
                "reserved": reserved,
                "remaining": remaining,
                "resets_at": resets_at,
            })
        };
        let caps = vec![
            cap(
                "acme",
                None,
                "P1",
                "day",
                [1_000, 250, 2, 748],
                Some("2026-01-03T00:00:00Z"),
            ),
            cap(
                "demo",
                Some("budget-demo"),
                "P0",
                "rolling 60s",
                [5, 0, 0, 5],
                None,
            ),
        ];
        assert_same_json(&typed, json!({ "caps": caps }));
    }
}
