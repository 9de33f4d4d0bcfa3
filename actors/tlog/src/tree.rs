//! The appender: the log's tree in memory as its right edge, emitting the tiles to store.

use std::{fmt, mem};

use crate::bundle::{MAX_ENTRY_SIZE, bundle_entries, push_entry};
use crate::error::LogError;
use crate::hash::{HASH_SIZE, Hash, empty_root, leaf_hash, node_hash, perfect_root};
use crate::store::TileStore;
use crate::tile::{TILE_HEIGHT, TILE_WIDTH, TileId, TileLevel};

/// Tile levels a tree of fewer than 2^64 entries can fill: tree levels 0..=63.
const TILE_LEVELS: usize = 8;

/// Bytes of a full hash tile.
const TILE_BYTES: usize = TILE_WIDTH as usize * HASH_SIZE;

/// The log's append-only Merkle tree, kept as its right edge: the roots of the complete
/// subtrees for the set bits of the size (for [`Tree::root`]), the rightmost partial tile of
/// each tile level and the partial entry bundle (for [`Tree::take_tiles`]). Memory stays a few
/// tiles per level whatever the size, plus the full tiles not yet taken.
#[derive(Clone)]
pub struct Tree {
    size: u64,
    /// Roots of the complete subtrees for the set bits of `size`, largest (leftmost) first.
    edge: Vec<Hash>,
    /// Per tile level L, the hashes (tree level 8·L) of its rightmost, partial tile.
    partials: [Vec<u8>; TILE_LEVELS],
    /// The entries of the partial entry bundle.
    bundle: Vec<u8>,
    /// Bit L: the partial tile of level L grew since the last take. Bit 8: the bundle grew.
    dirty: u16,
    /// Tiles filled since the last take.
    full: Vec<(TileId, Vec<u8>)>,
}

/// The `dirty` bit of the entry bundle.
const BUNDLE_DIRTY: u16 = 1 << TILE_LEVELS;

impl Tree {
    /// The empty tree.
    pub fn empty() -> Tree {
        Tree {
            size: 0,
            edge: Vec::with_capacity(64),
            partials: Default::default(),
            bundle: Vec::new(),
            dirty: 0,
            full: Vec::new(),
        }
    }

    /// The tree of `size` entries, rebuilt from the stored tiles alone: the rightmost partial
    /// tile of each level and the partial entry bundle (one read each). Stored tiles may be
    /// wider than `size` needs. The caller compares [`Tree::root`] with its last checkpoint.
    pub fn resume<S: TileStore + ?Sized>(size: u64, store: &S) -> Result<Tree, LogError> {
        let mut tree = Tree::empty();
        tree.size = size;
        for level in (0..TILE_LEVELS).rev() {
            let nodes = size >> (usize::from(TILE_HEIGHT) * level);
            let width = (nodes & 0xff) as usize;
            if width == 0 {
                continue;
            }
            let tile = TileId {
                level: TileLevel::Hashes(level as u8),
                index: nodes >> TILE_HEIGHT,
                width: width as u16,
            };
            let hashes = read_prefix(store, tile, width * HASH_SIZE)?;
            // The complete subtrees for the low 8 bits of `nodes`, largest first.
            let mut at = 0;
            for bit in (0..TILE_HEIGHT).rev() {
                let span = 1usize << bit;
                if width & span != 0 {
                    tree.edge.push(perfect_root(
                        &hashes[at * HASH_SIZE..(at + span) * HASH_SIZE],
                    ));
                    at += span;
                }
            }
            tree.partials[level] = with_tile_capacity(hashes);
        }
        let entries = (size & 0xff) as usize;
        if entries > 0 {
            let tile = TileId {
                level: TileLevel::Entries,
                index: size >> TILE_HEIGHT,
                width: entries as u16,
            };
            let stored = store.read_tile(TileLevel::Entries, tile.index)?;
            let short = LogError::TileTooShort {
                tile,
                got_bytes: stored.len(),
            };
            let (mut len, mut seen) = (0, 0);
            for entry in bundle_entries(&stored).take(entries) {
                let entry = entry.map_err(|_| short.clone())?;
                // The bundle must be the one the level-0 tile hashes.
                let hashed = &tree.partials[0][seen * HASH_SIZE..(seen + 1) * HASH_SIZE];
                if leaf_hash(entry).0[..] != *hashed {
                    return Err(LogError::InconsistentTile { tile });
                }
                len += 2 + entry.len();
                seen += 1;
            }
            if seen < entries {
                return Err(short);
            }
            let mut bundle = Vec::with_capacity(stored.len().max(len));
            bundle.extend_from_slice(&stored[..len]);
            tree.bundle = bundle;
        }
        Ok(tree)
    }

    /// Appends an entry (for the appliance, a 32-byte digest) and returns its index.
    ///
    /// # Panics
    ///
    /// If the entry is longer than [`MAX_ENTRY_SIZE`] bytes, or the tree already holds
    /// 2^64 - 1 entries; [`Tree::try_append`] returns those as errors.
    pub fn append(&mut self, entry: &[u8]) -> u64 {
        match self.try_append(entry) {
            Ok(index) => index,
            Err(error) => panic!("appending a log entry: {error}"),
        }
    }

