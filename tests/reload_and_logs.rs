//! SIGHUP and the log as an SRE sees them: JSON lines on stderr, a reload that changes the log
//! level and a tenant's admission quota while serving and names what needs a restart, and a
//! broken file that changes nothing.

#[path = "support/server.rs"]
mod server;

use std::time::{Duration, Instant};

use serde_json::Value;
use server::{Server, wait_for_async};
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerError, Statement, Submission, VerdictCode};

fn submission(seed: u8) -> Submission {
    let message = [seed; 8];
    let (signature, public_key) = bls::sign(&[seed + 1; 32], &message).expect("signs");
    Submission {
        purpose: "test".into(),
        dataset_class: DatasetClass::P2,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message: message.to_vec(),
            signature: signature.to_bytes(),
        },
    }
}

/// Every log line, parsed; panics on a line that is not JSON.
fn log_lines(server: &Server) -> Vec<Value> {
    server
        .log()
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect()
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

fn wait_for_log(server: &Server, what: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(line) = log_lines(server)
            .into_iter()
            .find(|l| message(l).contains(what))
        {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no {what:?} in the log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const CONFIG: &str = "[logging]\nformat = \"json\"\n\
                      [[tenants]]\nid = \"demo\"\nrate_per_sec = 1000\nburst = 500\n";

#[tokio::test]
async fn sighup_changes_level_and_quota_live_and_names_what_needs_a_restart() {
    let server = Server::start(CONFIG, &[], &[]);
    let config_path = server.dir.path().join("appliance.toml");
    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects");
    for seed in 0..20 {
        let reply = partner.submit(submission(seed)).await.expect("answered");
        assert_eq!(reply.verdict, VerdictCode::Valid);
    }
    let lines = log_lines(&server);
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string()),
        "structured lines: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| message(l) == "partner connected"),
        "one line per connection event"
    );
    assert!(
        lines.len() < 20,
        "no line per successful request at info ({} lines)",
        lines.len()
    );
    assert!(
        !lines.iter().any(|l| l["level"] == "DEBUG"),
        "info level at start"
    );

    std::fs::write(
        &config_path,
        // The canary stays as the test server started it (off), so only [scheduling] needs
        // a restart.
        "[logging]\nformat = \"json\"\nlevel = \"debug\"\n[scheduling]\nbatch_max = 8\n\
         [canary]\nenabled = false\n[[tenants]]\nid = \"demo\"\nrate_per_sec = 1\nburst = 1\n",
    )
    .expect("config rewritten");
    server.signal("HUP");
    let quota = wait_for_log(&server, "SIGHUP: admission quota changed");
    assert_eq!(quota["fields"]["tenant"], "demo");
    let restart = wait_for_log(&server, "take effect only after a restart");
    assert_eq!(restart["level"], "WARN");
    assert_eq!(restart["fields"]["keys"], "[scheduling]");
    wait_for_log(&server, "SIGHUP: log level changed");

    // The shards pick the quota up within a pulse: submit until a request is refused Busy
    // (the new burst of 1 is soon spent); then one request per second passes.
    let partner_ref = &partner;
    let mut polls = 0u32;
    wait_for_async(
        "the shards to apply the new quota (a request refused Busy)",
        Duration::from_secs(20),
        || {
            let seed = 40 + (polls % 200) as u8;
            polls += 1;
            async move {
                match partner_ref.submit(submission(seed)).await {
                    Ok(reply) => {
                        assert_eq!(reply.verdict, VerdictCode::Valid);
                        None
                    }
                    Err(PartnerError::Busy { .. }) => Some(()),
                    Err(other) => panic!("unexpected: {other}"),
                }
            }
        },
        || server.log(),
    )
    .await;
    let mut busy = 0;
    for seed in 20..24 {
        match partner.submit(submission(seed)).await {
            Ok(reply) => assert_eq!(reply.verdict, VerdictCode::Valid),
            Err(PartnerError::Busy { retry_after_ms }) => {
                assert!(retry_after_ms > 0);
                busy += 1;
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert!(busy >= 3, "the new rate of 1/s holds: {busy} of 4 refused");

    // Debug lines now appear, e.g. for a new connection.
    let second = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects");
    drop(second);
    wait_for_log(&server, "connection accepted");

    // A broken file changes nothing and the appliance keeps serving.
    std::fs::write(&config_path, "[scheduling]\nbatch_max = 0\n").expect("broken config");
    server.signal("HUP");
    let refused = wait_for_log(&server, "the running configuration is unchanged");
    assert_eq!(refused["level"], "ERROR");
    assert!(message(&refused).contains("scheduling.batch_max = 0"));
    // A wait on time itself: the quota of 1/s refills its one token in a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = partner.submit(submission(30)).await.expect("still serving");
    assert_eq!(reply.verdict, VerdictCode::Valid);
}
