//! A shard's side of the decision log: it numbers the shard's admission events, gathers its
//! decisions into blocks, and hands each sealed block to the writer thread without waiting:
//! a block the writer has no room for is counted as not recorded (and the count goes with the
//! next block), so recording never slows a partner's request.

use std::sync::mpsc::TrySendError;

use tf_decisions::writer::{BlockSender, Sealed};
use tf_drift::block::{BlockWriter, Record, RecordOutcome, SettlementRecord};

/// Events per block at most: a block is sealed when it holds this many.
const BLOCK_DECISIONS: usize = 4096;
/// A block is sealed at the next pulse once its first decision is this old, so the log lags
/// the shard by about a second.
const BLOCK_AGE_US: u64 = 1_000_000;

/// One shard's recorder.
pub struct Recorder {
    shard: u16,
    sender: Option<BlockSender>,
    writer: BlockWriter,
    seq: u64,
    /// Events lost since the last block sent (told to the writer with the next).
    not_recorded: u64,
    /// Events handed to the writer, and lost, since the start: the shard's metrics.
    totals: (u64, u64),
    /// When the open block got its first decision, on the shard's monotonic clock.
    opened_us: Option<u64>,
}

impl Recorder {
    /// A recorder for shard `shard` handing blocks to `sender`; `None`: recording is off
    /// (events are still numbered, nothing is kept).
    pub fn new(shard: usize, sender: Option<BlockSender>) -> Self {
        Recorder {
            shard: shard as u16,
            sender,
            writer: BlockWriter::default(),
            seq: 0,
            not_recorded: 0,
            totals: (0, 0),
            opened_us: None,
        }
    }

    /// The next event's place in the shard's order (an admission or a settlement).
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Keeps one decision; `now_us` is the shard's monotonic clock.
    pub fn record(&mut self, record: &Record<'_>, now_us: u64) {
        if self.make_room(now_us) {
            self.writer.push(record);
        }
    }

    /// Changes the last decision kept from admitted to the refusal the shard's checks gave
    /// (a request is recorded before the checks that take it over).
    pub fn refuse_last(&mut self, outcome: RecordOutcome<'_>) {
        self.writer.refuse_last(outcome);
    }

    /// Keeps one settlement.
    pub fn settle(&mut self, record: &SettlementRecord, now_us: u64) {
        if self.make_room(now_us) {
            self.writer.settle(record);
        }
    }

    /// Whether recording is on; seals a full block first (before the next event, so the last
    /// decision stays open to [`Recorder::refuse_last`]).
    fn make_room(&mut self, now_us: u64) -> bool {
        if self.sender.is_none() {
            return false;
        }
        if self.writer.len() >= BLOCK_DECISIONS {
            self.seal();
        }
        self.opened_us.get_or_insert(now_us);
        true
    }

    /// Seals the open block if its first decision is old enough (called at each pulse).
    pub fn seal_if_due(&mut self, now_us: u64) {
        if self
            .opened_us
            .is_some_and(|opened| now_us.saturating_sub(opened) >= BLOCK_AGE_US)
        {
            self.seal();
        }
    }

    /// Hands the open block to the writer, or counts it lost if the writer has no room.
    pub fn seal(&mut self) {
        self.opened_us = None;
        let (Some(sender), Some(block)) = (&self.sender, self.writer.finish()) else {
            return;
        };
        let count = block.count as u64;
        let sealed = Sealed {
            shard: self.shard,
            block,
            not_recorded: self.not_recorded,
        };
        match sender.try_send(sealed) {
            Ok(()) => {
                self.not_recorded = 0;
                self.totals.0 += count;
            }
            Err(TrySendError::Full(_)) => {
                self.not_recorded += count;
                self.totals.1 += count;
                tracing::debug!(
                    count,
                    "the decision log is behind; a block was not recorded"
                );
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::warn!("the decision log's writer stopped; recording is off");
                self.sender = None;
            }
        }
    }

    /// Events handed to the writer and events lost, since the start.
    pub fn totals(&self) -> (u64, u64) {
        self.totals
    }

    /// Seals the open block and lets go of the writer: nothing more is recorded.
    pub fn close(&mut self) {
        self.seal();
        self.sender = None;
    }
}

/// A submission's decision, as the log keeps it.
pub struct Submission<'a, R> {
    /// The request.
    pub job: &'a tf_shard::Job<R>,
    /// Its tenant's id.
    pub tenant: &'a str,
    /// Its admission's place among the shard's events.
    pub seq: u64,
    /// When it was decided on the wall clock.
    pub at_us: u64,
    /// And on the shard's monotonic clock.
    pub mono_us: u64,
    /// Its budget cost.
    pub cost: u64,
    /// The deciding bundle's revision.
    pub revision: u64,
    /// Whether the tenant could use its key.
    pub key_known: bool,
}

impl<R> Submission<'_, R> {
    /// The record of this submission answered `outcome`.
    pub fn record<'o>(&'o self, outcome: tf_drift::block::RecordOutcome<'o>) -> Record<'o> {
        let statement = &self.job.submit.statement;
        let key = match statement {
            tf_wire::Statement::Groth16 { key_id, .. } => Some(tf_engine::KeyId(*key_id)),
            _ => None,
        };
        Record {
            seq: self.seq,
            at_us: self.at_us,
            mono_us: self.mono_us,
            tenant: self.tenant,
            purpose: &self.job.submit.purpose,
            class: self.job.submit.dataset_class,
            kind: self.job.kind(),
            key,
            work: tf_budgets::Work::of(statement),
            cost: self.cost,
            revision: self.revision,
            key_known: self.key_known,
            outcome,
        }
    }
}
