//! Schema 3 -> 4: receipts move to the compact form (typed columns, names in dictionary
//! tables, digests and the signature as bytes; the envelope rebuilt on read), with a readable
//! view over them for people and a table of pruned ranges.
//!
//! Each old row's envelope JSON is parsed and kept the way an append keeps a new one, and a row
//! whose JSON would not come back byte for byte (unparseable, or formatted otherwise) keeps its
//! JSON verbatim: the transparency log hashes that exact text. All of it runs in the
//! migration's one transaction.

use std::borrow::Cow;
use std::path::Path;

use rusqlite::{Connection, Row};
use tf_receipts::{Envelope, Receipt};

use crate::LedgerError;
use crate::compact::{Columns, Hex, Kept, Scratch, keep};
use crate::dictionary::Dictionaries;
use crate::error::storage_error;
use crate::schema::RustStep;
use crate::store::insert;

/// The step, as [`crate::MIGRATIONS`] lists it.
pub(crate) const STEP: RustStep = RustStep::new(
    "receipts in the compact form (schema 4), the receipts_readable view, pruned ranges",
    run,
);

/// Sets the old table aside and creates the new ones (the index comes after the copy: building
/// it once is quicker than updating it per row).
const BEFORE: &str = "
    ALTER TABLE receipts RENAME TO receipts_v3;
    DROP INDEX receipts_by_tenant_time;

    -- Names receipts repeat, once each; receipts refer to them by id. Never changed or
    -- deleted: readers cache them.
    CREATE TABLE tenant_names  (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
    CREATE TABLE purpose_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
    CREATE TABLE kind_names    (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
    CREATE TABLE class_names   (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
    CREATE TABLE verdict_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
    CREATE TABLE reason_names  (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
    CREATE TABLE key_ids       (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;

    CREATE TABLE receipts (
        seq              INTEGER PRIMARY KEY,  -- gapless from 1, named in the receipt
        tenant           INTEGER NOT NULL REFERENCES tenant_names (id),
        request_id       INTEGER NOT NULL,     -- the partner's u64 id, as the i64 of its bits
        statement_digest ANY     NOT NULL,     -- 32-byte BLOB, or TEXT if not lowercase hex
        kind             INTEGER NOT NULL REFERENCES kind_names (id),
        verdict          INTEGER NOT NULL REFERENCES verdict_names (id),
        reason           INTEGER REFERENCES reason_names (id),  -- why, when not valid
        purpose          INTEGER NOT NULL REFERENCES purpose_names (id),
        dataset_class    INTEGER NOT NULL REFERENCES class_names (id),
        charged          INTEGER NOT NULL,     -- budget units charged
        budget_remaining INTEGER,              -- least left in the caps that applied
        shard            INTEGER NOT NULL,
        waited_us        INTEGER NOT NULL,     -- decided_us - received_us
        decided_us       INTEGER NOT NULL,     -- Unix microseconds
        bundle_revision  INTEGER NOT NULL,     -- the policy bundle's revision (0: none)
        bundle_hash      ANY,                  -- NULL: bundles.hash of that revision; else as
                                               -- statement_digest
        key_id           INTEGER NOT NULL REFERENCES key_ids (id),  -- the appliance key's id
        signature        BLOB,                 -- Ed25519 over the payload (NULL: see envelope)
        payload          BLOB,                 -- NULL unless the columns would not rebuild the
                                               -- signed payload byte for byte: then it, as signed
        envelope         TEXT                  -- NULL unless the envelope is not one signature
                                               -- by key_id over a receipt: then its JSON
    ) STRICT;
";

const AFTER: &str = "
    DROP TABLE receipts_v3;
    CREATE INDEX receipts_by_tenant_time ON receipts (tenant, decided_us);

    -- Receipts as people read them: names, hex and decimal, as in schema 3.
    CREATE VIEW receipts_readable AS
    SELECT r.seq,
           t.name AS tenant,
           printf('%u', r.request_id) AS request_id,
           CASE typeof(r.statement_digest) WHEN 'blob' THEN lower(hex(r.statement_digest))
                ELSE r.statement_digest END AS statement_digest,
           k.name AS kind,
           v.name AS verdict,
           why.name AS reason,
           p.name AS purpose,
           c.name AS dataset_class,
           r.charged,
           r.budget_remaining,
           r.shard,
           r.decided_us - r.waited_us AS received_us,
           r.decided_us,
           r.bundle_revision,
           CASE WHEN r.bundle_hash IS NULL THEN b.hash
                WHEN typeof(r.bundle_hash) = 'blob' THEN lower(hex(r.bundle_hash))
                ELSE r.bundle_hash END AS bundle_hash,
           signer.name AS appliance_key_id,
           CASE WHEN r.signature IS NULL THEN NULL ELSE lower(hex(r.signature)) END AS signature,
           r.payload IS NOT NULL AS payload_kept,
           r.envelope IS NOT NULL AS envelope_kept
    FROM receipts r
    LEFT JOIN tenant_names t ON t.id = r.tenant
    LEFT JOIN kind_names k ON k.id = r.kind
    LEFT JOIN verdict_names v ON v.id = r.verdict
    LEFT JOIN reason_names why ON why.id = r.reason
    LEFT JOIN purpose_names p ON p.id = r.purpose
    LEFT JOIN class_names c ON c.id = r.dataset_class
    LEFT JOIN key_ids signer ON signer.id = r.key_id
    LEFT JOIN bundles b ON b.revision = r.bundle_revision;

    -- Receipts deleted by pruning, and the compliance snapshot that holds them. A range only
    -- grows (consecutive prunes sealed by the same snapshot extend it) and is never deleted.
    CREATE TABLE pruned_ranges (
        from_seq        INTEGER PRIMARY KEY,   -- the first receipt deleted
        to_seq          INTEGER NOT NULL,      -- the last
        decided_from_us INTEGER NOT NULL,      -- the earliest decision among them, Unix us
        decided_to_us   INTEGER NOT NULL,      -- the latest
        sealed_by       TEXT    NOT NULL,      -- the snapshot that holds them
        at_us           INTEGER NOT NULL       -- when the range was last extended, Unix us
    ) STRICT;
    CREATE TRIGGER pruned_ranges_only_grow BEFORE UPDATE ON pruned_ranges
        WHEN NEW.from_seq != OLD.from_seq OR NEW.sealed_by != OLD.sealed_by
            OR NEW.to_seq < OLD.to_seq
        BEGIN SELECT RAISE(ABORT, 'a pruned range only grows'); END;
    CREATE TRIGGER pruned_ranges_no_delete BEFORE DELETE ON pruned_ranges
        BEGIN SELECT RAISE(ABORT, 'pruned ranges are kept: they say where pruned receipts are'); END;

    -- Receipts refer to bundles (by revision) and names (by id): neither may change or go.
    CREATE TRIGGER bundles_no_delete BEFORE DELETE ON bundles
        BEGIN SELECT RAISE(ABORT, 'promoted bundles are kept as they were'); END;
    CREATE TRIGGER tenant_names_kept BEFORE UPDATE ON tenant_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER tenant_names_no_delete BEFORE DELETE ON tenant_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER purpose_names_kept BEFORE UPDATE ON purpose_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER purpose_names_no_delete BEFORE DELETE ON purpose_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER kind_names_kept BEFORE UPDATE ON kind_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER kind_names_no_delete BEFORE DELETE ON kind_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER class_names_kept BEFORE UPDATE ON class_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER class_names_no_delete BEFORE DELETE ON class_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER verdict_names_kept BEFORE UPDATE ON verdict_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER verdict_names_no_delete BEFORE DELETE ON verdict_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER reason_names_kept BEFORE UPDATE ON reason_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER reason_names_no_delete BEFORE DELETE ON reason_names
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER key_ids_kept BEFORE UPDATE ON key_ids
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
    CREATE TRIGGER key_ids_no_delete BEFORE DELETE ON key_ids
        BEGIN SELECT RAISE(ABORT, 'names are kept: receipts refer to them'); END;
";

/// A row of the version 3 `receipts` table.
struct OldRow {
    seq: u64,
    tenant: String,
    request_id: String,
    statement_digest: String,
    kind: String,
    verdict: String,
    reason: Option<String>,
    purpose: String,
    dataset_class: String,
    charged: i64,
    budget_remaining: Option<i64>,
    shard: i64,
    received_us: i64,
    decided_us: i64,
    envelope: String,
    bundle_revision: i64,
    bundle_hash: String,
}

fn run(connection: &Connection, path: &Path) -> Result<(), LedgerError> {
    let storage = storage_error(path);
    connection.execute_batch(BEFORE).map_err(&storage)?;
    copy(connection, path)?;
    connection.execute_batch(AFTER).map_err(&storage)?;
    Ok(())
}

/// Copies every old receipt into the new table.
fn copy(connection: &Connection, path: &Path) -> Result<(), LedgerError> {
    let storage = storage_error(path);
    let mut dictionaries = Dictionaries::default();
    let mut scratch = Scratch::new();
    let mut query = connection
        .prepare(
            "SELECT seq, tenant, request_id, statement_digest, kind, verdict, reason, purpose, \
             dataset_class, charged, budget_remaining, shard, received_us, decided_us, envelope, \
             bundle_revision, bundle_hash FROM receipts_v3 ORDER BY seq",
        )
        .map_err(&storage)?;
    let mut rows = query.query([]).map_err(&storage)?;
    while let Some(row) = rows.next().map_err(&storage)? {
        let old = OldRow::read(row).map_err(&storage)?;
        let unmigratable = |what: String| LedgerError::Unmigratable {
            path: path.display().to_string(),
            seq: old.seq,
            what,
            from: 3,
            version: 4,
        };
        let request_id = old.request_id.parse::<u64>().map_err(|_| {
            unmigratable(format!(
                "its request_id {:?} is not a 64-bit unsigned number",
                old.request_id
            ))
        })?;
        let shard = u16::try_from(old.shard)
            .map_err(|_| unmigratable(format!("its shard {} is out of range", old.shard)))?;
        let parsed = Envelope::from_json(&old.envelope).ok();
        let key_id = parsed.as_ref().map(key_id_of).unwrap_or_default();
        let columns = old.columns(request_id, shard, &key_id);
        let kept = match &parsed {
            Some(envelope) => {
                let kept = keep(&columns, envelope, &mut scratch);
                // What a read would rebuild is this envelope's standard JSON: kept as it was
                // if the old text is not exactly that.
                match kept.envelope.is_none() && envelope.to_json() != old.envelope {
                    true => Kept::verbatim(Cow::Borrowed(old.envelope.as_str())),
                    false => kept,
                }
            }
            None => Kept::verbatim(Cow::Borrowed(old.envelope.as_str())),
        };
        insert(connection, &mut dictionaries, &columns, &kept).map_err(&storage)?;
    }
    Ok(())
}

/// The appliance key id an old receipt names: from its payload, else from its signature.
fn key_id_of(envelope: &Envelope) -> String {
    match serde_json::from_slice::<Receipt>(&envelope.payload) {
        Ok(receipt) => receipt.appliance_key_id,
        Err(_) => envelope
            .signatures
            .first()
            .map(|signature| signature.key_id.clone())
            .unwrap_or_default(),
    }
}

impl OldRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(OldRow {
            seq: row.get::<_, i64>(0)? as u64,
            tenant: row.get(1)?,
            request_id: row.get(2)?,
            statement_digest: row.get(3)?,
            kind: row.get(4)?,
            verdict: row.get(5)?,
            reason: row.get(6)?,
            purpose: row.get(7)?,
            dataset_class: row.get(8)?,
            charged: row.get(9)?,
            budget_remaining: row.get(10)?,
            shard: row.get(11)?,
            received_us: row.get(12)?,
            decided_us: row.get(13)?,
            envelope: row.get(14)?,
            bundle_revision: row.get(15)?,
            bundle_hash: row.get(16)?,
        })
    }

    /// The new columns, from the old ones: what was queried stays what is queried. Version 3
    /// stored unsigned numbers as the i64 of their bits, as version 4 does.
    fn columns<'a>(&'a self, request_id: u64, shard: u16, key_id: &'a str) -> Columns<'a> {
        Columns {
            seq: self.seq,
            tenant: &self.tenant,
            request_id,
            statement_digest: Hex::of(&self.statement_digest),
            kind: &self.kind,
            verdict: &self.verdict,
            reason: self.reason.as_deref(),
            purpose: &self.purpose,
            dataset_class: &self.dataset_class,
            charged: self.charged as u64,
            budget_remaining: self.budget_remaining.map(|v| v as u64),
            shard,
            received_us: self.received_us as u64,
            decided_us: self.decided_us as u64,
            bundle_revision: self.bundle_revision as u64,
            bundle_hash: Hex::of(&self.bundle_hash),
            key_id,
        }
    }
}
