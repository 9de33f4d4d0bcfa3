//! The lease keeper: what a node's fleet worker does on each tick for every capped pool its
//! tenants spend from. When it first meets a pool (at start, after a restart, for a cap a
//! promotion added) it has the fleet account for what this node's ledger shows spent from it
//! ([`LeaseStore::adopt`]). It takes a lease when it holds none, reports what the node spent,
//! renews before the lease runs low or expires (asking for more when the tenant spends faster),
//! returns the lease when the cap's window ends, and settles leases that were taken back.
//! Sans-IO: the store ([`LeaseStore`]) and the clock are passed in, so the policy is tested in
//! virtual time.
//!
//! Its answer is each pool's grant: how much this node may have spent in the window in all.
//! Admission refuses what would pass it. A lease is used only until shortly before its expiry.
//! While the database cannot be reached, the grant stays what the leases held give and shrinks
//! to what was spent as they expire: the node fails closed and never invents budget.

use std::collections::HashMap;

use crate::{FleetError, Lease, LeaseStore, PoolKey};

/// How the keeper sizes and times leases.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeeperSettings {
    /// How long a lease lasts unless renewed, microseconds (`[fleet] lease_ms`).
    pub lease_us: u64,
    /// How often the keeper ticks, microseconds.
    pub tick_us: u64,
    /// The least a lease asks for while the pool is spent from, so a tenant's first requests
    /// are not refused.
    pub min_units: u64,
    /// What a lease holds once nothing was spent from the pool here for a lease period:
    /// enough for the next request, so idle nodes keep little of a small cap from the others.
    pub idle_units: u64,
    /// A lease asks for at most this fraction of the cap, so one node cannot hold it all.
    pub max_share: f64,
}

impl KeeperSettings {
    /// Ticks of spending a lease should hold at the recent rate: enough to reach the next
    /// renewal with room for a late one.
    const HORIZON_TICKS: f64 = 4.0;

    /// A lease stops being used this long before its expiry, for the clocks' skew and the
    /// time a tick takes.
    fn margin_us(&self) -> u64 {
        (self.lease_us / 10).max(self.tick_us)
    }
}

/// What a node spends from one pool, as its home shard counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demand {
    /// The pool (its window start is the cap's current window).
    pub pool: PoolKey,
    /// The cap in force.
    pub cap: u64,
    /// What this node charged to the cap in this window, reserved requests included.
    pub spent_here: u64,
    /// What this node refused in this window for lack of a grant while the cap had room:
    /// counted in the rate a lease is sized by, so a tenant that starts spending (or spends
    /// faster) is not refused for long.
    pub refused_here: u64,
}

/// What this node may spend from one pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The pool.
    pub pool: PoolKey,
    /// What this node may have spent in the window in all; admission refuses past it.
    pub granted: u64,
    /// Whether a lease is held (false: the database refused more, or cannot be reached).
    pub leased: bool,
    /// What the fleet counts spent or in doubt from the pool on every node, read when little
    /// is left here (0 otherwise): whether the cap itself has room.
    pub fleet_spent: u64,
}

/// What a keeper did since it started, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeeperCounts {
    /// Leases taken.
    pub taken: u64,
    /// Leases renewed (extended, with or without more units).
    pub renewed: u64,
    /// Leases found taken back while this node held them.
    pub lost: u64,
}

/// One pool's leases on this node.
#[derive(Debug, Default)]
struct PoolLeases {
    window_start_us: u64,
    /// Whether the fleet accounts for what this node spent from the pool before its keeper
    /// met it.
    adopted: bool,
    /// The lease in use.
    open: Option<Lease>,
    /// Spent from leases closed in this window (what the fleet counts: a lease taken back
    /// counts in full), and what the fleet adopted.
    closed_spent: u64,
    /// What was asked of the pool here (spent and refused) at the last tick, and when.
    last_spent: u64,
    last_at_us: u64,
    /// Recent spending, units per second (an exponentially weighted average).
    rate: f64,
    /// Until when the pool counts as spent from here (a lease period after the last spending,
    /// or after the keeper met it).
    active_until_us: u64,
    /// An idle lease being returned: spending from it stopped with the grants of this
    /// generation; it goes back once every shard applied them.
    frozen_at: Option<u64>,
    /// Leases taken back while this node held them, with what it spent from each.
    to_settle: Vec<(u64, u64)>,
    /// The fleet's spent and in doubt, as last read.
    fleet_spent: u64,
}

