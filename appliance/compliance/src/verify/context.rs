//! The packet's context files (`period.json`, `timeline.json`, `auditors.json`) against the
//! index, and the layout: every file the index lists is one a v2 packet has.

use std::collections::BTreeSet;

use ed25519_dalek::VerifyingKey;
use tf_receipts::ApplianceKeyId;

use crate::index::SnapshotSummary;
use crate::layout::{
    AUDITORS_FILE, LOG_CHECKPOINT_FILE, LOG_CONSISTENCY_FILE, LOG_RANGE_FILE, PERIOD_FILE,
    TIMELINE_FILE, budgets_path, charges_path, receipts_path, tile_path,
};
use crate::model::{AuditorReferences, PeriodFile, TimelineFile};
use crate::problem::Problem;
use crate::tiles::packet_tiles;
use crate::verify::packet::Packet;
use crate::verify::{MAX_JSON_BYTES, parse};

/// The files every packet has, whatever its receipts.
const FIXED_FILES: [&str; 6] = [
    PERIOD_FILE,
    TIMELINE_FILE,
    AUDITORS_FILE,
    LOG_CHECKPOINT_FILE,
    LOG_RANGE_FILE,
    LOG_CONSISTENCY_FILE,
];

/// Every file the index lists must be one this layout has, and every fixed file listed.
pub(crate) fn check_layout(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    problems: &mut Vec<Problem>,
) {
    let mut known: BTreeSet<String> = FIXED_FILES.iter().map(|f| (*f).to_owned()).collect();
    for tenant in &summary.tenants {
        known.insert(receipts_path(&tenant.tenant));
        known.insert(charges_path(&tenant.tenant));
        known.insert(budgets_path(&tenant.tenant));
    }
    let log = &summary.log;
    if let Some(range) = log.receipts
        && range.first > 0
        && range.first <= range.last
        && range.last < log.tree_size
    {
        known.extend(
            packet_tiles(range, log.tree_size)
                .into_iter()
                .map(tile_path),
        );
    }
    for file in FIXED_FILES {
        if !packet.is_subject(file) {
            problems.push(Problem::new(
                file,
                "every packet has it, but the index does not list it",
            ));
        }
    }
    let mut unknown: Vec<&str> = packet
        .subject_names()
        .filter(|name| !known.contains(*name))
        .collect();
    unknown.sort_unstable();
    for name in unknown {
        problems.push(Problem::new(
            name,
            "the index lists it, but a compliance snapshot v2 has no such file",
        ));
    }
}

/// `period.json` names the index's snapshot, period and key.
pub(crate) fn check_period(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    key: &VerifyingKey,
    problems: &mut Vec<Problem>,
) {
    let key_id = ApplianceKeyId::of(key);
    if summary.appliance_key_id != key_id.as_str() {
        problems.push(Problem::new(
            crate::layout::INDEX_FILE,
            format!(
                "names appliance key {}, but it verifies with key {key_id}",
                summary.appliance_key_id
            ),
        ));
    }
    let Some(period) = packet
        .read(PERIOD_FILE, MAX_JSON_BYTES, problems)
        .and_then(|bytes| parse::<PeriodFile>(PERIOD_FILE, &bytes, problems))
    else {
        return;
    };
    if period.snapshot != summary.snapshot
        || period.from_unix_us != summary.from_unix_us
        || period.to_unix_us != summary.to_unix_us
        || period.made_at_unix_us != summary.made_at_unix_us
        || period.appliance_key_id != summary.appliance_key_id
    {
        problems.push(Problem::new(
            PERIOD_FILE,
            "its snapshot, period, time made or key differ from the index's",
        ));
    }
}

/// `timeline.json` holds events of the period only, in order, and one before it in force.
pub(crate) fn check_timeline(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    problems: &mut Vec<Problem>,
) {
    let Some(timeline) = packet
        .read(TIMELINE_FILE, MAX_JSON_BYTES, problems)
        .and_then(|bytes| parse::<TimelineFile>(TIMELINE_FILE, &bytes, problems))
    else {
        return;
    };
    let period = summary.from_unix_us..summary.to_unix_us;
    let mut what = Vec::new();
    if timeline.from_unix_us != period.start || timeline.to_unix_us != period.end {
        what.push("its period is not the index's".to_owned());
    }
    if let Some(before) = &timeline.in_force_at_start
        && before.at_unix_us >= period.start
    {
        what.push(format!(
            "event {} in force at the start is not before it",
            before.seq
        ));
    }
    for event in &timeline.events {
        if !period.contains(&event.at_unix_us) {
            what.push(format!("event {} is outside the period", event.seq));
        }
    }
    let seqs: Vec<u64> = timeline
        .in_force_at_start
        .iter()
        .chain(&timeline.events)
        .map(|event| event.seq)
        .collect();
    if seqs.windows(2).any(|pair| pair[0] >= pair[1]) {
        what.push("its events are not in timeline order".to_owned());
    }
    problems.extend(
        what.into_iter()
            .map(|what| Problem::new(TIMELINE_FILE, what)),
    );
}

/// `auditors.json` parses, and its deliveries are about receipts of the packet's range.
pub(crate) fn check_auditors(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    problems: &mut Vec<Problem>,
) {
    let Some(auditors) = packet
        .read(AUDITORS_FILE, MAX_JSON_BYTES, problems)
        .and_then(|bytes| parse::<AuditorReferences>(AUDITORS_FILE, &bytes, problems))
    else {
        return;
    };
    for delivery in &auditors.webhook_deliveries {
        let inside = summary.log.receipts.is_some_and(|range| {
            range.contains(delivery.receipts.first) && range.contains(delivery.receipts.last)
        });
        if !inside {
            problems.push(Problem::new(
                AUDITORS_FILE,
                format!(
                    "endpoint {}'s deliveries are about receipts {}..={}, outside the packet's",
                    delivery.endpoint, delivery.receipts.first, delivery.receipts.last
                ),
            ));
        }
    }
}
