//! The policy in force: the promoted bundle, its stamp, and the terms the shards prepared for it.

use std::sync::Arc;

use tf_bundles::Bundle;
use tf_shard::PolicyStamp;

use crate::staged::StagedTerms;

/// The policy every home shard admits under.
#[derive(Debug)]
pub struct ActivePolicy {
    /// Revision and hash, stamped on every request admitted under it.
    pub stamp: PolicyStamp,
    /// The promoted bundle; `None` at revision 0, where the configuration file's tenants may
    /// submit anything.
    pub bundle: Option<Arc<Bundle>>,
    /// The bundle's tenant terms, prepared by every shard, to apply with it; `None` when the
    /// shards started with them (the bundle in force at start).
    pub terms: Option<Arc<StagedTerms>>,
}

impl ActivePolicy {
    /// Revision 0: no bundle promoted yet.
    pub fn configured() -> Self {
        ActivePolicy {
            stamp: PolicyStamp::default(),
            bundle: None,
            terms: None,
        }
    }

    /// A promoted bundle whose terms the shards prepared.
    pub fn switched(bundle: Arc<Bundle>, terms: Arc<StagedTerms>) -> Self {
        ActivePolicy {
            terms: Some(terms),
            ..ActivePolicy::promoted(bundle)
        }
    }

    /// A promoted bundle, in force since start.
    pub fn promoted(bundle: Arc<Bundle>) -> Self {
        let mut hash = [0u8; 32];
        // A bundle's hash is always 64 hex digits (it is computed, not read).
        let _ = hex::decode_to_slice(&bundle.hash, &mut hash);
        ActivePolicy {
            stamp: PolicyStamp {
                revision: bundle.revision(),
                hash,
            },
            bundle: Some(bundle),
            terms: None,
        }
    }
}
