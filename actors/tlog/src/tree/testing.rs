//! Test helpers: deterministic entries, trees built into a memory store, and the independent
//! implementation (`tlog_tiles`) to check against.

use sha2::{Digest, Sha256};

use crate::hash::Hash;
use crate::store::MemoryStore;
use crate::tile::{TileId, TileLevel};
use crate::tree::Tree;

/// Entry `i` of every test tree: a 32-byte digest, as the appliance logs.
pub(crate) fn entry(i: u64) -> [u8; 32] {
    Sha256::digest(i.to_be_bytes()).into()
}

/// A tree of `size` entries whose tiles were taken every `take_every` appends (and at the end)
/// into a memory store, so partial tiles were overwritten by wider ones.
pub(crate) fn build(size: u64, take_every: u64) -> (Tree, MemoryStore) {
    let mut tree = Tree::empty();
    let mut store = MemoryStore::new();
    for i in 0..size {
        tree.append(&entry(i));
        if (i + 1) % take_every == 0 {
            store.write_all(tree.take_tiles());
        }
    }
    store.write_all(tree.take_tiles());
    (tree, store)
}

pub(crate) fn theirs(hash: Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(hash.0)
}

pub(crate) fn ours(hash: tlog_tiles::Hash) -> Hash {
    Hash(hash.0)
}

/// tlog_tiles' own hash storage for the entries `entry(0..size)`, built with its own code.
pub(crate) struct Reference {
    hashes: Vec<tlog_tiles::Hash>,
    size: u64,
}

impl Reference {
    pub(crate) fn new() -> Self {
        Reference {
            hashes: Vec::new(),
            size: 0,
        }
    }

    pub(crate) fn up_to(size: u64) -> Self {
        let mut reference = Reference::new();
        reference.grow_to(size);
        reference
    }

    pub(crate) fn grow_to(&mut self, size: u64) {
        while self.size < size {
            let leaf = tlog_tiles::record_hash(&entry(self.size));
            let new = tlog_tiles::stored_hashes_for_record_hash(self.size, leaf, &*self)
                .expect("reference hashes are in memory");
            self.hashes.extend(new);
            self.size += 1;
        }
    }

    pub(crate) fn root(&self, size: u64) -> Hash {
        ours(tlog_tiles::tree_hash(size, self).expect("size within the reference"))
    }
}

impl tlog_tiles::HashReader for Reference {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.hashes
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// The root of the tree over `entry(0..size)`, computed by tlog_tiles alone.
pub(crate) fn reference_root(size: u64) -> Hash {
    Reference::up_to(size).root(size)
}

/// Serves our stored tiles to tlog_tiles' `TileHashReader`, by C2SP path: every tile it asks
/// for must have our path (less the height segment of Go's sumdb layout).
pub(crate) struct OurTiles<'a>(pub(crate) &'a MemoryStore);

impl tlog_tiles::TileReader for OurTiles<'_> {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|tile| {
                assert!(!tile.is_data(), "hash tiles only");
                let path = tile.path().replacen("tile/8/", "tile/", 1);
                let id = TileId::parse(&path).expect("tlog_tiles asks for C2SP tile paths");
                assert_eq!(id.level, TileLevel::Hashes(tile.level()));
                assert_eq!(
                    (id.index, u32::from(id.width)),
                    (tile.level_index(), tile.width())
                );
                crate::tile_bytes(id, self.0).map_err(|_| tlog_tiles::Error::InvalidTile)
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

/// Checks, with tlog_tiles, that the store's tiles are those of the tree of `size` entries
/// with `root`, and that the hashes read through them are tlog_tiles' own.
pub(crate) fn check_tiles(store: &MemoryStore, size: u64, root: Hash, reference: &Reference) {
    use tlog_tiles::HashReader;
    let tiles = OurTiles(store);
    let reader = tlog_tiles::TileHashReader::new(size, theirs(root), &tiles);
    // Leaves at both ends, and the highest complete node on the left edge.
    let mut indexes = vec![tlog_tiles::stored_hash_index(0, 0)];
    indexes.push(tlog_tiles::stored_hash_index(0, size - 1));
    let top = 63 - size.leading_zeros();
    indexes.push(tlog_tiles::stored_hash_index(top as u8, 0));
    let got = reader
        .read_hashes(&indexes)
        .unwrap_or_else(|e| panic!("tlog_tiles rejects our tiles at size {size}: {e}"));
    let want = reference
        .read_hashes(&indexes)
        .expect("reference holds the tree");
    assert_eq!(got, want, "size {size}");
}
