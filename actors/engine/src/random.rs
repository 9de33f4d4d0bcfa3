//! Random scalars for batch verification. The caller supplies the CSPRNG so tests stay
//! deterministic and the engine never reads ambient randomness.

use rand_core::{CryptoRng, RngCore};

/// A uniformly random non-zero 64-bit scalar (zero would drop an item from the check).
pub(crate) fn nonzero_u64<R: RngCore + CryptoRng>(rng: &mut R) -> u64 {
    loop {
        let value = rng.next_u64();
        if value != 0 {
            return value;
        }
    }
}