    /// Appends an entry and returns its index, or refuses it if it is longer than
    /// [`MAX_ENTRY_SIZE`] bytes (or the tree is full), leaving the tree unchanged.
    pub fn try_append(&mut self, entry: &[u8]) -> Result<u64, LogError> {
        if entry.len() > MAX_ENTRY_SIZE {
            return Err(LogError::EntryTooLarge { len: entry.len() });
        }
        let index = self.size;
        let size = index.checked_add(1).ok_or(LogError::TreeFull)?;

        push_entry(&mut self.bundle, entry);
        self.dirty |= BUNDLE_DIRTY;
        if index & 0xff == 0xff {
            let bundle = mem::take(&mut self.bundle);
            self.full.push((
                TileId::full(TileLevel::Entries, index >> TILE_HEIGHT),
                bundle,
            ));
        }

        // Merge the new leaf with the edge's subtrees it completes (one per trailing one bit
        // of the index); every eighth tree level is a tile level.
        let mut hash = leaf_hash(entry);
        self.push_tile_hash(0, index, hash);
        let mut node = index;
        let mut level = 0u8;
        while node & 1 == 1 {
            let left = self
                .edge
                .pop()
                .expect("each set bit of the size has its subtree root on the edge");
            hash = node_hash(left, hash);
            node >>= 1;
            level += 1;
            if level.is_multiple_of(TILE_HEIGHT) {
                self.push_tile_hash(usize::from(level / TILE_HEIGHT), node, hash);
            }
        }
        self.edge.push(hash);
        self.size = size;
        Ok(index)
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash (RFC 9162 MTH) of the tree, from its edge.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.edge.iter().rev();
        match subtrees.next() {
            None => empty_root(),
            Some(last) => subtrees.fold(*last, |right, left| node_hash(*left, right)),
        }
    }

    /// Every tile that changed since the last call, with its bytes: the tiles that filled
    /// (hash tiles of every level and entry bundles), then the current partial tile of each
    /// level that grew, and the partial entry bundle. They must all be stored durably before a
    /// checkpoint at [`Tree::size`] is signed.
    pub fn take_tiles(&mut self) -> Vec<(TileId, Vec<u8>)> {
        let mut tiles = mem::take(&mut self.full);
        for (level, hashes) in self.partials.iter().enumerate() {
            if self.dirty & (1 << level) != 0 && !hashes.is_empty() {
                let nodes = self.size >> (usize::from(TILE_HEIGHT) * level);
                tiles.push((
                    TileId {
                        level: TileLevel::Hashes(level as u8),
                        index: nodes >> TILE_HEIGHT,
                        width: (hashes.len() / HASH_SIZE) as u16,
                    },
                    hashes.clone(),
                ));
            }
        }
        if self.dirty & BUNDLE_DIRTY != 0 && !self.bundle.is_empty() {
            tiles.push((
                TileId {
                    level: TileLevel::Entries,
                    index: self.size >> TILE_HEIGHT,
                    width: (self.size & 0xff) as u16,
                },
                self.bundle.clone(),
            ));
        }
        self.dirty = 0;
        tiles
    }

    /// Adds the hash of node `node` (at tree level 8·`level`) to its level's partial tile,
    /// which moves to the full tiles when it holds 256 hashes.
    fn push_tile_hash(&mut self, level: usize, node: u64, hash: Hash) {
        let partial = &mut self.partials[level];
        debug_assert_eq!(partial.len(), (node & 0xff) as usize * HASH_SIZE);
        if partial.capacity() == 0 {
            partial.reserve_exact(TILE_BYTES);
        }
        partial.extend_from_slice(&hash.0);
        self.dirty |= 1 << level;
        if node & 0xff == 0xff {
            let tile = mem::replace(partial, Vec::with_capacity(TILE_BYTES));
            self.full.push((
                TileId::full(TileLevel::Hashes(level as u8), node >> TILE_HEIGHT),
                tile,
            ));
        }
    }
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The tile buffers are kilobytes of hashes; show their widths only.
        f.debug_struct("Tree")
            .field("size", &self.size)
            .field("edge", &self.edge.len())
            .field("untaken_full_tiles", &self.full.len())
            .finish_non_exhaustive()
    }
}

impl Default for Tree {
    fn default() -> Self {
        Tree::empty()
    }
}

/// The first `len` bytes of the stored tile at `tile`'s position.
fn read_prefix<S: TileStore + ?Sized>(
    store: &S,
    tile: TileId,
    len: usize,
) -> Result<Vec<u8>, LogError> {
    let mut bytes = store.read_tile(tile.level, tile.index)?;
    if bytes.len() < len {
        return Err(LogError::TileTooShort {
            tile,
            got_bytes: bytes.len(),
        });
    }
    bytes.truncate(len);
    Ok(bytes)
}

fn with_tile_capacity(hashes: Vec<u8>) -> Vec<u8> {
    let mut partial = Vec::with_capacity(TILE_BYTES);
    partial.extend_from_slice(&hashes);
    partial
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
