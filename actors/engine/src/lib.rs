//! The Trust Fabric verification engine: BLS signatures (Ethereum proof-of-possession
//! ciphersuite, via blst) and Groth16 proofs on BN254 (via arkworks) and BLS12-381 (via blst,
//! checked against arkworks in tests; decoding and point checks via arkworks on both), single and
//! batched.
//!
//! It is pure and sans-IO: no runtime, no threads, no clock, no ambient randomness (callers pass
//! a CSPRNG for batch scalars). Untrusted bytes are checked for size and count before any curve
//! work, and every point for curve and subgroup membership. A verification answers a
//! [`Verdict`]: `Valid`, `Invalid(reason)` or `Rejected(rejection)` for malformed input.

pub mod bls;
mod digest;
pub mod groth16;
mod limits;
mod random;
mod stepwise;
mod verdict;
pub mod work;

pub use digest::{KeyId, StatementDigest};
pub use limits::Limits;
pub use stepwise::{BatchRun, BatchScheme, DecodeThenVerify, Decoder, Decoding, merge_verdicts};
pub use verdict::{Field, InvalidReason, Rejection, Verdict};
