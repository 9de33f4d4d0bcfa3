//! Partners' log proof queries, answered by the shard that received them. No hop to the home
//! shard: the log holds only hashes of receipts and its size is public in every checkpoint, so
//! any tenant may ask for any entry, and nothing here is tenant state but the admission quota
//! (`ingress_quota.rs`).
//!
//! An answer reads the checkpoint file and the O(log n) tiles on the entry's path: a few small
//! files the page cache holds, read synchronously on the io task (tens of microseconds). The
//! quota bounds how often a tenant can make the shard do that.

use std::time::Duration;

use tf_log::{LogDir, LogStorageError};
use tf_seam::{Board, TenantTable};
use tf_shard::{Micros, TenantSlot};
use tf_tlog::{Checkpoint, Hash, LogError};
use tf_wire::{ErrorCode, WireLimits};

use super::ingress_quota::IngressQuota;
use super::replies;

/// Where the shards read the transparency log the control plane writes.
#[derive(Clone, Debug)]
pub struct LogFiles {
    /// The log's directory (`<state>/log`); read only, never created here.
    pub dir: LogDir,
    /// How often the log worker signs a checkpoint while entries arrive (`[log]
    /// checkpoint_interval_ms`): what a partner asking too early is told to wait.
    pub checkpoint_interval: Duration,
}

/// Told to partners when the appliance keeps no log.
const NO_LOG: &str = "this appliance keeps no transparency log; ask its operator";
/// Told to partners when the log's files cannot be read (the cause is logged, not sent).
const UNREADABLE: &str =
    "the appliance could not read its transparency log; retry later, or ask its operator";

/// A log proof query.
#[derive(Clone, Copy, Debug)]
pub struct Query {
    /// The tenant asking (from its certificate).
    pub tenant: TenantSlot,
    /// The partner's request id.
    pub request_id: u64,
    /// The entry to prove.
    pub index: u64,
}

/// One shard's log proof answerer.
#[derive(Debug)]
pub struct LogProofs {
    files: Option<LogFiles>,
    max_checkpoint_bytes: usize,
    quota: IngressQuota,
    /// Whether an unreadable log was reported and has not been readable since, so a broken
    /// log is logged once rather than on every query.
    reported: bool,
}

