//! The ledger's schema and its migrations. The version lives in SQLite's `user_version`; each
//! migration moves the file one version up, in its own transaction, at start.

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::storage_error;
use crate::{LedgerError, migrate_v4};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 10;

/// Migration `i` takes a file from version `i` to `i + 1`.
pub const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [
    Migration::Sql(V1),
    Migration::Sql(V2),
    Migration::Sql(V3),
    // 3 -> 4: receipts in the compact form, a readable view of them, pruned ranges.
    Migration::Rust(migrate_v4::STEP),
    Migration::Sql(V5),
    Migration::Sql(V6),
    Migration::Sql(V7),
    Migration::Sql(V8),
    Migration::Sql(V9),
    Migration::Sql(V10),
];

/// One step of the schema, run in one transaction with the version it reaches.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Migration {
    /// SQL statements, run as one batch.
    Sql(&'static str),
    /// A step SQL cannot do alone (it parses stored envelopes), written in Rust.
    Rust(RustStep),
}

/// A migration step written in Rust; only [`crate::SqliteLedger::open`] runs it.
#[derive(Clone, Copy)]
pub struct RustStep {
    /// What the step does, for people.
    pub what: &'static str,
    run: fn(&Connection, &Path) -> Result<(), LedgerError>,
}

impl Migration {
    /// The step's SQL, `None` for a step in Rust (tests build old files from the SQL steps).
    pub fn sql(&self) -> Option<&'static str> {
        match self {
            Migration::Sql(sql) => Some(sql),
            Migration::Rust(_) => None,
        }
    }
}

impl RustStep {
    /// A step that `run`s inside the migration's transaction (the connection is that
    /// transaction's).
    pub(crate) const fn new(
        what: &'static str,
        run: fn(&Connection, &Path) -> Result<(), LedgerError>,
    ) -> Self {
        RustStep { what, run }
    }
}

impl fmt::Debug for RustStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustStep")
            .field("what", &self.what)
            .finish_non_exhaustive()
    }
}

/// 0 -> 1: receipts with their budget charges.
const V1: &str = "
    CREATE TABLE receipts (
        seq              INTEGER PRIMARY KEY,  -- gapless from 1, named in the receipt
        tenant           TEXT    NOT NULL,
        request_id       TEXT    NOT NULL,     -- the partner's id (a u64, in decimal)
        statement_digest TEXT    NOT NULL,     -- hex SHA-256 of what was verified
        kind             TEXT    NOT NULL,     -- bls-single, groth16-bn254, ...
        verdict          TEXT    NOT NULL,     -- valid, invalid, rejected
        reason           TEXT,                 -- why, when not valid
        purpose          TEXT    NOT NULL,
        dataset_class    TEXT    NOT NULL,     -- P0, P1, P2
        charged          INTEGER NOT NULL,     -- budget units charged
        budget_remaining INTEGER,              -- least left in the caps that applied
        shard            INTEGER NOT NULL,
        received_us      INTEGER NOT NULL,     -- Unix microseconds
        decided_us       INTEGER NOT NULL,     -- Unix microseconds
        envelope         TEXT    NOT NULL      -- the signed DSSE envelope as issued (JSON)
    ) STRICT;
    CREATE INDEX receipts_by_tenant_time ON receipts (tenant, decided_us);
    ";

