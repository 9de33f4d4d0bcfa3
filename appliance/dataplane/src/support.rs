//! Partners' failed steps the home shard sees, reported to the partner desk for whoever
//! supports partners: a verifying key refused (the keys step), a sandbox submission refused or
//! not valid (the evidence preview). Reporting never waits (see `tf_seam::SupportLine`); an
//! appliance that does not manage partners reports nothing.

use tf_engine::Verdict;
use tf_seam::{StepReport, SupportLine};
use tf_shard::{KeyRefusal, Refusal};
use tf_wire::PolicyDenial;

/// The home shard's line to the partner desk, if the appliance manages partners.
#[derive(Clone, Debug, Default)]
pub struct Support(Option<SupportLine>);

impl Support {
    /// Reports on `line`, or nowhere.
    pub fn new(line: Option<SupportLine>) -> Self {
        Support(line)
    }

    fn report(&self, tenant: &str, step: &'static str, error: &'static str, detail: String) {
        if let Some(line) = &self.0 {
            line.report(StepReport {
                tenant: tenant.to_owned(),
                step,
                error,
                detail,
            });
        }
    }

    /// A key registration refused by the tenant's quota or the shard's room.
    pub fn key_refused(&self, tenant: &str, refusal: &KeyRefusal) {
        let error = match refusal {
            KeyRefusal::Quota { .. } => "key-quota",
            KeyRefusal::Full(_) => "keys-full",
            // Raced with a bundle switch: the appliance's doing, not the partner's.
            KeyRefusal::NotPrepared => return,
        };
        self.report(tenant, "keys", error, refusal.to_string());
    }

    /// A verifying key that does not decode; `detail` is what the partner was told.
    pub fn bad_key(&self, tenant: &str, detail: &str) {
        self.report(tenant, "keys", "bad-key", detail.to_owned());
    }

    /// A submission refused at admission, if it was a sandbox one. Load (over the rate, a
    /// full queue) is no failed step.
    pub fn refused(&self, tenant: &str, purpose: &str, refusal: &Refusal) {
        if purpose != tf_budgets::SANDBOX_PURPOSE {
            return;
        }
        let error = match refusal {
            Refusal::UnknownKey(_) => "unknown-key",
            Refusal::OverBudget(_) => "allowance-spent",
            _ => return,
        };
        self.report(tenant, "sandbox", error, refusal.to_string());
    }

    /// A sandbox submission denied by the policy in force.
    pub fn denied(&self, tenant: &str, purpose: &str, denial: &PolicyDenial) {
        if purpose != tf_budgets::SANDBOX_PURPOSE {
            return;
        }
        let by = if denial.policies.is_empty() {
            "no permit matched".to_owned()
        } else {
            format!("forbidden by {}", denial.policies.join(", "))
        };
        let detail = format!(
            "{} denied by bundle revision {}: {by}",
            denial.request, denial.revision
        );
        self.report(tenant, "sandbox", "denied", detail);
    }

    /// A verdict, if it is a sandbox submission's that is not valid.
    pub fn decided(&self, tenant: &str, purpose: &str, verdict: &Verdict) {
        if self.0.is_none()
            || matches!(verdict, Verdict::Valid)
            || purpose != tf_budgets::SANDBOX_PURPOSE
        {
            return;
        }
        let error = match verdict {
            Verdict::Invalid(_) => "invalid",
            _ => "malformed",
        };
        self.report(tenant, "sandbox", error, verdict.to_string());
    }
}

#[cfg(test)]
mod tests {
    use tf_engine::groth16::RegistryFull;

    use super::*;

    #[test]
    fn only_the_partners_failures_are_reported_and_only_for_the_sandbox_purpose() {
        let line = SupportLine::default();
        let support = Support::new(Some(line.clone()));
        support.key_refused("initech", &KeyRefusal::Quota { quota: 4 });
        support.key_refused(
            "initech",
            &KeyRefusal::Full(RegistryFull::Partners { capacity: 9 }),
        );
        support.key_refused("initech", &KeyRefusal::NotPrepared);
        support.refused(
            "initech",
            "kyc",
            &Refusal::UnknownKey(tf_engine::KeyId([1; 32])),
        );
        support.refused(
            "initech",
            "sandbox",
            &Refusal::OverRate { retry_after_ms: 5 },
        );
        support.refused(
            "initech",
            "sandbox",
            &Refusal::UnknownKey(tf_engine::KeyId([1; 32])),
        );
        support.decided("initech", "sandbox", &Verdict::Valid);
        let taken = line.take();
        let errors: Vec<(&str, &str)> = taken
            .reports
            .iter()
            .map(|(r, _)| (r.step, r.error))
            .collect();
        assert_eq!(
            errors,
            [
                ("keys", "key-quota"),
                ("keys", "keys-full"),
                ("sandbox", "unknown-key")
            ]
        );
        assert!(taken.reports[0].0.detail.contains("quota"), "{taken:?}");
        // Without a desk, nothing is kept anywhere.
        Support::new(None).bad_key("initech", "not on the curve");
    }
}
