//! Verifying proofs with the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms, independently of how
//! they were built.

use crate::hash::{Hash, empty_root, node_hash};

/// Why a proof does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The old tree is larger than the new one.
    #[error("old size {old_size} is larger than new size {new_size}")]
    SizesOutOfOrder {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    #[error("proof has {actual} hashes where {expected} are needed")]
    WrongProofLength {
        /// Hashes a proof for these sizes has.
        expected: usize,
        /// Hashes given.
        actual: usize,
    },
    /// The inclusion proof leads to another root.
    #[error("inclusion proof does not lead to the root")]
    RootMismatch,
    /// The consistency proof leads to another old root.
    #[error("consistency proof does not lead to the old root")]
    OldRootMismatch,
    /// The consistency proof leads to another new root (or, for equal sizes, the roots differ).
    #[error("consistency proof does not lead to the new root")]
    NewRootMismatch,
}

/// Checks that `proof` shows the entry with leaf hash `leaf` at `index` in the tree of `size`
/// entries with root `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(*p, r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(r, *p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    debug_assert_eq!(s_n, 0, "the length check ensures the walk reaches the root");
    if r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Checks that `proof` shows the tree of `old_size` entries with root `old_root` to be a prefix
/// of the tree of `new_size` entries with root `new_root` (RFC 9162 §2.1.4.2). Any tree extends
/// the empty one (whose root is fixed) and a tree extends itself, both with an empty proof.
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if old_size == 0 {
        return if *old_root == empty_root() {
            Ok(())
        } else {
            Err(ProofError::OldRootMismatch)
        };
    }
    if old_size == new_size {
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::NewRootMismatch)
        };
    }
    // When the old tree is a complete subtree, the verifier supplies its root as the proof's
    // first element.
    let (first, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (first, first);
    for c in rest {
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(*c, f_r);
            s_r = node_hash(*c, s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(s_r, *c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    debug_assert_eq!(s_n, 0, "the length check ensures the walk reaches the root");
    if f_r != *old_root {
        Err(ProofError::OldRootMismatch)
    } else if s_r != *new_root {
        Err(ProofError::NewRootMismatch)
    } else {
        Ok(())
    }
}

/// Hashes in an inclusion proof for `index` in a tree of `size` (index < size): the RFC walk
/// without the hashing, counting steps until `sn` reaches 0.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut len = 0;
    while s_n != 0 {
        if f_n & 1 == 0 && f_n == s_n {
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        }
        f_n >>= 1;
        s_n >>= 1;
        len += 1;
    }
    len
}

/// Hashes in a consistency proof from `old_size` to `new_size` (old ≤ new), the same way.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    if old_size == 0 || old_size == new_size {
        return 0;
    }
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut steps = 0;
    while s_n != 0 {
        if f_n & 1 == 0 && f_n == s_n {
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        }
        f_n >>= 1;
        s_n >>= 1;
        steps += 1;
    }
    // The first hash is the old root itself when the old tree is a complete subtree.
    if old_size.is_power_of_two() {
        steps
    } else {
        steps + 1
    }
}

#[cfg(test)]
mod tests;
