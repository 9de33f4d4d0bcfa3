//! Errors of the log's tree: appending, resuming, reading nodes and building proofs.

use crate::tile::TileId;

/// Why a tree operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The store could not return a tile.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored tile is shorter than the tree size requires: the store is behind the tree, or
    /// damaged.
    #[error("tile {tile} is needed but only {got_bytes} bytes are stored")]
    TileTooShort {
        /// The tile (with the width) that was needed.
        tile: TileId,
        /// Bytes stored at its position.
        got_bytes: usize,
    },
    /// Stored tiles disagree with each other (an entry does not hash to its level-0 hash).
    #[error("tile {tile} disagrees with the tiles below or beside it")]
    InconsistentTile {
        /// The tile found inconsistent.
        tile: TileId,
    },
    /// The index is not below the tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The old size of a consistency proof is larger than the new size.
    #[error("old size {old_size} is larger than new size {new_size}")]
    SizesOutOfOrder {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
    },
    /// The node is not a complete subtree of the tree of this size.
    #[error("node {index} at level {level} is not complete in a tree of size {size}")]
    NodeOutOfRange {
        /// Tree level (0 = leaves).
        level: u8,
        /// Index of the node within its level.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The range does not decompose into aligned complete subtrees (its start is not a
    /// multiple of the largest power of two not above its length).
    #[error("range [{lo}, {hi}) is not aligned to its largest subtree")]
    UnalignedRange {
        /// First entry of the range.
        lo: u64,
        /// One past the last entry.
        hi: u64,
    },
    /// An entry longer than an entry bundle can hold (65,535 bytes).
    #[error("entry of {len} bytes is longer than 65535")]
    EntryTooLarge {
        /// The entry's length.
        len: usize,
    },
    /// The tree holds 2^64 - 1 entries and cannot grow.
    #[error("the tree is full")]
    TreeFull,
}

/// Why a store could not return a tile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No tile is stored at this position.
    #[error("tile {path} is missing")]
    Missing {
        /// The tile's storage path.
        path: String,
    },
    /// The tile could not be read.
    #[error("tile {path}: {message}")]
    Io {
        /// The tile's storage path.
        path: String,
        /// What went wrong.
        message: String,
    },
}
