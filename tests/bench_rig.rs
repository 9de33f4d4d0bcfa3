//! bench-rig against a real appliance process over QUIC: a short, low-rate steady run whose
//! report must be complete and consistent (counts add up, the schedule's exact request count,
//! every tenant's share, the appliance's CPU measured, plots and interval log written), a
//! target that must fail, compare (and its --fail-over gate), Ctrl-C with a partial report,
//! bad options, options of another profile, and a wrong state directory.

#[path = "support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use server::Server;

const CONFIG: &str = r#"
[[tenants]]
id = "demo"
weight = 1

[[tenants]]
id = "acme"
weight = 3
"#;

fn bench_rig() -> PathBuf {
    // Built beside the appliance by `cargo build --workspace --bins` (tests/run).
    Path::new(env!("CARGO_BIN_EXE_appliance")).with_file_name("bench-rig")
}

fn run(server: &Server, out: &Path, extra: &[&str]) -> Output {
    let config = server.dir.path().join("appliance.toml");
    let pid = server.pid().to_string();
    let mut args = vec![
        "steady",
        "--rps",
        "40",
        "--duration",
        "4s",
        "--warmup",
        "1s",
        "--appliance-config",
        config.to_str().expect("utf-8"),
        "--state-dir",
        server.state.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--appliance-pid",
        &pid,
    ];
    args.extend_from_slice(extra);
    Command::new(bench_rig())
        .args(&args)
        .output()
        .expect("bench-rig runs")
}

fn report(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report.json"))
        .expect("JSON")
}

fn u(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("a count: {value}"))
}

fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("a number: {value}"))
}

