//! The packet's log part: the checkpoint verifies with the log key, the consistency proof
//! leads from the previous checkpoint to it, and the hash tiles are the log's (each full
//! tile's root is in the tile above, and the tree's root from them is the checkpoint's), so
//! the receipts' leaf hashes can be looked up in them.

use std::cell::RefCell;
use std::collections::HashMap;

use tf_log::ConsistencyProofFile;
use tf_tlog::{
    Checkpoint, HASH_SIZE, Hash, MAX_NOTE_SIZE, StoreError, TILE_WIDTH, TileId, TileLevel,
    TileStore,
};

use crate::index::SnapshotSummary;
use crate::layout::{LOG_CHECKPOINT_FILE, LOG_CONSISTENCY_FILE, LOG_RANGE_FILE, tile_path};
use crate::model::{LogRange, SeqRange};
use crate::problem::Problem;
use crate::tiles::{full_tile_root, hash_at, packet_tiles};
use crate::verify::packet::Packet;
use crate::verify::{MAX_JSON_BYTES, TreeHead, parse};

/// What the log part showed.
pub(crate) struct LogCheck {
    /// The checkpoint, once its signature verified.
    pub(crate) checkpoint: Option<Checkpoint>,
    /// The previous checkpoint the consistency proof starts from, once it verified.
    pub(crate) previous: Option<TreeHead>,
    /// The tree size whose tiles are shown to be the log's; `None` if they are not (a problem
    /// says why), or there are no receipts.
    pub(crate) tiles_size: Option<u64>,
}

/// Checks the log part against the predicate, with the log key given (if any).
pub(crate) fn check_log(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    log_vkey: Option<&str>,
    problems: &mut Vec<Problem>,
) -> LogCheck {
    let mut check = LogCheck {
        checkpoint: None,
        previous: None,
        tiles_size: None,
    };
    let Some(range) = packet
        .read(LOG_RANGE_FILE, MAX_JSON_BYTES, problems)
        .and_then(|bytes| parse::<LogRange>(LOG_RANGE_FILE, &bytes, problems))
    else {
        return check;
    };
    let vkey = match log_vkey {
        Some(given) if given.trim() != range.vkey.trim() => {
            problems.push(Problem::new(
                LOG_RANGE_FILE,
                format!(
                    "names the log key {:?}, not the one given ({:?}): another log's evidence",
                    range.vkey, given
                ),
            ));
            given
        }
        Some(given) => given,
        None => range.vkey.as_str(),
    };
    if range.tree_size != summary.log.tree_size || range.receipts != summary.log.receipts {
        problems.push(Problem::new(
            LOG_RANGE_FILE,
            "its tree size or receipt range differs from the index's",
        ));
    }
    let Some(note) = packet.read(LOG_CHECKPOINT_FILE, MAX_NOTE_SIZE as u64, problems) else {
        return check;
    };
    let checkpoint = match std::str::from_utf8(&note)
        .map_err(|_| "not UTF-8 text".to_owned())
        .and_then(|note| tf_log::verified_checkpoint(note, vkey).map_err(|e| e.to_string()))
    {
        Ok(checkpoint) => checkpoint,
        Err(what) => {
            problems.push(Problem::new(LOG_CHECKPOINT_FILE, what));
            return check;
        }
    };
    if checkpoint.size != range.tree_size || checkpoint.origin != range.origin {
        problems.push(Problem::new(
            LOG_CHECKPOINT_FILE,
            format!(
                "is of {} entries of log {:?}; log/range.json says {} of {:?}",
                checkpoint.size, checkpoint.origin, range.tree_size, range.origin
            ),
        ));
    }
    check.previous = check_consistency(packet, summary, &checkpoint, problems);
    check.tiles_size = match range.receipts {
        Some(receipts) => check_tiles(packet, receipts, &checkpoint, problems),
        None => None,
    };
    check.checkpoint = Some(checkpoint);
    check
}

