//! Workers: control-plane features that follow the ledger from a durable cursor of their own.
//!
//! The webhook outbox, the transparency log, compliance snapshots, the scenario scheduler and
//! the golden canary each read what the ledger committed and act on it, away from the
//! partners' path and the ledger's fsync. Each is a [`Follower`] (its logic, sans-IO where it
//! can be) driven by a [`Worker`] actor, which:
//!
//! - wakes every `tick` and compares its cursor with the committed watermark the ledger thread
//!   publishes on the board (one atomic load; no message, no lock on the fsync path);
//! - reads at most `batch` committed records after its cursor through its own ledger connection
//!   and hands them to the follower in sequence order, one by one;
//! - stores its cursor durably after each batch (and up to the last record handled when the
//!   follower fails part-way), so a restart resumes after the last record it acknowledged:
//!   nothing is skipped, and nothing handled and saved is handed again;
//! - stops on a failure and is restarted by its `actix::Supervisor`, which reloads the cursor
//!   from storage and waits a backoff that doubles with each consecutive failure;
//! - runs on an arbiter (a thread) of its own on the control thread's System, so a slow
//!   follower or a busy disk delays only itself.
//!
//! A crash between handling a record and saving the cursor hands that record again after the
//! restart: delivery is at least once, and a record's ledger sequence number is its idempotency
//! key (the transparency log appends at index = sequence number; the webhook outbox keys its
//! deliveries by it). The mailbox is bounded; the only messages are status questions.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tf_ledger::{Ledger, LedgerError, LedgerRecord};
use tf_seam::Board;

/// Messages that may wait in a worker's mailbox.
pub const MAILBOX: usize = 16;
/// The longest backoff after repeated failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A control-plane feature that follows the ledger.
pub trait Follower: Unpin + Send + 'static {
    /// The worker's name: the key of its durable cursor, and its name in logs. Never change it
    /// once deployed (the cursor would start over).
    fn name(&self) -> &'static str;

    /// Handles one committed record. Records arrive in sequence order, at least once.
    fn handle(&mut self, record: &LedgerRecord) -> Result<(), FollowError>;

    /// Called at start and at every restart with the stored cursor: loads the follower's own
    /// durable state and says where to resume, at most `stored`. A follower whose durable
    /// state lags the cursor (or was lost) returns less, and is handed those records again.
    fn resume(&mut self, stored: u64) -> Result<u64, FollowError> {
        Ok(stored)
    }

    /// Called after each turn's records, and on turns with none: periodic work (the
    /// transparency log signs its checkpoints here).
    fn after_turn(&mut self) -> Result<(), FollowError> {
        Ok(())
    }

    /// The last sequence number whose handling is durable, given the last one handled: what
    /// the worker may save as its cursor. A follower that makes its work durable in its own
    /// steps (a signed checkpoint) returns less than `handled` until it has.
    fn settled(&self, handled: u64) -> u64 {
        handled
    }
}

/// Why a follower could not handle a record: the worker stops, is restarted after a backoff,
/// and hands the same record again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FollowError(pub String);

/// How a worker paces itself.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// How often it checks the watermark.
    pub tick: Duration,
    /// Most records read (and handled before the cursor is saved) per turn.
    pub batch: usize,
    /// The first backoff after a failure.
    pub backoff: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            tick: Duration::from_millis(50),
            batch: 256,
            backoff: Duration::from_millis(200),
        }
    }
}

/// The actor driving a [`Follower`].
pub struct Worker<F: Follower> {
    follower: F,
    ledger: Box<dyn Ledger>,
    board: Arc<Board>,
    pace: Pace,
    /// The last sequence number handled.
    cursor: u64,
    /// The last sequence number saved as the durable cursor (never moves back).
    saved: u64,
    /// Consecutive failures (the backoff doubles with each).
    failures: u32,
}

