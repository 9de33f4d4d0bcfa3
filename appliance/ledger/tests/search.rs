//! Searching receipts: every combination of filters finds exactly the receipts that match,
//! newest first (by decision time, then sequence number, whatever order they were stored
//! in), and pages taken one after another add up to the whole answer.

mod common;

use tf_ledger::{Ledger, ReceiptSearch, SqliteLedger};
use tf_receipts::{Receipt, VerdictLabel};

/// What a receipt was stored with, as the search filters see it.
#[derive(Clone, Debug, PartialEq)]
struct Stored {
    seq: u64,
    tenant: String,
    request_id: u64,
    verdict: &'static str,
    decided_us: u64,
}

/// 60 receipts of three tenants and three verdicts, request ids repeating (a counter per
/// connection), decision times out of sequence order and some shared.
fn ledger(path: &std::path::Path) -> (SqliteLedger, Vec<Stored>) {
    let mut ledger = SqliteLedger::open(path).expect("open");
    let mut receipts: Vec<Receipt> = (0..60u64)
        .map(|n| {
            let tenant = ["acme", "demo", "zeta"][(n % 3) as usize];
            // Batches of six out of order by up to 3 ms, and pairs decided at the same time.
            let decided = 1_000_000 + (n / 6) * 10_000 + (5 - n % 6) / 2 * 1_000;
            let mut receipt = common::receipt(tenant, decided);
            receipt.request_id = n % 7;
            // As the shards write them: a reason with every verdict but `valid`.
            (receipt.verdict, receipt.reason) = match n % 5 {
                0 => (
                    VerdictLabel::Invalid,
                    Some("the proof does not verify".into()),
                ),
                3 => (VerdictLabel::Rejected, Some("malformed proof".into())),
                _ => (VerdictLabel::Valid, None),
            };
            receipt
        })
        .collect();
    common::append(&mut ledger, &mut receipts);
    let stored = receipts
        .iter()
        .map(|r| Stored {
            seq: r.ledger_seq,
            tenant: r.tenant.clone(),
            request_id: r.request_id,
            verdict: r.verdict.as_str(),
            decided_us: r.decided_at_unix_us,
        })
        .collect();
    (ledger, stored)
}

/// What `search` must find among `all`, in order.
fn expected(all: &[Stored], search: &ReceiptSearch) -> Vec<u64> {
    let mut found: Vec<&Stored> = all
        .iter()
        .filter(|s| search.tenant.as_ref().is_none_or(|t| *t == s.tenant))
        .filter(|s| search.request_id.is_none_or(|id| id == s.request_id))
        .filter(|s| search.verdict.as_ref().is_none_or(|v| v == s.verdict))
        .filter(|s| search.from_us.is_none_or(|from| s.decided_us >= from))
        .filter(|s| search.to_us.is_none_or(|to| s.decided_us < to))
        .collect();
    found.sort_by_key(|s| std::cmp::Reverse((s.decided_us, s.seq)));
    found.iter().map(|s| s.seq).collect()
}

/// Every page of `search`, `page` receipts at a time, one after another.
fn paged(ledger: &dyn Ledger, search: &ReceiptSearch, page: usize) -> Vec<u64> {
    let mut search = ReceiptSearch {
        limit: page,
        ..search.clone()
    };
    let mut seqs = Vec::new();
    loop {
        let found = ledger.search_receipts(&search).expect("searches");
        assert!(found.len() <= page);
        seqs.extend(found.iter().map(|r| r.seq()));
        match found.last() {
            Some(last) if found.len() == page => search.after = Some(last.receipt.place()),
            _ => return seqs,
        }
    }
}

#[test]
fn every_combination_of_filters_finds_what_matches_newest_first_page_by_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ledger, all) = ledger(&dir.path().join("ledger.sqlite"));
    let mut searched = 0;
    for tenant in [None, Some("acme"), Some("nobody")] {
        for request_id in [None, Some(3)] {
            for verdict in [None, Some("valid"), Some("invalid"), Some("rejected")] {
                for (from_us, to_us) in [
                    (None, None),
                    (Some(1_040_000), None),
                    (None, Some(1_052_000)),
                    (Some(1_021_000), Some(1_073_000)),
                ] {
                    let search = ReceiptSearch {
                        tenant: tenant.map(str::to_owned),
                        from_us,
                        to_us,
                        request_id,
                        verdict: verdict.map(str::to_owned),
                        after: None,
                        limit: 100,
                    };
                    let wanted = expected(&all, &search);
                    let found: Vec<u64> = ledger
                        .search_receipts(&search)
                        .expect("searches")
                        .iter()
                        .map(|r| r.seq())
                        .collect();
                    assert_eq!(found, wanted, "{search:?}");
                    assert_eq!(paged(&ledger, &search, 4), wanted, "{search:?} by 4");
                    searched += 1;
                }
            }
        }
    }
    assert_eq!(searched, 96);
    // The filters do narrow: the whole ledger, and one tenant's invalid receipts.
    assert_eq!(expected(&all, &ReceiptSearch::default()).len(), 60);
    let acme_invalid = ReceiptSearch {
        tenant: Some("acme".into()),
        verdict: Some("invalid".into()),
        ..ReceiptSearch::default()
    };
    assert_eq!(expected(&all, &acme_invalid).len(), 4);
}

#[test]
fn a_found_receipt_comes_with_its_tenant_request_id_and_envelope() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ledger, all) = ledger(&dir.path().join("ledger.sqlite"));
    let wanted = &all[17];
    let found = ledger
        .search_receipts(&ReceiptSearch {
            tenant: Some(wanted.tenant.clone()),
            request_id: Some(wanted.request_id),
            from_us: Some(wanted.decided_us),
            to_us: Some(wanted.decided_us + 1),
            limit: 10,
            ..ReceiptSearch::default()
        })
        .expect("searches");
    let record = found
        .iter()
        .find(|r| r.seq() == wanted.seq)
        .expect("the receipt is found");
    assert_eq!(record.tenant, wanted.tenant);
    assert_eq!(record.receipt.request_id, wanted.request_id);
    assert_eq!(record.receipt.verdict, wanted.verdict);
    let by_seq = ledger.receipt(wanted.seq).expect("reads").expect("stored");
    assert_eq!(
        by_seq.1, record.receipt,
        "the same receipt as a lookup reads"
    );
    let none = ReceiptSearch {
        limit: 0,
        ..ReceiptSearch::default()
    };
    assert!(ledger.search_receipts(&none).expect("searches").is_empty());
}
