//! Decoding arkworks canonical compressed bytes into checked points, scalars, proofs and keys.
//! Sizes and counts are checked before any curve arithmetic; every point is checked to be in the
//! prime-order subgroup.

use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_groth16::{Proof, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};

use super::SupportedCurve;
use crate::{Field, Limits, Rejection};

/// Bytes of one public input on the wire: a scalar, 32 bytes little-endian (both curves).
pub const SCALAR_BYTES: usize = 32;

/// Decodes a compressed Groth16 proof (A, B, C).
pub fn decode_proof<E: SupportedCurve>(bytes: &[u8]) -> Result<Proof<E>, Rejection> {
    let expected = E::CURVE.proof_bytes();
    if bytes.len() != expected {
        return Err(Rejection::WrongLength {
            field: Field::new("proof"),
            expected,
            actual: bytes.len(),
        });
    }
    let g1 = compressed_size::<E::G1Config>();
    let g2 = compressed_size::<E::G2Config>();
    Ok(Proof {
        a: decode_point(&bytes[..g1], Field::new("proof.a"))?,
        b: decode_point(&bytes[g1..g1 + g2], Field::new("proof.b"))?,
        c: decode_point(&bytes[g1 + g2..], Field::new("proof.c"))?,
    })
}

/// Decodes public inputs, each 32 bytes little-endian and below the scalar field modulus.
pub fn decode_public_inputs<E: SupportedCurve>(
    limits: &Limits,
    inputs: &[[u8; SCALAR_BYTES]],
) -> Result<Vec<E::ScalarField>, Rejection> {
    check_input_count(limits, inputs.len())?;
    inputs
        .iter()
        .enumerate()
        .map(|(i, bytes)| decode_scalar::<E>(bytes, Field::at("public_inputs", i)))
        .collect()
}

/// Checks a public input count against the limit.
pub fn check_input_count(limits: &Limits, count: usize) -> Result<(), Rejection> {
    if count > limits.max_public_inputs {
        return Err(Rejection::TooMany {
            field: Field::new("public_inputs"),
            limit: limits.max_public_inputs,
            actual: count,
        });
    }
    Ok(())
}

/// Decodes one scalar, refusing values not below the modulus (never reducing them).
pub fn decode_scalar<E: SupportedCurve>(
    bytes: &[u8; SCALAR_BYTES],
    field: Field,
) -> Result<E::ScalarField, Rejection> {
    E::ScalarField::deserialize_with_mode(&bytes[..], Compress::Yes, Validate::Yes)
        .map_err(|_| Rejection::ScalarOutOfRange { field })
}

/// Decodes a verifying key from its arkworks canonical compressed bytes: alpha (G1), beta, gamma,
/// delta (G2), then a u64 little-endian count and that many G1 points. The count is checked
/// against the length and the limits before anything is allocated.
pub fn decode_verifying_key<E: SupportedCurve>(
    limits: &Limits,
    bytes: &[u8],
) -> Result<VerifyingKey<E>, Rejection> {
    let g1 = compressed_size::<E::G1Config>();
    let g2 = compressed_size::<E::G2Config>();
    let fixed = g1 + 3 * g2 + 8;
    let field = Field::new("verifying_key");
    if bytes.len() < fixed + g1 || !(bytes.len() - fixed).is_multiple_of(g1) {
        return Err(Rejection::WrongLength {
            field,
            expected: fixed + g1,
            actual: bytes.len(),
        });
    }
    let points = (bytes.len() - fixed) / g1;
    let mut count = [0u8; 8];
    count.copy_from_slice(&bytes[fixed - 8..fixed]);
    if u64::from_le_bytes(count) != points as u64 {
        return Err(Rejection::CountMismatch {
            field: Field::new("verifying_key.gamma_abc_g1"),
            expected: points,
            actual: usize::try_from(u64::from_le_bytes(count)).unwrap_or(usize::MAX),
        });
    }
    check_input_count(limits, points - 1)?;
    let mut at = 0;
    let mut take = |len: usize| {
        let piece = &bytes[at..at + len];
        at += len;
        piece
    };
    let alpha_g1 = decode_point(take(g1), Field::new("verifying_key.alpha_g1"))?;
    let beta_g2 = decode_point(take(g2), Field::new("verifying_key.beta_g2"))?;
    let gamma_g2 = decode_point(take(g2), Field::new("verifying_key.gamma_g2"))?;
    let delta_g2 = decode_point(take(g2), Field::new("verifying_key.delta_g2"))?;
    take(8);
    let gamma_abc_g1 = (0..points)
        .map(|i| decode_point(take(g1), Field::at("verifying_key.gamma_abc_g1", i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VerifyingKey {
        alpha_g1,
        beta_g2,
        gamma_g2,
        delta_g2,
        gamma_abc_g1,
    })
}

/// The canonical compressed bytes of a verifying key (what its [`crate::KeyId`] digests).
pub fn encode_verifying_key<E: SupportedCurve>(key: &VerifyingKey<E>) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.compressed_size());
    key.serialize_compressed(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// The canonical compressed bytes of a proof.
pub fn encode_proof<E: SupportedCurve>(proof: &Proof<E>) -> Vec<u8> {
    let mut out = Vec::with_capacity(E::CURVE.proof_bytes());
    proof
        .serialize_compressed(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// The 32-byte little-endian encoding of a scalar.
pub fn encode_scalar<E: SupportedCurve>(value: &E::ScalarField) -> [u8; SCALAR_BYTES] {
    let mut out = [0u8; SCALAR_BYTES];
    value
        .serialize_compressed(&mut out[..])
        .expect("a scalar fits in 32 bytes");
    out
}

/// Decodes one compressed point and checks it is in the prime-order subgroup.
pub(crate) fn decode_point<C: SWCurveConfig>(
    bytes: &[u8],
    field: Field,
) -> Result<Affine<C>, Rejection> {
    // Decompression recovers y from x, so a decoded point is on the curve; an x with no point
    // fails here, as do bad flags and coordinates not below the modulus.
    let point = Affine::<C>::deserialize_with_mode(bytes, Compress::Yes, Validate::No)
        .map_err(|_| Rejection::BadEncoding { field })?;
    // arkworks reads the infinity flag and ignores the x bits beside it; accepting those would
    // give one point many encodings (and a stored key an id its bytes do not hash to).
    let mut canonical = [0u8; MAX_COMPRESSED_POINT];
    let written = canonical
        .get_mut(..bytes.len())
        .ok_or(Rejection::BadEncoding { field })?;
    point
        .serialize_compressed(&mut &mut written[..])
        .map_err(|_| Rejection::BadEncoding { field })?;
    if written != bytes {
        return Err(Rejection::NonCanonical { field });
    }
    check_subgroup(point, field)
}

/// The longest compressed point of either curve: a BLS12-381 G2 point.
const MAX_COMPRESSED_POINT: usize = 96;

/// Checks a point built from coordinates: on the curve, then in the subgroup.
pub(crate) fn check_point<C: SWCurveConfig>(
    point: Affine<C>,
    field: Field,
) -> Result<Affine<C>, Rejection> {
    if !point.is_on_curve() {
        return Err(Rejection::NotOnCurve { field });
    }
    check_subgroup(point, field)
}

fn check_subgroup<C: SWCurveConfig>(
    point: Affine<C>,
    field: Field,
) -> Result<Affine<C>, Rejection> {
    if !point.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Rejection::NotInSubgroup { field });
    }
    Ok(point)
}

fn compressed_size<C: SWCurveConfig>() -> usize {
    Affine::<C>::identity().compressed_size()
}
