//! Making a snapshot: the period's receipts, budgets, policy timeline and log evidence written
//! under a temporary name, indexed, signed, and renamed into place.

use std::fs;
use std::path::{Path, PathBuf};

use tf_ledger::Ledger;
use tf_log::LogDir;
use tf_receipts::ReceiptSigner;

use crate::digest::Sha256Digest;
use crate::error::{SnapshotError, io};
use crate::index::{LogSummary, SnapshotSummary, Statement};
use crate::layout::{
    AUDITORS_FILE, INDEX_FILE, LOG_CHECKPOINT_FILE, PERIOD_FILE, TIMELINE_FILE, snapshot_name,
};
use crate::make_log::{read_log, write_log};
use crate::make_tenants::write_tenants;
use crate::model::{Period, PeriodFile, PolicyEvent, SnapshotContext, TimelineFile};
use crate::staging::Staging;

/// What the previous snapshot sealed, so this one proves the log extends it and names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousSnapshot {
    /// Its checkpoint (the signed note in its `log/checkpoint`).
    pub checkpoint: String,
    /// SHA-256 of its `index.dsse.json`, if known.
    pub index_sha256: Option<Sha256Digest>,
}

impl PreviousSnapshot {
    /// Reads what a later snapshot needs from the packet at `dir` (it is not verified here:
    /// [`crate::verify_packet`] does that).
    pub fn from_packet(dir: &Path) -> Result<Self, SnapshotError> {
        let checkpoint_path = dir.join(LOG_CHECKPOINT_FILE);
        let checkpoint = fs::read_to_string(&checkpoint_path).map_err(io(&checkpoint_path))?;
        let index_path = dir.join(INDEX_FILE);
        let index = fs::read(&index_path).map_err(io(&index_path))?;
        Ok(PreviousSnapshot {
            checkpoint,
            index_sha256: Some(Sha256Digest::of(&index)),
        })
    }
}

/// Everything a snapshot is made from.
pub struct SnapshotRequest<'a> {
    /// The ledger (a read-only connection is enough).
    pub ledger: &'a dyn Ledger,
    /// The transparency log's directory.
    pub log: &'a LogDir,
    /// The appliance key, which signs the index.
    pub signer: &'a mut ReceiptSigner,
    /// The folder packets are kept in; the packet is made in it under its name.
    pub packets_dir: &'a Path,
    /// The period to seal.
    pub period: Period,
    /// Now, Unix microseconds: the period must have ended.
    pub now_us: u64,
    /// What the caller knows of the appliance, recorded in `period.json`.
    pub context: SnapshotContext,
    /// The previous snapshot, `None` for the first.
    pub previous: Option<PreviousSnapshot>,
}

/// A packet made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Its name (`snapshot-20261202T000000Z`).
    pub name: String,
    /// Its folder.
    pub path: PathBuf,
    /// SHA-256 of its `index.dsse.json`: what the caller appends to the transparency log, and
    /// what the next snapshot names as its previous.
    pub index_sha256: Sha256Digest,
    /// The signed predicate, as in the index.
    pub summary: SnapshotSummary,
    /// The log checkpoint it holds (the next snapshot's consistency proof starts from it).
    pub checkpoint: String,
}

impl Snapshot {
    /// What the next snapshot needs of this one.
    pub fn as_previous(&self) -> PreviousSnapshot {
        PreviousSnapshot {
            checkpoint: self.checkpoint.clone(),
            index_sha256: Some(self.index_sha256),
        }
    }
}

