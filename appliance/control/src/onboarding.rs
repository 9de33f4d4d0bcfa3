//! Onboarding: a partner redeems an invite on the QUIC port and its tenant comes into force
//! the way every tenant change does, as a new bundle revision. The revision is the bundle in
//! force with the tenant's terms file added (`tf_bundles::partners`: its entry, caps and permit,
//! from the invite's template), signed by the appliance, staged on every shard, and recorded
//! in the same transaction that marks the invite used: both happen or neither.
//!
//! The desk worker ([`crate::desk`]) hands each `Onboard` to [`answer`]: it checks the
//! partner's certificate request, asks the [`Bundles`] actor to put the tenant in force, and
//! answers with the certificate the state directory's CA signed.

use actix::prelude::*;
use sha2::{Digest, Sha256};
use tf_bundles::{Bundle, PartnerChange, Refusal};
use tf_ledger::{InviteRefusal, InviteRow};
use tf_seam::clock::unix_micros;
use tf_wire::{ErrorCode, Message, Onboarded};

use crate::book::Book;
use crate::bundles::Bundles;
use crate::error::ControlError;
use crate::promote::{Authority, PendingSwitch, Switched};

/// Puts the tenant an invite names in force.
#[derive(Debug, Message)]
#[rtype(result = "Result<Switched, ControlError>")]
pub struct Onboard {
    /// The invite.
    pub invite: u64,
    /// SHA-256 of the secret the partner gave.
    pub digest: [u8; 32],
    /// The tenant asked for.
    pub tenant: String,
}

impl Handler<Onboard> for Bundles {
    type Result = AtomicResponse<Self, Result<Switched, ControlError>>;

    fn handle(&mut self, msg: Onboard, _: &mut Self::Context) -> Self::Result {
        let pending = self.book.begin_onboard(&msg, unix_micros());
        self.run_switch(pending)
    }
}

impl Book {
    /// Checks the invite and the name, builds the revision adding the tenant to the bundle in
    /// force, and stages its terms. Nothing is stored until the switch.
    pub fn begin_onboard(
        &mut self,
        onboard: &Onboard,
        now_us: u64,
    ) -> Result<PendingSwitch, ControlError> {
        let Some(source) = self.active.bundle.clone() else {
            return Err(ControlError::Onboarding {
                reason: "no-bundle",
                detail: "this appliance runs its configuration's tenants, with no policy bundle \
                         in force; onboarding adds tenants to the bundle in force: ask the \
                         operator to promote one"
                    .into(),
            });
        };
        let invite = self
            .ledger
            .invite(onboard.invite)?
            .ok_or(InviteRefusal::Unknown)?;
        if let Some(refused) =
            tf_ledger::invite_refusal(&invite, &onboard.digest, &onboard.tenant, now_us)
        {
            return Err(refused.into());
        }
        // A name ever served keeps its slot, its keys and its charges: never hand them over.
        let known = self.tenants.slot(&onboard.tenant).is_some()
            || self.running.tenants.iter().any(|t| t.id == onboard.tenant)
            || source
                .content
                .tenants
                .iter()
                .any(|t| t.id == onboard.tenant);
        if known {
            return Err(ControlError::Onboarding {
                reason: "tenant-exists",
                detail: format!(
                    "tenant {:?} exists, or did before, on this appliance: pick another name \
                     the invite allows",
                    onboard.tenant
                ),
            });
        }
        let bundle = self.onboarding_bundle(&source, &invite, &onboard.tenant, now_us)?;
        let problems = self.fit_problems(&bundle);
        if !problems.is_empty() {
            return Err(Refusal(problems).into());
        }
        let archive = bundle.files.to_tar_gz();
        let actor = format!("invite {}", invite.id);
        let reason = bundle.manifest.note.clone();
        let mut pending = self.stage(bundle, archive, "onboard", &actor, reason);
        pending.authority = Some(Authority::Redeem {
            invite: invite.id,
            digest: onboard.digest,
            tenant: onboard.tenant.clone(),
        });
        Ok(pending)
    }

    /// The revision adding `tenant` under `invite` to `source`, signed by this appliance.
    fn onboarding_bundle(
        &mut self,
        source: &Bundle,
        invite: &InviteRow,
        tenant: &str,
        now_us: u64,
    ) -> Result<Bundle, ControlError> {
        let terms = crate::partner_revisions::template_terms(invite, tenant)?;
        let change = PartnerChange {
            tenant: tenant.to_owned(),
            source: source.revision(),
            invite: invite.id,
            request: None,
        };
        let note = format!(
            "tenant {tenant} onboarded under invite {} (made by {}: {})",
            invite.id, invite.created_by, invite.reason
        );
        self.partner_bundle(source, &terms, change, note, now_us)
    }
}

impl From<InviteRefusal> for ControlError {
    fn from(refusal: InviteRefusal) -> Self {
        let reason = match refusal {
            InviteRefusal::Unknown => "unknown",
            InviteRefusal::Used => "used",
            InviteRefusal::Revoked => "revoked",
            InviteRefusal::Expired => "expired",
            InviteRefusal::WrongTenant { .. } => "wrong-tenant",
        };
        ControlError::Onboarding {
            reason,
            detail: refusal.to_string(),
        }
    }
}

/// Answers an `Onboard`: the partner's key certified, its tenant put in force.
pub(crate) async fn answer(
    desk: &crate::desk::DeskWorker,
    onboard: &tf_wire::Onboard,
) -> Result<Message, ErrorCode> {
    let refused = |reason: &str, detail: String| ErrorCode::OnboardingRefused {
        reason: reason.to_owned(),
        detail,
    };
    // Signed first: once the tenant is in force, nothing is left that can fail.
    let certificate = desk
        .certifier
        .certify(&onboard.tenant, &onboard.csr, unix_micros() / 1_000_000)
        .map_err(|e| refused("bad-request", e.to_string()))?;
    let digest: [u8; 32] = Sha256::digest(onboard.secret).into();
    let asked = Onboard {
        invite: onboard.invite_id,
        digest,
        tenant: onboard.tenant.clone(),
    };
    let switched = match desk.bundles.send(asked).await {
        Ok(Ok(switched)) => switched,
        Ok(Err(ControlError::Onboarding { reason, detail })) => {
            return Err(refused(reason, detail));
        }
        Ok(Err(ControlError::Refused(refusal))) => {
            return Err(refused(
                "refused",
                format!(
                    "the tenant could not be added to the bundle in force: {refusal}; ask the \
                     operator"
                ),
            ));
        }
        Ok(Err(other)) => return Err(crate::desk::failed(other)),
        Err(_) => return Err(ErrorCode::ShuttingDown),
    };
    tracing::info!(
        tenant = %onboard.tenant,
        invite = onboard.invite_id,
        revision = switched.to_revision,
        "partner onboarded"
    );
    Ok(Message::Onboarded(Onboarded {
        request_id: onboard.request_id,
        tenant: onboard.tenant.clone(),
        certificate,
        ca_certificate: desk.certifier.ca_der().to_vec(),
        receipt_public_key: desk.receipt_public_key,
        log_key: desk.log_key.clone(),
        revision: switched.to_revision,
    }))
}
