//! `auditors.json` holds, per webhook endpoint, what the outbox sent of the period's receipts
//! and a digest of the acknowledgements that an auditor reproduces from its own answers.

mod common;

use std::fs;

use sha2::{Digest, Sha256};
use tf_compliance::{AuditorReferences, SeqRange, WebhookDelivery, verify_packet};
use tf_ledger::{Change, NewEndpoint, NewMessage, WebhookOutbox};

use common::{FROM_US, TO_US, filled};

#[test]
fn acknowledgements_of_the_periods_receipts_become_the_auditor_reference() {
    let mut appliance = filled();
    let change = Change {
        at_us: 1,
        action: "add",
        actor: "sre",
        reason: "test",
    };
    let endpoint = appliance
        .ledger
        .add_endpoint(
            &NewEndpoint {
                url: "https://audit.example/hook",
                settings_json: "{}",
                receipts_after: 0,
                timeline_after: 0,
                events_after: 0,
            },
            &change,
        )
        .expect("added");
    // The period's receipts are 3..=308: the first message straddles its start, the third is
    // still owed, the last is after its end.
    let messages = [
        ("msg_1", (1, 5)),
        ("msg_2", (6, 100)),
        ("msg_3", (101, 308)),
        ("msg_4", (309, 309)),
    ];
    let stored: Vec<NewMessage<'_>> = messages
        .iter()
        .map(|(id, receipts)| NewMessage {
            id,
            event: "receipt.issued",
            receipts: Some(*receipts),
            occurred_us: 1,
            body: b"{}",
        })
        .collect();
    appliance
        .ledger
        .enqueue(
            endpoint,
            &stored,
            tf_ledger::Cursors {
                receipts_after: 309,
                ..Default::default()
            },
            10,
        )
        .expect("stored");
    for (number, answer) in [(1, [1u8; 32]), (2, [2; 32]), (4, [4; 32])] {
        appliance
            .ledger
            .acknowledge(endpoint, number, 20, 30 + number, answer)
            .expect("acknowledged");
    }

    let snapshot = appliance.snapshot(FROM_US, TO_US, None).expect("snapshot");
    let auditors: AuditorReferences =
        serde_json::from_slice(&fs::read(snapshot.path.join("auditors.json")).expect("read"))
            .expect("auditors.json");
    let expected = Sha256::digest(
        format!(
            "msg_1 {}\nmsg_2 {}\n",
            hex::encode([1u8; 32]),
            hex::encode([2u8; 32])
        )
        .as_bytes(),
    );
    assert_eq!(
        auditors.webhook_deliveries,
        [WebhookDelivery {
            endpoint,
            url: "https://audit.example/hook".into(),
            receipts: SeqRange {
                first: 3,
                last: 308
            },
            messages: 3,
            acknowledged: 2,
            owed: 1,
            given_up: 0,
            last_acknowledged_unix_us: Some(32),
            acknowledgements_sha256: hex::encode(expected),
        }]
    );
    verify_packet(&snapshot.path, &appliance.signer.public_key(), None).expect("intact");
}
