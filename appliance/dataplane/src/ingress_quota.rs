//! Admission on the shard a request arrived on, for the queries answered there instead of on
//! the tenant's home shard (log proofs). Each tenant is held to its own admission quota
//! (`rate_per_sec`, `burst`: the numbers its home shard applies to submissions, as the
//! configuration, a reload or the bundle in force set them) in a bucket of its own on this
//! shard. Only the home shard holds the tenant's submission bucket, and a hop there would cost
//! more than the query; a tenant connected to several shards gets this allowance on each, which
//! stays bounded by the shard count.

use tf_fairness::TokenBucket;
use tf_seam::{Board, TenantTable};
use tf_shard::{Micros, TenantSlot};

/// The buckets of the tenants that asked on this shard, and the quota changes seen so far.
#[derive(Debug, Default)]
pub struct IngressQuota {
    /// By slot; made on a tenant's first query here.
    buckets: Vec<Option<TokenBucket>>,
    /// By slot: the rate and burst set since start (by a promotion or a reload), which win
    /// over the tenant table's (the table keeps the terms a tenant was first listed with).
    changed: Vec<Option<(u64, u64)>>,
    policy_generation: u64,
    quota_generation: u64,
}

impl IngressQuota {
    /// Takes one token from `tenant`'s bucket, or says how many milliseconds until there is
    /// one. `tenants` is the table the connection was identified against.
    pub fn take(
        &mut self,
        tenant: TenantSlot,
        tenants: &TenantTable,
        board: &Board,
        now: Micros,
    ) -> Result<(), u32> {
        self.follow(board, now);
        let slot = tenant.0 as usize;
        let (rate, burst) = match self.changed.get(slot).copied().flatten() {
            Some(quota) => quota,
            // A slot outside the table cannot be identified; no token, rather than a panic.
            None => match tenants.specs().get(slot) {
                Some(spec) => (spec.rate_per_sec, spec.burst),
                None => return Err(u32::MAX),
            },
        };
        if self.buckets.len() <= slot {
            self.buckets.resize_with(slot + 1, || None);
        }
        let bucket = self.buckets[slot].get_or_insert_with(|| TokenBucket::new(rate, burst, now));
        bucket
            .try_take(1, now)
            .map_err(|retry| u32::try_from(retry.millis()).unwrap_or(u32::MAX))
    }

    /// Applies a promotion's terms and reloaded quotas published since the last look: one
    /// atomic load each when nothing changed.
    fn follow(&mut self, board: &Board, now: Micros) {
        let generation = board.policy_generation();
        if generation != self.policy_generation {
            self.policy_generation = generation;
            // `terms` is `None` for the bundle in force at start: the table already holds it.
            if let Some(terms) = &board.policy().terms {
                for (slot, tenant) in terms.tenants.iter().enumerate() {
                    if let Some(tenant) = tenant {
                        let quota = (tenant.terms.rate_per_sec, tenant.terms.burst);
                        self.set(slot, quota, now);
                    }
                }
            }
        }
        let generation = board.quota_generation();
        if generation != self.quota_generation {
            self.quota_generation = generation;
            for quota in board.quotas().iter() {
                self.set(
                    quota.slot.0 as usize,
                    (quota.rate_per_sec, quota.burst),
                    now,
                );
            }
        }
    }

    fn set(&mut self, slot: usize, (rate, burst): (u64, u64), now: Micros) {
        if self.changed.len() <= slot {
            self.changed.resize(slot + 1, None);
        }
        self.changed[slot] = Some((rate, burst));
        if let Some(Some(bucket)) = self.buckets.get_mut(slot) {
            bucket.reconfigure(rate, burst, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use tf_config::TenantConfig;
    use tf_seam::Quota;

    use super::*;

    fn table() -> TenantTable {
        let tenant = |id: &str, rate: usize, burst: usize| TenantConfig {
            id: id.into(),
            rate_per_sec: rate,
            burst,
            ..TenantConfig::demo()
        };
        TenantTable::new(&[tenant("acme", 10, 2), tenant("globex", 1000, 500)], 1)
    }

    #[test]
    fn a_tenant_gets_its_burst_then_waits_for_its_rate_alone() {
        let (table, board) = (table(), Board::new(1));
        let mut quota = IngressQuota::default();
        let acme = TenantSlot(0);
        assert_eq!(quota.take(acme, &table, &board, Micros(0)), Ok(()));
        assert_eq!(quota.take(acme, &table, &board, Micros(0)), Ok(()));
        // 10 per second: the next token in 100 ms.
        assert_eq!(quota.take(acme, &table, &board, Micros(0)), Err(100));
        assert_eq!(
            quota.take(TenantSlot(1), &table, &board, Micros(0)),
            Ok(()),
            "another tenant's bucket is its own"
        );
        assert_eq!(quota.take(acme, &table, &board, Micros(100_000)), Ok(()));
        assert_eq!(
            quota.take(TenantSlot(7), &table, &board, Micros(0)),
            Err(u32::MAX),
            "a slot outside the table gets nothing"
        );
    }

    #[test]
    fn reloaded_quotas_apply_to_buckets_made_before_and_after() {
        let (table, board) = (table(), Board::new(1));
        let mut quota = IngressQuota::default();
        let acme = TenantSlot(0);
        assert_eq!(quota.take(acme, &table, &board, Micros(0)), Ok(()));
        assert_eq!(quota.take(acme, &table, &board, Micros(0)), Ok(()));
        board.publish_quotas(vec![
            Quota {
                slot: acme,
                rate_per_sec: 1,
                burst: 1,
            },
            Quota {
                slot: TenantSlot(1),
                rate_per_sec: 1,
                burst: 1,
            },
        ]);
        // Its bucket is empty and now refills at one token a second.
        assert_eq!(quota.take(acme, &table, &board, Micros(0)), Err(1000));
        let globex = TenantSlot(1);
        assert_eq!(quota.take(globex, &table, &board, Micros(0)), Ok(()));
        assert_eq!(quota.take(globex, &table, &board, Micros(0)), Err(1000));
    }
}
