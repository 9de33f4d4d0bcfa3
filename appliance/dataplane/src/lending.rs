//! Work that finds an idle core: a home shard with more work waiting lends a formed batch to a
//! shard whose verifier has nothing to do; that shard verifies it and sends the verdicts back,
//! and the home decides them (budgets, receipts, the ledger) exactly as if it had verified them
//! itself. Tenants that hash to the same home shard so no longer leave the other core idle.
//!
//! An idle verifier raises its flag; a home claims a flag (compare and swap) before lending, so
//! each idle core takes at most one batch until it is idle again, and lending never queues work
//! behind a busy core.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tf_engine::Verdict;
use tf_shard::{Batch, BatchKey, Job, Lent};

use super::routes::Route;

pub use tf_config::Lending;

/// Which verifiers have nothing to do, one flag per shard.
#[derive(Debug)]
pub struct IdleCores {
    idle: Vec<AtomicBool>,
}

impl IdleCores {
    /// `shards` verifiers, none idle yet.
    pub fn new(shards: usize) -> Self {
        IdleCores {
            idle: (0..shards).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Shard `index`'s verifier is about to wait with nothing to do (`true`) or has work.
    pub fn set(&self, index: usize, idle: bool) {
        self.idle[index].store(idle, Ordering::Release);
    }

    /// Claims an idle verifier other than `home`'s: the first, looking from `home` on, so homes
    /// spread their loans. Claimed, it counts as busy until it says it is idle again.
    pub fn claim(&self, home: usize) -> Option<usize> {
        let shards = self.idle.len();
        (1..shards)
            .map(|step| (home + step) % shards)
            .find(|&peer| {
                self.idle[peer]
                    .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            })
    }
}

/// What shards send each other about lent batches.
#[derive(Debug)]
pub enum Loan {
    /// A batch to verify for home shard `home`.
    Verify {
        /// The lender.
        home: usize,
        /// The batch and what verifying it needs.
        lent: Lent<Route>,
    },
    /// A lent batch, verified.
    Verified(Verified),
}

/// A lent batch and its verdicts, back home to be decided.
#[derive(Debug)]
pub struct Verified {
    /// The batch as it was lent.
    pub batch: Batch<BatchKey, Job<Route>>,
    /// One verdict per job, in order.
    pub verdicts: Vec<Verdict>,
    /// Time spent verifying, which the home's batcher learns costs from.
    pub busy: Duration,
}

/// Whether a home with a batch in hand lends it, given the setting and whether more of its
/// work is due now.
pub fn wants_to_lend(lending: Lending, more_waiting: bool) -> bool {
    match lending {
        Lending::Always => true,
        Lending::WhenBusy => more_waiting,
        Lending::Never => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_core_is_claimed_once_and_never_by_itself() {
        let cores = IdleCores::new(3);
        assert_eq!(cores.claim(0), None);
        cores.set(0, true);
        assert_eq!(cores.claim(0), None, "a home never lends to itself");
        cores.set(2, true);
        assert_eq!(cores.claim(0), Some(2));
        assert_eq!(cores.claim(1), Some(0));
        assert_eq!(cores.claim(1), None, "each idle core takes one batch");
        cores.set(1, true);
        cores.set(2, true);
        assert_eq!(cores.claim(0), Some(1), "looking from the home on");
    }

    #[test]
    fn the_setting_decides_when_to_lend() {
        assert!(wants_to_lend(Lending::WhenBusy, true));
        assert!(!wants_to_lend(Lending::WhenBusy, false));
        assert!(wants_to_lend(Lending::Always, false));
        assert!(!wants_to_lend(Lending::Never, true));
    }
}
