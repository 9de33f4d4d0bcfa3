//! The transparency log as a worker: every committed receipt becomes the entry at index = its
//! ledger sequence number (index 0 is the log's genesis entry), and a checkpoint is signed at
//! most every `interval` while entries arrive, once the tiles it covers are durable.
//!
//! The appliance never signs two checkpoints that are not consistent: at every (re)start the
//! tree is resumed from the stored tiles and checked against the last signed checkpoint; if
//! the tiles are lost it is rebuilt from the ledger and must reach that checkpoint's root
//! before anything new is signed.

mod genesis;

use std::time::{Duration, Instant};

use tf_ledger::LedgerRecord;
use tf_log::LogDir;
use tf_tlog::{Checkpoint, NoteSigner, NoteVerifier, Tree};

pub use genesis::{default_origin, genesis_entry};

use crate::worker::{FollowError, Follower};

/// The worker's name: its cursor's key in the ledger. Never change it.
pub const WORKER_NAME: &str = "transparency-log";

/// The transparency log follower.
pub struct TransparencyLog {
    dir: LogDir,
    signer: NoteSigner,
    origin: String,
    interval: Duration,
    tree: Tree,
    /// The last checkpoint signed and stored.
    signed: Option<Checkpoint>,
    signed_at: Option<Instant>,
    /// A stored checkpoint the tree, rebuilt from the ledger, must reach before anything new
    /// is signed (its tiles were lost).
    must_match: Option<Checkpoint>,
}

impl std::fmt::Debug for TransparencyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparencyLog")
            .field("origin", &self.origin)
            .field("size", &self.tree.size())
            .field("signed", &self.signed.as_ref().map(|c| c.size))
            .finish_non_exhaustive()
    }
}

impl TransparencyLog {
    /// A log stored in `dir`, signing its checkpoints as `origin` with `secret`.
    pub fn new(
        dir: LogDir,
        origin: &str,
        secret: &[u8; 32],
        interval: Duration,
    ) -> Result<Self, FollowError> {
        let signer = NoteSigner::new(origin, secret)
            .map_err(|e| FollowError(format!("log.origin {origin:?}: {e}")))?;
        Ok(TransparencyLog {
            dir,
            signer,
            origin: origin.to_owned(),
            interval,
            tree: Tree::empty(),
            signed: None,
            signed_at: None,
            must_match: None,
        })
    }

    /// The verifier key auditors check checkpoints with (C2SP signed-note `vkey`).
    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    /// Checks that a receipt handed again is the log's entry at its index: a ledger restored
    /// to an older state than the log numbers new receipts the log already holds others at,
    /// and appending after them would leave those receipts out of the log for good.
    fn check_logged(&self, record: &LedgerRecord) -> Result<(), FollowError> {
        let index = record.seq();
        let Some(signed) = self.signed.as_ref().filter(|signed| index < signed.size) else {
            return Ok(());
        };
        let logged = tf_tlog::stored_entry(index, signed.size, &self.dir)
            .map_err(|e| FollowError(format!("reading the log's entry {index}: {e}")))?;
        if logged == tf_log::receipt_entry(&record.receipt.envelope_json) {
            return Ok(());
        }
        Err(FollowError(format!(
            "the ledger's receipt {index} is not the log's entry {index}: the ledger was \
             restored to an older state than the log (restore them together, the log directory \
             no newer than the ledger); the log signs nothing until they agree"
        )))
    }

    /// A tree holding only the genesis entry.
    fn genesis(&self) -> Tree {
        let mut tree = Tree::empty();
        tree.append(&genesis_entry(&self.signer.vkey()));
        tree
    }

    /// The stored checkpoint, verified with this log's key and origin.
    fn stored_checkpoint(&self) -> Result<Option<Checkpoint>, FollowError> {
        let Some(note) = self
            .dir
            .checkpoint()
            .map_err(|e| FollowError(e.to_string()))?
        else {
            return Ok(None);
        };
        let verifier = NoteVerifier::from_vkey(&self.signer.vkey())
            .map_err(|e| FollowError(format!("the log's own key: {e}")))?;
        let text = verifier.verify(&note).map_err(|e| {
            FollowError(format!(
                "{}/checkpoint does not verify with this log's key and origin {:?} ({e}): the \
                 log key or log.origin changed; restore them, or move the log directory and \
                 log.key aside to start a new log",
                self.dir.root().display(),
                self.origin
            ))
        })?;
        let checkpoint = Checkpoint::parse(text)
            .map_err(|e| FollowError(format!("{}/checkpoint: {e}", self.dir.root().display())))?;
        Ok(Some(checkpoint))
    }

