//! The SQLite ledger on a real file: durable appends, sequence, recovery queries, migrations,
//! and the rest of the trait (receipt lookup, following, bundle timeline, worker cursors)
//! through `dyn Ledger`.

use std::error::Error as _;

use rusqlite::Connection;
use tf_ledger::{
    Entry, Ledger, LedgerError, LedgerRecord, PruneBounds, SCHEMA_VERSION, SqliteLedger,
    TimelineEvent, sign_and_append,
};
use tf_receipts::{Envelope, Receipt, ReceiptSigner, VerdictLabel};

fn receipt(seq: u64, tenant: &str, purpose: &str, charged: u64, decided: u64) -> Receipt {
    Receipt {
        tenant: tenant.into(),
        request_id: u64::MAX - seq,
        statement_digest: "ab".repeat(32),
        kind: "bls-single".into(),
        verdict: if charged > 0 {
            VerdictLabel::Valid
        } else {
            VerdictLabel::Invalid
        },
        reason: None,
        purpose: purpose.into(),
        dataset_class: "P1".into(),
        budget_charged: charged,
        budget_remaining: Some(10),
        ledger_seq: seq,
        shard: 0,
        received_at_unix_us: decided - 100,
        decided_at_unix_us: decided,
        appliance_key_id: String::new(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}

/// An envelope that is no receipt's: for entries that are refused before anything is stored.
fn unsigned() -> Envelope {
    Envelope {
        payload_type: "test".into(),
        payload: b"{}".to_vec(),
        signatures: vec![],
    }
}

fn append(ledger: &mut dyn Ledger, receipts: &mut [Receipt]) {
    let mut signer = ReceiptSigner::from_secret(&[3; 32]);
    let (_, stored) = sign_and_append(ledger, &mut signer, receipts.iter_mut());
    stored.expect("append");
}

#[test]
fn appended_receipts_survive_reopening_and_the_sequence_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    assert_eq!(ledger.next_seq(), 1);
    append(
        &mut ledger,
        &mut [
            receipt(1, "acme", "kyc", 1, 1_000),
            receipt(2, "acme", "kyc", 1, 2_000),
        ],
    );
    drop(ledger);

    let mut ledger = SqliteLedger::open(&path).expect("reopen");
    assert_eq!(ledger.next_seq(), 3);
    append(&mut ledger, &mut [receipt(3, "globex", "aml", 2, 3_000)]);
    let mut seen = Vec::new();
    ledger
        .receipts_between("acme", 0, u64::MAX, &mut |r| {
            seen.push((r.seq, r.charged, r.verdict.clone()));
            assert!(
                r.envelope_json.contains("\"payloadType\""),
                "{}",
                r.envelope_json
            );
            Ok(())
        })
        .expect("read");
    assert_eq!(
        seen,
        vec![(1, 1, "valid".to_owned()), (2, 1, "valid".to_owned())]
    );
}

#[test]
fn entries_out_of_sequence_are_refused_and_nothing_of_the_batch_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open");
    let a = receipt(1, "acme", "kyc", 1, 1_000);
    let b = receipt(3, "acme", "kyc", 1, 1_000);
    let envelope = unsigned();
    let entries = [
        Entry {
            receipt: &a,
            envelope: &envelope,
        },
        Entry {
            receipt: &b,
            envelope: &envelope,
        },
    ];
    let err = ledger.append(&entries).expect_err("gap");
    assert!(
        matches!(
            err,
            LedgerError::OutOfSequence {
                expected: 2,
                got: 3
            }
        ),
        "{err}"
    );
    assert_eq!(ledger.next_seq(), 1);
    let mut count = 0;
    ledger
        .receipts_between("acme", 0, u64::MAX, &mut |_| {
            count += 1;
            Ok(())
        })
        .expect("read");
    assert_eq!(count, 0);
}

