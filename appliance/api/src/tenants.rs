//! `GET /api/v1/tenants`: the tenants the shards serve, with the terms they were started with.
//!
//! A typed mirror of the configuration's `[[tenants]]` entries (`tf_config::TenantConfig` and
//! `CapConfig`), field for field and in their order, so the reply reads exactly as when the
//! server serialised the configuration types themselves.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::TenantId;

/// The reply of `GET /api/v1/tenants`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantsReply {
    /// Every tenant the shards serve, in slot order.
    pub tenants: Vec<Tenant>,
}

/// One tenant's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    /// The tenant id.
    pub id: TenantId,
    /// Share of a shard's verification work under contention, 1 to 1000.
    pub weight: u64,
    /// Sustained admission rate, requests per second.
    pub rate_per_sec: u64,
    /// Burst above the rate the admission bucket absorbs, requests.
    pub burst: u64,
    /// Verifying key ids (64 hex digits) the tenant may use besides those it registers.
    pub keys: Vec<String>,
    /// Its budget caps; every cap that applies to a request must hold.
    pub caps: Vec<TenantCap>,
    /// Most verifying keys it may register itself.
    pub max_registered_keys: u64,
}

/// One budget cap of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantCap {
    /// The purpose it limits; absent for a cap across every purpose of the class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The dataset class: `P0`, `P1` or `P2`.
    pub class: String,
    /// Budget units per window.
    pub limit: u64,
    /// `hour`, `day`, `week`, `month` (UTC) or `rolling Ns`.
    pub window: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::assert_same_json;

    #[test]
    fn tenants_read_as_the_configuration_types_serialised() {
        let typed = TenantsReply {
            tenants: vec![
                Tenant {
                    id: "demo".into(),
                    weight: 1,
                    rate_per_sec: 1000,
                    burst: 500,
                    keys: vec![],
                    caps: vec![TenantCap {
                        purpose: Some("budget-demo".into()),
                        class: "P0".into(),
                        limit: 5,
                        window: "rolling 60s".into(),
                    }],
                    max_registered_keys: 16,
                },
                Tenant {
                    id: "acme".into(),
                    weight: 3,
                    rate_per_sec: 200,
                    burst: 50,
                    keys: vec!["0f".repeat(32)],
                    caps: vec![TenantCap {
                        purpose: None,
                        class: "P1".into(),
                        limit: 1_000,
                        window: "day".into(),
                    }],
                    max_registered_keys: 4,
                },
            ],
        };
        // api.rs `json!({ "tenants": plane.running_tenants() })`: TenantConfig's derived
        // Serialize (CapConfig skips a missing purpose).
        assert_same_json(
            &typed,
            json!({ "tenants": [
                {
                    "id": "demo",
                    "weight": 1,
                    "rate_per_sec": 1000,
                    "burst": 500,
                    "keys": [],
                    "caps": [{
                        "purpose": "budget-demo",
                        "class": "P0",
                        "limit": 5,
                        "window": "rolling 60s",
                    }],
                    "max_registered_keys": 16,
                },
                {
                    "id": "acme",
                    "weight": 3,
                    "rate_per_sec": 200,
                    "burst": 50,
                    "keys": ["0f".repeat(32)],
                    "caps": [{ "class": "P1", "limit": 1000, "window": "day" }],
                    "max_registered_keys": 4,
                },
            ]}),
        );
    }
}
