//! The fleet's schema in PostgreSQL, versioned like the SQLite ledger's: each migration runs
//! once, in a transaction, under an advisory lock so appliances starting together migrate it
//! once; a database migrated by a newer appliance is refused rather than misread.

use crate::FleetError;

/// The schema version this build writes and reads.
pub const FLEET_SCHEMA_VERSION: i32 = 3;

/// The advisory lock key migrations run under ("tffleet" in ASCII).
const MIGRATION_LOCK: i64 = 0x0074_6666_6c65_6574;

/// Each version's statements, in order: `MIGRATIONS[n]` brings version n to n + 1.
const MIGRATIONS: [&str; FLEET_SCHEMA_VERSION as usize] = [
    // 0 -> 1: budget pools and their leases; shipped receipts and each node's cursor; each
    // node's last heartbeat.
    "CREATE TABLE fleet_pools (
         tenant           TEXT   NOT NULL,
         purpose          TEXT   NOT NULL,   -- '' for a cap across every purpose of its class
         class            TEXT   NOT NULL,
         cap_window       TEXT   NOT NULL,   -- 'hour', 'day', 'week' or 'month'
         window_start_us  BIGINT NOT NULL,   -- the window of the cap this pool counts
         cap              BIGINT NOT NULL CHECK (cap >= 0),
         spent            BIGINT NOT NULL DEFAULT 0 CHECK (spent >= 0),
         leased           BIGINT NOT NULL DEFAULT 0 CHECK (leased >= 0),
         in_doubt         BIGINT NOT NULL DEFAULT 0 CHECK (in_doubt >= 0),
         PRIMARY KEY (tenant, purpose, class, cap_window, window_start_us)
     );
     CREATE TABLE fleet_leases (
         token            BIGSERIAL PRIMARY KEY,  -- the fencing token: never reused
         tenant           TEXT   NOT NULL,
         purpose          TEXT   NOT NULL,
         class            TEXT   NOT NULL,
         cap_window       TEXT   NOT NULL,
         window_start_us  BIGINT NOT NULL,
         node             TEXT   NOT NULL,
         units            BIGINT NOT NULL CHECK (units > 0),
         spent            BIGINT NOT NULL DEFAULT 0 CHECK (spent >= 0 AND spent <= units),
         granted_us       BIGINT NOT NULL,
         expires_us       BIGINT NOT NULL,
         closed_us        BIGINT,              -- returned, or taken back after its expiry
         closed_by        TEXT,                -- 'returned', 'expired' or 'settled'
         FOREIGN KEY (tenant, purpose, class, cap_window, window_start_us)
             REFERENCES fleet_pools (tenant, purpose, class, cap_window, window_start_us)
     );
     CREATE INDEX fleet_leases_open ON fleet_leases (expires_us) WHERE closed_us IS NULL;
     CREATE INDEX fleet_leases_by_node ON fleet_leases (node, token);
     CREATE TABLE fleet_receipts (
         node             TEXT   NOT NULL,
         seq              BIGINT NOT NULL,   -- the node's ledger sequence number
         tenant           TEXT   NOT NULL,
         request_id       TEXT   NOT NULL,   -- the partner's id (a u64, in decimal)
         purpose          TEXT   NOT NULL,
         class            TEXT   NOT NULL,
         verdict          TEXT   NOT NULL,
         charged          BIGINT NOT NULL,
         decided_us       BIGINT NOT NULL,
         envelope         TEXT   NOT NULL,   -- the DSSE envelope exactly as issued
         PRIMARY KEY (node, seq)
     );
     CREATE INDEX fleet_receipts_by_tenant_time ON fleet_receipts (tenant, decided_us);
     CREATE TABLE fleet_shipping (
         node             TEXT   PRIMARY KEY,
         shipped_seq      BIGINT NOT NULL,   -- every receipt up to it is in fleet_receipts
         shipped_us       BIGINT NOT NULL
     );
     CREATE TABLE fleet_nodes (
         node             TEXT   PRIMARY KEY,
         started_us       BIGINT NOT NULL,   -- when the node's process started
         last_seen_us     BIGINT NOT NULL,   -- its last heartbeat, by its clock
         revision         BIGINT NOT NULL,   -- the policy bundle revision it serves under
         committed_seq    BIGINT NOT NULL,   -- its ledger's highest committed sequence number
         version          TEXT   NOT NULL    -- the appliance's version
     );",
    // 1 -> 2: the fleet's one policy timeline.
    "CREATE TABLE fleet_timeline (
         revision               BIGINT  PRIMARY KEY,
         action                 TEXT    NOT NULL,   -- 'promote' or 'rollback'
         archive                BYTEA,              -- a promotion's signed bundle
         bundle_hash            TEXT,
         republishes            BIGINT,             -- a rollback's source revision
         actor                  TEXT    NOT NULL,
         reason                 TEXT    NOT NULL,
         allow_cap_below_spent  BOOLEAN NOT NULL,
         allow_partners_dropped BOOLEAN NOT NULL,
         node                   TEXT    NOT NULL,   -- the appliance it was asked of
         at_us                  BIGINT  NOT NULL
     );",
    // 2 -> 3: whose each node's name is (its receipt key), so two appliances never share one.
    // The leases in doubt, which each sweep looks through for windows that ended.
    "ALTER TABLE fleet_nodes ADD COLUMN receipt_key TEXT;  -- hex; NULL: not claimed yet
     CREATE INDEX fleet_leases_in_doubt ON fleet_leases (token) WHERE closed_by = 'expired';",
];

/// The database's schema version, refused when a newer appliance migrated it (this build
/// would misread it).
pub(crate) fn version(transaction: &mut postgres::Transaction<'_>) -> Result<i32, FleetError> {
    let found: i32 = transaction
        .query_one("SELECT version FROM fleet_schema", &[])?
        .get(0);
    if found > FLEET_SCHEMA_VERSION {
        return Err(FleetError::NewerSchema {
            found,
            supported: FLEET_SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Brings the database to [`FLEET_SCHEMA_VERSION`]; returns the version it was at.
pub fn migrate(client: &mut postgres::Client) -> Result<i32, FleetError> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    transaction.batch_execute(
        "CREATE TABLE IF NOT EXISTS fleet_schema (version INTEGER NOT NULL);
         INSERT INTO fleet_schema (version)
             SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM fleet_schema);",
    )?;
    let found = version(&mut transaction)?;
    for (from, statements) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        transaction.batch_execute(statements)?;
        tracing::info!(from, to = from + 1, "the fleet's database schema migrated");
    }
    transaction.execute(
        "UPDATE fleet_schema SET version = $1",
        &[&FLEET_SCHEMA_VERSION],
    )?;
    transaction.commit()?;
    Ok(found)
}
