//! Round trips for every message shape, and no input bytes ever panic the decoder.

use proptest::prelude::*;
use tf_wire::{
    About, AboutQuery, BudgetStatus, CapState, Curve, DatasetClass, ErrorCode, ErrorReply,
    FrameDecoder, HEADER_BYTES, KeyRegistered, LogProof, LogProofQuery, Message, Onboard,
    Onboarded, OverBudget, OverBudgetReason, PROTOCOL_VERSION, ReceiptEnvelope, ReceiptSignature,
    RegisterKey, Statement, Submit, VerdictCode, VerdictReply, WireError, WireLimits, encode,
    to_owned,
};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn class() -> impl Strategy<Value = DatasetClass> {
    prop_oneof![
        Just(DatasetClass::P0),
        Just(DatasetClass::P1),
        Just(DatasetClass::P2)
    ]
}

fn statement() -> impl Strategy<Value = Statement> {
    prop_oneof![
        (
            any::<[u8; 48]>(),
            bytes(64),
            prop::array::uniform32(any::<u8>())
        )
            .prop_map(|(public_key, message, half)| Statement::BlsSingle {
                public_key,
                message,
                signature: double(half),
            }),
        (
            prop::collection::vec(any::<[u8; 48]>(), 0..4),
            prop::collection::vec(bytes(16), 0..4)
        )
            .prop_map(|(public_keys, messages)| Statement::BlsAggregate {
                public_keys,
                messages,
                signature: [7; 96],
            }),
        (prop::collection::vec(any::<[u8; 48]>(), 0..4), bytes(32)).prop_map(
            |(public_keys, message)| Statement::BlsFastAggregate {
                public_keys,
                message,
                signature: [9; 96]
            }
        ),
        (
            any::<bool>(),
            any::<[u8; 32]>(),
            bytes(192),
            prop::collection::vec(any::<[u8; 32]>(), 0..8)
        )
            .prop_map(|(bn, key_id, proof, public_inputs)| Statement::Groth16 {
                curve: if bn { Curve::Bn254 } else { Curve::Bls12_381 },
                key_id,
                proof,
                public_inputs,
            }),
    ]
}

fn over_budget_reason() -> impl Strategy<Value = OverBudgetReason> {
    prop_oneof![
        Just(OverBudgetReason::Cap),
        Just(OverBudgetReason::FleetShare)
    ]
}

fn cap_state() -> impl Strategy<Value = CapState> {
    (
        "[a-z0-9-]{1,20}",
        "[a-z-]{0,20}",
        class(),
        prop_oneof![Just("day".to_owned()), Just("rolling 3600s".to_owned())],
        any::<[u64; 6]>(),
    )
        .prop_map(|(tenant, purpose, dataset_class, window, numbers)| {
            let [limit, used, reserved, remaining, resets_at_unix_ms, granted] = numbers;
            CapState {
                tenant,
                purpose,
                dataset_class,
                window,
                limit,
                used,
                reserved,
                remaining,
                resets_at_unix_ms,
                granted,
            }
        })
}

