//! The verifier against proofs made by tlog_tiles alone, so generation and verification are
//! checked independently.

use super::*;
use crate::hash::leaf_hash;
use crate::tree::testing::{Reference, entry, ours};

fn their_inclusion(index: u64, size: u64, reference: &Reference) -> Vec<Hash> {
    tlog_tiles::prove_record(size, index, reference)
        .expect("reference holds the tree")
        .into_iter()
        .map(ours)
        .collect()
}

fn their_consistency(old: u64, new: u64, reference: &Reference) -> Vec<Hash> {
    tlog_tiles::prove_tree(new, old, reference)
        .expect("reference holds the tree")
        .into_iter()
        .map(ours)
        .collect()
}

fn flip(hash: Hash, bit: usize) -> Hash {
    let mut bytes = hash.0;
    bytes[(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash(bytes)
}

#[test]
fn tlog_tiles_inclusion_proofs_verify_for_all_pairs_to_300() {
    let reference = Reference::up_to(300);
    for size in 1..=300 {
        let root = reference.root(size);
        for index in 0..size {
            let proof = their_inclusion(index, size, &reference);
            assert_eq!(
                verify_inclusion(leaf_hash(&entry(index)), index, size, &proof, &root),
                Ok(()),
                "index {index} size {size}"
            );
            assert_eq!(inclusion_proof_len(index, size), proof.len());
        }
    }
}

#[test]
fn tlog_tiles_consistency_proofs_verify_for_all_pairs_to_200() {
    let reference = Reference::up_to(200);
    for new in 1..=200 {
        let new_root = reference.root(new);
        for old in 1..=new {
            let proof = their_consistency(old, new, &reference);
            let old_root = reference.root(old);
            assert_eq!(
                verify_consistency(old, &old_root, new, &new_root, &proof),
                Ok(()),
                "{old} -> {new}"
            );
            assert_eq!(consistency_proof_len(old, new), proof.len());
        }
    }
}

#[test]
fn tampered_inclusion_proofs_fail() {
    let reference = Reference::up_to(70);
    for size in 1..=70 {
        let root = reference.root(size);
        for index in 0..size {
            let leaf = leaf_hash(&entry(index));
            let proof = their_inclusion(index, size, &reference);
            for at in 0..proof.len() {
                for bit in [0, 77, 255] {
                    let mut bad = proof.clone();
                    bad[at] = flip(bad[at], bit + at);
                    assert_eq!(
                        verify_inclusion(leaf, index, size, &bad, &root),
                        Err(ProofError::RootMismatch)
                    );
                }
            }
            let wrong_leaf =
                verify_inclusion(flip(leaf, index as usize), index, size, &proof, &root);
            assert_eq!(wrong_leaf, Err(ProofError::RootMismatch));
            let wrong_root = verify_inclusion(leaf, index, size, &proof, &flip(root, 3));
            assert_eq!(wrong_root, Err(ProofError::RootMismatch));
            // Another index in the same tree, or the proof shown against another tree (with
            // that tree's own root): a wrong length or a wrong root, never acceptance.
            for other in (0..size).filter(|i| *i != index) {
                assert!(verify_inclusion(leaf, other, size, &proof, &root).is_err());
            }
            for other in (index + 1..=70).filter(|s| *s != size) {
                let other_root = reference.root(other);
                assert!(verify_inclusion(leaf, index, other, &proof, &other_root).is_err());
            }
            if let Some((_, shorter)) = proof.split_last() {
                assert_eq!(
                    verify_inclusion(leaf, index, size, shorter, &root),
                    Err(ProofError::WrongProofLength {
                        expected: proof.len(),
                        actual: proof.len() - 1
                    })
                );
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(matches!(
                verify_inclusion(leaf, index, size, &longer, &root),
                Err(ProofError::WrongProofLength { .. })
            ));
        }
        assert_eq!(
            verify_inclusion(leaf_hash(b""), size, size, &[], &root),
            Err(ProofError::IndexOutOfRange { index: size, size })
        );
    }
}

#[test]
fn tampered_consistency_proofs_fail() {
    let reference = Reference::up_to(70);
    for new in 2..=70 {
        let new_root = reference.root(new);
        for old in 1..new {
            let old_root = reference.root(old);
            let proof = their_consistency(old, new, &reference);
            for at in 0..proof.len() {
                for bit in [0, 100, 255] {
                    let mut bad = proof.clone();
                    bad[at] = flip(bad[at], bit + at);
                    assert!(matches!(
                        verify_consistency(old, &old_root, new, &new_root, &bad),
                        Err(ProofError::OldRootMismatch | ProofError::NewRootMismatch)
                    ));
                }
            }
            // A complete old tree's root is the walk's start, so a wrong one shows in the new
            // root; otherwise the proof rebuilds the old root and it shows there.
            let wrong_old = if old.is_power_of_two() {
                ProofError::NewRootMismatch
            } else {
                ProofError::OldRootMismatch
            };
            assert_eq!(
                verify_consistency(old, &flip(old_root, 9), new, &new_root, &proof),
                Err(wrong_old)
            );
            assert_eq!(
                verify_consistency(old, &old_root, new, &flip(new_root, 9), &proof),
                Err(ProofError::NewRootMismatch)
            );
            // The proof shown for other sizes, with those trees' own roots.
            for other in (1..new).filter(|o| *o != old) {
                let other_root = reference.root(other);
                let result = verify_consistency(other, &other_root, new, &new_root, &proof);
                assert!(
                    result.is_err(),
                    "{old} -> {new} accepted as {other} -> {new}"
                );
            }
            for other in (old + 1..=70).filter(|n| *n != new) {
                let other_root = reference.root(other);
                let result = verify_consistency(old, &old_root, other, &other_root, &proof);
                assert!(
                    result.is_err(),
                    "{old} -> {new} accepted as {old} -> {other}"
                );
            }
            if let Some((_, shorter)) = proof.split_last() {
                assert_eq!(
                    verify_consistency(old, &old_root, new, &new_root, shorter),
                    Err(ProofError::WrongProofLength {
                        expected: proof.len(),
                        actual: proof.len() - 1
                    })
                );
            }
            let mut longer = proof.clone();
            longer.insert(0, old_root);
            assert!(matches!(
                verify_consistency(old, &old_root, new, &new_root, &longer),
                Err(ProofError::WrongProofLength { .. })
            ));
            assert_eq!(
                verify_consistency(new, &new_root, old, &old_root, &proof),
                Err(ProofError::SizesOutOfOrder {
                    old_size: new,
                    new_size: old
                })
            );
        }
    }
}

#[test]
fn empty_and_equal_trees() {
    let reference = Reference::up_to(10);
    let root = reference.root(10);
    assert_eq!(verify_consistency(0, &empty_root(), 10, &root, &[]), Ok(()));
    assert_eq!(
        verify_consistency(0, &root, 10, &root, &[]),
        Err(ProofError::OldRootMismatch)
    );
    assert_eq!(
        verify_consistency(0, &empty_root(), 10, &root, &[root]),
        Err(ProofError::WrongProofLength {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(verify_consistency(10, &root, 10, &root, &[]), Ok(()));
    assert_eq!(
        verify_consistency(10, &root, 10, &reference.root(9), &[]),
        Err(ProofError::NewRootMismatch)
    );
    assert_eq!(
        verify_consistency(10, &root, 10, &root, &[root]),
        Err(ProofError::WrongProofLength {
            expected: 0,
            actual: 1
        })
    );
    let leaf = leaf_hash(&entry(0));
    assert_eq!(verify_inclusion(leaf, 0, 1, &[], &leaf), Ok(()));
    assert_eq!(
        verify_inclusion(leaf, 0, 0, &[], &leaf),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
}
