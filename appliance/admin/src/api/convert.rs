//! From the appliance's own types (the control plane's answers, the ledger's records, the
//! configuration, the board's pulses) to the admin API contract's bodies. The contract crate
//! knows none of these types; this is the one place that maps them, field by field.

use std::path::Path;

use tf_admin_api::{
    ActiveBundle, BundleHash, BundleProblem, ComplianceWorker, DiffChange, DiffLine, DiffReply,
    DsseEnvelope, ErrorBody, ErrorCode, IndexSha256, PacketSummary, ReceiptReply, Revision,
    RevisionRef, ShardStatus, SnapshotEntry, SnapshotName, SnapshotStatus, SnapshotTenant,
    SnapshotsReply, StatusReply, SwitchAction, Switched, Tenant, TenantCap, TimelineEntry,
    ValidateReply,
};
use tf_bundles::{Bundle, Change, Problem};
use tf_compliance::{PacketInfo, SnapshotSummary};
use tf_config::{CapConfig, TenantConfig};
use tf_control::bundles::InForce;
use tf_control::compliance::ComplianceStatus;
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
        drift: event.drift.as_ref().map(timeline_drift),
        canary: event
            .canary
            .as_ref()
            .map(|judged| tf_admin_api::TimelineCanary {
                overall: judged.overall.clone(),
                summary: judged.summary.clone(),
                judged: tf_budgets::format_utc(judged.judged_us / 1_000_000),
            }),
    })
}

/// A control-plane event as the timeline shows it.
pub fn control_event(event: tf_control::events::Event) -> tf_admin_api::ControlEvent {
    tf_admin_api::ControlEvent {
        seq: event.seq,
        at: tf_budgets::format_utc(event.at_us / 1_000_000),
        at_unix_us: event.at_us,
        kind: event.kind,
        summary: event.summary,
    }
}

/// What the drift guard said of a promoted bundle.
fn timeline_drift(note: &tf_ledger::DriftNote) -> tf_admin_api::TimelineDrift {
    let utc = |us: u64| tf_budgets::format_utc(us / 1_000_000);
    tf_admin_api::TimelineDrift {
        checked: note
            .checked
            .as_ref()
            .map(|checked| tf_admin_api::DriftCheck {
                judgement: checked.judgement.clone(),
                upper_bound_percent: checked.upper_bound * 100.0,
                tolerance_percent: checked.tolerance * 100.0,
                decisions: checked.decisions,
                against_revision: Revision(checked.against_revision),
                from: utc(checked.from_us),
                to: utc(checked.to_us),
            }),
        overridden_by: note.overridden.as_ref().map(|o| o.by.clone()),
        override_reason: note.overridden.as_ref().map(|o| o.reason.clone()),
    }
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
        fleet: None,
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
        request_id: stored.request_id,
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

/// The snapshot listing: where the worker stands, and each packet with its status. `dir` is
/// the packets folder.
pub fn snapshots(status: &ComplianceStatus, dir: &Path) -> SnapshotsReply {
    let oldest_seq = status.oldest_retained.map(|(seq, _)| seq);
    SnapshotsReply {
        worker: ComplianceWorker {
            dir: dir.display().to_string(),
            next_scheduled_unix_us: status.next_scheduled_us,
            next_scheduled: status.next_scheduled_us.map(utc),
            asked_to_unix_us: status.asked_to_us,
            asked_to: status.asked_to_us.map(utc),
            waiting: status.waiting.clone(),
            last_error: status.last_error.clone(),
            pruning_stopped: status.pruning_stopped.clone(),
            oldest_retained_seq: oldest_seq,
        },
        snapshots: status
            .packets
            .iter()
            .map(|packet| snapshot(packet, oldest_seq))
            .collect(),
    }
}

/// One packet, its status judged against the oldest receipt the ledger still holds.
pub fn snapshot(packet: &PacketInfo, oldest_seq: Option<u64>) -> SnapshotEntry {
    let (status, damaged, summary) = match &packet.summary {
        Err(why) => (SnapshotStatus::Damaged, Some(why.clone()), None),
        Ok(summary) => (
            snapshot_status(packet, summary, oldest_seq),
            None,
            Some(packet_summary(summary)),
        ),
    };
    SnapshotEntry {
        name: SnapshotName(packet.name.clone()),
        status,
        damaged,
        summary,
        index_sha256: IndexSha256(packet.index_sha256.to_hex()),
        bytes: packet.bytes,
        anchor_seq: packet.anchor.as_ref().map(|a| a.seq),
        path: packet.path.display().to_string(),
    }
}

/// Not anchored yet; else whether the ledger still holds the packet's receipts: its newest
/// receipt is at or after the oldest the ledger holds (the rule by which the worker keeps a
/// packet whatever `[compliance] keep` says). A packet without receipts has nothing pruned.
fn snapshot_status(
    packet: &PacketInfo,
    summary: &SnapshotSummary,
    oldest_seq: Option<u64>,
) -> SnapshotStatus {
    if packet.anchor.is_none() {
        return SnapshotStatus::NotAnchored;
    }
    match (summary.log.receipts, oldest_seq) {
        (None, _) => SnapshotStatus::ReceiptsHeld,
        (Some(range), Some(oldest)) if range.last >= oldest => SnapshotStatus::ReceiptsHeld,
        (Some(_), _) => SnapshotStatus::ReceiptsPruned,
    }
}

/// What a packet's signed index says.
fn packet_summary(summary: &SnapshotSummary) -> PacketSummary {
    PacketSummary {
        from_unix_us: summary.from_unix_us,
        from: utc(summary.from_unix_us),
        to_unix_us: summary.to_unix_us,
        to: utc(summary.to_unix_us),
        made_at_unix_us: summary.made_at_unix_us,
        made_at: utc(summary.made_at_unix_us),
        receipts: summary.receipts,
        charged: summary.charged,
        tenants: summary
            .tenants
            .iter()
            .map(|t| SnapshotTenant {
                tenant: t.tenant.as_str().into(),
                receipts: t.receipts,
                charged: t.charged,
            })
            .collect(),
        tree_size: summary.log.tree_size,
        first_seq: summary.log.receipts.map(|r| r.first),
        last_seq: summary.log.receipts.map(|r| r.last),
    }
}

/// Unix microseconds as RFC 3339 UTC to the second.
fn utc(unix_us: u64) -> String {
    tf_budgets::format_utc(unix_us / 1_000_000)
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

pub(super) mod webhooks;

#[cfg(test)]
mod tests;
