//! The ledger's schema and its migrations. The version lives in SQLite's `user_version`; each
//! migration moves the file one version up, in its own transaction, at start.

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 2;

/// Migration `i` takes a file from version `i` to `i + 1`.
pub const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 0 -> 1: receipts with their budget charges.
    "
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
    ",
    // 1 -> 2: the policy bundle each receipt was decided under; promoted bundles and the
    // timeline of promotions and rollbacks, which is never rewritten.
    "
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
    ",
];
