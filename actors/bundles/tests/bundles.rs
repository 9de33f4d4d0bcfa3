//! Bundles built, signed, opened, tampered with and compared; admission decided by the
//! example bundle's Cedar policies.

use std::path::{Path, PathBuf};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_bundles::{
    Admission, AuthorKey, BuildInfo, Bundle, BundleFiles, Change, MANIFEST_FILE, Problem,
    StatementKind, TrustedAuthors, build, diff, open,
};
use tf_engine::Limits;
use tf_wire::DatasetClass;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The documented example bundle plus a verifying key from the Groth16 fixtures.
fn source() -> BundleFiles {
    let mut files =
        BundleFiles::from_dir(&repo().join("docs/examples/bundle")).expect("example bundle");
    let key = std::fs::read(repo().join("tests/fixtures/groth16/bn128/verification_key.json"))
        .expect("fixture key");
    files.insert("keys/multiplier.json", key);
    files
}

fn author(seed: u64) -> AuthorKey {
    AuthorKey::generate(&mut ChaCha20Rng::seed_from_u64(seed))
}

fn info(revision: u64) -> BuildInfo {
    BuildInfo {
        revision,
        author: "policy team".into(),
        note: "example".into(),
        tickets: vec!["https://tickets.example/POL-1".into()],
        created_unix_s: 1_795_000_000,
        republishes: None,
    }
}

fn built(files: BundleFiles, revision: u64, key: &mut AuthorKey) -> Bundle {
    build(files, info(revision), key, &Limits::DEFAULT).expect("the example builds")
}

fn trust(key: &AuthorKey) -> TrustedAuthors {
    TrustedAuthors::new(vec![key.public_key()])
}

fn reopen(files: BundleFiles, key: &AuthorKey) -> Result<Bundle, Vec<Problem>> {
    open(files, Some(&trust(key)), &Limits::DEFAULT).map_err(|r| r.0)
}

#[test]
fn a_built_bundle_survives_its_archive_and_opens_with_the_trusted_key() {
    let mut key = author(1);
    let bundle = built(source(), 7, &mut key);
    let archive = bundle.files.to_tar_gz();
    let again = reopen(BundleFiles::from_tar_gz(&archive).expect("archive"), &key)
        .expect("opens with the author's key");
    assert_eq!(again.revision(), 7);
    assert_eq!(again.hash, bundle.hash);
    assert_eq!(again.author_key_id, key.key_id());
    assert!(again.signature_checked);
    assert_eq!(again.manifest.created, "2026-11-18T11:06:40Z");
    assert_eq!(
        again.content.tenants.len(),
        4,
        "demo, acme, globex and the canary's"
    );
    let acme = &again.content.tenants[1];
    assert_eq!(
        (acme.id.as_str(), acme.weight, acme.caps.len()),
        ("acme", 2, 1)
    );
    assert_eq!(again.content.keys.len(), 1);
    assert_eq!(again.content.budgets.cost.groth16_bn254, 2);
    // Five files listed: everything but the manifest itself.
    assert_eq!(again.manifest.files.len(), 5);
}

#[test]
fn a_flipped_byte_names_the_altered_file() {
    let mut key = author(1);
    let mut files = built(source(), 1, &mut key).files;
    let mut tenants = files.get("tenants.toml").expect("tenants").to_vec();
    tenants[40] ^= 0x01;
    files.insert("tenants.toml", tenants);
    let problems = reopen(files, &key).expect_err("altered");
    assert_eq!(problems, vec![Problem::AlteredFile("tenants.toml".into())]);
}

#[test]
fn a_removed_or_added_file_is_named() {
    let mut key = author(1);
    let mut files = built(source(), 1, &mut key).files;
    files.remove("keys/multiplier.json");
    files.insert("keys/extra.json", b"{}".to_vec());
    let problems = reopen(files, &key).expect_err("changed file set");
    assert_eq!(
        problems,
        vec![
            Problem::MissingFile("keys/multiplier.json".into()),
            Problem::UnlistedFile("keys/extra.json".into()),
        ]
    );
}

#[test]
fn an_untrusted_author_is_refused_with_its_key_id() {
    let mut stranger = author(2);
    let files = built(source(), 1, &mut stranger).files;
    let problems = reopen(files, &author(1)).expect_err("untrusted");
    assert_eq!(
        problems,
        vec![Problem::UntrustedAuthor {
            key_id: stranger.key_id()
        }]
    );
}

#[test]
fn a_rewritten_manifest_breaks_the_signature() {
    let mut key = author(1);
    let mut files = built(source(), 1, &mut key).files;
    let text =
        String::from_utf8(files.get(MANIFEST_FILE).expect("manifest").to_vec()).expect("utf-8");
    let mut envelope = tf_receipts::Envelope::from_json(&text).expect("envelope");
    let payload = String::from_utf8(envelope.payload.clone()).expect("utf-8");
    // Raise the revision without re-signing: exactly what a downgrade attacker would try.
    envelope.payload = payload
        .replace("\"revision\": 1,", "\"revision\": 99,")
        .into_bytes();
    files.insert(MANIFEST_FILE, envelope.to_json().into_bytes());
    let problems = reopen(files, &key).expect_err("forged");
    assert_eq!(problems[0].code(), "bad-signature");
}

#[test]
fn a_revision_at_or_below_the_active_one_is_stale() {
    let mut key = author(1);
    let bundle = built(source(), 4, &mut key);
    assert!(bundle.check_above(3).is_ok());
    let stale = bundle.check_above(4).expect_err("same revision");
    assert_eq!(
        stale,
        Problem::StaleRevision {
            candidate: 4,
            active: 4
        }
    );
    assert!(stale.to_string().contains("--revision 5"), "{stale}");
}

