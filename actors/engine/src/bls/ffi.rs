//! The two blst operations the batch verifier needs that blst's safe API does not expose on
//! their own: hash to G2 and a short scalar multiplication in G1, both left in Jacobian form so
//! the caller can normalise a whole batch with one inversion.
#![allow(unsafe_code)]

use blst::{blst_hash_to_g2, blst_p1, blst_p1_affine, blst_p1_from_affine, blst_p1_mult, blst_p2};

use super::DST;

/// H(message) in G2 with the ciphersuite's DST, Jacobian coordinates.
pub(super) fn hash_to_g2(message: &[u8]) -> blst_p2 {
    let mut out = blst_p2::default();
    // SAFETY: `out` is a valid blst_p2; message and DST pointers come with their exact lengths;
    // a null augmentation with length 0 is what blst's own verify passes.
    unsafe {
        blst_hash_to_g2(
            &mut out,
            message.as_ptr(),
            message.len(),
            DST.as_ptr(),
            DST.len(),
            std::ptr::null(),
            0,
        );
    }
    out
}

/// scalar * point for a 64-bit little-endian scalar, Jacobian coordinates.
pub(super) fn mul_g1(point: &blst_p1_affine, scalar: &[u8; 8]) -> blst_p1 {
    let mut jacobian = blst_p1::default();
    let mut out = blst_p1::default();
    // SAFETY: all pointers refer to live locals or borrowed values of the right types; the scalar
    // buffer holds exactly the 64 bits passed as `nbits`.
    unsafe {
        blst_p1_from_affine(&mut jacobian, point);
        blst_p1_mult(&mut out, &jacobian, scalar.as_ptr(), 64);
    }
    out
}