/// A node's leases.
#[derive(Debug)]
pub struct Keeper {
    settings: KeeperSettings,
    pools: HashMap<(String, String, String, String), PoolLeases>,
    /// The first store error of the last tick, if any.
    trouble: Option<String>,
    counts: KeeperCounts,
    /// The grant generations of the next tick ([`Keeper::generations`]).
    generations: Generations,
}

/// Which grants are out: those a tick computes go out as `publishing`, and every shard had
/// applied those up to `applied` when it counted its demands. Until told otherwise, the
/// keeper takes every grant as applied at once (as in tests in virtual time).
#[derive(Clone, Copy, Debug)]
struct Generations {
    publishing: u64,
    applied: u64,
}

impl Default for Generations {
    fn default() -> Self {
        Generations {
            publishing: 0,
            applied: u64::MAX,
        }
    }
}

impl Keeper {
    /// A keeper holding nothing yet.
    pub fn new(settings: KeeperSettings) -> Self {
        Keeper {
            settings,
            pools: HashMap::new(),
            trouble: None,
            counts: KeeperCounts::default(),
            generations: Generations::default(),
        }
    }

    /// The next tick's grants go out as generation `publishing`; the demands it is handed
    /// were counted by shards that had applied the grants up to generation `applied`. A lease
    /// is returned with what was spent from it only once every shard applies a grant that
    /// stops spending from it, so nothing admitted under an older grant is missed.
    pub fn generations(&mut self, publishing: u64, applied: u64) {
        self.generations = Generations {
            publishing,
            applied,
        };
    }

    /// What it did since it started.
    pub fn counts(&self) -> KeeperCounts {
        self.counts
    }

    /// The first error of the last tick or release (`None`: every store call went well), for
    /// the worker to log when it changes rather than on every tick.
    pub fn trouble(&self) -> Option<&str> {
        self.trouble.as_deref()
    }

    /// At shutdown, once admission has stopped and `demands` are final: returns every open
    /// lease with what was spent from it, and settles leases taken back, so the next start
    /// holds nothing over and the fleet gets the unspent units back at once.
    pub fn release(&mut self, store: &mut dyn LeaseStore, demands: &[Demand], now_us: u64) {
        let mut trouble = None;
        for demand in demands {
            let Some(pool) = self.pools.get_mut(&key(&demand.pool)) else {
                continue;
            };
            if let Some(lease) = pool.open.take() {
                let spent = demand
                    .spent_here
                    .saturating_sub(pool.closed_spent)
                    .clamp(lease.spent, lease.units);
                match store.close(lease.token, spent, now_us) {
                    Ok(_) => pool.closed_spent += spent,
                    // Taken back: settled below like any other.
                    Err(FleetError::LeaseLost { .. }) => {
                        pool.closed_spent += lease.units;
                        pool.to_settle.push((lease.token, lease.units));
                    }
                    Err(error) => {
                        trouble.get_or_insert(error.to_string());
                    }
                }
            }
            pool.settle_lost(store, now_us, &mut trouble);
        }
        self.trouble = trouble;
    }

    /// One tick at `now_us` for every pool in `demands`: returns each one's grant. A store
    /// error for one pool leaves the others' ticks as they are.
    pub fn tick(
        &mut self,
        store: &mut dyn LeaseStore,
        demands: &[Demand],
        now_us: u64,
    ) -> Vec<Grant> {
        let mut trouble = None;
        let grants = demands
            .iter()
            .map(|demand| {
                let pool = self.pools.entry(key(&demand.pool)).or_default();
                let granted = pool.tick(
                    &self.settings,
                    store,
                    demand,
                    Turn {
                        now_us,
                        generations: self.generations,
                    },
                    &mut trouble,
                    &mut self.counts,
                );
                Grant {
                    pool: demand.pool.clone(),
                    granted,
                    leased: pool.open.is_some(),
                    fleet_spent: pool.fleet_spent,
                }
            })
            .collect();
        self.trouble = trouble;
        grants
    }
}

/// One tick's clock and grant generations.
#[derive(Clone, Copy, Debug)]
struct Turn {
    now_us: u64,
    generations: Generations,
}

