//! Partners' terms requests: a partner asks for other rates, key quota or budget caps; within
//! its invite's template the request is granted at once, above it it waits for an operator.
//! A request is granted in the same transaction that records the switch putting its terms in
//! force, so a granted request always names the revision that carries it. Each request made,
//! granted or declined is a control event (`terms.requested`, `terms.granted`,
//! `terms.declined`) in the same transaction. Requests are never deleted, and a decided one
//! never changes.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{LedgerError, SqliteLedger, TimelineEvent, control_events};

/// Control event kinds of terms requests.
pub const TERMS_REQUESTED: &str = "terms.requested";
/// See [`TERMS_REQUESTED`].
pub const TERMS_GRANTED: &str = "terms.granted";
/// See [`TERMS_REQUESTED`].
pub const TERMS_DECLINED: &str = "terms.declined";

/// A request to store, pending.
#[derive(Clone, Copy, Debug)]
pub struct NewTermsRequest<'a> {
    /// The tenant asking.
    pub tenant: &'a str,
    /// The terms asked for (JSON, a partner terms file's content).
    pub terms: &'a str,
    /// Whether they are within the tenant's invite template.
    pub within_template: bool,
    /// When, Unix microseconds.
    pub created_us: u64,
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermsState {
    /// Waiting for an operator (or, within the template, for its switch).
    Pending,
    /// In force from `revision`.
    Granted,
    /// Declined by an operator.
    Declined,
}

/// A stored terms request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermsRequestRow {
    /// Its number.
    pub id: u64,
    /// The tenant.
    pub tenant: String,
    /// The terms asked for (JSON).
    pub terms: String,
    /// Whether they were within the template.
    pub within_template: bool,
    /// When it was made.
    pub created_us: u64,
    /// Where it stands.
    pub state: TermsState,
    /// When it was decided.
    pub decided_us: Option<u64>,
    /// Who decided it (`template` when granted within it).
    pub decided_by: Option<String>,
    /// Why, as the decider said.
    pub reason: Option<String>,
    /// The revision that put it in force.
    pub revision: Option<u64>,
}

/// Why a request was not granted or declined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TermsRefusal {
    /// No such request.
    #[error("no terms request has this number")]
    Unknown,
    /// Already granted or declined.
    #[error("the terms request was already decided")]
    Decided,
}

/// The terms requests in the ledger file.
pub trait TermsRequests {
    /// Stores a pending request; its number.
    fn add_terms_request(&mut self, request: &NewTermsRequest<'_>) -> Result<u64, LedgerError>;
    /// Every request, newest first.
    fn terms_requests(&self) -> Result<Vec<TermsRequestRow>, LedgerError>;
    /// Request `id`, if there is one.
    fn terms_request(&self, id: u64) -> Result<Option<TermsRequestRow>, LedgerError>;
    /// Grants pending request `id` (by `by`, why) and records the switch that puts it in force
    /// (`event`, `archive`) in the same transaction; the timeline entry's number.
    fn grant_terms_switching(
        &mut self,
        id: u64,
        by: &str,
        reason: &str,
        event: &TimelineEvent,
        archive: &[u8],
    ) -> Result<Result<(TermsRequestRow, u64), TermsRefusal>, LedgerError>;
    /// Declines pending request `id`.
    fn decline_terms(
        &mut self,
        id: u64,
        by: &str,
        reason: &str,
        at_us: u64,
    ) -> Result<Result<TermsRequestRow, TermsRefusal>, LedgerError>;
}

impl TermsRequests for SqliteLedger {
    fn add_terms_request(&mut self, request: &NewTermsRequest<'_>) -> Result<u64, LedgerError> {
        self.writable()?;
        add(self.connection_mut(), request).map_err(|e| self.failed(e))
    }

    fn terms_requests(&self) -> Result<Vec<TermsRequestRow>, LedgerError> {
        all(self.connection()).map_err(|e| self.failed(e))
    }

    fn terms_request(&self, id: u64) -> Result<Option<TermsRequestRow>, LedgerError> {
        one(self.connection(), id).map_err(|e| self.failed(e))
    }

    fn grant_terms_switching(
        &mut self,
        id: u64,
        by: &str,
        reason: &str,
        event: &TimelineEvent,
        archive: &[u8],
    ) -> Result<Result<(TermsRequestRow, u64), TermsRefusal>, LedgerError> {
        self.writable()?;
        let decision = Decision {
            state: "granted",
            by,
            reason,
            at_us: event.at_us,
            revision: Some(event.to_revision),
        };
        decide(self.connection_mut(), id, &decision, Some((event, archive)))
            .map_err(|e| self.failed(e))
    }