/// The consistency proof from the previous snapshot's checkpoint, if the index says there is
/// one; the previous tree head once it verifies.
fn check_consistency(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    checkpoint: &Checkpoint,
    problems: &mut Vec<Problem>,
) -> Option<TreeHead> {
    let bytes = packet.read(LOG_CONSISTENCY_FILE, MAX_JSON_BYTES, problems)?;
    let proof = parse::<Option<ConsistencyProofFile>>(LOG_CONSISTENCY_FILE, &bytes, problems)?;
    let problem = |what: String| Problem::new(LOG_CONSISTENCY_FILE, what);
    let proof = match (proof, summary.log.previous_tree_size) {
        (None, None) => return None,
        (Some(proof), Some(size)) if proof.old_size == size => proof,
        _ => {
            problems.push(problem(
                "the index and this file disagree on the previous checkpoint".to_owned(),
            ));
            return None;
        }
    };
    let decoded = Hash::from_base64(&proof.old_root)
        .and_then(|old_root| Ok((old_root, Hash::from_base64(&proof.new_root)?)))
        .and_then(|roots| {
            let hashes: Result<Vec<Hash>, _> =
                proof.hashes.iter().map(|h| Hash::from_base64(h)).collect();
            Ok((roots, hashes?))
        });
    let ((old_root, new_root), hashes) = match decoded {
        Ok(decoded) => decoded,
        Err(e) => {
            problems.push(problem(format!("a hash is malformed: {e}")));
            return None;
        }
    };
    if proof.new_size != checkpoint.size || new_root != checkpoint.root {
        problems.push(problem(format!(
            "leads to a tree of {} entries, not the checkpoint's ({})",
            proof.new_size, checkpoint.size
        )));
        return None;
    }
    match tf_tlog::verify_consistency(
        proof.old_size,
        &old_root,
        proof.new_size,
        &checkpoint.root,
        &hashes,
    ) {
        Ok(()) => Some(TreeHead {
            size: proof.old_size,
            root: old_root,
        }),
        Err(e) => {
            problems.push(problem(format!(
                "does not prove that the checkpoint extends the previous one of {} entries \
                 (root {}): {e}; the log was rewritten or forked",
                proof.old_size,
                old_root.to_base64()
            )));
            None
        }
    }
}

/// Shows the packet's tiles are the log's under `checkpoint`: each full tile's root is in the
/// tile above, and the root of the tree from them is the checkpoint's. The tree size on
/// success.
fn check_tiles(
    packet: &Packet<'_>,
    receipts: SeqRange,
    checkpoint: &Checkpoint,
    problems: &mut Vec<Problem>,
) -> Option<u64> {
    let size = checkpoint.size;
    if receipts.first == 0 || receipts.first > receipts.last || receipts.last >= size {
        problems.push(Problem::new(
            LOG_RANGE_FILE,
            format!(
                "receipts {}..={} are not entries of a tree of {size} (entry 0 is the genesis)",
                receipts.first, receipts.last
            ),
        ));
        return None;
    }
    let before = problems.len();
    let tiles = PacketTiles::new(packet, size);
    for tile in packet_tiles(receipts, size) {
        let name = tile_path(tile);
        if !packet.is_subject(&name) {
            problems.push(Problem::new(
                &name,
                "needed to show the receipts are in the log, but not listed in the index",
            ));
            continue;
        }
        let Some(bytes) = packet.read(&name, u64::from(TILE_WIDTH) * HASH_SIZE as u64, problems)
        else {
            continue;
        };
        if bytes.len() != usize::from(tile.width) * HASH_SIZE {
            problems.push(Problem::new(
                &name,
                format!("holds {} bytes, not {} hashes", bytes.len(), tile.width),
            ));
            continue;
        }
        if tile.width == TILE_WIDTH {
            check_parent(&tiles, tile, &bytes, problems);
        }
    }
    if problems.len() > before {
        return None;
    }
    match tf_tlog::tree_root(size, &tiles) {
        Ok(root) if root == checkpoint.root => Some(size),
        Ok(_) => {
            problems.push(Problem::new(
                LOG_CHECKPOINT_FILE,
                "the root of the tree from the packet's tiles is not the checkpoint's: the \
                 tiles are not this log's",
            ));
            None
        }
        Err(e) => {
            problems.push(Problem::new(
                LOG_CHECKPOINT_FILE,
                format!("the tree's root: {e}"),
            ));
            None
        }
    }
}

