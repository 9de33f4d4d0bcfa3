//! The tenants this appliance serves and where each one's home shard is: the same table (same
//! slots) on every shard, grown only by appending when a promotion adds tenants. A tenant a
//! later bundle drops keeps its slot, marked as no longer listed: it is refused everything.

use sha2::{Digest, Sha256};
use tf_config::TenantConfig;
use tf_shard::{TenantSlot, TenantSpec};

/// Every configured tenant and its home shard. The same table (same slots) on every shard.
#[derive(Debug)]
pub struct TenantTable {
    specs: Vec<TenantSpec>,
    homes: Vec<usize>,
    /// By slot: whether the policy in force lists the tenant.
    listed: Vec<bool>,
    shards: usize,
}

impl TenantTable {
    /// The table for these tenants over `shards` shards.
    pub fn new(tenants: &[TenantConfig], shards: usize) -> Self {
        let specs: Vec<TenantSpec> = tenants.iter().map(spec).collect();
        let homes = specs.iter().map(|s| home_shard(&s.id, shards)).collect();
        TenantTable {
            listed: vec![true; specs.len()],
            specs,
            homes,
            shards,
        }
    }

    /// The table a bundle listing `tenants` puts in force: the tenants this one lacks
    /// appended (slots already handed out never change, so requests in flight keep their
    /// meaning), and exactly `tenants` listed.
    pub fn relisted(&self, tenants: &[TenantConfig]) -> Self {
        let mut specs = self.specs.clone();
        let mut homes = self.homes.clone();
        for tenant in tenants {
            if self.slot(&tenant.id).is_none() {
                homes.push(home_shard(&tenant.id, self.shards));
                specs.push(spec(tenant));
            }
        }
        let listed = specs
            .iter()
            .map(|s| tenants.iter().any(|t| t.id == s.id))
            .collect();
        TenantTable {
            specs,
            homes,
            listed,
            shards: self.shards,
        }
    }

    /// Whether the policy in force lists the tenant (one a bundle dropped is refused
    /// everything, and its connections are closed).
    pub fn is_listed(&self, slot: TenantSlot) -> bool {
        self.listed[slot.0 as usize]
    }

    /// Whether the table has no tenants.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// How many tenants (slots `0..len`).
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Every tenant, in slot order.
    pub fn specs(&self) -> &[TenantSpec] {
        &self.specs
    }

    /// The slot of the tenant with this id.
    pub fn slot(&self, id: &str) -> Option<TenantSlot> {
        self.specs
            .iter()
            .position(|s| s.id == id)
            .map(|i| TenantSlot(i as u32))
    }

    /// A tenant's home shard.
    pub fn home(&self, slot: TenantSlot) -> usize {
        self.homes[slot.0 as usize]
    }

    /// A tenant's id.
    pub fn id(&self, slot: TenantSlot) -> &str {
        &self.specs[slot.0 as usize].id
    }
}

fn spec(tenant: &TenantConfig) -> TenantSpec {
    TenantSpec {
        id: tenant.id.clone(),
        weight: tenant.weight as u32,
        rate_per_sec: tenant.rate_per_sec as u64,
        burst: tenant.burst as u64,
        keys: tenant.key_ids(),
        caps: tenant.caps.iter().filter_map(|c| c.spec()).collect(),
        key_quota: tenant.max_registered_keys,
    }
}

/// The home shard of a tenant: a stable hash of its id, the same in every build and on every
/// host, so a tenant's state always lives on one core.
pub fn home_shard(tenant: &str, shards: usize) -> usize {
    let digest = Sha256::digest(tenant.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(first) % shards.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homes_are_stable_and_spread() {
        assert_eq!(home_shard("demo", 1), 0);
        assert_eq!(home_shard("acme", 4), home_shard("acme", 4));
        let homes: std::collections::HashSet<usize> = (0..64)
            .map(|i| home_shard(&format!("tenant-{i}"), 4))
            .collect();
        assert_eq!(homes.len(), 4, "64 tenants cover all 4 shards");
    }
}