/// Makes the packet of `request.period` in `request.packets_dir`, streaming the receipts from
/// the ledger one at a time (memory does not grow with the period). Run it once the period has
/// ended and the log has checkpointed past its last receipt (a checkpoint interval later); if
/// the log has not yet, it fails with [`SnapshotError::NotYetLogged`] and leaves nothing.
pub fn make_snapshot(request: SnapshotRequest<'_>) -> Result<Snapshot, SnapshotError> {
    let SnapshotRequest {
        ledger,
        log,
        signer,
        packets_dir,
        period,
        now_us,
        context,
        previous,
    } = request;
    if now_us < period.to_us() {
        return Err(SnapshotError::PeriodNotOver {
            to_us: period.to_us(),
            now_us,
        });
    }
    refuse_pruned(ledger, period)?;
    let name = snapshot_name(period.to_us());
    let mut staging = Staging::begin(packets_dir, &name)?;
    let log_state = read_log(log, previous.as_ref().map(|p| p.checkpoint.as_str()))?;
    let tenants = write_tenants(&mut staging, ledger, period, log_state.checkpoint.size)?;
    write_log(&mut staging, log, &log_state, tenants.receipts)?;
    let key_id = signer.key_id().to_string();
    staging.write_json(
        PERIOD_FILE,
        &PeriodFile {
            snapshot: name.clone(),
            from_unix_us: period.from_us(),
            to_unix_us: period.to_us(),
            from_utc: tf_budgets::format_utc(period.from_us() / 1_000_000),
            to_utc: tf_budgets::format_utc(period.to_us() / 1_000_000),
            made_at_unix_us: now_us,
            appliance_key_id: key_id.clone(),
            context,
        },
    )?;
    staging.write_json(TIMELINE_FILE, &timeline(ledger, period)?)?;
    staging.write_json(
        AUDITORS_FILE,
        &crate::auditors::auditor_references(ledger, tenants.receipts)?,
    )?;

    let summary = SnapshotSummary {
        snapshot: name.clone(),
        from_unix_us: period.from_us(),
        to_unix_us: period.to_us(),
        made_at_unix_us: now_us,
        appliance_key_id: key_id,
        receipts: tenants.tenants.iter().map(|t| t.receipts).sum(),
        charged: tenants.tenants.iter().map(|t| t.charged).sum(),
        tenants: tenants.tenants,
        log: LogSummary {
            tree_size: log_state.checkpoint.size,
            receipts: tenants.receipts,
            previous_tree_size: log_state.consistency.as_ref().map(|c| c.old_size),
        },
        previous_index_sha256: previous.and_then(|p| p.index_sha256),
    };
    let statement = Statement::new(staging.take_subjects(), summary);
    let index = statement.sign(signer);
    let path = staging.commit(&index)?;
    Ok(Snapshot {
        name,
        path,
        index_sha256: Sha256Digest::of(&index),
        summary: statement.predicate,
        checkpoint: log_state.note,
    })
}

/// Refuses a period some of whose receipts were pruned: the ledger no longer holds them, and
/// the packet that sealed them does.
fn refuse_pruned(ledger: &dyn Ledger, period: Period) -> Result<(), SnapshotError> {
    let pruned = ledger.pruned_ranges()?.into_iter().find(|range| {
        range.decided_from_us < period.to_us() && range.decided_to_us >= period.from_us()
    });
    match pruned {
        Some(range) => Err(SnapshotError::Pruned {
            from_seq: range.from_seq,
            to_seq: range.to_seq,
            sealed_by: range.sealed_by,
        }),
        None => Ok(()),
    }
}

/// The period's promotions and rollbacks, and the one in force at its start.
fn timeline(ledger: &dyn Ledger, period: Period) -> Result<TimelineFile, SnapshotError> {
    let events = ledger.timeline()?;
    let in_force_at_start = events
        .iter()
        .rfind(|event| event.at_us < period.from_us())
        .map(PolicyEvent::from);
    let events = events
        .iter()
        .filter(|event| (period.from_us()..period.to_us()).contains(&event.at_us))
        .map(PolicyEvent::from)
        .collect();
    Ok(TimelineFile {
        from_unix_us: period.from_us(),
        to_unix_us: period.to_us(),
        in_force_at_start,
        events,
    })
}