impl<F: Follower> std::fmt::Debug for Worker<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("name", &self.follower.name())
            .field("cursor", &self.cursor)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl<F: Follower> Worker<F> {
    /// A worker for `follower`, reading through its own `ledger` connection.
    pub fn new(follower: F, ledger: Box<dyn Ledger>, board: Arc<Board>, pace: Pace) -> Self {
        Worker {
            follower,
            ledger,
            board,
            pace,
            cursor: 0,
            saved: 0,
            failures: 0,
        }
    }

    /// Starts it under a supervisor on `arbiter`: a thread of its own, so its reads, cursor
    /// saves and follower never hold up the `Bundles` actor or another worker.
    pub fn start_supervised(self, arbiter: &ArbiterHandle) -> Addr<Self> {
        Supervisor::start_in_arbiter(arbiter, move |_| self)
    }

    /// Reads the durable cursor and lets the follower load its state (at start and at each
    /// restart); false, and the worker stopping, if either fails.
    fn load_cursor(&mut self, ctx: &mut Context<Self>) -> bool {
        let stored = match self.ledger.cursor(self.follower.name()) {
            Ok(stored) => stored,
            Err(error) => {
                self.fail(ctx, &error.to_string());
                return false;
            }
        };
        self.saved = stored;
        match self.follower.resume(stored) {
            Ok(resume) => {
                self.cursor = resume.min(stored);
                true
            }
            Err(error) => {
                self.fail(ctx, &error.0);
                false
            }
        }
    }

    /// One turn: everything committed after the cursor, up to a batch, then the follower's
    /// periodic work, then the cursor saved as far as the follower has made durable.
    fn turn(&mut self, ctx: &mut Context<Self>) {
        let saved_before = self.saved;
        let outcome = self
            .follow()
            .and_then(|()| self.follower.after_turn().map_err(|e| e.0));
        // Saved even after a failure part-way: what was handled and settled stays handled.
        let settled = self.follower.settled(self.cursor).min(self.cursor);
        let saved = match settled > self.saved {
            true => self.save(settled).map_err(|e| e.to_string()),
            false => Ok(()),
        };
        match outcome.and(saved) {
            // Healthy again once something more is durable (or nothing is pending): a
            // follower that fails before settling (a log that cannot reach its checkpoint)
            // keeps backing off.
            Ok(()) if self.saved > saved_before || self.saved == self.cursor => self.failures = 0,
            Ok(()) => {}
            Err(why) => self.fail(ctx, &why),
        }
    }

    /// Hands the follower everything committed after the cursor, up to a batch.
    fn follow(&mut self) -> Result<(), String> {
        if self.board.committed() <= self.cursor {
            return Ok(());
        }
        let records = self
            .ledger
            .receipts_after(self.cursor, self.pace.batch)
            .map_err(|e| e.to_string())?;
        for record in &records {
            // Only what the ledger thread announced as committed (the read may see more).
            if record.seq() > self.board.committed() {
                break;
            }
            self.follower.handle(record).map_err(|e| e.0)?;
            self.cursor = record.seq();
        }
        Ok(())
    }

    fn save(&mut self, seq: u64) -> Result<(), LedgerError> {
        self.ledger.save_cursor(self.follower.name(), seq)?;
        self.saved = seq;
        Ok(())
    }

    /// Logs, counts, and stops: the supervisor restarts the worker from its stored cursor.
    fn fail(&mut self, ctx: &mut Context<Self>, why: &str) {
        self.failures = self.failures.saturating_add(1);
        tracing::warn!(
            worker = self.follower.name(),
            cursor = self.cursor,
            failures = self.failures,
            "worker failed, restarting after a backoff: {why}"
        );
        ctx.stop();
    }

    fn backoff(&self) -> Duration {
        if self.failures == 0 {
            return Duration::ZERO;
        }
        let doublings = (self.failures - 1).min(16);
        (self.pace.backoff * 2u32.pow(doublings)).min(MAX_BACKOFF)
    }
}

impl<F: Follower> Actor for Worker<F> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        let tick = self.pace.tick;
        // The backoff comes first: a follower that cannot even load its state (a changed log
        // origin) is retried slower and slower, never in a tight loop.
        ctx.run_later(self.backoff(), move |worker, ctx| {
            if worker.load_cursor(ctx) {
                ctx.run_interval(tick, |worker, ctx| worker.turn(ctx));
            }
        });
    }
}

impl<F: Follower> Supervised for Worker<F> {
    fn restarting(&mut self, _: &mut Self::Context) {
        tracing::info!(worker = self.follower.name(), "worker restarting");
    }
}

/// Where a worker stands.
#[derive(Debug, Message)]
#[rtype(result = "Progress")]
pub struct Ask;

/// A worker's position against the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The last sequence number it handled and saved.
    pub cursor: u64,
    /// The last sequence number it handled (ahead of `cursor` while the follower has not made
    /// its handling durable).
    pub handled: u64,
    /// The highest committed sequence number.
    pub committed: u64,
    /// Consecutive failures.
    pub failures: u32,
}

impl<F: Follower> Handler<Ask> for Worker<F> {
    type Result = MessageResult<Ask>;

    fn handle(&mut self, _: Ask, _: &mut Self::Context) -> Self::Result {
        MessageResult(Progress {
            cursor: self.saved,
            handled: self.cursor,
            committed: self.board.committed(),
            failures: self.failures,
        })
    }
}
