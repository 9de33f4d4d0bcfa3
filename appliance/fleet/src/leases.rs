//! Budget leases: how appliances spend one cap together without overspending it.
//!
//! Each capped (tenant, purpose, class) has a pool per window of its cap. A node takes a lease
//! of units from the pool by one conditional update under the pool's row lock, which grants
//! what is asked or what is left, never more than `cap - spent - leased - in_doubt`; it spends
//! the units locally, reports what it spent (moving it from `leased` to `spent`), renews the
//! lease before it expires, and returns it, giving the unspent units back.
//!
//! Every lease has a fencing token, never reused. A lease not returned by its expiry plus a
//! grace period is taken back by any node's sweep: its units the node had not reported stay
//! counted, as `in_doubt`, because the node may have spent them before it stopped; the node
//! settles them when it is back (from its own ledger) and what it did not spend returns to
//! the pool. A node whose lease was taken back is told so on its next report or renewal, and
//! must stop spending from it. Nothing here invents budget: at every instant
//! `spent + leased + in_doubt <= cap` for the cap each take was made under.

use postgres::types::ToSql;
use postgres::{Client, Transaction};

use crate::FleetError;

/// A pool: one cap's window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolKey {
    /// The tenant.
    pub tenant: String,
    /// The purpose the cap limits; empty for a cap across every purpose of its class.
    pub purpose: String,
    /// The dataset class: `P0`, `P1` or `P2`.
    pub class: String,
    /// The cap's calendar window: `hour`, `day`, `week` or `month` (two caps of one purpose
    /// and class with different windows are different pools).
    pub window: String,
    /// The start of the cap's current window, Unix microseconds.
    pub window_start_us: u64,
}

/// A lease a node holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Its fencing token.
    pub token: u64,
    /// Its pool.
    pub pool: PoolKey,
    /// Units granted, in all (the first grant and renewals').
    pub units: u64,
    /// Of which reported spent.
    pub spent: u64,
    /// When it expires unless renewed, Unix microseconds.
    pub expires_us: u64,
}

impl Lease {
    /// Units granted and not reported spent.
    pub fn unspent(&self) -> u64 {
        self.units - self.spent
    }
}

/// A pool's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolState {
    /// The cap the last lease was taken under.
    pub cap: u64,
    /// Reported spent.
    pub spent: u64,
    /// Held by open leases, not reported spent.
    pub leased: u64,
    /// Held by leases taken back after their expiry, possibly spent, until settled.
    pub in_doubt: u64,
}

/// A lease taken back after its expiry and grace period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reclaimed {
    /// Its fencing token.
    pub token: u64,
    /// The node that held it.
    pub node: String,
    /// Its units not reported spent, now in doubt until the node settles them.
    pub in_doubt: u64,
}

/// The leases of one node, over its connection to the fleet's database.
pub struct Leases<'c> {
    client: &'c mut Client,
    node: String,
}

/// A lease row, locked.
struct Held {
    pool: PoolKey,
    node: String,
    units: u64,
    spent: u64,
    expires_us: u64,
    closed_by: Option<String>,
}

/// A pool's row: its key is `$1` to `$5` of every statement that names one ([`PoolKey::params`]).
/// The advisory lock a sweep settles ended windows under ("tfended" in ASCII).
const SETTLE_ENDED_LOCK: i64 = 0x0074_6665_6e64_6564;

pub(crate) const POOL: &str =
    "tenant = $1 AND purpose = $2 AND class = $3 AND cap_window = $4 AND window_start_us = $5";

impl PoolKey {
    /// The pool's key as `$1` to `$5`, followed by `more` as `$6` onwards.
    pub(crate) fn params<'a>(
        &'a self,
        window_start: &'a i64,
        more: &[&'a (dyn ToSql + Sync)],
    ) -> Vec<&'a (dyn ToSql + Sync)> {
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &self.tenant,
            &self.purpose,
            &self.class,
            &self.window,
            window_start,
        ];
        params.extend_from_slice(more);
        params
    }
}

impl<'c> Leases<'c> {
    /// `node`'s leases over `client`.
    pub fn new(client: &'c mut Client, node: &str) -> Self {
        Leases {
            client,
            node: node.to_owned(),
        }
    }

