//! Fleet mode end to end: three appliances (the real binary) on loopback sharing one throwaway
//! PostgreSQL cluster; a tenant's cap holds across them under races and when a node dies.

#[path = "support/server.rs"]
mod server;

#[path = "../appliance/fleet/tests/support/cluster.rs"]
mod cluster;

#[path = "support/partners.rs"]
mod partners;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster::Cluster;
use serde_json::Value;
use server::Server;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerError, Statement, Submission, VerdictCode};
use tf_wire::OverBudgetReason;

/// acme's P1 requests for purpose "race" may spend `CAP` a month across the fleet.
const CAP: u64 = 60;

fn config(cluster: &Cluster, node: &str) -> String {
    format!(
        r#"
[server]
shards = 2

[fleet]
postgres = "postgres://fleet@127.0.0.1:{port}/fleet"
node = "{node}"
lease_ms = 2000
grace_ms = 1000

[[tenants]]
id = "acme"
[[tenants.caps]]
purpose = "race"
class = "P1"
limit = {CAP}
window = "month"
"#,
        port = cluster.port()
    )
}

fn fleet(cluster: &Cluster, nodes: &[&str]) -> Vec<Server> {
    nodes
        .iter()
        .map(|node| Server::start(&config(cluster, node), &["acme"], &[]))
        .collect()
}

fn race(n: u64) -> Submission {
    let message = n.to_le_bytes().to_vec();
    let (signature, public_key) = bls::sign(&[9; 32], &message).expect("signs");
    Submission {
        purpose: "race".into(),
        dataset_class: DatasetClass::P1,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message,
            signature: signature.to_bytes(),
        },
    }
}

/// What one round of requests got.
#[derive(Debug, Default)]
struct Round {
    accepted: u64,
    /// Refused because the cap itself is spent.
    cap: u64,
    /// Refused because this node's share is spent (the cap may have room on another node).
    share: u64,
}

