//! `appliance ctl terms`: partners' terms requests through the admin API (list, grant,
//! decline).

use tf_admin_api::{Operation, TermsDecision};

use super::Request;
use crate::cli::terms_ctl::TermsCtl;

/// The call a terms command makes.
pub(super) fn request(what: &TermsCtl) -> Result<Request, String> {
    let decide = |operation: Operation, id: u64, reason: &str| {
        Request::json(
            operation,
            operation.route().path.replace("{id}", &id.to_string()),
            &TermsDecision {
                reason: reason.to_owned(),
            },
        )
    };
    match what {
        TermsCtl::List => Ok(Request::get(
            Operation::TermsRequests,
            Operation::TermsRequests.route().path.to_owned(),
        )),
        TermsCtl::Grant { id, reason } => decide(Operation::GrantTerms, *id, reason),
        TermsCtl::Decline { id, reason } => decide(Operation::DeclineTerms, *id, reason),
    }
}
