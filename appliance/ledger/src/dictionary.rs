//! The dictionary tables: names that receipts repeat (tenant, purpose, kind, ...) stored once
//! each under a small integer id, and the bundle hashes receipts refer to by revision.
//!
//! Dictionary rows and bundles are never changed or deleted (triggers refuse it), so an id or
//! a hash once read stays right for as long as the connection lives, and is cached: the commit
//! path looks names up in memory, not in the file.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use crate::compact::Hex;

/// One dictionary table.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Names {
    Tenant,
    Purpose,
    Kind,
    Class,
    Verdict,
    Reason,
    Key,
}

/// Ids and bundle hashes this connection has read.
#[derive(Debug, Default)]
pub(crate) struct Dictionaries {
    ids: [HashMap<String, i64>; Names::COUNT],
    bundle_hashes: HashMap<u64, String>,
}

impl Names {
    const COUNT: usize = 7;

    /// The statements that add a name if it is missing, and find its id.
    fn sql(self) -> [&'static str; 2] {
        match self {
            Names::Tenant => [
                "INSERT OR IGNORE INTO tenant_names (name) VALUES (?1)",
                "SELECT id FROM tenant_names WHERE name = ?1",
            ],
            Names::Purpose => [
                "INSERT OR IGNORE INTO purpose_names (name) VALUES (?1)",
                "SELECT id FROM purpose_names WHERE name = ?1",
            ],
            Names::Kind => [
                "INSERT OR IGNORE INTO kind_names (name) VALUES (?1)",
                "SELECT id FROM kind_names WHERE name = ?1",
            ],
            Names::Class => [
                "INSERT OR IGNORE INTO class_names (name) VALUES (?1)",
                "SELECT id FROM class_names WHERE name = ?1",
            ],
            Names::Verdict => [
                "INSERT OR IGNORE INTO verdict_names (name) VALUES (?1)",
                "SELECT id FROM verdict_names WHERE name = ?1",
            ],
            Names::Reason => [
                "INSERT OR IGNORE INTO reason_names (name) VALUES (?1)",
                "SELECT id FROM reason_names WHERE name = ?1",
            ],
            Names::Key => [
                "INSERT OR IGNORE INTO key_ids (name) VALUES (?1)",
                "SELECT id FROM key_ids WHERE name = ?1",
            ],
        }
    }
}

impl Dictionaries {
    /// The id of `name`, added in the caller's transaction if it is new.
    pub(crate) fn id(
        &mut self,
        connection: &Connection,
        names: Names,
        name: &str,
    ) -> rusqlite::Result<i64> {
        let ids = &mut self.ids[names as usize];
        if let Some(&id) = ids.get(name) {
            return Ok(id);
        }
        // Insert, then select: the name may already be there (added by a migration, or by this
        // connection before its cache was forgotten).
        let [insert, select] = names.sql();
        connection.prepare_cached(insert)?.execute([name])?;
        let id = connection
            .prepare_cached(select)?
            .query_row([name], |row| row.get(0))?;
        ids.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Whether the bundles table holds `hash` for `revision`: a receipt then refers to it
    /// instead of repeating it.
    pub(crate) fn is_bundle_hash(
        &mut self,
        connection: &Connection,
        revision: u64,
        hash: Hex<'_>,
    ) -> rusqlite::Result<bool> {
        if let Some(stored) = self.bundle_hashes.get(&revision) {
            return Ok(Hex::of(stored) == hash);
        }
        // Revisions past i64::MAX are never stored.
        let Ok(key) = i64::try_from(revision) else {
            return Ok(false);
        };
        let stored: Option<String> = connection
            .prepare_cached("SELECT hash FROM bundles WHERE revision = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?;
        // A revision with no bundle is not remembered: its bundle may be recorded later.
        Ok(match stored {
            Some(stored) => {
                let same = Hex::of(&stored) == hash;
                self.bundle_hashes.insert(revision, stored);
                same
            }
            None => false,
        })
    }

    /// Forgets every id, after a transaction that may have added some was rolled back: they
    /// no longer exist. (Bundle hashes stay: they were read, never written, here.)
    pub(crate) fn forget_ids(&mut self) {
        for ids in &mut self.ids {
            ids.clear();
        }
    }
}
