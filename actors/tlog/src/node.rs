//! Reading any node of the tree, and any aligned range's root, from stored tiles.

use crate::bundle::bundle_entries;
use crate::error::LogError;
use crate::hash::{HASH_SIZE, Hash, empty_root, node_hash, perfect_root};
use crate::store::TileStore;
use crate::tile::{TILE_HEIGHT, TileId, TileLevel};

/// The root of the complete subtree `index` at tree `level` (0 = leaves) of the tree of
/// `size` entries: read from the tile at level `level / 8`, hashing up `level % 8` levels.
pub fn stored_node<S: TileStore + ?Sized>(
    level: u8,
    index: u64,
    size: u64,
    store: &S,
) -> Result<Hash, LogError> {
    TileReader::new(store).node(level, index, size)
}

/// RFC 9162 MTH(D[lo:hi]) for a range that decomposes into aligned complete subtrees (`lo` a
/// multiple of the largest power of two not above `hi - lo`), as every range of a proof does.
/// The empty range has the empty root.
pub fn subtree_root<S: TileStore + ?Sized>(lo: u64, hi: u64, store: &S) -> Result<Hash, LogError> {
    TileReader::new(store).range_root(lo, hi)
}

/// The root of the tree of `size` entries.
pub fn tree_root<S: TileStore + ?Sized>(size: u64, store: &S) -> Result<Hash, LogError> {
    subtree_root(0, size, store)
}

/// Entry `index` of the tree of `size` entries, from its entry bundle.
pub fn stored_entry<S: TileStore + ?Sized>(
    index: u64,
    size: u64,
    store: &S,
) -> Result<Vec<u8>, LogError> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    let bundle = store.read_tile(TileLevel::Entries, index >> TILE_HEIGHT)?;
    let position = (index & 0xff) as usize;
    let short = || LogError::TileTooShort {
        tile: TileId {
            level: TileLevel::Entries,
            index: index >> TILE_HEIGHT,
            width: position as u16 + 1,
        },
        got_bytes: bundle.len(),
    };
    match bundle_entries(&bundle).nth(position) {
        Some(Ok(entry)) => Ok(entry.to_vec()),
        _ => Err(short()),
    }
}

/// Tiles read during one operation, kept so a proof reads each tile once.
pub(crate) struct TileReader<'s, S: ?Sized> {
    store: &'s S,
    tiles: Vec<(u8, u64, Vec<u8>)>,
}

/// Tiles a reader keeps; a proof touches at most a few per tile level.
const CACHED_TILES: usize = 24;

impl<'s, S: TileStore + ?Sized> TileReader<'s, S> {
    pub(crate) fn new(store: &'s S) -> Self {
        TileReader {
            store,
            tiles: Vec::new(),
        }
    }

    /// See [`stored_node`].
    pub(crate) fn node(&mut self, level: u8, index: u64, size: u64) -> Result<Hash, LogError> {
        if level > 63 || index >= size >> level {
            return Err(LogError::NodeOutOfRange { level, index, size });
        }
        let tile_level = level / TILE_HEIGHT;
        let height = u32::from(level % TILE_HEIGHT);
        // The node spans 2^height hashes of tree level 8·tile_level, all inside one tile.
        let first = index << height;
        let tile_index = first >> TILE_HEIGHT;
        let offset = (first & 0xff) as usize;
        let end = offset + (1 << height);
        let tile = self.tile(tile_level, tile_index)?;
        let Some(hashes) = tile.get(offset * HASH_SIZE..end * HASH_SIZE) else {
            return Err(LogError::TileTooShort {
                tile: TileId {
                    level: TileLevel::Hashes(tile_level),
                    index: tile_index,
                    width: end as u16,
                },
                got_bytes: tile.len(),
            });
        };
        Ok(perfect_root(hashes))
    }

    /// See [`subtree_root`].
    pub(crate) fn range_root(&mut self, lo: u64, hi: u64) -> Result<Hash, LogError> {
        if lo > hi {
            return Err(LogError::UnalignedRange { lo, hi });
        }
        let count = hi - lo;
        if count == 0 {
            return Ok(empty_root());
        }
        let top = 63 - count.leading_zeros();
        if lo & ((1u64 << top) - 1) != 0 {
            return Err(LogError::UnalignedRange { lo, hi });
        }
        // The complete subtrees for the set bits of `count`, largest (leftmost) first.
        let mut roots = [Hash::default(); 64];
        let mut found = 0;
        let mut at = lo;
        for level in (0..=top).rev() {
            if count & (1 << level) != 0 {
                roots[found] = self.node(level as u8, at >> level, hi)?;
                found += 1;
                at += 1 << level;
            }
        }
        let mut root = roots[found - 1];
        for left in roots[..found - 1].iter().rev() {
            root = node_hash(*left, root);
        }
        Ok(root)
    }