fn double(half: [u8; 32]) -> [u8; 96] {
    let mut out = [0u8; 96];
    for (i, b) in out.iter_mut().enumerate() {
        *b = half[i % 32];
    }
    out
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<u64>(), "[a-z-]{0,20}", class(), statement()).prop_map(
            |(request_id, purpose, dataset_class, statement)| Message::Submit(Submit {
                request_id,
                purpose,
                dataset_class,
                statement,
            })
        ),
        (
            any::<u64>(),
            ".{0,30}",
            any::<[u8; 32]>(),
            bytes(100),
            bytes(64)
        )
            .prop_map(
                |(request_id, reason, statement_digest, payload, signature)| {
                    Message::Verdict(VerdictReply {
                        request_id,
                        verdict: VerdictCode::Invalid,
                        reason,
                        statement_digest,
                        receipt: ReceiptEnvelope {
                            payload_type: "application/vnd.trust-fabric.receipt.v1+json".into(),
                            payload,
                            signatures: vec![ReceiptSignature {
                                key_id: "k1".into(),
                                signature,
                            }],
                        },
                    })
                }
            ),
        (
            any::<u64>(),
            any::<u32>(),
            any::<u64>(),
            class(),
            any::<u64>(),
            over_budget_reason()
        )
            .prop_map(
                |(request_id, retry_after_ms, remaining, dataset_class, granted, reason)| {
                    let code = if retry_after_ms % 2 == 0 {
                        ErrorCode::Busy { retry_after_ms }
                    } else {
                        ErrorCode::OverBudget(OverBudget {
                            cap: CapState {
                                tenant: "acme".into(),
                                purpose: "fraud-check".into(),
                                dataset_class,
                                window: "day".into(),
                                limit: remaining.saturating_add(1),
                                used: 1,
                                reserved: 0,
                                remaining,
                                resets_at_unix_ms: 1_700_000_000_000,
                                granted,
                            },
                            requested: remaining.saturating_add(1),
                            contact: "ask the operator".into(),
                            reason,
                        })
                    };
                    Message::Error(ErrorReply { request_id, code })
                }
            ),
        (any::<u64>(), prop::collection::vec(cap_state(), 0..4)).prop_map(|(request_id, caps)| {
            Message::BudgetStatus(BudgetStatus { request_id, caps })
        }),
        (any::<u64>(), any::<bool>(), bytes(512)).prop_map(|(request_id, bn, key)| {
            Message::RegisterKey(RegisterKey {
                request_id,
                curve: if bn { Curve::Bn254 } else { Curve::Bls12_381 },
                key,
            })
        }),
        (any::<u64>(), any::<[u8; 32]>()).prop_map(|(request_id, key_id)| {
            Message::KeyRegistered(KeyRegistered { request_id, key_id })
        }),
        any::<u64>().prop_map(|request_id| Message::Error(ErrorReply {
            request_id,
            code: ErrorCode::ShuttingDown
        })),
        (any::<u64>(), any::<u64>()).prop_map(|(request_id, index)| Message::LogProofQuery(
            LogProofQuery { request_id, index }
        )),
        any::<u64>().prop_map(|request_id| Message::AboutQuery(AboutQuery { request_id })),
        (
            any::<u64>(),
            "[a-z0-9-]{1,64}",
            any::<[u8; 32]>(),
            ".{0,200}"
        )
            .prop_map(
                |(request_id, tenant, receipt_public_key, log_key)| Message::About(About {
                    request_id,
                    tenant,
                    receipt_public_key,
                    log_key,
                })
            ),
        (
            any::<u64>(),
            ".{0,300}",
            any::<u64>(),
            any::<u64>(),
            prop::collection::vec(any::<[u8; 32]>(), 0..=64)
        )
            .prop_map(|(request_id, checkpoint, index, tree_size, hashes)| {
                Message::LogProof(LogProof {
                    request_id,
                    checkpoint,
                    index,
                    tree_size,
                    hashes,
                })
            }),
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
            ".{0,40}"
        )
            .prop_map(|(request_id, index, tree_size, retry_after_ms, detail)| {
                let code = match retry_after_ms % 3 {
                    0 => ErrorCode::NotInLogYet {
                        index,
                        tree_size,
                        retry_after_ms,
                    },
                    1 => ErrorCode::LogUnavailable { detail },
                    _ => ErrorCode::Unavailable {
                        retry_after_ms,
                        detail,
                    },
                };
                Message::Error(ErrorReply { request_id, code })
            }),
        (any::<u64>(), "[a-z-]{1,20}", ".{0,80}").prop_map(|(request_id, reason, detail)| {
            Message::Error(ErrorReply {
                request_id,
                code: ErrorCode::OnboardingRefused { reason, detail },
            })
        }),
        (
            any::<u64>(),
            any::<u64>(),
            any::<[u8; 16]>(),
            "[a-z0-9-]{1,64}",
            bytes(600)
        )
            .prop_map(|(request_id, invite_id, secret, tenant, csr)| {
                Message::Onboard(Onboard {
                    request_id,
                    invite_id,
                    secret,
                    tenant,
                    csr,
                })
            }),
        (
            any::<u64>(),
            "[a-z0-9-]{1,64}",
            bytes(900),
            bytes(900),
            any::<[u8; 32]>(),
            any::<u64>()
        )
            .prop_map(
                |(
                    request_id,
                    tenant,
                    certificate,
                    ca_certificate,
                    receipt_public_key,
                    revision,
                )| {
                    Message::Onboarded(Onboarded {
                        request_id,
                        tenant,
                        certificate,
                        ca_certificate,
                        receipt_public_key,
                        log_key: String::new(),
                        revision,
                    })
                }
            ),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(message in message()) {
        let mut frame = Vec::new();
        encode(&message, &mut frame).expect("encodes");
        let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
        let archived = decoder.decode(&frame).expect("decodes");
        prop_assert_eq!(to_owned(archived), message);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in bytes(2048)) {
        let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
        let _ = decoder.decode(&data);
        let _ = decoder.decode_body(&data);
    }

    #[test]
    fn mutated_valid_frames_never_panic(message in message(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut frame = Vec::new();
        encode(&message, &mut frame).expect("encodes");
        for (at, value) in flips {
            let i = HEADER_BYTES + at % (frame.len() - HEADER_BYTES);
            frame[i] = value;
        }
        let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
        if let Ok(archived) = decoder.decode(&frame) {
            let _ = to_owned(archived);
        }
    }
}

