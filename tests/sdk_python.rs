//! The Python SDK (appliance/sdk-python) against the real appliance over QUIC on loopback, as a partner
//! who knows only Python uses it: the wheel appliance/sdk-python/build-wheel built and installed into
//! target/test-venv/sdk-python (tests/run does it first), an operator's invite made with
//! `appliance ctl`, and pytest (appliance/sdk-python/tests) onboarding with it, registering a snarkjs
//! key, submitting valid and invalid proofs, checking the receipts and the typed errors. Then
//! the measured path from an invite to the first valid verdict
//! (appliance/sdk-python/examples/first_verdict.py), whose step times it prints (`-- --nocapture`).

#[path = "support/partners.rs"]
mod partners;
#[path = "support/sdk.rs"]
mod sdk;
#[path = "support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sdk::{appliance_with_a_bundle, connect, fixtures, invite, root, run, said};

#[test]
fn the_python_sdk_onboards_submits_and_checks_receipts_against_a_live_appliance() {
    let python = venv_python();
    let server = appliance_with_a_bundle("python");
    let scratch = server.dir.path().join("python");
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    let mut pytest = python_command(&python);
    pytest
        .args(["-m", "pytest", "appliance/sdk-python/tests", "-q"])
        .args(["-p", "no:cacheprovider"])
        .current_dir(root())
        .env("TF_SDK_INVITE", invite(&server, "python"))
        .env("TF_SDK_CONNECT", connect(&server))
        .env("TF_SDK_SCRATCH", &scratch)
        .env("TF_SDK_FIXTURES", fixtures());
    let (out, _) = run(&mut pytest);
    let said = said(&out);
    assert!(out.status.success(), "pytest failed:\n{said}");
    assert!(
        said.contains(" passed") && !said.contains("skipped"),
        "every test ran:\n{said}"
    );
    println!("{said}");
}

#[test]
fn the_first_verdict_example_goes_from_an_invite_to_a_verified_receipt() {
    let python = venv_python();
    let server = appliance_with_a_bundle("python");
    let fixtures = fixtures();
    let mut example = python_command(&python);
    example
        .arg(root().join("appliance/sdk-python/examples/first_verdict.py"))
        .args(["--invite", &invite(&server, "python")])
        .args(["--connect", &connect(&server)])
        .args(["--tenant", "pilot-first"])
        .arg("--out")
        .arg(server.dir.path().join("pilot-first"))
        .arg("--vkey")
        .arg(fixtures.join("verification_key.json"))
        .arg("--proof")
        .arg(fixtures.join("proof_0.json"))
        .arg("--public")
        .arg(fixtures.join("public_0.json"));
    let (out, took) = run(&mut example);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", said(&out));
    assert!(stdout.contains("verdict: valid"), "{stdout}");
    assert!(
        stdout.contains("receipt verified offline: valid"),
        "{stdout}"
    );
    // The measurement, for people (`-- --nocapture`); tests never assert on wall time.
    println!("{stdout}the process, interpreter start included: {took:.3?}");
}

/// The venv's Python, with the SDK's wheel installed.
fn venv_python() -> PathBuf {
    let python = root().join("target/test-venv/sdk-python/bin/python");
    let imports = python.exists()
        && python_command(&python)
            .args(["-c", "import trust_fabric"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    assert!(
        imports,
        "{} cannot import trust_fabric: run tests/run, or appliance/sdk-python/build-wheel, to build \
         the Python SDK's wheel and install it into that venv",
        python.display()
    );
    python
}

/// `python`, writing no __pycache__ folders into the source tree.
fn python_command(python: &Path) -> Command {
    let mut command = Command::new(python);
    command.env("PYTHONDONTWRITEBYTECODE", "1");
    command
}
