//! `appliance fleet status` (the real binary) against a throwaway PostgreSQL cluster: it shows
//! what heartbeats, shipping cursors and leases written through `tf_fleet` put in the fleet's
//! database, as tables and as JSON; a configuration without `[fleet]` is bad usage that says
//! what to add; a database without the fleet's tables, or one that is down, is a failure that
//! names the problem.

#[path = "../appliance/fleet/tests/support/cluster.rs"]
mod cluster;
#[path = "support/server.rs"]
mod server;

use std::path::{Path, PathBuf};

use cluster::Cluster;
use serde_json::Value;
use server::run_appliance;
use tf_fleet::{Beat, LeaseStore, Leases, PoolKey, heartbeat};

const SECOND: u64 = 1_000_000;
const DAY: u64 = 86_400 * SECOND;

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as u64
}

/// An appliance configuration in `dir` whose `[fleet]` names `cluster`'s database.
fn config(dir: &Path, cluster: &Cluster) -> PathBuf {
    let path = dir.join("appliance.toml");
    let text = format!(
        "[fleet]\npostgres = \"postgres://fleet@127.0.0.1:{}/fleet\"\nnode = \"node-a\"\n\n\
         [[tenants]]\nid = \"acme\"\n",
        cluster.port()
    );
    std::fs::write(&path, text).expect("written");
    path
}

fn beat(node: &str, now_us: u64, committed_seq: u64) -> Beat {
    Beat {
        node: node.into(),
        started_us: now_us - 3_600 * SECOND,
        now_us,
        revision: 3,
        committed_seq,
        version: "0.1.0".into(),
        receipt_key: format!("{:0>64}", node.len()),
    }
}

