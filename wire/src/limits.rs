//! Limits on what a frame may carry, checked right after validated access and before any work.

use crate::WireError;
use crate::messages::{ArchivedMessage, ArchivedStatement};

/// Longest tenant name or log key in an `About` answer (a vkey is about 100 bytes).
pub const MAX_ABOUT_TEXT_BYTES: usize = 1024;

/// Longest certificate signing request in an `Onboard` (an ECDSA P-384 request is about
/// 400 bytes; RSA 4096 about 1.7 KiB).
pub const MAX_CSR_BYTES: usize = 4096;
/// Longest certificate in an `Onboarded` answer.
pub const MAX_CERTIFICATE_BYTES: usize = 8192;

/// Most steps in a `Checklist`.
pub const MAX_CHECKLIST_STEPS: usize = 16;
/// Longest signed checklist envelope.
pub const MAX_CHECKLIST_ENVELOPE_BYTES: usize = 16 * 1024;

/// Most receipts an `EvidencePreviewQuery` names.
pub const MAX_PREVIEW_RECEIPTS: usize = 16;
/// Most files in an `EvidencePreview`: the receipts, the budget statements, the log's
/// checkpoint and proofs, and the manifest.
pub const MAX_PREVIEW_FILES: usize = MAX_PREVIEW_RECEIPTS + 4;
/// Longest file in an `EvidencePreview` (a receipt is about 1.2 KiB; the proofs of 16
/// receipts in a tree of 2^40 entries are about 45 KiB).
pub const MAX_PREVIEW_FILE_BYTES: usize = 64 * 1024;

/// Most caps in a `TermsRequest`.
pub const MAX_TERMS_CAPS: usize = 16;

/// Limits on frames and message fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireLimits {
    /// Largest frame body in bytes.
    pub max_frame_bytes: usize,
    /// Deepest nesting the validator follows (our messages nest at most 4 deep).
    pub max_depth: usize,
    /// Longest purpose string in bytes.
    pub max_purpose_bytes: usize,
    /// Longest BLS message in bytes.
    pub max_message_bytes: usize,
    /// Most public keys (and messages) in one BLS aggregate.
    pub max_public_keys: usize,
    /// Most Groth16 public inputs.
    pub max_public_inputs: usize,
    /// Longest Groth16 proof in bytes (192 is the BLS12-381 compressed size).
    pub max_proof_bytes: usize,
    /// Longest verifying key in bytes (a BLS12-381 key with 64 public inputs is about 3.5 KiB).
    pub max_key_bytes: usize,
    /// Longest signed checkpoint note in bytes (one signature: about 300 bytes; the room is for
    /// a 200-byte origin and cosignatures).
    pub max_checkpoint_bytes: usize,
    /// Most hashes in an inclusion proof: a tree of at most 2^64 entries is 64 levels deep.
    pub max_proof_hashes: usize,
}

impl WireLimits {
    /// Defaults that fit every supported statement with room to spare.
    pub const DEFAULT: WireLimits = WireLimits {
        max_frame_bytes: 1 << 20,
        max_depth: 8,
        max_purpose_bytes: 64,
        max_message_bytes: 4096,
        max_public_keys: 1024,
        max_public_inputs: 64,
        max_proof_bytes: 256,
        max_key_bytes: 16 * 1024,
        max_checkpoint_bytes: 8 * 1024,
        max_proof_hashes: 64,
    };