fn submit(statement: Statement) -> Vec<u8> {
    let mut frame = Vec::new();
    let message = Message::Submit(Submit {
        request_id: 1,
        purpose: "audit".into(),
        dataset_class: DatasetClass::P1,
        statement,
    });
    encode(&message, &mut frame).expect("encodes");
    frame
}

#[test]
fn header_checks_come_before_the_body() {
    let frame = submit(Statement::BlsSingle {
        public_key: [1; 48],
        message: vec![],
        signature: [2; 96],
    });
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    assert_eq!(
        decoder.decode(&frame[..5]).map(|_| ()),
        Err(WireError::Truncated { needed: 8, got: 5 })
    );
    let mut bad = frame.clone();
    bad[0] = b'X';
    assert!(matches!(decoder.decode(&bad), Err(WireError::BadMagic)));
    let mut newer = frame.clone();
    newer[2..4].copy_from_slice(&(PROTOCOL_VERSION + 1).to_le_bytes());
    assert!(matches!(
        decoder.decode(&newer),
        Err(WireError::UnsupportedVersion { got, supported: PROTOCOL_VERSION }) if got == PROTOCOL_VERSION + 1
    ));
    let mut huge = frame.clone();
    huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decoder.decode(&huge),
        Err(WireError::FrameTooLarge { .. })
    ));
    assert!(matches!(
        decoder.decode(&frame[..frame.len() - 1]),
        Err(WireError::Truncated { .. })
    ));
    assert!(decoder.decode(&frame).is_ok());
}

#[test]
fn field_limits_are_enforced_after_validation() {
    let limits = WireLimits {
        max_public_inputs: 2,
        max_message_bytes: 4,
        ..WireLimits::DEFAULT
    };
    let mut decoder = FrameDecoder::new(limits);
    let groth = submit(Statement::Groth16 {
        curve: Curve::Bn254,
        key_id: [0; 32],
        proof: vec![0; 128],
        public_inputs: vec![[0; 32]; 3],
    });
    assert_eq!(
        decoder.decode(&groth).map(|_| ()),
        Err(WireError::OverLimit {
            field: "public_inputs",
            limit: 2,
            actual: 3
        })
    );
    let long = submit(Statement::BlsSingle {
        public_key: [1; 48],
        message: vec![0; 5],
        signature: [2; 96],
    });
    assert_eq!(
        decoder.decode(&long).map(|_| ()),
        Err(WireError::OverLimit {
            field: "message",
            limit: 4,
            actual: 5
        })
    );
    let tiny = FrameDecoder::new(WireLimits {
        max_frame_bytes: 16,
        ..WireLimits::DEFAULT
    })
    .decode(&long)
    .map(|_| ());
    assert!(matches!(tiny, Err(WireError::FrameTooLarge { .. })));
}

#[test]
fn a_verifying_key_over_its_limit_is_refused() {
    let mut frame = Vec::new();
    let register = Message::RegisterKey(RegisterKey {
        request_id: 9,
        curve: Curve::Bls12_381,
        key: vec![0; 65],
    });
    encode(&register, &mut frame).expect("encodes");
    let mut decoder = FrameDecoder::new(WireLimits {
        max_key_bytes: 64,
        ..WireLimits::DEFAULT
    });
    assert_eq!(
        decoder.decode(&frame).map(|_| ()),
        Err(WireError::OverLimit {
            field: "key",
            limit: 64,
            actual: 65
        })
    );
}

fn log_proof(checkpoint_bytes: usize, hashes: usize) -> Vec<u8> {
    let mut frame = Vec::new();
    let proof = Message::LogProof(LogProof {
        request_id: 3,
        checkpoint: "c".repeat(checkpoint_bytes),
        index: 5,
        tree_size: 9,
        hashes: vec![[7; 32]; hashes],
    });
    encode(&proof, &mut frame).expect("encodes");
    frame
}

