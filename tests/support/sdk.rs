//! What the SDKs' end-to-end tests share: an appliance with the example bundle in force (so
//! onboarding can add tenants to it), an invite for `pilot-*` with a daily P1 cap, the address
//! as a partner types it, and running a child (node, npm, tsc, a Python) to its end with a
//! deadline, both pipes read.
//!
//! Included beside support/server.rs and support/partners.rs (as `mod server` and
//! `mod partners`).

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::partners;
use crate::server::{ROLE_TOKENS, Server, with_admin_tokens};

/// How long a child may take before the test gives up on it.
pub const DEADLINE: Duration = Duration::from_secs(300);

/// An appliance with the example policy bundle in force: onboarding adds tenants to it.
pub fn appliance_with_a_bundle(note: &str) -> Server {
    let config = with_admin_tokens("[[tenants]]\nid = \"demo\"\n", &ROLE_TOKENS);
    let server = Server::start(&config, &[], &[]);
    let bundle = server.build_bundle(&root().join("docs/examples/bundle"), 1, note, None);
    let promoted = server.ctl("author-token", &["promote", &bundle.display().to_string()]);
    assert_eq!(promoted.0, 0, "{}{}", promoted.1, promoted.2);
    server
}

/// An invite for tenants `pilot-*`: purpose kyc on class P1, with a P1 cap of 100000 a day.
pub fn invite(server: &Server, reason: &str) -> String {
    partners::invite(
        server,
        "pilot-*",
        &["--cap", "P1:day:100000", "--reason", reason],
    )
}

/// The appliance's address by name, as a partner types it.
pub fn connect(server: &Server) -> String {
    format!("localhost:{}", server.address.port())
}

/// The BN254 snarkjs fixtures: verification_key.json, proof_N.json, public_N.json.
pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures/groth16/bn128")
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `command` to its end, killed past [`DEADLINE`]; its output and how long it took.
pub fn run(command: &mut Command) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
    // Read both pipes on threads so a chatty child never blocks on a full pipe.
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            break child.wait().expect("reaped");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    let joined = |reader: Option<std::thread::JoinHandle<Vec<u8>>>| {
        reader
            .map(|r| r.join().unwrap_or_default())
            .unwrap_or_default()
    };
    let output = Output {
        status,
        stdout: joined(stdout),
        stderr: joined(stderr),
    };
    (output, took)
}

/// Both of a child's streams as text, stdout first.
pub fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}
