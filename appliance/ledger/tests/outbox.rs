//! The webhook outbox in the ledger file: endpoints and who changed them, messages stored
//! with their cursors in one step, attempts, acknowledgements, and what survives a reopen.

use tf_ledger::{
    Change, Cursors, EndpointState, FailedAttempt, Ledger, LedgerError, NewEndpoint, NewMessage,
    SqliteLedger, WebhookOutbox,
};

fn change<'a>(at_us: u64, action: &'a str) -> Change<'a> {
    Change {
        at_us,
        action,
        actor: "auditor",
        reason: "test",
    }
}

fn message<'a>(id: &'a str, receipts: (u64, u64), body: &'a [u8]) -> NewMessage<'a> {
    NewMessage {
        id,
        event: "receipt.issued",
        receipts: Some(receipts),
        occurred_us: 5,
        body,
    }
}

fn endpoint(url: &str) -> NewEndpoint<'_> {
    NewEndpoint {
        url,
        settings_json: "{}",
        receipts_after: 10,
        timeline_after: 0,
        events_after: 0,
    }
}

/// Cursors with every receipt up to `receipts_after` carried.
fn after(receipts_after: u64) -> Cursors {
    Cursors {
        receipts_after,
        ..Cursors::default()
    }
}

#[test]
fn messages_and_cursors_are_stored_together_and_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    let id = ledger
        .add_endpoint(&endpoint("https://audit.example/hook"), &change(1, "add"))
        .expect("added");
    ledger
        .enqueue(
            id,
            &[
                message("msg_a", (11, 20), b"one"),
                message("msg_b", (21, 30), b"two"),
            ],
            after(30),
            100,
        )
        .expect("stored");
    // A caller working from the view before that store is refused, and stores nothing.
    let stale = ledger
        .enqueue(id, &[message("msg_c", (11, 20), b"again")], after(20), 100)
        .expect_err("behind");
    assert!(
        matches!(
            stale,
            LedgerError::CursorBehind {
                stored: 30,
                got: 20,
                ..
            }
        ),
        "{stale}"
    );
    drop(ledger);

    let mut ledger = SqliteLedger::open(&path).expect("reopen");
    let endpoints = ledger.endpoints().expect("listed");
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0].receipts_after, 30);
    assert_eq!(endpoints[0].state, EndpointState::Active);
    let pending = ledger.pending(id).expect("pending");
    let owed: Vec<_> = pending
        .iter()
        .map(|m| (m.number, m.id.as_str(), m.receipts, m.body.as_deref()))
        .collect();
    assert_eq!(
        owed,
        [
            (1, "msg_a", Some((11, 20)), Some(&b"one"[..])),
            (2, "msg_b", Some((21, 30)), Some(&b"two"[..]))
        ]
    );
    assert_eq!(pending[0].next_attempt_us, 100);

    // A failed attempt, then the acknowledgement: the body goes, the reference stays.
    ledger
        .record_failure(
            id,
            1,
            &FailedAttempt {
                at_us: 100,
                failure: "status 503",
                next_attempt_us: Some(1_100),
            },
        )
        .expect("recorded");
    ledger
        .acknowledge(id, 1, 1_100, 1_150, [7; 32])
        .expect("acknowledged");
    let again = ledger.acknowledge(id, 1, 1_200, 1_250, [8; 32]);
    assert!(
        matches!(again, Err(LedgerError::NoSuchMessage { number: 1, .. })),
        "{again:?}"
    );
    // Giving up drops the body too.
    ledger
        .record_failure(
            id,
            2,
            &FailedAttempt {
                at_us: 200,
                failure: "timeout",
                next_attempt_us: None,
            },
        )
        .expect("given up");
    assert!(ledger.pending(id).expect("pending").is_empty());

    let listed = ledger.messages(id, None, 10).expect("listed");
    assert_eq!(listed.iter().map(|m| m.number).collect::<Vec<_>>(), [2, 1]);
    let [given_up, acked] = &listed[..] else {
        panic!("two messages")
    };
    assert_eq!(acked.attempts, 2);
    assert_eq!(acked.first_attempt_us, Some(100));
    assert_eq!(acked.acked_us, Some(1_150));
    assert_eq!(acked.ack_sha256, Some([7; 32]));
    assert_eq!(acked.last_failure.as_deref(), Some("status 503"));
    assert_eq!(acked.body, None);
    assert_eq!(given_up.given_up_us, Some(200));
    assert_eq!(given_up.attempts, 1);
    assert_eq!(
        ledger
            .messages(id, Some(2), 10)
            .expect("older")
            .iter()
            .map(|m| m.number)
            .collect::<Vec<_>>(),
        [1]
    );
}

