//! Feeds arbitrary bytes to a policy bundle archive's path as the appliance opens one: read as
//! a gzipped tar within the size, count and path limits (`bundle verify`, promotion), then
//! opened against a trusted author (promotion: signature, file hashes, tenants, budgets, keys,
//! Cedar policies) and without one (`bundle diff`). Whatever reads as an archive writes back
//! as one that reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_bundles::{BundleFiles, TrustedAuthors};
use tf_engine::Limits;

fuzz_target!(|data: &[u8]| {
    let Ok(files) = BundleFiles::from_tar_gz(data) else {
        return;
    };
    let again = BundleFiles::from_tar_gz(&files.to_tar_gz());
    assert_eq!(again.as_ref().ok(), Some(&files), "{again:?}");
    let trusted = TrustedAuthors::new(vec![tf_fuzz::bundle_author().public_key()]);
    let limits = Limits::DEFAULT;
    let checked = tf_bundles::open(files.clone(), Some(&trusted), &limits);
    let unchecked = tf_bundles::open(files, None, &limits);
    // A signature only ever adds a reason to refuse.
    if let Ok(bundle) = checked {
        let unchecked = unchecked.expect("a bundle that opens signed opens unsigned");
        assert_eq!(unchecked.hash, bundle.hash);
    }
});
