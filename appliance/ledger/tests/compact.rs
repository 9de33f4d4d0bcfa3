//! Receipts in the compact form come back byte for byte: every verdict, kind and optional
//! field, hex that is not a digest, bundle hashes kept or referred to, and the receipts whose
//! payload or envelope the columns cannot rebuild (kept verbatim instead). The file stays
//! readable with the `sqlite3` tool through `receipts_readable`.

mod common;

use rusqlite::Connection;
use tf_ledger::{Entry, Ledger, SqliteLedger};
use tf_receipts::{Envelope, EnvelopeSignature, PAYLOAD_TYPE, Receipt, VerdictLabel};

use common::{append, digest, kept_verbatim, promote, receipt, signer};

const KINDS: [&str; 5] = [
    "bls-single",
    "bls-aggregate",
    "bls-fast-aggregate",
    "groth16-bn254",
    "groth16-bls12-381",
];

/// Every combination of what a receipt's optional and unusual fields can hold.
fn combinations() -> Vec<Receipt> {
    let verdicts = [
        VerdictLabel::Valid,
        VerdictLabel::Invalid,
        VerdictLabel::Rejected,
    ];
    let reasons = [None, Some("the proof does not verify"), Some("")];
    let remaining = [None, Some(0), Some(u64::MAX)];
    // (revision, hash): in the bundles table, not there, none promoted, and hashes that are
    // not lowercase digests.
    let bundles = [
        (3, digest(3)),
        (4, digest(4)),
        (0, "0".repeat(64)),
        (0, String::new()),
        (5, digest(5).to_uppercase()),
    ];
    let digests = [digest(1), "ab".into(), digest(2).to_uppercase(), "é".into()];
    let mut receipts = Vec::new();
    let mut n = 0u64;
    for verdict in verdicts {
        for kind in KINDS {
            for reason in reasons {
                for remaining in remaining {
                    for (revision, hash) in &bundles {
                        n += 1;
                        let mut r = receipt(["acme", "globex"][n as usize % 2], 1_000 + n);
                        r.verdict = verdict;
                        r.kind = kind.into();
                        r.reason = reason.map(str::to_owned);
                        r.budget_remaining = remaining;
                        r.bundle_revision = *revision;
                        r.bundle_hash = hash.clone();
                        r.statement_digest = digests[n as usize % digests.len()].clone();
                        r.request_id = [0, 7, u64::MAX][n as usize % 3];
                        r.budget_charged = [0, 1, u64::MAX >> 1][n as usize % 3];
                        r.shard = [0, 1, u16::MAX][n as usize % 3];
                        // A clock stepped back between receipt and verdict, now and then.
                        if n.is_multiple_of(11) {
                            r.received_at_unix_us = r.decided_at_unix_us + 5;
                        }
                        receipts.push(r);
                    }
                }
            }
        }
    }
    receipts
}

#[test]
fn every_combination_comes_back_byte_for_byte_from_columns_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open");
    promote(&mut ledger, 3, &digest(3));
    promote(&mut ledger, 5, &digest(5));
    let mut receipts = combinations();
    let envelopes = append(&mut ledger, &mut receipts);
    assert_eq!(
        kept_verbatim(&ledger),
        (0, 0),
        "the columns rebuild every receipt"
    );

    let after = ledger.receipts_after(0, usize::MAX).expect("read");
    assert_eq!(after.len(), receipts.len());
    for ((record, receipt), envelope) in after.iter().zip(&receipts).zip(&envelopes) {
        let stored = &record.receipt;
        assert_eq!(stored.envelope_json, envelope.to_json(), "{receipt:?}");
        assert_eq!(record.tenant, receipt.tenant);
        assert_eq!(
            (
                stored.seq,
                stored.purpose.as_str(),
                stored.dataset_class.as_str(),
                stored.verdict.as_str(),
                stored.charged,
                stored.decided_us
            ),
            (
                receipt.ledger_seq,
                receipt.purpose.as_str(),
                receipt.dataset_class.as_str(),
                receipt.verdict.as_str(),
                receipt.budget_charged,
                receipt.decided_at_unix_us
            )
        );
        let (tenant, by_seq) = ledger.receipt(stored.seq).expect("read").expect("stored");
        assert_eq!(
            (tenant.as_str(), &by_seq),
            (receipt.tenant.as_str(), stored)
        );
    }
    for tenant in ["acme", "globex"] {
        let mut seen = Vec::new();
        ledger
            .receipts_between(tenant, 0, u64::MAX, &mut |r| {
                seen.push(r.envelope_json);
                Ok(())
            })
            .expect("read");
        let expected: Vec<String> = receipts
            .iter()
            .zip(&envelopes)
            .filter(|(r, _)| r.tenant == tenant)
            .map(|(_, e)| e.to_json())
            .collect();
        assert_eq!(seen, expected, "{tenant}");
    }
}