#[test]
fn charges_come_back_summed_per_purpose_class_and_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open");
    let minute = 60_000_000;
    append(
        &mut ledger,
        &mut [
            receipt(1, "acme", "kyc", 1, 10 * minute + 5),
            receipt(2, "acme", "kyc", 2, 10 * minute + 7),
            receipt(3, "acme", "kyc", 0, 10 * minute + 8),
            receipt(4, "acme", "aml", 1, 11 * minute),
            receipt(5, "acme", "kyc", 1, 12 * minute),
            receipt(6, "globex", "kyc", 9, 12 * minute),
            receipt(7, "acme", "kyc", 4, 5 * minute),
        ],
    );
    let groups = ledger
        .charges_since("acme", 10 * minute, minute)
        .expect("query");
    let summary: Vec<(String, u64, u64, u64)> = groups
        .iter()
        .map(|g| (g.purpose.clone(), g.from_us, g.to_us, g.charged))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("kyc".to_owned(), 10 * minute, 11 * minute - 1, 3),
            ("aml".to_owned(), 11 * minute, 12 * minute - 1, 1),
            ("kyc".to_owned(), 12 * minute, 13 * minute - 1, 1),
        ]
    );
}

#[test]
fn a_fresh_file_is_migrated_to_the_current_schema_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    drop(SqliteLedger::open(&path).expect("open"));
    let connection = Connection::open(&path).expect("sqlite");
    let version: u32 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = connection
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    connection
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .expect("bump");
    drop(connection);
    let err = SqliteLedger::open(&path).expect_err("too new");
    assert!(matches!(err, LedgerError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn a_version_1_file_keeps_its_receipts_as_revision_0_and_the_timeline_is_append_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    {
        let connection = Connection::open(&path).expect("sqlite");
        connection
            .execute_batch(tf_ledger::MIGRATIONS[0].sql().expect("an SQL step"))
            .expect("version 1 schema");
        connection
            .execute(
                "INSERT INTO receipts VALUES (1, 'acme', '7', 'ab', 'bls-single', 'valid', NULL, \
                 'kyc', 'P1', 1, 9, 0, 10, 20, '{}')",
                [],
            )
            .expect("a version 1 receipt");
        connection
            .pragma_update(None, "user_version", 1)
            .expect("version 1");
    }
    let mut ledger = SqliteLedger::open(&path).expect("migrates");
    assert_eq!(ledger.next_seq(), 2, "the old receipt is kept");
    let mut stamped = receipt(2, "acme", "kyc", 1, 3_000);
    stamped.bundle_revision = 4;
    stamped.bundle_hash = "cd".repeat(32);
    append(&mut ledger, &mut [stamped]);
    drop(ledger);
    let connection = Connection::open(&path).expect("sqlite");
    let rows: Vec<(i64, i64, String)> = connection
        .prepare("SELECT seq, bundle_revision, bundle_hash FROM receipts_readable ORDER BY seq")
        .expect("query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows, vec![(1, 0, String::new()), (2, 4, "cd".repeat(32))]);
    connection
        .execute("INSERT INTO bundles VALUES (4, 'h', x'00', 1)", [])
        .expect("bundle");
    connection
        .execute(
            "INSERT INTO bundle_timeline VALUES (1, 1, 'promote', 'sre', 'why', 0, 4, '[]', NULL)",
            [],
        )
        .expect("timeline");
    for rewrite in [
        "UPDATE bundle_timeline SET actor = 'someone else'",
        "DELETE FROM bundle_timeline",
        "UPDATE bundles SET archive = x'01'",
    ] {
        let err = connection.execute(rewrite, []).expect_err(rewrite);
        assert!(
            err.to_string().contains("append-only") || err.to_string().contains("kept"),
            "{err}"
        );
    }
}

#[test]
fn a_receipt_is_found_by_its_sequence_number_with_its_tenant_and_a_missing_one_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger: Box<dyn Ledger> =
        Box::new(SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open"));
    append(
        ledger.as_mut(),
        &mut [
            receipt(1, "acme", "kyc", 1, 1_000),
            receipt(2, "globex", "aml", 2, 2_000),
            receipt(3, "acme", "kyc", 0, 3_000),
        ],
    );
    let (tenant, stored) = ledger
        .receipt(2)
        .expect("read")
        .expect("receipt 2 is stored");
    assert_eq!(tenant, "globex");
    assert_eq!(
        (
            stored.seq,
            stored.purpose.as_str(),
            stored.charged,
            stored.decided_us
        ),
        (2, "aml", 2, 2_000)
    );
    assert!(
        stored.envelope_json.contains("\"payloadType\""),
        "{}",
        stored.envelope_json
    );
    for missing in [0, 4, i64::MAX as u64, u64::MAX] {
        assert_eq!(
            ledger.receipt(missing).expect("read"),
            None,
            "seq {missing}"
        );
    }
}

#[test]
fn receipts_after_returns_at_most_limit_records_in_sequence_after_the_cursor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger: Box<dyn Ledger> =
        Box::new(SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open"));
    let tenants = ["acme", "globex", "acme", "initech", "globex"];
    let mut receipts: Vec<Receipt> = (1..=5)
        .map(|seq| receipt(seq, tenants[seq as usize - 1], "kyc", 1, seq * 1_000))
        .collect();
    append(ledger.as_mut(), &mut receipts);
    let seqs = |records: &[LedgerRecord]| records.iter().map(LedgerRecord::seq).collect::<Vec<_>>();

    let first = ledger.receipts_after(0, 2).expect("read");
    assert_eq!(seqs(&first), [1, 2]);
    assert_eq!(
        first.iter().map(|r| r.tenant.as_str()).collect::<Vec<_>>(),
        ["acme", "globex"]
    );
    assert_eq!(
        first[1].receipt,
        ledger.receipt(2).expect("read").expect("2").1
    );
    assert_eq!(seqs(&ledger.receipts_after(2, 2).expect("read")), [3, 4]);
    assert_eq!(
        seqs(&ledger.receipts_after(2, 100).expect("read")),
        [3, 4, 5]
    );
    assert_eq!(
        seqs(&ledger.receipts_after(4, usize::MAX).expect("read")),
        [5]
    );
    assert!(ledger.receipts_after(5, 10).expect("read").is_empty());
    assert!(
        ledger
            .receipts_after(u64::MAX, 10)
            .expect("read")
            .is_empty()
    );
    assert!(ledger.receipts_after(0, 0).expect("read").is_empty());
}

#[test]
fn a_worker_cursor_starts_at_0_is_durable_across_reopening_and_never_moves_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    let mut ledger: Box<dyn Ledger> = Box::new(SqliteLedger::open(&path).expect("open"));
    assert_eq!(ledger.cursor("webhooks").expect("read"), 0, "never saved");
    ledger.save_cursor("webhooks", 5).expect("save");
    ledger
        .save_cursor("webhooks", 5)
        .expect("saving the same cursor again is accepted");
    ledger.save_cursor("webhooks", 7).expect("save");
    ledger.save_cursor("transparency-log", 2).expect("save");
    drop(ledger);

    let mut ledger: Box<dyn Ledger> = Box::new(SqliteLedger::open(&path).expect("reopen"));
    assert_eq!(ledger.cursor("webhooks").expect("read"), 7);
    assert_eq!(ledger.cursor("transparency-log").expect("read"), 2);
    assert_eq!(ledger.cursor("nobody").expect("read"), 0);
    let err = ledger.save_cursor("webhooks", 6).expect_err("backwards");
    assert!(
        matches!(
            &err,
            LedgerError::CursorBehind { worker, stored: 7, got: 6 } if worker == "webhooks"
        ),
        "{err}"
    );
    assert!(err.to_string().contains("only moves forward"), "{err}");
    assert_eq!(
        ledger.cursor("webhooks").expect("read"),
        7,
        "the stored cursor is kept"
    );
    let reader = SqliteLedger::open_read_only(&path).expect("open read-only");
    assert_eq!(reader.cursor("webhooks").expect("read"), 7);
}

fn switch(action: &str, from_revision: u64, to_revision: u64, at_us: u64) -> TimelineEvent {
    TimelineEvent {
        seq: 0,
        at_us,
        action: action.into(),
        actor: "sre".into(),
        reason: format!("{action} {to_revision}"),
        from_revision,
        to_revision,
        links: vec![format!("https://tickets.example/{to_revision}")],
        bundle_hash: format!("{to_revision:064x}"),
        drift: None,
        canary: None,
    }
}

#[test]
fn bundle_switches_round_trip_through_the_trait_and_another_connection_sees_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    // The ledger thread's connection, and the control thread's own on the same file.
    let mut appender: Box<dyn Ledger> = Box::new(SqliteLedger::open(&path).expect("open"));
    let mut control: Box<dyn Ledger> = Box::new(SqliteLedger::open(&path).expect("open again"));
    assert_eq!(control.timeline().expect("read"), []);
    assert_eq!(control.active_revision().expect("read"), None);
    assert_eq!(control.highest_revision().expect("read"), 0);

    let events = [
        switch("promote", 0, 1, 10),
        switch("promote", 1, 2, 20),
        switch("rollback", 2, 1, 30),
    ];
    let archives: [&[u8]; 3] = [b"bundle one", b"bundle two", b"not stored: 1 is kept"];
    for (i, (event, archive)) in events.iter().zip(archives).enumerate() {
        // Receipts commit between the switches, through the other connection.
        append(
            appender.as_mut(),
            &mut [receipt(i as u64 + 1, "acme", "kyc", 1, 1_000)],
        );
        assert_eq!(
            control.record_switch(event, archive).expect("record"),
            i as u64 + 1
        );
    }

    let mut expected = events.to_vec();
    for (seq, event) in expected.iter_mut().enumerate() {
        event.seq = seq as u64 + 1;
    }
    assert_eq!(control.timeline().expect("read"), expected);
    assert_eq!(
        appender.timeline().expect("read"),
        expected,
        "seen by the other connection"
    );
    assert_eq!(control.active_revision().expect("read"), Some(1));
    assert_eq!(control.highest_revision().expect("read"), 2);
    assert_eq!(
        control.archive(1).expect("read").as_deref(),
        Some(&b"bundle one"[..])
    );
    assert_eq!(
        control.archive(2).expect("read").as_deref(),
        Some(&b"bundle two"[..])
    );
    assert_eq!(control.archive(3).expect("read"), None);
    assert_eq!(control.archive(u64::MAX).expect("read"), None);
    assert_eq!(appender.next_seq(), 4);

    // The golden canary's judgement after the second switch, recorded later as a control
    // event (with details the entry leaves out), is read back into that entry alone.
    let judged = tf_ledger::CanaryAfterSwitch {
        timeline_seq: 2,
        overall: "pass".into(),
        summary: "6 runs after against 6 before: as before".into(),
        judged_us: 90,
    };
    let mut body = serde_json::to_value(&judged).expect("JSON");
    body["comparators"] = serde_json::json!([{"comparator": "latency", "score": "pass"}]);
    control
        .record_control_event(90, tf_ledger::CANARY_AFTER_SWITCH, &body.to_string())
        .expect("recorded");
    control
        .record_control_event(91, tf_ledger::CANARY_AFTER_SWITCH, "not JSON")
        .expect("recorded");
    expected[1].canary = Some(judged);
    assert_eq!(control.timeline().expect("read"), expected);

    // A ledger moves to the thread that owns it.
    let moved = std::thread::spawn(move || control.timeline().map(|t| t.len()))
        .join()
        .expect("thread");
    assert_eq!(moved.expect("read"), 3);
}

