//! Encoding the appliance's answers as frames.

use tf_engine::{KeyId, StatementDigest, Verdict};
use tf_receipts::Envelope;
use tf_shard::{CapStatus, Refusal};
use tf_wire::{
    About, BudgetStatus, CapState, ErrorCode, ErrorReply, KeyRegistered, LogProof, Message,
    OverBudget, OverBudgetReason, PROTOCOL_VERSION, ReceiptEnvelope, ReceiptSignature, VerdictCode,
    VerdictReply, WireError,
};

/// A verdict with its signed receipt.
pub fn verdict(
    request_id: u64,
    verdict: &Verdict,
    digest: StatementDigest,
    receipt: Envelope,
) -> Vec<u8> {
    let (code, reason) = match verdict {
        Verdict::Valid => (VerdictCode::Valid, String::new()),
        Verdict::Invalid(reason) => (VerdictCode::Invalid, reason.to_string()),
        Verdict::Rejected(rejection) => (VerdictCode::Rejected, rejection.to_string()),
        other => (VerdictCode::Rejected, other.to_string()),
    };
    frame(&Message::Verdict(VerdictReply {
        request_id,
        verdict: code,
        reason,
        statement_digest: digest.0,
        receipt: ReceiptEnvelope {
            payload_type: receipt.payload_type,
            payload: receipt.payload,
            signatures: receipt
                .signatures
                .into_iter()
                .map(|s| ReceiptSignature {
                    key_id: s.key_id,
                    signature: s.sig,
                })
                .collect(),
        },
    }))
}

/// A typed error.
pub fn error(request_id: u64, code: ErrorCode) -> Vec<u8> {
    frame(&Message::Error(ErrorReply { request_id, code }))
}

/// The error for a request the home shard did not admit. `tenant` and `contact` go into an
/// over-budget answer (whose tenant, and how to ask for more).
pub fn refusal(request_id: u64, refusal: &Refusal, tenant: &str, contact: &str) -> Vec<u8> {
    let code = match refusal {
        Refusal::OverBudget(over) => ErrorCode::OverBudget(OverBudget {
            cap: cap_state(
                tenant,
                &CapStatus {
                    cap: over.cap.clone(),
                    used: over.used,
                    reserved: over.reserved,
                    remaining: over.remaining,
                    resets_at_us: over.resets_at_us,
                    granted: over.granted,
                    refused_by_grant: 0,
                },
            ),
            requested: over.requested,
            contact: contact.to_owned(),
            reason: over_budget_reason(over),
        }),
        Refusal::OverRate { retry_after_ms } | Refusal::MailboxFull { retry_after_ms } => {
            ErrorCode::Busy {
                retry_after_ms: *retry_after_ms,
            }
        }
        Refusal::UnknownKey(id) => ErrorCode::UnknownKey { key_id: id.0 },
        _ => ErrorCode::Internal,
    };
    error(request_id, code)
}

/// What ran out: a partner retries elsewhere after a fleet share ran out, but waits for
/// the window (or asks for more) after the cap did.
fn over_budget_reason(over: &tf_budgets::OverBudget) -> OverBudgetReason {
    if over.by_grant {
        OverBudgetReason::FleetShare
    } else {
        OverBudgetReason::Cap
    }
}

/// A tenant's caps and where they stand.
pub fn budget_status(request_id: u64, tenant: &str, caps: &[CapStatus]) -> Vec<u8> {
    frame(&Message::BudgetStatus(BudgetStatus {
        request_id,
        caps: caps.iter().map(|c| cap_state(tenant, c)).collect(),
    }))
}

fn cap_state(tenant: &str, status: &CapStatus) -> CapState {
    CapState {
        tenant: tenant.to_owned(),
        purpose: status.cap.purpose.clone().unwrap_or_default(),
        dataset_class: status.cap.class,
        window: status.cap.window.to_string(),
        limit: status.cap.limit,
        used: status.used,
        reserved: status.reserved,
        remaining: status.remaining,
        resets_at_unix_ms: status.resets_at_us.map_or(0, |us| us.div_ceil(1000)),
        granted: status.granted,
    }
}

/// The error for a frame that could not be read.
pub fn wire_error(request_id: u64, error: &WireError) -> Vec<u8> {
    let code = match error {
        WireError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion {
            supported: PROTOCOL_VERSION,
        },
        other => ErrorCode::Malformed {
            detail: other.to_string(),
        },
    };
    self::error(request_id, code)
}

