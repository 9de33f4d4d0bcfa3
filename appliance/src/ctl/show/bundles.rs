//! The policy routes for people: status, timeline, diff, validate, and a promotion or
//! rollback done.

use tf_admin_api::{
    ControlEvent, DiffChange, DiffReply, StatusReply, SwitchAction, Switched, TimelineReply,
    ValidateReply,
};

use super::table::{Align, Table, count, short_hash};
use super::time;

/// The bundle in force, what a rollback would republish, and a row per shard.
pub(super) fn status(reply: &StatusReply, now_us: u64) -> Vec<String> {
    let mut lines = Vec::new();
    match &reply.bundle {
        None => lines.push(format!(
            "revision {}: no bundle promoted; the configuration file's tenants are in force",
            reply.revision.0
        )),
        Some(bundle) => {
            let republishes = bundle
                .republishes
                .map(|r| format!(" (a rollback to revision {}'s content)", r.0))
                .unwrap_or_default();
            let built = rfc3339_us(&bundle.created)
                .map(|us| time::when(us, now_us))
                .unwrap_or_else(|| bundle.created.clone());
            let mut fields = vec![
                ("revision", format!("{}{republishes}", reply.revision.0)),
                ("hash", reply.bundle_hash.0.clone()),
                ("author", bundle.author.clone()),
                ("note", bundle.note.clone()),
                ("built", built),
                ("tenants", list(bundle.tenants.iter().map(|t| t.0.as_str()))),
                ("policies", list(bundle.policies.iter().map(String::as_str))),
            ];
            if !bundle.tickets.is_empty() {
                fields.push(("tickets", bundle.tickets.join(", ")));
            }
            lines.extend(fields.into_iter().map(|(k, v)| format!("{k:<12} {v}")));
        }
    }
    lines.push(format!(
        "{:<12} {}",
        "rollback to",
        reply
            .rollback_to
            .map_or("nothing (no earlier revision)".to_owned(), |r| format!(
                "revision {}",
                r.0
            ))
    ));
    lines.push(String::new());
    let mut shards = Table::new(&[
        ("SHARD", Align::Right),
        ("REVISION", Align::Right),
        ("CONNECTIONS", Align::Right),
        ("ANSWERED", Align::Right),
    ]);
    for shard in &reply.shards {
        shards.row(vec![
            shard.shard.to_string(),
            shard.policy_revision.0.to_string(),
            count(shard.connections),
            count(shard.answered),
        ]);
    }
    lines.extend(shards.lines());
    lines
}

/// Every promotion and rollback, and the control plane's latest events among them, oldest
/// first.
pub(super) fn timeline(reply: &TimelineReply, now_us: u64) -> Vec<String> {
    if reply.timeline.is_empty() && reply.events.is_empty() {
        return vec!["no promotion or rollback yet".to_owned()];
    }
    let mut table = Table::new(&[
        ("SEQ", Align::Right),
        ("WHEN", Align::Left),
        ("ACTION", Align::Left),
        ("REVISION", Align::Left),
        ("BY", Align::Left),
        ("WHY", Align::Left),
    ]);
    let when = |at_us: u64| format!("{} ({})", time::utc(at_us), time::relative(at_us, now_us));
    let mut events = reply.events.iter().peekable();
    for entry in &reply.timeline {
        // Events before this switch come first.
        while let Some(event) = events.next_if(|e| e.at_unix_us < entry.at_unix_us) {
            table.row(event_row(event, &when));
        }
        let mut why = entry.reason.clone();
        if !entry.links.is_empty() {
            why.push_str(&format!(" ({})", entry.links.join(", ")));
        }
        if let Some(drift) = &entry.drift {
            why.push_str(&format!(" [{}]", drift.summary()));
        }
        if let Some(canary) = &entry.canary {
            why.push_str(&format!(" [{}]", canary.text()));
        }
        table.row(vec![
            entry.seq.to_string(),
            when(entry.at_unix_us),
            entry.action.to_string(),
            format!("{} -> {}", entry.from_revision.0, entry.to_revision.0),
            entry.actor.clone(),
            why,
        ]);
    }
    for event in events {
        table.row(event_row(event, &when));
    }
    table.lines()
}

