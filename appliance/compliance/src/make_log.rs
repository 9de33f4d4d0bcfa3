//! The packet's log part: the checkpoint, where the receipts are in the log, the consistency
//! proof from the previous snapshot's checkpoint, and the hash tiles that tie the receipts to
//! the checkpoint (see [`crate::tiles`]).

use tf_log::{ConsistencyProofFile, LogDir};
use tf_tlog::Checkpoint;

use crate::error::SnapshotError;
use crate::layout::{LOG_CHECKPOINT_FILE, LOG_CONSISTENCY_FILE, LOG_RANGE_FILE, tile_path};
use crate::model::{LogRange, SeqRange};
use crate::staging::Staging;
use crate::tiles::packet_tiles;

/// The log as it stands when the snapshot starts: its key and latest checkpoint, verified, and
/// the consistency proof from the previous snapshot's checkpoint.
pub(crate) struct LogState {
    pub(crate) vkey: String,
    pub(crate) note: String,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) consistency: Option<ConsistencyProofFile>,
}

/// Reads the log's key and latest checkpoint (read once: the log worker may sign newer ones
/// meanwhile, and the packet is about this one), and proves it extends `previous`.
pub(crate) fn read_log(log: &LogDir, previous: Option<&str>) -> Result<LogState, SnapshotError> {
    let log_dir = log.root().display().to_string();
    let failed = |why: String| SnapshotError::Log {
        log_dir: log_dir.clone(),
        why,
    };
    let no = |missing| SnapshotError::NoLog {
        log_dir: log_dir.clone(),
        missing,
    };
    let vkey = log
        .vkey()
        .map_err(|e| failed(e.to_string()))?
        .ok_or(no("vkey"))?;
    let note = log
        .checkpoint()
        .map_err(|e| failed(e.to_string()))?
        .ok_or(no("checkpoint"))?;
    let checkpoint = tf_log::verified_checkpoint(&note, &vkey)
        .map_err(|e| failed(format!("checkpoint: {e}")))?;
    let consistency = match previous {
        None => None,
        Some(previous) => Some(consistency(log, &vkey, previous, &checkpoint)?),
    };
    Ok(LogState {
        vkey,
        note,
        checkpoint,
        consistency,
    })
}

/// The consistency proof from the previous checkpoint to `checkpoint`, checked before it is
/// written: a log that does not extend what the previous packet sealed is an incident, not a
/// packet.
fn consistency(
    log: &LogDir,
    vkey: &str,
    previous: &str,
    checkpoint: &Checkpoint,
) -> Result<ConsistencyProofFile, SnapshotError> {
    let old = tf_log::verified_checkpoint(previous, vkey)
        .map_err(|e| SnapshotError::PreviousCheckpoint { why: e.to_string() })?;
    let forked = |why: String| SnapshotError::LogForked {
        old_size: old.size,
        new_size: checkpoint.size,
        why,
    };
    let hashes = tf_tlog::consistency_proof(old.size, checkpoint.size, log)
        .map_err(|e| forked(e.to_string()))?;
    tf_tlog::verify_consistency(
        old.size,
        &old.root,
        checkpoint.size,
        &checkpoint.root,
        &hashes,
    )
    .map_err(|e| forked(e.to_string()))?;
    Ok(ConsistencyProofFile::new(
        (old.size, old.root),
        (checkpoint.size, checkpoint.root),
        &hashes,
    ))
}

/// Writes the log part for receipts at `receipts` (`None`: the period has none).
pub(crate) fn write_log(
    staging: &mut Staging,
    log: &LogDir,
    state: &LogState,
    receipts: Option<SeqRange>,
) -> Result<(), SnapshotError> {
    staging.write(LOG_CHECKPOINT_FILE, state.note.as_bytes())?;
    let range = LogRange {
        vkey: state.vkey.clone(),
        origin: state.checkpoint.origin.clone(),
        tree_size: state.checkpoint.size,
        receipts,
    };
    staging.write_json(LOG_RANGE_FILE, &range)?;
    staging.write_json(LOG_CONSISTENCY_FILE, &state.consistency)?;
    let Some(receipts) = receipts else {
        return Ok(());
    };
    for tile in packet_tiles(receipts, state.checkpoint.size) {
        // Cut to the checkpoint's width: the stored tile may be wider by now.
        let bytes = tf_tlog::tile_bytes(tile, log).map_err(|e| SnapshotError::Log {
            log_dir: log.root().display().to_string(),
            why: format!("reading tile {tile}: {e}"),
        })?;
        staging.write(&tile_path(tile), &bytes)?;
    }
    Ok(())
}
