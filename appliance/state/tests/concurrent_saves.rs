//! Shards save registered keys concurrently: two tenants on different shards may register the
//! same key at once, and one key id may be stored for both curves. Each writer has its own
//! temporary file, so every save succeeds and leaves exactly its file, whole, and nothing else.
//! (That the directory is synced after each rename is not observable from a test.)

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use tf_engine::KeyId;
use tf_engine::groth16::Curve;
use tf_state::{KeyStore, State, StoredKey};

const THREADS: usize = 8;
const ROUNDS: usize = 30;

fn key(bytes: Vec<u8>, curve: Curve) -> StoredKey {
    StoredKey {
        id: KeyId::of_canonical_bytes(&bytes),
        curve,
        bytes,
    }
}

/// The keys every thread saves in a round: one id on both curves, and another key.
fn shared(round: usize) -> Vec<StoredKey> {
    let filled = |fill: u8, len: usize| {
        let mut bytes = vec![fill; len];
        bytes[0] = round as u8;
        bytes
    };
    let both = filled(0xb0, 96);
    vec![
        key(both.clone(), Curve::Bn254),
        key(both, Curve::Bls12_381),
        key(filled(0x5a, 64), Curve::Bn254),
    ]
}

/// The key only `thread` saves in a round.
fn own(round: usize, thread: usize) -> StoredKey {
    key(vec![round as u8, thread as u8, 0x0e], Curve::Bls12_381)
}

fn file_name(key: &StoredKey) -> String {
    let curve = match key.curve {
        Curve::Bn254 => "bn254",
        _ => "bls12-381",
    };
    format!("{}.{curve}", key.id)
}

#[test]
fn concurrent_saves_of_the_same_and_different_keys_leave_exactly_their_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = State::open_or_init(&dir.path().join("state"), &["localhost".into()])
        .expect("state directory");
    let store = KeyStore::new(&state);
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (store, start) = (store.clone(), start.clone());
            std::thread::spawn(move || {
                // One tenant per thread: a tenant's grants are written by its home shard only.
                let tenant = format!("tenant-{thread}");
                for round in 0..ROUNDS {
                    start.wait();
                    for key in shared(round).iter().chain([&own(round, thread)]) {
                        store
                            .save(&tenant, key)
                            .unwrap_or_else(|e| panic!("thread {thread} round {round}: {e}"));
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("every save succeeded");
    }

    let mut expected = BTreeSet::new();
    for round in 0..ROUNDS {
        let keys = shared(round)
            .into_iter()
            .chain((0..THREADS).map(|thread| own(round, thread)));
        for key in keys {
            let path = state.path("verifying-keys").join(file_name(&key));
            let stored = std::fs::read(&path).expect("saved");
            assert_eq!(stored, key.bytes, "{} holds its own bytes", path.display());
            expected.insert(file_name(&key));
        }
    }
    let found: BTreeSet<String> = std::fs::read_dir(state.path("verifying-keys"))
        .expect("listed")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .collect();
    assert_eq!(
        found, expected,
        "exactly the saved keys, no temporary files"
    );

    let tenants = std::fs::read_dir(state.path("tenants")).expect("tenants");
    for entry in tenants {
        let entry = entry.expect("entry");
        for file in std::fs::read_dir(entry.path()).expect("tenant dir") {
            let name = file.expect("entry").file_name();
            assert!(
                !name.to_string_lossy().contains("partial"),
                "{name:?} left behind"
            );
        }
    }
    for thread in 0..THREADS {
        let grants = store.grants(&format!("tenant-{thread}")).expect("grants");
        // Per round: the shared id (both curves are one id), the other shared key, its own.
        assert_eq!(grants.len(), ROUNDS * 3, "tenant-{thread}");
    }
    let loaded = store.load_all().expect("loads");
    assert!(loaded.unreadable.is_empty(), "{:?}", loaded.unreadable);
    assert_eq!(loaded.keys.len(), expected.len());
}

#[test]
fn a_failed_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("occupied");
    // A directory where the file should go: the rename fails after the temporary was written.
    std::fs::create_dir_all(target.join("inside")).expect("directory");
    let err =
        tf_state::write_private_file(&target, b"secret").expect_err("cannot replace a directory");
    assert!(err.to_string().contains("occupied"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("listed")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        left,
        [std::ffi::OsString::from("occupied")],
        "no temporary file remains"
    );
}
