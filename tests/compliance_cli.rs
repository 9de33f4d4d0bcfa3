//! Compliance snapshots end to end on a real appliance: `appliance compliance snapshot` asks for
//! one and waits for it, `appliance compliance list` shows it (its receipts still in the
//! ledger), its archive is downloaded over HTTP and unpacked as an auditor would, and
//! `appliance compliance verify` passes on it, also with the keys given by hand, and checks
//! that a second snapshot follows the first; after one byte of a receipts file is flipped it
//! fails, naming that file. Asking twice before the packet is made is refused (409).

#[path = "support/server.rs"]
mod server;
#[path = "support/tlog.rs"]
mod tlog;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use server::Server;

/// Checkpoints every 100 ms, so a period settles in about 2 s; the schedule fires once a year,
/// so only the snapshots asked for are made.
const CONFIG: &str = r#"
[server]
shards = 2

[log]
checkpoint_interval_ms = 100

[compliance]
schedule = "0 0 1 1 *"

[[tenants]]
id = "acme"
"#;

/// Runs `appliance compliance ARGS --url <admin> --state-dir <state>`.
fn compliance(server: &Server, admin: SocketAddr, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appliance"))
        .arg("compliance")
        .args(args)
        .args(["--url", &format!("http://{admin}")])
        .arg("--state-dir")
        .arg(&server.state)
        .output()
        .expect("appliance runs")
}

/// Runs `appliance compliance verify ARGS` without a state directory (only the keys given).
fn verify_without_state(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["compliance", "verify"])
        .args(args)
        .arg("--state-dir")
        .arg("/nonexistent-state-directory")
        .output()
        .expect("appliance runs")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The listing, as JSON, from `appliance compliance list --json`.
