//! Verifying a packet offline with the appliance's public key (and, optionally, the log's
//! key): every problem found is named with its file.

mod budgets;
mod context;
mod log;
mod packet;
mod tenants;

use std::io::Read;
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde::de::DeserializeOwned;
use tf_tlog::{Checkpoint, Hash};

use crate::digest::Sha256Digest;
use crate::index::{SnapshotSummary, open_index};
use crate::layout::{INDEX_FILE, LOG_CONSISTENCY_FILE};
use crate::problem::Problem;

use self::log::PacketTiles;
use self::packet::Packet;

/// The largest index read: its subjects grow by one per 256 receipts (the log's tiles), so
/// this holds packets of about a billion receipts.
pub const MAX_INDEX_BYTES: u64 = 1 << 30;

/// The largest of the packet's JSON files (period, timeline, auditors, budgets, log range
/// and proof) read.
pub(crate) const MAX_JSON_BYTES: u64 = 64 << 20;

/// A log tree's size and root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// Entries in the tree.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
}

/// A packet that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSnapshot {
    /// SHA-256 of its `index.dsse.json` (what the log holds for it, and the next packet names).
    pub index_sha256: Sha256Digest,
    /// The signed summary.
    pub summary: SnapshotSummary,
    /// The log checkpoint it holds, verified with the log key.
    pub checkpoint: Checkpoint,
    /// The previous snapshot's tree head the consistency proof leads from (`None`: the first).
    pub previous: Option<TreeHead>,
}

/// Checks the packet in `dir` offline: the index's signature by `appliance_key`; every file's
/// digest (altered), every listed file present (removed) and every file listed (added); each
/// receipt genuine, of its tenant, decided in the period and the log's entry at its sequence
/// number; the budget statements and charges what the receipts add up to; the checkpoint
/// signed by the log key (the packet's, which must be `log_vkey` if given); and the
/// consistency proof from the previous checkpoint. `Err` lists every problem found.
///
/// Memory stays bounded by the index and one receipt line at a time; time is one signature
/// check per receipt (minutes for millions).
pub fn verify_packet(
    dir: &Path,
    appliance_key: &VerifyingKey,
    log_vkey: Option<&str>,
) -> Result<VerifiedSnapshot, Vec<Problem>> {
    let index_bytes = read_index(dir).map_err(|what| vec![Problem::new(INDEX_FILE, what)])?;
    // Nothing else can be trusted without the index: its problem is the only one.
    let statement = open_index(&index_bytes, appliance_key)
        .map_err(|what| vec![Problem::new(INDEX_FILE, what)])?;
    let summary = &statement.predicate;
    let mut problems = Vec::new();
    let packet = Packet::open(dir, &statement, &mut problems);
    context::check_layout(&packet, summary, &mut problems);
    context::check_period(&packet, summary, appliance_key, &mut problems);
    context::check_timeline(&packet, summary, &mut problems);
    context::check_auditors(&packet, summary, &mut problems);
    let log = log::check_log(&packet, summary, log_vkey, &mut problems);
    let tiles = log.tiles_size.map(|size| PacketTiles::new(&packet, size));
    tenants::check_tenants(
        &packet,
        summary,
        appliance_key,
        tiles.as_ref(),
        &mut problems,
    );
    match log.checkpoint {
        Some(checkpoint) if problems.is_empty() => Ok(VerifiedSnapshot {
            index_sha256: Sha256Digest::of(&index_bytes),
            summary: statement.predicate.clone(),
            checkpoint,
            previous: log.previous,
        }),
        _ => Err(problems),
    }
}

/// Checks that `next` follows `previous`: its consistency proof starts from `previous`'s
/// checkpoint and its index names `previous`'s index. Both must have verified.
pub fn verify_chain(
    previous: &VerifiedSnapshot,
    next: &VerifiedSnapshot,
) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    let sealed = TreeHead {
        size: previous.checkpoint.size,
        root: previous.checkpoint.root,
    };
    if next.previous != Some(sealed) {
        problems.push(Problem::new(
            format!("{}/{LOG_CONSISTENCY_FILE}", next.summary.snapshot),
            format!(
                "does not start from {}'s checkpoint ({} entries)",
                previous.summary.snapshot, sealed.size
            ),
        ));
    }
    if next.summary.previous_index_sha256 != Some(previous.index_sha256) {
        problems.push(Problem::new(
            format!("{}/{INDEX_FILE}", next.summary.snapshot),
            format!(
                "does not name {}'s index ({}) as its previous",
                previous.summary.snapshot, previous.index_sha256
            ),
        ));
    }
    if next.summary.from_unix_us != previous.summary.to_unix_us {
        problems.push(Problem::new(
            format!("{}/{INDEX_FILE}", next.summary.snapshot),
            format!(
                "its period starts at {} µs, not where {}'s ends ({} µs): receipts between \
                 them are in neither packet",
                next.summary.from_unix_us, previous.summary.snapshot, previous.summary.to_unix_us
            ),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn read_index(dir: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(dir.join(INDEX_FILE)).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "missing: not a complete packet".to_owned(),
        _ => format!("cannot be read: {e}"),
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_INDEX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_INDEX_BYTES {
        return Err(format!("larger than {MAX_INDEX_BYTES} bytes"));
    }
    Ok(bytes)
}

/// Parses a JSON file of the packet; a problem with `name` if it does not.
pub(crate) fn parse<T: DeserializeOwned>(
    name: &str,
    bytes: &[u8],
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(Problem::new(name, format!("does not parse: {e}")));
            None
        }
    }
}
