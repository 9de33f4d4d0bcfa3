//! The control plane's actors without a runtime beyond actix's: promotion and rollback against
//! an in-memory [`FakeShards`], and the worker pattern over a real ledger file.

mod compliance;
mod drift_say;
mod fake_shards;
mod follow;
mod log;
mod onboarding;
mod promotion;
mod revisions;
mod scenarios;
mod webhooks;
mod worker;

use std::path::{Path, PathBuf};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_bundles::{AuthorKey, BuildInfo, BundleFiles, TrustedAuthors};
use tf_engine::Limits;

/// The repository's root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A deterministic bundle author.
fn author(seed: u8) -> AuthorKey {
    AuthorKey::generate(&mut ChaCha20Rng::from_seed([seed; 32]))
}

/// The documented example bundle, signed at `revision`, as an archive.
fn example_archive(revision: u64, key: &mut AuthorKey) -> Vec<u8> {
    let files =
        BundleFiles::from_dir(&repo().join("docs/examples/bundle")).expect("example bundle");
    signed_archive(files, revision, key)
}

/// The example bundle with a verifying key from the Groth16 fixtures in its registry.
fn archive_with_a_key(revision: u64, key: &mut AuthorKey) -> Vec<u8> {
    let mut files =
        BundleFiles::from_dir(&repo().join("docs/examples/bundle")).expect("example bundle");
    let fixture = std::fs::read(repo().join("tests/fixtures/groth16/bn128/verification_key.json"))
        .expect("fixture key");
    files.insert("keys/multiplier.json", fixture);
    signed_archive(files, revision, key)
}

fn signed_archive(files: BundleFiles, revision: u64, key: &mut AuthorKey) -> Vec<u8> {
    let info = BuildInfo {
        revision,
        author: "policy team".into(),
        note: format!("revision {revision}"),
        tickets: vec![],
        created_unix_s: 1_795_000_000,
        republishes: None,
    };
    tf_bundles::build(files, info, key, &Limits::DEFAULT)
        .expect("the example builds")
        .files
        .to_tar_gz()
}

fn trusting(key: &AuthorKey) -> TrustedAuthors {
    TrustedAuthors::new(vec![key.public_key()])
}