fn listed(server: &Server, admin: SocketAddr) -> Value {
    let out = compliance(server, admin, &["list", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", text(&out)))
}

/// Polls the listing until snapshot `name` is in it with `status`; returns its entry.
fn wait_for(server: &Server, admin: SocketAddr, name: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let listing = listed(server, admin);
        let entry = listing["snapshots"]
            .as_array()
            .expect("snapshots")
            .iter()
            .find(|s| s["name"] == name)
            .cloned();
        if let Some(entry) = entry.filter(|e| e["status"] == status) {
            return entry;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never {status}: {listing:#}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `GET path` with the bearer token; (head, body as sent), a chunked body joined.
fn download(admin: SocketAddr, path: &str, token: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(admin).expect("admin server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("request sent");
    let response = server::read_response(&mut stream).expect("response");
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let body = &response[end + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    (head, body)
}

/// Joins a chunked body; panics on a malformed or unterminated one (a cut transfer).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).expect("ASCII size");
        let size = usize::from_str_radix(size_text.trim(), 16).expect("a hex size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest[size..].strip_prefix(b"\r\n").expect("chunk end");
    }
}

/// Downloads snapshot `name`'s archive, checks its headers and entries, and unpacks it into
/// `into`; returns the packet's folder there.
fn download_and_unpack(admin: SocketAddr, token: &str, name: &str, into: &Path) -> PathBuf {
    let (head, archive) = download(
        admin,
        &format!("/api/v1/compliance/snapshots/{name}/archive"),
        token,
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/gzip"), "{head}");
    // The head is lowercased.
    assert!(
        head.contains(&format!(
            "content-disposition: attachment; filename=\"{}.tar.gz\"",
            name.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert_eq!(&archive[..2], [0x1f, 0x8b], "a gzip stream");
    let mut paths = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive.as_slice()));
    for entry in tar.entries().expect("a tar") {
        let mut entry = entry.expect("an entry");
        let path = entry.path().expect("a path").display().to_string();
        assert!(
            path == name
                || path.starts_with(&format!("{name}/"))
                || path == format!("{name}.anchor.json"),
            "{path} is outside the packet"
        );
        assert!(entry.unpack_in(into).expect("unpacked"), "{path}");
        paths.push(path);
    }
    for wanted in [
        format!("{name}/index.dsse.json"),
        format!("{name}/receipts/acme.jsonl.gz"),
        format!("{name}/log/checkpoint"),
        format!("{name}.anchor.json"),
    ] {
        assert!(paths.contains(&wanted), "{wanted} not in {paths:?}");
    }
    into.join(name)
}

/// Flips the bit 0 of the byte in the middle of `file`.
fn flip_one_byte(file: &Path) {
    let mut bytes = std::fs::read(file).expect("readable");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(file, bytes).expect("writable");
}

/// The name in `asked for <name>: ...` of `snapshot`'s first line.
fn asked_name(out: &Output) -> String {
    stdout(out)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("asked for "))
        .and_then(|l| l.split(':').next())
        .unwrap_or_else(|| panic!("an `asked for` line: {}", text(out)))
        .to_owned()
}

#[tokio::test]
async fn a_snapshot_asked_for_is_listed_downloaded_and_verified_offline() {
    let server = Server::start(CONFIG, &["acme"], &[]);
    let admin = server.admin_address();
    let token = std::fs::read_to_string(server.state.join("admin.token"))
        .expect("the development token")
        .trim()
        .to_owned();
    let first = tlog::submit(server.partner("acme"), 0, 5).await;
    let seqs: Vec<u64> = first.iter().map(|s| s.seq).collect();
    // A snapshot seals what was decided before the whole second it is asked in.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Asked for, and waited for: the packet is made once the period has settled.
    let out = compliance(&server, admin, &["snapshot", "--timeout", "120"]);
    assert!(out.status.success(), "{}", text(&out));
    let name = asked_name(&out);
    assert!(name.starts_with("snapshot-"), "{name}");
    let packets = server.state.join("compliance");
    let made = format!("made {name}: {}", packets.join(&name).display());
    assert!(stdout(&out).contains(&made), "{}", text(&out));
    assert!(packets.join(&name).join("index.dsse.json").is_file());

    // Listed, anchored, its five receipts still in the ledger.
    let entry = wait_for(&server, admin, &name, "receipts-held");
    let summary = &entry["summary"];
    assert_eq!(summary["receipts"], 5, "{entry:#}");
    assert_eq!(summary["tenants"][0]["tenant"], "acme", "{entry:#}");
    assert_eq!(summary["first_seq"], *seqs.iter().min().expect("seqs"));
    assert_eq!(summary["last_seq"], *seqs.iter().max().expect("seqs"));
    assert!(
        summary["tree_size"].as_u64() > seqs.iter().max().copied(),
        "{entry:#}"
    );
    let anchor_seq = entry["anchor_seq"].as_u64().expect("anchored");
    let out = compliance(&server, admin, &["list"]);
    assert!(out.status.success(), "{}", text(&out));
    let table = stdout(&out);
    let row = table
        .lines()
        .find(|l| l.starts_with(&name))
        .unwrap_or_else(|| panic!("{name} listed: {table}"));
    assert!(row.ends_with("receipts-held"), "{row}");
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");

    // The archive, unpacked as an auditor would: the packet and its anchor record.
    let unpacked = tempfile::tempdir().expect("temp dir");
    let packet = download_and_unpack(admin, &token, &name, unpacked.path());
    let anchor: Value = serde_json::from_slice(
        &std::fs::read(unpacked.path().join(format!("{name}.anchor.json"))).expect("anchor"),
    )
    .expect("anchor JSON");
    assert_eq!(anchor["seq"], anchor_seq);
    assert_eq!(
        std::fs::read(packet.join("receipts/acme.jsonl.gz")).expect("unpacked"),
        std::fs::read(packets.join(&name).join("receipts/acme.jsonl.gz")).expect("kept"),
    );
    // Names outside the listing are not found: nothing but a listed packet is ever served.
    for other in ["snapshot-20000101T000000Z", "..", "%2E%2E%2Fadmin.token"] {
        let (head, _) = download(
            admin,
            &format!("/api/v1/compliance/snapshots/{other}/archive"),
            &token,
        );
        assert!(head.starts_with("http/1.1 404"), "{other}: {head}");
    }

    // Verified offline, with the state directory's keys and with the keys given by hand.
    let packet_arg = packet.to_str().expect("utf-8 path");
    let out = compliance(&server, admin, &["verify", packet_arg]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).starts_with(&format!("{name} verified: 5 receipt(s) of 1 tenant(s)")),
        "{}",
        text(&out)
    );
    let keys = Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["keys", "show", "--json", "--state-dir"])
        .arg(&server.state)
        .output()
        .expect("appliance runs");
    let keys: Value = serde_json::from_slice(&keys.stdout).expect("keys JSON");
    let public_key = keys["public_key_hex"].as_str().expect("hex key");
    let vkey = std::fs::read_to_string(server.state.join("log/vkey")).expect("log key");
    let out = verify_without_state(&[packet_arg, "--key", public_key, "--log-key", vkey.trim()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains(vkey.trim()), "{}", text(&out));
    // Another appliance's key does not open the index.
    let other_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
    let out = verify_without_state(&[packet_arg, "--key", &hex::encode(other_key.as_bytes())]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("index.dsse.json"),
        "{}",
        text(&out)
    );

    // A second snapshot: asking again before it is made is refused.
    tlog::submit(server.partner("acme"), 5, 3).await;
    // Again a wait on time itself: the second in which these were decided must end.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = compliance(&server, admin, &["snapshot", "--no-wait"]);
    assert!(out.status.success(), "{}", text(&out));
    let second = asked_name(&out);
    assert!(second > name, "{second} after {name}");
    let out = compliance(&server, admin, &["snapshot", "--no-wait"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let refusal = String::from_utf8_lossy(&out.stderr);
    assert!(
        refusal.contains("already-asked (409)") && refusal.contains(&second),
        "{}",
        text(&out)
    );
    let entry = wait_for(&server, admin, &second, "receipts-held");
    // The three new receipts, and the receipt that anchored the first packet in the log.
    let tenants: Vec<(&str, u64)> = entry["summary"]["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| {
            (
                t["tenant"].as_str().expect("tenant"),
                t["receipts"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(tenants, [("acme", 3), ("appliance:anchor", 1)], "{entry:#}");
    assert_eq!(
        entry["summary"]["from_unix_us"], summary["to_unix_us"],
        "periods follow each other"
    );
    let unpacked_second = tempfile::tempdir().expect("temp dir");
    let second_packet = download_and_unpack(admin, &token, &second, unpacked_second.path());
    let second_arg = second_packet.to_str().expect("utf-8 path");
    let out = compliance(
        &server,
        admin,
        &["verify", second_arg, "--previous", packet_arg],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).contains(&format!("it follows {name}")),
        "{}",
        text(&out)
    );
    // Out of order, the chain does not hold.
    let out = compliance(
        &server,
        admin,
        &["verify", packet_arg, "--previous", second_arg],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // One byte flipped in a receipts file: verification fails and names the file.
    flip_one_byte(&packet.join("receipts/acme.jsonl.gz"));
    let out = compliance(&server, admin, &["verify", packet_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let problems = String::from_utf8_lossy(&out.stderr);
    assert!(problems.contains("NOT verified"), "{}", text(&out));
    assert!(
        problems
            .lines()
            .any(|l| l.trim_start().starts_with("receipts/acme.jsonl.gz: ")),
        "{}",
        text(&out)
    );
    assert!(!stdout(&out).contains("verified:"), "{}", text(&out));
}