    /// Takes back every lease, of any node, that expired more than `grace_us` before
    /// `now_us` and was not returned: its unreported units become in doubt. At most 1000 at a
    /// time; leases another node is sweeping are skipped.
    pub fn reclaim_expired(
        &mut self,
        grace_us: u64,
        now_us: u64,
    ) -> Result<Vec<Reclaimed>, FleetError> {
        let mut transaction = self.client.transaction()?;
        let rows = transaction.query(
            "SELECT token, node, units - spent, tenant, purpose, class, cap_window,
                    window_start_us
             FROM fleet_leases
             WHERE closed_us IS NULL AND expires_us < $1
             ORDER BY token LIMIT 1000 FOR UPDATE SKIP LOCKED",
            &[&sql(now_us.saturating_sub(grace_us))],
        )?;
        let mut reclaimed = Vec::with_capacity(rows.len());
        for row in rows {
            let token: i64 = row.get(0);
            let in_doubt: i64 = row.get(2);
            let pool = pool_of(&row, 3);
            let start = sql(pool.window_start_us);
            transaction.execute(
                &format!(
                    "UPDATE fleet_pools SET leased = leased - $6, in_doubt = in_doubt + $6
                     WHERE {POOL}"
                ),
                &pool.params(&start, &[&in_doubt]),
            )?;
            close_lease(&mut transaction, token as u64, now_us, "expired")?;
            reclaimed.push(Reclaimed {
                token: token as u64,
                node: row.get(1),
                in_doubt: in_doubt as u64,
            });
        }
        transaction.commit()?;
        Ok(reclaimed)
    }
}

impl Leases<'_> {
    /// Settles as spent in full every lease taken back in a window that has ended (its cap
    /// has a later window's pool): its node cannot spend from the window any more, and may
    /// never come back to say what it spent. At most 1000 leases at a time; returns how many
    /// pools that changed.
    pub fn settle_ended(&mut self) -> Result<u64, FleetError> {
        let mut transaction = self.client.transaction()?;
        // One node at a time: two sweeps settling interleaved leases of the same pools could
        // lock them in opposite orders.
        let ours: bool = transaction
            .query_one(
                "SELECT pg_try_advisory_xact_lock($1)",
                &[&SETTLE_ENDED_LOCK],
            )?
            .get(0);
        if !ours {
            return Ok(0);
        }
        let settled = transaction.execute(
            "WITH ended AS (
                 SELECT token, units - spent AS unreported, tenant, purpose, class, cap_window,
                        window_start_us
                 FROM fleet_leases l
                 WHERE closed_by = 'expired' AND EXISTS (
                     SELECT 1 FROM fleet_pools p
                     WHERE p.tenant = l.tenant AND p.purpose = l.purpose AND p.class = l.class
                       AND p.cap_window = l.cap_window
                       AND p.window_start_us > l.window_start_us)
                 ORDER BY token LIMIT 1000 FOR UPDATE SKIP LOCKED
             ),
             closed AS (
                 UPDATE fleet_leases l SET spent = l.units, closed_by = 'settled'
                 FROM ended WHERE l.token = ended.token
             ),
             by_pool AS (
                 SELECT tenant, purpose, class, cap_window, window_start_us,
                        SUM(unreported)::BIGINT AS units
                 FROM ended GROUP BY tenant, purpose, class, cap_window, window_start_us
             )
             UPDATE fleet_pools p
             SET in_doubt = p.in_doubt - by_pool.units, spent = p.spent + by_pool.units
             FROM by_pool
             WHERE p.tenant = by_pool.tenant AND p.purpose = by_pool.purpose
               AND p.class = by_pool.class AND p.cap_window = by_pool.cap_window
               AND p.window_start_us = by_pool.window_start_us",
            &[],
        )?;
        transaction.commit()?;
        Ok(settled)
    }
}

/// The lease operations a node's keeper needs: [`Leases`] over the fleet's database, or
/// anything that behaves as it does.
pub trait LeaseStore {
    /// Takes a lease of up to `want` units of `pool` under `cap`, expiring `ttl_us` after
    /// `now_us`: what is asked, or what is left when less is; `None` when nothing is left.
    fn take(
        &mut self,
        pool: &PoolKey,
        cap: u64,
        want: u64,
        ttl_us: u64,
        now_us: u64,
    ) -> Result<Option<Lease>, FleetError>;

