//! The growth estimate's reads: receipts decided since an instant (found by bisection on the
//! sequence), and the outlook built from them over a real file.

mod common;

use tf_ledger::{DAY_US, Ledger, Outlook, SqliteLedger};

#[test]
fn receipts_decided_since_an_instant_are_counted_at_every_boundary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("ledger");
    assert_eq!(ledger.decided_since(0).expect("empty"), 0);
    // Decided at 1000, 1010, ..., 1990.
    common::fill(&mut ledger, (0..100).map(|i| 1_000 + 10 * i));
    for (since, expected) in [
        (0, 100),
        (1_000, 100),
        (1_001, 99),
        (1_500, 50),
        (1_990, 1),
        (1_991, 0),
    ] {
        assert_eq!(
            ledger.decided_since(since).expect("count"),
            expected,
            "since {since}"
        );
    }
}

#[test]
fn the_outlook_scales_a_short_history_to_a_day() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("ledger");
    // 1,000 receipts over the last 1/1000 of a day: a million a day.
    let now = 10 * DAY_US;
    let start = now - DAY_US / 1000;
    common::fill(
        &mut ledger,
        (0..1_000).map(|i| start + i * (DAY_US / 1000 / 1000)),
    );
    let outlook = Outlook::of(&ledger, now, 1 << 40, None).expect("outlook");
    let per_day = outlook.bytes_per_day / outlook.bytes_per_receipt;
    assert!(
        (990_000.0..=1_010_000.0).contains(&per_day),
        "{per_day} receipts a day"
    );
    assert!(outlook.bytes_per_receipt > 0.0);
    assert!(outlook.days_until_full.is_some());
}
