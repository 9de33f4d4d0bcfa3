use std::collections::BTreeSet;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::*;
use crate::error::StoreError;
use crate::store::MemoryStore;
use crate::tree::testing::{Reference, build, check_tiles, entry};

/// Our tile ids, as tlog_tiles' (height 8) coordinates, or the entry bundle's.
fn key(tile: &TileId) -> (Option<u8>, u64, u32) {
    let level = match tile.level {
        TileLevel::Hashes(l) => Some(l),
        TileLevel::Entries => None,
    };
    (level, tile.index, u32::from(tile.width))
}

/// What C2SP says must be published when a tree grows from `old` to `new` entries: hash tiles
/// as tlog_tiles computes them, and the entry bundles like the level-0 tiles.
fn expected_tiles(old: u64, new: u64) -> BTreeSet<(Option<u8>, u64, u32)> {
    let mut expected = BTreeSet::new();
    for tile in tlog_tiles::Tile::new_tiles(8, old, new) {
        expected.insert((Some(tile.level()), tile.level_index(), tile.width()));
        if tile.level() == 0 {
            expected.insert((None, tile.level_index(), tile.width()));
        }
    }
    expected
}

#[test]
fn every_size_to_1000_matches_tlog_tiles_roots_tiles_and_paths() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut tree = Tree::empty();
    let mut store = MemoryStore::new();
    let mut reference = Reference::new();
    let mut taken_at = 0;
    assert_eq!(tree.root(), crate::empty_root());
    for i in 0..1000u64 {
        assert_eq!(tree.append(&entry(i)), i);
        let size = i + 1;
        reference.grow_to(size);
        assert_eq!(tree.size(), size);
        assert_eq!(tree.root(), reference.root(size), "size {size}");
        // Take at irregular intervals, so partial tiles are overwritten by wider ones.
        if rng.next_u32() % 4 != 0 && size != 1000 {
            continue;
        }
        let tiles = tree.take_tiles();
        let got: BTreeSet<_> = tiles.iter().map(|(tile, _)| key(tile)).collect();
        assert_eq!(got.len(), tiles.len(), "no tile twice in one batch");
        assert_eq!(got, expected_tiles(taken_at, size), "{taken_at} -> {size}");
        for (tile, bytes) in &tiles {
            assert!(TileId::new(tile.level, tile.index, tile.width).is_ok());
            match tile.level {
                TileLevel::Hashes(level) => {
                    let theirs =
                        tlog_tiles::Tile::new(8, level, tile.index, u32::from(tile.width), false);
                    assert_eq!(tile.path(), theirs.path().replacen("tile/8/", "tile/", 1));
                    let data = theirs
                        .read_data(&reference)
                        .expect("reference holds the tile's hashes");
                    assert_eq!(*bytes, data, "{tile}");
                }
                _ => {
                    let first = tile.index * 256;
                    let entries: Vec<Vec<u8>> = crate::bundle_entries(bytes)
                        .map(|e| e.map(<[u8]>::to_vec))
                        .collect::<Result<_, _>>()
                        .expect("well-formed bundle");
                    let want: Vec<Vec<u8>> = (first..first + u64::from(tile.width))
                        .map(|i| entry(i).to_vec())
                        .collect();
                    assert_eq!(entries, want, "{tile}");
                }
            }
        }
        store.write_all(tiles);
        taken_at = size;
        check_tiles(&store, size, tree.root(), &reference);
    }
}

#[test]
fn tile_boundary_sizes_match_tlog_tiles() {
    let mut tree = Tree::empty();
    let mut store = MemoryStore::new();
    let mut reference = Reference::new();
    let checked = [255, 256, 257, 511, 512, 65_535, 65_536, 65_537];
    for i in 0..65_537u64 {
        tree.append(&entry(i));
        let size = i + 1;
        if size % 1000 == 0 {
            store.write_all(tree.take_tiles());
        }
        if checked.contains(&size) {
            store.write_all(tree.take_tiles());
            reference.grow_to(size);
            assert_eq!(tree.root(), reference.root(size), "size {size}");
            check_tiles(&store, size, tree.root(), &reference);
        }
    }
}

