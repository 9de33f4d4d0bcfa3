//! A batch lent to another core: verification is the only part of a request's way that may
//! leave its tenant's home shard, so a busy home can use an idle core. Admission, budgets,
//! fairness and the policy stamp stay home; the lent batch carries only what verifying needs.

use std::sync::Arc;

use tf_engine::groth16::AnyKey;
use tf_engine::{Limits, Rejection};

use crate::verify::Verification;
use crate::{Batch, BatchKey, Job};

/// A batch and what verifying it needs: the home registry's answer for its Groth16 key (the
/// prepared key is shared, not copied) and the statement limits.
pub struct Lent<R> {
    /// The batch, as the home shard formed it.
    pub batch: Batch<BatchKey, Job<R>>,
    groth16_key: Option<Result<Arc<AnyKey>, Rejection>>,
    limits: Limits,
}

impl<R> Lent<R> {
    pub(crate) fn new(
        groth16_key: Option<Result<Arc<AnyKey>, Rejection>>,
        limits: Limits,
        batch: Batch<BatchKey, Job<R>>,
    ) -> Self {
        Lent {
            batch,
            groth16_key,
            limits,
        }
    }

    /// Starts verifying it a step at a time, wherever it is: the verdicts are exactly those the
    /// home shard's own [`crate::Shard::verification`] would give.
    pub fn verification(&self) -> Verification<'_, R> {
        Verification::new(
            self.batch.key,
            &self.batch.items,
            self.groth16_key.as_ref(),
            &self.limits,
        )
    }
}

impl<R> std::fmt::Debug for Lent<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lent")
            .field("key", &self.batch.key)
            .field("items", &self.batch.items.len())
            .finish_non_exhaustive()
    }
}
