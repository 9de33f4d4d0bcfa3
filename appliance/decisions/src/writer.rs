//! The writer thread: takes sealed blocks from every shard and appends them, and prunes the
//! log by age and size once a minute. It runs below the shards' priority.
#![allow(unsafe_code)] // one setpriority call with integer arguments

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tf_drift::block::Block;

use crate::store::{DecisionLog, LogError};

/// Blocks in flight to the writer; past it a shard counts its block as not recorded.
pub const CHANNEL_BLOCKS: usize = 64;
/// How often the log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// The writer's nice value: behind the shards (0), so it never takes their cores.
const WRITER_NICE: i32 = 10;

/// A shard's sealed block.
#[derive(Debug)]
pub struct Sealed {
    /// The shard.
    pub shard: u16,
    /// Its decisions.
    pub block: Block,
    /// The shard's decisions lost (no room in the channel) since its last block sent.
    pub not_recorded: u64,
}

/// Where shards send sealed blocks.
pub type BlockSender = SyncSender<Sealed>;

/// What the writer needs.
#[derive(Clone, Debug)]
pub struct WriterSettings {
    /// The log file.
    pub path: PathBuf,
    /// This run: its start, Unix microseconds.
    pub run: u64,
    /// How many shards send blocks.
    pub shards: usize,
    /// How long decisions are kept, microseconds.
    pub retention_us: u64,
    /// The most the log may hold, bytes.
    pub max_bytes: u64,
}

/// Opens the log (so a bad file stops the start, not the thread later) and starts the
/// writer. It ends once every sender is dropped and what they sent is written.
pub fn spawn(settings: WriterSettings) -> Result<(BlockSender, JoinHandle<()>), LogError> {
    let mut log = DecisionLog::open(&settings.path)?;
    log.begin_run(settings.run, settings.shards)?;
    prune(&mut log, &settings);
    let (sender, receiver) = sync_channel(CHANNEL_BLOCKS);
    let handle = std::thread::Builder::new()
        .name("decisions".into())
        .spawn(move || run(log, receiver, settings))
        .map_err(|e| LogError::Missing(format!("the decision log's thread: {e}")))?;
    Ok((sender, handle))
}

fn run(mut log: DecisionLog, receiver: Receiver<Sealed>, settings: WriterSettings) {
    lower_priority();
    let mut pruned = Instant::now();
    loop {
        let first = match receiver.recv_timeout(PRUNE_EVERY) {
            Ok(sealed) => Some(sealed),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let batch: Vec<(u16, Block, u64)> = first
            .into_iter()
            .chain(receiver.try_iter())
            .map(|s| (s.shard, s.block, s.not_recorded))
            .collect();
        if !batch.is_empty()
            && let Err(error) = log.append(settings.run, &batch)
        {
            let lost: usize = batch.iter().map(|(_, b, _)| b.count).sum();
            tracing::error!(%error, lost, "decisions could not be written to the decision log");
        }
        if pruned.elapsed() >= PRUNE_EVERY {
            prune(&mut log, &settings);
            pruned = Instant::now();
        }
    }
}

fn prune(log: &mut DecisionLog, settings: &WriterSettings) {
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let cutoff = now_us.saturating_sub(settings.retention_us);
    match log.prune(cutoff, settings.max_bytes) {
        Ok(0) => {}
        Ok(blocks) => tracing::debug!(blocks, "decision log pruned"),
        Err(error) => tracing::warn!(%error, "pruning the decision log failed"),
    }
}

fn lower_priority() {
    // SAFETY: gettid has no preconditions; setpriority only reads its integer arguments.
    let result = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, WRITER_NICE)
    };
    if result != 0 {
        tracing::debug!("the decision log writer keeps the default priority");
    }
}
