//! The onboarding wizard's steps after onboarding, as the bindings and the `partner` command
//! call them: asking for other terms, and the checklist (signed by the appliance once every
//! step is done). The sandbox step is a submission with purpose [`SANDBOX_PURPOSE`].

use serde::{Deserialize, Serialize};
use tf_receipts::Envelope;
use tf_wire::{ChecklistQuery, Message, TermsCap, TermsRequest};

use super::session::{Client, dataset_class};
use super::{receipt_key, unusable};
use crate::PartnerError;

/// The purpose of sandbox submissions: verified and receipted like any other, charged to the
/// partner's sandbox allowance instead of its budget.
pub const SANDBOX_PURPOSE: &str = "sandbox";

/// The DSSE payload type of a signed checklist.
pub const CHECKLIST_PAYLOAD_TYPE: &str = "application/vnd.trust-fabric.partner-checklist+json";

/// Terms asked for, in full (a cap left out is removed, and waits for an operator if the
/// invite's template has it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsAsk {
    /// Admission rate, requests per second.
    pub rate_per_sec: u32,
    /// Admission burst.
    pub burst: u32,
    /// Verifying keys it may register.
    pub max_registered_keys: u32,
    /// Budget caps.
    #[serde(default)]
    pub caps: Vec<CapAsk>,
}

/// One budget cap asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapAsk {
    /// `P0`, `P1` or `P2`.
    pub class: String,
    /// `hour`, `day`, `week`, `month` or `rolling Ns`.
    pub window: String,
    /// Units of work per window.
    pub limit: u64,
}

impl std::str::FromStr for CapAsk {
    type Err = String;

    /// `CLASS:WINDOW:LIMIT`, such as `P1:day:100000` or `P2:rolling 3600s:500`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not CLASS:WINDOW:LIMIT, such as P1:day:100000");
        let (class, rest) = text.split_once(':').ok_or_else(bad)?;
        let (window, limit) = rest.rsplit_once(':').ok_or_else(bad)?;
        Ok(CapAsk {
            class: class.trim().to_owned(),
            window: window.trim().to_owned(),
            limit: limit.trim().parse().map_err(|_| bad())?,
        })
    }
}

/// What the appliance said of a terms request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TermsAnswer {
    /// The request's number on the appliance (operators decide it by this number).
    pub terms_request: u64,
    /// The bundle revision that put the terms in force; `None` while it waits.
    pub revision: Option<u64>,
    /// Whether it waits for an operator's approval.
    pub waiting: bool,
    /// What happened, in words (what is above the template, when waiting).
    pub detail: String,
}

/// The onboarding checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChecklistAnswer {
    /// Every step, in order.
    pub steps: Vec<ChecklistItem>,
    /// Whether every step is done.
    pub complete: bool,
    /// When complete: the checklist signed by the appliance (a DSSE envelope's JSON text).
    pub envelope: Option<String>,
}

/// One step of the checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    /// `onboarded`, `keys`, `terms`, `sandbox` or `first-verdict`.
    pub name: String,
    /// Whether it is done.
    pub done: bool,
    /// What shows it done, or what to do.
    pub detail: String,
}

impl Client {
    /// Asks for other terms; within the invite's template they are in force when this
    /// answers, above it they wait for an operator.
    pub async fn request_terms(&self, asked: &TermsAsk) -> Result<TermsAnswer, PartnerError> {
        let caps = asked
            .caps
            .iter()
            .map(|cap| {
                Ok(TermsCap {
                    dataset_class: dataset_class(&cap.class)?,
                    window: cap.window.clone(),
                    limit: cap.limit,
                })
            })
            .collect::<Result<Vec<_>, PartnerError>>()?;
        let request = |request_id| {
            Message::TermsRequest(TermsRequest {
                request_id,
                rate_per_sec: asked.rate_per_sec,
                burst: asked.burst,
                max_registered_keys: asked.max_registered_keys,
                caps: caps.clone(),
            })
        };
        let answer = self
            .call(|partner| {
                let message = request(partner.next_request_id());
                async move { partner.request(&message).await }
            })
            .await?;
        match answer {
            Message::TermsReply(reply) => Ok(TermsAnswer {
                terms_request: reply.terms_request,
                revision: (reply.revision > 0).then_some(reply.revision),
                waiting: reply.revision == 0,
                detail: reply.detail,
            }),
            other => Err(unexpected(&other)),
        }
    }

    /// The onboarding checklist, naming the receipts (their ledger sequence numbers, 0 for
    /// none) of a sandbox submission and of a first real one.
    pub async fn checklist(
        &self,
        sandbox_receipt: u64,
        first_receipt: u64,
    ) -> Result<ChecklistAnswer, PartnerError> {
        let answer = self
            .call(|partner| {
                let message = Message::ChecklistQuery(ChecklistQuery {
                    request_id: partner.next_request_id(),
                    sandbox_receipt,
                    first_receipt,
                });
                async move { partner.request(&message).await }
            })
            .await?;
        match answer {
            Message::Checklist(checklist) => {
                let complete = checklist.steps.iter().all(|s| s.done);
                Ok(ChecklistAnswer {
                    steps: checklist
                        .steps
                        .into_iter()
                        .map(|s| ChecklistItem {
                            name: s.name,
                            done: s.done,
                            detail: s.detail,
                        })
                        .collect(),
                    complete,
                    envelope: (!checklist.envelope.is_empty()).then_some(checklist.envelope),
                })
            }
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(message: &Message) -> PartnerError {
    PartnerError::Protocol {
        detail: format!("unexpected answer: {}", message.name()),
    }
}

/// Checks a signed checklist (its DSSE envelope's JSON text) with the appliance's receipt key
/// (64 hex digits) and returns what it says (JSON). An altered one, or one signed by another
/// key, is [`PartnerError::ReceiptInvalid`].
pub fn verify_checklist(
    envelope_json: &str,
    public_key_hex: &str,
) -> Result<serde_json::Value, PartnerError> {
    let key = receipt_key(public_key_hex)?;
    let envelope = Envelope::from_json(envelope_json).map_err(|p| unusable("checklist", p))?;
    if envelope.payload_type != CHECKLIST_PAYLOAD_TYPE {
        return Err(unusable(
            "checklist",
            format!(
                "payload type {:?} is not a checklist's",
                envelope.payload_type
            ),
        ));
    }
    tf_receipts::verify_signature(&envelope, &key).map_err(|e| PartnerError::ReceiptInvalid {
        detail: e.to_string(),
    })?;
    serde_json::from_slice(&envelope.payload).map_err(|e| unusable("checklist", e))
}
