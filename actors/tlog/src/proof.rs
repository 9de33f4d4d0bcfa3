//! RFC 9162 §2.1.3 inclusion proofs and §2.1.4 consistency proofs, built from stored tiles.

use crate::error::LogError;
use crate::hash::Hash;
use crate::node::TileReader;
use crate::store::TileStore;

/// RFC 9162 PATH(index, D[0:size]): the audit path proving that entry `index` is in the tree of
/// `size` entries, leaf side first. Reads O(log size) tiles, each once.
pub fn inclusion_proof<S: TileStore + ?Sized>(
    index: u64,
    size: u64,
    store: &S,
) -> Result<Vec<Hash>, LogError> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    let mut reader = TileReader::new(store);
    let mut path = Vec::with_capacity(64);
    // Walk down from the root, keeping the sibling of the side that holds `index`.
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let split = lo + largest_power_of_two_below(hi - lo);
        if index < split {
            path.push(reader.range_root(split, hi)?);
            hi = split;
        } else {
            path.push(reader.range_root(lo, split)?);
            lo = split;
        }
    }
    path.reverse();
    Ok(path)
}

/// RFC 9162 PROOF(old_size, D[0:new_size]): the consistency proof that the tree of `old_size`
/// entries is a prefix of the tree of `new_size`. Empty when `old_size` is 0 or `new_size`.
/// Reads O(log new_size) tiles, each once.
pub fn consistency_proof<S: TileStore + ?Sized>(
    old_size: u64,
    new_size: u64,
    store: &S,
) -> Result<Vec<Hash>, LogError> {
    if old_size > new_size {
        return Err(LogError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut reader = TileReader::new(store);
    let mut path = Vec::with_capacity(64);
    // SUBPROOF(m, D[lo:hi], whole) with m = old_size - lo; `whole` stays true while the range
    // starts at 0, where the verifier already knows the old root.
    let (mut lo, mut hi, mut whole) = (0, new_size, true);
    loop {
        if old_size == hi {
            if !whole {
                path.push(reader.range_root(lo, hi)?);
            }
            break;
        }
        let split = lo + largest_power_of_two_below(hi - lo);
        if old_size <= split {
            path.push(reader.range_root(split, hi)?);
            hi = split;
        } else {
            path.push(reader.range_root(lo, split)?);
            lo = split;
            whole = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// The largest power of two smaller than `n` (n ≥ 2): RFC 9162's split point k.
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests;
