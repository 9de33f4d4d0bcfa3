//! The SQLite ledger on a real file: durable appends, sequence, recovery queries, migrations.

use rusqlite::Connection;
use tf_ledger::{Entry, Ledger, LedgerError, SCHEMA_VERSION, SqliteLedger};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

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

fn append(ledger: &mut SqliteLedger, receipts: &mut [Receipt]) {
    let mut signer = ReceiptSigner::from_secret(&[3; 32]);
    let envelopes: Vec<String> = receipts
        .iter_mut()
        .map(|r| signer.sign_stamped(r).to_json())
        .collect();
    let entries: Vec<Entry<'_>> = receipts
        .iter()
        .zip(&envelopes)
        .map(|(receipt, envelope_json)| Entry {
            receipt,
            envelope_json,
        })
        .collect();
    ledger.append(&entries).expect("append");
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
    let entries = [
        Entry {
            receipt: &a,
            envelope_json: "{}",
        },
        Entry {
            receipt: &b,
            envelope_json: "{}",
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
            .execute_batch(tf_ledger::MIGRATIONS[0])
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
        .prepare("SELECT seq, bundle_revision, bundle_hash FROM receipts ORDER BY seq")
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
            "INSERT INTO bundle_timeline VALUES (1, 1, 'promote', 'sre', 'why', 0, 4, '[]')",
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