/// A registered key's id.
pub fn key_registered(request_id: u64, key_id: KeyId) -> Vec<u8> {
    frame(&Message::KeyRegistered(KeyRegistered {
        request_id,
        key_id: key_id.0,
    }))
}

/// A log entry's inclusion proof under the signed checkpoint `checkpoint` of `tree_size`.
pub fn log_proof(
    request_id: u64,
    checkpoint: String,
    index: u64,
    tree_size: u64,
    hashes: &[tf_tlog::Hash],
) -> Vec<u8> {
    frame(&Message::LogProof(LogProof {
        request_id,
        checkpoint,
        index,
        tree_size,
        hashes: hashes.iter().map(|h| h.0).collect(),
    }))
}

/// The answer to an `AboutQuery`: the tenant and the appliance's public keys.
pub fn about(request_id: u64, tenant: &str, keys: &AboutKeys) -> Vec<u8> {
    frame(&Message::About(About {
        request_id,
        tenant: tenant.to_owned(),
        receipt_public_key: keys.receipt_public_key,
        log_key: keys.log_key.clone().unwrap_or_default(),
    }))
}

/// The answer to a request the control plane answered (`Onboard`, `TermsRequest`).
pub fn from_desk(request_id: u64, answer: Result<Message, ErrorCode>) -> Vec<u8> {
    match answer {
        Ok(message) => frame(&message),
        Err(code) => error(request_id, code),
    }
}

/// The appliance's public keys, told to any tenant that asks (`AboutQuery`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AboutKeys {
    /// The Ed25519 key receipts are signed with.
    pub receipt_public_key: [u8; 32],
    /// The transparency log's verifier key (C2SP `vkey`); `None` without a log.
    pub log_key: Option<String>,
}

fn frame(message: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    tf_wire::encode(message, &mut out)
        .expect("an appliance reply encodes: it is small and built from well-formed values");
    out
}

#[cfg(test)]
mod tests {
    use tf_shard::{CapSpec, OverBudget as Refused};
    use tf_wire::{DatasetClass, FrameDecoder, WireLimits, to_owned};

    use super::*;

    fn decoded(frame: &[u8]) -> Message {
        let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
        to_owned(decoder.decode(frame).expect("a reply decodes"))
    }

    fn day_cap() -> CapSpec {
        CapSpec {
            purpose: Some("kyc".into()),
            class: DatasetClass::P1,
            limit: 100,
            window: tf_budgets::Window::Day,
        }
    }

    #[test]
    fn an_over_budget_answer_says_whether_the_cap_or_the_fleet_share_ran_out() {
        for (by_grant, granted, reason) in [
            (true, 10, OverBudgetReason::FleetShare),
            (false, 100, OverBudgetReason::Cap),
        ] {
            let refused = Refusal::OverBudget(Box::new(Refused {
                cap: day_cap(),
                requested: 5,
                used: 8,
                remaining: 2,
                reserved: 0,
                resets_at_us: Some(1_795_564_800_000_000),
                by_grant,
                granted,
            }));
            let Message::Error(ErrorReply {
                request_id: 7,
                code: ErrorCode::OverBudget(over),
            }) = decoded(&refusal(7, &refused, "acme", "ask ops"))
            else {
                panic!("an over-budget error");
            };
            assert_eq!(over.reason, reason);
            assert_eq!(
                (over.cap.limit, over.cap.granted, over.cap.remaining),
                (100, granted, 2)
            );
            assert_eq!(over.cap.resets_at_unix_ms, 1_795_564_800_000);
        }
    }

    #[test]
    fn a_budget_status_shows_this_appliances_share_of_each_cap() {
        let status = CapStatus {
            cap: day_cap(),
            used: 3,
            reserved: 1,
            remaining: 6,
            resets_at_us: None,
            granted: 10,
            refused_by_grant: 0,
        };
        let Message::BudgetStatus(reply) = decoded(&budget_status(9, "acme", &[status])) else {
            panic!("a budget status");
        };
        let cap = &reply.caps[0];
        assert_eq!((cap.limit, cap.granted, cap.remaining), (100, 10, 6));
        assert_eq!((cap.tenant.as_str(), cap.purpose.as_str()), ("acme", "kyc"));
    }
}
