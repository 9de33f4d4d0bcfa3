//! The fleet in the admin API and the console: one appliance (the real binary) with `[fleet]`
//! on a throwaway PostgreSQL cluster answers `GET /api/v1/fleet` with itself live and its
//! tenant's budget pool, as the document it serves describes (checked by the independent JSON
//! Schema checker tests/openapi.rs uses); its console links a Fleet page from the navigation
//! that shows the appliance, marks it on an older revision than another's, and shows the
//! pool. With the database stopped, the route answers 503 `busy` with the database's words,
//! and the page shows them instead of failing.
//!
//! Plain `#[test]`s: PostgreSQL's blocking client (the cluster's) panics inside a tokio
//! runtime.

#[path = "../appliance/fleet/tests/support/cluster.rs"]
mod cluster;
#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use cluster::Cluster;
use serde_json::{Value, json};
use server::{ROLE_TOKENS, Server, console_cookie, http_with_head, wait_for, with_admin_tokens};
use tf_admin_api::{FleetReply, Revision};

/// An appliance configuration whose `[fleet]` names `cluster`'s database, with acme's daily
/// cap of 1,000 P1 units across every purpose (the fleet leases calendar windows only).
fn config(cluster: &Cluster) -> String {
    with_admin_tokens(
        &format!(
            "[fleet]\npostgres = \"postgres://fleet@127.0.0.1:{}/fleet\"\nnode = \"node-a\"\n\n\
             [[tenants]]\nid = \"acme\"\n[[tenants.caps]]\nclass = \"P1\"\nlimit = 1000\n\
             window = \"day\"\n",
            cluster.port()
        ),
        &ROLE_TOKENS,
    )
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as u64
}

/// An answer, as tests/tools/check_openapi.py reads it.
fn answer(path: &str, status: u16, head: &str, body: &str) -> Value {
    let content_type = head
        .to_ascii_lowercase()
        .lines()
        .find_map(|l| l.strip_prefix("content-type:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    json!({
        "method": "GET",
        "path": path,
        "status": status,
        "content_type": content_type,
        "body": body,
    })
}

