//! The Node SDK (appliance/sdk-node) against the real appliance over QUIC on loopback, as a partner who
//! knows only JavaScript uses it: the npm package appliance/sdk-node/build-package packed (tests/run
//! builds it first) installed from its tarball into a scratch project, an operator's invite
//! made with `appliance ctl`, and node's test runner (appliance/sdk-node/tests) onboarding with it,
//! registering a snarkjs key, submitting valid and invalid proofs and a BLS signature,
//! checking the receipts and the typed errors. Then the path from an invite to the first
//! valid verdict (appliance/sdk-node/examples/first_verdict.js, as docs/partner-guide.md gives it), whose
//! step times it prints (`-- --nocapture`), and the package's TypeScript types checked with
//! `tsc --noEmit --strict` (appliance/sdk-node/tests/types.ts).

#[path = "support/partners.rs"]
mod partners;
#[path = "support/sdk.rs"]
mod sdk;
#[path = "support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use sdk::{appliance_with_a_bundle, connect, fixtures, invite, root, run, said};
use server::Server;

#[test]
fn the_node_sdk_onboards_submits_and_checks_receipts_against_a_live_appliance() {
    let project = installed_package();
    let server = appliance_with_a_bundle("node");
    let scratch = server.dir.path().join("node");
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    let tests = copied(&project, "appliance/sdk-node/tests/live_appliance.test.mjs");
    let mut node = Command::new("node");
    node.arg("--test")
        .arg(&tests)
        .current_dir(project.path())
        .env("TF_SDK_INVITE", invite(&server, "node"))
        .env("TF_SDK_CONNECT", connect(&server))
        .env("TF_SDK_SCRATCH", &scratch)
        .env("TF_SDK_FIXTURES", fixtures());
    let (out, _) = run(&mut node);
    let said = said(&out);
    assert!(out.status.success(), "node --test failed:\n{said}");
    assert!(count(&said, "pass") >= 10, "the tests ran:\n{said}");
    println!("{said}");
}

#[test]
fn busy_answers_are_thrown_or_retried_as_the_appliance_asks() {
    let project = installed_package();
    let config = "[[tenants]]\nid = \"demo\"\nrate_per_sec = 1\nburst = 1\n";
    let server = Server::start(config, &[], &[]);
    let tests = copied(&project, "appliance/sdk-node/tests/busy.test.mjs");
    let mut node = Command::new("node");
    node.arg("--test")
        .arg(&tests)
        .current_dir(project.path())
        .env("TF_SDK_STATE_DIR", &server.state);
    let (out, _) = run(&mut node);
    let said = said(&out);
    assert!(out.status.success(), "node --test failed:\n{said}");
    assert_eq!(count(&said, "pass"), 1, "{said}");
}

#[test]
fn the_first_verdict_example_goes_from_an_invite_to_a_verified_receipt() {
    let project = installed_package();
    let server = appliance_with_a_bundle("node");
    let fixtures = fixtures();
    let example = copied(&project, "appliance/sdk-node/examples/first_verdict.js");
    let mut node = Command::new("node");
    node.arg(&example)
        .args(["--invite", &invite(&server, "node")])
        .args(["--connect", &connect(&server)])
        .args(["--tenant", "pilot-first"])
        .arg("--out")
        .arg(server.dir.path().join("pilot-first"))
        .arg("--vkey")
        .arg(fixtures.join("verification_key.json"))
        .arg("--proof")
        .arg(fixtures.join("proof_0.json"))
        .arg("--public")
        .arg(fixtures.join("public_0.json"))
        .current_dir(project.path());
    let (out, took) = run(&mut node);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", said(&out));
    assert!(stdout.contains("verdict: valid"), "{stdout}");
    assert!(
        stdout.contains("receipt verified offline: valid"),
        "{stdout}"
    );
    // The measurement, for people (`-- --nocapture`); tests never assert on wall time.
    println!("{stdout}the process, node's start included: {took:.3?}");
}

#[test]
fn the_package_types_check_strictly() {
    let project = installed_package();
    let tsc = root().join("tests/tools/node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "{} is missing: run tests/run, or `npm ci --prefix tests/tools`, to install the pinned \
         TypeScript",
        tsc.display()
    );
    let types = copied(&project, "appliance/sdk-node/tests/types.ts");
    let mut check = Command::new(&tsc);
    check
        .args([
            "--noEmit", "--strict", "--module", "nodenext", "--target", "es2022",
        ])
        .arg(&types)
        .current_dir(project.path());
    let (out, _) = run(&mut check);
    assert!(out.status.success(), "tsc found errors:\n{}", said(&out));
}

/// A count from node's TAP summary (`# pass 11`), once the run is checked to have skipped,
/// cancelled and left to do none.
fn count(said: &str, what: &str) -> u32 {
    let count = |what: &str| {
        said.lines()
            .find_map(|line| line.strip_prefix(&format!("# {what} ")))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no `# {what}` line in:\n{said}"))
    };
    for none in ["fail", "cancelled", "skipped", "todo"] {
        assert_eq!(count(none), 0, "{none}:\n{said}");
    }
    count(what)
}

/// A scratch npm project with the package installed from the tarball appliance/sdk-node/build-package
/// made, as a partner installs it (offline: the package has no dependencies).
fn installed_package() -> tempfile::TempDir {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|out| out.status.success()),
        "node is not installed: run tests/run, which installs Node.js and builds the Node SDK's \
         package"
    );
    let tarball = tarball();
    let project = tempfile::tempdir().expect("scratch project");
    std::fs::write(
        project.path().join("package.json"),
        "{\"name\": \"sdk-node-test\", \"private\": true}\n",
    )
    .expect("package.json");
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--offline"])
        .arg(&tarball)
        .current_dir(project.path());
    let (out, _) = run(&mut npm);
    assert!(
        out.status.success(),
        "npm install {} failed:\n{}",
        tarball.display(),
        said(&out)
    );
    project
}

/// The package's tarball, checked to be newer than every file it is built from.
fn tarball() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let dir = target.join("npm");
    let build =
        "run tests/run, or `flock /tmp/cargo.lock appliance/sdk-node/build-package`, to build it";
    let found = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| {
                    name.starts_with("trust-fabric-partner-") && name.ends_with(".tgz")
                })
        });
    let Some(tarball) = found else {
        panic!(
            "no trust-fabric-partner-*.tgz in {}: {build}",
            dir.display()
        );
    };
    let built = modified(&tarball);
    for source in ["appliance/sdk-node/src", "appliance/sdk-node/package"] {
        for file in files_under(&root().join(source)) {
            assert!(
                modified(&file) <= built,
                "{} is older than {}: {build}",
                tarball.display(),
                file.display()
            );
        }
    }
    tarball
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .expect("a modification time")
}

/// `file` (from the checkout) copied into the project, where it finds the installed package.
fn copied(project: &tempfile::TempDir, file: &str) -> PathBuf {
    let from = root().join(file);
    let to = project.path().join(from.file_name().expect("a file name"));
    std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    to
}
