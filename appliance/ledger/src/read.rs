//! Reading receipts back from the compact form: the columns joined with their dictionaries,
//! and the envelope rebuilt as issued.

use std::path::Path;

use rusqlite::types::FromSqlError;
use rusqlite::{Connection, Row, params};

use crate::compact::{Columns, Hex, envelope_json};
use crate::error::storage_error;
use crate::{ChargeGroup, LedgerError, LedgerRecord, StoredReceipt};

/// The columns `record` reads, of the receipts table as `r`.
macro_rules! columns {
    () => {
        "SELECT r.seq, t.name, r.request_id, r.statement_digest, k.name, v.name, why.name, \
         p.name, c.name, r.charged, r.budget_remaining, r.shard, r.waited_us, r.decided_us, \
         r.bundle_revision, COALESCE(r.bundle_hash, b.hash), signer.name, r.signature, \
         r.payload, r.envelope, r.reason "
    };
}

/// Each name `columns!` reads, joined from its dictionary. LEFT JOINs: a row whose id names
/// nothing fails its read instead of silently dropping out of it.
macro_rules! joins {
    () => {
        "LEFT JOIN tenant_names t ON t.id = r.tenant \
         LEFT JOIN kind_names k ON k.id = r.kind \
         LEFT JOIN verdict_names v ON v.id = r.verdict \
         LEFT JOIN reason_names why ON why.id = r.reason \
         LEFT JOIN purpose_names p ON p.id = r.purpose \
         LEFT JOIN class_names c ON c.id = r.dataset_class \
         LEFT JOIN key_ids signer ON signer.id = r.key_id \
         LEFT JOIN bundles b ON r.bundle_hash IS NULL AND b.revision = r.bundle_revision "
    };
}

/// The columns `record` reads from every receipt, then `$tail`.
macro_rules! select {
    ($tail:literal) => {
        concat!(columns!(), "FROM receipts r ", joins!(), $tail)
    };
}

/// `columns!`, for statements built at run time (searches).
pub(crate) const COLUMNS: &str = columns!();
/// `joins!`, for statements built at run time.
pub(crate) const JOINS: &str = joins!();

/// The receipt with this sequence number.
pub(crate) fn by_seq(
    connection: &Connection,
    path: &Path,
    seq: u64,
) -> Result<Option<LedgerRecord>, LedgerError> {
    let storage = storage_error(path);
    let mut query = connection
        .prepare_cached(select!("WHERE r.seq = ?1"))
        .map_err(&storage)?;
    let mut rows = query.query([sql_int(seq)]).map_err(&storage)?;
    rows.next()
        .map_err(&storage)?
        .map(|row| record(row, path))
        .transpose()
}

/// Up to `limit` receipts after `after_seq`, in order.
pub(crate) fn after(
    connection: &Connection,
    path: &Path,
    after_seq: u64,
    limit: usize,
) -> Result<Vec<LedgerRecord>, LedgerError> {
    let storage = storage_error(path);
    // One statement is one read transaction: it sees whole committed batches only, the
    // ledger's numbers have no gaps, and pruning only ever removes a prefix, so the rows are a
    // gapless run from after_seq + 1 (or from the oldest receipt kept, if that is later).
    let mut query = connection
        .prepare_cached(select!("WHERE r.seq > ?1 ORDER BY r.seq LIMIT ?2"))
        .map_err(&storage)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = query
        .query(params![sql_int(after_seq), limit])
        .map_err(&storage)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(&storage)? {
        records.push(record(row, path)?);
    }
    Ok(records)
}

/// A tenant's receipts decided in `[from_us, to_us)`, in order, handed to `each`.
pub(crate) fn between(
    connection: &Connection,
    path: &Path,
    tenant: &str,
    [from_us, to_us]: [u64; 2],
    each: &mut dyn FnMut(StoredReceipt) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    let storage = storage_error(path);
    let mut query = connection
        .prepare_cached(select!(
            "WHERE r.tenant = (SELECT id FROM tenant_names WHERE name = ?1) \
             AND r.decided_us >= ?2 AND r.decided_us < ?3 ORDER BY r.seq"
        ))
        .map_err(&storage)?;
    let mut rows = query
        .query(params![tenant, sql_int(from_us), sql_int(to_us)])
        .map_err(&storage)?;
    while let Some(row) = rows.next().map_err(&storage)? {
        each(record(row, path)?.receipt)?;
    }
    Ok(())
}

/// Every tenant name receipts were stored under, sorted. The dictionary holds exactly those:
/// a name is added with the first receipt that carries it and never deleted.
pub(crate) fn tenants(connection: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut query = connection.prepare_cached("SELECT name FROM tenant_names ORDER BY name")?;
    let names = query.query_map([], |row| row.get(0))?;
    names.collect()
}