#[test]
fn changes_are_recorded_and_a_removed_endpoint_stays_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("open");
    let first = ledger
        .add_endpoint(&endpoint("https://a.example/"), &change(1, "add"))
        .expect("added");
    ledger
        .change_endpoint(
            first,
            Some(EndpointState::Paused),
            None,
            &change(2, "pause"),
        )
        .expect("paused");
    ledger
        .change_endpoint(first, None, Some("{\"rate\":5}"), &change(3, "change"))
        .expect("changed");
    let row = &ledger.endpoints().expect("listed")[0];
    assert_eq!(row.state, EndpointState::Paused);
    assert_eq!(row.settings_json, "{\"rate\":5}");
    assert_eq!(row.changed_us, 3);
    ledger
        .change_endpoint(
            first,
            Some(EndpointState::Removed),
            None,
            &change(4, "remove"),
        )
        .expect("removed");
    for refused in [
        ledger.change_endpoint(
            first,
            Some(EndpointState::Active),
            None,
            &change(5, "resume"),
        ),
        ledger.enqueue(first, &[message("msg_x", (11, 11), b"x")], after(11), 5),
    ] {
        assert!(
            matches!(refused, Err(LedgerError::NoSuchEndpoint { id }) if id == first),
            "{refused:?}"
        );
    }
    // Ids are never reused, so an old message id never names a new endpoint's message.
    let second = ledger
        .add_endpoint(&endpoint("https://b.example/"), &change(6, "add"))
        .expect("added");
    assert!(second > first);

    let actions: Vec<_> = ledger
        .endpoint_changes(Some(first))
        .expect("changes")
        .into_iter()
        .map(|c| (c.at_us, c.action))
        .collect();
    assert_eq!(
        actions,
        [
            (1, "add".to_owned()),
            (2, "pause".to_owned()),
            (3, "change".to_owned()),
            (4, "remove".to_owned())
        ]
    );
    assert_eq!(ledger.endpoint_changes(None).expect("all").len(), 5);
    drop(ledger);

    // The record is append-only, even to someone with the file and the sqlite3 tool.
    let raw = rusqlite::Connection::open(&path).expect("raw");
    for statement in [
        "UPDATE webhook_changes SET actor = 'someone else'",
        "DELETE FROM webhook_changes",
    ] {
        let refused = raw.execute(statement, []).expect_err("append-only");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
}

#[test]
fn pruning_is_held_below_what_any_endpoint_still_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
    assert_eq!(ledger.webhook_hold().expect("hold"), None, "no endpoint");
    let slow = ledger
        .add_endpoint(&endpoint("https://slow.example/hook"), &change(1, "add"))
        .expect("added");
    let fast = ledger
        .add_endpoint(&endpoint("https://fast.example/hook"), &change(1, "add"))
        .expect("added");
    assert_eq!(
        ledger.webhook_hold().expect("hold"),
        Some(10),
        "both cursors at 10"
    );
    ledger
        .enqueue(fast, &[message("msg_f", (11, 40), b"f")], after(40), 100)
        .expect("stored");
    ledger
        .enqueue(slow, &[message("msg_s", (11, 20), b"s")], after(20), 100)
        .expect("stored");
    assert_eq!(
        ledger.webhook_hold().expect("hold"),
        Some(10),
        "owed messages hold their receipts"
    );
    for endpoint in [fast, slow] {
        let number = ledger.pending(endpoint).expect("pending")[0].number;
        ledger
            .acknowledge(endpoint, number, 100, 200, [0; 32])
            .expect("acknowledged");
    }
    assert_eq!(
        ledger.webhook_hold().expect("hold"),
        Some(20),
        "the slower cursor"
    );
    ledger
        .change_endpoint(
            slow,
            Some(EndpointState::Removed),
            None,
            &change(3, "remove"),
        )
        .expect("removed");
    assert_eq!(ledger.webhook_hold().expect("hold"), Some(40));
}

#[test]
fn a_resume_starts_the_retry_ladder_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
    let id = ledger
        .add_endpoint(&endpoint("https://audit.example/hook"), &change(1, "add"))
        .expect("added");
    ledger
        .enqueue(id, &[message("msg_a", (11, 20), b"one")], after(20), 100)
        .expect("stored");
    let number = ledger.pending(id).expect("pending")[0].number;
    let failed = FailedAttempt {
        at_us: 200,
        failure: "status 503",
        next_attempt_us: Some(9_000),
    };
    ledger.record_failure(id, number, &failed).expect("failed");
    ledger
        .change_endpoint(
            id,
            Some(EndpointState::Disabled),
            None,
            &change(300, "disable"),
        )
        .expect("disabled");
    let owed = &ledger.pending(id).expect("pending")[0];
    assert_eq!((owed.attempts, owed.first_attempt_us), (1, Some(200)));
    ledger
        .change_endpoint(
            id,
            Some(EndpointState::Active),
            None,
            &change(400, "resume"),
        )
        .expect("resumed");
    let owed = &ledger.pending(id).expect("pending")[0];
    assert_eq!(owed.attempts, 0);
    assert_eq!(owed.first_attempt_us, None);
    assert_eq!(owed.next_attempt_us, 400, "due at once");
    assert_eq!(owed.last_failure.as_deref(), Some("status 503"), "kept");
}

