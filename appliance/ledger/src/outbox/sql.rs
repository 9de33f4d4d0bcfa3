//! The outbox's statements over one connection. Each write is one transaction (or one
//! autocommit statement) on a connection that syncs FULL: durable when it returns.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::LedgerError;
use crate::error::storage_error;

use super::{
    Change, ChangeRow, Cursors, EndpointRow, EndpointState, FailedAttempt, MessageRow, NewEndpoint,
    NewMessage,
};

/// Why an outbox write was refused, before it is turned into a [`crate::LedgerError`].
pub(crate) enum Refused {
    /// No such endpoint, or a removed one.
    NoSuchEndpoint(u64),
    /// The cursors given are behind the stored ones.
    Behind { stored: u64, got: u64 },
    /// No such pending message.
    NoSuchMessage { endpoint: u64, number: u64 },
    /// SQLite failed.
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for Refused {
    fn from(error: rusqlite::Error) -> Self {
        Refused::Sql(error)
    }
}

pub(crate) fn add_endpoint(
    connection: &mut Connection,
    endpoint: &NewEndpoint<'_>,
    change: &Change<'_>,
) -> rusqlite::Result<u64> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    transaction.execute(
        "INSERT INTO webhook_endpoints (url, settings, state, state_reason, receipts_after, \
         timeline_after, created_us, changed_us, events_after) \
         VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6, ?6, ?7)",
        params![
            endpoint.url,
            endpoint.settings_json,
            change.reason,
            endpoint.receipts_after,
            endpoint.timeline_after,
            change.at_us,
            endpoint.events_after,
        ],
    )?;
    let id = transaction.last_insert_rowid() as u64;
    record_change(&transaction, id, change)?;
    transaction.commit()?;
    Ok(id)
}

