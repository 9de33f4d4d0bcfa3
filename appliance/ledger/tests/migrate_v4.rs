//! A version 3 file, with receipts stored the way version 3 stored them (every field as text,
//! the pretty-printed envelope JSON), moves to the compact form and gives every envelope back
//! byte for byte; one that cannot move is left as it was.

mod common;

use rusqlite::Connection;
use tf_ledger::{Ledger, LedgerError, SCHEMA_VERSION, SqliteLedger};
use tf_receipts::{PAYLOAD_TYPE, Receipt, VerdictLabel};

use common::{digest, receipt, signer, v3};

/// A version 3 file with bundle 3 promoted.
fn version_3_file(path: &std::path::Path) -> Connection {
    let connection = v3::version_3_file(path);
    connection
        .execute("INSERT INTO bundles VALUES (3, ?1, x'00', 1)", [digest(3)])
        .expect("bundle");
    connection
        .execute(
            "INSERT INTO bundle_timeline VALUES (1, 1, 'promote', 'sre', 'why', 0, 3, '[]')",
            [],
        )
        .expect("timeline");
    connection
}

#[test]
fn a_version_3_file_gives_every_envelope_back_byte_for_byte_after_migrating() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    let connection = version_3_file(&path);
    let mut signer = signer();
    let mut issued: Vec<(Receipt, String)> = Vec::new();
    for seq in 1..=40u64 {
        let mut r = receipt(["acme", "globex", "initech"][seq as usize % 3], seq * 1_000);
        r.ledger_seq = seq;
        r.verdict = [
            VerdictLabel::Valid,
            VerdictLabel::Invalid,
            VerdictLabel::Rejected,
        ][seq as usize % 3];
        r.reason = (r.verdict != VerdictLabel::Valid).then(|| format!("reason {}", seq % 2));
        r.budget_charged = u64::from(r.verdict == VerdictLabel::Valid) * (seq % 4);
        r.budget_remaining = (!seq.is_multiple_of(5)).then_some(seq * 3);
        r.purpose = ["kyc", "aml"][seq as usize % 2].into();
        r.request_id = [seq, u64::MAX][seq as usize % 2];
        // Bundle 3 (promoted), 0 (none yet, zeros) and 9 (not in the bundles table).
        (r.bundle_revision, r.bundle_hash) = match seq % 3 {
            0 => (3, digest(3)),
            1 => (0, "0".repeat(64)),
            _ => (9, digest(9)),
        };
        let json = match seq {
            // Signed over a payload serialised otherwise.
            7 => {
                r.appliance_key_id = signer.key_id().as_str().to_owned();
                let payload = serde_json::to_vec_pretty(&r).expect("json");
                signer.sign_payload(PAYLOAD_TYPE, payload).to_json()
            }
            // The same envelope as compact JSON: parses, but is not the text a read rebuilds.
            8 => {
                let pretty = signer.sign_stamped(&mut r).to_json();
                let value: serde_json::Value = serde_json::from_str(&pretty).expect("json");
                serde_json::to_string(&value).expect("json")
            }
            // Not an envelope at all (as hand-made version 1 rows had).
            9 => "{}".to_owned(),
            _ => signer.sign_stamped(&mut r).to_json(),
        };
        v3::insert_v3(&connection, &r, &json);
        issued.push((r, json));
    }
    connection
        .execute("INSERT INTO worker_cursors VALUES ('webhooks', 12, 1)", [])
        .expect("cursor");
    drop(connection);

    let mut ledger = SqliteLedger::open(&path).expect("migrates");
    assert_eq!(ledger.next_seq(), 41);
    for (r, json) in &issued {
        let (tenant, stored) = ledger.receipt(r.ledger_seq).expect("read").expect("kept");
        assert_eq!(stored.envelope_json, *json, "receipt {}", r.ledger_seq);
        assert_eq!(
            (
                tenant.as_str(),
                stored.purpose.as_str(),
                stored.verdict.as_str(),
                stored.charged,
                stored.decided_us
            ),
            (
                r.tenant.as_str(),
                r.purpose.as_str(),
                r.verdict.as_str(),
                r.budget_charged,
                r.decided_at_unix_us
            )
        );
    }
    let followed: Vec<String> = ledger
        .receipts_after(0, 100)
        .expect("read")
        .into_iter()
        .map(|record| record.receipt.envelope_json)
        .collect();
    let expected: Vec<String> = issued.iter().map(|(_, json)| json.clone()).collect();
    assert_eq!(followed, expected);
    let kyc: u64 = issued
        .iter()
        .filter(|(r, _)| r.tenant == "acme" && r.purpose == "kyc")
        .map(|(r, _)| r.budget_charged)
        .sum();
    let charged: u64 = ledger
        .charges_since("acme", 0, u64::MAX / 4)
        .expect("charges")
        .iter()
        .filter(|group| group.purpose == "kyc")
        .map(|group| group.charged)
        .sum();
    assert_eq!(charged, kyc);
    assert_eq!(ledger.cursor("webhooks").expect("cursor"), 12);
    assert_eq!(ledger.timeline().expect("timeline").len(), 1);

    // Appending continues the sequence, in the compact form.
    common::fill(&mut ledger, [50_000]);
    assert_eq!(ledger.next_seq(), 42);
    drop(ledger);

    let connection = Connection::open(&path).expect("sqlite");
    let version: u32 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let (payloads, envelopes): (i64, i64) = connection
        .query_row(
            "SELECT COUNT(payload), COUNT(envelope) FROM receipts",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("count");
    assert_eq!(
        (payloads, envelopes),
        (1, 2),
        "receipt 7 keeps its payload, 8 and 9 their JSON; the rest are compact"
    );
    let old_tables: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'receipts_v3'",
            [],
            |row| row.get(0),
        )
        .expect("schema");
    assert_eq!(old_tables, 0);
    let readable: (String, String, String) = connection
        .query_row(
            "SELECT tenant, request_id, bundle_hash FROM receipts_readable WHERE seq = 3",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("view");
    assert_eq!(
        readable,
        (
            issued[2].0.tenant.clone(),
            issued[2].0.request_id.to_string(),
            digest(3)
        )
    );
}

#[test]
fn a_receipt_that_cannot_move_leaves_the_file_at_version_3_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    let connection = version_3_file(&path);
    let mut r = receipt("acme", 1_000);
    r.ledger_seq = 1;
    v3::insert_v3(&connection, &r, "{}");
    connection
        .execute("UPDATE receipts SET request_id = 'seven'", [])
        .expect("hand-edited");
    drop(connection);

    let reader = SqliteLedger::open_read_only(&path).expect_err("not migrated yet");
    assert!(
        matches!(
            reader,
            LedgerError::TooOld {
                found: 3,
                supported: SCHEMA_VERSION,
                ..
            }
        ),
        "{reader}"
    );
    let err = SqliteLedger::open(&path).expect_err("unmigratable");
    assert!(
        matches!(err, LedgerError::Unmigratable { seq: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("\"seven\""), "{err}");
    let connection = Connection::open(&path).expect("sqlite");
    let version: u32 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, 3);
    let kept: String = connection
        .query_row("SELECT request_id FROM receipts WHERE seq = 1", [], |row| {
            row.get(0)
        })
        .expect("the old row is still there");
    assert_eq!(kept, "seven");
}
