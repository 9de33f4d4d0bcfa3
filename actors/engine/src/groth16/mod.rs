//! Groth16 verification on BN254 and BLS12-381: keys prepared once and cached by id, single and
//! batched verification (blst on BLS12-381, arkworks on BN254 and as the cross-check), arkworks
//! canonical bytes and snarkjs JSON.

mod ark_verifier;
mod blst_verifier;
mod curve;
pub mod decode;
mod dispatch;
mod key;
pub mod snarkjs;
mod verify;

pub use ark_verifier::{ArkPoints, Arkworks};
pub use blst_verifier::{Blst, BlstKey, BlstPoints};
pub use curve::{Curve, SupportedCurve, UnknownCurve};
pub use decode::SCALAR_BYTES;
pub use dispatch::{CurveRun, EncodedStatement, Groth16Decoder, Groth16Run, SharedKey};
pub use key::{AnyKey, Holder, KeyRegistry, KeyRoom, PreparedKey, RegistryFull};
pub use verify::{
    Backend, Groth16Check, Groth16Scheme, KeyHolder, SingleInputs, Statement, verify_batch,
    verify_batch_with, verify_one, verify_one_with,
};