#[test]
fn deliveries_over_a_range_are_listed_and_done_ones_of_pruned_receipts_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
    let id = ledger
        .add_endpoint(&endpoint("https://audit.example/hook"), &change(1, "add"))
        .expect("added");
    ledger
        .enqueue(
            id,
            &[
                message("msg_a", (11, 20), b"a"),
                message("msg_b", (21, 30), b"b"),
                message("msg_c", (31, 40), b"c"),
            ],
            after(40),
            100,
        )
        .expect("stored");
    for number in [1, 2] {
        ledger
            .acknowledge(id, number, 100, 200, [number as u8; 32])
            .expect("acknowledged");
    }
    let mut over = Vec::new();
    ledger
        .webhook_messages_over(25, 35, &mut |url, row| {
            over.push((url, row.id, row.acked_us));
            Ok(())
        })
        .expect("listed");
    assert_eq!(
        over,
        vec![
            (
                "https://audit.example/hook".to_owned(),
                "msg_b".to_owned(),
                Some(200)
            ),
            (
                "https://audit.example/hook".to_owned(),
                "msg_c".to_owned(),
                None
            ),
        ]
    );
    // Receipts below 31 pruned: msg_a and msg_b are done and carry only those; msg_c is owed.
    assert_eq!(ledger.prune_webhook_messages(31).expect("pruned"), 2);
    assert_eq!(
        ledger.prune_webhook_messages(41).expect("pruned"),
        0,
        "owed stays"
    );
    let number = ledger.pending(id).expect("pending")[0].number;
    ledger
        .acknowledge(id, number, 100, 300, [3; 32])
        .expect("acknowledged");
    assert_eq!(
        ledger.prune_webhook_messages(41).expect("pruned"),
        0,
        "the last message stays, so numbering goes on"
    );
    ledger
        .enqueue(id, &[message("msg_d", (41, 50), b"d")], after(50), 400)
        .expect("stored");
    assert_eq!(ledger.pending(id).expect("pending")[0].number, 4);
}

#[test]
fn control_events_are_kept_in_order_and_an_endpoints_cursor_over_them_only_moves_forward() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
    assert_eq!(ledger.last_control_event().expect("none yet"), 0);
    let first = ledger
        .record_control_event(7, "scenario.failed", r#"{"pack":"a"}"#)
        .expect("recorded");
    let second = ledger
        .record_control_event(8, "scenario.failed", r#"{"pack":"b"}"#)
        .expect("recorded");
    assert_eq!((first, second), (1, 2));
    let after_first = ledger.control_events_after(1, 10).expect("read");
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].body, r#"{"pack":"b"}"#);
    assert_eq!(ledger.last_control_event().expect("read"), 2);

    // The newest of some kinds, oldest first: what the timeline shows as alarms.
    ledger
        .record_control_event(9, "canary.silence", "{}")
        .expect("recorded");
    ledger
        .record_control_event(10, "canary.alarm", r#"{"run":3}"#)
        .expect("recorded");
    let latest = |kinds: &[&str], limit| -> Vec<u64> {
        ledger
            .latest_control_events(kinds, limit)
            .expect("read")
            .iter()
            .map(|e| e.seq)
            .collect()
    };
    assert_eq!(latest(&["scenario.failed", "canary.alarm"], 10), [1, 2, 4]);
    assert_eq!(latest(&["scenario.failed", "canary.alarm"], 2), [2, 4]);
    assert_eq!(latest(&["canary.silence"], 10), [3]);
    assert!(latest(&[], 10).is_empty());

    let id = ledger
        .add_endpoint(&endpoint("https://audit.example/hook"), &change(1, "add"))
        .expect("added");
    let moved = Cursors {
        receipts_after: 10,
        timeline_after: 0,
        events_after: 4,
    };
    ledger.enqueue(id, &[], moved, 100).expect("moved");
    let row = ledger.endpoints().expect("endpoints").remove(0);
    assert_eq!(row.cursors(), moved);
    let behind = Cursors {
        events_after: 3,
        ..moved
    };
    assert!(matches!(
        ledger.enqueue(id, &[], behind, 100),
        Err(LedgerError::CursorBehind { .. })
    ));
    drop(ledger);
    // Append-only, like the bundle timeline.
    let connection = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).expect("open");
    let err = connection
        .execute("DELETE FROM control_events", [])
        .expect_err("append-only");
    assert!(err.to_string().contains("append-only"), "{err}");
}
