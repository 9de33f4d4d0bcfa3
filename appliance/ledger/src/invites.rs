//! Partner invites: single-use, expiring, for a tenant name or prefix, under a template of the
//! terms a partner may take without approval. Only the SHA-256 digest of an invite's secret is
//! stored. Each invite made, revoked or redeemed is also a control event (`invite.created`,
//! `invite.revoked`, `invite.used`), in the same transaction, so the timeline shows it.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{LedgerError, SqliteLedger, control_events};

/// Control event kinds of invites.
pub const INVITE_CREATED: &str = "invite.created";
/// See [`INVITE_CREATED`].
pub const INVITE_REVOKED: &str = "invite.revoked";
/// See [`INVITE_CREATED`].
pub const INVITE_USED: &str = "invite.used";

/// An invite to store.
#[derive(Clone, Debug)]
pub struct NewInvite<'a> {
    /// SHA-256 of the invite's secret.
    pub digest: [u8; 32],
    /// The tenant the partner becomes: an exact id, or a prefix ending in `*`.
    pub tenant: &'a str,
    /// The template's terms (JSON).
    pub template: &'a str,
    /// Who made it (the admin token's name).
    pub created_by: &'a str,
    /// Why.
    pub reason: &'a str,
    /// When, Unix microseconds.
    pub created_us: u64,
    /// When it stops being usable.
    pub expires_us: u64,
}

/// Where an invite stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InviteState {
    /// Usable until it expires.
    Open,
    /// Redeemed once; never again.
    Used,
    /// Revoked by an operator.
    Revoked,
}

/// A stored invite (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteRow {
    /// Its number.
    pub id: u64,
    /// SHA-256 of its secret.
    pub digest: [u8; 32],
    /// The tenant or prefix.
    pub tenant: String,
    /// The template (JSON).
    pub template: String,
    /// Who made it, and why.
    pub created_by: String,
    /// See `created_by`.
    pub reason: String,
    /// When it was made, Unix microseconds.
    pub created_us: u64,
    /// When it expires.
    pub expires_us: u64,
    /// Open, used or revoked (an open invite past `expires_us` is expired).
    pub state: InviteState,
    /// When it was used or revoked.
    pub closed_us: Option<u64>,
    /// The tenant it made, or who revoked it.
    pub closed_by: Option<String>,
}

/// Why an invite was not redeemed or revoked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InviteRefusal {
    /// No invite has this number and secret.
    #[error("no such invite: check that it was copied whole")]
    Unknown,
    /// Already used.
    #[error("the invite was already used: ask the operator for a new one")]
    Used,
    /// Revoked.
    #[error("the invite was revoked: ask the operator for a new one")]
    Revoked,
    /// Past its expiry.
    #[error("the invite expired: ask the operator for a new one")]
    Expired,
    /// The tenant asked for is not one the invite allows.
    #[error("the invite is for tenant {allowed}, not {asked}")]
    WrongTenant {
        /// What the invite allows.
        allowed: String,
        /// What was asked for.
        asked: String,
    },
}

/// The invite book in the ledger file.
pub trait Invites {
    /// Stores an invite; its number.
    fn add_invite(&mut self, invite: &NewInvite<'_>) -> Result<u64, LedgerError>;
    /// Every invite, newest first.
    fn invites(&self) -> Result<Vec<InviteRow>, LedgerError>;
    /// Revokes open invite `id` (`Ok(Err)`: it was not open).
    fn revoke_invite(
        &mut self,
        id: u64,
        by: &str,
        reason: &str,
        at_us: u64,
    ) -> Result<Result<InviteRow, InviteRefusal>, LedgerError>;
    /// Redeems invite `id` whose secret has `digest` for `tenant`, at most once: it must be
    /// open, unexpired at `at_us`, and allow `tenant`.
    fn redeem_invite(
        &mut self,
        id: u64,
        digest: &[u8; 32],
        tenant: &str,
        at_us: u64,
    ) -> Result<Result<InviteRow, InviteRefusal>, LedgerError>;
    /// Invite `id`, if there is one.
    fn invite(&self, id: u64) -> Result<Option<InviteRow>, LedgerError>;
    /// Redeems invite `id` as [`Invites::redeem_invite`] does and, in the same transaction,
    /// records the switch that puts the tenant in force (`event`, `archive`): both happen or
    /// neither. The timeline entry's number with the invite.
    fn redeem_invite_switching(
        &mut self,
        redeem: &Redeem<'_>,
        event: &crate::TimelineEvent,
        archive: &[u8],
    ) -> Result<Result<(InviteRow, u64), InviteRefusal>, LedgerError>;
}

/// An invite to redeem.
#[derive(Clone, Copy, Debug)]
pub struct Redeem<'a> {
    /// Its number.
    pub id: u64,
    /// SHA-256 of the secret the partner gave.
    pub digest: &'a [u8; 32],
    /// The tenant asked for.
    pub tenant: &'a str,
    /// When, Unix microseconds.
    pub at_us: u64,
}

