//! Partners' terms requests for people: the list, and one declined.

use tf_admin_api::{TermsRequestEntry, TermsRequestsReply, TermsStatus};

use super::table::{Align, Table};

/// Every request, newest first.
pub(super) fn list(reply: &TermsRequestsReply) -> Vec<String> {
    if reply.requests.is_empty() {
        return vec![
            "no terms requests yet: partners onboarded with an invite ask for other terms over \
             their connection"
                .to_owned(),
        ];
    }
    let mut table = Table::new(&[
        ("ID", Align::Right),
        ("TENANT", Align::Left),
        ("STATUS", Align::Left),
        ("ASKED", Align::Left),
        ("IN FORCE", Align::Left),
        ("WHY", Align::Left),
    ]);
    for request in &reply.requests {
        table.row(vec![
            request.id.to_string(),
            request.tenant.0.clone(),
            status(request),
            request.asked.to_string(),
            request
                .in_force
                .as_ref()
                .map_or_else(|| "no partner any more".to_owned(), ToString::to_string),
            request.reason.clone().unwrap_or_default(),
        ]);
    }
    table.lines()
}

/// A request after a change.
pub(super) fn entry(entry: &TermsRequestEntry) -> Vec<String> {
    vec![format!(
        "terms request {} for tenant {}: {}",
        entry.id,
        entry.tenant.0,
        status(entry)
    )]
}

fn status(request: &TermsRequestEntry) -> String {
    let by = request.decided_by.as_deref().unwrap_or("?");
    match request.status {
        TermsStatus::Pending if request.within_template => "pending".to_owned(),
        TermsStatus::Pending => "pending (above the template)".to_owned(),
        TermsStatus::Granted => match request.revision {
            Some(revision) => format!("granted by {by} in revision {revision}"),
            None => format!("granted by {by}"),
        },
        TermsStatus::Declined => format!("declined by {by}"),
        _ => "?".to_owned(),
    }
}