#[test]
fn a_short_run_reports_complete_and_consistent_figures() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("a");
    let output = run(&server, &out, &["--target", "p95_ms=10000"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}\nthe appliance's log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    assert!(stdout.contains("verdict: PASS"), "{stdout}");

    let r = report(&out);
    assert_eq!(r["schema"], "trust-fabric/bench-rig-report/v1");
    assert_eq!(r["profile"], "steady");
    assert_eq!(r["verdict"], "PASS");
    assert_eq!(r["interrupted"], false);
    // 40 req/s for 4 s after the warm-up: exactly 160 requests, all valid.
    let overall = &r["overall"];
    assert_eq!(u(&overall["sent"]), 160);
    assert_eq!(u(&overall["served"]), 160);
    assert_eq!(u(&overall["valid"]), 160);
    assert_eq!(overall["errors"], serde_json::json!({}));
    assert_eq!(u(&overall["latency_ms"]["count"]), 160);
    assert_eq!(u(&r["in_appliance_ms"]["count"]), 160);
    let latency = &overall["latency_ms"];
    assert!(f(&latency["p50"]) > 0.0);
    assert!(f(&latency["p50"]) <= f(&latency["p95"]));
    assert!(f(&latency["p95"]) <= f(&latency["p99"]));
    assert!(f(&latency["p99"]) <= f(&latency["max"]));

    // Equal demands: 80 each; the weights came from the appliance's configuration.
    let tenants = r["tenants"].as_array().expect("tenants");
    let names: Vec<&str> = tenants
        .iter()
        .map(|t| t["name"].as_str().expect("a string"))
        .collect();
    assert_eq!(names, ["demo", "acme"]);
    assert_eq!(f(&tenants[1]["weight"]), 3.0);
    for tenant in tenants {
        assert_eq!(u(&tenant["sent"]), 80);
        assert_eq!(u(&tenant["served"]), 80);
        assert!((f(&tenant["x"]) - 1.0).abs() < 1e-9);
    }
    assert_eq!(f(&r["fairness"]["gini"]), 0.0);

    // Per second: the 4 whole seconds, each with its 40 requests sent (no partial last second
    // falling to zero); answers that arrive after the last whole second are in the totals only.
    let intervals = r["intervals"].as_array().expect("intervals");
    let sent: Vec<u64> = intervals.iter().map(|i| u(&i["sent"])).collect();
    assert_eq!(sent, [40, 40, 40, 40]);
    let served: u64 = intervals.iter().map(|i| u(&i["served"])).sum();
    assert!(served <= 160, "{served}");

    // The appliance's own accounting, and the floor of this mix measured in the same run.
    let appliance = &r["appliance"];
    assert_eq!(u(&appliance["pid"]), u64::from(server.pid()));
    assert!(f(&appliance["cpu_seconds"]) > 0.0);
    assert!(f(&appliance["rss_max_mib"]) > 1.0);
    assert!(f(&r["cost"]["cpu_seconds_per_1k"]) > 0.0);
    let floor = &r["floor"];
    for kind in ["bls", "bn254", "bls12-381"] {
        let k = &floor["kinds"][kind];
        assert!(
            f(&k["single_ms"]) > 0.0 && f(&k["batched_ms"]) > 0.0,
            "{floor}"
        );
    }
    assert!(f(&r["cost"]["throughput_vs_single_floor"]) > 0.0);
    for check in r["slo"].as_array().expect("checks") {
        assert_eq!(check["pass"], true, "{check}");
    }

    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert_eq!(html.matches("<svg").count(), 5, "five plots");
    // Latency per kind of the mix, and units on the axes.
    assert!(html.contains("By kind"), "the per-kind table");
    for kind in ["bls", "bn254", "bls12-381"] {
        assert!(
            html.contains(&format!("<td>{kind}</td>")),
            "{kind} in the table"
        );
    }
    for unit in [
        "latency (ms)",
        "rate (req/s)",
        "time into the measured run (s)",
    ] {
        assert!(html.contains(unit), "{unit}");
    }
    // Self-contained: nothing is fetched (the SVG namespace URI is a name, not a fetch).
    assert!(!html.contains("<script src") && !html.contains("<link") && !html.contains("url("));
    let log = std::fs::read_to_string(out.join("latency.hlog")).expect("latency.hlog");
    assert!(log.starts_with("#[Histogram log format version 1.3]"));
    let logged = log
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('"'))
        .count();
    // The log keeps every interval, a trailing partial one too.
    assert!(logged >= intervals.len(), "{logged} < {}", intervals.len());

    // A target the run cannot meet fails it, with exit code 1.
    let strict = dir.path().join("b");
    let output = run(&server, &strict, &["--target", "p50_ms=0.001"]);
    assert_eq!(output.status.code(), Some(1));
    let b = report(&strict);
    assert_eq!(b["verdict"], "FAIL");
    let p50 = b["slo"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["metric"] == "p50_ms")
        .expect("the p50 target")
        .clone();
    assert_eq!(p50["pass"], false);

    // compare prints B against A.
    let compared = Command::new(bench_rig())
        .args([
            "compare",
            out.to_str().expect("utf-8"),
            strict.to_str().expect("utf-8"),
        ])
        .output()
        .expect("compare runs");
    assert!(compared.status.success());
    let text = String::from_utf8_lossy(&compared.stdout);
    assert!(
        text.contains("p95 ms") && text.contains("served req/s"),
        "{text}"
    );
    let compared = Command::new(bench_rig())
        .args([
            "compare",
            out.join("report.json").to_str().expect("utf-8"),
            strict.join("report.json").to_str().expect("utf-8"),
        ])
        .output()
        .expect("compare runs");
    assert!(
        compared.status.success(),
        "{}",
        String::from_utf8_lossy(&compared.stderr)
    );
}