#[test]
fn status_shows_each_node_and_the_pools_of_the_current_windows() {
    let cluster = Cluster::start();
    let mut a = cluster.migrated();
    let mut b = cluster.client();
    let now = now_us();
    let today = PoolKey {
        tenant: "acme".into(),
        purpose: String::new(),
        class: "P1".into(),
        window: "day".into(),
        window_start_us: now - now % DAY,
    };
    // node-a beats and has shipped 10 of its 12 receipts; node-b went quiet ten minutes ago
    // holding a lease, which was taken back.
    heartbeat(&mut a, &beat("node-a", now - SECOND, 12)).expect("beats");
    heartbeat(&mut a, &beat("node-b", now - 600 * SECOND, 5)).expect("beats");
    a.execute(
        "INSERT INTO fleet_shipping (node, shipped_seq, shipped_us) VALUES ('node-a', 10, $1)",
        &[&((now - 4 * SECOND) as i64)],
    )
    .expect("a cursor");
    let mut a_leases = Leases::new(&mut a, "node-a");
    let held = a_leases
        .take(&today, 1_000, 100, 60 * SECOND, now)
        .expect("takes")
        .expect("granted");
    a_leases.report(held.token, 40).expect("reports");
    Leases::new(&mut b, "node-b")
        .take(&today, 1_000, 50, 10 * SECOND, now - 600 * SECOND)
        .expect("takes")
        .expect("granted");
    let taken_back = a_leases.reclaim_expired(5 * SECOND, now).expect("sweeps");
    assert_eq!(taken_back.len(), 1);

    let dir = tempfile::tempdir().expect("a folder");
    let file = config(dir.path(), &cluster);
    let file = file.to_str().expect("UTF-8");
    let (code, stdout, stderr) = run_appliance(&["fleet", "status", "--config", file]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let line = |start: &str| {
        stdout
            .lines()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?}:\n{stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        line("fleet database").contains("2 appliance(s), 1 live (live: a heartbeat within 30 s)"),
        "{stdout}"
    );
    assert_eq!(
        line("NODE"),
        "NODE STATE LAST SEEN REVISION LAG LAST SHIPPED LEASES UNITS HELD VERSION"
    );
    // LAST SEEN and LAST SHIPPED are relative: a slow run may see a second or two more.
    let a_row = line("node-a ");
    assert!(
        a_row.starts_with("node-a live ") && a_row.ends_with(" ago 1 60 0.1.0"),
        "{a_row}"
    );
    assert!(
        a_row.contains(" 3 2 "),
        "revision 3, 2 receipts not shipped: {a_row}"
    );
    assert_eq!(
        line("node-b "),
        "node-b down 10 min ago 3 5 never 0 0 0.1.0"
    );
    assert!(
        line("node-b:").contains("1 lease(s) taken back after they expired, 50 unit(s) in doubt"),
        "{stdout}"
    );
    assert_eq!(
        line("TENANT"),
        "TENANT PURPOSE CLASS WINDOW FROM (UTC) CAP SPENT LEASED IN DOUBT UNUSED"
    );
    let pool = line("acme ");
    assert!(
        pool.starts_with("acme (all) P1 day ") && pool.ends_with(" 1,000 40 60 50 850"),
        "{pool}"
    );

    let (code, stdout, stderr) = run_appliance(&["fleet", "status", "--config", file, "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("one JSON document");
    // Exactly the admin API's body of `GET /api/v1/fleet`.
    let reply: tf_admin_api::FleetReply = serde_json::from_str(&stdout).expect("a FleetReply");
    assert_eq!(serde_json::to_value(&reply).expect("serialises"), document);
    let nodes = document["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2, "{document}");
    let (node_a, node_b) = (&nodes[0], &nodes[1]);
    assert_eq!(
        (
            &node_a["node"],
            &node_a["live"],
            &node_b["node"],
            &node_b["live"]
        ),
        (
            &Value::from("node-a"),
            &Value::from(true),
            &Value::from("node-b"),
            &Value::from(false)
        )
    );
    assert_eq!(node_a["lag_receipts"], 2);
    assert_eq!(node_a["shipped_seq"], 10);
    assert_eq!(
        (&node_a["open_leases"], &node_a["units_held"]),
        (&1.into(), &60.into())
    );
    assert_eq!(
        (&node_b["taken_back"], &node_b["in_doubt"]),
        (&1.into(), &50.into())
    );
    assert!(node_b["shipped_seq"].is_null(), "{node_b}");
    assert_eq!(document["live_within_us"], 30 * SECOND);
    let pools = document["pools"].as_array().expect("pools");
    assert_eq!(pools.len(), 1, "{document}");
    let pool = &pools[0];
    assert!(pool["purpose"].is_null(), "{pool}");
    assert_eq!(pool["window_start_unix_us"], today.window_start_us);
    assert_eq!(
        [
            &pool["cap"],
            &pool["spent"],
            &pool["leased"],
            &pool["in_doubt"],
            &pool["unused"]
        ],
        [
            &1_000.into(),
            &40.into(),
            &60.into(),
            &50.into(),
            &850.into()
        ] as [&Value; 5]
    );
}

#[test]
fn without_fleet_in_the_configuration_it_exits_2_saying_what_to_add() {
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("appliance.toml");
    std::fs::write(&file, "[[tenants]]\nid = \"acme\"\n").expect("written");
    let (code, stdout, stderr) =
        run_appliance(&["fleet", "status", "--config", file.to_str().expect("UTF-8")]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.starts_with("appliance fleet status: ")
            && stderr.contains("appliance.toml: no [fleet] section")
            && stderr.contains("[fleet]\n  postgres = \"postgres://")
            && stderr.contains("node = \""),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");

    // --config is required.
    let (code, _, stderr) = run_appliance(&["fleet", "status"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--config"), "{stderr}");
}

#[test]
fn a_database_without_the_fleets_tables_or_down_exits_1_naming_the_problem() {
    let mut cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("a folder");
    let file = config(dir.path(), &cluster);
    let file = file.to_str().expect("UTF-8");
    let database = format!("postgres://fleet@127.0.0.1:{}/fleet", cluster.port());

    // No appliance with [fleet] has started on it: nothing to read, and nothing is created.
    let (code, stdout, stderr) = run_appliance(&["fleet", "status", "--config", file]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("the fleet's PostgreSQL")
            && stderr.contains(&database)
            && stderr.contains("no fleet tables yet"),
        "{stderr}"
    );
    let tables: i64 = cluster
        .client()
        .query_one(
            "SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'fleet%'",
            &[],
        )
        .expect("counts")
        .get(0);
    assert_eq!(tables, 0, "status only reads");

    drop(cluster.migrated());
    cluster.stop();
    let (code, stdout, stderr) = run_appliance(&["fleet", "status", "--config", file]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("the fleet's PostgreSQL")
            && stderr.contains("error connecting to server")
            && stderr.contains(&database),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}
