//! Revisions are bounded to 1..=2^53 - 1, at build and at open (a bundle signed by hand must
//! be refused too): a revision of u64::MAX would block every later promotion, and one above
//! i64::MAX would be stored negative.

use std::path::Path;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_bundles::{
    AuthorKey, BuildInfo, BundleFiles, MANIFEST_FILE, MAX_REVISION, PAYLOAD_TYPE, Problem,
    TrustedAuthors, build, open,
};
use tf_engine::Limits;

fn source() -> BundleFiles {
    BundleFiles::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/bundle"))
        .expect("example bundle")
}

fn info(revision: u64) -> BuildInfo {
    BuildInfo {
        revision,
        author: "policy team".into(),
        note: "example".into(),
        tickets: vec![],
        created_unix_s: 1_795_000_000,
        republishes: None,
    }
}

fn author() -> AuthorKey {
    AuthorKey::generate(&mut ChaCha20Rng::seed_from_u64(7))
}

#[test]
fn build_refuses_a_revision_outside_the_bound_and_says_the_bound() {
    let mut key = author();
    for revision in [0, MAX_REVISION + 1, 1 << 63, u64::MAX] {
        let refusal =
            build(source(), info(revision), &mut key, &Limits::DEFAULT).expect_err("out of range");
        assert_eq!(refusal.0, [Problem::RevisionOutOfRange { revision }]);
        assert_eq!(refusal.0[0].code(), "revision-out-of-range");
        let message = refusal.to_string();
        assert!(message.contains("1 to 9007199254740991"), "{message}");
    }
    let last = build(source(), info(MAX_REVISION), &mut key, &Limits::DEFAULT)
        .expect("the bound itself builds");
    assert_eq!(last.revision(), MAX_REVISION);
}

#[test]
fn a_trusted_author_signing_an_out_of_range_revision_by_hand_is_refused_at_open() {
    let mut key = author();
    let trusted = TrustedAuthors::new(vec![key.public_key()]);
    for (revision, republishes) in [
        (u64::MAX, None),
        (1 << 63, None),
        (0, None),
        (5, Some(u64::MAX)),
        (5, Some(5)),
    ] {
        let mut files = build(source(), info(1), &mut key, &Limits::DEFAULT)
            .expect("the example builds")
            .files;
        let text =
            String::from_utf8(files.get(MANIFEST_FILE).expect("manifest").to_vec()).expect("utf-8");
        let envelope = tf_receipts::Envelope::from_json(&text).expect("envelope");
        let mut manifest: serde_json::Value =
            serde_json::from_slice(&envelope.payload).expect("json");
        manifest["revision"] = revision.into();
        if let Some(earlier) = republishes {
            manifest["republishes"] = earlier.into();
        }
        let payload = serde_json::to_vec(&manifest).expect("json");
        let signed = key.sign(PAYLOAD_TYPE, payload);
        files.insert(MANIFEST_FILE, signed.to_json().into_bytes());

        let refusal = open(files, Some(&trusted), &Limits::DEFAULT).expect_err("out of range");
        let expected = if republishes.is_some() {
            "bad-manifest"
        } else {
            "revision-out-of-range"
        };
        assert_eq!(
            refusal.0[0].code(),
            expected,
            "{revision} {republishes:?}: {refusal}"
        );
    }
}

#[test]
fn a_stale_revision_message_never_overflows() {
    let mut key = author();
    let bundle = build(source(), info(3), &mut key, &Limits::DEFAULT).expect("builds");
    let stale = bundle.check_above(u64::MAX).expect_err("stale");
    assert!(stale.to_string().contains(&u64::MAX.to_string()), "{stale}");
}