#[test]
fn the_fleet_route_and_page_show_the_appliances_and_pools_and_the_database_away() {
    let mut cluster = Cluster::start();
    let server = Server::start(&config(&cluster), &["acme"], &[]);
    let admin = server.admin_address();
    let get =
        |path: &str, headers: &[(&str, &str)]| http_with_head(admin, "GET", path, headers, b"");
    let bearer = [("Authorization", "Bearer viewer-token")];

    // The appliance beats, and its keeper leases acme's cap from its start, spent or not.
    let mut reply: Option<FleetReply> = None;
    wait_for(
        "node-a live with acme's pool",
        Duration::from_secs(60),
        || {
            let (status, _, body) = get("/api/v1/fleet", &bearer);
            reply = (status == 200)
                .then(|| serde_json::from_str::<FleetReply>(&body).ok())
                .flatten()
                // The pool's row can be seen before the node's lease on it is counted.
                .filter(|r| {
                    r.nodes.iter().any(|n| n.live && n.open_leases >= 1) && !r.pools.is_empty()
                });
            reply.is_some()
        },
        || server.log(),
    );
    let reply = reply.expect("found");
    let database = format!("postgres://fleet@127.0.0.1:{}/fleet", cluster.port());
    assert_eq!(reply.database, database);
    assert_eq!(reply.live_within_us, 30_000_000, "3 x the default lease_ms");
    let node = &reply.nodes[0];
    assert_eq!(
        (node.node.as_str(), node.live, node.revision),
        ("node-a", true, Some(Revision(0))),
        "{reply:?}"
    );
    assert!(
        node.last_seen_unix_us.is_some() && node.open_leases >= 1,
        "{node:?}"
    );
    let pool = &reply.pools[0];
    assert_eq!(
        (
            pool.tenant.0.as_str(),
            pool.purpose.as_deref(),
            pool.class.as_str(),
            pool.window.as_str(),
            pool.cap
        ),
        ("acme", None, "P1", "day", 1_000),
        "{pool:?}"
    );
    assert_eq!(
        pool.spent + pool.leased + pool.in_doubt + pool.unused,
        1_000
    );

    // Another appliance beating on a newer revision: this one is behind it.
    tf_fleet::heartbeat(
        &mut cluster.client(),
        &tf_fleet::Beat {
            node: "node-b".into(),
            started_us: now_us(),
            now_us: now_us(),
            revision: 5,
            committed_seq: 0,
            version: "0.1.0".into(),
            receipt_key: "bb".repeat(32),
        },
    )
    .expect("beats");
    let (status, head, body) = get("/api/v1/fleet", &bearer);
    assert_eq!(status, 200, "{body}");
    let mut answers = vec![answer("/api/v1/fleet", status, &head, &body)];

    // The console: the page is in the navigation, with both appliances and the pool.
    let cookie = console_cookie(admin, "viewer-token");
    let session = [("Cookie", cookie.as_str())];
    let (status, _, page) = get("/console/fleet", &session);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<a href=\"/console/fleet\" class=\"here\">Fleet</a>"),
        "{page}"
    );
    assert!(page.contains(&format!("<code>{database}</code>")), "{page}");
    assert!(page.contains("2 appliance(s), 2 live"), "{page}");
    let row = |marker: &str| -> String {
        let start = page
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker}: {page}"));
        let end = page[start..]
            .find("</tr>")
            .map_or(page.len(), |e| start + e);
        page[start..end].to_owned()
    };
    let node_a = row("data-node=\"node-a\"");
    assert!(
        node_a.contains("<span class=\"badge live\">live</span>")
            && node_a.contains("(this one)")
            && node_a.contains("revision behind"),
        "{node_a}"
    );
    assert!(!row("data-node=\"node-b\"").contains("behind"), "{page}");
    assert!(
        page.contains("Not every appliance serves under revision 5"),
        "{page}"
    );
    let acme = row("data-tenant=\"acme\"");
    assert!(
        acme.contains("<td>every purpose</td>")
            && acme.contains("<td class=\"num cap\">1000</td>")
            && acme.contains("<svg class=\"pool-bar\""),
        "{acme}"
    );

    // The database away: 503 busy with its words, and the page says so.
    cluster.stop();
    let (status, head, body) = get("/api/v1/fleet", &bearer);
    assert_eq!(status, 503, "{body}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 5"),
        "{head}"
    );
    let error: tf_admin_api::ErrorBody = serde_json::from_str(&body).expect("an error body");
    assert_eq!(error.error, tf_admin_api::ErrorCode::Busy);
    assert!(
        error.message.contains("the fleet's PostgreSQL") && error.message.contains(&database),
        "{error:?}"
    );
    answers.push(answer("/api/v1/fleet", status, &head, &body));
    let (status, _, page) = get("/console/fleet", &session);
    assert_eq!(status, 503, "{page}");
    assert!(
        page.contains("id=\"fleet-problem\"") && page.contains("the fleet&#39;s PostgreSQL"),
        "{page}"
    );

    // Every answer against the document the appliance serves.
    let (status, _, document) = get("/api/v1/openapi.json", &bearer);
    assert_eq!(status, 200);
    check_with_jsonschema(server.dir.path(), &document, &answers);
}

/// Checks `answers` against `document` with tests/tools/check_openapi.py (Python's
/// `jsonschema`, as tests/openapi.rs does).
fn check_with_jsonschema(dir: &Path, document: &str, answers: &[Value]) {
    let path = dir.join("openapi.json");
    std::fs::write(&path, document).expect("document written");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tools/check_openapi.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Debian's python3 runs (tests/run installs python3-jsonschema)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::from(answers.to_vec()).to_string().as_bytes())
        .expect("answers written");
    let out = child.wait_with_output().expect("the checker ran");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "answers disagree with the served OpenAPI document:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(&format!("{} answers agree", answers.len())),
        "{report}"
    );
}
