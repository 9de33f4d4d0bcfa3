//! Size and count limits, checked before any curve work.

/// Limits on untrusted input. Every check against them happens before any curve arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most public inputs a Groth16 statement may have (and a verifying key may expect).
    pub max_public_inputs: usize,
    /// Longest BLS message in bytes.
    pub max_message_bytes: usize,
    /// Most public keys (and messages) in one BLS aggregate.
    pub max_aggregate_keys: usize,
}

impl Limits {
    /// The defaults: 64 public inputs, 4 KiB messages, 1024 keys per aggregate.
    pub const DEFAULT: Limits = Limits {
        max_public_inputs: 64,
        max_message_bytes: 4096,
        max_aggregate_keys: 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
