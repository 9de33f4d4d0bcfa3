//! Policy bundles on a running appliance: promoted and rolled back through the admin API while
//! real QUIC partners keep submitting; tampered, untrusted and stale bundles refused with the
//! bundle in force unchanged; and each role allowed exactly its routes.

#[path = "support/server.rs"]
mod server;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use server::{
    ROLE_TOKENS as TOKENS, Server, fault_build, http, wait_for_async, with_admin_tokens,
    without_policy,
};
use tf_bundles::BundleFiles;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerError, Statement, Submission, VerdictCode};

fn config() -> String {
    with_admin_tokens(
        "[server]\nshards = 2\n\n[[tenants]]\nid = \"demo\"\n\n[[tenants]]\nid = \"acme\"\n",
        &TOKENS,
    )
}

/// The example bundle, with `edit` applied to its policies.
fn source(dir: &Path, name: &str, edit: impl Fn(&str) -> String) -> std::path::PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let mut files = BundleFiles::from_dir(&example).expect("example bundle");
    let policies =
        String::from_utf8(files.get("policies.cedar").expect("policies").to_vec()).expect("utf-8");
    files.insert("policies.cedar", edit(&policies).into_bytes());
    let out = dir.join(name);
    files.write_dir(&out).expect("source written");
    out
}

/// Builds and signs with the state directory's development author key (or `key`).
fn build(server: &Server, source: &Path, revision: u64, key: Option<&Path>) -> Vec<u8> {
    let note = format!("revision {revision}");
    std::fs::read(server.build_bundle(source, revision, &note, key)).expect("archive")
}

fn call(admin: SocketAddr, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let (status, text) = http(
        admin,
        method,
        path,
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        body,
    );
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn promote(admin: SocketAddr, archive: &[u8]) -> (u16, Value) {
    call(
        admin,
        "POST",
        "/api/v1/bundles/promote",
        "author-token",
        archive,
    )
}

fn active_revision(admin: SocketAddr) -> u64 {
    let (status, body) = call(admin, "GET", "/api/v1/status", "viewer-token", b"");
    assert_eq!(status, 200, "{body}");
    body["revision"].as_u64().expect("revision")
}

fn bls_p1(n: u64) -> Submission {
    let message = n.to_le_bytes().to_vec();
    let (signature, public_key) = bls::sign(&[5; 32], &message).expect("signs");
    Submission {
        purpose: "kyc".into(),
        dataset_class: DatasetClass::P1,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message,
            signature: signature.to_bytes(),
        },
    }
}

/// What one request saw: when it was sent and answered, and the revision that decided it
/// (from the receipt, or from the denial).
#[derive(Debug)]
struct Seen {
    tenant: &'static str,
    sent: Instant,
    answered: Instant,
    revision: u64,
    hash: String,
    denied: bool,
}

/// Answers each tenant's lanes must get in each phase of the load: the check wants over 20
/// requests sent and answered within a phase, and up to 4 per tenant (one per lane) were sent
/// before the phase began.
const ANSWERS_PER_PHASE: u64 = 25;

/// Waits until each tenant's lanes have had [`ANSWERS_PER_PHASE`] more answers than now.
async fn under_load(answers: &[Arc<AtomicU64>], phase: &str, server: &Server) {
    let wanted: Vec<u64> = answers
        .iter()
        .map(|a| a.load(Ordering::Acquire) + ANSWERS_PER_PHASE)
        .collect();
    let counts = || -> Vec<u64> { answers.iter().map(|a| a.load(Ordering::Acquire)).collect() };
    wait_for_async(
        &format!("{ANSWERS_PER_PHASE} more answers per tenant {phase}"),
        Duration::from_secs(60),
        || {
            let done = counts().iter().zip(&wanted).all(|(n, w)| n >= w);
            async move { done.then_some(()) }
        },
        || {
            format!(
                "answers (demo, acme) {:?} of {wanted:?}\n{}",
                counts(),
                server.log()
            )
        },
    )
    .await;
}