    /// Reports `spent_total` units of lease `token` spent so far (reports only grow).
    fn report(&mut self, token: u64, spent_total: u64) -> Result<(), FleetError>;

    /// Renews lease `token` to expire `ttl_us` after `now_us`, adding up to `more` units
    /// under `cap` (what is left when less); returns the lease as it now stands.
    fn renew(
        &mut self,
        token: u64,
        more: u64,
        cap: u64,
        ttl_us: u64,
        now_us: u64,
    ) -> Result<Lease, FleetError>;

    /// Returns lease `token` with `spent_total` units spent in all: the rest goes back to the
    /// pool. Returns how many units went back.
    fn close(&mut self, token: u64, spent_total: u64, now_us: u64) -> Result<u64, FleetError>;

    /// Settles lease `token`, taken back after its expiry, with the `spent_total` units this
    /// node's ledger shows it spent: the units in doubt it did not spend go back to the pool.
    /// Returns how many went back. An open lease is returned as [`LeaseStore::close`] does.
    fn settle(&mut self, token: u64, spent_total: u64, now_us: u64) -> Result<u64, FleetError>;

    /// Accounts for `spent_here`, what this node's ledger shows it spent from `pool` (under
    /// `cap`), when its keeper first meets the pool: the node's leases of the pool left open or
    /// taken back (it restarted) are settled from it, oldest first, and spending no lease
    /// covers (a cap a promotion added over past charges, a node new to the fleet) is counted
    /// spent. Returns what the fleet counts this node spent from the pool, at least
    /// `spent_here`.
    fn adopt(
        &mut self,
        pool: &PoolKey,
        cap: u64,
        spent_here: u64,
        now_us: u64,
    ) -> Result<u64, FleetError>;

    /// A pool's state, if any lease was ever taken from it.
    fn pool(&mut self, pool: &PoolKey) -> Result<Option<PoolState>, FleetError>;
}