pub(crate) fn endpoints(connection: &Connection) -> rusqlite::Result<Vec<EndpointRow>> {
    let mut query = connection.prepare_cached(
        "SELECT id, url, settings, state, state_reason, receipts_after, timeline_after, \
         created_us, changed_us, events_after FROM webhook_endpoints ORDER BY id",
    )?;
    let rows = query.query_map([], |row| {
        let state: String = row.get(3)?;
        Ok(EndpointRow {
            id: row.get(0)?,
            url: row.get(1)?,
            settings_json: row.get(2)?,
            // The table's CHECK admits only the four names.
            state: EndpointState::parse(&state).unwrap_or(EndpointState::Disabled),
            state_reason: row.get(4)?,
            receipts_after: row.get(5)?,
            timeline_after: row.get(6)?,
            created_us: row.get(7)?,
            changed_us: row.get(8)?,
            events_after: row.get(9)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn change_endpoint(
    connection: &mut Connection,
    id: u64,
    state: Option<EndpointState>,
    settings_json: Option<&str>,
    change: &Change<'_>,
) -> Result<(), Refused> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = transaction.execute(
        "UPDATE webhook_endpoints SET state = COALESCE(?2, state), \
         settings = COALESCE(?3, settings), \
         state_reason = CASE WHEN ?2 IS NULL THEN state_reason ELSE ?4 END, changed_us = ?5 \
         WHERE id = ?1 AND state != 'removed'",
        params![
            id,
            state.map(EndpointState::as_str),
            settings_json,
            change.reason,
            change.at_us
        ],
    )?;
    if changed == 0 {
        return Err(Refused::NoSuchEndpoint(id));
    }
    if state == Some(EndpointState::Active) {
        // Resumed: what it is owed starts the retry ladder over, due now, so a message that
        // waited past the ladder's end is not given up at its next failure.
        transaction.execute(
            "UPDATE webhook_messages SET attempts = 0, first_attempt_us = NULL, \
             next_attempt_us = ?2 \
             WHERE endpoint = ?1 AND acked_us IS NULL AND given_up_us IS NULL",
            params![id, change.at_us],
        )?;
    }
    record_change(&transaction, id, change)?;
    transaction.commit()?;
    Ok(())
}

fn record_change(
    connection: &Connection,
    endpoint: u64,
    change: &Change<'_>,
) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO webhook_changes (at_us, endpoint, action, actor, reason) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            change.at_us,
            endpoint,
            change.action,
            change.actor,
            change.reason
        ])
        .map(drop)
}

pub(crate) fn endpoint_changes(
    connection: &Connection,
    endpoint: Option<u64>,
) -> rusqlite::Result<Vec<ChangeRow>> {
    let mut query = connection.prepare_cached(
        "SELECT seq, endpoint, at_us, action, actor, reason FROM webhook_changes \
         WHERE ?1 IS NULL OR endpoint = ?1 ORDER BY seq",
    )?;
    let rows = query.query_map([endpoint], |row| {
        Ok(ChangeRow {
            seq: row.get(0)?,
            endpoint: row.get(1)?,
            at_us: row.get(2)?,
            action: row.get(3)?,
            actor: row.get(4)?,
            reason: row.get(5)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn enqueue(
    connection: &mut Connection,
    endpoint: u64,
    messages: &[NewMessage<'_>],
    cursors: Cursors,
    due_us: u64,
) -> Result<(), Refused> {
    // Immediate: it reads before it writes, and a deferred transaction whose snapshot another
    // connection (the ledger thread's receipts) moved past cannot upgrade to write: SQLite
    // answers "database is locked" at once, without waiting.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored: Option<(u64, u64, u64)> = transaction
        .query_row(
            "SELECT receipts_after, timeline_after, events_after FROM webhook_endpoints \
             WHERE id = ?1 AND state != 'removed'",
            [endpoint],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((receipts, timeline, events)) = stored else {
        return Err(Refused::NoSuchEndpoint(endpoint));
    };
    for (stored, got) in [
        (receipts, cursors.receipts_after),
        (timeline, cursors.timeline_after),
        (events, cursors.events_after),
    ] {
        if got < stored {
            return Err(Refused::Behind { stored, got });
        }
    }
    let last: u64 = transaction.query_row(
        "SELECT COALESCE(MAX(number), 0) FROM webhook_messages WHERE endpoint = ?1",
        [endpoint],
        |row| row.get(0),
    )?;
    {
        let mut insert = transaction.prepare_cached(
            "INSERT INTO webhook_messages (endpoint, number, id, event, first_receipt, \
             last_receipt, occurred_us, body, created_us, next_attempt_us) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?;
        for (offset, message) in messages.iter().enumerate() {
            insert.execute(params![
                endpoint,
                last + 1 + offset as u64,
                message.id,
                message.event,
                message.receipts.map(|(first, _)| first),
                message.receipts.map(|(_, last)| last),
                message.occurred_us,
                message.body,
                due_us,
            ])?;
        }
    }
    transaction.execute(
        "UPDATE webhook_endpoints SET receipts_after = ?2, timeline_after = ?3, \
         events_after = ?4 WHERE id = ?1",
        params![
            endpoint,
            cursors.receipts_after,
            cursors.timeline_after,
            cursors.events_after
        ],
    )?;
    transaction.commit()?;
    Ok(())
}

/// The columns a [`MessageRow`] is read from, with or without the body.
const MESSAGE_COLUMNS: &str = "endpoint, number, id, event, first_receipt, last_receipt, \
     occurred_us, created_us, attempts, first_attempt_us, next_attempt_us, last_failure, \
     acked_us, ack_sha256, given_up_us";

fn message_row(row: &Row<'_>, with_body: bool) -> rusqlite::Result<MessageRow> {
    let first: Option<u64> = row.get(4)?;
    let last: Option<u64> = row.get(5)?;
    let ack: Option<Vec<u8>> = row.get(13)?;
    Ok(MessageRow {
        endpoint: row.get(0)?,
        number: row.get(1)?,
        id: row.get(2)?,
        event: row.get(3)?,
        receipts: first.zip(last),
        occurred_us: row.get(6)?,
        created_us: row.get(7)?,
        attempts: row.get(8)?,
        first_attempt_us: row.get(9)?,
        next_attempt_us: row.get(10)?,
        last_failure: row.get(11)?,
        acked_us: row.get(12)?,
        ack_sha256: ack.and_then(|bytes| bytes.try_into().ok()),
        given_up_us: row.get(14)?,
        body: if with_body { row.get(15)? } else { None },
    })
}

/// Every `receipt.issued` message carrying a receipt in `first..=last` (see
/// `Ledger::webhook_messages_over`).
pub(crate) fn messages_over(
    connection: &Connection,
    path: &Path,
    [first, last]: [u64; 2],
    each: &mut dyn FnMut(String, MessageRow) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    let storage = storage_error(path);
    let mut query = connection
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS}, (SELECT url FROM webhook_endpoints AS e \
             WHERE e.id = webhook_messages.endpoint) FROM webhook_messages \
             WHERE event = 'receipt.issued' AND first_receipt <= ?2 AND last_receipt >= ?1 \
             ORDER BY endpoint, number"
        ))
        .map_err(&storage)?;
    let mut rows = query
        .query(params![
            first.min(i64::MAX as u64),
            last.min(i64::MAX as u64)
        ])
        .map_err(&storage)?;
    while let Some(row) = rows.next().map_err(&storage)? {
        let url: String = row.get(15).map_err(&storage)?;
        each(url, message_row(row, false).map_err(&storage)?)?;
    }
    Ok(())
}

/// Deletes messages done with whose receipts all precede `below_seq`, keeping each endpoint's
/// last message (see `Ledger::prune_webhook_messages`). Bundle events, a few a day, stay.
pub(crate) fn prune_done(connection: &Connection, below_seq: u64) -> rusqlite::Result<usize> {
    connection.execute(
        "DELETE FROM webhook_messages \
         WHERE (acked_us IS NOT NULL OR given_up_us IS NOT NULL) \
           AND last_receipt IS NOT NULL AND last_receipt < ?1 \
           AND number < (SELECT MAX(number) FROM webhook_messages AS last \
                         WHERE last.endpoint = webhook_messages.endpoint)",
        [below_seq.min(i64::MAX as u64)],
    )
}

/// The last receipt every endpoint not removed is done with (see `Ledger::webhook_hold`).
pub(crate) fn hold(connection: &Connection) -> rusqlite::Result<Option<u64>> {
    connection.query_row(
        "SELECT MIN(seq) FROM ( \
           SELECT receipts_after AS seq FROM webhook_endpoints WHERE state != 'removed' \
           UNION ALL \
           SELECT m.first_receipt - 1 FROM webhook_messages m \
             JOIN webhook_endpoints e ON e.id = m.endpoint \
           WHERE e.state != 'removed' AND m.acked_us IS NULL AND m.given_up_us IS NULL \
             AND m.first_receipt IS NOT NULL)",
        [],
        |row| row.get(0),
    )
}

pub(crate) fn pending(connection: &Connection, endpoint: u64) -> rusqlite::Result<Vec<MessageRow>> {
    let mut query = connection.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS}, body FROM webhook_messages \
         WHERE endpoint = ?1 AND acked_us IS NULL AND given_up_us IS NULL ORDER BY number"
    ))?;
    let rows = query.query_map([endpoint], |row| message_row(row, true))?;
    rows.collect()
}

pub(crate) fn messages(
    connection: &Connection,
    endpoint: u64,
    before: Option<u64>,
    limit: usize,
) -> rusqlite::Result<Vec<MessageRow>> {
    let mut query = connection.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM webhook_messages \
         WHERE endpoint = ?1 AND number < ?2 ORDER BY number DESC LIMIT ?3"
    ))?;
    let before = before.map_or(i64::MAX, |number| number.min(i64::MAX as u64) as i64);
    let limit = limit.min(i64::MAX as usize) as i64;
    let rows = query.query_map(params![endpoint, before, limit], |row| {
        message_row(row, false)
    })?;
    rows.collect()
}

pub(crate) fn record_failure(
    connection: &Connection,
    endpoint: u64,
    number: u64,
    attempt: &FailedAttempt<'_>,
) -> Result<(), Refused> {
    let changed = connection
        .prepare_cached(
            "UPDATE webhook_messages SET attempts = attempts + 1, \
             first_attempt_us = COALESCE(first_attempt_us, ?3), last_failure = ?4, \
             next_attempt_us = COALESCE(?5, next_attempt_us), \
             given_up_us = CASE WHEN ?5 IS NULL THEN ?3 END, \
             body = CASE WHEN ?5 IS NULL THEN NULL ELSE body END \
             WHERE endpoint = ?1 AND number = ?2 AND acked_us IS NULL AND given_up_us IS NULL",
        )?
        .execute(params![
            endpoint,
            number,
            attempt.at_us,
            attempt.failure,
            attempt.next_attempt_us
        ])?;
    match changed {
        0 => Err(Refused::NoSuchMessage { endpoint, number }),
        _ => Ok(()),
    }
}

pub(crate) fn acknowledge(
    connection: &Connection,
    endpoint: u64,
    number: u64,
    attempted_us: u64,
    acked_us: u64,
    answer_sha256: [u8; 32],
) -> Result<(), Refused> {
    let changed = connection
        .prepare_cached(
            "UPDATE webhook_messages SET attempts = attempts + 1, \
             first_attempt_us = COALESCE(first_attempt_us, ?3), acked_us = ?4, \
             ack_sha256 = ?5, body = NULL \
             WHERE endpoint = ?1 AND number = ?2 AND acked_us IS NULL AND given_up_us IS NULL",
        )?
        .execute(params![
            endpoint,
            number,
            attempted_us,
            acked_us,
            &answer_sha256[..]
        ])?;
    match changed {
        0 => Err(Refused::NoSuchMessage { endpoint, number }),
        _ => Ok(()),
    }
}
