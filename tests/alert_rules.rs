//! docs/alerts.yml as Prometheus reads it: `promtool check rules` accepts it (and rejects a broken
//! expression, so that check means something), `promtool test rules` passes
//! tests/alerts/trust-fabric_test.yml, which holds a firing and a silent case for every rule, and
//! every metric the rules query is one the appliance writes on /metrics.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rules() -> String {
    std::fs::read_to_string(root().join("docs/alerts.yml")).expect("docs/alerts.yml")
}

fn promtool(args: &[&str], file: &Path) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("promtool runs (tests/run installs prometheus): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn alert_names(rules: &str) -> Vec<&str> {
    rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(str::trim)
        .collect()
}

#[test]
fn promtool_accepts_the_rules_and_rejects_a_broken_expression() {
    let rules = rules();
    let path = root().join("docs/alerts.yml");
    let (ok, output) = promtool(&["check", "rules"], &path);
    let count = alert_names(&rules).len();
    assert!(ok, "{output}");
    assert!(
        output.contains(&format!("SUCCESS: {count} rules found")),
        "{output}"
    );

    // TrustFabricCpuHigh with its last parenthesis dropped.
    let fixed = r#"(rate(trust_fabric_shard_cpu_seconds_total{job="trust-fabric"}[5m]))"#;
    assert!(
        rules.contains(fixed),
        "TrustFabricCpuHigh's expression changed"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.yml");
    std::fs::write(&broken, rules.replace(fixed, &fixed[..fixed.len() - 1])).expect("written");
    let (ok, output) = promtool(&["check", "rules"], &broken);
    assert!(!ok, "{output}");
    assert!(
        output.contains("TrustFabricCpuHigh") && output.contains("unclosed left parenthesis"),
        "{output}"
    );
}

#[test]
fn every_rule_fires_and_stays_silent_in_the_promtool_unit_tests() {
    let path = root().join("tests/alerts/trust-fabric_test.yml");
    let (ok, output) = promtool(&["test", "rules"], &path);
    assert!(ok, "{output}");

    // Which rules have a case expecting alerts and which one expecting none.
    let tests = std::fs::read_to_string(&path).expect("test file");
    let (mut firing, mut silent) = (BTreeSet::new(), BTreeSet::new());
    let mut alertname = "";
    for line in tests.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("alertname:") {
            alertname = name.trim();
        } else if line == "exp_alerts: []" {
            silent.insert(alertname);
        } else if line == "exp_alerts:" {
            firing.insert(alertname);
        }
    }
    for name in alert_names(&rules()) {
        assert!(firing.contains(name), "no case where {name} fires");
        assert!(silent.contains(name), "no case where {name} stays silent");
    }
}

#[test]
fn the_rules_query_only_metrics_the_appliance_writes() {
    // The families the appliance writes are the string literals naming them in its sources.
    let mut sources = Vec::new();
    for dir in ["appliance/metrics/src", "appliance/admin/src"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("source folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                sources.push(std::fs::read_to_string(&path).expect("source"));
            }
        }
    }
    let written: BTreeSet<&str> = sources
        .iter()
        .flat_map(|s| s.split('"'))
        .filter(|s| metric_name(s))
        .collect();

    let rules = rules();
    let queried: BTreeSet<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .flat_map(|e| e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| metric_name(w))
        .map(|w| w.strip_suffix("_bucket").unwrap_or(w))
        .collect();
    assert!(
        queried.contains("trust_fabric_shard_cpu_seconds_total"),
        "{queried:?}"
    );
    let unknown: Vec<_> = queried.difference(&written).collect();
    assert!(
        unknown.is_empty(),
        "rules query metrics the appliance does not write: {unknown:?}"
    );
}

/// A whole word as `\b(trust_fabric_[a-z_]+|process_[a-z_]+)\b` matches it.
fn metric_name(word: &str) -> bool {
    ["trust_fabric_", "process_"].iter().any(|prefix| {
        word.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
    })
}
