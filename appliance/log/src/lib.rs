//! The transparency log's storage: its tiles and its latest signed checkpoint, as files under
//! one directory (`<state>/log`), laid out as C2SP tlog-tiles paths.
//!
//! One tile position is one file: a full tile never changes once written; a partial tile is
//! replaced by a wider one as the tree grows (its first hashes never change), so the file
//! holds the widest partial written so far and a narrower `.p/<W>` is served from its prefix.
//! Every file is written to a temporary name, synced and renamed, and the directories synced,
//! so a crash leaves either the old tile or the new one; the checkpoint is written only after
//! the tiles it covers are durable.
//!
//! The log worker (the control plane) writes; the admin server, the data plane (partners'
//! inclusion proofs) and offline tools read.

mod dir;
mod proofs;
mod serve;

pub use dir::{CHECKPOINT_FILE, LogDir, LogStorageError, VKEY_FILE};
pub use proofs::{
    ConsistencyProofFile, InclusionError, InclusionProofFile, check_inclusion, receipt_entry,
    verified_checkpoint,
};
pub use serve::{ServeError, Served, checkpoint_size, serve};
