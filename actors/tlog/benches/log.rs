//! What the transparency log costs: appending entries (hashed and tiled), proofs from stored
//! tiles and their verification, and signing a checkpoint.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use tf_tlog::{
    Checkpoint, MemoryStore, NoteSigner, Tree, consistency_proof, inclusion_proof, leaf_hash,
    tree_root, verify_consistency, verify_inclusion,
};

const SIZE: u64 = 1_000_000;

/// Entry `i`: a 32-byte digest, as the appliance logs for each receipt.
fn entry(i: u64) -> [u8; 32] {
    Sha256::digest(i.to_be_bytes()).into()
}

/// A tree of `size` entries, its tiles taken every 1000 entries into a memory store.
fn build(size: u64) -> (Tree, MemoryStore) {
    let mut tree = Tree::empty();
    let mut store = MemoryStore::new();
    for i in 0..size {
        tree.append(&entry(i));
        if (i + 1) % 1000 == 0 {
            store.write_all(tree.take_tiles());
        }
    }
    store.write_all(tree.take_tiles());
    (tree, store)
}

fn append(c: &mut Criterion) {
    let entries: Vec<[u8; 32]> = (0..1000).map(entry).collect();
    let mut tree = Tree::empty();
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("1000 entries + take_tiles", |b| {
        b.iter(|| {
            for e in &entries {
                black_box(tree.append(e));
            }
            black_box(tree.take_tiles())
        })
    });
    group.finish();
}

fn proofs(c: &mut Criterion) {
    let (tree, store) = build(SIZE);
    let root = tree.root();
    assert_eq!(tree_root(SIZE, &store), Ok(root));
    let index = 123_457;
    let leaf = leaf_hash(&entry(index));
    let old = 654_321;
    let old_root = tree_root(old, &store).expect("stored");

    let mut group = c.benchmark_group("proofs at size 1,000,000");
    group.bench_function("inclusion proof", |b| {
        b.iter(|| inclusion_proof(black_box(index), SIZE, &store).expect("stored"))
    });
    let proof = inclusion_proof(index, SIZE, &store).expect("stored");
    group.bench_function("inclusion verify", |b| {
        b.iter(|| verify_inclusion(leaf, black_box(index), SIZE, &proof, &root))
    });
    group.bench_function("consistency proof", |b| {
        b.iter(|| consistency_proof(black_box(old), SIZE, &store).expect("stored"))
    });
    let proof = consistency_proof(old, SIZE, &store).expect("stored");
    group.bench_function("consistency verify", |b| {
        b.iter(|| verify_consistency(black_box(old), &old_root, SIZE, &root, &proof))
    });
    group.finish();
}

fn checkpoint(c: &mut Criterion) {
    let signer = NoteSigner::new("tf.example/appliance-1", &[7; 32]).expect("valid name");
    let checkpoint =
        Checkpoint::new(signer.name(), SIZE, leaf_hash(b"root")).expect("valid origin");
    c.bench_function("checkpoint sign (text + Ed25519 note)", |b| {
        b.iter(|| signer.sign_checkpoint(black_box(&checkpoint)))
    });
}

criterion_group!(benches, append, proofs, checkpoint);
criterion_main!(benches);