#[test]
fn tile_counts_follow_the_c2sp_examples() {
    // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level
    // 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    // partial level 2 tile of width 1."
    let mut tree = Tree::empty();
    for i in 0..70_000 {
        tree.append(&entry(i));
    }
    let tiles = tree.take_tiles();
    let count = |level: TileLevel, width: u16| {
        tiles
            .iter()
            .filter(|(t, _)| t.level == level && t.width == width)
            .count()
    };
    assert_eq!(count(TileLevel::Hashes(0), 256), 273);
    assert_eq!(count(TileLevel::Hashes(0), 112), 1);
    assert_eq!(count(TileLevel::Hashes(1), 256), 1);
    assert_eq!(count(TileLevel::Hashes(1), 17), 1);
    assert_eq!(count(TileLevel::Hashes(2), 1), 1);
    assert_eq!(count(TileLevel::Entries, 256), 273);
    assert_eq!(count(TileLevel::Entries, 112), 1);
    assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1 + 273 + 1);

    // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
    // tile of width 1."
    let (mut tree, _) = build(255, 1000);
    tree.append(&entry(255));
    let paths: Vec<String> = tree.take_tiles().iter().map(|(t, _)| t.path()).collect();
    assert_eq!(paths, ["tile/entries/000", "tile/0/000", "tile/1/000.p/1"]);
}

#[test]
fn take_tiles_returns_only_what_changed() {
    let (mut tree, _) = build(300, 1);
    assert!(tree.take_tiles().is_empty());
    tree.append(&entry(300));
    let paths: Vec<String> = tree.take_tiles().iter().map(|(t, _)| t.path()).collect();
    assert_eq!(paths, ["tile/0/001.p/45", "tile/entries/001.p/45"]);
    // Completing tile 1 of level 0 adds the second level-1 hash.
    for i in 301..512 {
        tree.append(&entry(i));
    }
    let paths: Vec<String> = tree.take_tiles().iter().map(|(t, _)| t.path()).collect();
    assert_eq!(paths, ["tile/entries/001", "tile/0/001", "tile/1/000.p/2"]);
}

#[test]
fn resume_continues_like_an_uninterrupted_tree() {
    let mut tree = Tree::empty();
    let mut store = MemoryStore::new();
    for size in 0..=600u64 {
        store.write_all(tree.take_tiles());
        let mut resumed = Tree::resume(size, &store).expect("store holds the tree");
        assert_eq!(resumed.size(), size);
        assert_eq!(resumed.root(), tree.root(), "size {size}");
        assert!(resumed.take_tiles().is_empty(), "nothing new to store");
        let mut continued = tree.clone();
        for i in size..size + 260 {
            assert_eq!(resumed.append(&entry(i)), i);
            continued.append(&entry(i));
            if i % 97 == 0 {
                assert_eq!(resumed.take_tiles(), continued.take_tiles(), "size {size}");
            }
        }
        assert_eq!(resumed.root(), continued.root());
        assert_eq!(resumed.take_tiles(), continued.take_tiles(), "size {size}");
        tree.append(&entry(size));
    }
}

#[test]
fn resume_reads_prefixes_of_wider_tiles() {
    // The store is at 66,000 entries; resume at smaller sizes, around tile boundaries.
    let (_, store) = build(66_000, 5000);
    let reference = Reference::up_to(66_000);
    let sizes = (0..600).chain(65_000..65_700).chain([65_999, 66_000]);
    for size in sizes {
        let mut resumed = Tree::resume(size, &store).expect("store holds the tree");
        assert_eq!(resumed.root(), reference.root(size), "size {size}");
        let end = (size + 300).min(66_000);
        for i in size..end {
            resumed.append(&entry(i));
        }
        assert_eq!(
            resumed.root(),
            reference.root(end),
            "size {size} + {}",
            end - size
        );
        // Whatever it emits is what the store holds, or a prefix of it.
        for (tile, bytes) in resumed.take_tiles() {
            let stored = store
                .read_tile(tile.level, tile.index)
                .expect("the store is ahead");
            assert!(stored.starts_with(&bytes), "{tile} from {size}");
        }
    }
}

