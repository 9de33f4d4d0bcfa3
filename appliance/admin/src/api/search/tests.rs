//! `GET /api/v1/receipts` over a real ledger file: pages newest first that add up, filters
//! that narrow, a place that is no stored receipt refused, and readers only.

use actix_web::{App, test, web};
use tf_admin_api::{ErrorCode, Method, ReceiptsReply};
use tf_ledger::{SqliteLedger, sign_and_append};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

use crate::api::configure;
use crate::api::tests::{api_state, request, run, send};

/// Five receipts, `acme` and `demo` in turn, decided a second apart; the third is invalid.
fn fill(path: &std::path::Path) {
    let mut ledger = SqliteLedger::open(path).expect("a ledger");
    let mut receipts: Vec<Receipt> = (0..5u64)
        .map(|n| Receipt {
            tenant: ["acme", "demo"][(n % 2) as usize].into(),
            request_id: 40 + n,
            statement_digest: "cd".repeat(32),
            kind: "bls-single".into(),
            verdict: if n == 2 {
                VerdictLabel::Invalid
            } else {
                VerdictLabel::Valid
            },
            // As the shards write them: a reason with every verdict but `valid`.
            reason: (n == 2).then(|| "the proof does not verify".into()),
            purpose: "kyc".into(),
            dataset_class: "P1".into(),
            budget_charged: 1,
            budget_remaining: Some(9),
            ledger_seq: 0,
            shard: 0,
            received_at_unix_us: 1_795_514_400_000_000 + n * 1_000_000 - 500,
            decided_at_unix_us: 1_795_514_400_000_000 + n * 1_000_000,
            appliance_key_id: String::new(),
            bundle_revision: 0,
            bundle_hash: String::new(),
        })
        .collect();
    let mut signer = ReceiptSigner::from_secret(&[5; 32]);
    let (_, stored) = sign_and_append(&mut ledger, &mut signer, receipts.iter_mut());
    stored.expect("stored");
}

#[test]
fn pages_come_newest_first_and_add_up_filters_narrow_and_a_bad_place_is_refused() {
    run(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.sqlite");
        fill(&path);
        let mut state = api_state();
        state.ledger = Some(path);
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(state))
                .configure(configure),
        )
        .await;
        let page = |path: String| {
            let app = &app;
            async move {
                let answered = send(
                    app,
                    request(Method::Get, &path, Some("auditor-token")).to_request(),
                )
                .await;
                assert!(
                    answered.status.is_success(),
                    "{path}: {:?}",
                    answered.error()
                );
                let reply: ReceiptsReply =
                    serde_json::from_slice(&answered.body).expect("a ReceiptsReply");
                let seqs: Vec<u64> = reply.receipts.iter().map(|r| r.seq).collect();
                (seqs, reply)
            }
        };

        let (first, reply) = page("/api/v1/receipts?limit=2".into()).await;
        assert_eq!(first, [5, 4]);
        assert_eq!(reply.next_before, Some(4));
        let (second, reply) = page("/api/v1/receipts?limit=2&before=4".into()).await;
        assert_eq!(second, [3, 2]);
        let (last, reply_last) = page(format!(
            "/api/v1/receipts?limit=2&before={}",
            reply.next_before.expect("a third page")
        ))
        .await;
        assert_eq!(last, [1]);
        assert_eq!(reply_last.next_before, None, "the last page");

        let (acme, reply) = page("/api/v1/receipts?tenant=acme&verdict=valid".into()).await;
        assert_eq!(acme, [5, 1]);
        let found = &reply.receipts[1];
        assert_eq!(
            (
                found.tenant.0.as_str(),
                found.request_id,
                found.verdict.as_str()
            ),
            ("acme", 40, "valid")
        );
        assert!(found.envelope.is_some(), "the envelope as issued");
        let (invalid, _) = page("/api/v1/receipts?verdict=invalid".into()).await;
        assert_eq!(invalid, [3]);
        let (by_id, _) = page("/api/v1/receipts?request_id=43&tenant=demo".into()).await;
        assert_eq!(by_id, [4]);
        let (window, _) =
            page("/api/v1/receipts?from=2026-11-24T10:00:01Z&to=1795514403".into()).await;
        assert_eq!(window, [3, 2]);
        let (none, reply) = page("/api/v1/receipts?tenant=nobody".into()).await;
        assert!(none.is_empty());
        assert_eq!(reply.next_before, None);

        let answered = send(
            &app,
            request(Method::Get, "/api/v1/receipts?before=99", Some("sre-token")).to_request(),
        )
        .await;
        let error = answered.error();
        assert_eq!(error.error, ErrorCode::BadRequest);
        assert!(error.message.starts_with("before: "), "{}", error.message);
        for token in ["viewer-token", "policy-author-token"] {
            let answered = send(
                &app,
                request(Method::Get, "/api/v1/receipts", Some(token)).to_request(),
            )
            .await;
            assert_eq!(answered.error().error, ErrorCode::Forbidden, "{token}");
        }
    });
}