#[test]
fn a_log_proof_is_refused_past_its_checkpoint_and_hash_limits() {
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    let limit = WireLimits::DEFAULT.max_checkpoint_bytes;
    assert!(
        decoder.decode(&log_proof(limit, 64)).is_ok(),
        "at the limits"
    );
    assert_eq!(
        decoder.decode(&log_proof(limit + 1, 1)).map(|_| ()),
        Err(WireError::OverLimit {
            field: "checkpoint",
            limit,
            actual: limit + 1
        })
    );
    assert_eq!(
        decoder.decode(&log_proof(10, 65)).map(|_| ()),
        Err(WireError::OverLimit {
            field: "hashes",
            limit: 64,
            actual: 65
        })
    );
}

#[test]
fn an_about_answer_is_refused_past_its_text_limits() {
    let about = |tenant: usize, log_key: usize| {
        let mut frame = Vec::new();
        encode(
            &Message::About(About {
                request_id: 1,
                tenant: "t".repeat(tenant),
                receipt_public_key: [3; 32],
                log_key: "k".repeat(log_key),
            }),
            &mut frame,
        )
        .expect("encodes");
        frame
    };
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    let limit = tf_wire::MAX_ABOUT_TEXT_BYTES;
    assert!(
        decoder.decode(&about(limit, limit)).is_ok(),
        "at the limits"
    );
    for (frame, field) in [
        (about(limit + 1, 0), "tenant"),
        (about(1, limit + 1), "log_key"),
    ] {
        assert_eq!(
            decoder.decode(&frame).map(|_| ()),
            Err(WireError::OverLimit {
                field,
                limit,
                actual: limit + 1
            })
        );
    }
}

#[test]
fn an_onboarding_request_is_refused_past_its_csr_limit() {
    let onboard = |csr: usize| {
        let mut frame = Vec::new();
        encode(
            &Message::Onboard(Onboard {
                request_id: 1,
                invite_id: 2,
                secret: [9; 16],
                tenant: "initech".into(),
                csr: vec![0x30; csr],
            }),
            &mut frame,
        )
        .expect("encodes");
        frame
    };
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    let limit = tf_wire::MAX_CSR_BYTES;
    assert!(decoder.decode(&onboard(limit)).is_ok(), "at the limit");
    assert_eq!(
        decoder.decode(&onboard(limit + 1)).map(|_| ()),
        Err(WireError::OverLimit {
            field: "csr",
            limit,
            actual: limit + 1
        })
    );
}

/// The offsets `docs/wire-protocol.md` gives partners who decode by hand: an over-budget
/// answer's reason and its cap's share, read from the archived `Message` (the body's last
/// 184 bytes) at `Message` 8 + `ErrorReply` 8 + `ErrorCode` 8 + the `OverBudget` offsets.
#[test]
fn an_over_budget_answers_reason_and_share_lie_where_the_protocol_page_says() {
    const OVER_BUDGET: usize = 8 + 8 + 8;
    for (reason, tag) in [
        (OverBudgetReason::Cap, 0),
        (OverBudgetReason::FleetShare, 1),
    ] {
        let message = Message::Error(ErrorReply {
            request_id: 5,
            code: ErrorCode::OverBudget(OverBudget {
                cap: CapState {
                    tenant: "acme".into(),
                    purpose: String::new(),
                    dataset_class: DatasetClass::P2,
                    window: "day".into(),
                    limit: 100,
                    used: 9,
                    reserved: 1,
                    remaining: 0,
                    resets_at_unix_ms: 1_700_000_000_000,
                    granted: 10,
                },
                requested: 3,
                contact: "ask ops".into(),
                reason,
            }),
        });
        let mut frame = Vec::new();
        encode(&message, &mut frame).expect("encodes");
        let root = &frame[frame.len() - 184..];
        let u64_at = |at: usize| u64::from_le_bytes(root[at..at + 8].try_into().expect("8 bytes"));
        assert_eq!(root[16], 1, "ErrorCode tag 1: OverBudget");
        assert_eq!(u64_at(OVER_BUDGET + 32), 100, "CapState.limit at 32");
        assert_eq!(u64_at(OVER_BUDGET + 72), 10, "CapState.granted at 72");
        assert_eq!(u64_at(OVER_BUDGET + 80), 3, "OverBudget.requested at 80");
        assert_eq!(root[OVER_BUDGET + 96], tag, "OverBudget.reason at 96");
    }
}
