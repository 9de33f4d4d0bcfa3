//! The shards as the control plane sees them: stage terms, learn who prepared them, publish a
//! policy, read the pulses. [`crate::Board`] is the real one; tests of the control plane use an
//! in-memory fake, so promotion and rollback are tested without a runtime.

use std::sync::Arc;

use crate::board::{Board, PulseReading};
use crate::policy::ActivePolicy;
use crate::staged::StagedTerms;

/// What a switch needs from the shards.
pub trait Shards: Send + Sync {
    /// Stages a bundle's terms for every shard to prepare; returns them with their generation.
    fn stage(&self, terms: StagedTerms) -> Arc<StagedTerms>;
    /// Withdraws staged terms whose switch will not happen.
    fn withdraw(&self);
    /// The generation of staged terms each shard prepared last, in shard order.
    fn prepared(&self) -> Vec<u64>;
    /// Puts a policy in force: every home shard decides its next admission under it.
    fn publish(&self, policy: Arc<ActivePolicy>);
    /// Every shard's last pulse, in shard order (each names the revision it admits under).
    fn pulses(&self) -> Vec<PulseReading>;
}

impl Shards for Board {
    fn stage(&self, terms: StagedTerms) -> Arc<StagedTerms> {
        Board::stage(self, terms)
    }

    fn withdraw(&self) {
        self.withdraw_stage();
    }

    fn prepared(&self) -> Vec<u64> {
        Board::prepared(self)
    }

    fn publish(&self, policy: Arc<ActivePolicy>) {
        self.publish_policy(policy);
    }

    fn pulses(&self) -> Vec<PulseReading> {
        Board::pulses(self)
    }
}
