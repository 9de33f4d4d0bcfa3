//! The ledger file and the WAL and shared-memory files SQLite makes beside it are owner-only:
//! the receipts name tenants, purposes and charges.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tf_ledger::{Ledger, SqliteLedger, TimelineEvent};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_new_ledger_and_its_wal_and_shm_are_created_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    // What the process's umask leaves of 0666 for a plain new file: 0644 under the usual 022,
    // which is what SQLite made the ledger before.
    let probe = dir.path().join("probe");
    std::fs::write(&probe, b"").expect("probe");
    let plain = mode(&probe);

    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    ledger
        .record_switch(
            &TimelineEvent {
                seq: 0,
                at_us: 1,
                action: "promote".into(),
                actor: "sre".into(),
                reason: "a write makes the WAL".into(),
                from_revision: 0,
                to_revision: 1,
                links: vec![],
                bundle_hash: "00".repeat(32),
                drift: None,
                canary: None,
            },
            b"archive",
        )
        .expect("record");
    for file in ["ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"] {
        let found = mode(&dir.path().join(file));
        assert_eq!(
            found, 0o600,
            "{file} is {found:o} (a plain new file here is {plain:o})"
        );
    }
}

#[test]
fn an_existing_ledger_keeps_its_mode_and_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    drop(SqliteLedger::open(&path).expect("create"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let ledger = SqliteLedger::open(&path).expect("reopen");
    assert_eq!(ledger.highest_revision().expect("read"), 0);
    assert_eq!(
        mode(&path),
        0o640,
        "the operator's choice is not overridden"
    );
}
