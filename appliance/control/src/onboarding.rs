//! Onboarding: a partner redeems an invite on the QUIC port and its tenant comes into force
//! the way every tenant change does, as a new bundle revision. The revision is the bundle in
//! force with the tenant's entry, caps and permit added from the invite's template
//! (`tf_bundles::onboarding`), signed by the appliance, staged on every shard, and recorded in
//! the same transaction that marks the invite used: both happen or neither.
//!
//! The [`OnboardingWorker`] takes requests from the shards (`tf_seam::OnboardingDesk`), checks
//! the partner's certificate request, asks the [`Bundles`] actor to put the tenant in force,
//! and answers with the certificate the state directory's CA signed.

use std::sync::Arc;

use actix::prelude::*;
use sha2::{Digest, Sha256};
use tf_bundles::onboarding::{Onboarding, TenantTerms};
use tf_bundles::{BuildInfo, Bundle, BundleFiles, Refusal};
use tf_ledger::{InviteRefusal, InviteRow, InviteState};
use tf_seam::clock::unix_micros;
use tf_seam::{OnboardingAsk, OnboardingInbox};
use tf_state::PartnerCertifier;
use tf_wire::{ErrorCode, Onboarded};

use crate::book::Book;
use crate::bundles::Bundles;
use crate::error::ControlError;
use crate::promote::{PendingSwitch, Redeeming, Switched};

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
        pending.redeeming = Some(Redeeming {
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
        let files = onboarded_files(&source.files, invite, tenant)?;
        let newest = self
            .ledger
            .highest_revision()?
            .max(self.active.stamp.revision);
        let info = BuildInfo {
            revision: tf_bundles::next_revision(newest)?,
            author: format!("invite {}", invite.id),
            note: format!(
                "tenant {tenant} onboarded under invite {} (made by {}: {})",
                invite.id, invite.created_by, invite.reason
            ),
            tickets: Vec::new(),
            created_unix_s: now_us / 1_000_000,
            republishes: None,
        };
        let onboarding = Onboarding {
            invite: invite.id,
            tenant: tenant.to_owned(),
            source: source.revision(),
        };
        Ok(tf_bundles::build_onboarding(
            files,
            info,
            onboarding,
            &mut self.appliance_key,
            &self.limits,
        )?)
    }

    /// Whether a stored revision signed by this appliance that says it onboards a tenant is
    /// exactly its source revision's files with that tenant added under a used invite.
    pub(crate) fn check_onboarded(
        &self,
        bundle: &Bundle,
        onboarding: &Onboarding,
    ) -> Result<(), ControlError> {
        let revision = bundle.revision();
        let unverified = |why: String| ControlError::NotOnboarded { revision, why };
        let invite = self
            .ledger
            .invite(onboarding.invite)?
            .ok_or_else(|| unverified(format!("invite {} is not stored", onboarding.invite)))?;
        if invite.state != InviteState::Used
            || invite.closed_by.as_deref() != Some(onboarding.tenant.as_str())
        {
            return Err(unverified(format!(
                "invite {} was not used by tenant {}",
                invite.id, onboarding.tenant
            )));
        }
        let source = self.load(onboarding.source)?;
        let expected = onboarded_files(&source.files, &invite, &onboarding.tenant)?;
        let mut actual = bundle.files.clone();
        actual.remove(tf_bundles::MANIFEST_FILE);
        if expected != actual {
            return Err(unverified(format!(
                "its files are not revision {} with tenant {} added",
                onboarding.source, onboarding.tenant
            )));
        }
        Ok(())
    }
}

/// `source` with `tenant` added on the terms of `invite`'s template.
fn onboarded_files(
    source: &BundleFiles,
    invite: &InviteRow,
    tenant: &str,
) -> Result<BundleFiles, ControlError> {
    let template: tf_admin_api::InviteTemplate =
        serde_json::from_str(&invite.template).map_err(|e| ControlError::Onboarding {
            reason: "refused",
            detail: format!(
                "invite {}'s stored template does not read ({e}); ask the operator for a new \
                 invite",
                invite.id
            ),
        })?;
    let terms = TenantTerms {
        tenant: tenant.to_owned(),
        purposes: template.purposes,
        classes: template.classes,
        rate_per_sec: template.max_rate_per_sec,
        burst: template.max_burst,
        max_registered_keys: template.max_registered_keys,
        caps: template
            .caps
            .into_iter()
            .map(|c| (c.class, c.window, c.max_limit))
            .collect(),
    };
    Ok(tf_bundles::onboarding::add_tenant(
        source, &terms, invite.id,
    )?)
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

/// What answers partners' onboarding requests: the certificate authority, the appliance's
/// public keys, and the actor that puts tenants in force.
pub struct OnboardingWorker {
    /// Requests from the shards.
    pub inbox: OnboardingInbox,
    /// The bundles' actor.
    pub bundles: Addr<Bundles>,
    /// Signs partners' certificates.
    pub certifier: Arc<PartnerCertifier>,
    /// The key receipts are signed with.
    pub receipt_public_key: [u8; 32],
    /// The transparency log's verifier key; empty without a log.
    pub log_key: String,
}

impl OnboardingWorker {
    /// Answers requests one at a time until every shard let go of the desk. Blocks: run it on
    /// a thread of its own.
    pub fn run(self) {
        while let Some(ask) = self.inbox.take() {
            let answer = futures_lite::future::block_on(self.answer(&ask));
            match &answer {
                Ok(done) => tracing::info!(
                    tenant = %done.tenant,
                    invite = ask.onboard.invite_id,
                    revision = done.revision,
                    source = %ask.source,
                    "partner onboarded"
                ),
                Err(code) => tracing::info!(
                    invite = ask.onboard.invite_id,
                    source = %ask.source,
                    refused = ?code,
                    "onboarding refused"
                ),
            }
            // The shard may have given up waiting; the tenant is in force all the same.
            let _ = ask.reply.send(answer);
        }
    }

    async fn answer(&self, ask: &OnboardingAsk) -> Result<Onboarded, ErrorCode> {
        let onboard = &ask.onboard;
        let refused = |reason: &str, detail: String| ErrorCode::OnboardingRefused {
            reason: reason.to_owned(),
            detail,
        };
        // Signed first: once the tenant is in force, nothing is left that can fail.
        let certificate = self
            .certifier
            .certify(&onboard.tenant, &onboard.csr, unix_micros() / 1_000_000)
            .map_err(|e| refused("bad-request", e.to_string()))?;
        let digest: [u8; 32] = Sha256::digest(onboard.secret).into();
        let asked = Onboard {
            invite: onboard.invite_id,
            digest,
            tenant: onboard.tenant.clone(),
        };
        let switched = match self.bundles.send(asked).await {
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
            Ok(Err(ControlError::Stopped)) | Err(_) => return Err(ErrorCode::ShuttingDown),
            Ok(Err(other)) => {
                tracing::error!(error = %other, "onboarding failed");
                return Err(ErrorCode::Internal);
            }
        };
        Ok(Onboarded {
            request_id: onboard.request_id,
            tenant: onboard.tenant.clone(),
            certificate,
            ca_certificate: self.certifier.ca_der().to_vec(),
            receipt_public_key: self.receipt_public_key,
            log_key: self.log_key.clone(),
            revision: switched.to_revision,
        })
    }
}
