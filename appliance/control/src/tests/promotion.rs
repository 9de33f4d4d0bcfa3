//! Promotion and rollback by the `Bundles` actor against fake shards and a real ledger file.

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use tf_bundles::AuthorKey;
use tf_engine::Limits;
use tf_ledger::SqliteLedger;
use tf_seam::Shards;

use super::fake_shards::FakeShards;
use super::{author, example_archive, trusting};
use crate::bundles::{Promote, Rollback, Status, Timeline};
use crate::{Book, Bundles, BundlesPlan, ControlError};

/// A `Bundles` actor over a fresh ledger file and `shards`.
fn bundles(
    dir: &tempfile::TempDir,
    shards: Arc<dyn Shards>,
    trusted: &AuthorKey,
    wait: Duration,
) -> Addr<Bundles> {
    let path = dir.path().join("ledger.sqlite");
    let book = Book::open(BundlesPlan {
        ledger: Box::new(SqliteLedger::open(&path).expect("a fresh ledger")),
        shards,
        trusted: trusting(trusted),
        appliance_key: author(200),
        limits: Limits::DEFAULT,
        switch_wait: wait,
        bundle_key_room: tf_bundles::MAX_FILES,
    })
    .expect("an empty ledger opens");
    Bundles::new(book).start()
}

fn promote(archive: Vec<u8>) -> Promote {
    Promote {
        archive,
        actor: "policy-author".into(),
        allow: Default::default(),
        drift: Default::default(),
    }
}

#[actix::test]
async fn a_switch_every_shard_prepares_is_recorded_published_and_rolled_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut key = author(1);
    let shards = FakeShards::new(3);
    let actor = bundles(&dir, shards.clone(), &key, Duration::from_secs(5));

    let first = actor
        .send(promote(example_archive(1, &mut key)))
        .await
        .expect("the actor answers")
        .expect("revision 1 is promoted");
    assert_eq!((first.from_revision, first.to_revision), (0, 1));
    assert!(first.all_shards_ms.is_some(), "every shard reported");
    let second = actor
        .send(promote(example_archive(2, &mut key)))
        .await
        .expect("the actor answers")
        .expect("revision 2 is promoted");
    assert_eq!((second.from_revision, second.to_revision), (1, 2));

    let rollback = actor
        .send(Rollback {
            actor: "sre".into(),
            reason: "revision 2 misbehaves".into(),
            to: None,
            allow_partners_dropped: false,
        })
        .await
        .expect("the actor answers")
        .expect("the rollback happens");
    assert_eq!(
        (
            rollback.from_revision,
            rollback.to_revision,
            rollback.republishes
        ),
        (2, 3, Some(1)),
        "a rollback republishes revision 1's content as revision 3"
    );
    assert_eq!(shards.published(), vec![1, 2, 3]);
    let in_force = actor.send(Status).await.expect("the actor answers");
    assert_eq!(in_force.active.stamp.revision, 3);
    assert_eq!(in_force.rollback_to, Some(2));
    let timeline = actor
        .send(Timeline)
        .await
        .expect("the actor answers")
        .expect("the timeline reads");
    let actions: Vec<(&str, u64, u64)> = timeline
        .iter()
        .map(|e| (e.action.as_str(), e.from_revision, e.to_revision))
        .collect();
    assert_eq!(
        actions,
        vec![("promote", 0, 1), ("promote", 1, 2), ("rollback", 2, 3)]
    );
}

#[actix::test]
async fn a_shard_that_does_not_prepare_in_time_refuses_the_switch_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut key = author(2);
    let shards = FakeShards::preparing(vec![true, false, true]);
    let actor = bundles(&dir, shards.clone(), &key, Duration::from_millis(50));

    let refused = actor
        .send(promote(example_archive(1, &mut key)))
        .await
        .expect("the actor answers");
    match refused {
        Err(ControlError::NotPrepared { shards: late, .. }) => assert_eq!(late, "1"),
        other => panic!("expected not-prepared naming shard 1, got {other:?}"),
    }
    assert!(shards.published().is_empty(), "nothing was published");
    assert_eq!(shards.withdrawn(), 1, "the staged terms were withdrawn");
    let in_force = actor.send(Status).await.expect("the actor answers");
    assert_eq!(in_force.active.stamp.revision, 0);
    let timeline = actor
        .send(Timeline)
        .await
        .expect("the actor answers")
        .expect("the timeline reads");
    assert!(timeline.is_empty(), "nothing was recorded");
}

#[actix::test]
async fn racing_promotions_are_serialised_in_the_order_they_arrive() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut key = author(3);
    // Preparing takes 20 polls (about 20 ms): long enough for the second promotion to arrive
    // while the first one waits.
    let shards = FakeShards::slow(vec![true, true], 20);
    let actor = bundles(&dir, shards.clone(), &key, Duration::from_secs(5));

    // Both are in the mailbox before either is handled (`send` enqueues at once).
    let first = actor.send(promote(example_archive(1, &mut key)));
    let second = actor.send(promote(example_archive(2, &mut key)));
    let first = first.await.expect("the actor answers").expect("revision 1");
    let second = second
        .await
        .expect("the actor answers")
        .expect("revision 2");
    assert_eq!((first.from_revision, first.to_revision), (0, 1));
    assert_eq!(
        (second.from_revision, second.to_revision),
        (1, 2),
        "the second switch began after the first ended"
    );
    assert_eq!(shards.overlapping(), 0, "no staging overlapped another");
    assert_eq!(shards.published(), vec![1, 2]);
    assert!(second.timeline_seq > first.timeline_seq);
}
