//! Which of the log's hash tiles a packet carries, and how they are tied to the checkpoint.
//!
//! For receipts at log indices `first..=last` under a checkpoint of `size` entries, a packet
//! carries, at every tile level L that the tree reaches:
//!
//! - the tiles holding the ancestors of the range at tree level 8·L (at level 0: the range's
//!   leaf hashes themselves), and
//! - the tree's rightmost tile of level L when it is partial.
//!
//! Every full tile's root (its 256 hashes hashed up 8 levels) is a hash in the tile one level
//! up, which the packet carries too (it holds the ancestors); the partial rightmost tiles are
//! what the root of the tree of `size` is computed from, every hash of theirs included. So
//! when the root recomputed from the packet's tiles equals the signed checkpoint's, every hash
//! the packet's tiles hold is the log's, and a receipt whose leaf hash is at its index in a
//! level-0 tile is in the log. That costs 32 bytes per index of the range, plus 1/256 of that
//! per level above and at most one partial tile per level; and because the carried tiles are
//! the ancestors' and the right edge's, they are also all a standard tile client needs to
//! build an inclusion proof for any index of the range.

use tf_tlog::{HASH_SIZE, Hash, TILE_HEIGHT, TILE_WIDTH, TileId, TileLevel, node_hash};

use crate::model::SeqRange;

/// The tiles a packet carries for receipts at `range` under a tree of `size` entries
/// (`range.last < size`), level by level, in index order within a level.
pub(crate) fn packet_tiles(range: SeqRange, size: u64) -> Vec<TileId> {
    let mut tiles = Vec::new();
    for level in 0..8u8 {
        let shift = u32::from(TILE_HEIGHT) * u32::from(level);
        // Nodes at tree level 8·level: the hashes tiles of this level hold.
        let nodes = size.checked_shr(shift).unwrap_or(0);
        if nodes == 0 {
            break;
        }
        // The range's ancestors at this tree level, as far as they are complete nodes; those
        // past the last complete one are covered by the right edge's partial tiles below.
        let first = range.first.checked_shr(shift).unwrap_or(0);
        let last = range.last.checked_shr(shift).unwrap_or(0).min(nodes - 1);
        let mut last_tile = None;
        if first <= last {
            for index in first >> TILE_HEIGHT..=last >> TILE_HEIGHT {
                tiles.push(tile(level, index, nodes));
            }
            last_tile = Some(last >> TILE_HEIGHT);
        }
        let rightmost = nodes >> TILE_HEIGHT;
        if nodes & 0xff != 0 && last_tile != Some(rightmost) {
            tiles.push(tile(level, rightmost, nodes));
        }
    }
    tiles
}

/// The width tile `index` of `level` has in a tree whose level holds `nodes` hashes.
fn tile(level: u8, index: u64, nodes: u64) -> TileId {
    let width = nodes
        .saturating_sub(index * u64::from(TILE_WIDTH))
        .min(u64::from(TILE_WIDTH)) as u16;
    TileId {
        level: TileLevel::Hashes(level),
        index,
        width,
    }
}

/// The root of a full tile: its 256 hashes hashed up 8 levels, which is the hash at position
/// `index % 256` of the tile one level up.
pub(crate) fn full_tile_root(hashes: &[u8]) -> Option<Hash> {
    if hashes.len() != usize::from(TILE_WIDTH) * HASH_SIZE {
        return None;
    }
    let mut level: Vec<Hash> = hashes
        .chunks_exact(HASH_SIZE)
        .map(|chunk| Hash::from_slice(chunk).expect("chunks_exact yields 32-byte chunks"))
        .collect();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(pair[0], pair[1]))
            .collect();
    }
    level.first().copied()
}

/// The hash at `position` of a tile's bytes.
pub(crate) fn hash_at(tile: &[u8], position: usize) -> Option<Hash> {
    let bytes = tile.get(position * HASH_SIZE..(position + 1) * HASH_SIZE)?;
    Hash::from_slice(bytes).ok()
}

#[cfg(test)]
mod tests {
    use tf_tlog::{MemoryStore, TileStore, Tree, tile_bytes, tree_root};

    use super::*;

    fn log(size: u64) -> MemoryStore {
        let mut tree = Tree::empty();
        for i in 0..size {
            tree.append(&i.to_be_bytes());
        }
        let mut store = MemoryStore::new();
        store.write_all(tree.take_tiles());
        store
    }

    /// A store holding only the packet's tiles, at the widths it carries them.
    fn packet_store(range: SeqRange, size: u64, log: &MemoryStore) -> MemoryStore {
        let mut packet = MemoryStore::new();
        for tile in packet_tiles(range, size) {
            packet.write(tile, tile_bytes(tile, log).expect("the log holds it"));
        }
        packet
    }

    #[test]
    fn the_tiles_of_a_range_are_its_ancestors_and_the_right_edge() {
        let range = SeqRange {
            first: 70_000,
            last: 70_600,
        };
        let size = 140_001;
        let tiles = packet_tiles(range, size);
        let paths: Vec<String> = tiles.iter().map(|t| t.path()).collect();
        assert_eq!(
            paths,
            [
                "tile/0/273",
                "tile/0/274",
                "tile/0/275",
                // The level-0 right edge: 140,001 = 546 full tiles and 225 hashes.
                "tile/0/546.p/225",
                // Level 1 holds 546 hashes: the range's ancestors are in its tile 1.
                "tile/1/001",
                "tile/1/002.p/34",
                // Level 2 holds 2 hashes.
                "tile/2/000.p/2",
            ]
        );
    }

    #[test]
    fn the_root_of_the_tree_comes_from_the_packets_tiles_alone_and_full_tiles_chain_up() {
        for (first, last, size) in [
            (1, 1, 2),
            (1, 300, 301),
            (250, 700, 66_000),
            (65_530, 65_540, 65_541),
            (5, 9, 65_536),
            (65_536, 65_536, 65_537),
            (65_000, 65_600, 70_000),
        ] {
            let log = log(size);
            let range = SeqRange { first, last };
            let packet = packet_store(range, size, &log);
            assert_eq!(
                tree_root(size, &packet),
                tree_root(size, &log),
                "range {first}..={last} of {size}"
            );
            for tile in packet_tiles(range, size) {
                if tile.width < TILE_WIDTH {
                    continue;
                }
                let TileLevel::Hashes(level) = tile.level else {
                    unreachable!("a packet carries hash tiles only");
                };
                let bytes = packet.read_tile(tile.level, tile.index).expect("carried");
                let parent = packet
                    .read_tile(TileLevel::Hashes(level + 1), tile.index >> 8)
                    .expect("a full tile's parent is carried");
                assert_eq!(
                    full_tile_root(&bytes),
                    hash_at(&parent, (tile.index & 0xff) as usize),
                    "{tile}"
                );
            }
        }
    }

    #[test]
    fn leaf_hashes_of_the_range_are_in_the_level_0_tiles() {
        let size = 1_000;
        let log = log(size);
        let packet = packet_store(
            SeqRange {
                first: 10,
                last: 600,
            },
            size,
            &log,
        );
        for seq in [10u64, 255, 256, 600] {
            let tile = packet
                .read_tile(TileLevel::Hashes(0), seq >> 8)
                .expect("carried");
            assert_eq!(
                hash_at(&tile, (seq & 0xff) as usize),
                Some(tf_tlog::leaf_hash(&seq.to_be_bytes()))
            );
        }
        assert!(full_tile_root(&[0u8; 32]).is_none());
    }
}
