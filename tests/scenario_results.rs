//! The scheduler's results as an SRE reads them: the admin API, `appliance ctl scenarios`,
//! `appliance scenarios results` and `/metrics`, from results stored in a real appliance's
//! decision log and read back after a restart; a pack that did not apply to the bundle in
//! force is shown as such, and is neither passed nor failing.

#[path = "support/server.rs"]
mod server;
#[path = "support/webhooks.rs"]
mod webhooks;

use serde_json::Value;
use server::{
    ROLE_TOKENS as TOKENS, Server, free_port, get, http, run_appliance, with_admin_tokens,
};
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
        ran: true,
        applicable: true,
    }
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

    // Nine nights of drop-globex (the last one failing), one of surge-three-times, one of a
    // pack that did not run, and two of acme-quota-lowered then a night it did not apply (the
    // built-in packs' names, which the scheduler runs); stored while the appliance is stopped,
    // read when it starts again.
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
        log.record_run(&night("surge-three-times", 120, true, 0, 0.0004))
            .expect("stored");
        log.record_run(&night("surge-three-times", 1, true, 0, 0.0003))
            .expect("stored");
        let mut broken = night("acme-p0-audits", 0, false, 0, 1.0);
        broken.decisions = 0;
        broken.result = serde_json::json!({ "error": "the CPU budget was spent" }).to_string();
        broken.ran = false;
        log.record_run(&broken).expect("stored");
        log.record_run(&night("acme-quota-lowered", 2, true, 5, 0.001))
            .expect("stored");
        log.record_run(&night("acme-quota-lowered", 1, true, 7, 0.002))
            .expect("stored");
        // As the scheduler stores a pack naming a tenant the bundle in force lacks.
        let mut foreign = night("acme-quota-lowered", 0, false, 0, 0.0);
        foreign.decisions = 0;
        foreign.result = serde_json::json!({ "missing_tenants": ["acme"] }).to_string();
        foreign.ran = false;
        foreign.applicable = false;
        log.record_run(&foreign).expect("stored");
    }
    server.start_again();
    let admin = format!("http://{}", server.admin_address());

    // The API, through `ctl` with the least role that may read it.
    let token = server.dir.path().join("viewer.token");
    std::fs::write(&token, "viewer-token\n").expect("token file");
    let token = token.to_str().expect("utf-8 path");
    let (code, out, err) = run_appliance(&[
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
    assert_eq!(
        names,
        [
            "acme-p0-audits",
            "acme-quota-lowered",
            "drop-globex",
            "surge-three-times"
        ]
    );
    let named = |name: &str| {
        packs
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no pack {name}"))
    };
    let globex = named("drop-globex");
    assert_eq!(globex["latest"]["passed"], false);
    assert_eq!(globex["latest"]["outcome"], "failed");
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
    let broken = named("acme-p0-audits");
    assert_eq!(broken["latest"]["error"], "the CPU budget was spent");
    assert_eq!(broken["latest"]["outcome"], "did-not-run");
    let surge = named("surge-three-times");
    assert_eq!(surge["latest"]["outcome"], "passed");
    assert_eq!(surge["nights"].as_array().expect("nights").len(), 1);
    assert_eq!(surge["drift_bound_percent"]["since_last"], Value::Null);
    // Not applicable: neither passed nor failed, the missing tenant named, and its night left
    // out of the chart and the trend (which stay those of the two nights it ran).
    let foreign = named("acme-quota-lowered");
    assert_eq!(foreign["latest"]["outcome"], "not-applicable", "{foreign}");
    assert_eq!(
        foreign["latest"]["missing_tenants"],
        serde_json::json!(["acme"])
    );
    assert_eq!(foreign["latest"]["passed"], false);
    assert_eq!(foreign["latest"]["error"], Value::Null);
    assert_eq!(foreign["nights"].as_array().expect("nights").len(), 2);
    near(&foreign["drift_bound_percent"]["latest"], 0.2);
    near(&foreign["drift_bound_percent"]["since_last"], 0.1);

    // For people: a row per pack, then what failed.
    let (code, out, err) =
        run_appliance(&["ctl", "--admin", &admin, "--token-file", token, "scenarios"]);
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
    assert!(row("acme-p0-audits").contains("did not run"), "{out}");
    assert!(
        row("acme-quota-lowered").contains("not applicable"),
        "{out}"
    );
    assert!(
        out.contains(
            "acme-quota-lowered: not applicable, not run: the bundle in force has no tenant acme"
        ),
        "{out}"
    );
    assert!(
        out.contains("drop-globex: drift below 1 % (bound 1.500 %)"),
        "{out}"
    );

    // The same from the state directory, without the admin server: exit 1, a pack failed.
    let (code, local, err) = run_appliance(&[
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
        "trust_fabric_scenario_packs 4",
        "trust_fabric_scenario_packs_failing 2",
        "trust_fabric_scenario_packs_not_applicable 1",
        "trust_fabric_scenario_pack_failing{pack=\"drop-globex\"} 1",
        "trust_fabric_scenario_pack_failing{pack=\"acme-p0-audits\"} 1",
        "trust_fabric_scenario_pack_failing{pack=\"acme-quota-lowered\"} 0",
        "trust_fabric_scenario_pack_failing{pack=\"surge-three-times\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
}

#[test]
fn a_pack_that_fails_at_night_is_sent_to_webhook_endpoints_as_scenario_failed() {
    // One pack, every two seconds: over a recorded hour that holds no decision, it cannot
    // bound its drift and fails.
    let packs = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        packs.path().join("quiet.toml"),
        "name = \"quiet-hour\"\n[[change.caps]]\ntenant = \"acme\"\nclass = \"P1\"\nscale = 0.5\n\n\
         [traffic]\nsource = \"recorded\"\nwindow = \"1h\"\n\n[expect]\nmax_drift_percent = 1.0\n",
    )
    .expect("pack written");
    let config = with_admin_tokens(
        &format!(
            "[[tenants]]\nid = \"demo\"\n\n[scenarios]\nschedule = \"*/2 * * * * *\"\ndir = {:?}\n",
            packs.path().display().to_string()
        ),
        &TOKENS,
    );
    let server = Server::start(&config, &[], &[]);
    let admin = server.admin_address();
    let sre = [("Authorization", "Bearer sre-token")];
    let port = free_port();
    let add = serde_json::json!({
        "url": format!("http://127.0.0.1:{port}/hooks"),
        "settings": {
            "events": ["scenario.failed"],
            "schemes": ["v1"],
            "local": true,
            "description": "oncall",
        },
        "reason": "night alarms",
    });
    let (status, body) = http(
        admin,
        "POST",
        "/api/v1/webhooks",
        &[sre[0], ("Content-Type", "application/json")],
        add.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let added: Value = serde_json::from_str(&body).expect("JSON");
    let secret = added["secret"].as_str().expect("a secret");
    let out = server.dir.path().join("received");
    let receiver = webhooks::Receiver::for_endpoint(port, &out, secret, &server.state, &[]);

    // Packs run only against a bundle in force.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let bundle = server.build_bundle(&example, 1, "in force", None);
    let (status, body) = http(
        admin,
        "POST",
        "/api/v1/bundles/promote",
        &[("Authorization", "Bearer author-token")],
        &std::fs::read(&bundle).expect("archive"),
    );
    assert_eq!(status, 200, "{body}");

    let events = out.join("events");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let body = loop {
        let found = std::fs::read_dir(&events).ok().and_then(|dir| {
            dir.filter_map(Result::ok)
                .find(|f| f.file_name().to_string_lossy().starts_with("msg_scenario_"))
        });
        if let Some(file) = found {
            break std::fs::read_to_string(file.path()).expect("event body");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scenario.failed message: {}\n{}",
            receiver.log(),
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let message: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(message["type"], "scenario.failed");
    assert_eq!(message["data"]["pack"], "quiet-hour");
    assert_eq!(message["data"]["decisions"], 0);
    let failed = message["data"]["failed"]
        .as_array()
        .expect("failed expectations");
    assert!(!failed.is_empty(), "{message}");

    // The same alarm on the timeline, after the promotion: in the API, `ctl timeline` and the
    // console's bundle page.
    let (status, body) = http(admin, "GET", "/api/v1/bundles", &sre, b"");
    assert_eq!(status, 200, "{body}");
    let timeline: Value = serde_json::from_str(&body).expect("JSON");
    let alarm = timeline["events"]
        .as_array()
        .and_then(|events| events.first())
        .unwrap_or_else(|| panic!("an alarm on the timeline: {timeline}"));
    assert_eq!(alarm["kind"], "scenario.failed");
    let summary = alarm["summary"].as_str().expect("a summary");
    assert!(
        summary.starts_with("scenario pack quiet-hour failed: "),
        "{summary}"
    );
    let promoted_us = timeline["timeline"][0]["at_unix_us"]
        .as_u64()
        .expect("a promotion");
    assert!(alarm["at_unix_us"].as_u64().expect("a time") >= promoted_us);

    let token = server.dir.path().join("sre.token");
    std::fs::write(&token, "sre-token\n").expect("token file");
    let (code, out, err) = run_appliance(&[
        "ctl",
        "--admin",
        &format!("http://{admin}"),
        "--token-file",
        token.to_str().expect("utf-8 path"),
        "timeline",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let promotion = lines.iter().position(|l| l.contains("promote"));
    let alarm_line = lines
        .iter()
        .position(|l| l.contains("scenario.failed") && l.contains(summary));
    assert!(
        matches!((promotion, alarm_line), (Some(p), Some(a)) if p < a),
        "the alarm after the promotion: {out}"
    );

    let cookie = server::console_cookie(admin, "sre-token");
    let (status, page) = http(
        admin,
        "GET",
        "/console/bundles",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(status, 200, "{page}");
    let row = page
        .split("<tr class=\"control-event alarm")
        .nth(1)
        .unwrap_or_else(|| panic!("an alarm row: {page}"));
    assert!(
        row.contains("scenario.failed") && row.contains("scenario pack quiet-hour failed"),
        "{row}"
    );
}
