//! The Trust Fabric partner SDK: connect to an appliance over QUIC with a tenant's client
//! certificate, submit BLS signatures and Groth16 proofs, register verifying keys, check the
//! signed receipts that come back, and prove them in the appliance's transparency log.
//! [`sdk`] is the same in the shapes the language bindings (Python) take: text in, plain
//! values out, every request retried as [`Retry`] allows.
//!
//! ```no_run
//! # async fn example() -> Result<(), tf_partner::PartnerError> {
//! let config = tf_partner::PartnerConfig::from_state_dir("appliance-state".as_ref())?;
//! let partner = tf_partner::Partner::connect(&config).await?;
//! let key_id = partner
//!     .register_key_file("verification_key.json".as_ref())
//!     .await?;
//! # let _ = key_id;
//! # Ok(())
//! # }
//! ```

mod address;
pub mod budget_text;
mod client;
mod client_key;
mod config;
mod error;
pub mod fixtures;
pub mod formats;
pub mod golden;
mod identity_dir;
mod log_proof;
mod onboard;
mod pinned;
mod retry;
pub mod sdk;
#[cfg(test)]
mod test_pki;

pub use address::{AddressError, ApplianceAddress};
pub use client::{Partner, Submission};
pub use client_key::{ClientKey, certificate_pem};
pub use config::{Identity, PARTNER_FILE, PartnerConfig, PartnerFile};
pub use error::PartnerError;
pub use identity_dir::{CA_FILE, CERTIFICATE_FILE, IdentityDir, KEY_FILE};
pub use log_proof::{LogProofAnswer, verify_inclusion};
pub use onboard::{ONBOARDING_TIMEOUT, onboard, onboard_within};
pub use pinned::{CA_NOT_PRESENTED, PinnedCaVerifier, ca_fingerprint, pinned_ca};
pub use retry::Retry;
pub use sdk::{
    Budget, Client, OnboardedDir, Onboarding, ReceiptFacts, Verdict, onboard_to_dir, verify_receipt,
};
pub use tf_log::{InclusionError, InclusionProofFile};
pub use tf_wire::{
    About, CapState, Curve, DatasetClass, InviteCode, Onboarded, OverBudget, OverBudgetReason,
    Statement, VerdictCode, VerdictReply,
};

/// A receipt from a verdict as a DSSE envelope, the form `partner receipt verify` and any DSSE
/// library read.
pub fn receipt_envelope(reply: &VerdictReply) -> tf_receipts::Envelope {
    tf_receipts::Envelope {
        payload_type: reply.receipt.payload_type.clone(),
        payload: reply.receipt.payload.clone(),
        signatures: reply
            .receipt
            .signatures
            .iter()
            .map(|s| tf_receipts::EnvelopeSignature {
                key_id: s.key_id.clone(),
                sig: s.signature.clone(),
            })
            .collect(),
    }
}