#[tokio::test]
async fn a_promotion_and_a_rollback_under_load_decide_every_request_under_exactly_one_revision() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let dir = server.dir.path().to_owned();
    let first = build(&server, &source(&dir, "one", str::to_owned), 1, None);
    // Revision 2 drops the permit for BLS on P1/P2: acme may no longer submit signatures,
    // demo (permitted everything) is unaffected.
    let second = build(
        &server,
        &source(&dir, "two", |p| without_policy(p, "bls-on-p1-and-p2")),
        2,
        None,
    );
    let (status, one) = promote(admin, &first);
    assert_eq!(status, 200, "{one}");
    let hash_one = one["bundle_hash"].as_str().expect("hash").to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    // Answers so far, per tenant: each switch waits for load on both sides of it.
    let answers = [Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0))];
    for ((tenant, config), answers) in [
        ("demo", server.partner("demo")),
        ("acme", server.partner("acme")),
    ]
    .into_iter()
    .zip(answers.clone())
    {
        let partner = Arc::new(Partner::connect(&config).await.expect("connects"));
        for lane in 0..4u64 {
            let partner = partner.clone();
            let stop = stop.clone();
            let answers = answers.clone();
            tasks.spawn(async move {
                let mut seen = Vec::new();
                let mut n = lane * 1_000_000;
                while !stop.load(Ordering::Acquire) {
                    n += 1;
                    let sent = Instant::now();
                    let answer = partner.submit(bls_p1(n)).await;
                    let answered = Instant::now();
                    let (revision, hash, denied) = match answer {
                        Ok(reply) => {
                            assert_eq!(reply.verdict, VerdictCode::Valid);
                            let receipt: tf_receipts::Receipt =
                                serde_json::from_slice(&reply.receipt.payload).expect("receipt");
                            (receipt.bundle_revision, receipt.bundle_hash, false)
                        }
                        Err(PartnerError::DeniedByPolicy(denial)) => {
                            (denial.revision, hex::encode(denial.bundle_hash), true)
                        }
                        Err(other) => panic!("{tenant}: a request failed: {other}"),
                    };
                    seen.push(Seen {
                        tenant,
                        sent,
                        answered,
                        revision,
                        hash,
                        denied,
                    });
                    answers.fetch_add(1, Ordering::Release);
                }
                seen
            });
        }
    }
    under_load(&answers, "before the promotion", &server).await;
    let promote_started = Instant::now();
    let (status, two) = tokio::task::spawn_blocking(move || promote(admin, &second))
        .await
        .expect("promotion call");
    let promote_returned = Instant::now();
    assert_eq!(status, 200, "{two}");
    assert!(
        two["all_shards_ms"].as_f64().is_some(),
        "every shard switched: {two}"
    );
    let hash_two = two["bundle_hash"].as_str().expect("hash").to_owned();
    under_load(&answers, "between the promotion and the rollback", &server).await;

    // Rolled back under the same load: revision 3 republishes revision 1, and acme may submit
    // again.
    let rollback_started = Instant::now();
    let (status, three) = tokio::task::spawn_blocking(move || {
        call(
            admin,
            "POST",
            "/api/v1/bundles/rollback",
            "sre-token",
            br#"{"reason": "acme lost its signatures"}"#,
        )
    })
    .await
    .expect("rollback call");
    let rollback_returned = Instant::now();
    assert_eq!(status, 200, "{three}");
    assert_eq!(
        (three["to_revision"].as_u64(), three["republishes"].as_u64()),
        (Some(3), Some(1))
    );
    assert!(
        three["all_shards_ms"].as_f64().is_some(),
        "every shard switched back: {three}"
    );
    let hash_three = three["bundle_hash"].as_str().expect("hash").to_owned();
    under_load(&answers, "after the rollback", &server).await;
    stop.store(true, Ordering::Release);
    let seen: Vec<Seen> = tasks.join_all().await.into_iter().flatten().collect();

    let mut before = 0;
    let mut between = 0;
    let mut after = 0;
    for s in &seen {
        let expected_hash = match s.revision {
            1 => &hash_one,
            2 => &hash_two,
            3 => &hash_three,
            other => panic!("revision {other} was never in force: {s:?}"),
        };
        assert_eq!(&s.hash, expected_hash, "{s:?}");
        // Only acme under revision 2 is denied; nothing else fails.
        assert_eq!(s.denied, s.tenant == "acme" && s.revision == 2, "{s:?}");
        if s.answered < promote_started {
            assert_eq!(s.revision, 1, "decided before the promotion began: {s:?}");
            before += 1;
        }
        if s.sent > promote_returned && s.answered < rollback_started {
            assert_eq!(s.revision, 2, "between the switches: {s:?}");
            between += 1;
        }
        if s.sent > rollback_returned {
            assert_eq!(s.revision, 3, "sent after every shard switched back: {s:?}");
            after += 1;
        }
    }
    assert!(
        before > 20 && between > 20 && after > 20,
        "load throughout: {before} before the promotion, {between} between, {after} after the \
         rollback"
    );
    for (tenant, revision, since) in [
        ("demo", 2, promote_returned),
        ("acme", 2, promote_returned),
        ("demo", 3, rollback_returned),
        ("acme", 3, rollback_returned),
    ] {
        assert!(
            seen.iter()
                .any(|s| s.tenant == tenant && s.revision == revision && s.sent > since),
            "{tenant} sent under revision {revision}"
        );
    }

    // The ledger names the same revision for every receipt it holds.
    let db = rusqlite::Connection::open_with_flags(
        server.state_path("ledger.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("ledger");
    let mismatched: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM receipts_readable WHERE bundle_revision NOT IN (1, 2, 3) \
             OR (bundle_revision = 1 AND bundle_hash != ?1) \
             OR (bundle_revision = 2 AND bundle_hash != ?2) \
             OR (bundle_revision = 3 AND bundle_hash != ?3)",
            [&hash_one, &hash_two, &hash_three],
            |row| row.get(0),
        )
        .expect("query");
    assert_eq!(mismatched, 0);

    let acme = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects");
    let reply = acme
        .submit(bls_p1(7))
        .await
        .expect("acme is permitted again");
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("receipt");
    assert_eq!(receipt.bundle_revision, 3);

    let (_, timeline) = call(admin, "GET", "/api/v1/bundles", "auditor-token", b"");
    let events: Vec<(String, String, u64, u64)> = timeline["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["actor"].as_str().unwrap_or_default().to_owned(),
                e["from_revision"].as_u64().unwrap_or(99),
                e["to_revision"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            ("promote".into(), "policy-team".into(), 0, 1),
            ("promote".into(), "policy-team".into(), 1, 2),
            ("rollback".into(), "oncall".into(), 2, 3),
        ]
    );
    // A revision that is in force, or never was, cannot be rolled back to.
    for to in [3, 9] {
        let body = format!(r#"{{"reason": "x", "to": {to}}}"#);
        let (status, _) = call(
            admin,
            "POST",
            "/api/v1/bundles/rollback",
            "sre-token",
            body.as_bytes(),
        );
        assert_eq!(status, 409, "rollback to {to}");
    }
}

fn refused_codes(body: &Value) -> Vec<String> {
    body["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| p["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn tampered_untrusted_and_stale_bundles_are_refused_and_the_active_one_stays() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let dir = server.dir.path().to_owned();
    let example = source(&dir, "src", str::to_owned);
    let (status, body) = promote(admin, &build(&server, &example, 2, None));
    assert_eq!(status, 200, "{body}");

    let signed = build(&server, &example, 3, None);
    let mut flipped = BundleFiles::from_tar_gz(&signed).expect("archive");
    let mut tenants = flipped.get("tenants.toml").expect("tenants").to_vec();
    tenants[10] ^= 0x20;
    flipped.insert("tenants.toml", tenants);
    let mut removed = BundleFiles::from_tar_gz(&signed).expect("archive");
    removed.remove("policies.cedar");
    let stranger = dir.join("stranger.key");
    let keygen = std::process::Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args([
            "bundle",
            "keygen",
            "--out",
            stranger.to_str().expect("utf-8"),
        ])
        .output()
        .expect("keygen");
    assert!(keygen.status.success());
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("byte flip", flipped.to_tar_gz(), "altered-file"),
        ("removed file", removed.to_tar_gz(), "missing-file"),
        (
            "untrusted key",
            build(&server, &example, 3, Some(&stranger)),
            "untrusted-author",
        ),
        (
            "lower revision",
            build(&server, &example, 1, None),
            "stale-revision",
        ),
        ("not an archive", b"garbage".to_vec(), "unreadable"),
    ];
    for (case, archive, code) in cases {
        let (status, body) = promote(admin, &archive);
        assert_eq!(status, 422, "{case}: {body}");
        assert_eq!(
            refused_codes(&body),
            vec![code.to_owned()],
            "{case}: {body}"
        );
        assert_eq!(
            active_revision(admin),
            2,
            "{case}: the bundle in force is unchanged"
        );
    }
    // Validation refuses the same way without promoting, and accepts the good one.
    let (status, _) = call(
        admin,
        "POST",
        "/api/v1/bundles/validate",
        "sre-token",
        &signed,
    );
    assert_eq!(status, 200);
    assert_eq!(active_revision(admin), 2);
}

/// A route, the body sent, what an allowed role gets, and which of the four roles may.
type RouteCase = (&'static str, &'static str, &'static [u8], u16, [bool; 4]);

#[test]
fn each_role_may_use_exactly_its_routes() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    // Mutating routes get a body that fails after authorization, so nothing changes: an
    // allowed role gets exactly the route's answer to that (422 refused, 409 nothing to roll
    // back to, 404 nothing stored yet), never a 403, a 401 or a 500.
    let routes: [RouteCase; 13] = [
        ("GET", "/api/v1/status", b"", 200, [true, true, true, true]),
        (
            "GET",
            "/api/v1/overview",
            b"",
            200,
            [true, true, true, true],
        ),
        ("GET", "/api/v1/tenants", b"", 200, [true, true, true, true]),
        ("GET", "/api/v1/budgets", b"", 200, [true, true, true, true]),
        ("GET", "/api/v1/bundles", b"", 200, [true, true, true, true]),
        (
            "GET",
            "/api/v1/openapi.json",
            b"",
            200,
            [true, true, true, true],
        ),
        (
            "GET",
            "/api/v1/scenarios",
            b"",
            200,
            [true, true, true, true],
        ),
        (
            "GET",
            "/api/v1/receipts/1",
            b"",
            404,
            [true, false, true, false],
        ),
        (
            "GET",
            "/api/v1/bundles/1/diff",
            b"",
            404,
            [true, true, true, true],
        ),
        (
            "POST",
            "/api/v1/bundles/validate",
            b"junk",
            422,
            [true, true, false, false],
        ),
        (
            "POST",
            "/api/v1/bundles/drift",
            b"junk",
            422,
            [true, true, false, false],
        ),
        (
            "POST",
            "/api/v1/bundles/promote",
            b"junk",
            422,
            [false, true, false, false],
        ),
        (
            "POST",
            "/api/v1/bundles/rollback",
            br#"{"reason": "test"}"#,
            409,
            [true, true, false, false],
        ),
    ];
    for (method, path, body, answer_for_allowed, allowed) in routes {
        for ((token, name, _), allowed) in TOKENS.iter().zip(allowed) {
            let (status, answer) = call(admin, method, path, token, body);
            let expected = if allowed { answer_for_allowed } else { 403 };
            assert_eq!(status, expected, "{name} {method} {path}: {answer}");
        }
        let (status, _) = call(admin, method, path, "not-a-token", body);
        assert_eq!(status, 401, "{method} {path} with an unknown token");
        let (status, _) = http(admin, method, path, &[], body);
        assert_eq!(status, 401, "{method} {path} without a token");
    }
    assert_eq!(active_revision(admin), 0, "nothing was promoted");
    // Tokens never reach the log.
    let log = server.log();
    for (token, _, _) in TOKENS {
        assert!(!log.contains(token), "{token} in the log");
    }
}

#[tokio::test]
async fn appliance_ctl_uses_every_route_it_has_against_the_live_api() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = format!("http://{}", server.admin_address());
    let dir = server.dir.path().to_owned();
    let token_file = |token: &str| {
        let path = dir.join(format!("{token}.txt"));
        std::fs::write(&path, token).expect("token file");
        path.display().to_string()
    };
    let (author, sre) = (token_file("author-token"), token_file("sre-token"));
    let auditor = token_file("auditor-token");
    // The address and token only from what each call says.
    let appliance = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_appliance"));
        command
            .env_remove("TF_ADMIN_URL")
            .env_remove("TF_ADMIN_TOKEN");
        command
    };
    let run = |command: &mut std::process::Command| {
        let out = command.output().expect("appliance ctl runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Text for people; `--json` (a global flag, here after the subcommand) for scripts.
    let ctl_text = |token: &str, args: &[&str]| {
        run(appliance()
            .args(["ctl", "--admin", &admin, "--token-file", token])
            .args(args))
    };
    let ctl = |token: &str, args: &[&str]| ctl_text(token, &[args, &["--json"]].concat());
    let json = |out: &str| -> Value { serde_json::from_str(out).expect("ctl prints JSON") };
    let example = source(&dir, "src", str::to_owned);
    for revision in [1, 2] {
        let archive = dir.join(format!("b{revision}.tar.gz"));
        std::fs::write(&archive, build(&server, &example, revision, None)).expect("archive");
    }
    let b1 = dir.join("b1.tar.gz").display().to_string();
    let b2 = dir.join("b2.tar.gz").display().to_string();

    // status and validate before anything is promoted.
    let (code, out, err) = ctl(&sre, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["revision"], 0, "{out}");
    let (code, out, err) = ctl_text(&sre, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("revision 0: no bundle promoted"), "{out}");
    assert!(
        out.lines().any(|l| l.split_whitespace().eq([
            "SHARD",
            "REVISION",
            "CONNECTIONS",
            "ANSWERED"
        ])),
        "{out}"
    );

    // The address from the configuration's [admin] listen, or from TF_ADMIN_URL; an
    // unreachable address fails (1), an unusable one is bad usage (2).
    let listen = server.admin_address();
    let config_file = dir.join("ctl-config.toml");
    std::fs::write(&config_file, format!("[admin]\nlisten = \"{listen}\"\n")).expect("config");
    let (code, out, err) = run(appliance()
        .args(["ctl", "status", "--json", "--token-file", &sre, "--config"])
        .arg(&config_file));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["revision"], 0, "{out}");
    let (code, out, err) = run(appliance()
        .args(["ctl", "--token-file", &sre, "status", "--json"])
        .env("TF_ADMIN_URL", &admin));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["revision"], 0, "{out}");
    let (code, _, err) = run(appliance()
        .args(["ctl", "--token-file", &sre, "status"])
        .env("TF_ADMIN_URL", "http://127.0.0.1:1"));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot reach the admin API at http://127.0.0.1:1"),
        "{err}"
    );
    let (code, _, err) = run(appliance().args([
        "ctl",
        "--admin",
        "127.0.0.1:8080",
        "--token-file",
        &sre,
        "status",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected http://HOST:PORT"), "{err}");
    let (code, out, err) = ctl_text(&author, &["validate", &b1]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("valid: revision 1 ("), "{out}");
    let (code, out, err) = ctl(&author, &["validate", &b1]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (json(&out)["valid"].clone(), json(&out)["revision"].clone()),
        (Value::Bool(true), Value::from(1)),
        "{out}"
    );

    // promote, and what the roles and the revision order refuse.
    let (code, out, err) = ctl(&author, &["promote", &b1]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"to_revision\": 1"), "{out}");
    // The sre role may not promote: exit 1 and the reason.
    let (code, _, err) = ctl(&sre, &["promote", &b2]);
    assert_eq!(code, 1);
    assert!(err.contains("oncall may not promote"), "{err}");
    let (code, out, err) = ctl_text(&author, &["promote", &b2]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("promoted: revision 1 -> 2 (hash "), "{out}");
    // The same revision again: refused with the reason, exit 1.
    let (code, _, err) = ctl(&author, &["promote", &b2]);
    assert_eq!(code, 1);
    assert!(err.contains("is not above revision 2"), "{err}");

    // diff: revision 1 against the one in force (2); the example bundles differ only in
    // their manifests, so the answer names both sides.
    let (code, out, err) = ctl(&sre, &["diff", "1"]);
    assert_eq!(code, 0, "{err}");
    let diff = json(&out);
    assert_eq!(
        (
            diff["new"]["revision"].clone(),
            diff["old"]["revision"].clone()
        ),
        (Value::from(1), Value::from(2)),
        "{out}"
    );
    let (code, out, err) = ctl_text(&sre, &["diff", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("revision 1 (") && out.contains(") against revision 2 ("),
        "{out}"
    );
    let (code, _, err) = ctl(&sre, &["diff", "9"]);
    assert_eq!(code, 1, "a revision never promoted");
    assert!(err.contains("never promoted"), "{err}");

    // rollback and timeline.
    let (code, out, err) = ctl(&sre, &["rollback", "--reason", "revision 2 broke acme"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"republishes\": 1"), "{out}");
    let (code, out, _) = ctl(&sre, &["timeline"]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("\"action\"").count(), 3, "{out}");
    assert!(out.contains("revision 2 broke acme"), "{out}");
    let (code, out, _) = ctl_text(&sre, &["timeline"]);
    assert_eq!(code, 0);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4, "a header and a row per switch: {out}");
    assert!(
        rows[0].starts_with("SEQ") && rows[0].contains("WHEN"),
        "{out}"
    );
    assert!(
        rows[3].contains("rollback") && rows[3].contains("2 -> 3"),
        "{out}"
    );
    assert!(
        rows[3].contains("just now") || rows[3].contains(" s ago)"),
        "{out}"
    );
    assert!(rows[3].ends_with("revision 2 broke acme"), "{out}");
    let (code, out, _) = ctl(&sre, &["status"]);
    assert_eq!(code, 0);
    assert_eq!(json(&out)["revision"], 3, "{out}");

    // receipt: one real receipt, looked up by an auditor; a missing one is exit 1.
    let acme = Partner::connect(&server.partner("acme"))
        .await
        .expect("acme connects");
    let reply = acme.submit(bls_p1(7)).await.expect("acme is served");
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("receipt");
    let seq = receipt.ledger_seq.to_string();
    let (code, out, err) = ctl(&auditor, &["receipt", &seq]);
    assert_eq!(code, 0, "{err}");
    let found = json(&out);
    assert_eq!(
        (
            found["tenant"].clone(),
            found["receipt"]["ledger_seq"].clone()
        ),
        (Value::from("acme"), Value::from(receipt.ledger_seq)),
        "{out}"
    );
    let (code, out, err) = ctl_text(&auditor, &["receipt", &seq]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("receipt {seq}: valid for tenant acme")),
        "{out}"
    );
    // receipts: found by tenant, verdict and a relative time, as JSON and as a table.
    let search = [
        "receipts",
        "--tenant",
        "acme",
        "--verdict",
        "valid",
        "--from",
        "1h",
    ];
    let (code, out, err) = ctl(&auditor, &search);
    assert_eq!(code, 0, "{err}");
    let page = json(&out);
    assert_eq!(page["receipts"][0]["seq"], receipt.ledger_seq, "{out}");
    let (code, out, err) = ctl_text(&auditor, &search);
    assert_eq!(code, 0, "{err}");
    let row = out.lines().nth(1).unwrap_or_default();
    // Cells are two spaces or more apart (a relative time has single spaces inside).
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    assert_eq!(
        (cells.first(), cells.get(2), cells.get(3)),
        (Some(&seq.as_str()), Some(&"acme"), Some(&"valid")),
        "{out}"
    );
    let (code, _, err) = ctl(&auditor, &["receipts", "--verdict", "fine"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = ctl(&auditor, &["receipt", "999999"]);
    assert_eq!(code, 1);
    assert!(err.contains("not-found"), "{err}");

    // token: a new token with its digest, for the configuration (no server involved).
    let (code, out, err) = ctl(&sre, &["token", "new", "--name", "ci", "--role", "viewer"]);
    assert_eq!(code, 0, "{err}");
    let made = json(&out);
    let token = made["token"].as_str().expect("the token");
    assert_eq!(
        made["sha256"].as_str(),
        Some(hex::encode(tf_admin::auth::digest(token)).as_str()),
        "{out}"
    );
    let (code, out, err) = ctl_text(&sre, &["token", "new", "--name", "ci", "--role", "viewer"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("[[admin.tokens]]\nname = \"ci\"\nroles = [\"viewer\"]"),
        "{out}"
    );
}

#[tokio::test]
async fn a_switch_serves_the_tenants_and_keys_the_bundle_adds_and_takes_keys_back() {
    let server = Server::start(&config(), &["acme", "globex"], &[]);
    let admin = server.admin_address();
    let dir = server.dir.path().to_owned();
    let source = source(&dir, "keys", str::to_owned);
    std::fs::create_dir_all(source.join("keys")).expect("keys dir");
    std::fs::write(
        source.join("keys/multiplier.json"),
        tf_partner::fixtures::BN254_KEY,
    )
    .expect("key");
    // globex is not served before the bundle that adds it. (The refused connection also
    // guards a fixed fault: its shard once kept polling an expired timer at full CPU and never
    // prepared the promotion below.)
    let refused = match Partner::connect(&server.partner("globex")).await {
        Ok(globex) => globex.submit(bls_p1(1)).await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(refused.is_err(), "globex before it was added: {refused:?}");
    let (status, promoted) = promote(admin, &build(&server, &source, 1, None));
    assert_eq!(status, 200, "{promoted}");
    let globex = Partner::connect(&server.partner("globex"))
        .await
        .expect("globex connects once added");
    let reply = globex
        .submit(bls_p1(2))
        .await
        .expect("globex is served from the switch on");
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("receipt");
    assert_eq!(
        (
            reply.verdict,
            receipt.tenant.as_str(),
            receipt.bundle_revision
        ),
        (VerdictCode::Valid, "globex", 1)
    );
    let (_, tenants) = call(admin, "GET", "/api/v1/tenants", "viewer-token", b"");
    assert!(tenants.to_string().contains("globex"), "{tenants}");
    let key_id = tf_engine::groth16::snarkjs::parse_verifying_key(
        tf_partner::fixtures::BN254_KEY,
        &tf_engine::Limits::DEFAULT,
    )
    .map(|key| match key {
        tf_engine::groth16::snarkjs::AnyVerifyingKey::Bn254(vk) => {
            tf_engine::groth16::PreparedKey::new(&tf_engine::Limits::DEFAULT, *vk)
                .expect("prepares")
                .id()
                .0
        }
        _ => panic!("a bn254 fixture"),
    })
    .expect("fixture key");
    let (proof, public) = tf_partner::fixtures::BN254_PROOFS[0];
    let statement = tf_partner::formats::groth16_json(key_id, proof, public).expect("statement");
    let demo = Partner::connect(&server.partner("demo"))
        .await
        .expect("connects");
    let reply = demo
        .submit(Submission {
            purpose: "kyc".into(),
            dataset_class: DatasetClass::P1,
            statement,
        })
        .await
        .expect("the registry key verifies without a registration");
    assert_eq!(reply.verdict, VerdictCode::Valid);

    // A bundle without the key takes it back at its switch.
    let plain = build(
        &server,
        &self::source(&dir, "plain", str::to_owned),
        2,
        None,
    );
    let (status, promoted) = promote(admin, &plain);
    assert_eq!(status, 200, "{promoted}");
    let again = demo
        .submit(Submission {
            purpose: "kyc".into(),
            dataset_class: DatasetClass::P1,
            statement: tf_partner::formats::groth16_json(key_id, proof, public).expect("statement"),
        })
        .await;
    assert!(
        matches!(again, Err(PartnerError::UnknownKey { .. })),
        "{again:?}"
    );
}

/// The example bundle's tenants and policies with these budgets.
fn with_budgets(dir: &Path, name: &str, budgets: &str) -> std::path::PathBuf {
    let source = source(dir, name, str::to_owned);
    std::fs::write(source.join("budgets.toml"), budgets).expect("budgets written");
    source
}

fn acme_cap(limit: u64, bls_cost: u64) -> String {
    format!(
        "[budgets]\ncontact = \"ask caps@example.com\"\n[budgets.cost]\nbls-single = {bls_cost}\n\
         [[caps]]\ntenant = \"acme\"\nclass = \"P1\"\nlimit = {limit}\nwindow = \"day\"\n"
    )
}

#[tokio::test]
async fn caps_costs_and_contact_apply_at_the_switch_and_count_every_charge() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let dir = server.dir.path().to_owned();
    let acme = Arc::new(
        Partner::connect(&server.partner("acme"))
            .await
            .expect("connects"),
    );
    // acme submits continuously: uncapped at first, so every valid answer is charged 1
    // unit of P1 that the new cap must count, including those settled while it is prepared.
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut lanes = tokio::task::JoinSet::new();
    for lane in 0..4u64 {
        let (acme, accepted, refused, stop) = (
            acme.clone(),
            accepted.clone(),
            refused.clone(),
            stop.clone(),
        );
        lanes.spawn(async move {
            let mut last_refusal = None;
            let mut n = lane * 1_000_000;
            while !stop.load(Ordering::Acquire) {
                n += 1;
                match acme.submit(bls_p1(n)).await {
                    Ok(reply) => {
                        assert_eq!(reply.verdict, VerdictCode::Valid);
                        accepted.fetch_add(1, Ordering::AcqRel);
                    }
                    Err(PartnerError::OverBudget(over)) => {
                        refused.fetch_add(1, Ordering::AcqRel);
                        last_refusal = Some(over);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(PartnerError::Busy { retry_after_ms }) => {
                        tokio::time::sleep(Duration::from_millis(retry_after_ms.into())).await;
                    }
                    Err(other) => panic!("a request failed: {other}"),
                }
            }
            last_refusal
        });
    }
    let at_least = |count: &AtomicU64, n: u64| {
        let reached = count.load(Ordering::Acquire) >= n;
        async move { reached.then_some(()) }
    };
    wait_for_async(
        "50 requests accepted before the cap",
        Duration::from_secs(60),
        || at_least(&accepted, 50),
        || server.log(),
    )
    .await;
    let limit = accepted.load(Ordering::Acquire) + 300;
    let capped = build(
        &server,
        &with_budgets(&dir, "capped", &acme_cap(limit, 1)),
        1,
        None,
    );
    let (status, promoted) = tokio::task::spawn_blocking(move || promote(admin, &capped))
        .await
        .expect("promotion call");
    assert_eq!(status, 200, "{promoted}");
    wait_for_async(
        "the cap to run out (20 requests refused over budget)",
        Duration::from_secs(60),
        || at_least(&refused, 20),
        || server.log(),
    )
    .await;
    stop.store(true, Ordering::Release);
    let refusals: Vec<_> = lanes.join_all().await.into_iter().flatten().collect();
    assert_eq!(
        accepted.load(Ordering::Acquire),
        limit,
        "the cap counted every charge made before, during and after the switch exactly once"
    );
    let over = refusals.first().expect("an over-budget answer");
    assert_eq!(over.contact, "ask caps@example.com", "the new contact");
    assert_eq!((over.cap.limit, over.cap.remaining), (limit, 0));
    let caps = acme.budgets().await.expect("budgets");
    assert_eq!((caps.len(), caps[0].used), (1, limit), "{caps:?}");

    // A higher cap and a higher cost: the changed cap counts the ledger's charges again, and
    // requests cost 2 units from the switch on.
    let raised = build(
        &server,
        &with_budgets(&dir, "raised", &acme_cap(limit + 3, 2)),
        2,
        None,
    );
    let (status, promoted) = promote(admin, &raised);
    assert_eq!(status, 200, "{promoted}");
    acme.submit(bls_p1(1)).await.expect("2 of the 3 units left");
    match acme.submit(bls_p1(2)).await {
        Err(PartnerError::OverBudget(over)) => {
            assert_eq!((over.requested, over.cap.remaining), (2, 1), "{over:?}");
        }
        other => panic!("expected over budget, got {other:?}"),
    }

    // A bundle that drops acme closes its connections at the switch and refuses new ones.
    let dropped = with_budgets(&dir, "dropped", "[budgets]\n");
    std::fs::write(
        dropped.join("tenants.toml"),
        "[[tenants]]\nid = \"demo\"\n[[tenants]]\nid = \"globex\"\n",
    )
    .expect("tenants written");
    let (status, promoted) = promote(admin, &build(&server, &dropped, 3, None));
    assert_eq!(status, 200, "{promoted}");
    let removed = |outcome: Result<_, PartnerError>| match outcome {
        Err(PartnerError::TenantRemoved { reason }) => {
            assert!(reason.contains("no longer listed"), "{reason}")
        }
        other => panic!("expected the tenant removed, got {other:?}"),
    };
    removed(acme.submit(bls_p1(3)).await.map(|_| ()));
    let again = match Partner::connect(&server.partner("acme")).await {
        Ok(partner) => partner.budgets().await.map(|_| ()),
        Err(error) => Err(error),
    };
    removed(again);
}

#[tokio::test]
async fn a_promoted_bundle_stays_in_force_across_a_restart() {
    let mut server = Server::start(&config(), &["acme"], &[]);
    let dir = server.dir.path().to_owned();
    let archive = build(&server, &source(&dir, "one", str::to_owned), 1, None);
    let (status, body) = promote(server.admin_address(), &archive);
    assert_eq!(status, 200, "{body}");
    let hash = body["bundle_hash"].as_str().expect("a hash").to_owned();

    server.restart();
    let admin = server.admin_address();
    // The status and every shard name revision 1 and its hash; nothing to promote again.
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = call(admin, "GET", "/api/v1/status", "viewer-token", b"");
        assert_eq!(status, 200, "{body}");
        let shards = body["shards"].as_array().expect("shards");
        if body["revision"] == 1 && shards.iter().all(|s| s["policy_revision"] == 1) {
            assert_eq!(body["bundle_hash"], hash.as_str(), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "not back at revision 1: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A request is decided under it: its receipt names revision 1.
    let acme = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects");
    let reply = acme.submit(bls_p1(1)).await.expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("a receipt");
    assert_eq!(receipt.bundle_revision, 1);
    assert_eq!(receipt.bundle_hash, hash);
    // The timeline kept the one promotion.
    let (_, timeline) = call(admin, "GET", "/api/v1/bundles", "viewer-token", b"");
    assert_eq!(timeline["timeline"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_cap_below_what_was_spent_is_refused_unless_overridden_and_then_refuses_the_tenant() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let dir = server.dir.path().to_owned();
    let (status, promoted) = promote(
        admin,
        &build(
            &server,
            &with_budgets(&dir, "roomy", &acme_cap(100, 1)),
            1,
            None,
        ),
    );
    assert_eq!(status, 200, "{promoted}");
    let acme = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects");
    for n in 0..5 {
        acme.submit(bls_p1(n)).await.expect("within the cap");
    }

    // A cap of 3 where 5 were spent today: refused, naming the cap, and nothing changes.
    let tight = build(
        &server,
        &with_budgets(&dir, "tight", &acme_cap(3, 1)),
        2,
        None,
    );
    let (status, refused) = promote(admin, &tight);
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused_codes(&refused), ["cap-below-spent"], "{refused}");
    let problem = refused["problems"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        problem.contains("acme") && problem.contains('5'),
        "{refused}"
    );
    assert_eq!(active_revision(admin), 1, "the bundle in force stays");
    acme.submit(bls_p1(5))
        .await
        .expect("the old cap still holds");

    // Overridden: in force, and acme is refused until the day ends, told how far over it is.
    let (status, promoted) = call(
        admin,
        "POST",
        "/api/v1/bundles/promote?allow_cap_below_spent=true",
        "author-token",
        &tight,
    );
    assert_eq!(status, 200, "{promoted}");
    assert_eq!(active_revision(admin), 2);
    match acme.submit(bls_p1(6)).await {
        Err(PartnerError::OverBudget(over)) => {
            assert_eq!(
                (over.cap.limit, over.cap.used, over.cap.remaining),
                (3, 6, 0)
            );
            assert!(over.cap.resets_at_unix_ms > 0, "{over:?}");
        }
        other => panic!("expected over budget, got {other:?}"),
    }
    acme.close().await;
}

#[tokio::test]
async fn a_promotion_a_busy_shard_cannot_prepare_in_time_is_refused_and_changes_nothing() {
    fault_build();
    let dir = tempfile::tempdir().expect("temp dir");
    let switch = dir.path().join("stall");
    let server = Server::start_with_env(
        &config(),
        &["acme"],
        &[],
        &[
            ("TF_FAULT_VERIFY_DELAY_MS", "8000"),
            ("TF_FAULT_SWITCH", switch.to_str().expect("utf-8")),
        ],
    );
    let admin = server.admin_address();
    let source = source(server.dir.path(), "one", str::to_owned);
    let archive = build(&server, &source, 1, None);
    let acme = Arc::new(
        Partner::connect(&server.partner("acme"))
            .await
            .expect("connects"),
    );
    // acme's home shard stalls 8 s in its next batch: it cannot prepare within 5 s.
    std::fs::write(&switch, b"on").expect("switch on");
    let stalled = {
        let acme = acme.clone();
        tokio::spawn(async move { acme.submit(bls_p1(1)).await })
    };
    wait_for_async(
        "acme's shard to stall in its batch (the test build says so in its log)",
        Duration::from_secs(30),
        || {
            let stalling = server
                .log()
                .contains("TF_FAULT_VERIFY_DELAY_MS: a batch stalls");
            async move { stalling.then_some(()) }
        },
        || server.log(),
    )
    .await;
    std::fs::remove_file(&switch).expect("switch off");
    let refused_archive = archive.clone();
    let (status, refused) = tokio::task::spawn_blocking(move || promote(admin, &refused_archive))
        .await
        .expect("promotion call");
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["error"], "not-prepared", "{refused}");
    assert_eq!(active_revision(admin), 0, "nothing was promoted");
    let reply = stalled
        .await
        .expect("submitter")
        .expect("the stalled request is answered");
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("receipt");
    assert_eq!(
        receipt.bundle_revision, 0,
        "decided under what was in force"
    );

    // Once the shard is free, the same bundle is promoted.
    let (status, promoted) = promote(admin, &archive);
    assert_eq!(status, 200, "{promoted}");
    assert_eq!(active_revision(admin), 1);
}
