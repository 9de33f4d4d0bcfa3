//! The per-work cost terms of `[budgets.cost]` in a bundle: read, defaulted when absent, and
//! shown in the diff an operator reviews.

use std::path::Path;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tf_bundles::{AuthorKey, BuildInfo, Bundle, BundleFiles, build, diff};
use tf_engine::Limits;

fn example() -> BundleFiles {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    BundleFiles::from_dir(&repo.join("docs/examples/bundle")).expect("example bundle")
}

fn info(revision: u64) -> BuildInfo {
    BuildInfo {
        revision,
        author: "policy team".into(),
        note: "costs".into(),
        tickets: Vec::new(),
        created_unix_s: 1_795_000_000,
        republishes: None,
    }
}

fn built(files: BundleFiles, revision: u64) -> Bundle {
    let mut key = AuthorKey::generate(&mut ChaCha20Rng::seed_from_u64(1));
    build(files, info(revision), &mut key, &Limits::DEFAULT).expect("the example builds")
}

/// The example bundle with `[budgets.cost]` holding `cost` instead.
fn with_cost(cost: &str) -> BundleFiles {
    let mut files = example();
    let budgets = String::from_utf8(files.get("budgets.toml").expect("budgets").to_vec())
        .expect("utf-8")
        .replace(
            "[budgets.cost]\ngroth16-bn254 = 2\n",
            &format!("[budgets.cost]\n{cost}"),
        );
    files.insert("budgets.toml", budgets.into_bytes());
    files
}

#[test]
fn a_bundle_without_the_work_terms_gets_the_defaults() {
    let bundle = built(example(), 1);
    let cost = bundle.content.budgets.cost;
    assert_eq!(cost.groth16_bn254, 2);
    assert_eq!(
        (
            cost.keys_per_unit,
            cost.pairings_per_unit,
            cost.inputs_per_unit
        ),
        (16, 3, 8)
    );
}

#[test]
fn the_diff_shows_changed_work_terms() {
    let old = built(example(), 1);
    let new = built(
        with_cost("groth16-bn254 = 2\nkeys-per-unit = 32\ninputs-per-unit = 0\n"),
        2,
    );
    let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "~ budgets: cost of public inputs: 1 unit per 8 -> nothing",
            "~ budgets: cost of public keys: 1 unit per 16 -> 1 unit per 32",
        ]
    );
}

#[test]
fn an_out_of_range_work_term_is_a_problem_naming_the_key() {
    let mut key = AuthorKey::generate(&mut ChaCha20Rng::seed_from_u64(2));
    let problems = build(
        with_cost("pairings-per-unit = 2000000\n"),
        info(1),
        &mut key,
        &Limits::DEFAULT,
    )
    .expect_err("out of range");
    let shown: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
    assert!(
        shown
            .iter()
            .any(|p| p.contains("budgets.cost.pairings-per-unit")),
        "{shown:?}"
    );
}
