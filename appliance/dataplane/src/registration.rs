//! Key registrations waiting for the verification path. Preparing a key is curve work
//! (subgroup checks, a pairing) and recording it is a file write with an fsync: neither may
//! hold the network task, so a registration that needs either waits here, in a bounded queue,
//! and the verifier takes one between batches.

use std::collections::VecDeque;

use tf_engine::KeyId;
use tf_engine::groth16::Curve;
use tf_shard::TenantSlot;

use super::routes::Route;

/// Registrations a shard holds waiting at once; past it, partners are told to retry.
pub const MAX_WAITING: usize = 32;
/// When to retry a registration refused because the queue was full: a few keys' preparation.
pub const RETRY_MS: u32 = 50;

/// A registration checked against quota and room, waiting to be prepared and recorded.
#[derive(Debug)]
pub struct Waiting {
    pub tenant: TenantSlot,
    pub request_id: u64,
    pub id: KeyId,
    pub curve: Curve,
    /// The key's canonical bytes, as the partner sent them.
    pub bytes: Vec<u8>,
    pub route: Route,
}

/// The bounded queue of registrations waiting for the verifier.
#[derive(Debug, Default)]
pub struct Registrations {
    waiting: VecDeque<Waiting>,
}

impl Registrations {
    /// Queues a registration; gives it back when the queue is full.
    pub fn push(&mut self, waiting: Waiting) -> Result<(), Waiting> {
        if self.waiting.len() >= MAX_WAITING {
            return Err(waiting);
        }
        self.waiting.push_back(waiting);
        Ok(())
    }

    /// The oldest registration waiting.
    pub fn pop(&mut self) -> Option<Waiting> {
        self.waiting.pop_front()
    }

    /// Whether any registration waits.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}
