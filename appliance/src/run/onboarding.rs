//! Onboarding's wiring: where partners redeem invites (the shards' desk), who answers them
//! (the control plane's worker), and whether this appliance can at all: only with the state
//! directory's own PKI, whose CA signs partners' certificates.

use std::sync::Arc;

use anyhow::Context as _;
use tf_config::Config;
use tf_seam::{PartnerDesk, PartnerInbox, SourceLimit, partner_desk};
use tf_state::{PartnerCertifier, State};

/// Both ends of onboarding, made before the shards start.
pub struct OnboardingPlan {
    /// The shards' side.
    pub desk: Arc<PartnerDesk>,
    /// The control plane's side, with what signs certificates.
    pub answering: Answering,
}

/// What the control plane answers onboarding requests with.
pub struct Answering {
    /// Requests from the shards.
    pub inbox: PartnerInbox,
    /// Signs partners' certificates.
    pub certifier: Arc<PartnerCertifier>,
}

/// Whether partners' certificates come from the state directory's CA: `[tls]` names neither a
/// server certificate nor a client CA of another PKI (whose key this appliance does not hold).
pub fn own_pki(config: &Config) -> bool {
    config.tls.certificate.is_none() && config.tls.client_ca.is_none()
}

/// Onboarding's channel and certifier; `None` when `[tls]` names another PKI.
pub fn plan(config: &Config, state: &State) -> anyhow::Result<Option<OnboardingPlan>> {
    if !own_pki(config) {
        return Ok(None);
    }
    let certifier = state
        .partner_certifier()
        .context("reading the CA that signs partners' certificates")?;
    let (desk, inbox) = partner_desk(SourceLimit::DEFAULT);
    Ok(Some(OnboardingPlan {
        desk: Arc::new(desk),
        answering: Answering {
            inbox,
            certifier: Arc::new(certifier),
        },
    }))
}
