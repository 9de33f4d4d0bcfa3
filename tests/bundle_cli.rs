//! `appliance bundle` as a policy author and an SRE run it: make a key, build the example
//! bundle, verify it against the trusted key, see tampering and strangers refused with the
//! reason, and read the diff between two revisions.

mod support;

use std::path::Path;

use support::appliance;

fn text(out: &std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn public_key(keygen_stdout: &str) -> String {
    keygen_stdout
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .expect("keygen prints the public key")
        .trim()
        .to_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

#[test]
fn build_verify_tamper_and_diff() {
    let dir = tempfile::tempdir().expect("temp dir");
    let at = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    copy_dir(&example, &dir.path().join("src"));

    let (code, out, _) = text(&appliance(&[
        "bundle",
        "keygen",
        "--out",
        &at("author.key"),
    ]));
    assert_eq!(code, 0);
    let author = public_key(&out);
    let (code, _, err) = text(&appliance(&[
        "bundle",
        "keygen",
        "--out",
        &at("author.key"),
    ]));
    assert_eq!(code, 2, "an existing key is never overwritten");
    assert!(err.contains("never overwritten"), "{err}");

    let build = |revision: &str, out: &str| {
        text(&appliance(&[
            "bundle",
            "build",
            &at("src"),
            "--key",
            &at("author.key"),
            "--revision",
            revision,
            "--author",
            "policy team",
            "--note",
            "example",
            "--ticket",
            "POL-1",
            "--out",
            out,
        ]))
    };
    let (code, out, err) = build("1", &at("one.tar.gz"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("revision: 1") && out.contains("ticket:   POL-1"),
        "{out}"
    );

    let verify =
        |file: &str, key: &str| text(&appliance(&["bundle", "verify", file, "--trust", key]));
    let (code, out, err) = verify(&at("one.tar.gz"), &author);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("4 tenants, 5 policies"), "{out}");

    // A stranger's key: refused, naming the key that signed.
    let (_, stranger_out, _) = text(&appliance(&["bundle", "keygen", "--out", &at("s.key")]));
    let (code, _, err) = verify(&at("one.tar.gz"), &public_key(&stranger_out));
    assert_eq!(code, 1);
    assert!(err.contains("does not trust"), "{err}");

    // One byte changed in an unpacked copy: refused, naming the file.
    let unpacked = dir.path().join("unpacked");
    let files = tf_bundles::BundleFiles::read(Path::new(&at("one.tar.gz"))).expect("archive");
    files.write_dir(&unpacked).expect("unpack");
    let budgets = unpacked.join("budgets.toml");
    let altered = std::fs::read_to_string(&budgets)
        .expect("budgets")
        .replace("limit = 5\n", "limit = 6\n");
    std::fs::write(&budgets, altered).expect("write");
    let (code, _, err) = verify(unpacked.to_str().expect("utf-8"), &author);
    assert_eq!(code, 1);
    assert!(err.contains("budgets.toml: its SHA-256 differs"), "{err}");

    // A broken policy never becomes a bundle.
    let policies = dir.path().join("src/policies.cedar");
    let good = std::fs::read_to_string(&policies).expect("policies");
    std::fs::write(
        &policies,
        format!("{good}\npermit(principal, action, resource) when {{ context.nope }};\n"),
    )
    .expect("write");
    let (code, _, err) = build("2", &at("bad.tar.gz"));
    assert_eq!(code, 1);
    assert!(err.contains("policies.cedar: does not validate"), "{err}");
    assert!(!dir.path().join("bad.tar.gz").exists());

    // Revision 2 gives acme more weight; the diff says so and nothing else.
    std::fs::write(&policies, good).expect("write");
    let tenants = dir.path().join("src/tenants.toml");
    let heavier = std::fs::read_to_string(&tenants)
        .expect("tenants")
        .replace("weight = 2", "weight = 4");
    std::fs::write(&tenants, heavier).expect("write");
    assert_eq!(build("2", &at("two.tar.gz")).0, 0);
    let (code, out, err) = text(&appliance(&[
        "bundle",
        "diff",
        &at("one.tar.gz"),
        &at("two.tar.gz"),
    ]));
    assert_eq!(code, 0, "{err}");
    let changes: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        changes,
        vec![
            "~ tenants: acme: weight 2, 500 requests/s, burst 250, registers up to 16 keys -> weight 4, 500 requests/s, burst 250, registers up to 16 keys"
        ]
    );
}

#[test]
fn the_schema_is_printed_for_policy_authors() {
    let (code, out, _) = text(&appliance(&["bundle", "schema"]));
    assert_eq!(code, 0);
    assert!(out.contains("action submit appliesTo"), "{out}");
}