/// 1 -> 2: the policy bundle each receipt was decided under; promoted bundles and the
/// timeline of promotions and rollbacks, which is never rewritten.
const V2: &str = "
    ALTER TABLE receipts ADD COLUMN bundle_revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE receipts ADD COLUMN bundle_hash TEXT NOT NULL DEFAULT '';
    CREATE TABLE bundles (
        revision  INTEGER PRIMARY KEY,         -- the manifest's revision
        hash      TEXT    NOT NULL UNIQUE,     -- hex SHA-256 of the signed manifest
        archive   BLOB    NOT NULL,            -- the bundle as promoted (gzipped tar)
        stored_us INTEGER NOT NULL             -- Unix microseconds
    ) STRICT;
    CREATE TABLE bundle_timeline (
        seq           INTEGER PRIMARY KEY,     -- in order of events
        at_us         INTEGER NOT NULL,        -- Unix microseconds
        action        TEXT    NOT NULL,        -- promote, rollback
        actor         TEXT    NOT NULL,        -- who (the admin token's name)
        reason        TEXT    NOT NULL,        -- why (the bundle's note, or the rollback's)
        from_revision INTEGER NOT NULL,        -- active before (0: none)
        to_revision   INTEGER NOT NULL REFERENCES bundles (revision),
        links         TEXT    NOT NULL         -- JSON array of ticket links
    ) STRICT;
    CREATE TRIGGER bundle_timeline_no_update BEFORE UPDATE ON bundle_timeline
        BEGIN SELECT RAISE(ABORT, 'the bundle timeline is append-only'); END;
    CREATE TRIGGER bundle_timeline_no_delete BEFORE DELETE ON bundle_timeline
        BEGIN SELECT RAISE(ABORT, 'the bundle timeline is append-only'); END;
    CREATE TRIGGER bundles_no_update BEFORE UPDATE ON bundles
        BEGIN SELECT RAISE(ABORT, 'promoted bundles are kept as they were'); END;
    ";

/// 2 -> 3: where each worker following the ledger got to, so that a restart resumes there
/// instead of handling every receipt again.
const V3: &str = "
    CREATE TABLE worker_cursors (
        name       TEXT    PRIMARY KEY NOT NULL,  -- the worker (webhooks, transparency log, ...)
        seq        INTEGER NOT NULL,              -- the last receipt it handled; only moves forward
        updated_us INTEGER                        -- when it was saved, Unix microseconds
    ) STRICT;
    ";

/// 4 -> 5: auditor webhooks: endpoints with their cursors, who changed them (append-only),
/// and each endpoint's outbox of messages (a body until acknowledged, then the reference).
const V5: &str = "
    CREATE TABLE webhook_endpoints (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- in message ids; never reused
        url            TEXT    NOT NULL,
        settings       TEXT    NOT NULL,    -- JSON: events, tenants, schemes, limits
        state          TEXT    NOT NULL CHECK (state IN ('active', 'paused', 'disabled', 'removed')),
        state_reason   TEXT    NOT NULL,
        receipts_after INTEGER NOT NULL,    -- the last receipt already in one of its messages
        timeline_after INTEGER NOT NULL,    -- the last bundle timeline event already in one
        created_us     INTEGER NOT NULL,    -- Unix microseconds
        changed_us     INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE webhook_changes (
        seq      INTEGER PRIMARY KEY,       -- in order of changes
        at_us    INTEGER NOT NULL,
        endpoint INTEGER NOT NULL REFERENCES webhook_endpoints (id),
        action   TEXT    NOT NULL,          -- add, pause, resume, rotate, change, remove, disable
        actor    TEXT    NOT NULL,          -- the admin token's name, or appliance
        reason   TEXT    NOT NULL
    ) STRICT;
    CREATE TRIGGER webhook_changes_no_update BEFORE UPDATE ON webhook_changes
        BEGIN SELECT RAISE(ABORT, 'webhook endpoint changes are append-only'); END;
    CREATE TRIGGER webhook_changes_no_delete BEFORE DELETE ON webhook_changes
        BEGIN SELECT RAISE(ABORT, 'webhook endpoint changes are append-only'); END;
    CREATE TABLE webhook_messages (
        endpoint         INTEGER NOT NULL REFERENCES webhook_endpoints (id),
        number           INTEGER NOT NULL,  -- the endpoint's order, from 1
        id               TEXT    NOT NULL,  -- webhook-id: the same on every attempt
        event            TEXT    NOT NULL,  -- receipt.issued, bundle.promoted, ...
        first_receipt    INTEGER,           -- the receipts it carries, if any
        last_receipt     INTEGER,
        occurred_us      INTEGER NOT NULL,
        body             BLOB,              -- as sent; NULL once acknowledged or given up
        created_us       INTEGER NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        first_attempt_us INTEGER,
        next_attempt_us  INTEGER NOT NULL,
        last_failure     TEXT,
        acked_us         INTEGER,
        ack_sha256       BLOB,              -- SHA-256 of the acknowledging answer
        given_up_us      INTEGER,
        PRIMARY KEY (endpoint, number)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX webhook_messages_owed ON webhook_messages (endpoint, number)
        WHERE acked_us IS NULL AND given_up_us IS NULL;
    ";

/// 5 -> 6: indexes for searching receipts (`GET /api/v1/receipts`), newest first, without
/// reading the whole table: by decision time, by verdict, and by tenant and request id. With
/// `receipts_by_tenant_time` every filter of a search has an index that yields its receipts
/// in the order answered. Each entry is appended at the end of its index, or (request ids,
/// counters per connection) close to other recent ones. The verdict index holds only the
/// receipts that are not valid (they, and only they, carry a `reason`): they are the few a
/// verdict search needs an index for, and valid receipts, nearly all of them, cost it
/// nothing at commit.
const V6: &str = "
    CREATE INDEX receipts_by_time ON receipts (decided_us);
    CREATE INDEX receipts_not_valid_by_verdict_time ON receipts (verdict, decided_us)
        WHERE reason IS NOT NULL;
    CREATE INDEX receipts_by_tenant_request ON receipts (tenant, request_id);
    ";

/// 6 -> 7: what the drift guard said of a promoted bundle, and who overrode it (JSON, NULL
/// when nothing was said).
const V7: &str = "
    ALTER TABLE bundle_timeline ADD COLUMN drift TEXT;
    ";

/// 7 -> 8: the control plane's alarms (a scenario pack that failed, ...), append-only, and
/// each webhook endpoint's cursor over them (existing endpoints are owed every alarm, none
/// exists before this version).
const V8: &str = "
    CREATE TABLE control_events (
        seq    INTEGER PRIMARY KEY,   -- in order of events
        at_us  INTEGER NOT NULL,      -- when it happened, Unix microseconds
        kind   TEXT    NOT NULL,      -- the webhook event type: scenario.failed, ...
        body   TEXT    NOT NULL       -- what happened (JSON, the event's data)
    ) STRICT;
    CREATE TRIGGER control_events_no_update BEFORE UPDATE ON control_events
        BEGIN SELECT RAISE(ABORT, 'control events are append-only'); END;
    CREATE TRIGGER control_events_no_delete BEFORE DELETE ON control_events
        BEGIN SELECT RAISE(ABORT, 'control events are append-only'); END;
    ALTER TABLE webhook_endpoints ADD COLUMN events_after INTEGER NOT NULL DEFAULT 0;
    ";

/// 8 -> 9: partner invites, single use: only their secrets' digests; made, revoked and used
/// are also control events.
const V9: &str = "
    CREATE TABLE invites (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- in the invite's text; never reused
        digest     BLOB    NOT NULL,   -- SHA-256 of the secret
        tenant     TEXT    NOT NULL,   -- the tenant id, or a prefix ending in *
        template   TEXT    NOT NULL,   -- JSON: the terms a partner may take without approval
        created_by TEXT    NOT NULL,
        reason     TEXT    NOT NULL,
        created_us INTEGER NOT NULL,   -- Unix microseconds
        expires_us INTEGER NOT NULL,
        state      TEXT    NOT NULL CHECK (state IN ('open', 'used', 'revoked')),
        closed_us  INTEGER,            -- when used or revoked
        closed_by  TEXT                -- the tenant it made, or who revoked it
    ) STRICT;
    CREATE TRIGGER invites_closed_stay_closed BEFORE UPDATE ON invites WHEN OLD.state != 'open'
        BEGIN SELECT RAISE(ABORT, 'a used or revoked invite stays so'); END;
    CREATE TRIGGER invites_no_delete BEFORE DELETE ON invites
        BEGIN SELECT RAISE(ABORT, 'invites are kept'); END;
    ";

/// 9 -> 10: partners' terms requests: pending, then granted (with the revision that carries
/// them) or declined, never changed after.
const V10: &str = "
    CREATE TABLE terms_requests (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant          TEXT    NOT NULL,
        terms           TEXT    NOT NULL,   -- JSON: the partner terms file's content asked for
        within_template INTEGER NOT NULL,   -- 1: within the invite's template
        created_us      INTEGER NOT NULL,
        state           TEXT    NOT NULL CHECK (state IN ('pending', 'granted', 'declined')),
        decided_us      INTEGER,
        decided_by      TEXT,               -- who decided; `template` when granted within it
        reason          TEXT,
        revision        INTEGER             -- the revision that put it in force
    ) STRICT;
    CREATE TRIGGER terms_requests_decided_stay BEFORE UPDATE ON terms_requests
        WHEN OLD.state != 'pending'
        BEGIN SELECT RAISE(ABORT, 'a decided terms request stays so'); END;
    CREATE TRIGGER terms_requests_no_delete BEFORE DELETE ON terms_requests
        BEGIN SELECT RAISE(ABORT, 'terms requests are kept'); END;
    ";

/// The file's schema version, refused if a newer appliance wrote it.
pub(crate) fn checked_version(connection: &Connection, path: &Path) -> Result<u32, LedgerError> {
    let version: u32 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage_error(path))?;
    if version > SCHEMA_VERSION {
        return Err(LedgerError::TooNew {
            path: path.display().to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}

/// Runs the migrations the file lacks, one transaction each.
pub(crate) fn migrate(connection: &mut Connection, path: &Path) -> Result<(), LedgerError> {
    let storage = storage_error(path);
    loop {
        // IMMEDIATE takes the write lock (waiting as long as the busy timeout) before the
        // version is read: two connections opening an old file at once (the ledger thread and
        // the control thread) then migrate it once, the second seeing the first's version.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&storage)?;
        let version = checked_version(&transaction, path)?;
        let Some(migration) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        match migration {
            Migration::Sql(sql) => transaction.execute_batch(sql).map_err(&storage)?,
            Migration::Rust(step) => (step.run)(&transaction, path)?,
        }
        transaction
            .pragma_update(None, "user_version", version + 1)
            .map_err(&storage)?;
        transaction.commit().map_err(&storage)?;
    }
}
