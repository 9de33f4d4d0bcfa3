//! A partner's onboarding checklist: onboarded, a verifying key registered, terms in force, a
//! sandbox submission verified (the evidence preview), a first verdict for a real purpose.
//! Each step is read from what the appliance keeps (the invite, the key store, the bundle in
//! force, the ledger's receipts the partner names); once all are done the checklist is signed
//! with the receipt key as a DSSE envelope, the partner's "checklist signed" artifact.

use serde::Serialize;
use tf_bundles::partners::PartnerTerms;
use tf_ledger::TermsState;
use tf_seam::clock::unix_micros;
use tf_wire::{Checklist, ChecklistQuery, ChecklistStep, ErrorCode, Message};

use crate::bundles::Status;
use crate::desk::DeskWorker;

/// The DSSE payload type of a signed checklist.
pub const PAYLOAD_TYPE: &str = "application/vnd.trust-fabric.partner-checklist+json";

/// What is signed: the tenant, its invite, every step with what shows it done, and when.
#[derive(Debug, Serialize)]
struct Signed<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    tenant: &'a str,
    invite: u64,
    bundle_revision: u64,
    steps: Vec<SignedStep<'a>>,
    completed_at: String,
}

#[derive(Debug, Serialize)]
struct SignedStep<'a> {
    name: &'a str,
    evidence: &'a str,
}

/// Answers a tenant's `ChecklistQuery`.
pub(crate) async fn answer(
    desk: &DeskWorker,
    tenant: &str,
    query: &ChecklistQuery,
) -> Result<Message, ErrorCode> {
    let in_force = desk
        .bundles
        .send(Status)
        .await
        .map_err(|_| ErrorCode::ShuttingDown)?;
    let bundle = in_force.active.bundle.clone();
    let terms = bundle
        .as_ref()
        .and_then(|b| {
            b.content
                .partners
                .iter()
                .find(|p| p.tenant == tenant)
                .cloned()
        })
        .ok_or_else(|| ErrorCode::Denied {
            reason: format!(
                "tenant {tenant} was not onboarded with an invite: it has no onboarding checklist"
            ),
        })?;
    let named = Named {
        sandbox: query.sandbox_receipt,
        first: query.first_receipt,
    };
    let steps = steps(&*desk.ledger, &desk.keystore, &terms, named).map_err(|error| {
        tracing::error!(%error, tenant, "reading a partner's checklist failed");
        ErrorCode::Internal
    })?;
    let envelope = if steps.iter().all(|s| s.done) {
        let revision = in_force.active.stamp.revision;
        sign(desk, tenant, &terms, revision, &steps)
    } else {
        String::new()
    };
    Ok(Message::Checklist(Checklist {
        request_id: query.request_id,
        steps,
        envelope,
    }))
}

fn step(name: &str, done: bool, detail: String) -> ChecklistStep {
    ChecklistStep {
        name: name.to_owned(),
        done,
        detail,
    }
}

/// The receipts (ledger sequence numbers, 0 for none) that show the sandbox step and the first
/// verdict: named by the partner, or found by the operator's view.
#[derive(Clone, Copy, Debug, Default)]
pub struct Named {
    /// A valid sandbox receipt.
    pub sandbox: u64,
    /// A valid receipt for another purpose.
    pub first: u64,
}

/// Every onboarding step of the partner with `terms` and where it stands, read from the
/// ledger (its invite, terms requests and the receipts `named`) and the key store.
pub fn steps(
    ledger: &dyn tf_ledger::Ledger,
    keystore: &tf_state::KeyStore,
    terms: &PartnerTerms,
    named: Named,
) -> Result<Vec<ChecklistStep>, String> {
    let tenant = terms.tenant.as_str();
    let invite = ledger.invite(terms.invite).map_err(|e| e.to_string())?;
    let onboarded = match invite.as_ref().and_then(|i| i.closed_us) {
        Some(at) => step(
            "onboarded",
            true,
            format!(
                "invite {} used {}",
                terms.invite,
                tf_budgets::format_utc(at / 1_000_000)
            ),
        ),
        None => step(
            "onboarded",
            false,
            format!("invite {} is not used", terms.invite),
        ),
    };
    let keys = keystore
        .registered_by(&[tenant.to_owned()])
        .map_err(|e| e.to_string())?
        .keys
        .len();
    let keys = if keys > 0 {
        step("keys", true, format!("{keys} verifying keys registered"))
    } else {
        step(
            "keys",
            false,
            "register your verifying key: partner keys register verification_key.json".into(),
        )
    };
    let waiting = ledger
        .terms_requests()
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|r| r.tenant == tenant && r.state == TermsState::Pending)
        .count();
    let in_force = format!(
        "rate {}/s, burst {}, {} keys, {} caps, sandbox {} a day{}",
        terms.rate_per_sec,
        terms.burst,
        terms.max_registered_keys,
        terms.caps.len(),
        terms.sandbox_per_day,
        if waiting > 0 {
            format!("; {waiting} request(s) waiting for an operator")
        } else {
            String::new()
        }
    );
    let terms_step = step("terms", true, in_force);
    let sandbox = receipt_step(
        ledger,
        tenant,
        named.sandbox,
        ("sandbox", true),
        "submit a proof with purpose sandbox (partner submit ... --purpose sandbox): it is \
         verified and receipted like any other, from the sandbox allowance, not your budget",
    )?;
    let first = receipt_step(
        ledger,
        tenant,
        named.first,
        ("first-verdict", false),
        "submit a valid proof for one of your purposes and name its receipt",
    )?;
    Ok(vec![onboarded, keys, terms_step, sandbox, first])
}

/// A step shown by a valid receipt of `tenant` at `seq`, for the sandbox purpose or (when
/// `sandbox` is false) any other.
fn receipt_step(
    ledger: &dyn tf_ledger::Ledger,
    tenant: &str,
    seq: u64,
    (name, sandbox): (&str, bool),
    to_do: &str,
) -> Result<ChecklistStep, String> {
    if seq == 0 {
        return Ok(step(name, false, to_do.to_owned()));
    }
    let found = ledger.receipt(seq).map_err(|e| e.to_string())?;
    let shows = found.as_ref().is_some_and(|(owner, receipt)| {
        owner == tenant
            && receipt.verdict == "valid"
            && (receipt.purpose == tf_budgets::SANDBOX_PURPOSE) == sandbox
    });
    Ok(if shows {
        step(name, true, format!("receipt {seq}"))
    } else {
        step(
            name,
            false,
            format!("receipt {seq} is not a valid receipt of yours for this step; {to_do}"),
        )
    })
}

fn sign(
    desk: &DeskWorker,
    tenant: &str,
    terms: &PartnerTerms,
    revision: u64,
    steps: &[ChecklistStep],
) -> String {
    let signed = Signed {
        kind: "trust-fabric/partner-checklist/v1",
        tenant,
        invite: terms.invite,
        bundle_revision: revision,
        steps: steps
            .iter()
            .map(|s| SignedStep {
                name: &s.name,
                evidence: &s.detail,
            })
            .collect(),
        completed_at: tf_budgets::format_utc_micros(unix_micros()),
    };
    let payload = serde_json::to_vec(&signed).expect("a checklist serialises");
    desk.signer
        .borrow_mut()
        .sign_payload(PAYLOAD_TYPE, payload)
        .to_json()
}
