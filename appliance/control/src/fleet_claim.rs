//! Claims on the fleet's policy timeline: a promotion checked for the fleet (asked of this
//! appliance, or a partner's change it built) and the claim of any entry, which is refused
//! unless its revision is above every one claimed before.

use tf_bundles::{Bundle, Refusal};
use tf_config::FleetConfig;
use tf_fleet::{FleetError, Switch, TimelineEntry};
use tf_seam::clock::unix_micros;

use crate::error::ControlError;
use crate::promote::{Allowances, PendingSwitch};

/// Claims `bundle`'s revision for the fleet before this appliance promotes it: refused, as a
/// stale revision, when another appliance claimed it or a later one first, and refused when
/// it has a cap the fleet cannot lease (a rolling window).
pub fn claim_promotion(
    config: &FleetConfig,
    bundle: &Bundle,
    archive: &[u8],
    actor: &str,
    allow: Allowances,
) -> Result<(), ControlError> {
    PromotionClaim::of(config, bundle, archive, actor, allow)?.claim()
}

/// A promotion checked for the fleet and ready to claim: one asked of this appliance, or a
/// partner's change (an onboarding, terms requested or granted), whose entry carries the
/// revision this appliance built and signed; every other appliance checks it against its
/// trusted authors (so each lists every appliance's key) and promotes it.
pub struct PromotionClaim {
    config: FleetConfig,
    entry: TimelineEntry,
}

impl PromotionClaim {
    /// Refused when `bundle` has a cap the fleet cannot lease (a rolling window).
    pub fn of(
        config: &FleetConfig,
        bundle: &Bundle,
        archive: &[u8],
        actor: &str,
        allow: Allowances,
    ) -> Result<PromotionClaim, ControlError> {
        let budgets = std::path::Path::new(tf_bundles::BUDGETS_FILE);
        if let Err(error) = tf_config::validate_leasable(&bundle.content.tenants, budgets) {
            return Err(ControlError::Refused(Refusal(vec![
                tf_bundles::Problem::InvalidContent {
                    file: tf_bundles::BUDGETS_FILE.to_owned(),
                    message: error.to_string(),
                },
            ])));
        }
        let entry = TimelineEntry {
            revision: bundle.revision(),
            switch: Switch::Promote {
                archive: archive.to_vec(),
                bundle_hash: bundle.hash.clone(),
            },
            actor: actor.to_owned(),
            reason: bundle.manifest.note.clone(),
            allow_cap_below_spent: allow.cap_below_spent,
            allow_partners_dropped: allow.partners_dropped,
            node: config.node.clone(),
            at_us: unix_micros(),
        };
        Ok(PromotionClaim {
            config: config.clone(),
            entry,
        })
    }

    /// A partner's change's claim: a revision another appliance claimed first means this
    /// appliance has not followed the fleet's latest yet, which it does within a second, so
    /// the partner is asked to retry (busy) rather than refused.
    pub fn claim_for_partner(self) -> Result<(), ControlError> {
        claim(&self.config, &self.entry).map_err(|error| ControlError::Fleet(error.to_string()))
    }

    /// Claims it (blocks on the fleet's database): refused as a stale revision when another
    /// appliance claimed it or a later one first.
    pub fn claim(self) -> Result<(), ControlError> {
        let revision = self.entry.revision;
        claim(&self.config, &self.entry).map_err(|error| match error {
            FleetError::TimelineTaken { latest, .. } => {
                ControlError::Refused(Refusal(vec![tf_bundles::Problem::StaleRevision {
                    candidate: revision,
                    active: latest,
                }]))
            }
            other => ControlError::Fleet(other.to_string()),
        })
    }
}

/// In fleet mode, a partner's change's claim (refused when the fleet cannot lease its caps);
/// `None` for other switches (their claim was made before they were asked of the actor) or
/// outside a fleet. A partner may lower its own caps below what it spent; a partner's change
/// never drops another partner.
pub(crate) fn partner_claim(
    pending: &PendingSwitch,
    fleet: Option<&FleetConfig>,
) -> Option<Result<PromotionClaim, ControlError>> {
    let fleet = fleet.filter(|_| pending.authority.is_some())?;
    let allow = Allowances {
        cap_below_spent: true,
        partners_dropped: false,
    };
    let (bundle, archive, actor) = pending.claimed();
    Some(PromotionClaim::of(fleet, bundle, archive, actor, allow))
}

/// Claims `entry` for the fleet (blocks on its database).
pub(crate) fn claim(config: &FleetConfig, entry: &TimelineEntry) -> Result<(), FleetError> {
    let mut client = tf_fleet::connect(config)?;
    tf_fleet::claim(&mut client, entry)
}
