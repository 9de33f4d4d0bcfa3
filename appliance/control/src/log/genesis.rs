//! The log's first entry and its default origin.

use sha2::{Digest, Sha256};

/// Entry 0 of the log: binds the tree to its key and origin, so that receipts can take the
/// indices of their ledger sequence numbers (from 1). SHA-256 of a fixed label and the log's
/// verifier key (`<origin>+<key id>+<public key>`).
pub fn genesis_entry(vkey: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"trust-fabric transparency log genesis\n");
    hash.update(vkey.as_bytes());
    hash.update(b"\n");
    hash.finalize().into()
}

/// The origin used when `log.origin` is empty: unique to the log key.
pub fn default_origin(log_public_key: &[u8; 32]) -> String {
    let id = Sha256::digest(log_public_key);
    format!("trust-fabric.invalid/log/{}", hex::encode(&id[..8]))
}
