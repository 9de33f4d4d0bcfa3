//! Bundle revisions the ledger's signed 64-bit integers cannot hold are refused, never stored
//! negative (a negative revision would read back as a huge one and block every promotion).

use tf_ledger::{Ledger, LedgerError, SqliteLedger, TimelineEvent};

fn switch(from_revision: u64, to_revision: u64) -> TimelineEvent {
    TimelineEvent {
        seq: 0,
        at_us: 1,
        action: "promote".into(),
        actor: "sre".into(),
        reason: "test".into(),
        from_revision,
        to_revision,
        links: vec![],
        bundle_hash: format!("{to_revision:064x}"),
        drift: None,
        canary: None,
    }
}

#[test]
fn a_revision_above_i64_max_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
    let largest = i64::MAX as u64;
    ledger
        .record_switch(&switch(0, largest), b"largest")
        .expect("the largest stored revision");
    assert_eq!(ledger.highest_revision().expect("read"), largest);
    assert_eq!(ledger.active_revision().expect("read"), Some(largest));

    for event in [
        switch(largest, largest + 1),
        switch(1 << 63, 1),
        switch(0, u64::MAX),
    ] {
        let refused = ledger
            .record_switch(&event, b"too large")
            .expect_err("not storable");
        assert!(
            matches!(refused, LedgerError::OutOfRange { value, .. } if value >= 1 << 63),
            "{refused}"
        );
        assert!(refused.to_string().contains("bundle revision"), "{refused}");
    }
    let timeline = ledger.timeline().expect("read");
    assert_eq!(timeline.len(), 1, "only the first switch was recorded");
    assert_eq!(timeline[0].to_revision, largest);
    assert_eq!(ledger.highest_revision().expect("read"), largest);
}