    fn tile(&mut self, level: u8, index: u64) -> Result<&[u8], LogError> {
        let cached = self
            .tiles
            .iter()
            .position(|(l, i, _)| *l == level && *i == index);
        let at = match cached {
            Some(at) => at,
            None => {
                let bytes = self.store.read_tile(TileLevel::Hashes(level), index)?;
                if self.tiles.len() == CACHED_TILES {
                    self.tiles.remove(0);
                }
                self.tiles.push((level, index, bytes));
                self.tiles.len() - 1
            }
        };
        Ok(&self.tiles[at].2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StoreError;
    use crate::store::MemoryStore;
    use crate::tree::testing::{build, entry, reference_root};

    #[test]
    fn every_node_matches_a_direct_computation() {
        let size = 1000;
        let (_, store) = build(size, 97);
        let leaves: Vec<Hash> = (0..size).map(|i| crate::leaf_hash(&entry(i))).collect();
        for level in 0..=9u8 {
            for index in 0..size >> level {
                let first = (index << level) as usize;
                let bytes: Vec<u8> = leaves[first..first + (1 << level)]
                    .iter()
                    .flat_map(|h| h.0)
                    .collect();
                assert_eq!(
                    stored_node(level, index, size, &store),
                    Ok(perfect_root(&bytes)),
                    "level {level} index {index}"
                );
            }
            assert_eq!(
                stored_node(level, size >> level, size, &store),
                Err(LogError::NodeOutOfRange {
                    level,
                    index: size >> level,
                    size
                })
            );
        }
        assert!(matches!(
            stored_node(64, 0, size, &store),
            Err(LogError::NodeOutOfRange { .. })
        ));
    }

    #[test]
    fn tree_roots_match_tlog_tiles_for_every_size() {
        let (_, store) = build(1000, 33);
        assert_eq!(tree_root(0, &store), Ok(empty_root()));
        for size in 1..=1000 {
            assert_eq!(
                tree_root(size, &store),
                Ok(reference_root(size)),
                "size {size}"
            );
        }
    }

    #[test]
    fn aligned_ranges_only() {
        let (_, store) = build(300, 300);
        assert_eq!(subtree_root(5, 5, &store), Ok(empty_root()));
        // 44 entries: subtrees of 32, 8 and 4.
        let node = |level, index| stored_node(level, index, 300, &store).expect("stored");
        assert_eq!(
            subtree_root(256, 300, &store),
            Ok(node_hash(node(5, 8), node_hash(node(3, 36), node(2, 74))))
        );
        assert_eq!(
            subtree_root(1, 3, &store),
            Err(LogError::UnalignedRange { lo: 1, hi: 3 })
        );
        assert_eq!(
            subtree_root(4, 3, &store),
            Err(LogError::UnalignedRange { lo: 4, hi: 3 })
        );
        assert!(matches!(
            subtree_root(0, 301, &store),
            Err(LogError::TileTooShort { .. })
        ));
        assert!(matches!(
            subtree_root(0, 1 << 17, &store),
            Err(LogError::Store(StoreError::Missing { .. }))
        ));
    }

    #[test]
    fn short_and_missing_tiles_are_typed_errors() {
        let (_, full) = build(600, 600);
        let mut store = MemoryStore::new();
        let tile = full
            .read_tile(TileLevel::Hashes(0), 2)
            .expect("tile 2 of a 600-entry tree");
        store.write(
            TileId::full(TileLevel::Hashes(0), 2),
            tile[..10 * HASH_SIZE].to_vec(),
        );
        assert_eq!(
            stored_node(3, 66, 600, &store),
            Err(LogError::TileTooShort {
                tile: TileId {
                    level: TileLevel::Hashes(0),
                    index: 2,
                    width: 24
                },
                got_bytes: 320
            })
        );
        assert_eq!(
            stored_node(0, 0, 600, &store),
            Err(LogError::Store(StoreError::Missing {
                path: "tile/0/000".into()
            }))
        );
    }

    #[test]
    fn entries_come_back_from_bundles() {
        let (_, store) = build(700, 123);
        for index in [0, 1, 255, 256, 511, 699] {
            assert_eq!(stored_entry(index, 700, &store), Ok(entry(index).to_vec()));
        }
        assert_eq!(
            stored_entry(700, 700, &store),
            Err(LogError::IndexOutOfRange {
                index: 700,
                size: 700
            })
        );
        assert!(matches!(
            stored_entry(700, 701, &store),
            Err(LogError::TileTooShort { .. })
        ));
    }
}
