use std::cell::Cell;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::*;
use crate::error::StoreError;
use crate::hash::leaf_hash;
use crate::store::MemoryStore;
use crate::tile::TileLevel;
use crate::tree::Tree;
use crate::tree::testing::{Reference, build, entry, ours, theirs};
use crate::verify::{verify_consistency, verify_inclusion};

/// Indices (or old sizes) to try below `size`: all of them for small trees, else the ends, the
/// tile boundaries and a seeded sample.
fn sample(size: u64, rng: &mut ChaCha20Rng) -> Vec<u64> {
    if size <= 64 {
        return (0..size).collect();
    }
    let mut picks = vec![0, 1, 2, size / 2, size - 2, size - 1];
    picks.extend(
        [255, 256, 257, 65_535, 65_536]
            .into_iter()
            .filter(|i| *i < size),
    );
    picks.extend((0..10).map(|_| rng.next_u64() % size));
    picks
}

fn check_inclusion(index: u64, size: u64, store: &MemoryStore, reference: &Reference) {
    let root = reference.root(size);
    let leaf = leaf_hash(&entry(index));
    let proof = inclusion_proof(index, size, store).expect("store holds the tree");
    let expected: Vec<Hash> = tlog_tiles::prove_record(size, index, reference)
        .expect("reference holds the tree")
        .into_iter()
        .map(ours)
        .collect();
    assert_eq!(proof, expected, "index {index} size {size}");
    let proof_theirs: Vec<_> = proof.iter().copied().map(theirs).collect();
    tlog_tiles::check_record(&proof_theirs, size, theirs(root), index, theirs(leaf))
        .unwrap_or_else(|e| panic!("tlog_tiles rejects index {index} size {size}: {e}"));
    assert_eq!(verify_inclusion(leaf, index, size, &proof, &root), Ok(()));
}

fn check_consistency(old: u64, new: u64, store: &MemoryStore, reference: &Reference) {
    let (old_root, new_root) = (reference.root(old), reference.root(new));
    let proof = consistency_proof(old, new, store).expect("store holds the tree");
    if old == 0 {
        assert!(proof.is_empty());
    } else {
        let expected: Vec<Hash> = tlog_tiles::prove_tree(new, old, reference)
            .expect("reference holds the tree")
            .into_iter()
            .map(ours)
            .collect();
        assert_eq!(proof, expected, "{old} -> {new}");
        let proof_theirs: Vec<_> = proof.iter().copied().map(theirs).collect();
        tlog_tiles::check_tree(&proof_theirs, new, theirs(new_root), old, theirs(old_root))
            .unwrap_or_else(|e| panic!("tlog_tiles rejects {old} -> {new}: {e}"));
    }
    assert_eq!(
        verify_consistency(old, &old_root, new, &new_root, &proof),
        Ok(())
    );
}

#[test]
fn inclusion_proofs_equal_tlog_tiles_for_every_size_to_1000() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (_, store) = build(1000, 7);
    let reference = Reference::up_to(1000);
    for size in 1..=1000 {
        for index in sample(size, &mut rng) {
            check_inclusion(index, size, &store, &reference);
        }
    }
}

#[test]
fn consistency_proofs_equal_tlog_tiles_for_every_size_to_1000() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (_, store) = build(1000, 13);
    let reference = Reference::up_to(1000);
    for new in 1..=1000 {
        for old in sample(new, &mut rng).into_iter().chain([new]) {
            check_consistency(old, new, &store, &reference);
        }
    }
}

#[test]
fn proofs_from_a_store_exactly_at_each_size() {
    // Partial tiles exactly as wide as the tree: nothing beyond the size to lean on.
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut tree = Tree::empty();
    let mut store = MemoryStore::new();
    let mut reference = Reference::new();
    for size in 1..=600u64 {
        tree.append(&entry(size - 1));
        store.write_all(tree.take_tiles());
        reference.grow_to(size);
        for index in sample(size, &mut rng).into_iter().take(12) {
            check_inclusion(index, size, &store, &reference);
            check_consistency(index, size, &store, &reference);
        }
    }
}

#[test]
fn proofs_at_tile_boundaries_equal_tlog_tiles() {
    let (_, store) = build(65_537, 4096);
    let reference = Reference::up_to(65_537);
    let sizes = [255, 256, 257, 511, 512, 513, 65_535, 65_536, 65_537];
    let points = [
        0, 1, 127, 128, 254, 255, 256, 257, 511, 512, 32_768, 65_279, 65_280, 65_534, 65_535,
        65_536,
    ];
    for size in sizes {
        for &index in points.iter().filter(|i| **i < size) {
            check_inclusion(index, size, &store, &reference);
            check_consistency(index, size, &store, &reference);
        }
        for old in sizes.into_iter().filter(|old| *old <= size) {
            check_consistency(old, size, &store, &reference);
        }
    }
}

/// Counts tile reads, to check that proofs read O(log n) tiles.
struct Counting<'a> {
    store: &'a MemoryStore,
    reads: Cell<usize>,
}

impl TileStore for Counting<'_> {
    fn read_tile(&self, level: TileLevel, index: u64) -> Result<Vec<u8>, StoreError> {
        self.reads.set(self.reads.get() + 1);
        self.store.read_tile(level, index)
    }
}

#[test]
fn proofs_read_a_few_tiles_per_level() {
    let (_, store) = build(70_000, 10_000);
    let counting = Counting {
        store: &store,
        reads: Cell::new(0),
    };
    // Three tile levels: at most the tile on the path and the right edge's tile per level.
    for (index, size) in [
        (0, 70_000),
        (12_345, 70_000),
        (69_999, 70_000),
        (300, 65_537),
    ] {
        counting.reads.set(0);
        inclusion_proof(index, size, &counting).expect("stored");
        assert!(counting.reads.get() <= 6, "{} reads", counting.reads.get());
        counting.reads.set(0);
        consistency_proof(index + 1, size, &counting).expect("stored");
        assert!(counting.reads.get() <= 6, "{} reads", counting.reads.get());
    }
}

#[test]
fn bad_requests_are_typed_errors() {
    let (_, store) = build(300, 300);
    assert_eq!(
        inclusion_proof(300, 300, &store),
        Err(LogError::IndexOutOfRange {
            index: 300,
            size: 300
        })
    );
    assert_eq!(
        inclusion_proof(0, 0, &store),
        Err(LogError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(inclusion_proof(0, 1, &store), Ok(Vec::new()));
    assert_eq!(
        consistency_proof(301, 300, &store),
        Err(LogError::SizesOutOfOrder {
            old_size: 301,
            new_size: 300
        })
    );
    assert_eq!(consistency_proof(0, 300, &store), Ok(Vec::new()));
    assert_eq!(consistency_proof(300, 300, &store), Ok(Vec::new()));
    assert!(matches!(
        inclusion_proof(0, 301, &store),
        Err(LogError::TileTooShort { .. })
    ));
    assert!(matches!(
        consistency_proof(10, 600, &store),
        Err(LogError::TileTooShort { .. } | LogError::Store(StoreError::Missing { .. }))
    ));
    assert!(matches!(
        inclusion_proof(5, 10, &MemoryStore::new()),
        Err(LogError::Store(StoreError::Missing { .. }))
    ));
}