#[test]
fn resume_rejects_damaged_stores() {
    let (_, store) = build(700, 700);
    let position = |level, index| TileId::full(level, index);

    let mut emptied = store.clone();
    emptied.write(position(TileLevel::Hashes(1), 0), Vec::new());
    assert!(matches!(
        Tree::resume(700, &emptied),
        Err(LogError::TileTooShort { tile, got_bytes: 0 })
            if tile == TileId { level: TileLevel::Hashes(1), index: 0, width: 2 }
    ));
    assert!(matches!(
        Tree::resume(700, &MemoryStore::new()),
        Err(LogError::Store(StoreError::Missing { .. }))
    ));

    let mut short = store.clone();
    let level0 = store
        .read_tile(TileLevel::Hashes(0), 2)
        .expect("partial tile");
    short.write(
        position(TileLevel::Hashes(0), 2),
        level0[..100 * 32].to_vec(),
    );
    assert!(matches!(
        Tree::resume(700, &short),
        Err(LogError::TileTooShort { tile, .. })
            if tile == TileId { level: TileLevel::Hashes(0), index: 2, width: 188 }
    ));

    let bundle = store
        .read_tile(TileLevel::Entries, 2)
        .expect("partial bundle");
    let mut truncated = store.clone();
    truncated.write(
        position(TileLevel::Entries, 2),
        bundle[..bundle.len() - 1].to_vec(),
    );
    assert!(matches!(
        Tree::resume(700, &truncated),
        Err(LogError::TileTooShort { tile, .. }) if tile.level == TileLevel::Entries
    ));

    let mut forged = store.clone();
    let mut changed = bundle.clone();
    changed[2 + 34 * 10] ^= 1;
    forged.write(position(TileLevel::Entries, 2), changed);
    assert_eq!(
        Tree::resume(700, &forged).map(|t| t.size()),
        Err(LogError::InconsistentTile {
            tile: TileId {
                level: TileLevel::Entries,
                index: 2,
                width: 188
            }
        })
    );
    // Sizes the damage does not reach still resume.
    assert!(Tree::resume(512, &forged).is_ok());
}

#[test]
fn memory_stays_a_few_tiles_per_level() {
    let mut tree = Tree::empty();
    for i in 0..70_000 {
        tree.append(&entry(i));
        if i % 1000 == 0 {
            drop(tree.take_tiles());
        }
    }
    drop(tree.take_tiles());
    assert!(tree.full.is_empty());
    assert!(tree.edge.len() <= 64);
    for partial in &tree.partials {
        assert!(partial.capacity() <= TILE_BYTES);
    }
    assert!(tree.bundle.capacity() <= 2 * 256 * (2 + 32));
    assert!(format!("{tree:?}").len() < 200);
}

#[test]
fn oversized_entries_are_refused_without_changing_the_tree() {
    let mut tree = Tree::empty();
    tree.append(b"first");
    let root = tree.root();
    assert_eq!(
        tree.try_append(&vec![0; MAX_ENTRY_SIZE + 1]),
        Err(LogError::EntryTooLarge {
            len: MAX_ENTRY_SIZE + 1
        })
    );
    assert_eq!((tree.size(), tree.root()), (1, root));
    assert_eq!(tree.try_append(&vec![0; MAX_ENTRY_SIZE]), Ok(1));
    assert_eq!(tree.append(b""), 2);
}
