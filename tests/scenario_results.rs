//! The scheduler's results as an SRE reads them: the admin API, `appliance ctl scenarios`,
//! `appliance scenarios results` and `/metrics`, from results stored in a real appliance's
//! decision log and read back after a restart.

#[path = "support/server.rs"]
mod server;

use std::process::Command;

use serde_json::Value;
use server::{ROLE_TOKENS as TOKENS, Server, get, with_admin_tokens};
use tf_decisions::{DecisionLog, RunRow};

const DAY_US: u64 = 86_400_000_000;

/// A night of `pack`, `nights_ago` before now, with `flips` of 10,000 decisions.
fn night(pack: &str, nights_ago: u64, passed: bool, flips: u64, bound: f64) -> RunRow {
    let now_us = tf_seam::clock::unix_micros();
    let started_us = now_us - nights_ago * DAY_US;
    let expectations = serde_json::json!({
        "pack": pack,
        "passed": passed,
        "expectations": [
            { "what": "drift below 1 %", "held": passed, "detail": format!("bound {:.3} %", bound * 100.0) },
            { "what": "no tenant over budget", "held": true, "detail": "none" },
        ],
    });
    RunRow {
        pack: pack.to_owned(),
        slot_us: started_us,
        started_us,
        finished_us: started_us + 2_000_000,
        passed,
        decisions: 10_000,
        flips,
        upper_bound: bound,
        result: expectations.to_string(),
    }
}

fn appliance(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_appliance"))
        .env_remove("TF_ADMIN_URL")
        .env_remove("TF_ADMIN_TOKEN")
        .args(args)
        .output()
        .expect("appliance runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_sre_reads_last_nights_packs_and_their_trends_from_the_api_ctl_and_metrics() {
    let config = with_admin_tokens(
        "[[tenants]]\nid = \"demo\"\n\n[scenarios]\nschedule = \"15 3 * * *\"\n",
        &TOKENS,
    );
    let mut server = Server::start(&config, &[], &[]);
    let admin = server.admin_address();
    let (status, body) = get(admin, "/metrics");
    assert_eq!(status, 200);
    assert!(
        body.contains("trust_fabric_scenario_packs_failing 0"),
        "{body}"
    );

    // Nine nights of drop-globex (the last one failing), one of surge, and one of a pack
    // that did not run; stored while the appliance is stopped, read when it starts again.
    assert!(server.terminate().success(), "{}", server.log());
    {
        let log = DecisionLog::open(&server.state_path("decisions.sqlite")).expect("log");
        let bounds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.5];
        for (i, percent) in bounds.iter().enumerate() {
            let last = i == bounds.len() - 1;
            let ago = (bounds.len() - 1 - i) as u64;
            let run = night(
                "drop-globex",
                ago,
                !last,
                10 * (i as u64 + 1),
                percent / 100.0,
            );
            log.record_run(&run).expect("stored");
        }
        // Older than 90 days: pruned from the chart, so not in the trend.
        log.record_run(&night("surge", 120, true, 0, 0.0004))
            .expect("stored");
        log.record_run(&night("surge", 1, true, 0, 0.0003))
            .expect("stored");
        let mut broken = night("bad pack", 0, false, 0, 1.0);
        broken.decisions = 0;
        broken.result = serde_json::json!({ "error": "the CPU budget was spent" }).to_string();
        log.record_run(&broken).expect("stored");
    }
    server.start_again();
    let admin = format!("http://{}", server.admin_address());

    // The API, through `ctl` with the least role that may read it.
    let token = server.dir.path().join("viewer.token");
    std::fs::write(&token, "viewer-token\n").expect("token file");
    let token = token.to_str().expect("utf-8 path");
    let (code, out, err) = appliance(&[
        "ctl",
        "--admin",
        &admin,
        "--token-file",
        token,
        "scenarios",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let reply: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(reply["schedule"], "15 3 * * *");
    assert_eq!(reply["failing"], 2, "{out}");
    let packs = reply["packs"].as_array().expect("packs");
    let names: Vec<&str> = packs
        .iter()
        .map(|p| p["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["bad pack", "drop-globex", "surge"]);
    let globex = &packs[1];
    assert_eq!(globex["latest"]["passed"], false);
    assert_eq!(globex["nights"].as_array().expect("nights").len(), 9);
    let trend = &globex["drift_bound_percent"];
    let near = |value: &Value, expected: f64| {
        let got = value.as_f64().expect("a number");
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    };
    near(&trend["latest"], 1.5);
    near(&trend["since_last"], 0.7);
    // The seven nights before the latest: 0.2 to 0.8, median 0.5.
    near(&trend["since_week_median"], 1.0);
    near(&globex["flips"]["since_last"], 10.0);
    let failed: Vec<&Value> = globex["latest"]["expectations"]
        .as_array()
        .expect("expectations")
        .iter()
        .filter(|e| e["held"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{globex}");
    assert_eq!(failed[0]["detail"], "bound 1.500 %");
    assert_eq!(packs[0]["latest"]["error"], "the CPU budget was spent");
    assert_eq!(packs[2]["nights"].as_array().expect("nights").len(), 1);
    assert_eq!(packs[2]["drift_bound_percent"]["since_last"], Value::Null);

    // For people: a row per pack, then what failed.
    let (code, out, err) =
        appliance(&["ctl", "--admin", &admin, "--token-file", token, "scenarios"]);
    assert_eq!(code, 0, "{err}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("a row for {name} in {out}"))
            .to_owned()
    };
    let globex_row = row("drop-globex");
    assert!(
        globex_row.contains("FAILED")
            && globex_row.contains("1.500")
            && globex_row.contains("+0.700")
            && globex_row.contains("+1.000"),
        "{globex_row}"
    );
    assert!(row("bad pack").contains("did not run"), "{out}");
    assert!(
        out.contains("drop-globex: drift below 1 % (bound 1.500 %)"),
        "{out}"
    );

    // The same from the state directory, without the admin server: exit 1, a pack failed.
    let (code, local, err) = appliance(&[
        "scenarios",
        "results",
        "--state-dir",
        server.state_path("").to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(local.contains(&globex_row), "{local}");

    // The metrics the alert reads, as the stored results left them.
    let (_, metrics) = get(server.admin_address(), "/metrics");
    for line in [
        "trust_fabric_scenario_packs 3",
        "trust_fabric_scenario_packs_failing 2",
        "trust_fabric_scenario_pack_failing{pack=\"drop-globex\"} 1",
        "trust_fabric_scenario_pack_failing{pack=\"bad pack\"} 1",
        "trust_fabric_scenario_pack_failing{pack=\"surge\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
}
