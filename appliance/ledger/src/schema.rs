//! The ledger's schema and its migrations. The version lives in SQLite's `user_version`; each
//! migration moves the file one version up, in its own transaction, at start.

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 1;

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
];