    /// Writes the tiles the tree changed, then signs and stores a checkpoint at its size.
    fn sign(&mut self, now: Instant) -> Result<(), FollowError> {
        let tiles = self.tree.take_tiles();
        self.dir
            .write_tiles(&tiles)
            .map_err(|e| FollowError(format!("writing the log's tiles: {e}")))?;
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: self.tree.size(),
            root: self.tree.root(),
        };
        let note = self.signer.sign(&checkpoint.to_text());
        self.dir
            .save_checkpoint(&note)
            .map_err(|e| FollowError(format!("storing the log's checkpoint: {e}")))?;
        tracing::debug!(size = checkpoint.size, "log checkpoint signed");
        self.signed = Some(checkpoint);
        self.signed_at = Some(now);
        Ok(())
    }
}

impl Follower for TransparencyLog {
    fn name(&self) -> &'static str {
        WORKER_NAME
    }

    fn resume(&mut self, _stored: u64) -> Result<u64, FollowError> {
        // Published for offline tools and auditors (the key is public).
        self.dir
            .save_vkey(&self.signer.vkey())
            .map_err(|e| FollowError(e.to_string()))?;
        self.must_match = None;
        self.signed_at = None;
        let Some(checkpoint) = self.stored_checkpoint()? else {
            self.tree = self.genesis();
            self.signed = None;
            return Ok(0);
        };
        match Tree::resume(checkpoint.size, &self.dir) {
            Ok(tree) if tree.root() == checkpoint.root => {
                self.tree = tree;
                let last = checkpoint.size - 1;
                self.signed = Some(checkpoint);
                Ok(last)
            }
            outcome => {
                let why = match outcome {
                    Ok(_) => "their root differs from the checkpoint's".to_owned(),
                    Err(error) => error.to_string(),
                };
                tracing::warn!(
                    size = checkpoint.size,
                    "the log's tiles do not give its last checkpoint ({why}); rebuilding the \
                     tree from the ledger, and signing nothing until it reaches that checkpoint"
                );
                self.tree = self.genesis();
                self.signed = Some(checkpoint.clone());
                self.must_match = Some(checkpoint);
                Ok(0)
            }
        }
    }

    fn handle(&mut self, record: &LedgerRecord) -> Result<(), FollowError> {
        let index = record.seq();
        if index < self.tree.size() {
            // Handed again after a restart: already in the tree, and it must be this receipt.
            return self.check_logged(record);
        }
        if index > self.tree.size() {
            return Err(FollowError(format!(
                "the ledger's next receipt is {index}, the log needs {}: receipts before it were \
                 pruned and the log's tiles are lost; restore the log directory (a compliance \
                 snapshot archives it)",
                self.tree.size()
            )));
        }
        self.tree
            .append(&tf_log::receipt_entry(&record.receipt.envelope_json));
        if let Some(expected) = &self.must_match
            && self.tree.size() == expected.size
        {
            if self.tree.root() != expected.root {
                return Err(FollowError(format!(
                    "the ledger does not give the log's last signed checkpoint (size {}): the \
                     ledger file was replaced or altered; the log signs nothing until the \
                     ledger that checkpoint was signed over is restored",
                    expected.size
                )));
            }
            tracing::info!(
                size = expected.size,
                "log rebuilt up to its last checkpoint"
            );
            self.must_match = None;
        }
        Ok(())
    }

    fn after_turn(&mut self) -> Result<(), FollowError> {
        if self.must_match.is_some() {
            return Ok(());
        }
        let grown = self
            .signed
            .as_ref()
            .is_none_or(|signed| self.tree.size() > signed.size);
        let now = Instant::now();
        let due = self
            .signed_at
            .is_none_or(|at| now.duration_since(at) >= self.interval);
        if grown && due {
            self.sign(now)?;
        }
        Ok(())
    }

    fn settled(&self, handled: u64) -> u64 {
        match (&self.must_match, &self.signed) {
            (None, Some(signed)) => handled.min(signed.size - 1),
            _ => 0,
        }
    }
}