#[test]
fn a_version_2_file_is_migrated_to_the_current_schema_and_keeps_its_receipts_and_timeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    {
        let connection = Connection::open(&path).expect("sqlite");
        for migration in &tf_ledger::MIGRATIONS[..2] {
            connection
                .execute_batch(migration.sql().expect("an SQL step"))
                .expect("version 2 schema");
        }
        connection
            .execute(
                "INSERT INTO receipts VALUES (1, 'acme', '7', 'ab', 'bls-single', 'valid', NULL, \
                 'kyc', 'P1', 1, 9, 0, 10, 20, '{}', 4, 'cd')",
                [],
            )
            .expect("a version 2 receipt");
        connection
            .execute("INSERT INTO bundles VALUES (4, 'cd', x'0102', 5)", [])
            .expect("bundle");
        connection
            .execute(
                "INSERT INTO bundle_timeline VALUES (1, 5, 'promote', 'sre', 'why', 0, 4, '[]')",
                [],
            )
            .expect("timeline");
        connection
            .pragma_update(None, "user_version", 2)
            .expect("version 2");
    }
    let mut ledger: Box<dyn Ledger> = Box::new(SqliteLedger::open(&path).expect("migrates"));
    assert_eq!(ledger.next_seq(), 2);
    let (tenant, stored) = ledger
        .receipt(1)
        .expect("read")
        .expect("the old receipt is kept");
    assert_eq!((tenant.as_str(), stored.decided_us), ("acme", 20));
    let timeline = ledger.timeline().expect("read");
    assert_eq!(
        timeline
            .iter()
            .map(|e| (e.seq, e.to_revision, e.bundle_hash.as_str()))
            .collect::<Vec<_>>(),
        [(1, 4, "cd")]
    );
    assert_eq!(ledger.archive(4).expect("read"), Some(vec![1, 2]));
    assert_eq!(ledger.cursor("webhooks").expect("read"), 0);
    ledger
        .save_cursor("webhooks", 1)
        .expect("the cursor table exists");
    drop(ledger);
    let connection = Connection::open(&path).expect("sqlite");
    let version: u32 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let saved: (String, i64, Option<i64>) = connection
        .query_row(
            "SELECT name, seq, updated_us FROM worker_cursors",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("cursor row");
    assert_eq!((saved.0.as_str(), saved.1), ("webhooks", 1));
    assert!(
        saved.2.is_some_and(|us| us > 1_600_000_000_000_000),
        "{saved:?}"
    );
}

