//! Fleet mode on the board: what each home shard has spent from its tenants' calendar caps,
//! read by the fleet worker's lease keeper, and the grants the keeper publishes back. Shards
//! publish once per pulse and apply grants when their generation moves; the worker never
//! waits on a shard, and a shard never waits on the fleet's database.

use std::sync::Arc;

use tf_budgets::{CapSpec, FleetGrant};

use crate::published::Published;

/// What this appliance has spent from one of a tenant's calendar caps, as its home shard
/// counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapDemand {
    /// The tenant.
    pub tenant: String,
    /// The cap.
    pub cap: CapSpec,
    /// The start of the cap's current window, Unix microseconds.
    pub window_start_us: u64,
    /// Charged in the window here, requests being verified included.
    pub spent_here: u64,
    /// Refused in the window here for lack of a grant while the cap had room: demand the
    /// next lease should cover.
    pub refused_here: u64,
}

/// This appliance's share of one of a tenant's caps, from the fleet's leases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapGrant {
    /// The tenant.
    pub tenant: String,
    /// The cap.
    pub cap: CapSpec,
    /// What may be spent in which window.
    pub grant: FleetGrant,
}

/// What every shard spent, and the grants they spent under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demands {
    /// Every shard's demands.
    pub demands: Vec<CapDemand>,
    /// The oldest grant generation a shard had applied when it counted them: whatever they
    /// spent beyond a grant published up to it, they could not have.
    pub applied: u64,
}

/// One shard's demands, with the grant generation it had applied when it counted them.
type ShardDemands = (u64, Vec<CapDemand>);

/// The fleet's part of the board.
#[derive(Debug)]
pub struct FleetBoard {
    /// Each shard's demands, with the grant generation it had applied (generation 0: not
    /// published yet).
    demands: Vec<Published<Arc<ShardDemands>>>,
    grants: Published<Arc<Vec<CapGrant>>>,
}

impl FleetBoard {
    /// A fleet board for `shards` shards, with nothing published.
    pub fn new(shards: usize) -> Self {
        FleetBoard {
            demands: (0..shards)
                .map(|_| Published::new(Arc::new((0, Vec::new()))))
                .collect(),
            grants: Published::new(Arc::new(Vec::new())),
        }
    }

    /// Shard `shard`'s demands, counted under the grants of generation `applied`, replacing
    /// its last.
    pub fn publish_demands(&self, shard: usize, applied: u64, demands: Vec<CapDemand>) {
        self.demands[shard].publish(Arc::new((applied, demands)));
    }

    /// Every shard's demands; `None` until each has published once (before that, a shard
    /// still restoring its budgets from the ledger would look as if it spent nothing).
    pub fn demands(&self) -> Option<Demands> {
        let mut all = Demands {
            demands: Vec::new(),
            applied: u64::MAX,
        };
        for published in &self.demands {
            if published.generation() == 0 {
                return None;
            }
            let shard = published.get();
            all.applied = all.applied.min(shard.0);
            all.demands.extend(shard.1.iter().cloned());
        }
        Some(all)
    }

    /// Puts new grants in force; each shard applies them on its next pulse.
    pub fn publish_grants(&self, grants: Vec<CapGrant>) {
        self.grants.publish(Arc::new(grants));
    }

    /// How many times grants were published; a shard compares it with what it applied.
    pub fn grant_generation(&self) -> u64 {
        self.grants.generation()
    }

    /// The grants published last.
    pub fn grants(&self) -> Arc<Vec<CapGrant>> {
        self.grants.get()
    }
}

#[cfg(test)]
mod tests {
    use tf_budgets::Window;
    use tf_wire::DatasetClass;

    use super::*;

    fn demand(tenant: &str, spent_here: u64) -> CapDemand {
        CapDemand {
            tenant: tenant.to_owned(),
            cap: CapSpec {
                purpose: None,
                class: DatasetClass::P1,
                limit: 100,
                window: Window::Day,
            },
            window_start_us: 0,
            spent_here,
            refused_here: 0,
        }
    }

    #[test]
    fn demands_are_read_once_every_shard_has_published() {
        let board = FleetBoard::new(2);
        board.publish_demands(0, 4, vec![demand("initech", 3)]);
        assert_eq!(board.demands(), None, "shard 1 has not published");
        board.publish_demands(1, 3, Vec::new());
        let read = board.demands().expect("both published");
        assert_eq!(
            (read.demands, read.applied),
            (vec![demand("initech", 3)], 3)
        );
        board.publish_demands(0, 5, vec![demand("initech", 5)]);
        board.publish_demands(1, 5, Vec::new());
        let read = board.demands().expect("both published");
        assert_eq!(
            (read.demands, read.applied),
            (vec![demand("initech", 5)], 5)
        );
    }
}
