//! What can go wrong for a partner, each with what to do about it.

use tf_engine::KeyId;
use tf_wire::close_code;

/// A failed request or connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartnerError {
    /// The tenant's queue or rate is at its limit.
    #[error("the appliance is busy for this tenant: retry after {retry_after_ms} ms")]
    Busy {
        /// How long to wait.
        retry_after_ms: u32,
    },
    /// The request would overspend a privacy budget (it was neither verified nor charged).
    /// Its `reason` says whether the cap ran out, or only this appliance's share of it in a
    /// fleet (then another try, later or on another appliance, may pass).
    #[error("{}", crate::budget_text::over_budget_paragraph(.0, crate::budget_text::now_unix_ms()))]
    OverBudget(Box<tf_wire::OverBudget>),
    /// Policy refused the request.
    #[error("denied by policy: {reason}")]
    Denied {
        /// The rule or reason.
        reason: String,
    },
    /// The policy bundle in force does not allow the request (it was neither verified nor
    /// charged).
    #[error("{}", denial_paragraph(.0))]
    DeniedByPolicy(Box<tf_wire::PolicyDenial>),
    /// The Groth16 key is not registered for this tenant.
    #[error(
        "verifying key {key_id} is not registered for this tenant: register it first with \
         `partner keys register verification_key.json`"
    )]
    UnknownKey {
        /// The key id sent.
        key_id: KeyId,
    },
    /// The appliance could not read the request.
    #[error("the appliance refused the request as malformed: {detail}")]
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// The appliance speaks another protocol version.
    #[error("the appliance speaks protocol version {supported}; upgrade or downgrade this client")]
    UnsupportedVersion {
        /// The version it speaks.
        supported: u16,
    },
    /// The appliance refused a verifying key.
    #[error("the appliance refused the verifying key: {detail}")]
    KeyRefused {
        /// Why.
        detail: String,
    },
    /// The appliance is shutting down.
    #[error("the appliance is shutting down; retry when it is back (or on another appliance)")]
    ShuttingDown,
    /// The appliance failed internally.
    #[error("the appliance failed internally; the request may be retried")]
    Internal,
    /// The log entry is beyond the latest signed checkpoint.
    #[error(
        "entry {index} is not in the transparency log yet: the latest checkpoint covers \
         {tree_size} entries; retry after {retry_after_ms} ms (a checkpoint is signed about \
         every second; an entry that stays beyond it is a receipt not issued yet)"
    )]
    NotInLogYet {
        /// The entry asked for.
        index: u64,
        /// Entries the latest checkpoint covers.
        tree_size: u64,
        /// When the next checkpoint is due.
        retry_after_ms: u32,
    },
    /// The appliance keeps no transparency log, or cannot read it now.
    #[error("the appliance cannot prove log inclusion: {detail}")]
    LogUnavailable {
        /// Which, in words.
        detail: String,
    },
    /// The appliance cannot store receipts right now; nothing was charged.
    #[error(
        "the appliance cannot store receipts right now ({detail}); nothing was charged: retry \
         after {retry_after_ms} ms (it resumes by itself once its operator frees the disk)"
    )]
    Unavailable {
        /// How long to wait.
        retry_after_ms: u32,
        /// What its ledger reported.
        detail: String,
    },
    /// The appliance refused the client certificate.
    #[error(
        "the appliance refused this client's certificate ({reason}); use a certificate issued \
         by the appliance's CA for a configured tenant (the demo identity is in \
         appliance-state/tenants/demo)"
    )]
    CertificateRefused {
        /// What the appliance said.
        reason: String,
    },
    /// This client did not trust the appliance's certificate: not issued by the CA given (or,
    /// onboarding, not the CA the invite names), or not for the name connected to.
    #[error(
        "the appliance's certificate is not trusted here ({reason}): check the CA file (or the \
         invite), and that the name connected to is on the certificate (--server-name NAME to \
         check another)"
    )]
    ServerNotTrusted {
        /// What the TLS handshake said.
        reason: String,
    },
    /// The policy bundle in force no longer lists this tenant: its connections were closed
    /// and new ones are refused.
    #[error(
        "the appliance no longer serves this tenant ({reason}); the operator's policy bundle \
         dropped it: ask the operator"
    )]
    TenantRemoved {
        /// What the appliance said.
        reason: String,
    },
    /// The appliance refused to onboard this partner with the invite given; nothing was
    /// created and the invite is as it was.
    #[error("{detail}")]
    OnboardingRefused {
        /// Why, by name: `unknown`, `used`, `revoked`, `expired`, `wrong-tenant`,
        /// `tenant-exists`, `bad-request`, `no-bundle` or `refused`.
        reason: String,
        /// What happened and what to do, in words (the appliance's).
        detail: String,
    },
    /// The appliance closed the connection: too many onboarding attempts came from this
    /// address.
    #[error("the appliance takes no more onboarding attempts from this address for now: {detail}")]
    RateLimited {
        /// What the appliance said, with when to try again.
        detail: String,
    },
    /// The appliance could not be reached.
    #[error("could not reach the appliance at {address}: {reason}; is `appliance serve` running?")]
    Connect {
        /// Where.
        address: String,
        /// Why.
        reason: String,
    },
    /// The connection ended.
    #[error("the connection to the appliance was lost: {reason}")]
    ConnectionLost {
        /// Why.
        reason: String,
    },
    /// No answer in time.
    #[error("no answer from the appliance within {seconds} s")]
    Timeout {
        /// The timeout.
        seconds: u64,
    },
    /// The appliance answered something this client does not expect.
    #[error("unexpected answer from the appliance: {detail}")]
    Protocol {
        /// What arrived.
        detail: String,
    },
    /// The appliance onboarded the tenant, but its identity's files could not all be written:
    /// the invite is spent, and the private key made for it is kept where it says.
    #[error(
        "tenant {tenant} is onboarded, but writing its files failed: {error}; the key is in {}",
        key.display()
    )]
    OnboardedNotWritten {
        /// The tenant now in force.
        tenant: String,
        /// The private key's file.
        key: std::path::PathBuf,
        /// What failed.
        error: Box<PartnerError>,
    },
    /// A receipt does not check out under the key given: altered, forged, or signed by
    /// another appliance.
    #[error("the receipt is not genuine: {detail}")]
    ReceiptInvalid {
        /// Why, in words.
        detail: String,
    },
    /// A local file or setting is not usable.
    #[error("{path}: {problem}")]
    Local {
        /// The file or setting.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl PartnerError {
    /// The error's type in one word, as `--json` output, the SDKs' error classes and the
    /// bench rig's reports name it.
    pub fn kind(&self) -> &'static str {
        match self {
            PartnerError::Busy { .. } => "busy",
            PartnerError::OverBudget(_) => "over-budget",
            PartnerError::Denied { .. } | PartnerError::DeniedByPolicy(_) => "denied",
            PartnerError::UnknownKey { .. } => "unknown-key",
            PartnerError::Malformed { .. } => "malformed",
            PartnerError::UnsupportedVersion { .. } => "unsupported-version",
            PartnerError::KeyRefused { .. } => "key-refused",
            PartnerError::ShuttingDown => "shutting-down",
            PartnerError::Internal => "internal",
            PartnerError::NotInLogYet { .. } => "not-in-log-yet",
            PartnerError::LogUnavailable { .. } => "log-unavailable",
            PartnerError::Unavailable { .. } => "unavailable",
            PartnerError::CertificateRefused { .. } => "certificate-refused",
            PartnerError::ServerNotTrusted { .. } => "server-not-trusted",
            PartnerError::TenantRemoved { .. } => "tenant-removed",
            PartnerError::OnboardingRefused { .. } => "onboarding-refused",
            PartnerError::RateLimited { .. } => "rate-limited",
            PartnerError::Connect { .. } => "connect",
            PartnerError::ConnectionLost { .. } => "connection-lost",
            PartnerError::Timeout { .. } => "timeout",
            PartnerError::Protocol { .. } => "protocol",
            PartnerError::OnboardedNotWritten { .. } | PartnerError::Local { .. } => "local",
            PartnerError::ReceiptInvalid { .. } => "receipt-invalid",
        }
    }

    /// When the appliance said to ask again: busy, its ledger unavailable, an entry not in
    /// the log yet. `None` for every answer that retrying would not change.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            PartnerError::Busy { retry_after_ms }
            | PartnerError::Unavailable { retry_after_ms, .. }
            | PartnerError::NotInLogYet { retry_after_ms, .. } => {
                Some(std::time::Duration::from_millis(u64::from(*retry_after_ms)))
            }
            _ => None,
        }
    }

    /// The appliance's reason by name, where the answer carries one: an onboarding refusal's
    /// (`used`, `expired`, ...) or an over-budget answer's (`cap`, `fleet-share`). `--json`
    /// output and the SDKs' errors carry it beside the kind.
    pub fn reason(&self) -> Option<&str> {
        match self {
            PartnerError::OnboardingRefused { reason, .. } => Some(reason),
            PartnerError::OverBudget(over) => Some(over.reason.name()),
            _ => None,
        }
    }

    /// Maps how a connection ended to what the partner should know.
    pub(crate) fn from_connection(error: &quinn::ConnectionError) -> Self {
        match error {
            quinn::ConnectionError::ApplicationClosed(close) => {
                let reason = String::from_utf8_lossy(&close.reason).into_owned();
                match close.error_code.into_inner() as u32 {
                    close_code::SHUTTING_DOWN => PartnerError::ShuttingDown,
                    close_code::NO_TENANT_IDENTITY | close_code::UNKNOWN_TENANT => {
                        PartnerError::CertificateRefused { reason }
                    }
                    close_code::TENANT_REMOVED => PartnerError::TenantRemoved { reason },
                    close_code::ONBOARDING_RATE_LIMITED => {
                        PartnerError::RateLimited { detail: reason }
                    }
                    close_code::WRONG_PROTOCOL => PartnerError::Protocol {
                        detail: format!(
                            "the appliance closed the connection: the request does not belong \
                             on this protocol ({reason})"
                        ),
                    },
                    code => PartnerError::ConnectionLost {
                        reason: format!("closed by the appliance (code {code:#x}): {reason}"),
                    },
                }
            }
            quinn::ConnectionError::ConnectionClosed(close)
                if is_tls_alert(u64::from(close.error_code)) =>
            {
                PartnerError::CertificateRefused {
                    reason: format!("TLS: {close}"),
                }
            }
            // Raised here, not sent by the appliance: this side refused the other's
            // certificate.
            quinn::ConnectionError::TransportError(error)
                if is_tls_alert(u64::from(error.code))
                    && error.reason.contains("invalid peer certificate") =>
            {
                PartnerError::ServerNotTrusted {
                    reason: error.reason.clone(),
                }
            }
            quinn::ConnectionError::TransportError(error)
                if is_tls_alert(u64::from(error.code)) =>
            {
                PartnerError::CertificateRefused {
                    reason: format!("TLS: {error}"),
                }
            }
            other => PartnerError::ConnectionLost {
                reason: other.to_string(),
            },
        }
    }
}