#[test]
fn a_payload_the_columns_would_not_rebuild_is_kept_verbatim_and_given_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open");
    let mut signer = signer();
    let mut receipts: Vec<Receipt> = (1..=3).map(|seq| receipt("acme", seq * 1_000)).collect();
    let key_id = signer.key_id().as_str().to_owned();
    for (seq, r) in receipts.iter_mut().enumerate() {
        r.ledger_seq = seq as u64 + 1;
        r.appliance_key_id = key_id.clone();
    }
    // The middle one signed over a payload serialised otherwise (pretty-printed): the same
    // receipt, other bytes.
    let pretty = serde_json::to_vec_pretty(&receipts[1]).expect("json");
    let envelopes = [
        signer.sign_stamped(&mut receipts[0]),
        signer.sign_payload(PAYLOAD_TYPE, pretty),
        signer.sign_stamped(&mut receipts[2]),
    ];
    let entries: Vec<Entry<'_>> = receipts
        .iter()
        .zip(&envelopes)
        .map(|(receipt, envelope)| Entry { receipt, envelope })
        .collect();
    ledger.append(&entries).expect("append");

    assert_eq!(kept_verbatim(&ledger), (1, 0));
    let connection = Connection::open(ledger.path()).expect("sqlite");
    let kept: Vec<i64> = connection
        .prepare("SELECT seq FROM receipts WHERE payload IS NOT NULL")
        .expect("query")
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(kept, [2], "only the receipt whose payload differs");
    for (seq, envelope) in (1..).zip(&envelopes) {
        let (_, stored) = ledger.receipt(seq).expect("read").expect("stored");
        assert_eq!(stored.envelope_json, envelope.to_json(), "receipt {seq}");
    }
    let rebuilt =
        Envelope::from_json(&ledger.receipt(2).expect("read").expect("2").1.envelope_json)
            .expect("envelope");
    tf_receipts::verify_signature(&rebuilt, &signer.public_key()).expect("still verifies");
}

#[test]
fn an_envelope_the_columns_cannot_describe_is_kept_whole_and_given_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open");
    let mut signer = signer();
    let mut receipts: Vec<Receipt> = (1..=4).map(|seq| receipt("acme", seq * 1_000)).collect();
    for (seq, r) in receipts.iter_mut().enumerate() {
        r.ledger_seq = seq as u64 + 1;
    }
    let mut envelopes: Vec<Envelope> = receipts
        .iter_mut()
        .map(|r| signer.sign_stamped(r))
        .collect();
    // Two signatures; another payload type; a signature by a key the receipt does not name.
    envelopes[0].signatures.push(EnvelopeSignature {
        key_id: "a witness".into(),
        sig: vec![1; 64],
    });
    envelopes[1].payload_type = "application/vnd.other+json".into();
    envelopes[2].signatures[0].key_id = "another key".into();
    let entries: Vec<Entry<'_>> = receipts
        .iter()
        .zip(&envelopes)
        .map(|(receipt, envelope)| Entry { receipt, envelope })
        .collect();
    ledger.append(&entries).expect("append");

    assert_eq!(kept_verbatim(&ledger), (0, 3), "the fourth is compact");
    for (record, envelope) in ledger
        .receipts_after(0, 10)
        .expect("read")
        .iter()
        .zip(&envelopes)
    {
        assert_eq!(record.receipt.envelope_json, envelope.to_json());
    }
}

#[test]
fn the_readable_view_shows_names_hex_and_decimal_and_names_are_never_rewritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("l.sqlite")).expect("open");
    promote(&mut ledger, 3, &digest(3));
    let mut first = receipt("acme", 10_000);
    first.request_id = u64::MAX;
    first.verdict = VerdictLabel::Invalid;
    first.reason = Some("the proof does not verify".into());
    first.budget_charged = 0;
    let mut second = receipt("globex", 20_000);
    second.statement_digest = "not hex".into();
    second.bundle_revision = 4;
    second.bundle_hash = digest(4);
    let envelopes = append(&mut ledger, &mut [first.clone(), second.clone()]);
    let signature = hex::encode(&envelopes[0].signatures[0].sig);

    let connection = Connection::open(ledger.path()).expect("sqlite");
    let rows: Vec<[Option<String>; 9]> = connection
        .prepare(
            "SELECT tenant, request_id, statement_digest, kind, verdict, reason, bundle_hash, \
             appliance_key_id, signature FROM receipts_readable ORDER BY seq",
        )
        .expect("query")
        .query_map([], |row| {
            Ok(std::array::from_fn(|i| row.get(i).expect("text")))
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    let key_id = signer().key_id().as_str().to_owned();
    let text = |s: &str| Some(s.to_owned());
    assert_eq!(
        rows,
        [
            [
                text("acme"),
                text("18446744073709551615"),
                text(&first.statement_digest),
                text("groth16-bn254"),
                text("invalid"),
                text("the proof does not verify"),
                text(&digest(3)),
                text(&key_id),
                text(&signature),
            ],
            [
                text("globex"),
                text(&second.request_id.to_string()),
                text("not hex"),
                text("groth16-bn254"),
                text("valid"),
                None,
                text(&digest(4)),
                text(&key_id),
                text(&hex::encode(&envelopes[1].signatures[0].sig)),
            ],
        ]
    );
    let times: (i64, i64) = connection
        .query_row(
            "SELECT received_us, decided_us FROM receipts_readable WHERE seq = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("times");
    assert_eq!(
        times,
        (
            first.received_at_unix_us as i64,
            first.decided_at_unix_us as i64
        )
    );
    for rewrite in [
        "UPDATE tenant_names SET name = 'someone else'",
        "DELETE FROM purpose_names",
        "DELETE FROM bundles",
    ] {
        let err = connection.execute(rewrite, []).expect_err(rewrite);
        assert!(err.to_string().contains("kept"), "{rewrite}: {err}");
    }
}
