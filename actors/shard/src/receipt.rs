//! The receipt for one verdict.

use tf_budgets::Settlement;
use tf_engine::Verdict;
use tf_receipts::{Receipt, VerdictLabel};

use crate::Job;

/// The receipt payload for a decided job and its budget settlement. The ledger numbers it and
/// the signer stamps its key id when it signs.
pub fn receipt_for<R>(
    job: &Job<R>,
    tenant: &str,
    verdict: &Verdict,
    settlement: Settlement,
    shard: u16,
    decided_unix_us: u64,
) -> Receipt {
    let (label, reason) = match verdict {
        Verdict::Valid => (VerdictLabel::Valid, None),
        Verdict::Invalid(reason) => (VerdictLabel::Invalid, Some(reason.to_string())),
        Verdict::Rejected(rejection) => (VerdictLabel::Rejected, Some(rejection.to_string())),
        other => (VerdictLabel::Rejected, Some(other.to_string())),
    };
    Receipt {
        tenant: tenant.to_owned(),
        request_id: job.submit.request_id,
        statement_digest: job.statement_digest().to_string(),
        kind: job.kind().to_owned(),
        verdict: label,
        reason,
        purpose: job.submit.purpose.clone(),
        dataset_class: job.submit.dataset_class.name().to_owned(),
        budget_charged: settlement.charged,
        budget_remaining: settlement.remaining,
        ledger_seq: 0,
        shard,
        received_at_unix_us: job.received_unix_us,
        decided_at_unix_us: decided_unix_us,
        appliance_key_id: String::new(),
        bundle_revision: job.policy.revision,
        bundle_hash: hex::encode(job.policy.hash),
    }
}