impl LeaseStore for Leases<'_> {
    fn pool(&mut self, pool: &PoolKey) -> Result<Option<PoolState>, FleetError> {
        let row = self.client.query_opt(
            &format!("SELECT cap, spent, leased, in_doubt FROM fleet_pools WHERE {POOL}"),
            &pool.params(&sql(pool.window_start_us), &[]),
        )?;
        Ok(row.map(|row| PoolState {
            cap: row.get::<_, i64>(0) as u64,
            spent: row.get::<_, i64>(1) as u64,
            leased: row.get::<_, i64>(2) as u64,
            in_doubt: row.get::<_, i64>(3) as u64,
        }))
    }

    fn take(
        &mut self,
        pool: &PoolKey,
        cap: u64,
        want: u64,
        ttl_us: u64,
        now_us: u64,
    ) -> Result<Option<Lease>, FleetError> {
        if want == 0 {
            return Ok(None);
        }
        let mut transaction = self.client.transaction()?;
        open_pool(&mut transaction, pool, cap)?;
        let granted = grant(&mut transaction, pool, cap, want)?;
        if granted == 0 {
            transaction.commit()?;
            return Ok(None);
        }
        let expires_us = now_us.saturating_add(ttl_us);
        let token: i64 = transaction
            .query_one(
                "INSERT INTO fleet_leases
                     (tenant, purpose, class, cap_window, window_start_us, node, units,
                      granted_us, expires_us)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING token",
                &pool.params(
                    &sql(pool.window_start_us),
                    &[&self.node, &sql(granted), &sql(now_us), &sql(expires_us)],
                ),
            )?
            .get(0);
        transaction.commit()?;
        Ok(Some(Lease {
            token: token as u64,
            pool: pool.clone(),
            units: granted,
            spent: 0,
            expires_us,
        }))
    }

    fn report(&mut self, token: u64, spent_total: u64) -> Result<(), FleetError> {
        let node = self.node.clone();
        let mut transaction = self.client.transaction()?;
        let held = open_lease(&mut transaction, token, &node)?;
        record_spent(&mut transaction, token, &held, spent_total)?;
        transaction.commit()?;
        Ok(())
    }

    fn renew(
        &mut self,
        token: u64,
        more: u64,
        cap: u64,
        ttl_us: u64,
        now_us: u64,
    ) -> Result<Lease, FleetError> {
        let node = self.node.clone();
        let mut transaction = self.client.transaction()?;
        let held = open_lease(&mut transaction, token, &node)?;
        let added = if more > 0 {
            grant(&mut transaction, &held.pool, cap, more)?
        } else {
            0
        };
        let expires_us = now_us.saturating_add(ttl_us).max(held.expires_us);
        transaction.execute(
            "UPDATE fleet_leases SET units = units + $2, expires_us = $3 WHERE token = $1",
            &[&sql(token), &sql(added), &sql(expires_us)],
        )?;
        transaction.commit()?;
        Ok(Lease {
            token,
            pool: held.pool,
            units: held.units + added,
            spent: held.spent,
            expires_us,
        })
    }

    fn close(&mut self, token: u64, spent_total: u64, now_us: u64) -> Result<u64, FleetError> {
        let node = self.node.clone();
        let mut transaction = self.client.transaction()?;
        let held = open_lease(&mut transaction, token, &node)?;
        record_spent(&mut transaction, token, &held, spent_total)?;
        let back = held.units - spent_total;
        transaction.execute(
            &format!("UPDATE fleet_pools SET leased = leased - $6 WHERE {POOL}"),
            &held
                .pool
                .params(&sql(held.pool.window_start_us), &[&sql(back)]),
        )?;
        close_lease(&mut transaction, token, now_us, "returned")?;
        transaction.commit()?;
        Ok(back)
    }

    fn settle(&mut self, token: u64, spent_total: u64, now_us: u64) -> Result<u64, FleetError> {
        let node = self.node.clone();
        let mut transaction = self.client.transaction()?;
        let held = locked_lease(&mut transaction, token, &node)?;
        match held.closed_by.as_deref() {
            None => {
                drop(transaction);
                return self.close(token, spent_total, now_us);
            }
            Some("expired") => {}
            Some(other) => {
                return Err(FleetError::LeaseLost {
                    token,
                    node,
                    why: format!("it was {other} already"),
                });
            }
        }
        check_spent(token, &held, spent_total)?;
        settle_left(
            &mut transaction,
            &held,
            token,
            spent_total - held.spent,
            now_us,
        )?;
        transaction.commit()?;
        Ok(held.units - spent_total)
    }

    fn adopt(
        &mut self,
        pool: &PoolKey,
        cap: u64,
        spent_here: u64,
        now_us: u64,
    ) -> Result<u64, FleetError> {
        let node = self.node.clone();
        let start = sql(pool.window_start_us);
        let mut transaction = self.client.transaction()?;
        open_pool(&mut transaction, pool, cap)?;
        transaction.execute(
            &format!("SELECT 1 FROM fleet_pools WHERE {POOL} FOR UPDATE"),
            &pool.params(&start, &[]),
        )?;
        let rows = transaction.query(
            &format!(
                "SELECT token, units, spent, expires_us, closed_by FROM fleet_leases
                 WHERE {POOL} AND node = $6 ORDER BY token FOR UPDATE"
            ),
            &pool.params(&start, &[&node]),
        )?;
        let mut counted = 0u64;
        let mut left = Vec::new();
        for row in rows {
            let token = row.get::<_, i64>(0) as u64;
            let held = Held {
                pool: pool.clone(),
                node: node.clone(),
                units: row.get::<_, i64>(1) as u64,
                spent: row.get::<_, i64>(2) as u64,
                expires_us: row.get::<_, i64>(3) as u64,
                closed_by: row.get(4),
            };
            counted += held.spent;
            if matches!(held.closed_by.as_deref(), None | Some("expired")) {
                left.push((token, held));
            }
        }
        for (token, held) in &left {
            let unaccounted = spent_here.saturating_sub(counted);
            counted += settle_left(&mut transaction, held, *token, unaccounted, now_us)?;
        }
        if counted < spent_here {
            let outside = spent_here - counted;
            transaction.execute(
                &format!("UPDATE fleet_pools SET spent = spent + $6 WHERE {POOL}"),
                &pool.params(&start, &[&sql(outside)]),
            )?;
            // A lease settled at once, so the node's leases of the pool add up to what it spent.
            transaction.execute(
                "INSERT INTO fleet_leases
                     (tenant, purpose, class, cap_window, window_start_us, node, units, spent,
                      granted_us, expires_us, closed_us, closed_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $8, $8, 'settled')",
                &pool.params(&start, &[&node, &sql(outside), &sql(now_us)]),
            )?;
            counted = spent_here;
        }
        transaction.commit()?;
        Ok(counted)
    }
}