    fn decline_terms(
        &mut self,
        id: u64,
        by: &str,
        reason: &str,
        at_us: u64,
    ) -> Result<Result<TermsRequestRow, TermsRefusal>, LedgerError> {
        self.writable()?;
        let decision = Decision {
            state: "declined",
            by,
            reason,
            at_us,
            revision: None,
        };
        decide(self.connection_mut(), id, &decision, None)
            .map(|r| r.map(|(row, _)| row))
            .map_err(|e| self.failed(e))
    }
}

const COLUMNS: &str = "id, tenant, terms, within_template, created_us, state, decided_us, \
                       decided_by, reason, revision";

fn add(connection: &mut Connection, request: &NewTermsRequest<'_>) -> rusqlite::Result<u64> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO terms_requests (tenant, terms, within_template, created_us, state) \
         VALUES (?1, ?2, ?3, ?4, 'pending')",
        params![
            request.tenant,
            request.terms,
            request.within_template,
            micros(request.created_us)
        ],
    )?;
    let id = tx.last_insert_rowid() as u64;
    let body = serde_json::json!({
        "id": id,
        "tenant": request.tenant,
        "within_template": request.within_template,
    });
    control_events::record(&tx, request.created_us, TERMS_REQUESTED, &body.to_string())?;
    tx.commit()?;
    Ok(id)
}

fn all(connection: &Connection) -> rusqlite::Result<Vec<TermsRequestRow>> {
    let mut query = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM terms_requests ORDER BY id DESC"
    ))?;
    let rows = query.query_map([], row)?;
    rows.collect()
}

fn one(connection: &Connection, id: u64) -> rusqlite::Result<Option<TermsRequestRow>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM terms_requests WHERE id = ?1"),
            params![micros(id)],
            row,
        )
        .optional()
}

struct Decision<'a> {
    state: &'static str,
    by: &'a str,
    reason: &'a str,
    at_us: u64,
    revision: Option<u64>,
}

/// Decides pending request `id` in one immediate transaction, with the switch when granted.
fn decide(
    connection: &mut Connection,
    id: u64,
    decision: &Decision<'_>,
    switch: Option<(&TimelineEvent, &[u8])>,
) -> rusqlite::Result<Result<(TermsRequestRow, u64), TermsRefusal>> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(mut request) = one(&tx, id)? else {
        return Ok(Err(TermsRefusal::Unknown));
    };
    if request.state != TermsState::Pending {
        return Ok(Err(TermsRefusal::Decided));
    }
    tx.execute(
        "UPDATE terms_requests SET state = ?2, decided_us = ?3, decided_by = ?4, reason = ?5, \
         revision = ?6 WHERE id = ?1 AND state = 'pending'",
        params![
            micros(id),
            decision.state,
            micros(decision.at_us),
            decision.by,
            decision.reason,
            decision.revision.map(micros)
        ],
    )?;
    let seq = match switch {
        Some((event, archive)) => crate::bundles::record_in(&tx, event, archive)?,
        None => 0,
    };
    let kind = if decision.revision.is_some() {
        TERMS_GRANTED
    } else {
        TERMS_DECLINED
    };
    let body = serde_json::json!({
        "id": id,
        "tenant": request.tenant,
        "by": decision.by,
        "reason": decision.reason,
        "revision": decision.revision,
    });
    control_events::record(&tx, decision.at_us, kind, &body.to_string())?;
    tx.commit()?;
    request.state = if decision.revision.is_some() {
        TermsState::Granted
    } else {
        TermsState::Declined
    };
    request.decided_us = Some(decision.at_us);
    request.decided_by = Some(decision.by.to_owned());
    request.reason = Some(decision.reason.to_owned());
    request.revision = decision.revision;
    Ok(Ok((request, seq)))
}

fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TermsRequestRow> {
    let state: String = row.get(5)?;
    Ok(TermsRequestRow {
        id: row.get::<_, i64>(0)? as u64,
        tenant: row.get(1)?,
        terms: row.get(2)?,
        within_template: row.get(3)?,
        created_us: row.get::<_, i64>(4)? as u64,
        state: match state.as_str() {
            "granted" => TermsState::Granted,
            "declined" => TermsState::Declined,
            _ => TermsState::Pending,
        },
        decided_us: row.get::<_, Option<i64>>(6)?.map(|us| us as u64),
        decided_by: row.get(7)?,
        reason: row.get(8)?,
        revision: row.get::<_, Option<i64>>(9)?.map(|r| r as u64),
    })
}

fn micros(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}
