use serde_json::Value;

use super::*;

/// A DSSE envelope as `tf-receipts` prints it: pretty JSON, so any re-serialisation shows.
const ENVELOPE: &str = "{\n  \"payload\": \"eyJzZXEiOjd9\",\n  \"payloadType\": \"application/vnd.trustfabric.receipt+json\",\n  \"signatures\": [\n    {\n      \"keyid\": \"appliance-1\",\n      \"sig\": \"c2lnbmF0dXJl\"\n    }\n  ]\n}";

#[test]
fn event_types_round_trip_through_every_form() {
    for event in EventType::ALL {
        let name = event.as_str();
        assert_eq!(EventType::parse(name), Ok(event));
        assert_eq!(name.parse::<EventType>(), Ok(event));
        assert_eq!(event.to_string(), name);
        let json = serde_json::to_string(&event).expect("serialises");
        assert_eq!(json, format!("\"{name}\""));
        assert_eq!(
            serde_json::from_str::<EventType>(&json).expect("deserialises"),
            event
        );
        // The spec's advice: full-stop delimited parts of `[a-zA-Z0-9_]`.
        assert!(name.split('.').count() == 2, "{name}");
        assert!(
            name.split('.').all(|part| !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        );
    }
}

#[test]
fn unknown_event_type_lists_the_valid_ones() {
    assert_eq!(EventType::parse("receipt.Issued"), Err(UnknownEventType));
    assert_eq!(EventType::parse(""), Err(UnknownEventType));
    let message = UnknownEventType.to_string();
    for event in EventType::ALL {
        assert!(message.contains(event.as_str()), "{message} lacks {event}");
    }
    assert!(serde_json::from_str::<EventType>("\"receipt.revoked\"").is_err());
}

#[test]
fn receipt_batch_carries_envelopes_byte_for_byte() {
    let receipts = [
        ReceiptEntry {
            seq: 7,
            log_index: Some(7),
            envelope: ENVELOPE,
        },
        ReceiptEntry {
            seq: 8,
            log_index: None,
            envelope: ENVELOPE,
        },
    ];
    let body = receipt_issued_body(1_667_507_170_344_522, &receipts);
    let text = std::str::from_utf8(&body).expect("JSON is UTF-8");
    assert!(
        text.starts_with(
            r#"{"type":"receipt.issued","timestamp":"2022-11-03T20:26:10.344522Z","data":{"receipts":[{"seq":7,"log_index":7,"envelope":"{\n  \"payload\""#
        ),
        "{text}"
    );

    // Any JSON parser gives the issued bytes back.
    let value: Value = serde_json::from_slice(&body).expect("the body parses");
    let got: Vec<_> = value["data"]["receipts"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["seq"].as_u64(),
                r["log_index"].as_u64(),
                r["envelope"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let envelope = Some(ENVELOPE.to_owned());
    assert_eq!(
        got,
        [
            (Some(7), Some(7), envelope.clone()),
            (Some(8), None, envelope)
        ]
    );
    // `log_index` is absent, not null, before the log has the receipt.
    assert!(value["data"]["receipts"][1].get("log_index").is_none());
}

#[test]
fn any_event_takes_the_recommended_shape() {
    #[derive(Serialize)]
    struct Promoted {
        revision: u64,
    }
    let body =
        event_body(EventType::BundlePromoted, 0, &Promoted { revision: 12 }).expect("serialises");
    assert_eq!(
        body,
        br#"{"type":"bundle.promoted","timestamp":"1970-01-01T00:00:00.000000Z","data":{"revision":12}}"#
    );
}

#[test]
fn webhook_ids_are_stable_and_safe_to_sign() {
    assert_eq!(webhook_id(3, 100, 163), "msg_receipts_3_100_163");
    assert_eq!(webhook_id(3, 100, 163), webhook_id(3, 100, 163));
    assert_ne!(webhook_id(3, 100, 163), webhook_id(4, 100, 163));
    assert_ne!(webhook_id(3, 100, 163), webhook_id(3, 100, 164));
    // Separators keep fields apart: (1, 11, 2) and (11, 1, 2) differ.
    assert_ne!(webhook_id(1, 11, 2), webhook_id(11, 1, 2));
    let id = webhook_id(u64::MAX, u64::MAX, u64::MAX);
    assert!(id.starts_with("msg_"));
    assert!(
        id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "{id}"
    );
}