/// A tenant's charges since `since_us`, per purpose, class and group of `group_us`.
pub(crate) fn charges_since(
    connection: &Connection,
    tenant: &str,
    since_us: u64,
    group_us: u64,
) -> rusqlite::Result<Vec<ChargeGroup>> {
    let group = group_us.max(1) as i64;
    // Summed by id, then named. LEFT JOIN: a dangling id fails the read (a NULL name is not a
    // String) rather than leaving its charges out of a budget.
    let mut query = connection.prepare_cached(
        "SELECT p.name, c.name, s.g, s.charged FROM ( \
             SELECT purpose, dataset_class, decided_us / ?3 AS g, SUM(charged) AS charged \
             FROM receipts \
             WHERE tenant = (SELECT id FROM tenant_names WHERE name = ?1) \
             AND decided_us >= ?2 AND charged > 0 \
             GROUP BY purpose, dataset_class, g) AS s \
         LEFT JOIN purpose_names p ON p.id = s.purpose \
         LEFT JOIN class_names c ON c.id = s.dataset_class \
         ORDER BY s.g, p.name, c.name",
    )?;
    let rows = query.query_map(params![tenant, since_us as i64, group], |row| {
        let g: i64 = row.get(2)?;
        let charged: i64 = row.get(3)?;
        Ok(ChargeGroup {
            purpose: row.get(0)?,
            dataset_class: row.get(1)?,
            from_us: (g * group) as u64,
            to_us: (g * group + group - 1) as u64,
            charged: charged as u64,
        })
    })?;
    rows.collect()
}

/// A number as SQLite compares it; numbers past `i64::MAX` are never stored, so clamping
/// keeps every comparison right.
pub(crate) fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Reads a row selected with `select!` (or [`COLUMNS`] and [`JOINS`]).
pub(crate) fn record(row: &Row<'_>, path: &Path) -> Result<LedgerRecord, LedgerError> {
    let seq = row.get::<_, i64>(0).map_err(storage_error(path))? as u64;
    decode(row, seq).map_err(|bad| match bad {
        Bad::Sql(source) => storage_error(path)(source),
        Bad::Row(what) => LedgerError::Malformed {
            path: path.display().to_string(),
            seq,
            what,
        },
    })
}

/// Why a row could not be read: SQLite failed, or the row holds what no receipt has.
enum Bad {
    Sql(rusqlite::Error),
    Row(String),
}

impl From<rusqlite::Error> for Bad {
    fn from(error: rusqlite::Error) -> Self {
        Bad::Sql(error)
    }
}

impl From<FromSqlError> for Bad {
    fn from(error: FromSqlError) -> Self {
        Bad::Row(error.to_string())
    }
}

fn decode(row: &Row<'_>, seq: u64) -> Result<LedgerRecord, Bad> {
    let decided_us = row.get::<_, i64>(13)? as u64;
    let waited_us = row.get::<_, i64>(12)? as u64;
    let reason = match row.get_ref(20)?.as_i64_or_null()? {
        Some(_) => Some(name(row, 6, "reason")?),
        None => None,
    };
    let columns = Columns {
        seq,
        tenant: name(row, 1, "tenant")?,
        request_id: row.get::<_, i64>(2)? as u64,
        statement_digest: hex(row, 3, "statement digest")?,
        kind: name(row, 4, "kind")?,
        verdict: name(row, 5, "verdict")?,
        reason,
        purpose: name(row, 7, "purpose")?,
        dataset_class: name(row, 8, "dataset class")?,
        charged: row.get::<_, i64>(9)? as u64,
        budget_remaining: row.get::<_, Option<i64>>(10)?.map(|v| v as u64),
        shard: u16::try_from(row.get::<_, i64>(11)?)
            .map_err(|_| Bad::Row("its shard is out of range".into()))?,
        received_us: decided_us.wrapping_sub(waited_us),
        decided_us,
        bundle_revision: row.get::<_, i64>(14)? as u64,
        bundle_hash: hex(row, 15, "bundle hash (or the bundle its revision names)")?,
        key_id: name(row, 16, "key id")?,
    };
    let envelope = envelope_json(
        &columns,
        row.get_ref(17)?.as_blob_or_null()?,
        row.get_ref(18)?.as_blob_or_null()?,
        row.get_ref(19)?.as_str_or_null()?,
    )
    .map_err(|what| Bad::Row(what.into()))?;
    Ok(LedgerRecord {
        tenant: columns.tenant.to_owned(),
        receipt: StoredReceipt {
            seq,
            request_id: columns.request_id,
            purpose: columns.purpose.to_owned(),
            dataset_class: columns.dataset_class.to_owned(),
            verdict: columns.verdict.to_owned(),
            charged: columns.charged,
            decided_us,
            envelope_json: envelope,
        },
    })
}

/// A name joined from its dictionary; missing if the row's id names nothing.
fn name<'r>(row: &'r Row<'_>, index: usize, what: &str) -> Result<&'r str, Bad> {
    row.get_ref(index)?
        .as_str_or_null()?
        .ok_or_else(|| Bad::Row(format!("its {what} id names nothing")))
}

fn hex<'r>(row: &'r Row<'_>, index: usize, what: &str) -> Result<Hex<'r>, Bad> {
    Hex::read(row.get_ref(index)?)
        .ok_or_else(|| Bad::Row(format!("its {what} is neither 32 bytes nor text")))
}
