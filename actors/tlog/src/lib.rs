//! The transparency log's sans-IO core: no files, no clock, no threads.
//!
//! Every receipt the appliance stores becomes one entry of an append-only Merkle tree hashed as
//! in RFC 6962 / RFC 9162 §2.1 ([`leaf_hash`], [`node_hash`]). [`Tree`] appends entries and
//! emits the tree as C2SP tlog-tiles ([`TileId`], height 8, width 256) for a storage crate to
//! persist; that crate hands them back through [`TileStore`], from which any node, root,
//! entry, inclusion proof or consistency proof is read ([`stored_node`], [`tree_root`],
//! [`inclusion_proof`], [`consistency_proof`]) and [`Tree::resume`] rebuilds the appender.
//! Proofs are checked with the RFC 9162 algorithms ([`verify_inclusion`],
//! [`verify_consistency`]), independently of how they were built. Tree heads are C2SP
//! checkpoints ([`Checkpoint`]) signed as C2SP signed notes with Ed25519 ([`NoteSigner`],
//! [`NoteVerifier`], [`SignedCheckpoint`]).

mod bundle;
mod checkpoint;
mod error;
mod hash;
mod node;
mod note;
mod proof;
mod signed;
mod store;
mod tile;
mod tree;
mod verify;

pub use bundle::{BundleEntries, BundleError, MAX_ENTRY_SIZE, bundle_entries, bundle_prefix_len};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use error::{LogError, StoreError};
pub use hash::{HASH_SIZE, Hash, HashParseError, empty_root, leaf_hash, node_hash};
pub use node::{stored_entry, stored_node, subtree_root, tree_root};
pub use note::{KeyId, MAX_NOTE_SIZE, MAX_SIGNATURES, NoteError, NoteSigner, NoteVerifier};
pub use proof::{consistency_proof, inclusion_proof};
pub use signed::{SignedCheckpoint, SignedCheckpointError};
pub use store::{MemoryStore, TileStore, tile_bytes};
pub use tile::{MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH, TileId, TileLevel, TilePathError};
pub use tree::Tree;
pub use verify::{ProofError, verify_consistency, verify_inclusion};
