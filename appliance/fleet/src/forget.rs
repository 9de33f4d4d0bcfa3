//! Forgetting a node that is gone for good (decommissioned, or rebuilt with a new state
//! directory under its old name): what it held is settled as spent in full (its ledger is
//! gone, so nobody can say it spent less, and the fleet never invents budget), its shipped
//! receipts and its leases stay, under a name that says when it was forgotten, and its name
//! is free for another appliance. A live node is refused.
//!
//! Three steps, so no transaction holds the budget pools or a large history locked for long:
//! its leases are settled in one transaction, its receipts renamed in batches, and its
//! heartbeat and cursor removed in a last one that frees the name. Until then the name is
//! held for no appliance's key, so neither the node (should it come back) nor another
//! appliance uses it meanwhile; a forget that stopped half way is finished by running it
//! again.

use postgres::Client;

use crate::FleetError;
use crate::leases::{POOL, pool_of};

/// What forgetting a node did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forgotten {
    /// The name its history is kept under now.
    pub renamed_to: String,
    /// Its leases open or taken back, now settled as spent in full.
    pub leases_settled: u64,
    /// Their units not reported spent, now counted spent.
    pub units_settled: u64,
    /// Its shipped receipts, kept under the new name.
    pub receipts_kept: u64,
}

/// Shipped receipts (or past leases) renamed per transaction.
const RENAME_BATCH: i64 = 10_000;

/// What a forgotten node's name is held for until the forget ends: no appliance's key.
const FORGOTTEN_KEY: &str = "forgotten";

/// Refused when `node`'s last heartbeat is within `live_within_us` of `now_us`; its row is
/// locked until the transaction ends.
fn not_live(
    transaction: &mut postgres::Transaction<'_>,
    node: &str,
    now_us: u64,
    live_within_us: u64,
) -> Result<(), FleetError> {
    let seen = transaction.query_opt(
        "SELECT last_seen_us FROM fleet_nodes WHERE node = $1 FOR UPDATE",
        &[&node],
    )?;
    if let Some(row) = &seen {
        let last_seen_us = row.get::<_, i64>(0).max(0) as u64;
        if last_seen_us.saturating_add(live_within_us) >= now_us {
            return Err(FleetError::Forget(format!(
                "node {node} is live (its last heartbeat was {} s ago): stop it first; a node \
                 is forgotten only once it is gone for good",
                now_us.saturating_sub(last_seen_us) / 1_000_000
            )));
        }
    }
    Ok(())
}

/// Forgets `node` at `now_us`: refused when its last heartbeat is within `live_within_us`,
/// or when the fleet's database knows no such node.
pub fn forget(
    client: &mut Client,
    node: &str,
    now_us: u64,
    live_within_us: u64,
) -> Result<Forgotten, FleetError> {
    let mut transaction = client.transaction()?;
    crate::schema::version(&mut transaction)?;
    not_live(&mut transaction, node, now_us, live_within_us)?;
    let known: bool = transaction
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM fleet_nodes WHERE node = $1)
                 OR EXISTS (SELECT 1 FROM fleet_shipping WHERE node = $1)
                 OR EXISTS (SELECT 1 FROM fleet_leases WHERE node = $1)",
            &[&node],
        )?
        .get(0);
    if !known {
        return Err(FleetError::Forget(format!(
            "the fleet's database knows no node {node:?}: `appliance fleet status` lists them"
        )));
    }
    // The name is held for no key until the end, so neither the node (should it come back)
    // nor another appliance uses it while its history is renamed.
    transaction.execute(
        "INSERT INTO fleet_nodes
             (node, started_us, last_seen_us, revision, committed_seq, version, receipt_key)
         VALUES ($1, 0, 0, 0, 0, '', $2)
         ON CONFLICT (node) DO UPDATE SET receipt_key = EXCLUDED.receipt_key",
        &[&node, &FORGOTTEN_KEY],
    )?;
    let renamed_to = format!("{node}@forgotten-{}", now_us / 1_000_000);
    // What each lease still held moves to spent: from leased for an open one, from in doubt
    // for one taken back.
    let held = transaction.query(
        "SELECT token, units - spent, closed_by IS NULL, tenant, purpose, class, cap_window,
                window_start_us
         FROM fleet_leases
         WHERE node = $1 AND (closed_us IS NULL OR closed_by = 'expired')
         ORDER BY token FOR UPDATE",
        &[&node],
    )?;
    let mut units_settled = 0u64;
    for row in &held {
        let unreported: i64 = row.get(1);
        let held_as = if row.get::<_, bool>(2) {
            "leased"
        } else {
            "in_doubt"
        };
        let pool = pool_of(row, 3);
        let start = pool.window_start_us as i64;
        transaction.execute(
            &format!(
                "UPDATE fleet_pools SET {held_as} = {held_as} - $6, spent = spent + $6
                 WHERE {POOL}"
            ),
            &pool.params(&start, &[&unreported]),
        )?;
        transaction.execute(
            "UPDATE fleet_leases SET spent = units, closed_by = 'forgotten',
                 closed_us = COALESCE(closed_us, $2)
             WHERE token = $1",
            &[&row.get::<_, i64>(0), &(now_us as i64)],
        )?;
        units_settled += unreported.max(0) as u64;
    }
    transaction.commit()?;

    loop {
        let renamed = client.execute(
            "UPDATE fleet_leases SET node = $2
             WHERE token IN (
                 SELECT token FROM fleet_leases WHERE node = $1 ORDER BY token LIMIT $3)",
            &[&node, &renamed_to, &RENAME_BATCH],
        )?;
        if renamed == 0 {
            break;
        }
    }
    let mut receipts_kept = 0;
    loop {
        let renamed = client.execute(
            "UPDATE fleet_receipts SET node = $2
             WHERE node = $1
               AND seq < (SELECT MIN(seq) FROM fleet_receipts WHERE node = $1) + $3",
            &[&node, &renamed_to, &RENAME_BATCH],
        )?;
        if renamed == 0 {
            break;
        }
        receipts_kept += renamed;
    }

    let mut transaction = client.transaction()?;
    not_live(&mut transaction, node, now_us, live_within_us)?;
    transaction.execute("DELETE FROM fleet_shipping WHERE node = $1", &[&node])?;
    transaction.execute("DELETE FROM fleet_nodes WHERE node = $1", &[&node])?;
    transaction.commit()?;
    Ok(Forgotten {
        renamed_to,
        leases_settled: held.len() as u64,
        units_settled,
        receipts_kept,
    })
}