/// A full tile's root must be the hash its position names in the tile one level up.
fn check_parent(
    tiles: &PacketTiles<'_, '_>,
    tile: TileId,
    bytes: &[u8],
    problems: &mut Vec<Problem>,
) {
    let TileLevel::Hashes(level) = tile.level else {
        return;
    };
    let parent_path = tile_path(TileId::full(TileLevel::Hashes(level + 1), tile.index >> 8));
    let above = tiles.cached(level + 1, tile.index >> 8, |parent| {
        hash_at(parent, (tile.index & 0xff) as usize)
    });
    match above {
        // The parent's own problem (missing, altered) is reported where it is checked.
        Err(_) => {}
        Ok(above) if above.is_some() && above == full_tile_root(bytes) => {}
        Ok(_) => problems.push(Problem::new(
            tile_path(tile),
            format!("its hashes do not hash to the one {parent_path} holds for it"),
        )),
    }
}

/// The packet's tiles as a [`TileStore`] for a tree of `size`: each read at the width that
/// tree gives its position, its digest checked on every read. The last tile read at each level
/// is kept (reads go in index order).
pub(crate) struct PacketTiles<'p, 'a> {
    packet: &'p Packet<'a>,
    size: u64,
    kept: RefCell<HashMap<u8, Kept>>,
}

/// The last tile read at a level: its bytes, or why it could not be read.
struct Kept {
    index: u64,
    tile: Result<Vec<u8>, String>,
}

impl<'p, 'a> PacketTiles<'p, 'a> {
    pub(crate) fn new(packet: &'p Packet<'a>, size: u64) -> Self {
        PacketTiles {
            packet,
            size,
            kept: RefCell::new(HashMap::new()),
        }
    }

    /// `look` at the tile at (`level`, `index`), read once while later reads stay on it.
    pub(crate) fn cached<T>(
        &self,
        level: u8,
        index: u64,
        look: impl FnOnce(&[u8]) -> T,
    ) -> Result<T, String> {
        let mut kept = self.kept.borrow_mut();
        let kept = kept.entry(level).or_insert_with(|| Kept {
            index,
            tile: self.fetch(level, index),
        });
        if kept.index != index {
            *kept = Kept {
                index,
                tile: self.fetch(level, index),
            };
        }
        match &kept.tile {
            Ok(bytes) => Ok(look(bytes)),
            Err(why) => Err(why.clone()),
        }
    }

    fn fetch(&self, level: u8, index: u64) -> Result<Vec<u8>, String> {
        let nodes = self.size.checked_shr(8 * u32::from(level)).unwrap_or(0);
        let width = nodes
            .saturating_sub(index.saturating_mul(u64::from(TILE_WIDTH)))
            .min(u64::from(TILE_WIDTH));
        let tile = TileId::new(TileLevel::Hashes(level), index, width as u16)
            .map_err(|e| format!("tile {level}/{index} of a tree of {}: {e}", self.size))?;
        let bytes = self
            .packet
            .read_checked(&tile_path(tile), u64::from(TILE_WIDTH) * HASH_SIZE as u64)?;
        if bytes.len() != usize::from(tile.width) * HASH_SIZE {
            return Err(format!("{} is not {} hashes", tile_path(tile), tile.width));
        }
        Ok(bytes)
    }
}

impl TileStore for PacketTiles<'_, '_> {
    fn read_tile(&self, level: TileLevel, index: u64) -> Result<Vec<u8>, StoreError> {
        let TileLevel::Hashes(level) = level else {
            return Err(StoreError::Missing {
                path: TileId::full(level, index).path(),
            });
        };
        self.cached(level, index, <[u8]>::to_vec)
            .map_err(|message| StoreError::Io {
                path: tile_path(TileId::full(TileLevel::Hashes(level), index)),
                message,
            })
    }
}