/// Sends `per_node` requests to each node at once, over three connections per node; any
/// answer but a valid verdict or over budget fails the test.
async fn round(servers: &[&Server], per_node: u64, first: u64) -> Round {
    let mut partners = Vec::new();
    for server in servers {
        for _ in 0..3 {
            partners.push(Arc::new(
                Partner::connect(&server.partner("acme"))
                    .await
                    .expect("connects"),
            ));
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    let total = per_node * servers.len() as u64;
    for n in 0..total {
        let partner = partners[n as usize % partners.len()].clone();
        tasks.spawn(async move { partner.submit(race(first + n)).await });
    }
    let mut round = Round::default();
    for result in tasks.join_all().await {
        match result {
            Ok(reply) => {
                assert_eq!(reply.verdict, VerdictCode::Valid);
                round.accepted += 1;
            }
            Err(PartnerError::OverBudget(over)) => {
                assert_eq!((over.cap.purpose.as_str(), over.cap.limit), ("race", CAP));
                match over.reason {
                    OverBudgetReason::Cap => round.cap += 1,
                    OverBudgetReason::FleetShare => round.share += 1,
                    other => panic!("an unknown reason: {other:?}"),
                }
            }
            Err(other) => panic!("unexpected answer: {other}"),
        }
    }
    for partner in partners {
        if let Ok(partner) = Arc::try_unwrap(partner) {
            partner.close().await;
        }
    }
    round
}

/// Rounds until `CAP` are accepted in all (never more), or a minute passes; returns the
/// number accepted.
fn spend_all(servers: &[&Server], accepted_before: u64, first: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut accepted = accepted_before;
    let mut next = first;
    while accepted < CAP && Instant::now() < deadline {
        let got = block_on(round(servers, 20, next));
        next += 20 * servers.len() as u64;
        accepted += got.accepted;
        assert!(
            accepted <= CAP,
            "the fleet accepted {accepted} of a cap of {CAP}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    accepted
}

/// Runs partners' requests; the PostgreSQL client blocks, so the tests run outside a runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn charged_on(server: &Server) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        server.state_path("ledger.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the ledger opens");
    db.query_row(
        "SELECT COALESCE(SUM(charged), 0) FROM receipts_readable
         WHERE tenant = 'acme' AND purpose = 'race'",
        [],
        |row| row.get(0),
    )
    .expect("query")
}

/// The fleet's pool for the race cap: (spent, leased, in doubt).
fn pool(cluster: &Cluster) -> (i64, i64, i64) {
    let row = cluster
        .client()
        .query_one(
            "SELECT COALESCE(SUM(spent), 0)::BIGINT, COALESCE(SUM(leased), 0)::BIGINT,
                    COALESCE(SUM(in_doubt), 0)::BIGINT
             FROM fleet_pools WHERE tenant = 'acme' AND purpose = 'race'",
            &[],
        )
        .expect("reads the pool");
    (row.get(0), row.get(1), row.get(2))
}

#[test]
fn a_cap_holds_exactly_across_three_appliances_under_races() {
    let cluster = Cluster::start();
    let servers = fleet(&cluster, &["node-a", "node-b", "node-c"]);
    let all: Vec<&Server> = servers.iter().collect();
    // Far more than the cap at once, from nine connections to three appliances.
    let first = block_on(round(&all, 40, 0));
    assert!(first.accepted <= CAP, "{first:?}");
    let accepted = spend_all(&all, first.accepted, 1_000);
    assert_eq!(accepted, CAP, "every unit of the cap is spent in the end");
    // Once spent, every node refuses; once the nodes have reported their spending (a tick),
    // each names the cap itself, not its share.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut next = 5_000;
    loop {
        let after = block_on(round(&all, 5, next));
        next += 15;
        assert_eq!(after.accepted, 0, "{after:?}");
        if after.cap == 15 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still blaming the share: {after:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Each appliance's ledger holds what it accepted; together, the cap.
    let charged: i64 = servers.iter().map(charged_on).sum();
    assert_eq!(charged, CAP as i64);
    // The fleet counts every unit spent: none leased or in doubt.
    assert_eq!(pool(&cluster), (CAP as i64, 0, 0));
    // As an SRE sees it: three live nodes, each having shipped every receipt.
    let config = servers[0].dir.path().join("appliance.toml");
    wait_for_nodes(&config, |nodes| {
        nodes.len() == 3
            && nodes
                .iter()
                .all(|n| n["live"] == true && n["lag_receipts"] == 0)
    });
}

#[test]
fn a_killed_nodes_leases_come_back_and_the_others_spend_the_cap() {
    let cluster = Cluster::start();
    let mut servers = fleet(&cluster, &["node-a", "node-b", "node-c"]);
    // node-a alone spends a little (once its first lease arrives), so it holds a lease with
    // units left.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut alone = Round::default();
    let mut next = 0;
    while alone.accepted == 0 {
        assert!(
            Instant::now() < deadline,
            "node-a never leased: {}",
            servers[0].log()
        );
        alone = block_on(round(&[&servers[0]], 2, next));
        next += 2;
    }
    let (_, leased, _) = pool(&cluster);
    assert!(leased > 0, "node-a holds a lease");
    servers[0].kill();
    // The others spend the rest: node-a's unspent units come back after its lease's expiry
    // and grace period (taken back in doubt, counted spent until it settles them).
    let others: Vec<&Server> = servers[1..].iter().collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut accepted = alone.accepted;
    let mut next = 100;
    loop {
        let got = block_on(round(&others, 10, next));
        next += 20;
        accepted += got.accepted;
        assert!(accepted <= CAP, "accepted {accepted} of {CAP}");
        let (spent, leased, in_doubt) = pool(&cluster);
        if in_doubt > 0 && leased == 0 && spent + in_doubt == CAP as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "pool {:?}", pool(&cluster));
        std::thread::sleep(Duration::from_millis(200));
    }
    // node-a back: it settles from its ledger, so what it did not spend returns to the fleet.
    servers[0].start_again();
    let all: Vec<&Server> = servers.iter().collect();
    let accepted = spend_all(&all, accepted, 10_000);
    assert_eq!(accepted, CAP);
    let (spent, leased, in_doubt) = pool(&cluster);
    assert_eq!((spent + leased, in_doubt), (CAP as i64, 0));
    let charged: i64 = servers.iter().map(charged_on).sum();
    assert_eq!(charged, CAP as i64);
}

/// Until `server` has accepted one request (its first lease arrived); returns the round.
fn until_leased(server: &Server, first: u64) -> Round {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut next = first;
    loop {
        let got = block_on(round(&[server], 2, next));
        if got.accepted > 0 {
            return got;
        }
        assert!(Instant::now() < deadline, "never leased: {}", server.log());
        next += 2;
    }
}

/// The ledger's receipts of every tenant: (count, highest sequence number).
fn ledger_receipts(server: &Server) -> (i64, i64) {
    let db = rusqlite::Connection::open_with_flags(
        server.state_path("ledger.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the ledger opens");
    db.query_row(
        "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM receipts_readable",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .expect("query")
}

/// What the fleet's database holds of `node`'s receipts: (count, lowest and highest sequence
/// number).
fn shipped(cluster: &Cluster, node: &str) -> (i64, i64, i64) {
    let row = cluster
        .client()
        .query_one(
            "SELECT COUNT(*), COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0)
             FROM fleet_receipts WHERE node = $1",
            &[&node],
        )
        .expect("reads the shipped receipts");
    (row.get(0), row.get(1), row.get(2))
}

#[test]
fn without_postgresql_nodes_spend_their_leases_then_refuse_and_catch_up_after() {
    let mut cluster = Cluster::start();
    let servers = fleet(&cluster, &["node-a", "node-b"]);
    let all: Vec<&Server> = servers.iter().collect();
    let mut accepted: u64 = servers
        .iter()
        .enumerate()
        .map(|(n, server)| until_leased(server, 100 * n as u64).accepted)
        .sum();
    let (_, leased, _) = pool(&cluster);
    cluster.stop();
    // Each node spends what its lease holds, then refuses, naming its share, not the cap.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut during = 0;
    let mut next = 1_000;
    loop {
        let got = block_on(round(&all, 4, next));
        next += 8;
        during += got.accepted;
        assert_eq!(got.cap, 0, "the cap is not what ran out: {got:?}");
        if got.accepted == 0 {
            assert_eq!(got.share, 8, "{got:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still accepting without PostgreSQL"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        during <= leased as u64,
        "spent {during} without PostgreSQL, beyond the {leased} units leased"
    );
    accepted += during;
    // No receipt lost: each ledger holds what its node accepted.
    let charged: i64 = servers.iter().map(charged_on).sum();
    assert_eq!(charged, accepted as i64);

    cluster.start_again();
    // Leases resume, and the cap is spent to the last unit, never past it.
    assert_eq!(spend_all(&all, accepted, 10_000), CAP);
    // Shipping catches up: every receipt of each node, once, with no gap.
    for (server, node) in servers.iter().zip(["node-a", "node-b"]) {
        let (count, last) = ledger_receipts(server);
        let deadline = Instant::now() + Duration::from_secs(30);
        while shipped(&cluster, node) != (count, 1, last) {
            assert!(
                Instant::now() < deadline,
                "{node}: shipped {:?} of {count} receipts up to {last}",
                shipped(&cluster, node)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// What `appliance fleet status --json` (with the configuration `config`) prints.
fn fleet_status(config: &Path) -> Value {
    let (code, out, err) = server::run_appliance(&[
        "fleet",
        "status",
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON")
}

/// Until `appliance fleet status` (with the configuration `config`) shows nodes `ready` says
/// are as wanted.
fn wait_for_nodes(config: &Path, ready: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = fleet_status(config);
        if ready(status["nodes"].as_array().expect("nodes")) {
            return;
        }
        assert!(Instant::now() < deadline, "{status}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Calls the admin API of `server` with the role token `token`.
fn call(server: &Server, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let (status, text) = server::http(
        server.admin_address(),
        method,
        path,
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        body,
    );
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn active_revision(server: &Server) -> u64 {
    let (status, body) = call(server, "GET", "/api/v1/status", "viewer-token", b"");
    assert_eq!(status, 200, "{body}");
    body["revision"].as_u64().expect("revision")
}

/// A bundle for the fleet's tenant, `revision`, signed with the fleet's author `key`.
fn bundle(server: &Server, key: &Path, revision: u64) -> Vec<u8> {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let source = server.dir.path().join(format!("source-{revision}"));
    std::fs::create_dir_all(&source).expect("a folder");
    std::fs::copy(
        example.join("policies.cedar"),
        source.join("policies.cedar"),
    )
    .expect("copied");
    std::fs::write(source.join("tenants.toml"), "[[tenants]]\nid = \"acme\"\n").expect("written");
    std::fs::write(
        source.join("budgets.toml"),
        format!(
            "[[caps]]\ntenant = \"acme\"\npurpose = \"race\"\nclass = \"P1\"\nlimit = {}\n\
             window = \"month\"\n",
            CAP + revision
        ),
    )
    .expect("written");
    let note = format!("revision {revision}");
    std::fs::read(server.build_bundle(&source, revision, &note, Some(key))).expect("archive")
}

/// Promotes `revision` of the fleet's bundle, signed with `key`, on `server`.
fn promote(server: &Server, key: &Path, revision: u64) -> (u16, Value) {
    let archive = bundle(server, key, revision);
    call(
        server,
        "POST",
        "/api/v1/bundles/promote",
        "author-token",
        &archive,
    )
}

fn names(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| n.as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

/// A bundle author's key made in `dir`: its file and public key.
fn author_key(dir: &Path) -> (std::path::PathBuf, String) {
    let key = dir.join("author.key");
    let (code, out, err) =
        server::run_appliance(&["bundle", "keygen", "--out", key.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    let public = out
        .lines()
        .find_map(|line| line.strip_prefix("public key: "))
        .expect("the public key")
        .trim()
        .to_owned();
    (key, public)
}

/// Three appliances with admin tokens, trusting `authors` as bundle authors.
fn fleet_trusting(cluster: &Cluster, authors: &[String]) -> Vec<Server> {
    ["node-a", "node-b", "node-c"]
        .iter()
        .map(|node| {
            let config = server::with_admin_tokens(
                &trusting(&config(cluster, node), authors),
                &server::ROLE_TOKENS,
            );
            Server::start(&config, &["acme"], &[])
        })
        .collect()
}

fn trusting(config: &str, authors: &[String]) -> String {
    format!("{config}\n[bundles]\n{}\n", trusted_authors(authors))
}

fn trusted_authors(authors: &[String]) -> String {
    let listed: Vec<String> = authors.iter().map(|a| format!("\"{a}\"")).collect();
    format!("trusted_authors = [{}]", listed.join(", "))
}

#[test]
fn a_promotion_reaches_every_node_and_one_that_was_down_catches_up() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("a folder");
    let (key, public) = author_key(dir.path());
    let mut servers = fleet_trusting(&cluster, &[public]);
    let config = servers[0].dir.path().join("appliance.toml");
    wait_for_nodes(&config, |nodes| {
        nodes.iter().filter(|n| n["live"] == true).count() == 3
    });
    // Promoted on node-a: it answers once every node serves it.
    let (status, reply) = promote(&servers[0], &key, 2);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        names(&reply["fleet"]["switched"]),
        ["node-a", "node-b", "node-c"],
        "{reply}"
    );
    assert!(servers.iter().all(|s| active_revision(s) == 2));
    // Another appliance cannot put another bundle in force as the same revision.
    let (status, reply) = promote(&servers[1], &key, 2);
    assert_eq!(status, 422, "{reply}");

    // node-c down: once the fleet sees it so (no heartbeat for three lease periods), a
    // promotion names it, and it catches up when it returns.
    servers[2].kill();
    wait_for_nodes(&config, |nodes| {
        nodes
            .iter()
            .any(|n| n["node"] == "node-c" && n["live"] == false)
    });
    let (status, reply) = promote(&servers[1], &key, 3);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        names(&reply["fleet"]["switched"]),
        ["node-a", "node-b"],
        "{reply}"
    );
    assert_eq!(names(&reply["fleet"]["down"]), ["node-c"], "{reply}");
    assert_eq!(active_revision(&servers[0]), 3);
    servers[2].start_again();
    let deadline = Instant::now() + Duration::from_secs(30);
    while active_revision(&servers[2]) != 3 {
        assert!(
            Instant::now() < deadline,
            "node-c never caught up: {}",
            servers[2].log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Its timeline is the fleet's: it records both promotions.
    let (status, timeline) = call(&servers[2], "GET", "/api/v1/bundles", "viewer-token", b"");
    assert_eq!(status, 200);
    let revisions: Vec<u64> = timeline["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .filter_map(|e| e["to_revision"].as_u64())
        .collect();
    assert!(revisions.ends_with(&[2, 3]), "{timeline}");

    // A rollback goes through the fleet's timeline the same way: revision 2's content as 4.
    wait_for_nodes(&config, |nodes| {
        nodes.iter().filter(|n| n["live"] == true).count() == 3
    });
    let (status, reply) = call(
        &servers[0],
        "POST",
        "/api/v1/bundles/rollback",
        "sre-token",
        br#"{"reason": "revision 3 raised the cap too far"}"#,
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (reply["to_revision"].as_u64(), reply["republishes"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(
        names(&reply["fleet"]["switched"]),
        ["node-a", "node-b", "node-c"],
        "{reply}"
    );
    assert!(servers.iter().all(|s| active_revision(s) == 4));
}

/// A partner onboarded on one appliance comes into force on every appliance: the revision
/// its onboarding builds (signed by that appliance's key, which every appliance trusts) is
/// claimed on the fleet's timeline and followed, and no promotion elsewhere reuses its revision.
#[test]
fn a_partner_onboarded_on_one_node_comes_into_force_on_every_node() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("a folder");
    let (key, public) = author_key(dir.path());
    let mut servers = fleet_trusting(&cluster, std::slice::from_ref(&public));
    let config = servers[0].dir.path().join("appliance.toml");
    wait_for_nodes(&config, |nodes| {
        nodes.iter().filter(|n| n["live"] == true).count() == 3
    });
    // Every appliance's receipt key (its bundle signing key too), read from the fleet's
    // status; each appliance restarted trusting all of them.
    let status = fleet_status(&config);
    let mut authors = vec![public];
    for node in status["nodes"].as_array().expect("nodes") {
        let receipt_key = node["receipt_key"].as_str().expect("a receipt key");
        assert_eq!(receipt_key.len(), 64, "{node}");
        authors.push(receipt_key.to_owned());
    }
    for server in &mut servers {
        let file = server.dir.path().join("appliance.toml");
        let text = std::fs::read_to_string(&file).expect("the configuration");
        let trusted = text.replace(&trusted_authors(&authors[..1]), &trusted_authors(&authors));
        assert_ne!(trusted, text, "the trusted authors replaced");
        std::fs::write(&file, trusted).expect("written");
        server.kill();
        server.start_again();
    }
    let (status, reply) = promote(&servers[1], &key, 2);
    assert_eq!(status, 200, "{reply}");
    assert!(servers.iter().all(|s| active_revision(s) == 2));

    let invite = partners::invite(&servers[0], "initech", &["--reason", "fleet pilot"]);
    let out = dir.path().join("initech");
    let (code, stdout, stderr) = partners::onboard(&servers[0], &invite, "initech", &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for server in &servers {
        let deadline = Instant::now() + Duration::from_secs(20);
        while active_revision(server) != 3 {
            assert!(
                Instant::now() < deadline,
                "the onboarding never reached it: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let (status, terms) = call(server, "GET", "/api/v1/terms-requests", "viewer-token", b"");
        assert_eq!(status, 200, "{terms}");
        let partners: Vec<&str> = terms["partners"]
            .as_array()
            .expect("partners")
            .iter()
            .filter_map(|p| p["tenant"].as_str())
            .collect();
        assert_eq!(partners, ["initech"], "{terms}");
    }
    // Another appliance cannot promote another bundle as its revision.
    let (status, reply) = promote(&servers[2], &key, 3);
    assert_eq!(status, 422, "revision 3 is the onboarding's: {reply}");
}

/// A second appliance started under a name the first holds stays out of the fleet's database
/// (its capped tenants are refused for want of a lease, none is taken under the name) and its
/// journal says what to do; once the first is gone for good and forgotten, the name is free
/// and the second claims it.
#[test]
fn an_appliance_under_a_taken_name_stays_out_until_the_name_is_forgotten() {
    let cluster = Cluster::start();
    let mut first = Server::start(&config(&cluster, "node-a"), &["acme"], &[]);
    let config_file = first.dir.path().join("appliance.toml");
    wait_for_nodes(&config_file, |nodes| {
        nodes.len() == 1 && nodes[0]["live"] == true
    });
    let first_key = fleet_status(&config_file)["nodes"][0]["receipt_key"].clone();
    assert!(first_key.is_string(), "{first_key}");

    let second = Server::start(&config(&cluster, "node-a"), &["acme"], &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !second
        .log()
        .contains("belongs to another appliance of the fleet")
    {
        assert!(Instant::now() < deadline, "{}", second.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(second.log().contains("appliance fleet forget node-a"));
    let got = block_on(round(&[&second], 5, 0));
    assert_eq!(
        (got.accepted, got.share),
        (0, 5),
        "no lease, no spending: {got:?}"
    );
    let status = fleet_status(&config_file);
    assert_eq!(
        status["nodes"].as_array().expect("nodes").len(),
        1,
        "{status}"
    );
    assert_eq!(status["nodes"][0]["receipt_key"], first_key, "{status}");

    // Not while the first is live.
    let forget = |config: &Path| {
        server::run_appliance(&[
            "fleet",
            "forget",
            "node-a",
            "--config",
            config.to_str().expect("utf-8"),
        ])
    };
    let (code, out, err) = forget(&config_file);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("is live"), "{err}");

    first.kill();
    wait_for_nodes(&config_file, |nodes| nodes[0]["live"] == false);
    let (code, out, err) = forget(&config_file);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("forgot node node-a: "), "{out}");
    wait_for_nodes(&config_file, |nodes| {
        nodes.len() == 1 && nodes[0]["live"] == true && nodes[0]["receipt_key"] != first_key
    });
    let got = block_on(round(&[&second], 5, 100));
    assert_eq!(got.accepted, 5, "it leases under the name now: {got:?}");
}
