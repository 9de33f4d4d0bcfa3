//! Retention: deleting the oldest receipts once a compliance snapshot holds them, and the
//! durable record of what was deleted and where it went.
//!
//! Only a prefix of the ledger is ever deleted, so what remains is still a gapless run of
//! sequence numbers: workers following the ledger, the count of receipts stored and the next
//! sequence number all rely on that.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::read::sql_int;
use crate::{Pruned, PrunedRange};

/// What [`crate::Ledger::prune`] deletes: the oldest receipts in sequence order, while each
/// has `seq <= through_seq` and `decided_from_us <= decided_us < decided_before_us`, at most
/// `max_rows` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PruneBounds {
    /// The last sequence number that may go (what the snapshot holds, and what every worker
    /// following the ledger has handled).
    pub through_seq: u64,
    /// The earliest decision time that may go: the sealing snapshot's period start. A receipt
    /// decided earlier but stored after the previous snapshot was made is in neither, and
    /// stops pruning instead of being lost.
    pub decided_from_us: u64,
    /// The first decision time that stays: the period's end, or the retention's cut-off.
    pub decided_before_us: u64,
    /// Most receipts deleted in this call.
    pub max_rows: usize,
}

impl PruneBounds {
    /// Up to `max_rows` receipts through `through_seq` decided before `decided_before_us`,
    /// however early.
    pub fn up_to(through_seq: u64, decided_before_us: u64, max_rows: usize) -> Self {
        PruneBounds {
            through_seq,
            decided_from_us: 0,
            decided_before_us,
            max_rows,
        }
    }
}

/// Deletes what `bounds` allow in one transaction and records the range as sealed by
/// `sealed_by` at `at_us`.
pub(crate) fn prune(
    connection: &mut Connection,
    bounds: PruneBounds,
    sealed_by: &str,
    at_us: u64,
) -> rusqlite::Result<Pruned> {
    if bounds.max_rows == 0 {
        return Ok(Pruned::default());
    }
    // IMMEDIATE: the write lock from the start, so the rows chosen are the rows deleted.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(range) = prefix(&transaction, bounds)? else {
        return Ok(Pruned::default());
    };
    let deleted = transaction.execute(
        "DELETE FROM receipts WHERE seq BETWEEN ?1 AND ?2",
        params![range.from_seq as i64, range.to_seq as i64],
    )? as u64;
    record(&transaction, &range, sealed_by, at_us)?;
    transaction.commit()?;
    Ok(Pruned {
        deleted,
        last_seq: Some(range.to_seq),
    })
}

/// Every pruned range, oldest first.
pub(crate) fn ranges(connection: &Connection) -> rusqlite::Result<Vec<PrunedRange>> {
    let mut query = connection.prepare_cached(
        "SELECT from_seq, to_seq, decided_from_us, decided_to_us, sealed_by, at_us \
         FROM pruned_ranges ORDER BY from_seq",
    )?;
    let rows = query.query_map([], |row| {
        Ok(PrunedRange {
            from_seq: row.get::<_, i64>(0)? as u64,
            to_seq: row.get::<_, i64>(1)? as u64,
            decided_from_us: row.get::<_, i64>(2)? as u64,
            decided_to_us: row.get::<_, i64>(3)? as u64,
            sealed_by: row.get(4)?,
            at_us: row.get::<_, i64>(5)? as u64,
        })
    })?;
    rows.collect()
}

/// The oldest receipt kept: its sequence number and decision time.
pub(crate) fn oldest_retained(connection: &Connection) -> rusqlite::Result<Option<(u64, u64)>> {
    connection
        .prepare_cached("SELECT seq, decided_us FROM receipts ORDER BY seq LIMIT 1")?
        .query_row([], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64))
        })
        .optional()
}

/// The run of receipts `bounds` allow, from the oldest kept; `None` if the oldest is outside
/// them. `sealed_by` and `at_us` are left for [`record`] to fill.
fn prefix(connection: &Connection, bounds: PruneBounds) -> rusqlite::Result<Option<PrunedRange>> {
    let mut query = connection.prepare_cached(
        "SELECT seq, decided_us FROM receipts WHERE seq <= ?1 ORDER BY seq LIMIT ?2",
    )?;
    let limit = i64::try_from(bounds.max_rows).unwrap_or(i64::MAX);
    let mut rows = query.query(params![sql_int(bounds.through_seq), limit])?;
    let mut range: Option<PrunedRange> = None;
    while let Some(row) = rows.next()? {
        let seq = row.get::<_, i64>(0)? as u64;
        let decided_us = row.get::<_, i64>(1)? as u64;
        // Stop at the first receipt too new to go, even if later ones are older (shards decide
        // out of sequence order by a little): deleting past it would leave a gap.
        if !(bounds.decided_from_us..bounds.decided_before_us).contains(&decided_us) {
            break;
        }
        match &mut range {
            None => {
                range = Some(PrunedRange {
                    from_seq: seq,
                    to_seq: seq,
                    decided_from_us: decided_us,
                    decided_to_us: decided_us,
                    sealed_by: String::new(),
                    at_us: 0,
                })
            }
            Some(range) => {
                range.to_seq = seq;
                range.decided_from_us = range.decided_from_us.min(decided_us);
                range.decided_to_us = range.decided_to_us.max(decided_us);
            }
        }
    }
    Ok(range)
}

/// Records a deleted range: it extends the last range if that one ends just before it and is
/// sealed by the same snapshot (a retention pass prunes in many small steps), else it is a new
/// range.
fn record(
    connection: &Connection,
    range: &PrunedRange,
    sealed_by: &str,
    at_us: u64,
) -> rusqlite::Result<()> {
    let extended = connection
        .prepare_cached(
            "UPDATE pruned_ranges SET to_seq = ?2, \
             decided_from_us = MIN(decided_from_us, ?3), decided_to_us = MAX(decided_to_us, ?4), \
             at_us = ?5 \
             WHERE from_seq = (SELECT MAX(from_seq) FROM pruned_ranges) \
             AND to_seq = ?1 - 1 AND sealed_by = ?6",
        )?
        .execute(params![
            range.from_seq as i64,
            range.to_seq as i64,
            range.decided_from_us as i64,
            range.decided_to_us as i64,
            at_us as i64,
            sealed_by
        ])?;
    if extended == 0 {
        connection
            .prepare_cached(
                "INSERT INTO pruned_ranges (from_seq, to_seq, decided_from_us, decided_to_us, \
                 sealed_by, at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                range.from_seq as i64,
                range.to_seq as i64,
                range.decided_from_us as i64,
                range.decided_to_us as i64,
                sealed_by,
                at_us as i64
            ])?;
    }
    Ok(())
}
