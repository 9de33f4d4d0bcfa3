//! The files under systemd/ as systemd itself reads them: `systemd-analyze verify` on the unit
//! (pointed at the binary just built), `systemd-sysusers` and `systemd-tmpfiles` applied to a
//! scratch root, and every sysctl the snippet sets known to this kernel.

use std::path::{Path, PathBuf};
use std::process::Command;

fn systemd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd")
}

fn run(command: &mut Command) -> (bool, String) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} runs (tests/run installs systemd): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_unit_passes_systemd_analyze_verify_without_a_warning() {
    let unit = std::fs::read_to_string(systemd_dir().join("appliance.service")).expect("unit");
    assert!(unit.contains("/usr/local/bin/appliance serve"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("appliance.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/appliance", env!("CARGO_BIN_EXE_appliance")),
    )
    .expect("written");
    let (ok, output) = run(Command::new("systemd-analyze").arg("verify").arg(&path));
    assert!(ok && output.trim().is_empty(), "{output}");

    // The same check notices a mistake, so the one above means something.
    let broken = dir.path().join("broken.service");
    std::fs::write(
        &broken,
        std::fs::read_to_string(&path)
            .expect("read")
            .replace("WatchdogSec=", "WatchdogSeconds="),
    )
    .expect("written");
    let (_, output) = run(Command::new("systemd-analyze").arg("verify").arg(&broken));
    assert!(output.contains("WatchdogSeconds"), "{output}");
}

#[test]
fn the_arguments_in_the_unit_are_accepted_by_the_binary() {
    let unit = std::fs::read_to_string(systemd_dir().join("appliance.service")).expect("unit");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/appliance "))
        .expect("ExecStart line");
    // `serve` with the unit's flags, asked only to check its configuration.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("appliance.toml");
    let (ok, text) = run(Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["config", "default"])
        .env("NO_COLOR", "1"));
    assert!(ok, "{text}");
    std::fs::write(&config, text).expect("written");
    let args: Vec<String> = exec
        .split_whitespace()
        .map(|a| {
            a.replace(
                "/etc/trust-fabric/appliance.toml",
                config.to_str().expect("utf-8"),
            )
        })
        .collect();
    let (ok, text) = run(Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(&args)
        // Free ports, so the check does not depend on what else runs on this machine.
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .arg("--check-config"));
    assert!(ok, "{args:?}: {text}");
}

#[test]
fn sysusers_and_tmpfiles_create_the_user_and_folders() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(root.path().join("etc")).expect("etc");
    let (ok, text) = run(Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.path().display()))
        .arg(systemd_dir().join("sysusers.d/trust-fabric.conf")));
    assert!(ok, "{text}");
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).expect("passwd");
    assert!(
        passwd.lines().any(|l| l.starts_with("trust-fabric:")),
        "{passwd}"
    );

    let (ok, text) = run(Command::new("systemd-tmpfiles")
        .arg(format!("--root={}", root.path().display()))
        .arg("--create")
        .arg(systemd_dir().join("tmpfiles.d/trust-fabric.conf")));
    assert!(ok, "{text}");
    use std::os::unix::fs::PermissionsExt;
    let state = std::fs::metadata(root.path().join("var/lib/trust-fabric")).expect("state dir");
    assert_eq!(state.permissions().mode() & 0o777, 0o700);
    assert!(root.path().join("etc/trust-fabric").is_dir());
}

#[test]
fn every_sysctl_in_the_snippet_exists_on_this_kernel() {
    let text = std::fs::read_to_string(systemd_dir().join("sysctl.d/60-trust-fabric.conf"))
        .expect("sysctl snippet");
    let mut keys = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        let path = Path::new("/proc/sys").join(key.trim().replace('.', "/"));
        assert!(path.exists(), "unknown sysctl {}", key.trim());
        value.trim().parse::<u64>().expect("a number");
        keys += 1;
    }
    assert!(keys >= 2);
}
