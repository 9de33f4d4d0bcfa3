//! The control plane's alarms, in the ledger file: a scenario pack that failed its
//! expectations, and the like. Append-only, in order; webhook endpoints follow them with a
//! cursor of their own, as they follow receipts and the bundle timeline.

use rusqlite::{Connection, params};

/// One alarm, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlEvent {
    /// Its place in order (assigned when recorded).
    pub seq: u64,
    /// When it happened, Unix microseconds.
    pub at_us: u64,
    /// The webhook event type it is told as, such as `scenario.failed`.
    pub kind: String,
    /// What happened: the event's data, JSON.
    pub body: String,
}

pub(crate) fn record(
    connection: &Connection,
    at_us: u64,
    kind: &str,
    body: &str,
) -> rusqlite::Result<u64> {
    connection.execute(
        "INSERT INTO control_events (at_us, kind, body) VALUES (?1, ?2, ?3)",
        params![at_us.min(i64::MAX as u64) as i64, kind, body],
    )?;
    Ok(connection.last_insert_rowid() as u64)
}

pub(crate) fn after(
    connection: &Connection,
    after_seq: u64,
    limit: usize,
) -> rusqlite::Result<Vec<ControlEvent>> {
    let mut query = connection.prepare_cached(
        "SELECT seq, at_us, kind, body FROM control_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = query.query_map(
        params![
            after_seq.min(i64::MAX as u64) as i64,
            limit.min(i64::MAX as usize) as i64
        ],
        stored,
    )?;
    rows.collect()
}

/// The newest `limit` events of the given kinds, oldest first.
pub(crate) fn latest_of(
    connection: &Connection,
    kinds: &[&str],
    limit: usize,
) -> rusqlite::Result<Vec<ControlEvent>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; kinds.len()].join(", ");
    let mut query = connection.prepare_cached(&format!(
        "SELECT seq, at_us, kind, body FROM control_events WHERE kind IN ({marks}) \
         ORDER BY seq DESC LIMIT {}",
        limit.min(i64::MAX as usize)
    ))?;
    let rows = query.query_map(rusqlite::params_from_iter(kinds), stored)?;
    let mut events = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    events.reverse();
    Ok(events)
}

fn stored(row: &rusqlite::Row<'_>) -> rusqlite::Result<ControlEvent> {
    Ok(ControlEvent {
        seq: row.get::<_, i64>(0)? as u64,
        at_us: row.get::<_, i64>(1)? as u64,
        kind: row.get(2)?,
        body: row.get(3)?,
    })
}

pub(crate) fn last_seq(connection: &Connection) -> rusqlite::Result<u64> {
    connection.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM control_events",
        [],
        |row| row.get::<_, i64>(0).map(|seq| seq as u64),
    )
}
