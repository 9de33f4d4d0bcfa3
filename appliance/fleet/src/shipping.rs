//! Shipping: this node's committed receipts, with their charges, copied into the fleet's
//! database from a cursor kept there, so the fleet has one queryable history for evidence,
//! compliance and the console. The partner's path never waits for it: each node's SQLite
//! ledger stays the durable record that answers partners.
//!
//! One batch is one transaction: the rows and the cursor move together, and a row already
//! there (the same node and ledger sequence number) is left as it is, so a batch shipped
//! twice (a crash between the commit and the node learning of it) adds nothing. The ledger's
//! numbers have no gaps, so neither has what is shipped; a receipt pruned before it was
//! shipped is an error that names it rather than a silent hole.

use postgres::Client;
use tf_ledger::Ledger;

use crate::FleetError;

/// What one batch shipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shipped {
    /// Receipts in the batch.
    pub count: usize,
    /// The node's cursor after it: every receipt up to this sequence number is shipped.
    pub through_seq: u64,
    /// When the batch's first receipt was decided, Unix microseconds: how far behind shipping
    /// runs.
    pub oldest_decided_us: Option<u64>,
}

/// Ships up to `limit` of `node`'s receipts after its cursor from `ledger`.
pub fn ship(
    client: &mut Client,
    node: &str,
    ledger: &dyn Ledger,
    limit: usize,
    now_us: u64,
) -> Result<Shipped, FleetError> {
    let mut transaction = client.transaction()?;
    transaction.execute(
        "INSERT INTO fleet_shipping (node, shipped_seq, shipped_us) VALUES ($1, 0, $2)
         ON CONFLICT DO NOTHING",
        &[&node, &sql(now_us)],
    )?;
    let cursor = transaction
        .query_one(
            "SELECT shipped_seq FROM fleet_shipping WHERE node = $1 FOR UPDATE",
            &[&node],
        )?
        .get::<_, i64>(0) as u64;
    let records = ledger
        .receipts_after(cursor, limit)
        .map_err(|e| FleetError::Ledger(e.to_string()))?;
    let Some(first) = records.first() else {
        return Ok(Shipped {
            count: 0,
            through_seq: cursor,
            oldest_decided_us: None,
        });
    };
    // A node's first shipping starts where its ledger does: receipts pruned before it joined
    // the fleet are in its compliance snapshots. After that, a gap is an error.
    if cursor > 0 && first.receipt.seq != cursor + 1 {
        return Err(FleetError::Ledger(format!(
            "receipts {} to {} were pruned from the ledger before they were shipped: the \
             fleet's history lacks them (their compliance snapshot holds them)",
            cursor + 1,
            first.receipt.seq - 1
        )));
    }
    let mut columns = Columns::default();
    for record in &records {
        let receipt = &record.receipt;
        columns.seq.push(sql(receipt.seq));
        columns.tenant.push(record.tenant.clone());
        columns.request_id.push(receipt.request_id.to_string());
        columns.purpose.push(receipt.purpose.clone());
        columns.class.push(receipt.dataset_class.clone());
        columns.verdict.push(receipt.verdict.clone());
        columns.charged.push(sql(receipt.charged));
        columns.decided_us.push(sql(receipt.decided_us));
        columns.envelope.push(receipt.envelope_json.clone());
    }
    transaction.execute(
        "INSERT INTO fleet_receipts
             (node, seq, tenant, request_id, purpose, class, verdict, charged, decided_us,
              envelope)
         SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                                  $10::text[])
         ON CONFLICT (node, seq) DO NOTHING",
        &[
            &node,
            &columns.seq,
            &columns.tenant,
            &columns.request_id,
            &columns.purpose,
            &columns.class,
            &columns.verdict,
            &columns.charged,
            &columns.decided_us,
            &columns.envelope,
        ],
    )?;
    let through_seq = records.last().map_or(cursor, |r| r.receipt.seq);
    transaction.execute(
        "UPDATE fleet_shipping SET shipped_seq = $2, shipped_us = $3 WHERE node = $1",
        &[&node, &sql(through_seq), &sql(now_us)],
    )?;
    transaction.commit()?;
    Ok(Shipped {
        count: records.len(),
        through_seq,
        oldest_decided_us: Some(first.receipt.decided_us),
    })
}

/// Deletes those of `node`'s `limit` oldest shipped receipts (by sequence number) decided
/// before `before_us`; returns how many. The fleet's history keeps what the appliances'
/// ledgers keep, so it does not grow without bound. One range of the primary key is read,
/// whatever the history's size: receipts are numbered in the order they were decided, give
/// or take the moment a commit takes, so the oldest are at its head.
pub fn prune_shipped(
    client: &mut Client,
    node: &str,
    before_us: u64,
    limit: u32,
) -> Result<u64, FleetError> {
    Ok(client.execute(
        "DELETE FROM fleet_receipts
         WHERE node = $1 AND decided_us < $2
           AND seq < (SELECT MIN(seq) FROM fleet_receipts WHERE node = $1) + $3",
        &[&node, &sql(before_us), &i64::from(limit)],
    )?)
}

/// A batch as PostgreSQL arrays, one per column.
#[derive(Default)]
struct Columns {
    seq: Vec<i64>,
    tenant: Vec<String>,
    request_id: Vec<String>,
    purpose: Vec<String>,
    class: Vec<String>,
    verdict: Vec<String>,
    charged: Vec<i64>,
    decided_us: Vec<i64>,
    envelope: Vec<String>,
}

fn sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
