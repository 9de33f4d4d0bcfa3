//! Partners' revisions: the bundle revisions the appliance builds and signs to write one
//! partner's terms file (an onboarding, a terms request granted), and the check that opens
//! them again: rebuilt from the revision they change and what authorised them (the used
//! invite's template, or the granted request's terms), they must be exactly what is stored.

use tf_bundles::partners::{PartnerCap, PartnerTerms};
use tf_bundles::{BuildInfo, Bundle, PartnerChange};
use tf_ledger::{InviteRow, InviteState, Ledger, TermsState};

use crate::book::Book;
use crate::error::ControlError;

impl Book {
    /// `source` with `terms` as its tenant's terms file, as the next revision, signed by this
    /// appliance.
    pub(crate) fn partner_bundle(
        &mut self,
        source: &Bundle,
        terms: &PartnerTerms,
        change: PartnerChange,
        note: String,
        now_us: u64,
    ) -> Result<Bundle, ControlError> {
        let files = tf_bundles::partners::with_terms(&source.files, terms)?;
        let newest = self
            .ledger
            .highest_revision()?
            .max(self.active.stamp.revision);
        let info = BuildInfo {
            revision: tf_bundles::next_revision(newest)?,
            author: format!("invite {}", change.invite),
            note,
            tickets: Vec::new(),
            created_unix_s: now_us / 1_000_000,
            republishes: None,
        };
        Ok(tf_bundles::build_partner_change(
            files,
            info,
            change,
            &mut self.appliance_key,
            &self.limits,
        )?)
    }

    /// Whether a stored revision signed by this appliance that says it changes a partner's
    /// terms is exactly its source revision's files with those terms written, as what
    /// authorised it says: for an onboarding, the used invite's template.
    pub(crate) fn check_partner_change(
        &self,
        bundle: &Bundle,
        change: &PartnerChange,
    ) -> Result<(), ControlError> {
        let revision = bundle.revision();
        let unverified = |why: String| ControlError::NotOnboarded { revision, why };
        let invite = self
            .ledger
            .invite(change.invite)?
            .ok_or_else(|| unverified(format!("invite {} is not stored", change.invite)))?;
        if invite.state != InviteState::Used
            || invite.closed_by.as_deref() != Some(change.tenant.as_str())
        {
            return Err(unverified(format!(
                "invite {} was not used by tenant {}",
                invite.id, change.tenant
            )));
        }
        let terms = match change.request {
            None => template_terms(&invite, &change.tenant)?,
            Some(request) => {
                granted_terms(self.ledger.as_ref(), request, bundle).map_err(unverified)?
            }
        };
        let source = self.load(change.source)?;
        let expected = tf_bundles::partners::with_terms(&source.files, &terms)?;
        let mut actual = bundle.files.clone();
        actual.remove(tf_bundles::MANIFEST_FILE);
        if expected != actual {
            return Err(unverified(format!(
                "its files are not revision {} with tenant {}'s terms written",
                change.source, change.tenant
            )));
        }
        Ok(())
    }
}

/// The terms `invite`'s template gives `tenant`: every ceiling taken in full.
pub(crate) fn template_terms(
    invite: &InviteRow,
    tenant: &str,
) -> Result<PartnerTerms, ControlError> {
    let template: tf_admin_api::InviteTemplate =
        serde_json::from_str(&invite.template).map_err(|e| ControlError::Onboarding {
            reason: "refused",
            detail: format!(
                "invite {}'s stored template does not read ({e}); ask the operator for a new \
                 invite",
                invite.id
            ),
        })?;
    Ok(PartnerTerms {
        tenant: tenant.to_owned(),
        invite: invite.id,
        purposes: template.purposes,
        classes: template.classes,
        rate_per_sec: template.max_rate_per_sec,
        burst: template.max_burst,
        max_registered_keys: template.max_registered_keys,
        caps: template
            .caps
            .into_iter()
            .map(|c| PartnerCap {
                class: c.class,
                window: c.window,
                limit: c.max_limit,
            })
            .collect(),
        sandbox_per_day: tf_bundles::partners::SANDBOX_PER_DAY,
    })
}

/// The terms granted request `request` put in force in `bundle`, checked against the ledger:
/// granted, for the bundle's revision and tenant.
pub(crate) fn granted_terms(
    ledger: &dyn Ledger,
    request: u64,
    bundle: &tf_bundles::Bundle,
) -> Result<PartnerTerms, String> {
    let row = ledger
        .terms_request(request)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("terms request {request} is not stored"))?;
    let change = bundle.manifest.partner.as_ref();
    if row.state != TermsState::Granted
        || row.revision != Some(bundle.revision())
        || change.is_none_or(|c| c.tenant != row.tenant)
    {
        return Err(format!(
            "terms request {request} was not granted for tenant {} in this revision",
            row.tenant
        ));
    }
    serde_json::from_str(&row.terms).map_err(|e| format!("terms request {request}: {e}"))
}