/// A control-plane event's row: no timeline number or revision.
fn event_row(event: &ControlEvent, when: &dyn Fn(u64) -> String) -> Vec<String> {
    vec![
        "-".to_owned(),
        when(event.at_unix_us),
        event.kind.clone(),
        "-".to_owned(),
        "control plane".to_owned(),
        event.summary.clone(),
    ]
}

/// What changes from the old revision to the new, one line per difference.
pub(super) fn diff(reply: &DiffReply) -> Vec<String> {
    let mut lines = vec![format!(
        "revision {} ({}) against revision {} ({})",
        reply.new.revision.0,
        short_hash(&reply.new.hash.0),
        reply.old.revision.0,
        short_hash(&reply.old.hash.0)
    )];
    if reply.changes.is_empty() {
        lines.push("no difference in tenants, budgets, policies or keys".to_owned());
    }
    let none = String::new();
    for line in &reply.changes {
        let before = line.before.as_ref().unwrap_or(&none);
        let after = line.after.as_ref().unwrap_or(&none);
        lines.push(match line.change {
            DiffChange::Added => format!("+ {} {}: {after}", line.section, line.subject),
            DiffChange::Removed => format!("- {} {}: {before}", line.section, line.subject),
            _ => format!("~ {} {}: {before} -> {after}", line.section, line.subject),
        });
    }
    lines
}

/// A bundle a promotion would accept.
pub(super) fn validate(reply: &ValidateReply) -> Vec<String> {
    vec![format!(
        "valid: revision {} ({}) by {}: {}",
        reply.revision.0,
        short_hash(&reply.hash.0),
        reply.author,
        reply.note
    )]
}

/// A promotion, rollback or terms grant done, and how long the shards took.
pub(super) fn switched(reply: &Switched) -> Vec<String> {
    let what = match reply.action {
        SwitchAction::Rollback => format!(
            "rolled back: revision {} -> {}{}",
            reply.from_revision.0,
            reply.to_revision.0,
            reply
                .republishes
                .map(|r| format!(", republishing revision {}", r.0))
                .unwrap_or_default()
        ),
        SwitchAction::Onboard => format!(
            "onboarded: revision {} -> {}",
            reply.from_revision.0, reply.to_revision.0
        ),
        SwitchAction::Terms => format!(
            "terms granted: revision {} -> {}",
            reply.from_revision.0, reply.to_revision.0
        ),
        _ => format!(
            "promoted: revision {} -> {}",
            reply.from_revision.0, reply.to_revision.0
        ),
    };
    let shards = match reply.all_shards_ms {
        Some(ms) => format!("every shard switched in {ms:.1} ms"),
        None => {
            "not every shard reported the new revision within 5 s (see `ctl status`)".to_owned()
        }
    };
    let mut lines = vec![
        format!("{what} (hash {})", short_hash(&reply.bundle_hash.0)),
        format!(
            "prepared in {:.1} ms, {shards}; timeline entry {}",
            reply.prepared_ms, reply.timeline_seq
        ),
    ];
    if let Some(fleet) = &reply.fleet {
        let behind = fleet
            .behind
            .iter()
            .map(|n| format!("{} (at revision {})", n.node, n.revision.0));
        lines.push(format!(
            "fleet: switched {}; behind {}; down {} (they switch when they can)",
            list(fleet.switched.iter().map(String::as_str)),
            list(behind.collect::<Vec<_>>().iter().map(String::as_str)),
            list(fleet.down.iter().map(String::as_str)),
        ));
    }
    lines
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = items.collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}

/// An RFC 3339 time as Unix microseconds.
fn rfc3339_us(text: &str) -> Option<u64> {
    let at: jiff::Timestamp = text.parse().ok()?;
    u64::try_from(at.as_microsecond()).ok()
}
