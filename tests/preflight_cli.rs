//! `appliance preflight`, `config default|check` and `tune --emit` as an SRE runs them.

#[path = "support/server.rs"]
mod server;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use serde_json::Value;
use server::Server;

fn appliance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(args)
        .output()
        .expect("appliance runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn preflight_reports_every_check_and_fails_on_a_taken_port_as_serve_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let state_arg = state.to_str().expect("utf-8");
    let out = appliance(&["preflight", "--json", "--state-dir", state_arg]);
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = rows.as_array().expect("array");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["check"].as_str()).collect();
    for expected in [
        "kernel",
        "io_uring",
        "locked memory",
        "cores",
        "UDP buffers",
        "clock sync",
        "state directory",
        "QUIC port",
        "CPU features",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    let failed = rows.iter().any(|r| r["status"] == "FAIL");
    assert_eq!(out.status.success(), !failed, "{}", text(&out));
    let memlock = rows
        .iter()
        .find(|r| r["check"] == "locked memory")
        .expect("memlock row");
    assert!(
        memlock["detail"]
            .as_str()
            .expect("detail")
            .contains("RLIMIT_MEMLOCK"),
        "the limit is reported: {memlock}"
    );

    // Something already holds the QUIC port.
    let holder = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let config = dir.path().join("taken.toml");
    std::fs::write(
        &config,
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .expect("config");
    let config_arg = config.to_str().expect("utf-8");
    let out = appliance(&[
        "preflight",
        "--config",
        config_arg,
        "--state-dir",
        state_arg,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    let line = shown
        .lines()
        .find(|l| l.starts_with("QUIC port"))
        .expect("port line");
    assert!(
        line.contains("FAIL") && line.contains(&port.to_string()),
        "{line}"
    );
    assert!(shown.contains("another appliance"), "{shown}");

    let out = appliance(&["serve", "--config", config_arg, "--state-dir", state_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let refused = String::from_utf8_lossy(&out.stderr);
    assert!(
        refused.contains("this host cannot run the appliance")
            && refused.contains("QUIC port: UDP 127.0.0.1:")
            && refused.contains("another appliance"),
        "{refused}"
    );
    assert!(!state.exists(), "nothing is created when serve refuses");
}

#[test]
fn the_default_config_checks_clean_and_a_bad_value_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = appliance(&["config", "default"]);
    assert!(out.status.success());
    let default = dir.path().join("default.toml");
    std::fs::write(&default, &out.stdout).expect("written");
    let out = appliance(&["config", "check", default.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("valid"));

    let bad = dir.path().join("bad.toml");
    let edited = String::from_utf8_lossy(&std::fs::read(&default).expect("read"))
        .replace("batch_max = 64", "batch_max = 5000");
    std::fs::write(&bad, edited).expect("written");
    let out = appliance(&["config", "check", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(78), "EX_CONFIG");
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("bad.toml")
            && message.contains("scheduling.batch_max = 5000 is not allowed: 1 to 1024"),
        "{message}"
    );
    // Every command that reads the file agrees: 78 (EX_CONFIG), which the unit does not restart.
    let bad = bad.to_str().expect("utf-8");
    for args in [
        vec!["serve", "--config", bad],
        vec!["serve", "--config", bad, "--check-config"],
        vec!["preflight", "--config", bad],
    ] {
        let out = appliance(&args);
        assert_eq!(out.status.code(), Some(78), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("batch_max = 5000"),
            "{args:?}: {}",
            text(&out)
        );
    }
    let emit = dir.path().join("tune");
    let out = appliance(&[
        "tune",
        "--config",
        bad,
        "--emit",
        emit.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
}

#[test]
fn tune_emits_sysctl_drop_in_and_firmware_notes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = appliance(&["tune", "--emit", dir.path().to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let sysctl = std::fs::read_to_string(dir.path().join("sysctl.d/60-trust-fabric.conf"))
        .expect("sysctl file");
    assert!(sysctl.contains("net.core.rmem_max"));
    let drop_in = std::fs::read_to_string(dir.path().join("appliance.service.d/10-tuning.conf"))
        .expect("drop-in");
    assert!(drop_in.contains("[Service]") && drop_in.contains("CPUAffinity="));
    assert!(drop_in.contains("LimitMEMLOCK="));
    let notes = std::fs::read_to_string(dir.path().join("firmware-notes.txt")).expect("notes");
    for topic in ["governor", "SMT", "C-states"] {
        assert!(notes.contains(topic), "{topic} missing");
    }
    // Every setting line is explained by a comment above it.
    let lines: Vec<&str> = drop_in.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains('=') && !line.starts_with('#') {
            assert!(lines[i - 1].starts_with('#'), "{line} has no explanation");
        }
    }
}

/// The preflight rows named `names`, as (status, detail, fix).
fn rows_named(out: &Output, names: &[&str]) -> Vec<(String, String, String)> {
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    names
        .iter()
        .map(|name| {
            let row = rows
                .as_array()
                .expect("array")
                .iter()
                .find(|r| r["check"] == *name)
                .unwrap_or_else(|| panic!("no {name} row: {rows}"));
            let field = |key: &str| row[key].as_str().expect("text").to_owned();
            (field("status"), field("detail"), field("fix"))
        })
        .collect()
}

const DEVELOPMENT_DEFAULTS: [&str; 3] = ["admin tokens", "bundle authors", "client CA"];

#[test]
fn preflight_warns_about_each_development_default_in_use_and_what_to_configure_instead() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let state_arg = state.to_str().expect("utf-8");
    let out = appliance(&["preflight", "--json", "--state-dir", state_arg]);
    let rows = rows_named(&out, &DEVELOPMENT_DEFAULTS);
    let wanted = [
        ("admin.token", "[[admin.tokens]]"),
        ("bundle-author.key", "[bundles] trusted_authors"),
        ("ca.key", "[tls] client_ca"),
    ];
    for ((status, detail, fix), (file, configure)) in rows.iter().zip(wanted) {
        assert_eq!(status, "WARN", "{detail}");
        assert!(detail.starts_with("DEVELOPMENT DEFAULT"), "{detail}");
        assert!(
            detail.contains(&state.join(file).display().to_string()),
            "{detail}"
        );
        assert!(fix.contains(configure), "{fix}");
    }

    let config = dir.path().join("production.toml");
    std::fs::write(
        &config,
        format!(
            "[bundles]\ntrusted_authors = [\"{}\"]\n[tls]\nclient_ca = \"{}\"\n\
             [[admin.tokens]]\nname = \"oncall\"\nroles = [\"sre\"]\nsha256 = \"{}\"\n",
            // The Ed25519 base point: a valid public key.
            "5866666666666666666666666666666666666666666666666666666666666666",
            dir.path().join("partners-ca.pem").display(),
            "00".repeat(32)
        ),
    )
    .expect("config");
    let config_arg = config.to_str().expect("utf-8");
    let out = appliance(&[
        "preflight",
        "--json",
        "--config",
        config_arg,
        "--state-dir",
        state_arg,
    ]);
    for (status, detail, fix) in rows_named(&out, &DEVELOPMENT_DEFAULTS) {
        assert_eq!(status, "PASS", "{detail} / {fix}");
    }
}

#[test]
fn serve_on_loopback_logs_each_development_default_without_alarm() {
    // Listening on loopback only, the development defaults are what a first start is for:
    // named, at INFO (`preflight` and a server reachable from elsewhere say WARN).
    let server = Server::start("", &[], &[]);
    let log = server.log();
    for name in DEVELOPMENT_DEFAULTS {
        let line = log
            .lines()
            .find(|l| l.contains("DEVELOPMENT DEFAULT") && l.contains(&format!("\"{name}\"")))
            .unwrap_or_else(|| panic!("no line for {name}:\n{log}"));
        assert!(line.contains("INFO"), "{line}");
    }
}

#[test]
fn preflight_and_serve_refuse_a_state_directory_whose_keys_others_can_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let state_arg = state.to_str().expect("utf-8");
    let init = appliance(&["init", "--state-dir", state_arg]);
    assert!(init.status.success(), "{}", text(&init));
    let out = appliance(&["preflight", "--json", "--state-dir", state_arg]);
    assert_eq!(rows_named(&out, &["state permissions"])[0].0, "PASS");

    let key = state.join("receipt.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let chmod = format!("chmod 600 {}", key.display());
    let out = appliance(&["preflight", "--json", "--state-dir", state_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (status, detail, fix) = rows_named(&out, &["state permissions"]).remove(0);
    assert_eq!(status, "FAIL");
    assert!(detail.contains("mode 0644"), "{detail}");
    assert!(fix.contains(&chmod), "{fix}");

    let out = appliance(&[
        "serve",
        "--state-dir",
        state_arg,
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&chmod), "{}", text(&out));
    for command in [
        vec!["keys", "show", "--state-dir", state_arg],
        vec!["init", "--state-dir", state_arg],
    ] {
        let out = appliance(&command);
        assert!(!out.status.success(), "{command:?}: {}", text(&out));
        assert!(text(&out).contains(&chmod), "{command:?}: {}", text(&out));
    }
}