/// Why invite `invite` cannot be redeemed by `tenant` with a secret of `digest` at `at_us`,
/// if it cannot.
pub fn refusal(
    invite: &InviteRow,
    digest: &[u8; 32],
    tenant: &str,
    at_us: u64,
) -> Option<InviteRefusal> {
    if !same(digest, &invite.digest) {
        return Some(InviteRefusal::Unknown);
    }
    match invite.state {
        InviteState::Used => return Some(InviteRefusal::Used),
        InviteState::Revoked => return Some(InviteRefusal::Revoked),
        InviteState::Open => {}
    }
    if at_us >= invite.expires_us {
        return Some(InviteRefusal::Expired);
    }
    if !allows(&invite.tenant, tenant) {
        return Some(InviteRefusal::WrongTenant {
            allowed: invite.tenant.clone(),
            asked: tenant.to_owned(),
        });
    }
    None
}

/// Whether `pattern` (an id, or a prefix ending in `*`) allows `tenant`.
pub fn allows(pattern: &str, tenant: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => tenant.starts_with(prefix) && tenant.len() > prefix.len(),
        None => pattern == tenant,
    }
}

impl Invites for SqliteLedger {
    fn add_invite(&mut self, invite: &NewInvite<'_>) -> Result<u64, LedgerError> {
        self.writable()?;
        add(self.connection_mut(), invite).map_err(|e| self.failed(e))
    }

    fn invites(&self) -> Result<Vec<InviteRow>, LedgerError> {
        all(self.connection()).map_err(|e| self.failed(e))
    }

    fn revoke_invite(
        &mut self,
        id: u64,
        by: &str,
        reason: &str,
        at_us: u64,
    ) -> Result<Result<InviteRow, InviteRefusal>, LedgerError> {
        self.writable()?;
        let done =
            |tx: &rusqlite::Transaction<'_>| close(tx, id, Closing::Revoke { by, reason }, at_us);
        transaction(self.connection_mut(), done).map_err(|e| self.failed(e))
    }

    fn redeem_invite(
        &mut self,
        id: u64,
        digest: &[u8; 32],
        tenant: &str,
        at_us: u64,
    ) -> Result<Result<InviteRow, InviteRefusal>, LedgerError> {
        self.writable()?;
        let redeem = Redeem {
            id,
            digest,
            tenant,
            at_us,
        };
        let done = |tx: &rusqlite::Transaction<'_>| {
            close(tx, id, Closing::Redeem(&redeem), at_us).map(|r| r.map(|row| (row, 0)))
        };
        transaction(self.connection_mut(), done)
            .map(|r| r.map(|(row, _)| row))
            .map_err(|e| self.failed(e))
    }

    fn invite(&self, id: u64) -> Result<Option<InviteRow>, LedgerError> {
        one(self.connection(), id).map_err(|e| self.failed(e))
    }

    fn redeem_invite_switching(
        &mut self,
        redeem: &Redeem<'_>,
        event: &crate::TimelineEvent,
        archive: &[u8],
    ) -> Result<Result<(InviteRow, u64), InviteRefusal>, LedgerError> {
        self.writable()?;
        let done = |tx: &rusqlite::Transaction<'_>| {
            let closed = close(tx, redeem.id, Closing::Redeem(redeem), redeem.at_us)?;
            match closed {
                Ok(row) => Ok(Ok((row, crate::bundles::record_in(tx, event, archive)?))),
                Err(refused) => Ok(Err(refused)),
            }
        };
        transaction(self.connection_mut(), done).map_err(|e| self.failed(e))
    }
}

/// Runs `work` in one immediate transaction, committed only when it answers `Ok(Ok)`.
fn transaction<T>(
    connection: &mut Connection,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<Result<T, InviteRefusal>>,
) -> rusqlite::Result<Result<T, InviteRefusal>> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done = work(&tx)?;
    if done.is_ok() {
        tx.commit()?;
    }
    Ok(done)
}

