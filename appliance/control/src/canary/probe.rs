//! One canary run: the golden set sent through the appliance's own QUIC listener as the
//! canary's tenant, one request at a time, each answer checked against the set's verdict and
//! each receipt against the published key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use ed25519_dalek::VerifyingKey;
use tf_canary::golden::{GoldenItem, GoldenSet, verdict_name};
use tf_partner::{Partner, PartnerConfig, PartnerError, Submission, VerdictReply};

/// What a run saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probe {
    /// Requests sent.
    pub sent: usize,
    /// Requests answered with a verdict.
    pub answered: usize,
    /// Latency of each answered request, milliseconds.
    pub latencies_ms: Vec<f64>,
    /// Verdicts other than the set's, and requests refused outright (no verdict where the
    /// set expects one): (the item's label, what was wrong in words).
    pub mismatches: Vec<(String, String)>,
    /// Receipts that did not check out: (the item's label, what was wrong in words).
    pub bad_receipts: Vec<(String, String)>,
    /// Requests without a verdict that may pass on their own (busy, timed out, connection
    /// lost), in words; refusals are mismatches instead.
    pub errors: Vec<String>,
}

/// The canary's connection, kept from run to run and opened again when lost.
pub struct Prober {
    config: PartnerConfig,
    tenant: String,
    receipt_key: VerifyingKey,
    partner: Option<Partner>,
}

impl Prober {
    /// A prober reaching the appliance as `config` says, for `tenant`, checking receipts
    /// with `receipt_key`.
    pub fn new(config: PartnerConfig, tenant: String, receipt_key: VerifyingKey) -> Self {
        Prober {
            config,
            tenant,
            receipt_key,
            partner: None,
        }
    }

    /// Sends every request of `set` once; `None` when `stop` was raised between two.
    pub async fn run(&mut self, set: &GoldenSet, stop: &AtomicBool) -> Option<Probe> {
        let mut probe = Probe::default();
        let partner = match self.partner.take().filter(Partner::is_open) {
            Some(partner) => partner,
            None => match Self::connect(&self.config, set).await {
                Ok(partner) => partner,
                Err(error) => {
                    // Nothing could be sent: every request of the run counts as an error.
                    probe.sent = set.items.len();
                    probe.errors = vec![format!("connecting: {error}")];
                    return Some(probe);
                }
            },
        };
        let mut lost = false;
        for item in &set.items {
            if stop.load(Ordering::Acquire) {
                return None;
            }
            probe.sent += 1;
            let submission = Submission {
                purpose: item.purpose.clone(),
                dataset_class: item.dataset_class,
                statement: item.statement.clone(),
            };
            let request_id = partner.next_request_id();
            let started = Instant::now();
            match partner.submit_with_id(request_id, submission).await {
                Ok(reply) => {
                    probe.answered += 1;
                    probe
                        .latencies_ms
                        .push(started.elapsed().as_secs_f64() * 1_000.0);
                    self.check(item, request_id, &reply, &mut probe);
                }
                Err(error) => {
                    lost |= matches!(
                        error,
                        PartnerError::ConnectionLost { .. } | PartnerError::Connect { .. }
                    );
                    let what = format!("{}: {error}", item.label);
                    // Busy, a timeout or a lost connection may pass; a refusal (denied by
                    // policy, an unknown key, over budget, an internal failure) is a wrong
                    // answer for a request whose verdict the set knows.
                    // Each is listed once: as a wrong answer or as an error.
                    if transient(&error) {
                        probe.errors.push(what);
                    } else {
                        probe
                            .mismatches
                            .push((item.label.clone(), format!("{what} (no verdict)")));
                    }
                }
            }
        }
        if !lost {
            self.partner = Some(partner);
        }
        Some(probe)
    }

    /// A new connection, with the set's keys registered.
    async fn connect(config: &PartnerConfig, set: &GoldenSet) -> Result<Partner, PartnerError> {
        let partner = Partner::connect(config).await?;
        for (curve, key) in &set.keys {
            partner.register_key(*curve, key.clone()).await?;
        }
        Ok(partner)
    }

    fn check(&self, item: &GoldenItem, request_id: u64, reply: &VerdictReply, probe: &mut Probe) {
        if reply.verdict != item.expect {
            probe.mismatches.push((
                item.label.clone(),
                format!(
                    "{}: expected {}, got {} ({})",
                    item.label,
                    verdict_name(item.expect),
                    verdict_name(reply.verdict),
                    reply.reason
                ),
            ));
        }
        if let Err(problem) = self.receipt_problem(item, request_id, reply) {
            probe
                .bad_receipts
                .push((item.label.clone(), format!("{}: {problem}", item.label)));
        }
    }

    /// Whether the receipt verifies with the published key and says what was asked and
    /// answered.
    fn receipt_problem(
        &self,
        item: &GoldenItem,
        request_id: u64,
        reply: &VerdictReply,
    ) -> Result<(), String> {
        let receipt = tf_receipts::verify(&tf_partner::receipt_envelope(reply), &self.receipt_key)
            .map_err(|e| e.to_string())?;
        let expected = [
            ("tenant", receipt.tenant.clone(), self.tenant.clone()),
            (
                "request_id",
                receipt.request_id.to_string(),
                request_id.to_string(),
            ),
            (
                "verdict",
                receipt.verdict.as_str().to_owned(),
                verdict_name(reply.verdict).to_owned(),
            ),
            // Of the statement sent, not only the one the reply names.
            (
                "statement_digest",
                receipt.statement_digest.clone(),
                tf_shard::statement_digest(&item.statement).to_string(),
            ),
            (
                "reply's statement_digest",
                hex::encode(reply.statement_digest),
                tf_shard::statement_digest(&item.statement).to_string(),
            ),
            (
                "kind",
                receipt.kind.clone(),
                tf_shard::statement_kind(&item.statement).to_owned(),
            ),
            ("purpose", receipt.purpose.clone(), item.purpose.clone()),
            (
                "dataset_class",
                receipt.dataset_class.clone(),
                item.dataset_class.name().to_owned(),
            ),
            // Exempt from budgets: no cap applies to the canary.
            (
                "budget_remaining",
                format!("{:?}", receipt.budget_remaining),
                "None".to_owned(),
            ),
        ];
        let wrong: Vec<String> = expected
            .iter()
            .filter(|(_, got, want)| got != want)
            .map(|(field, got, want)| format!("{field} is {got:?}, not {want:?}"))
            .collect();
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join(", "))
        }
    }
}

/// Whether an error may pass on its own (the error-rate comparator judges those), rather
/// than being a wrong answer.
fn transient(error: &PartnerError) -> bool {
    matches!(
        error,
        PartnerError::Busy { .. }
            | PartnerError::Timeout { .. }
            | PartnerError::ConnectionLost { .. }
            | PartnerError::Connect { .. }
            | PartnerError::ShuttingDown
    )
}
