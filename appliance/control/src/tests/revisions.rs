//! The last revision: promoted, it leaves no revision for a rollback to republish at, and the
//! rollback is refused with the bound instead of overflowing or going past it.

use std::time::Duration;

use tf_bundles::{MAX_REVISION, Problem};
use tf_engine::Limits;
use tf_ledger::{Ledger, SqliteLedger};

use super::fake_shards::FakeShards;
use super::{author, example_archive, trusting};
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
    })
    .expect("an empty ledger opens");
    for revision in [1, MAX_REVISION] {
        let pending = book
            .begin_promote(example_archive(revision, &mut key), "author", false, NOW_US)
            .expect("in range");
        book.switch(pending, Duration::ZERO, NOW_US)
            .expect("recorded");
    }

    let refused = book
        .begin_rollback("sre", "undo", None, NOW_US)
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
