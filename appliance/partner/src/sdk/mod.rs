//! One facade over the SDK for what partners do most, in shapes a language binding can hand
//! over as they are: text in (snarkjs JSON, hex, `HOST:PORT`, an invite), plain values out
//! (hex, the receipt as its DSSE JSON text), every request asked again as [`crate::Retry`]
//! allows. The Python package (`appliance/sdk-python`) and the `partner` command call it where they
//! overlap, so no binding parses snarkjs, frames a request or writes an identity folder
//! itself, and a Node binding will call the same. The results serialise (serde) to the field
//! names `partner --json` prints.
//!
//! ```no_run
//! # async fn example() -> Result<(), tf_partner::PartnerError> {
//! use tf_partner::sdk::{Client, Onboarding, onboard_to_dir, verify_receipt};
//!
//! let onboarding = Onboarding::new("tfi1.12.0f3a...", "appliance.example.com:4433", "initech")?;
//! let onboarded = onboard_to_dir(&onboarding, |_| {}).await?;
//! let client = Client::connect_dir(&onboarded.dir, onboarding.timeout, onboarding.retry).await?;
//! let key_id = client.register_key_json(r#"{"protocol": "groth16", ...}"#).await?;
//! let verdict = client
//!     .submit_groth16_json(&key_id.to_string(), "{...}", "[...]", "kyc", "P1")
//!     .await?;
//! let facts = verify_receipt(&verdict.receipt, &onboarded.receipt_public_key)?;
//! # let _ = facts;
//! client.close().await;
//! # Ok(())
//! # }
//! ```

mod evidence;
mod onboarding;
mod receipt_facts;
mod session;
mod steps;

pub use evidence::{EvidencePreview, EvidenceSummary, verify_evidence_dir};
pub use onboarding::{OnboardedDir, Onboarding, onboard_to_dir, tenant_name};
pub use receipt_facts::{ReceiptFacts, genuine_receipt, verify_receipt};
pub use session::{Budget, Client, Verdict, dataset_class, verdict_word};
pub use steps::{
    CHECKLIST_PAYLOAD_TYPE, CapAsk, ChecklistAnswer, ChecklistItem, SANDBOX_PURPOSE, TermsAnswer,
    TermsAsk, verify_checklist,
};

use crate::PartnerError;

/// A value a caller gave that is not usable, named by what it was for.
fn unusable(what: &str, problem: impl std::fmt::Display) -> PartnerError {
    PartnerError::Local {
        path: what.to_owned(),
        problem: problem.to_string(),
    }
}

/// The appliance's receipt key from its 64 hex digits.
fn receipt_key(public_key_hex: &str) -> Result<ed25519_dalek::VerifyingKey, PartnerError> {
    crate::config::parse_public_key(public_key_hex)
        .and_then(|bytes| {
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|e| e.to_string())
        })
        .map_err(|problem| unusable("receipt public key", problem))
}
