//! Promotions the book refuses before anything changes: a rollback past the last revision
//! (refused with the bound instead of overflowing), and a bundle whose keys could not all be
//! prepared.

use std::time::Duration;

use tf_bundles::{MAX_REVISION, Problem, Refusal};
use tf_engine::Limits;
use tf_ledger::{Ledger, SqliteLedger};

use super::fake_shards::FakeShards;
use super::{archive_with_a_key, author, example_archive, trusting};
use crate::{Book, BundlesPlan, ControlError};

const NOW_US: u64 = 1_795_000_000_000_000;

#[test]
fn a_rollback_after_the_last_revision_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut key = author(3);
    let mut book = Book::open(BundlesPlan {
        ledger: Box::new(SqliteLedger::open(&path).expect("a fresh ledger")),
        shards: FakeShards::new(2),
        trusted: trusting(&key),
        appliance_key: author(201),
        limits: Limits::DEFAULT,
        switch_wait: Duration::from_secs(1),
        bundle_key_room: tf_bundles::MAX_FILES,
    })
    .expect("an empty ledger opens");
    for revision in [1, MAX_REVISION] {
        let pending = book
            .begin_promote(
                example_archive(revision, &mut key),
                "author",
                Default::default(),
                &Default::default(),
                NOW_US,
            )
            .expect("in range");
        book.switch(pending, Duration::ZERO, NOW_US)
            .expect("recorded");
    }

    let refused = book
        .begin_rollback("sre", "undo", None, false, NOW_US)
        .expect_err("no revision is left above the last one");
    match &refused {
        ControlError::Refused(refusal) => assert_eq!(
            refusal.0,
            [Problem::RevisionOutOfRange {
                revision: MAX_REVISION + 1
            }]
        ),
        other => panic!("expected the bound, got {other}"),
    }
    assert!(
        refused.to_string().contains("9007199254740991"),
        "{refused}"
    );
    assert_eq!(book.active().stamp.revision, MAX_REVISION);
    let stored = SqliteLedger::open(&path).expect("reopen");
    assert_eq!(
        stored.timeline().expect("read").len(),
        2,
        "nothing recorded"
    );
    assert_eq!(stored.highest_revision().expect("read"), MAX_REVISION);
}

#[test]
fn a_bundle_with_more_keys_than_the_shards_keep_room_for_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut key = author(4);
    let mut book = Book::open(BundlesPlan {
        ledger: Box::new(SqliteLedger::open(&path).expect("a fresh ledger")),
        shards: FakeShards::new(2),
        trusted: trusting(&key),
        appliance_key: author(202),
        limits: Limits::DEFAULT,
        switch_wait: Duration::from_secs(1),
        bundle_key_room: 0,
    })
    .expect("an empty ledger opens");
    let archive = archive_with_a_key(1, &mut key);
    let refused = book
        .begin_promote(
            archive,
            "author",
            Default::default(),
            &Default::default(),
            NOW_US,
        )
        .expect_err("no room for its key");
    match refused {
        ControlError::Refused(Refusal(problems)) => assert!(
            matches!(
                problems.as_slice(),
                [Problem::TooManyKeys { count: 1, room: 0 }]
            ),
            "{problems:?}"
        ),
        other => panic!("refused for another reason: {other}"),
    }
    assert_eq!(book.active().stamp.revision, 0, "nothing changed");
    assert!(book.timeline().expect("timeline").is_empty());
}
