//! Writing receipts in the compact form: one row per receipt, names through the dictionaries.
//! Appends and the migration to schema 4 both go through here.

use rusqlite::{Connection, params};

use crate::Entry;
use crate::compact::{Columns, Kept, Scratch, keep};
use crate::dictionary::{Dictionaries, Names};

/// Inserts one receipt per entry, in the caller's transaction. If this fails the caller rolls
/// the transaction back and must forget the dictionaries' ids.
pub(crate) fn append(
    connection: &Connection,
    dictionaries: &mut Dictionaries,
    scratch: &mut Scratch,
    entries: &[Entry<'_>],
) -> rusqlite::Result<()> {
    for entry in entries {
        let columns = Columns::of(entry.receipt);
        let kept = keep(&columns, entry.envelope, scratch);
        insert(connection, dictionaries, &columns, &kept)?;
    }
    Ok(())
}

/// Inserts one receipt's row, in the caller's transaction.
pub(crate) fn insert(
    connection: &Connection,
    dictionaries: &mut Dictionaries,
    columns: &Columns<'_>,
    kept: &Kept<'_>,
) -> rusqlite::Result<()> {
    let mut id = |names, name| dictionaries.id(connection, names, name);
    let tenant = id(Names::Tenant, columns.tenant)?;
    let kind = id(Names::Kind, columns.kind)?;
    let verdict = id(Names::Verdict, columns.verdict)?;
    let reason = columns
        .reason
        .map(|reason| id(Names::Reason, reason))
        .transpose()?;
    let purpose = id(Names::Purpose, columns.purpose)?;
    let dataset_class = id(Names::Class, columns.dataset_class)?;
    let key_id = id(Names::Key, columns.key_id)?;
    // NULL when the bundles table holds the same hash for the revision: read back from there.
    let bundle_hash = match dictionaries.is_bundle_hash(
        connection,
        columns.bundle_revision,
        columns.bundle_hash,
    )? {
        true => None,
        false => Some(columns.bundle_hash),
    };
    // Unsigned numbers are stored as the signed 64-bit integers with the same bits (as every
    // version has): each reads back exactly, and every realistic one is non-negative.
    connection
        .prepare_cached(
            "INSERT INTO receipts (seq, tenant, request_id, statement_digest, kind, verdict, \
             reason, purpose, dataset_class, charged, budget_remaining, shard, waited_us, \
             decided_us, bundle_revision, bundle_hash, key_id, signature, payload, envelope) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
             ?17, ?18, ?19, ?20)",
        )?
        .execute(params![
            columns.seq as i64,
            tenant,
            columns.request_id as i64,
            columns.statement_digest,
            kind,
            verdict,
            reason,
            purpose,
            dataset_class,
            columns.charged as i64,
            columns.budget_remaining.map(|v| v as i64),
            i64::from(columns.shard),
            columns.decided_us.wrapping_sub(columns.received_us) as i64,
            columns.decided_us as i64,
            columns.bundle_revision as i64,
            bundle_hash,
            key_id,
            kept.signature,
            kept.payload,
            kept.envelope.as_deref(),
        ])?;
    Ok(())
}