/// A cap's pools across windows: its tenant, purpose, class and window kind.
fn key(pool: &PoolKey) -> (String, String, String, String) {
    (
        pool.tenant.clone(),
        pool.purpose.clone(),
        pool.class.clone(),
        pool.window.clone(),
    )
}

/// Notes the first error of a tick.
fn note(trouble: &mut Option<String>, error: &FleetError) {
    trouble.get_or_insert_with(|| error.to_string());
}

impl PoolLeases {
    fn tick(
        &mut self,
        settings: &KeeperSettings,
        store: &mut dyn LeaseStore,
        demand: &Demand,
        turn: Turn,
        trouble: &mut Option<String>,
        counts: &mut KeeperCounts,
    ) -> u64 {
        let now_us = turn.now_us;
        if demand.pool.window_start_us != self.window_start_us {
            self.new_window(store, demand, now_us, trouble);
        }
        self.measure(settings, demand.spent_here + demand.refused_here, now_us);
        if !self.adopted {
            match store.adopt(&demand.pool, demand.cap, demand.spent_here, now_us) {
                Ok(counted) => {
                    self.closed_spent = counted;
                    self.adopted = true;
                    self.active_until_us = now_us + settings.lease_us;
                }
                Err(error) => {
                    note(trouble, &error);
                    return demand.spent_here.max(self.closed_spent);
                }
            }
        }
        self.settle_lost(store, now_us, trouble);
        let want = self.want(settings, demand.cap, now_us);
        let on_open = demand.spent_here.saturating_sub(self.closed_spent);
        if self.shrink_if_idle(store, want, on_open, turn, trouble) {
            // Frozen: no more is spent from it until it is back.
            return demand.spent_here.max(self.closed_spent);
        }
        let on_open = demand.spent_here.saturating_sub(self.closed_spent);
        let result = match self.open.take() {
            None => store
                .take(&demand.pool, demand.cap, want, settings.lease_us, now_us)
                .map(|lease| {
                    counts.taken += u64::from(lease.is_some());
                    self.open = lease;
                }),
            Some(mut lease) => {
                // What this node spent from it: never less than reported, never more than it
                // holds (admission kept it within the grant).
                let spent = on_open.clamp(lease.spent, lease.units);
                let low = lease.units - spent < want / 2;
                let expiring = lease.expires_us.saturating_sub(now_us) < settings.lease_us / 2;
                let answer = if low || expiring {
                    let more = want.saturating_sub(lease.units - spent);
                    store
                        .report(lease.token, spent)
                        .and_then(|()| {
                            store.renew(lease.token, more, demand.cap, settings.lease_us, now_us)
                        })
                        .map(|renewed| {
                            counts.renewed += 1;
                            lease = renewed;
                        })
                } else {
                    store
                        .report(lease.token, spent)
                        .map(|()| lease.spent = spent)
                };
                match answer {
                    Err(FleetError::LeaseLost { token, .. }) => {
                        // Taken back: spend no more from it. Admission may have spent more
                        // of it since `spent_here` was measured, so it is settled as spent in
                        // full: the node may use what it did not spend, and the fleet counts
                        // it, so nothing is spent twice.
                        self.closed_spent += lease.units;
                        self.to_settle.push((token, lease.units));
                        counts.lost += 1;
                        Ok(())
                    }
                    other => {
                        self.open = Some(lease);
                        other
                    }
                }
            }
        };
        if let Err(error) = result {
            note(trouble, &error);
        }
        let granted = self.granted(settings, demand.spent_here, now_us);
        // Little left here: whether the cap itself has room tells partners what ran out.
        self.fleet_spent = if granted.saturating_sub(demand.spent_here) < settings.min_units {
            match store.pool(&demand.pool) {
                Ok(state) => state.map_or(0, |s| s.spent + s.in_doubt),
                Err(_) => self.fleet_spent,
            }
        } else {
            0
        };
        granted
    }

    /// What may be spent in the window: what closed leases spent, and the open lease's units
    /// while it is not about to expire (else only what was spent from it).
    fn granted(&self, settings: &KeeperSettings, spent_here: u64, now_us: u64) -> u64 {
        match &self.open {
            Some(lease) if now_us + settings.margin_us() < lease.expires_us => {
                self.closed_spent + lease.units
            }
            _ => spent_here.max(self.closed_spent),
        }
    }