#[test]
fn ctrl_c_stops_the_run_with_a_partial_report() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("partial");
    let config = server.dir.path().join("appliance.toml");
    let child = Command::new(bench_rig())
        .args([
            "steady",
            "--rps",
            "20",
            "--duration",
            "10m",
            "--warmup",
            "0s",
            "--appliance-config",
            config.to_str().expect("utf-8"),
            "--state-dir",
            server.state.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("bench-rig starts");
    // Wait until the run is under way (the floor is measured first: the plan is announced
    // when sending starts), let it send for a while, then interrupt it.
    let mut child = child;
    let stderr = child.stderr.take().expect("piped");
    let (started, announced) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if line.starts_with("bench-rig steady:") {
                let _ = started.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    announced
        .recv_timeout(Duration::from_secs(120))
        .expect("the run starts");
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("bench-rig exits");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = reader.join().expect("reader");
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    let r = report(&out);
    assert_eq!(r["interrupted"], true);
    let measured = f(&r["measured_seconds"]);
    assert!(measured > 0.0 && measured < 600.0, "{measured}");
    let sent = u(&r["overall"]["sent"]);
    assert!(sent > 0, "some requests were sent before Ctrl-C");
    assert_eq!(
        u(&r["overall"]["served"])
            + r["overall"]["errors"]
                .as_object()
                .expect("errors by type")
                .values()
                .map(u)
                .sum::<u64>(),
        sent,
        "every request sent was answered or counted"
    );
    assert!(stdout.contains("(interrupted)"), "{stdout}");
}

#[test]
fn bad_options_are_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().to_str().expect("utf-8");
    let cases: [(&[&str], &str); 4] = [
        (&["steady", "--mix", "rsa=1"], "--mix: unknown kind \"rsa\""),
        (&["steady", "--duration", "10x"], "--duration: unknown unit"),
        (
            &["ramp", "--stages", "800"],
            "--stages: \"800\" is not RATE:DURATION",
        ),
        (
            &["steady", "--tenants", "a", "--weights", "b=2"],
            "--weights: b is not one of --tenants (a)",
        ),
    ];
    for (args, expected) in cases {
        let output = Command::new(bench_rig())
            .args(args)
            .args(["--state-dir", state])
            .output()
            .expect("bench-rig runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// Runs bench-rig with `args` and expects it to refuse them: exit code 2 and `expected` on
/// stderr.
fn refused(args: &[&str], expected: &str) {
    let output = Command::new(bench_rig())
        .args(args)
        .output()
        .expect("bench-rig runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}

#[test]
fn an_option_of_another_profile_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().to_str().expect("utf-8");
    refused(
        &["steady", "--stages", "800:1m", "--state-dir", state],
        "--stages: does not apply to the steady profile (it is for ramp only); remove it, or \
         run `bench-rig ramp`",
    );
    refused(
        &["ramp", "--rps", "800", "--state-dir", state],
        "--rps: does not apply to the ramp profile (a ramp's rates are in --stages",
    );
    refused(
        &["capacity", "--duration", "1m", "--state-dir", state],
        "--duration: does not apply to the capacity profile",
    );
    refused(
        &["burst", "--noisy-factor", "3", "--state-dir", state],
        "--noisy-factor: does not apply to the burst profile",
    );
    refused(
        &["steady", "--target", "p95_swing=10%", "--state-dir", state],
        "--target p95_swing: does not apply to the steady profile",
    );
    // In a profile file, the same.
    let file = dir.path().join("steady.toml");
    std::fs::write(&file, "profile = \"steady\"\nrps = 10\nswing = 30\n").expect("written");
    refused(
        &["run", file.to_str().expect("utf-8"), "--state-dir", state],
        "--swing: does not apply to the steady profile",
    );
    // floor and compare neither connect nor write a report.
    refused(
        &["floor", "--timeout", "5"],
        "--timeout: does not apply to `bench-rig floor`",
    );
    refused(
        &["compare", "a.json", "b.json", "--out", state],
        "--out: does not apply to `bench-rig compare`",
    );
}

#[test]
fn a_wrong_state_dir_is_named_with_what_it_lacks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nowhere = dir.path().join("nowhere");
    let nowhere = nowhere.to_str().expect("utf-8");
    refused(
        &["steady", "--state-dir", nowhere],
        &format!("--state-dir {nowhere}: no such directory"),
    );
    let empty = dir.path().to_str().expect("utf-8");
    refused(
        &["steady", "--tenants", "acme", "--state-dir", empty],
        &format!("--state-dir {empty}: not an appliance state directory: it has no ca.pem"),
    );
    // Made by `appliance init` but never served: no partner.toml to say where to connect.
    let fresh = dir.path().join("fresh");
    let fresh = fresh.to_str().expect("utf-8");
    let init = Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["init", "--state-dir", fresh])
        .output()
        .expect("appliance runs");
    assert!(init.status.success());
    refused(
        &["steady", "--state-dir", fresh],
        &format!("--state-dir {fresh}: it has no partner.toml"),
    );
    // A served state directory without the tenant's certificate.
    let server = Server::start(CONFIG, &["acme"], &[]);
    let state = server.state.to_str().expect("utf-8");
    refused(
        &["steady", "--tenants", "acme,ghost", "--state-dir", state],
        &format!(
            "tenant ghost has no client identity here: {state}/tenants/ghost/client.pem is missing"
        ),
    );
}

/// `bench-rig compare A B` with `extra` options.
fn compare(a: &Path, b: &Path, extra: &[&str]) -> Output {
    Command::new(bench_rig())
        .arg("compare")
        .args([a, b])
        .args(extra)
        .output()
        .expect("compare runs")
}

/// Writes `report` with `change` applied as a report directory `dir`.
fn altered(report: &Value, dir: &Path, change: impl FnOnce(&mut Value)) {
    let mut copy = report.clone();
    change(&mut copy);
    std::fs::create_dir_all(dir).expect("report directory");
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_vec_pretty(&copy).expect("JSON"),
    )
    .expect("written");
}

#[test]
fn compare_fails_over_a_worse_figure_and_warns_when_runs_differ() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a");
    let output = run(&server, &a, &["--target", "p95_ms=10000"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let recorded = report(&a);

    // B: the same run with p99 half as high again.
    let worse = dir.path().join("worse");
    altered(&recorded, &worse, |r| {
        let p99 = f(&r["overall"]["latency_ms"]["p99"]);
        r["overall"]["latency_ms"]["p99"] = (p99 * 1.5).into();
    });
    let gated = compare(&a, &worse, &["--fail-over", "20"]);
    let stdout = String::from_utf8_lossy(&gated.stdout);
    assert_eq!(gated.status.code(), Some(1), "{stdout}");
    let listed = stdout
        .split("worse by more than 20 % (--fail-over):")
        .nth(1)
        .unwrap_or_else(|| panic!("the figures over the limit are listed: {stdout}"));
    assert!(
        listed.contains("p99 ms:") && listed.contains("50.0 % worse"),
        "{stdout}"
    );
    assert_eq!(
        listed.trim().lines().count(),
        1,
        "only p99 got worse: {stdout}"
    );
    // Within the limit, and without a limit, the exit code is 0.
    let within = compare(&a, &worse, &["--fail-over", "60%"]);
    assert_eq!(
        within.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&within.stdout)
    );
    assert_eq!(compare(&a, &worse, &[]).status.code(), Some(0));
    // Better is never a failure, however far it moved.
    assert_eq!(
        compare(&worse, &a, &["--fail-over", "0"]).status.code(),
        Some(0)
    );

    // Runs of different profiles are compared with a warning on stderr.
    let burst = dir.path().join("burst");
    altered(&recorded, &burst, |r| r["profile"] = "burst".into());
    let warned = compare(&a, &burst, &[]);
    assert_eq!(warned.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(
        stderr.contains("warning: the runs' profiles differ (A steady; B burst)"),
        "{stderr}"
    );
    assert!(
        compare(&a, &worse, &[]).stderr.is_empty(),
        "no warning for runs made the same way"
    );
}