/// Why a proof was not made.
#[derive(Debug, thiserror::Error)]
enum Unproven {
    #[error("the checkpoint: {0}")]
    Storage(#[from] LogStorageError),
    #[error("the checkpoint is {0} bytes, over the wire limit")]
    TooLong(usize),
    #[error("the checkpoint's text is not a checkpoint")]
    NotACheckpoint,
    #[error("the tiles: {0}")]
    Tiles(#[from] LogError),
}

impl LogProofs {
    /// An answerer reading `files` (`None`: every query is answered "log unavailable").
    pub fn new(files: Option<LogFiles>, limits: &WireLimits) -> Self {
        LogProofs {
            files,
            max_checkpoint_bytes: limits.max_checkpoint_bytes,
            quota: IngressQuota::default(),
            reported: false,
        }
    }

    /// The answer frame to a query from a connection identified against `tenants`: the
    /// checkpoint and proof, or busy, not in the log yet, or log unavailable.
    pub fn answer(
        &mut self,
        query: Query,
        tenants: &TenantTable,
        board: &Board,
        now: Micros,
    ) -> Vec<u8> {
        let Some(files) = &self.files else {
            let detail = NO_LOG.to_owned();
            return replies::error(query.request_id, ErrorCode::LogUnavailable { detail });
        };
        let interval_ms = u32::try_from(files.checkpoint_interval.as_millis()).unwrap_or(u32::MAX);
        if let Err(retry_after_ms) = self.quota.take(query.tenant, tenants, board, now) {
            return replies::error(query.request_id, ErrorCode::Busy { retry_after_ms });
        }
        let code = match prove(&files.dir, query.index, self.max_checkpoint_bytes) {
            Ok(Proven::Proof {
                checkpoint,
                tree_size,
                hashes,
            }) => {
                self.reported = false;
                return replies::log_proof(
                    query.request_id,
                    checkpoint,
                    query.index,
                    tree_size,
                    &hashes,
                );
            }
            Ok(Proven::Beyond { tree_size }) => ErrorCode::NotInLogYet {
                index: query.index,
                tree_size,
                retry_after_ms: interval_ms,
            },
            Err(why) => {
                if !self.reported {
                    self.reported = true;
                    tracing::warn!(dir = %files.dir.root().display(), "log proofs cannot be served: {why}");
                }
                ErrorCode::LogUnavailable {
                    detail: UNREADABLE.to_owned(),
                }
            }
        };
        replies::error(query.request_id, code)
    }
}

/// What the log holds for an entry.
#[derive(Debug)]
enum Proven {
    /// The entry's inclusion proof under the latest checkpoint.
    Proof {
        checkpoint: String,
        tree_size: u64,
        hashes: Vec<Hash>,
    },
    /// The entry is beyond the latest checkpoint (or there is none yet: size 0).
    Beyond { tree_size: u64 },
}

/// Reads the latest checkpoint and proves `index` under it. The checkpoint's signature is not
/// checked: only the log worker writes the file, after the tiles it covers are durable, and the
/// partner checks the signature with the log's key. The size is read from the very note sent,
/// so the proof and the checkpoint always go together.
fn prove(dir: &LogDir, index: u64, max_checkpoint_bytes: usize) -> Result<Proven, Unproven> {
    let Some(note) = dir.checkpoint()? else {
        return Ok(Proven::Beyond { tree_size: 0 });
    };
    if note.len() > max_checkpoint_bytes {
        return Err(Unproven::TooLong(note.len()));
    }
    let tree_size = signed_size(&note).ok_or(Unproven::NotACheckpoint)?;
    if index >= tree_size {
        return Ok(Proven::Beyond { tree_size });
    }
    let hashes = tf_tlog::inclusion_proof(index, tree_size, dir)?;
    Ok(Proven::Proof {
        checkpoint: note,
        tree_size,
        hashes,
    })
}

/// The tree size of the checkpoint a signed note carries: its text runs up to the blank line
/// before the signatures.
fn signed_size(note: &str) -> Option<u64> {
    let end = note.find("\n\n")?;
    Checkpoint::parse(&note[..=end]).ok().map(|c| c.size)
}

#[cfg(test)]
mod tests {
    use tf_config::TenantConfig;
    use tf_tlog::{NoteSigner, Tree};
    use tf_wire::{FrameDecoder, Message};

    use super::*;

    const ORIGIN: &str = "example.test/log";

    /// A log of `size` entries written to a fresh directory, with its checkpoint signed.
    fn log(size: u64) -> (tempfile::TempDir, LogDir, NoteSigner) {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = LogDir::open(&temp.path().join("log")).expect("log dir");
        let signer = NoteSigner::new(ORIGIN, &[5; 32]).expect("signer");
        let mut tree = Tree::empty();
        for i in 0..size {
            tree.append(&i.to_le_bytes());
        }
        dir.write_tiles(&tree.take_tiles()).expect("tiles written");
        let checkpoint = Checkpoint::new(ORIGIN, tree.size(), tree.root()).expect("origin");
        let note = signer.sign(&checkpoint.to_text());
        dir.save_checkpoint(&note).expect("checkpoint written");
        (temp, dir, signer)
    }

    fn answerer(dir: Option<LogDir>) -> LogProofs {
        let files = dir.map(|dir| LogFiles {
            dir,
            checkpoint_interval: Duration::from_millis(1000),
        });
        LogProofs::new(files, &WireLimits::DEFAULT)
    }

    fn table(rate: usize, burst: usize) -> TenantTable {
        let acme = TenantConfig {
            id: "acme".into(),
            rate_per_sec: rate,
            burst,
            ..TenantConfig::demo()
        };
        TenantTable::new(&[acme], 1)
    }

    fn ask(proofs: &mut LogProofs, table: &TenantTable, index: u64, now: u64) -> Message {
        let query = Query {
            tenant: TenantSlot(0),
            request_id: 42,
            index,
        };
        let frame = proofs.answer(query, table, &Board::new(1), Micros(now));
        let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
        tf_wire::to_owned(decoder.decode(&frame).expect("the answer decodes"))
    }

    #[test]
    fn a_proof_verifies_against_the_checkpoint_it_comes_with() {
        let (_temp, dir, signer) = log(300);
        let mut proofs = answerer(Some(dir));
        let table = table(1000, 500);
        for index in [0, 1, 255, 256, 299] {
            let Message::LogProof(proof) = ask(&mut proofs, &table, index, 0) else {
                panic!("a proof for {index}");
            };
            assert_eq!(
                (proof.request_id, proof.index, proof.tree_size),
                (42, index, 300)
            );
            let verifier = tf_tlog::NoteVerifier::from_vkey(&signer.vkey()).expect("vkey");
            let text = verifier
                .verify(&proof.checkpoint)
                .expect("signed by the log");
            let checkpoint = Checkpoint::parse(text).expect("a checkpoint");
            let hashes: Vec<Hash> = proof.hashes.iter().copied().map(Hash).collect();
            let leaf = tf_tlog::leaf_hash(&index.to_le_bytes());
            tf_tlog::verify_inclusion(leaf, index, 300, &hashes, &checkpoint.root)
                .expect("the proof leads to the signed root");
        }
    }

    #[test]
    fn an_entry_beyond_the_checkpoint_is_not_in_the_log_yet() {
        let (_temp, dir, _) = log(3);
        let mut proofs = answerer(Some(dir));
        let table = table(1000, 500);
        let Message::Error(error) = ask(&mut proofs, &table, 3, 0) else {
            panic!("an error");
        };
        assert_eq!(
            error.code,
            ErrorCode::NotInLogYet {
                index: 3,
                tree_size: 3,
                retry_after_ms: 1000
            }
        );
        let empty = tempfile::tempdir().expect("temp dir");
        let mut proofs = answerer(Some(LogDir::at(empty.path())));
        let Message::Error(error) = ask(&mut proofs, &table, 0, 0) else {
            panic!("an error");
        };
        assert!(matches!(
            error.code,
            ErrorCode::NotInLogYet { tree_size: 0, .. }
        ));
    }

    #[test]
    fn no_log_or_an_unreadable_one_is_unavailable() {
        let table = table(1000, 500);
        let Message::Error(error) = ask(&mut answerer(None), &table, 0, 0) else {
            panic!("an error");
        };
        assert!(
            matches!(&error.code, ErrorCode::LogUnavailable { detail } if detail == NO_LOG),
            "{:?}",
            error.code
        );
        // The checkpoint says 300 entries, but the tiles are gone.
        let (temp, dir, _) = log(300);
        std::fs::remove_dir_all(temp.path().join("log/tile")).expect("tiles removed");
        let Message::Error(error) = ask(&mut answerer(Some(dir)), &table, 7, 0) else {
            panic!("an error");
        };
        assert!(
            matches!(&error.code, ErrorCode::LogUnavailable { detail } if detail == UNREADABLE),
            "{:?}",
            error.code
        );
    }

    #[test]
    fn queries_beyond_the_tenants_quota_are_answered_busy() {
        let (_temp, dir, _) = log(10);
        let mut proofs = answerer(Some(dir));
        let table = table(100, 3);
        for _ in 0..3 {
            assert!(matches!(
                ask(&mut proofs, &table, 1, 0),
                Message::LogProof(_)
            ));
        }
        let Message::Error(error) = ask(&mut proofs, &table, 1, 0) else {
            panic!("busy");
        };
        assert_eq!(error.code, ErrorCode::Busy { retry_after_ms: 10 });
        assert!(matches!(
            ask(&mut proofs, &table, 1, 10_000),
            Message::LogProof(_)
        ));
    }

    #[test]
    fn the_size_is_read_from_the_note_text() {
        let note = "example.test/log\n17\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} k sig\n";
        assert_eq!(signed_size(note), Some(17));
        assert_eq!(signed_size("example.test/log\n17\n"), None);
        assert_eq!(signed_size("example.test/log\nseventeen\nAAAA\n\n"), None);
    }
}
