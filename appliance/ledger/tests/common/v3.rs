//! The ledger's receipts as version 3 stored them (every field as text, the pretty-printed
//! envelope JSON): what the migration test starts from, and what the bytes-per-receipt example
//! compares the compact form with.

use rusqlite::{Connection, params};
use tf_receipts::Receipt;

/// A version 3 file (the SQL steps up to it) in WAL mode.
pub fn version_3_file(path: &std::path::Path) -> Connection {
    let connection = Connection::open(path).expect("sqlite");
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    for migration in &tf_ledger::MIGRATIONS[..3] {
        connection
            .execute_batch(migration.sql().expect("an SQL step"))
            .expect("version 3 schema");
    }
    connection
        .pragma_update(None, "user_version", 3)
        .expect("version 3");
    connection
}

/// Inserts a receipt as version 3's append did.
pub fn insert_v3(connection: &Connection, r: &Receipt, envelope_json: &str) {
    connection
        .execute(
            "INSERT INTO receipts (seq, tenant, request_id, statement_digest, kind, verdict, \
             reason, purpose, dataset_class, charged, budget_remaining, shard, received_us, \
             decided_us, envelope, bundle_revision, bundle_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
             ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                r.ledger_seq as i64,
                r.tenant,
                r.request_id.to_string(),
                r.statement_digest,
                r.kind,
                r.verdict.as_str(),
                r.reason,
                r.purpose,
                r.dataset_class,
                r.budget_charged as i64,
                r.budget_remaining.map(|v| v as i64),
                i64::from(r.shard),
                r.received_at_unix_us as i64,
                r.decided_at_unix_us as i64,
                envelope_json,
                r.bundle_revision as i64,
                r.bundle_hash,
            ],
        )
        .expect("a version 3 receipt");
}
