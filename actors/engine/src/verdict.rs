//! What verification answers: a verdict is a value, never an `Err`.

use std::fmt;

use crate::KeyId;
use crate::groth16::Curve;

/// The outcome of verifying one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The signature or proof verifies.
    Valid,
    /// The input was well formed but does not verify.
    Invalid(InvalidReason),
    /// The input was refused before any pairing work.
    Rejected(Rejection),
}

impl Verdict {
    /// A short stable word for logs, JSON and exit codes: `valid`, `invalid` or `rejected`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid(_) => "invalid",
            Verdict::Rejected(_) => "rejected",
        }
    }

    /// Maps a boolean pairing check to a verdict.
    pub(crate) fn from_check(ok: bool, reason: InvalidReason) -> Self {
        if ok {
            Verdict::Valid
        } else {
            Verdict::Invalid(reason)
        }
    }
}

impl From<Rejection> for Verdict {
    fn from(rejection: Rejection) -> Self {
        Verdict::Rejected(rejection)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Valid => f.write_str("valid"),
            Verdict::Invalid(reason) => write!(f, "invalid: {reason}"),
            Verdict::Rejected(rejection) => write!(f, "rejected: {rejection}"),
        }
    }
}

/// Why a well-formed item did not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// The BLS pairing equation does not hold for these keys, messages and signature.
    #[error("the signature does not match the public key(s) and message(s)")]
    SignatureMismatch,
    /// The Groth16 pairing equation does not hold for this key, proof and public inputs.
    #[error("the proof does not verify against the verifying key and public inputs")]
    ProofMismatch,
    /// An aggregate over no keys or no messages can never be valid.
    #[error("an aggregate needs at least one public key")]
    EmptyAggregate,
}

/// Names the input field a rejection is about, such as `proof.b` or `public_inputs[3]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    name: &'static str,
    index: Option<u32>,
}

impl Field {
    /// A field with no index.
    pub const fn new(name: &'static str) -> Self {
        Field { name, index: None }
    }

    /// One element of a list field.
    pub fn at(name: &'static str, index: usize) -> Self {
        Field {
            name,
            index: Some(u32::try_from(index).unwrap_or(u32::MAX)),
        }
    }

    /// The field's name without the index.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.name),
            None => f.write_str(self.name),
        }
    }
}

/// Malformed input, refused before any pairing work. `Copy` and allocation-free for the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A fixed-size encoding has the wrong length.
    #[error("{field}: expected {expected} bytes, got {actual}")]
    WrongLength {
        /// The field.
        field: Field,
        /// The length the encoding requires.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// A variable-size field is longer than the configured limit.
    #[error("{field}: {actual} bytes exceed the limit of {limit}")]
    TooLong {
        /// The field.
        field: Field,
        /// The configured limit.
        limit: usize,
        /// The length received.
        actual: usize,
    },
    /// A list has more items than the configured limit.
    #[error("{field}: {actual} items exceed the limit of {limit}")]
    TooMany {
        /// The field.
        field: Field,
        /// The configured limit.
        limit: usize,
        /// The count received.
        actual: usize,
    },
    /// Two lists that must pair up have different lengths.
    #[error("{field}: {actual} items, but {expected} are needed to match")]
    CountMismatch {
        /// The field.
        field: Field,
        /// The count required.
        expected: usize,
        /// The count received.
        actual: usize,
    },
    /// The bytes are not a point encoding (flag bits, or a coordinate not below the field modulus).
    #[error("{field}: not a valid compressed point encoding")]
    BadEncoding {
        /// The field.
        field: Field,
    },
    /// A point or key that decodes, but from bytes other than its canonical encoding (flag bits
    /// or coordinates a decoder ignores). Only canonical bytes are accepted, so that one value
    /// has one encoding and one id.
    #[error(
        "{field}: not the canonical compressed encoding (the point at infinity must have every \
         other bit zero); send the bytes your library's compressed serialisation writes"
    )]
    NonCanonical {
        /// The field.
        field: Field,
    },
    /// The coordinates do not satisfy the curve equation.
    #[error("{field}: the point is not on the curve")]
    NotOnCurve {
        /// The field.
        field: Field,
    },
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("{field}: the point is not in the prime-order subgroup")]
    NotInSubgroup {
        /// The field.
        field: Field,
    },
    /// The point at infinity where a real key is required.
    #[error("{field}: the point at infinity is not allowed here")]
    Infinity {
        /// The field.
        field: Field,
    },
    /// A scalar (public input) not below the scalar field modulus.
    #[error("{field}: the value is not below the scalar field modulus")]
    ScalarOutOfRange {
        /// The field.
        field: Field,
    },
    /// The number of public inputs differs from what the verifying key expects.
    #[error("public_inputs: the verifying key expects {expected} public inputs, got {actual}")]
    InputCountMismatch {
        /// Inputs the key expects.
        expected: usize,
        /// Inputs received.
        actual: usize,
    },
    /// The key and the proof are for different curves.
    #[error("the verifying key is for {key} but the proof is for {proof}")]
    CurveMismatch {
        /// The key's curve.
        key: Curve,
        /// The proof's curve.
        proof: Curve,
    },
    /// No verifying key with this id is registered.
    #[error("verifying key {0} is not registered; register it before submitting proofs")]
    UnknownKey(KeyId),
}