/// QUIC carries TLS alerts as transport errors 0x100 + alert.
fn is_tls_alert(code: u64) -> bool {
    (0x100..0x200).contains(&code)
}

/// A policy denial in one paragraph: what was asked, which bundle said no and why, and what to
/// do about it.
fn denial_paragraph(denial: &tf_wire::PolicyDenial) -> String {
    let rules = if denial.policies.is_empty() {
        "no policy permits it".to_owned()
    } else {
        format!("forbidden by {}", denial.policies.join(", "))
    };
    format!(
        "denied by policy: {} is not allowed under policy bundle revision {} (bundle {}): {rules}. \
         It was not verified and not charged. Ask the appliance's operators to permit it in \
         their next policy bundle, or send it with a purpose and dataset class the bundle allows.",
        denial.request,
        denial.revision,
        &hex::encode(denial.bundle_hash)[..12],
    )
}

#[cfg(test)]
mod tests {
    use tf_wire::{CapState, DatasetClass, OverBudget, OverBudgetReason};

    use super::*;

    fn over_budget(reason: OverBudgetReason) -> PartnerError {
        PartnerError::OverBudget(Box::new(OverBudget {
            cap: CapState {
                tenant: "acme".into(),
                purpose: String::new(),
                dataset_class: DatasetClass::P1,
                window: "day".into(),
                limit: 100,
                used: 10,
                reserved: 0,
                remaining: 0,
                resets_at_unix_ms: 1_795_564_800_000,
                granted: 10,
            },
            requested: 1,
            contact: "ask ops".into(),
            reason,
        }))
    }

    #[test]
    fn an_over_budget_error_names_what_ran_out_beside_its_kind() {
        let share = over_budget(OverBudgetReason::FleetShare);
        assert_eq!(
            (share.kind(), share.reason()),
            ("over-budget", Some("fleet-share"))
        );
        assert!(
            share
                .to_string()
                .starts_with("Over budget on this appliance"),
            "{share}"
        );
        // No wait was asked for on the wire: the SDKs do not retry it by themselves.
        assert_eq!(share.retry_after(), None);
        let cap = over_budget(OverBudgetReason::Cap);
        assert_eq!(cap.reason(), Some("cap"));
        assert!(
            cap.to_string().starts_with("Over budget, not verified"),
            "{cap}"
        );
        let refused = PartnerError::OnboardingRefused {
            reason: "used".into(),
            detail: "the invite was used".into(),
        };
        assert_eq!(refused.reason(), Some("used"));
        assert_eq!(PartnerError::Internal.reason(), None);
    }
}
