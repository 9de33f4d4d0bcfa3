//! Partner invites for people: the list, one made (its text, once), one revoked.

use tf_admin_api::{InviteCreated, InviteEntry, InviteStatus, InvitesReply};

use super::table::{Align, Table};

/// Every invite, newest first.
pub(super) fn list(reply: &InvitesReply) -> Vec<String> {
    if reply.invites.is_empty() {
        return vec!["no invites yet: make one with `appliance ctl invites create`".to_owned()];
    }
    let mut table = Table::new(&[
        ("ID", Align::Right),
        ("TENANT", Align::Left),
        ("STATUS", Align::Left),
        ("EXPIRES", Align::Left),
        ("BY", Align::Left),
        ("WHY", Align::Left),
    ]);
    for invite in &reply.invites {
        table.row(vec![
            invite.id.to_string(),
            invite.tenant.clone(),
            status(invite),
            invite.expires.clone(),
            invite.created_by.clone(),
            invite.reason.clone(),
        ]);
    }
    table.lines()
}

/// An invite made: its text, which is shown nowhere else.
pub(super) fn created(reply: &InviteCreated) -> Vec<String> {
    let entry = &reply.entry;
    vec![
        format!(
            "invite {} for tenant {}, usable once until {}:",
            entry.id, entry.tenant, entry.expires
        ),
        reply.invite.clone(),
        "hand it to the partner over a channel you trust; it is not shown again (the \
         appliance keeps only a digest of it)"
            .to_owned(),
    ]
}

/// An invite after a change.
pub(super) fn entry(entry: &InviteEntry) -> Vec<String> {
    vec![format!(
        "invite {} for tenant {}: {}",
        entry.id,
        entry.tenant,
        status(entry)
    )]
}

fn status(invite: &InviteEntry) -> String {
    let since = |what: &str| match (&invite.closed, &invite.closed_by) {
        (Some(at), Some(by)) => format!("{what} {at} ({by})"),
        _ => what.to_owned(),
    };
    match invite.status {
        InviteStatus::Open => "open".to_owned(),
        InviteStatus::Used => since("used"),
        InviteStatus::Revoked => since("revoked"),
        InviteStatus::Expired => "expired".to_owned(),
        _ => "?".to_owned(),
    }
}
