//! Where tiles come back from: the seam to the storage crate, and an in-memory store.

use std::collections::HashMap;

use crate::bundle::bundle_prefix_len;
use crate::error::{LogError, StoreError};
use crate::hash::HASH_SIZE;
use crate::tile::{TileId, TileLevel};

/// Reads back the tiles [`crate::Tree::take_tiles`] emitted.
///
/// One tile position holds one stored tile: a partial tile is replaced by a wider one as the
/// tree grows, and its first items never change, so a store may return a tile wider than a
/// caller needs; callers take the prefix they need and reject a shorter tile.
pub trait TileStore {
    /// The stored bytes of the tile at this position, of whatever width was last written.
    fn read_tile(&self, level: TileLevel, index: u64) -> Result<Vec<u8>, StoreError>;
}

impl<S: TileStore + ?Sized> TileStore for &S {
    fn read_tile(&self, level: TileLevel, index: u64) -> Result<Vec<u8>, StoreError> {
        (**self).read_tile(level, index)
    }
}

/// Exactly the bytes of `tile` (its first `width` hashes or entries), cut from the stored tile
/// at its position: what a server sends for the tile's C2SP path.
pub fn tile_bytes(tile: TileId, store: &impl TileStore) -> Result<Vec<u8>, LogError> {
    let mut stored = store.read_tile(tile.level, tile.index)?;
    let need = match tile.level {
        TileLevel::Entries => {
            bundle_prefix_len(&stored, tile.width).map_err(|_| LogError::TileTooShort {
                tile,
                got_bytes: stored.len(),
            })?
        }
        TileLevel::Hashes(_) => usize::from(tile.width) * HASH_SIZE,
    };
    if stored.len() < need {
        return Err(LogError::TileTooShort {
            tile,
            got_bytes: stored.len(),
        });
    }
    stored.truncate(need);
    Ok(stored)
}

/// A [`TileStore`] in memory, one tile per position like a file store: for tests, benchmarks
/// and tools.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    tiles: HashMap<(TileLevel, u64), Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores one tile, replacing whatever its position held.
    pub fn write(&mut self, tile: TileId, bytes: Vec<u8>) {
        self.tiles.insert((tile.level, tile.index), bytes);
    }

    /// Stores every tile of a [`crate::Tree::take_tiles`] batch.
    pub fn write_all(&mut self, tiles: Vec<(TileId, Vec<u8>)>) {
        for (tile, bytes) in tiles {
            self.write(tile, bytes);
        }
    }

    /// How many tile positions are stored.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

impl TileStore for MemoryStore {
    fn read_tile(&self, level: TileLevel, index: u64) -> Result<Vec<u8>, StoreError> {
        self.tiles
            .get(&(level, index))
            .cloned()
            .ok_or_else(|| StoreError::Missing {
                path: TileId::full(level, index).storage_path(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::push_entry;

    #[test]
    fn tile_bytes_cuts_the_prefix_and_refuses_short_tiles() {
        let mut store = MemoryStore::new();
        let hashes: Vec<u8> = (0..10 * HASH_SIZE).map(|i| i as u8).collect();
        store.write(TileId::full(TileLevel::Hashes(0), 3), hashes.clone());
        let mut bundle = Vec::new();
        for entry in [&b"ab"[..], b"", b"cde"] {
            push_entry(&mut bundle, entry);
        }
        store.write(TileId::full(TileLevel::Entries, 3), bundle.clone());

        let tile = |level, width| TileId::new(level, 3, width).expect("valid");
        assert_eq!(
            tile_bytes(tile(TileLevel::Hashes(0), 4), &store),
            Ok(hashes[..4 * HASH_SIZE].to_vec())
        );
        assert_eq!(
            tile_bytes(tile(TileLevel::Hashes(0), 10), &store),
            Ok(hashes)
        );
        assert_eq!(
            tile_bytes(tile(TileLevel::Hashes(0), 11), &store),
            Err(LogError::TileTooShort {
                tile: tile(TileLevel::Hashes(0), 11),
                got_bytes: 10 * HASH_SIZE
            })
        );
        assert_eq!(
            tile_bytes(tile(TileLevel::Entries, 2), &store),
            Ok(bundle[..6].to_vec())
        );
        assert!(matches!(
            tile_bytes(tile(TileLevel::Entries, 4), &store),
            Err(LogError::TileTooShort { .. })
        ));
        assert_eq!(
            tile_bytes(TileId::full(TileLevel::Hashes(1), 0), &store),
            Err(LogError::Store(StoreError::Missing {
                path: "tile/1/000".into()
            }))
        );
    }
}
