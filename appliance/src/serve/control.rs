//! What the main thread and the shards share: the shutdown request, readiness and drain
//! progress. Touched once per io loop turn, never per request.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Shared shutdown state.
#[derive(Debug)]
pub struct Control {
    shards: usize,
    draining: AtomicBool,
    ready: AtomicUsize,
    quiesced: AtomicUsize,
    stopped: AtomicUsize,
}

impl Control {
    /// Control for `shards` shards.
    pub fn new(shards: usize) -> Self {
        Control {
            shards,
            draining: AtomicBool::new(false),
            ready: AtomicUsize::new(0),
            quiesced: AtomicUsize::new(0),
            stopped: AtomicUsize::new(0),
        }
    }

    /// Asks every shard to drain and stop.
    pub fn begin_drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether a drain was asked for.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// A shard is listening and its channels are joined.
    pub fn shard_ready(&self) {
        self.ready.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether every shard is listening.
    pub fn all_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) == self.shards
    }

    /// A draining shard has answered everything it took.
    pub fn shard_quiesced(&self) {
        self.quiesced.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether every shard has answered everything it took.
    pub fn all_quiesced(&self) -> bool {
        self.quiesced.load(Ordering::Acquire) == self.shards
    }

    /// A shard's executor returned.
    pub fn shard_stopped(&self) {
        self.stopped.fetch_add(1, Ordering::AcqRel);
    }

    /// How many shards have stopped.
    pub fn stopped(&self) -> usize {
        self.stopped.load(Ordering::Acquire)
    }
}
