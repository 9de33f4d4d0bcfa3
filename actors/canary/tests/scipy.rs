//! The judge's statistics against SciPy's, on fixed samples: tiny ones (the exact
//! distribution), ties (the corrected normal approximation), a small sample against a large
//! one, windows of a few hundred latencies, shifted and identical samples, every alternative;
//! Fisher's exact test on small and large tables. SciPy (Debian's python3-scipy, installed by
//! tests/run) computes the expected values in a second process.

use std::process::Command;

use serde_json::{Value, json};
use tf_canary::{Alternative, fisher_greater, hodges_lehmann, mann_whitney};

/// Latency-like values: a deterministic lognormal-ish spread around `centre` ms, rounded to
/// 0.1 ms so that ties occur as they do in real timings.
fn latencies(seed: u64, count: usize, centre: f64) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let uniform = (state >> 11) as f64 / (1u64 << 53) as f64;
            let value = centre * (1.0 + 0.6 * (uniform - 0.5)).powi(3);
            (value * 10.0).round() / 10.0
        })
        .collect()
}

const SCIPY: &str = r#"
import json, sys
import numpy as np
from scipy import stats
cases = json.load(open(sys.argv[1]))
out = {"mwu": [], "hl": [], "fisher": []}
for case in cases["mwu"]:
    x, y = case["x"], case["y"]
    row = {}
    for alt in ["two-sided", "greater", "less"]:
        r = stats.mannwhitneyu(x, y, alternative=alt, method="auto")
        row[alt] = [float(r.statistic), float(r.pvalue)]
    out["mwu"].append(row)
    out["hl"].append(float(np.median(np.subtract.outer(np.array(x), np.array(y)))))
for t in cases["fisher"]:
    ce, ct, be, bt = t
    _, p = stats.fisher_exact([[ce, ct - ce], [be, bt - be]], alternative="greater")
    out["fisher"].append(float(p))
print(json.dumps(out))
"#;

/// Within a relative 1e-9 (tail probabilities far below 1e-14 included).
fn close(got: f64, expected: f64, what: &str) {
    assert!(
        (got - expected).abs() <= 1e-9 * expected.abs() + 1e-300,
        "{what}: ours {got}, SciPy {expected}"
    );
}

#[test]
fn mann_whitney_hodges_lehmann_and_fisher_agree_with_scipy() {
    let base = latencies(7, 300, 4.0);
    let samples: Vec<(Vec<f64>, Vec<f64>)> = vec![
        // Tiny, no ties: exact.
        (vec![1.2, 3.4, 5.6], vec![2.1, 4.3]),
        (vec![9.0], vec![1.0, 2.0, 3.0, 4.0]),
        // Small, with ties: the corrected approximation.
        (vec![1.0, 2.0, 2.0, 3.0], vec![2.0, 3.0, 3.0, 4.0, 5.0]),
        // Eight against forty, no ties: exact with a long tail.
        (
            (0..8).map(|i| 10.0 + i as f64 * 0.37).collect(),
            (0..40).map(|i| 8.0 + i as f64 * 0.291).collect(),
        ),
        // Windows of latencies with ties: unchanged, shifted by half a millisecond, slower by
        // a tenth, and faster.
        (latencies(11, 300, 4.0), base.clone()),
        (base.iter().map(|v| v + 0.5).collect(), base.clone()),
        (latencies(13, 250, 4.4), base.clone()),
        (latencies(17, 40, 3.6), base.clone()),
        // Identical.
        (base.clone(), base.clone()),
    ];
    let tables: [[u64; 4]; 7] = [
        [3, 3, 0, 3],
        [5, 100, 1, 100],
        [0, 50, 0, 50],
        [40, 1_000, 20, 1_000],
        [1, 1, 1, 1],
        [7, 400, 30, 2_000],
        [2, 8_640, 0, 60_480],
    ];
    let cases = json!({
        "mwu": samples.iter().map(|(x, y)| json!({"x": x, "y": y})).collect::<Vec<_>>(),
        "fisher": tables,
    });
    let dir = std::env::temp_dir().join(format!("tf-canary-scipy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("cases.json");
    std::fs::write(&file, cases.to_string()).expect("cases written");
    let run = Command::new("/usr/bin/python3")
        .args(["-c", SCIPY])
        .arg(&file)
        .output()
        .expect("python3 runs (tests/run installs it)");
    assert!(
        run.status.success(),
        "SciPy did not answer (tests/run installs python3-scipy): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let expected: Value = serde_json::from_slice(&run.stdout).expect("JSON from SciPy");
    let _ = std::fs::remove_dir_all(&dir);

    for (i, (x, y)) in samples.iter().enumerate() {
        for (name, alternative) in [
            ("two-sided", Alternative::TwoSided),
            ("greater", Alternative::Greater),
            ("less", Alternative::Less),
        ] {
            let ours = mann_whitney(x, y, alternative).expect("samples");
            let theirs = &expected["mwu"][i][name];
            let what = format!("case {i} {name}");
            close(ours.u, theirs[0].as_f64().expect("U"), &format!("{what} U"));
            close(
                ours.p_value,
                theirs[1].as_f64().expect("p"),
                &format!("{what} p"),
            );
        }
        let shift = hodges_lehmann(x, y).expect("samples");
        close(
            shift,
            expected["hl"][i].as_f64().expect("HL"),
            &format!("case {i} HL"),
        );
    }
    for (i, [ce, ct, be, bt]) in tables.into_iter().enumerate() {
        let ours = fisher_greater(ce, ct, be, bt).expect("a table");
        let theirs = expected["fisher"][i].as_f64().expect("p");
        close(ours, theirs, &format!("table {i} {:?}", [ce, ct, be, bt]));
    }
}