#[test]
fn connections_opening_an_old_file_at_once_migrate_it_once() {
    for round in 0..8 {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("l.sqlite");
        {
            let connection = Connection::open(&path).expect("sqlite");
            connection
                .pragma_update(None, "journal_mode", "WAL")
                .expect("wal");
            connection
                .execute_batch(tf_ledger::MIGRATIONS[0].sql().expect("an SQL step"))
                .expect("version 1 schema");
            connection
                .pragma_update(None, "user_version", 1)
                .expect("version 1");
        }
        let start = std::sync::Barrier::new(3);
        std::thread::scope(|scope| {
            let opening: Vec<_> = (0..3)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        SqliteLedger::open(&path).map(drop)
                    })
                })
                .collect();
            for open in opening {
                open.join()
                    .expect("thread")
                    .unwrap_or_else(|e| panic!("round {round}: {e}"));
            }
        });
    }
}

#[test]
fn a_storage_error_names_the_file_says_what_to_do_and_keeps_the_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A directory is no database.
    let err = SqliteLedger::open(dir.path()).expect_err("a directory");
    assert!(matches!(err, LedgerError::Storage { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("check the disk"), "{message}");
    let cause = err.source().expect("the backend's error is the source");
    assert!(message.contains(&cause.to_string()), "{message} / {cause}");
}

#[test]
fn a_ledger_opened_read_only_refuses_writes_with_a_typed_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    append(&mut ledger, &mut [receipt(1, "acme", "kyc", 1, 1_000)]);
    let mut reader: Box<dyn Ledger> = Box::new(SqliteLedger::open_read_only(&path).expect("open"));
    assert_eq!(reader.next_seq(), 2);
    assert_eq!(reader.receipts_after(0, 10).expect("read").len(), 1);
    let r = receipt(2, "acme", "kyc", 1, 2_000);
    let envelope = unsigned();
    let refused = [
        reader
            .append(&[Entry {
                receipt: &r,
                envelope: &envelope,
            }])
            .expect_err("append"),
        reader
            .record_switch(&switch("promote", 0, 1, 1), b"x")
            .expect_err("switch"),
        reader.save_cursor("webhooks", 1).expect_err("cursor"),
    ];
    for err in refused {
        assert!(matches!(err, LedgerError::ReadOnly { .. }), "{err}");
    }
    assert_eq!(ledger.timeline().expect("read"), []);
    assert_eq!(ledger.cursor("webhooks").expect("read"), 0);
}

#[test]
fn tenants_are_every_name_receipts_were_stored_under_sorted_and_kept_after_pruning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    assert_eq!(ledger.tenants().expect("read"), Vec::<String>::new());
    append(
        &mut ledger,
        &mut [
            receipt(1, "zeta", "kyc", 1, 1_000),
            receipt(2, "acme", "kyc", 1, 2_000),
            receipt(3, "zeta", "aml", 0, 3_000),
        ],
    );
    // A batch that is refused stores nothing, its tenant's name included.
    let refused = receipt(9, "ghost", "kyc", 1, 4_000);
    let envelope = unsigned();
    ledger
        .append(&[Entry {
            receipt: &refused,
            envelope: &envelope,
        }])
        .expect_err("out of sequence");
    assert_eq!(ledger.tenants().expect("read"), ["acme", "zeta"]);
    // A tenant whose receipts were all pruned is still named (its receipts are in a snapshot).
    ledger
        .prune(PruneBounds::up_to(2, u64::MAX, 10), "snapshot-x", 5_000)
        .expect("prune");
    let reader: Box<dyn Ledger> = Box::new(SqliteLedger::open_read_only(&path).expect("open"));
    assert_eq!(reader.tenants().expect("read"), ["acme", "zeta"]);
}
