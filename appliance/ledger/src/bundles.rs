//! Promoted policy bundles and the timeline of promotions and rollbacks, in the ledger file.
//!
//! The control thread writes here through its own connection while the ledger thread commits
//! receipts through another: promotions are rare and their transactions tiny, and SQLite
//! serialises them with the ledger thread's commits (each side waits on the other's lock for
//! up to [`crate::BUSY_WAIT`] instead of failing).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{CANARY_AFTER_SWITCH, CanaryAfterSwitch, TimelineEvent};

/// Records an event and, if its revision is not stored yet, the bundle it puts in force, in one
/// transaction (durable: the connection syncs FULL). Returns the event's sequence number.
/// Revisions are bound as `u64`, which rusqlite refuses above `i64::MAX` rather than storing
/// them negative; `record_switch` names that refusal first.
pub(crate) fn record(
    connection: &mut Connection,
    event: &TimelineEvent,
    archive: &[u8],
) -> rusqlite::Result<u64> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seq = record_in(&transaction, event, archive)?;
    transaction.commit()?;
    Ok(seq)
}

/// [`record`] inside a transaction the caller commits.
pub(crate) fn record_in(
    transaction: &rusqlite::Transaction<'_>,
    event: &TimelineEvent,
    archive: &[u8],
) -> rusqlite::Result<u64> {
    let links = serde_json::to_string(&event.links).expect("a list of strings serialises");
    let drift = event
        .drift
        .as_ref()
        .map(|note| serde_json::to_string(note).expect("a drift note serialises"));
    // OR IGNORE: a rollback puts a stored revision back in force; the bundle is kept as it was
    // first promoted (a trigger refuses to rewrite it).
    transaction.execute(
        "INSERT OR IGNORE INTO bundles (revision, hash, archive, stored_us) \
         VALUES (?1, ?2, ?3, ?4)",
        params![
            event.to_revision,
            event.bundle_hash,
            archive,
            event.at_us as i64
        ],
    )?;
    transaction.execute(
        "INSERT INTO bundle_timeline (at_us, action, actor, reason, from_revision, \
         to_revision, links, drift) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            event.at_us as i64,
            event.action,
            event.actor,
            event.reason,
            event.from_revision,
            event.to_revision,
            links,
            drift
        ],
    )?;
    Ok(transaction.last_insert_rowid() as u64)
}

/// Every event, oldest first.
pub(crate) fn timeline(connection: &Connection) -> rusqlite::Result<Vec<TimelineEvent>> {
    let mut query = connection.prepare_cached(
        "SELECT t.seq, t.at_us, t.action, t.actor, t.reason, t.from_revision, \
         t.to_revision, t.links, b.hash, t.drift FROM bundle_timeline t \
         JOIN bundles b ON b.revision = t.to_revision ORDER BY t.seq",
    )?;
    // Revisions are read as `u64`: a negative one (stored by an appliance before revisions
    // were bounded) is an error, not a huge revision.
    let rows = query.query_map([], |row| {
        let links: String = row.get(7)?;
        let drift: Option<String> = row.get(9)?;
        Ok(TimelineEvent {
            seq: row.get::<_, i64>(0)? as u64,
            at_us: row.get::<_, i64>(1)? as u64,
            action: row.get(2)?,
            actor: row.get(3)?,
            reason: row.get(4)?,
            from_revision: row.get::<_, u64>(5)?,
            to_revision: row.get::<_, u64>(6)?,
            // Links are notes for people: unreadable ones are shown as none rather than
            // hiding the event.
            links: serde_json::from_str(&links).unwrap_or_default(),
            bundle_hash: row.get(8)?,
            // A note is for people too: an unreadable one is shown as none.
            drift: drift.and_then(|text| serde_json::from_str(&text).ok()),
            canary: None,
        })
    })?;
    let mut events: Vec<TimelineEvent> = rows.collect::<rusqlite::Result<_>>()?;
    for judged in canary_after_switches(connection)? {
        if let Some(event) = events.iter_mut().find(|e| e.seq == judged.timeline_seq) {
            event.canary = Some(judged);
        }
    }
    Ok(events)
}

/// The golden canary's judgements after switches, oldest first (unreadable ones skipped: they
/// are notes for people).
fn canary_after_switches(connection: &Connection) -> rusqlite::Result<Vec<CanaryAfterSwitch>> {
    let mut query = connection
        .prepare_cached("SELECT body FROM control_events WHERE kind = ?1 ORDER BY seq")?;
    let bodies = query
        .query_map([CANARY_AFTER_SWITCH], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(bodies
        .iter()
        .filter_map(|body| serde_json::from_str(body).ok())
        .collect())
}

/// The revision in force: the last event's.
pub(crate) fn active_revision(connection: &Connection) -> rusqlite::Result<Option<u64>> {
    connection
        .query_row(
            "SELECT to_revision FROM bundle_timeline ORDER BY seq DESC LIMIT 1",
            [],
            |row| row.get::<_, u64>(0),
        )
        .optional()
}

/// A stored bundle's archive, as promoted.
pub(crate) fn archive(connection: &Connection, revision: u64) -> rusqlite::Result<Option<Vec<u8>>> {
    // Revisions past i64::MAX are never stored.
    let Ok(revision) = i64::try_from(revision) else {
        return Ok(None);
    };
    connection
        .query_row(
            "SELECT archive FROM bundles WHERE revision = ?1",
            [revision],
            |row| row.get(0),
        )
        .optional()
}

/// The highest revision ever stored, 0 for none.
pub(crate) fn highest_revision(connection: &Connection) -> rusqlite::Result<u64> {
    connection.query_row(
        "SELECT COALESCE(MAX(revision), 0) FROM bundles",
        [],
        |row| row.get::<_, u64>(0),
    )
}