/// The store while the fleet's database cannot be reached: every call fails, so the keeper
/// grants only what its leases still hold.
pub struct Offline(pub String);

impl Offline {
    fn error<T>(&self) -> Result<T, FleetError> {
        Err(FleetError::Offline(self.0.clone()))
    }
}

impl LeaseStore for Offline {
    fn take(
        &mut self,
        _: &PoolKey,
        _: u64,
        _: u64,
        _: u64,
        _: u64,
    ) -> Result<Option<Lease>, FleetError> {
        self.error()
    }
    fn report(&mut self, _: u64, _: u64) -> Result<(), FleetError> {
        self.error()
    }
    fn renew(&mut self, _: u64, _: u64, _: u64, _: u64, _: u64) -> Result<Lease, FleetError> {
        self.error()
    }
    fn close(&mut self, _: u64, _: u64, _: u64) -> Result<u64, FleetError> {
        self.error()
    }
    fn settle(&mut self, _: u64, _: u64, _: u64) -> Result<u64, FleetError> {
        self.error()
    }
    fn adopt(&mut self, _: &PoolKey, _: u64, _: u64, _: u64) -> Result<u64, FleetError> {
        self.error()
    }
    fn pool(&mut self, _: &PoolKey) -> Result<Option<PoolState>, FleetError> {
        self.error()
    }
}

/// Settles a lease left open or taken back with what of `unaccounted` (spent and not
/// reported) it can hold; returns how much it took.
fn settle_left(
    transaction: &mut Transaction<'_>,
    held: &Held,
    token: u64,
    unaccounted: u64,
    now_us: u64,
) -> Result<u64, FleetError> {
    let unreported = held.units - held.spent;
    let newly_spent = unaccounted.min(unreported);
    // An open lease's unreported units are leased; a taken-back one's are in doubt.
    let held_as = if held.closed_by.is_none() {
        "leased"
    } else {
        "in_doubt"
    };
    transaction.execute(
        &format!(
            "UPDATE fleet_pools SET {held_as} = {held_as} - $6, spent = spent + $7 WHERE {POOL}"
        ),
        &held.pool.params(
            &sql(held.pool.window_start_us),
            &[&sql(unreported), &sql(newly_spent)],
        ),
    )?;
    transaction.execute(
        "UPDATE fleet_leases SET spent = $2, closed_by = 'settled', closed_us = $3
         WHERE token = $1",
        &[&sql(token), &sql(held.spent + newly_spent), &sql(now_us)],
    )?;
    Ok(newly_spent)
}

/// Moves up to `want` units of `pool` into `leased` under `cap`, under the pool's row lock;
/// returns how many.
fn grant(
    transaction: &mut Transaction<'_>,
    pool: &PoolKey,
    cap: u64,
    want: u64,
) -> Result<u64, FleetError> {
    let row = transaction.query_opt(
        &format!(
            "WITH old AS (SELECT spent + leased + in_doubt AS held FROM fleet_pools
                          WHERE {POOL} FOR UPDATE)
             UPDATE fleet_pools SET cap = $6, leased = leased + LEAST($7, $6 - old.held)
             FROM old WHERE {POOL} AND old.held < $6
             RETURNING LEAST($7, $6 - old.held)"
        ),
        &pool.params(&sql(pool.window_start_us), &[&sql(cap), &sql(want)]),
    )?;
    Ok(row.map_or(0, |row| row.get::<_, i64>(0) as u64))
}

