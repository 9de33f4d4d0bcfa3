//! From the appliance's own types (the control plane's answers, the ledger's records, the
//! configuration, the board's pulses) to the admin API contract's bodies. The contract crate
//! knows none of these types; this is the one place that maps them, field by field.

use tf_admin_api::{
    ActiveBundle, BundleHash, BundleProblem, DiffChange, DiffLine, DiffReply, DsseEnvelope,
    ErrorBody, ErrorCode, ReceiptReply, Revision, RevisionRef, ShardStatus, StatusReply,
    SwitchAction, Switched, Tenant, TenantCap, TimelineEntry, ValidateReply,
};
use tf_bundles::{Bundle, Change, Problem};
use tf_config::{CapConfig, TenantConfig};
use tf_control::bundles::InForce;
use tf_ledger::{StoredReceipt, TimelineEvent};
use tf_seam::PulseReading;

/// The status reply: what the control plane has in force and what each shard last reported.
pub fn status(in_force: &InForce, pulses: &[PulseReading]) -> StatusReply {
    let active = &in_force.active;
    StatusReply {
        revision: Revision(active.stamp.revision),
        bundle_hash: BundleHash(hex::encode(active.stamp.hash)),
        bundle: active.bundle.as_deref().map(active_bundle),
        rollback_to: in_force.rollback_to.map(Revision),
        shards: pulses.iter().enumerate().map(shard).collect(),
    }
}

/// The bundle in force, from its manifest and contents.
pub fn active_bundle(bundle: &Bundle) -> ActiveBundle {
    let manifest = &bundle.manifest;
    ActiveBundle {
        author: manifest.author.clone(),
        note: manifest.note.clone(),
        tickets: manifest.tickets.clone(),
        created: manifest.created.clone(),
        republishes: manifest.republishes.map(Revision),
        tenants: bundle
            .content
            .tenants
            .iter()
            .map(|t| t.id.clone().into())
            .collect(),
        policies: bundle
            .policies
            .texts()
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
    }
}

/// Shard `index` as its last pulse reported.
pub fn shard((index, pulse): (usize, &PulseReading)) -> ShardStatus {
    ShardStatus {
        // One shard per CPU: far below u16::MAX.
        shard: u16::try_from(index).unwrap_or(u16::MAX),
        policy_revision: Revision(pulse.policy_revision),
        connections: pulse.connections,
        answered: pulse.answered,
    }
}

/// A configured tenant's terms.
pub fn tenant(config: &TenantConfig) -> Tenant {
    Tenant {
        id: config.id.clone().into(),
        weight: config.weight as u64,
        rate_per_sec: config.rate_per_sec as u64,
        burst: config.burst as u64,
        keys: config.keys.clone(),
        caps: config.caps.iter().map(tenant_cap).collect(),
        max_registered_keys: config.max_registered_keys as u64,
    }
}

/// A configured budget cap.
pub fn tenant_cap(cap: &CapConfig) -> TenantCap {
    TenantCap {
        purpose: cap.purpose.clone(),
        class: cap.class.clone(),
        limit: cap.limit,
        window: cap.window.clone(),
    }
}

/// A timeline record; an action the contract does not know (a ledger written by a newer
/// appliance) is an internal error, not a guess.
pub fn timeline_entry(event: &TimelineEvent) -> Result<TimelineEntry, ErrorBody> {
    Ok(TimelineEntry {
        seq: event.seq,
        at: tf_budgets::format_utc(event.at_us / 1_000_000),
        at_unix_us: event.at_us,
        action: switch_action(&event.action)?,
        actor: event.actor.clone(),
        reason: event.reason.clone(),
        from_revision: Revision(event.from_revision),
        to_revision: Revision(event.to_revision),
        bundle_hash: BundleHash(event.bundle_hash.clone()),
        links: event.links.clone(),
    })
}

/// A completed switch, as the `Bundles` actor reported it.
pub fn switched(switched: &tf_control::Switched) -> Result<Switched, ErrorBody> {
    Ok(Switched {
        action: switch_action(switched.action)?,
        from_revision: Revision(switched.from_revision),
        to_revision: Revision(switched.to_revision),
        bundle_hash: BundleHash(switched.bundle_hash.clone()),
        republishes: switched.republishes.map(Revision),
        prepared_ms: switched.prepared_ms,
        all_shards_ms: switched.all_shards_ms,
        timeline_seq: switched.timeline_seq,
    })
}

/// A bundle that passed validation.
pub fn validated(bundle: &Bundle) -> ValidateReply {
    ValidateReply {
        valid: true,
        revision: Revision(bundle.revision()),
        hash: BundleHash(bundle.hash.clone()),
        author: bundle.manifest.author.clone(),
        note: bundle.manifest.note.clone(),
    }
}

/// What changes from `old` to `new`.
pub fn diff(old: &Bundle, new: &Bundle) -> DiffReply {
    DiffReply {
        old: revision_ref(old),
        new: revision_ref(new),
        changes: tf_bundles::diff(old, new).iter().map(diff_line).collect(),
    }
}

/// A stored bundle's revision and hash.
pub fn revision_ref(bundle: &Bundle) -> RevisionRef {
    RevisionRef {
        revision: Revision(bundle.revision()),
        hash: BundleHash(bundle.hash.clone()),
    }
}

/// One difference between two bundles.
pub fn diff_line(line: &tf_bundles::DiffLine) -> DiffLine {
    DiffLine {
        section: line.section.to_owned(),
        change: match line.change {
            Change::Added => DiffChange::Added,
            Change::Removed => DiffChange::Removed,
            Change::Changed => DiffChange::Changed,
        },
        subject: line.subject.clone(),
        before: line.before.clone(),
        after: line.after.clone(),
    }
}

/// A stored receipt and the tenant it was issued to. The envelope and its payload are shown
/// as stored; either is `None` if it does not parse.
pub fn receipt(tenant: &str, stored: &StoredReceipt) -> ReceiptReply {
    let envelope = serde_json::from_str::<DsseEnvelope>(&stored.envelope_json).ok();
    let payload = tf_receipts::Envelope::from_json(&stored.envelope_json)
        .ok()
        .and_then(|e| serde_json::from_slice::<serde_json::Value>(&e.payload).ok());
    ReceiptReply {
        seq: stored.seq,
        tenant: tenant.into(),
        purpose: stored.purpose.clone(),
        dataset_class: stored.dataset_class.clone(),
        verdict: stored.verdict.clone(),
        charged: stored.charged,
        decided: tf_budgets::format_utc(stored.decided_us / 1_000_000),
        receipt: payload,
        envelope,
    }
}

/// One reason a bundle was refused.
pub fn problem(problem: &Problem) -> BundleProblem {
    BundleProblem {
        code: problem.code().to_owned(),
        message: problem.to_string(),
    }
}

/// A switch's action as the timeline names it.
fn switch_action(name: &str) -> Result<SwitchAction, ErrorBody> {
    SwitchAction::from_name(name).ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::Internal,
            format!("the timeline records an action this appliance does not know: {name:?}"),
        )
    })
}

#[cfg(test)]
mod tests;