    /// Checks every variable-size field of a validated message.
    pub fn check(&self, message: &ArchivedMessage) -> Result<(), WireError> {
        let submit = match message {
            ArchivedMessage::Submit(submit) => submit,
            ArchivedMessage::RegisterKey(register) => {
                return over("key", register.key.len(), self.max_key_bytes);
            }
            ArchivedMessage::Onboard(onboard) => {
                over("tenant", onboard.tenant.len(), MAX_ABOUT_TEXT_BYTES)?;
                return over("csr", onboard.csr.len(), MAX_CSR_BYTES);
            }
            ArchivedMessage::TermsRequest(request) => {
                over("caps", request.caps.len(), MAX_TERMS_CAPS)?;
                return request
                    .caps
                    .iter()
                    .try_for_each(|c| over("caps[].window", c.window.len(), 32));
            }
            ArchivedMessage::Checklist(checklist) => {
                over("steps", checklist.steps.len(), MAX_CHECKLIST_STEPS)?;
                for step in checklist.steps.iter() {
                    over("steps[].name", step.name.len(), 64)?;
                    over("steps[].detail", step.detail.len(), MAX_ABOUT_TEXT_BYTES)?;
                }
                return over(
                    "envelope",
                    checklist.envelope.len(),
                    MAX_CHECKLIST_ENVELOPE_BYTES,
                );
            }
            ArchivedMessage::EvidencePreviewQuery(query) => {
                return over("receipts", query.receipts.len(), MAX_PREVIEW_RECEIPTS);
            }
            ArchivedMessage::EvidencePreview(preview) => {
                over("files", preview.files.len(), MAX_PREVIEW_FILES)?;
                return preview.files.iter().try_for_each(|file| {
                    over("files[].path", file.path.len(), 128)?;
                    over("files[].bytes", file.bytes.len(), MAX_PREVIEW_FILE_BYTES)
                });
            }
            ArchivedMessage::TermsReply(reply) => {
                return over("detail", reply.detail.len(), MAX_ABOUT_TEXT_BYTES);
            }
            ArchivedMessage::Onboarded(onboarded) => {
                over("tenant", onboarded.tenant.len(), MAX_ABOUT_TEXT_BYTES)?;
                over("log_key", onboarded.log_key.len(), MAX_ABOUT_TEXT_BYTES)?;
                over(
                    "certificate",
                    onboarded.certificate.len(),
                    MAX_CERTIFICATE_BYTES,
                )?;
                return over(
                    "ca_certificate",
                    onboarded.ca_certificate.len(),
                    MAX_CERTIFICATE_BYTES,
                );
            }
            ArchivedMessage::About(about) => {
                over("tenant", about.tenant.len(), MAX_ABOUT_TEXT_BYTES)?;
                return over("log_key", about.log_key.len(), MAX_ABOUT_TEXT_BYTES);
            }
            ArchivedMessage::LogProof(proof) => {
                over(
                    "checkpoint",
                    proof.checkpoint.len(),
                    self.max_checkpoint_bytes,
                )?;
                return over("hashes", proof.hashes.len(), self.max_proof_hashes);
            }
            _ => return Ok(()),
        };
        over("purpose", submit.purpose.len(), self.max_purpose_bytes)?;
        match &submit.statement {
            ArchivedStatement::BlsSingle { message, .. } => {
                over("message", message.len(), self.max_message_bytes)
            }
            ArchivedStatement::BlsAggregate {
                public_keys,
                messages,
                ..
            } => {
                over("public_keys", public_keys.len(), self.max_public_keys)?;
                over("messages", messages.len(), self.max_public_keys)?;
                messages
                    .iter()
                    .try_for_each(|m| over("messages[]", m.len(), self.max_message_bytes))
            }
            ArchivedStatement::BlsFastAggregate {
                public_keys,
                message,
                ..
            } => {
                over("public_keys", public_keys.len(), self.max_public_keys)?;
                over("message", message.len(), self.max_message_bytes)
            }
            ArchivedStatement::Groth16 {
                proof,
                public_inputs,
                ..
            } => {
                over("proof", proof.len(), self.max_proof_bytes)?;
                over("public_inputs", public_inputs.len(), self.max_public_inputs)
            }
        }
    }
}

impl Default for WireLimits {
    fn default() -> Self {
        WireLimits::DEFAULT
    }
}

fn over(field: &'static str, actual: usize, limit: usize) -> Result<(), WireError> {
    if actual > limit {
        Err(WireError::OverLimit {
            field,
            limit,
            actual,
        })
    } else {
        Ok(())
    }
}
