//! `appliance ctl invites`: partner invites through the admin API (list, create, revoke).

use tf_admin_api::{CreateInvite, InviteTemplate, Operation, RevokeInvite};

use super::Request;
use crate::cli::InvitesCtl;

/// The call an invites command makes.
pub(super) fn request(what: &InvitesCtl) -> Result<Request, String> {
    match what {
        InvitesCtl::List => Ok(Request::get(
            Operation::Invites,
            Operation::Invites.route().path.to_owned(),
        )),
        InvitesCtl::Create {
            tenant,
            purposes,
            classes,
            max_rate,
            max_burst,
            max_keys,
            caps,
            expires_in,
            reason,
        } => Request::json(
            Operation::CreateInvite,
            Operation::CreateInvite.route().path.to_owned(),
            &CreateInvite {
                tenant: tenant.clone(),
                template: InviteTemplate {
                    purposes: purposes.clone(),
                    classes: classes.clone(),
                    max_rate_per_sec: *max_rate,
                    max_burst: *max_burst,
                    max_registered_keys: *max_keys,
                    caps: (caps.iter())
                        .map(|c| c.parse().map_err(|e| format!("--cap {e}")))
                        .collect::<Result<_, String>>()?,
                },
                expires_in: Some(expires_in.clone()),
                reason: reason.clone(),
            },
        ),
        InvitesCtl::Revoke { id, reason } => Request::json(
            Operation::RevokeInvite,
            Operation::RevokeInvite
                .route()
                .path
                .replace("{id}", &id.to_string()),
            &RevokeInvite {
                reason: reason.clone(),
            },
        ),
    }
}