#[test]
fn bad_contents_are_all_reported_with_their_files() {
    let mut files = source();
    files.insert(
        "tenants.toml",
        b"[[tenants]]\nid = \"acme\"\nweight = 0\n".to_vec(),
    );
    files.insert(
        "policies.cedar",
        b"permit(principal == TrustFabric::User::\"x\", action, resource);".to_vec(),
    );
    files.insert("notes.txt", b"hello".to_vec());
    let problems = build(files, info(1), &mut author(1), &Limits::DEFAULT)
        .expect_err("invalid")
        .0;
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("notes.txt: not a bundle file")),
        "{text:?}"
    );
    // budgets.toml has caps for "demo", which this tenants.toml no longer has.
    assert!(
        text.iter()
            .any(|t| t.contains("caps.tenant = \"demo\" is not a tenant")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t == "tenants.toml: tenants.weight = 0 is not allowed: 1 to 1000"),
        "{text:?}"
    );
}

#[test]
fn policies_that_do_not_fit_the_schema_are_refused() {
    let mut files = source();
    files.insert(
        "policies.cedar",
        b"permit(principal, action, resource) when { context.region == \"eu\" };".to_vec(),
    );
    let problems = build(files, info(1), &mut author(1), &Limits::DEFAULT)
        .expect_err("unknown context attribute")
        .0;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].code(), "invalid-policy");
    assert!(
        problems[0].to_string().contains("region"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_key_that_does_not_parse_is_named() {
    let mut files = source();
    files.insert("keys/broken.json", b"{\"protocol\": \"groth16\"}".to_vec());
    let problems = build(files, info(1), &mut author(1), &Limits::DEFAULT)
        .expect_err("broken key")
        .0;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().starts_with("keys/broken.json: "),
        "{}",
        problems[0]
    );
}

#[test]
fn the_example_policies_decide_as_their_comments_say() {
    let bundle = built(source(), 1, &mut author(1));
    let key_id = bundle.content.keys[0].key.id().to_string();
    let decide = |tenant: &str, purpose: &str, class: DatasetClass, statement| {
        bundle.policies.decide(&Admission {
            tenant,
            purpose,
            class,
            statement,
        })
    };
    let bls = StatementKind::Bls("bls-single");
    let proof = StatementKind::Groth16 {
        key_id: &key_id,
        curve: "bn254",
    };
    let demo = decide("demo", "anything", DatasetClass::P0, proof);
    assert!(demo.allowed);
    assert_eq!(demo.policies, vec!["demo-may-do-anything".to_owned()]);
    assert!(decide("acme", "kyc", DatasetClass::P1, bls).allowed);
    assert!(
        !decide("acme", "kyc", DatasetClass::P0, bls).allowed,
        "BLS on P0 is not permitted"
    );
    assert!(decide("acme", "kyc", DatasetClass::P0, proof).allowed);
    assert!(!decide("acme", "marketing", DatasetClass::P1, proof).allowed);
    let globex = decide("globex", "kyc", DatasetClass::P0, bls);
    assert!(!globex.allowed);
    assert_eq!(globex.policies, vec!["globex-never-p0".to_owned()]);
    assert!(decide("globex", "kyc", DatasetClass::P2, bls).allowed);
    // A key nobody registered in the bundle is still a key: acme may use it for kyc.
    let unknown = "ab".repeat(32);
    let other = StatementKind::Groth16 {
        key_id: &unknown,
        curve: "bls12-381",
    };
    assert!(decide("acme", "kyc", DatasetClass::P2, other).allowed);
    // Tenants are named by their certificates; policies may still speak of anyone.
    assert!(!decide("stranger", "kyc", DatasetClass::P2, proof).allowed);
}

#[test]
fn the_diff_names_what_changed_in_each_section() {
    let mut key = author(1);
    let old = built(source(), 1, &mut key);
    let mut files = source();
    files.insert(
        "tenants.toml",
        b"[[tenants]]\nid = \"demo\"\n[[tenants]]\nid = \"acme\"\nweight = 5\nrate_per_sec = 500\nburst = 250\n[[tenants]]\nid = \"initech\"\n[[tenants]]\nid = \"canary\"\nrate_per_sec = 100\nburst = 50\nmax_registered_keys = 8\n".to_vec(),
    );
    let policies =
        String::from_utf8(files.get("policies.cedar").expect("policies").to_vec()).expect("utf-8");
    let cut = policies.find("@id(\"globex-never-p0\")").expect("policy");
    let next = cut + policies[cut + 1..].find("@id(").expect("a policy after it") + 1;
    files.insert(
        "policies.cedar",
        format!("{}{}", &policies[..cut], &policies[next..]).into_bytes(),
    );
    files.remove("keys/multiplier.json");
    let new = built(files, 2, &mut key);
    let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "~ tenants: acme: weight 2, 500 requests/s, burst 250, registers up to 16 keys -> weight 5, 500 requests/s, burst 250, registers up to 16 keys",
            "- tenants: globex: weight 1, 1000 requests/s, burst 500, registers up to 16 keys",
            "+ tenants: initech: weight 1, 1000 requests/s, burst 500, registers up to 16 keys",
            &format!(
                "- policies: globex-never-p0: {}",
                "@id(\"globex-never-p0\") forbid ( principal == TrustFabric::Tenant::\"globex\", action, resource ) when { context.class == \"P0\" };"
            ),
            &format!(
                "- keys: multiplier: bn254 key {}",
                old.content.keys[0].key.id()
            ),
        ],
    );
    assert!(diff(&old, &old).is_empty());
    assert_eq!(diff(&old, &new)[0].change, Change::Changed);
}