    /// Units to hold: the recent rate over the horizon, at least `min_units` (`idle_units`
    /// once the pool is idle here), at most the cap's share.
    fn want(&self, settings: &KeeperSettings, cap: u64, now_us: u64) -> u64 {
        let horizon_s = KeeperSettings::HORIZON_TICKS * settings.tick_us as f64 / 1e6;
        let by_rate = (self.rate * horizon_s).ceil() as u64;
        let most = ((cap as f64 * settings.max_share) as u64).max(1);
        let least = if now_us < self.active_until_us {
            settings.min_units
        } else {
            settings.idle_units
        };
        by_rate.max(least).min(most)
    }

    /// An idle pool's lease holding far more than it wants goes back, so the other nodes may
    /// lease the rest: first its grant is frozen at what was spent (this tick's grants), and
    /// once every shard has applied that, it is returned with what they spent from it, and a
    /// small lease taken. Returns whether the pool stays frozen this tick.
    fn shrink_if_idle(
        &mut self,
        store: &mut dyn LeaseStore,
        want: u64,
        on_open: u64,
        turn: Turn,
        trouble: &mut Option<String>,
    ) -> bool {
        let Some(lease) = &self.open else {
            self.frozen_at = None;
            return false;
        };
        let spent = on_open.clamp(lease.spent, lease.units);
        match self.frozen_at {
            None if turn.now_us < self.active_until_us || lease.units - spent <= 2 * want => false,
            None => {
                self.frozen_at = Some(turn.generations.publishing);
                true
            }
            Some(frozen) if turn.generations.applied < frozen => true,
            Some(_) => {
                match store.close(lease.token, spent, turn.now_us) {
                    Ok(_) => self.closed_spent += spent,
                    // Taken back meanwhile: settled as spent in full, as any lost lease.
                    Err(FleetError::LeaseLost { token, .. }) => {
                        self.closed_spent += lease.units;
                        self.to_settle.push((token, lease.units));
                    }
                    Err(error) => {
                        note(trouble, &error);
                        return true;
                    }
                }
                self.open = None;
                self.frozen_at = None;
                false
            }
        }
    }

    /// Measures the rate of `asked` (spent and refused for lack of a grant, in the window).
    fn measure(&mut self, settings: &KeeperSettings, asked: u64, now_us: u64) {
        if asked > self.last_spent {
            self.active_until_us = now_us + settings.lease_us;
        }
        if self.last_at_us > 0 && now_us > self.last_at_us {
            let seconds = (now_us - self.last_at_us) as f64 / 1e6;
            let recent = asked.saturating_sub(self.last_spent) as f64 / seconds;
            self.rate = 0.5 * self.rate + 0.5 * recent;
        }
        self.last_spent = asked;
        self.last_at_us = now_us;
    }

    /// A new window of the cap: the last one's lease is returned, counted spent in full (its
    /// window is over, and what the node spent after the last tick is not known here; the
    /// shipped receipts tell the window's true spending).
    fn new_window(
        &mut self,
        store: &mut dyn LeaseStore,
        demand: &Demand,
        now_us: u64,
        trouble: &mut Option<String>,
    ) {
        if let Some(lease) = self.open.take()
            && let Err(error) = store.close(lease.token, lease.units, now_us)
        {
            // Not returned: it expires, and is taken back in doubt; settled as spent below.
            note(trouble, &error);
            self.to_settle.push((lease.token, lease.units));
        }
        let to_settle = std::mem::take(&mut self.to_settle);
        *self = PoolLeases {
            window_start_us: demand.pool.window_start_us,
            rate: self.rate,
            to_settle,
            ..PoolLeases::default()
        };
    }

    fn settle_lost(
        &mut self,
        store: &mut dyn LeaseStore,
        now_us: u64,
        trouble: &mut Option<String>,
    ) {
        self.to_settle.retain(|(token, spent)| {
            match store.settle(*token, *spent, now_us) {
                Ok(_) => false,
                // Settled already, or not this node's: nothing more to do.
                Err(FleetError::LeaseLost { .. } | FleetError::BadReport { .. }) => false,
                Err(error) => {
                    note(trouble, &error);
                    true
                }
            }
        });
    }
}