fn one(connection: &Connection, id: u64) -> rusqlite::Result<Option<InviteRow>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM invites WHERE id = ?1"),
            params![micros(id)],
            row,
        )
        .optional()
}

const COLUMNS: &str = "id, digest, tenant, template, created_by, reason, created_us, expires_us, \
                       state, closed_us, closed_by";

fn add(connection: &mut Connection, invite: &NewInvite<'_>) -> rusqlite::Result<u64> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO invites (digest, tenant, template, created_by, reason, created_us, \
         expires_us, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open')",
        params![
            invite.digest.as_slice(),
            invite.tenant,
            invite.template,
            invite.created_by,
            invite.reason,
            micros(invite.created_us),
            micros(invite.expires_us),
        ],
    )?;
    let id = tx.last_insert_rowid() as u64;
    let body = serde_json::json!({
        "id": id,
        "tenant": invite.tenant,
        "by": invite.created_by,
        "reason": invite.reason,
        "expires_us": invite.expires_us,
    });
    control_events::record(&tx, invite.created_us, INVITE_CREATED, &body.to_string())?;
    tx.commit()?;
    Ok(id)
}

fn all(connection: &Connection) -> rusqlite::Result<Vec<InviteRow>> {
    let mut query =
        connection.prepare_cached(&format!("SELECT {COLUMNS} FROM invites ORDER BY id DESC"))?;
    let rows = query.query_map([], row)?;
    rows.collect()
}

enum Closing<'a> {
    Revoke { by: &'a str, reason: &'a str },
    Redeem(&'a Redeem<'a>),
}

/// Closes invite `id` inside `tx` (an immediate transaction: of two partners racing with one
/// invite, one redeems it). A refusal changes nothing.
fn close(
    tx: &rusqlite::Transaction<'_>,
    id: u64,
    closing: Closing<'_>,
    at_us: u64,
) -> rusqlite::Result<Result<InviteRow, InviteRefusal>> {
    let Some(mut invite) = one(tx, id)? else {
        return Ok(Err(InviteRefusal::Unknown));
    };
    let (state, closed_by, kind, body) = match closing {
        Closing::Revoke { by, reason } => {
            match invite.state {
                InviteState::Used => return Ok(Err(InviteRefusal::Used)),
                InviteState::Revoked => return Ok(Err(InviteRefusal::Revoked)),
                InviteState::Open => {}
            }
            (
                "revoked",
                by,
                INVITE_REVOKED,
                serde_json::json!({ "id": id, "tenant": invite.tenant, "by": by, "reason": reason }),
            )
        }
        Closing::Redeem(redeem) => {
            if let Some(refused) = refusal(&invite, redeem.digest, redeem.tenant, at_us) {
                return Ok(Err(refused));
            }
            (
                "used",
                redeem.tenant,
                INVITE_USED,
                serde_json::json!({ "id": id, "tenant": redeem.tenant }),
            )
        }
    };
    tx.execute(
        "UPDATE invites SET state = ?2, closed_us = ?3, closed_by = ?4 WHERE id = ?1 \
         AND state = 'open'",
        params![micros(id), state, micros(at_us), closed_by],
    )?;
    control_events::record(tx, at_us, kind, &body.to_string())?;
    invite.state = if state == "used" {
        InviteState::Used
    } else {
        InviteState::Revoked
    };
    invite.closed_us = Some(at_us);
    invite.closed_by = Some(closed_by.to_owned());
    Ok(Ok(invite))
}

/// Compares digests in constant time.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<InviteRow> {
    let digest: Vec<u8> = row.get(1)?;
    let state: String = row.get(8)?;
    Ok(InviteRow {
        id: row.get::<_, i64>(0)? as u64,
        digest: digest.try_into().unwrap_or([0; 32]),
        tenant: row.get(2)?,
        template: row.get(3)?,
        created_by: row.get(4)?,
        reason: row.get(5)?,
        created_us: row.get::<_, i64>(6)? as u64,
        expires_us: row.get::<_, i64>(7)? as u64,
        state: match state.as_str() {
            "used" => InviteState::Used,
            "revoked" => InviteState::Revoked,
            _ => InviteState::Open,
        },
        closed_us: row.get::<_, Option<i64>>(9)?.map(|us| us as u64),
        closed_by: row.get(10)?,
    })
}

fn micros(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}
