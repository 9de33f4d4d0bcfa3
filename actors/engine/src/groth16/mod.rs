//! Groth16 verification on BN254 and BLS12-381: keys prepared once and cached by id, single and
//! batched verification, arkworks canonical bytes and snarkjs JSON.

mod curve;
pub mod decode;
mod dispatch;
mod key;
pub mod snarkjs;
mod verify;

pub use curve::{Curve, SupportedCurve, UnknownCurve};
pub use decode::SCALAR_BYTES;
pub use dispatch::{CurveRun, EncodedStatement, Groth16Decoder, Groth16Run, SharedKey};
pub use key::{AnyKey, Holder, KeyRegistry, KeyRoom, PreparedKey, RegistryFull};
pub use verify::{Groth16Check, Groth16Scheme, KeyHolder, Statement, verify_batch, verify_one};
