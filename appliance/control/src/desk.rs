//! The partner desk's worker: what answers partners' requests taken from the shards
//! (`tf_seam::PartnerDesk`): invites redeemed ([`crate::onboarding`]), terms requests
//! ([`crate::terms`]), checklists ([`crate::checklist`]) and evidence previews
//! (`evidence_preview`). Its loop is in `desk_loop`.

use std::sync::Arc;

use actix::Addr;
use tf_ledger::Ledger;
use tf_seam::PartnerInbox;
use tf_state::PartnerCertifier;
use tf_wire::ErrorCode;

use crate::bundles::Bundles;
use crate::error::ControlError;

/// What answers partners' requests: the certificate authority, the appliance's public keys,
/// and the actor that puts tenants and terms in force.
pub struct DeskWorker {
    /// Requests from the shards.
    pub inbox: PartnerInbox,
    /// The bundles' actor.
    pub bundles: Addr<Bundles>,
    /// Signs partners' certificates.
    pub certifier: Arc<PartnerCertifier>,
    /// The key receipts are signed with.
    pub receipt_public_key: [u8; 32],
    /// The transparency log's verifier key; empty without a log.
    pub log_key: String,
    /// Where a failed step is recorded (a control event, for the timeline and webhooks), and
    /// checklists' invites and receipts are read.
    pub ledger: Box<dyn Ledger>,
    /// Partners' registered keys, for their checklists.
    pub keystore: tf_state::KeyStore,
    /// Signs completed checklists and evidence previews (the receipt key).
    pub signer: std::cell::RefCell<tf_receipts::ReceiptSigner>,
    /// The transparency log's files, for evidence previews' inclusion proofs; `None` in a
    /// build without the log.
    pub log_dir: Option<tf_log::LogDir>,
    /// Failed steps counted, for `/metrics`.
    pub failed_steps: FailedSteps,
}

/// Partners' failed steps since start, by step and error: what `/metrics` counts.
#[derive(Clone, Debug, Default)]
pub struct FailedSteps(Arc<std::sync::Mutex<std::collections::BTreeMap<(String, String), u64>>>);

impl FailedSteps {
    /// Counts a failed `step` with `error`, `times` over.
    pub fn count_times(&self, step: &str, error: &str, times: u64) {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *counts
            .entry((step.to_owned(), error.to_owned()))
            .or_default() += times;
    }

    /// Every (step, error) and its count.
    pub fn counts(&self) -> Vec<((String, String), u64)> {
        let counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// The answer to a request that failed for a reason of the appliance's own.
pub(crate) fn failed(error: ControlError) -> ErrorCode {
    match error {
        ControlError::Stopped => ErrorCode::ShuttingDown,
        ControlError::NotPrepared { .. } => ErrorCode::Busy {
            retry_after_ms: tf_seam::DESK_BUSY_MS,
        },
        ControlError::Fleet(problem) => {
            // The fleet's database did not take the change's claim: nothing changed.
            tracing::warn!(problem, "a partner's change waits for the fleet's database");
            ErrorCode::Busy {
                retry_after_ms: tf_seam::DESK_BUSY_MS,
            }
        }
        other => {
            tracing::error!(error = %other, "a partner's request failed");
            ErrorCode::Internal
        }
    }
}