/// Lease `token`, locked, if it is `node`'s.
fn locked_lease(
    transaction: &mut Transaction<'_>,
    token: u64,
    node: &str,
) -> Result<Held, FleetError> {
    let row = transaction.query_opt(
        "SELECT tenant, purpose, class, cap_window, window_start_us, node, units, spent,
                expires_us, closed_by
         FROM fleet_leases WHERE token = $1 FOR UPDATE",
        &[&sql(token)],
    )?;
    let held = row.map(|row| Held {
        pool: pool_of(&row, 0),
        node: row.get(5),
        units: row.get::<_, i64>(6) as u64,
        spent: row.get::<_, i64>(7) as u64,
        expires_us: row.get::<_, i64>(8) as u64,
        closed_by: row.get(9),
    });
    match held {
        Some(held) if held.node == node => Ok(held),
        Some(held) => Err(FleetError::LeaseLost {
            token,
            node: node.to_owned(),
            why: format!("it is node {}'s", held.node),
        }),
        None => Err(FleetError::LeaseLost {
            token,
            node: node.to_owned(),
            why: "there is no such lease".to_owned(),
        }),
    }
}

/// Lease `token`, locked, if it is `node`'s and open.
fn open_lease(
    transaction: &mut Transaction<'_>,
    token: u64,
    node: &str,
) -> Result<Held, FleetError> {
    let held = locked_lease(transaction, token, node)?;
    match held.closed_by.as_deref() {
        None => Ok(held),
        Some("expired") => Err(FleetError::LeaseLost {
            token,
            node: node.to_owned(),
            why: "it expired and was taken back: stop spending from it and settle it".to_owned(),
        }),
        Some(other) => Err(FleetError::LeaseLost {
            token,
            node: node.to_owned(),
            why: format!("it was {other} already"),
        }),
    }
}

fn check_spent(token: u64, held: &Held, spent_total: u64) -> Result<(), FleetError> {
    if spent_total < held.spent {
        return Err(FleetError::BadReport {
            token,
            problem: format!(
                "{spent_total} units spent in all is less than the {} reported already",
                held.spent
            ),
        });
    }
    if spent_total > held.units {
        return Err(FleetError::BadReport {
            token,
            problem: format!(
                "{spent_total} units spent in all is more than its {} units",
                held.units
            ),
        });
    }
    Ok(())
}

/// Records `spent_total` on an open lease, moving the difference from leased to spent.
fn record_spent(
    transaction: &mut Transaction<'_>,
    token: u64,
    held: &Held,
    spent_total: u64,
) -> Result<(), FleetError> {
    check_spent(token, held, spent_total)?;
    let delta = spent_total - held.spent;
    if delta == 0 {
        return Ok(());
    }
    transaction.execute(
        &format!("UPDATE fleet_pools SET spent = spent + $6, leased = leased - $6 WHERE {POOL}"),
        &held
            .pool
            .params(&sql(held.pool.window_start_us), &[&sql(delta)]),
    )?;
    transaction.execute(
        "UPDATE fleet_leases SET spent = $2 WHERE token = $1",
        &[&sql(token), &sql(spent_total)],
    )?;
    Ok(())
}

fn close_lease(
    transaction: &mut Transaction<'_>,
    token: u64,
    now_us: u64,
    how: &str,
) -> Result<(), FleetError> {
    transaction.execute(
        "UPDATE fleet_leases SET closed_us = $2, closed_by = $3 WHERE token = $1",
        &[&sql(token), &sql(now_us), &how],
    )?;
    Ok(())
}

/// The pool named by the five columns from `first`: tenant, purpose, class, cap_window and
/// window_start_us.
pub(crate) fn pool_of(row: &postgres::Row, first: usize) -> PoolKey {
    PoolKey {
        tenant: row.get(first),
        purpose: row.get(first + 1),
        class: row.get(first + 2),
        window: row.get(first + 3),
        window_start_us: row.get::<_, i64>(first + 4) as u64,
    }
}

/// Creates `pool` under `cap` if no lease was taken from it yet.
fn open_pool(
    transaction: &mut Transaction<'_>,
    pool: &PoolKey,
    cap: u64,
) -> Result<(), FleetError> {
    transaction.execute(
        "INSERT INTO fleet_pools (tenant, purpose, class, cap_window, window_start_us, cap)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        &pool.params(&sql(pool.window_start_us), &[&sql(cap)]),
    )?;
    Ok(())
}

/// A count as PostgreSQL's BIGINT (counts and Unix microseconds are far below its limit).
fn sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
